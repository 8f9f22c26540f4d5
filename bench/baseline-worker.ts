/**
 * The baseline's worker process: the same connection, payload codec and worker tuning as workers/main.ts, but the
 * no-op baseline workflow and activities on a task queue of their own.
 */
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
  try {
    const worker = await Worker.create({
      connection,
      namespace: temporal.namespace,
      taskQueue: config.TASK_QUEUE,
      activities: createBaselineActivities(),
      dataConverter: encryptedDataConverter(loadCodecKeys(config.PAYLOAD_CODEC_KEYS, config.DATA_DIR)),
      workflowsPath: require.resolve('./baseline-workflow'),
      ...workerOptionsOf(workerTuning(config)),
    });
    console.log(`worker polling task queue "${config.TASK_QUEUE}" (baseline)`);
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
