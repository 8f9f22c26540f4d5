/**
 * The baseline's worker process: the same connection, payload codec and worker tuning as workers/main.ts, but the
 * no-op baseline workflow, its variants and their activities on a task queue of their own.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import { encryptedDataConverter, loadCodecKeys } from '../codec/data-converter';
import { loadConfig } from '../config';
import { loadTemporalSettings } from '../config/temporal-connection';
import { workerOptionsOf, workerTuning } from '../workers/service-worker';
import { createBaselineActivities } from './baseline-activities';

async function main(): Promise<void> {
  const config = loadConfig();
  Runtime.install({ telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } } });
  const temporal = loadTemporalSettings();
  const connection = await NativeConnection.connect(temporal.connectionOptions);
  // A client of its own for the Schedules one variant creates, as the service's worker has for health checks.
  const clientConnection = await Connection.connect(temporal.connectionOptions);
  try {
    const dataConverter = encryptedDataConverter(loadCodecKeys(config.PAYLOAD_CODEC_KEYS, config.DATA_DIR));
    const client = new Client({ connection: clientConnection, namespace: temporal.namespace, dataConverter });
    const worker = await Worker.create({
      connection,
      namespace: temporal.namespace,
      taskQueue: config.TASK_QUEUE,
      activities: createBaselineActivities(client, config.TASK_QUEUE),
      dataConverter,
      workflowsPath: require.resolve('./baseline-workflow'),
      ...workerOptionsOf(workerTuning(config)),
    });
    console.log(`worker polling task queue "${config.TASK_QUEUE}" (baseline)`);
    await worker.run();
  } finally {
    await clientConnection.close();
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
