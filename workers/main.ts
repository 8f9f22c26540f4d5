import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { encryptedDataConverter, loadCodecKeys } from '../codec/data-converter';
import { loadConfig } from '../config';
import { loadTemporalSettings } from '../config/temporal-connection';
import { PinoTemporalLogger, createLogger } from '../observability/logger';
import { WorkerMetrics, defaultSdkMetricsAddress, startMetricsServer } from '../observability/metrics';
import type { MetricsServer } from '../observability/metrics';
import { createTracing } from '../observability/tracing';
import { buildActivityDependencies, createServiceWorker, workerTuning } from './service-worker';
import { withWorkflowBundle } from './workflow-bundle';

/**
 * The worker process: parse config, connect, build dependencies, run until SIGINT/SIGTERM, then drain: the worker
 * stops polling, in-flight activities get WORKER_SHUTDOWN_GRACE_TIME to finish, then the connections close.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.LOG_LEVEL, service: 'worker' });
  const metricsOn = config.WORKER_METRICS_ADDRESS !== '';
  const sdkMetricsAddress = metricsOn
    ? (config.TEMPORAL_SDK_METRICS_ADDRESS ?? defaultSdkMetricsAddress(config.WORKER_METRICS_ADDRESS))
    : undefined;
  Runtime.install({
    // Workflow, activity, worker and core logs all go through pino, with workflow and run ids attached.
    logger: new PinoTemporalLogger(log),
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }) },
      ...(sdkMetricsAddress ? { metrics: { prometheus: { bindAddress: sdkMetricsAddress } } } : {}),
    },
  });
  const metrics = new WorkerMetrics();
  const tracing = createTracing(config, 'worker');
  const temporal = loadTemporalSettings();
  const connection = await NativeConnection.connect(temporal.connectionOptions);
  const dataConverter = encryptedDataConverter(loadCodecKeys(config.PAYLOAD_CODEC_KEYS, config.DATA_DIR));
  // A client of its own for the activities that manage health-check Schedules and read connection state.
  const clientConnection = await Connection.connect(temporal.connectionOptions);
  let metricsServer: MetricsServer | undefined;
  try {
    const client = new Client({
      connection: clientConnection,
      namespace: temporal.namespace,
      dataConverter,
      ...(tracing ? { plugins: [tracing.plugin] } : {}),
    });
    const dependencies = await buildActivityDependencies(
      config,
      {
        client,
        taskQueue: config.TASK_QUEUE,
        healthCheckInterval: config.HEALTH_CHECK_INTERVAL,
        rotateBeforeDays: config.CERTIFICATE_ROTATE_BEFORE_DAYS,
        healthRecheckAfter: config.HEALTH_RECHECK_AFTER,
      },
      { info: (m) => log.info(m), warn: (m) => log.warn(m) },
      metrics,
    );
    const worker = await withWorkflowBundle(
      { prebuiltPath: config.WORKFLOW_BUNDLE_PATH, tracing: Boolean(tracing) },
      (workflowBundle) =>
        createServiceWorker({
          connection,
          dataConverter,
          namespace: temporal.namespace,
          taskQueue: config.TASK_QUEUE,
          dependencies,
          workflowBundle,
          tuning: workerTuning(config),
          readinessWaitSlots: config.WORKER_MAX_CONCURRENT_READINESS_WAITS,
          observability: { metrics, log },
          ...(tracing ? { plugins: [tracing.plugin] } : {}),
        }),
    );
    if (metricsOn) {
      metricsServer = await startMetricsServer({
        address: config.WORKER_METRICS_ADDRESS,
        registry: metrics.registry,
        sdkMetricsUrl: sdkMetricsAddress ? `http://${sdkMetricsAddress}/metrics` : undefined,
        isHealthy: () => worker.getState() === 'RUNNING',
      });
      log.info({ url: `${metricsServer.url}/metrics` }, 'worker metrics listening');
    }
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => log.info({ signal }, 'draining: no new tasks; in-flight activities may finish'));
    }
    log.info(
      {
        taskQueue: config.TASK_QUEUE,
        address: String(temporal.connectionOptions.address),
        namespace: temporal.namespace,
      },
      'worker polling',
    );
    // Runtime.install registers SIGINT/SIGTERM handlers that shut the worker down gracefully (drain in-flight tasks).
    await worker.run();
    log.info('worker stopped');
  } finally {
    await metricsServer?.close();
    await tracing?.shutdown();
    await clientConnection.close();
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
