import { NativeConnection, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { encryptedDataConverter, loadCodecKeys } from '../codec/data-converter';
import { loadConfig } from '../config';
import { loadTemporalSettings } from '../config/temporal-connection';
import { buildActivityDependencies, createServiceWorker } from './service-worker';

/** The worker process: parse config, connect, build dependencies, run until SIGINT/SIGTERM, then drain. */
async function main(): Promise<void> {
  const config = loadConfig();
  Runtime.install({
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } },
  });
  const temporal = loadTemporalSettings();
  const connection = await NativeConnection.connect(temporal.connectionOptions);
  try {
    const dependencies = await buildActivityDependencies(config, (m) => console.warn(m));
    const worker = await createServiceWorker({
      connection,
      dataConverter: encryptedDataConverter(loadCodecKeys(config.PAYLOAD_CODEC_KEYS, config.DATA_DIR)),
      namespace: temporal.namespace,
      taskQueue: config.TASK_QUEUE,
      dependencies,
    });
    console.log(`worker polling task queue "${config.TASK_QUEUE}" on ${String(temporal.connectionOptions.address)}`);
    // Runtime.install registers SIGINT/SIGTERM handlers that shut the worker down gracefully (drain in-flight tasks).
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
