import { Client, Connection } from '@temporalio/client';
import { encryptedDataConverter, loadCodecKeys } from '../codec/data-converter';
import { loadConfig } from '../config';
import { loadTemporalSettings } from '../config/temporal-connection';
import { createApp } from './app';

/** The API process: parse config, connect lazily to Temporal, listen, and close gracefully on SIGINT/SIGTERM. */
function main(): void {
  const config = loadConfig();
  const temporal = loadTemporalSettings();
  const connection = Connection.lazy(temporal.connectionOptions);
  const client = new Client({
    connection,
    namespace: temporal.namespace,
    dataConverter: encryptedDataConverter(loadCodecKeys(config.PAYLOAD_CODEC_KEYS, config.DATA_DIR)),
  });
  const app = createApp({
    client,
    checkTemporal: async () => {
      await connection.workflowService.getSystemInfo({});
    },
  });
  const server = app.listen(config.API_PORT, config.API_HOST, () => {
    console.log(`API listening on http://${config.API_HOST}:${config.API_PORT}`);
  });
  const shutdown = () => {
    // In-flight requests finish; new connections are refused; a stuck client cannot hold the process forever.
    server.close(() => {
      void connection.close().finally(() => process.exit(0));
    });
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

try {
  main();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
