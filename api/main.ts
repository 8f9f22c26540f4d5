import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { openSecretStore } from '../activities/secret-store';
import { encryptedDataConverter, loadCodecKeys } from '../codec/data-converter';
import { loadConfig } from '../config';
import { loadTemporalSettings } from '../config/temporal-connection';
import { createApp } from './app';
import { loadApiKeys } from './auth';

/** The API process: parse config, connect lazily to Temporal, listen, and drain gracefully on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = pino({ level: config.LOG_LEVEL, base: { service: 'api' } });
  const apiKeys = loadApiKeys({
    spec: config.API_KEYS,
    file: config.API_KEYS_FILE,
    host: config.API_HOST,
    dataDir: config.DATA_DIR,
    info: (message) => log.info(message),
  });
  const secrets = await openSecretStore({
    dir: config.secretsDir,
    masterKeys: config.SECRETS_MASTER_KEYS,
    dataDir: config.DATA_DIR,
    warn: (message) => log.warn(message),
  });
  const temporal = loadTemporalSettings();
  const connection = Connection.lazy(temporal.connectionOptions);
  // The same codec as the worker: operation requests and the connection's memo are encrypted in Temporal.
  const dataConverter = encryptedDataConverter(loadCodecKeys(config.PAYLOAD_CODEC_KEYS, config.DATA_DIR));
  const client = new Client({ connection, namespace: temporal.namespace, dataConverter });
  let draining = false;
  const app = createApp({ client, secrets, config, apiKeys, log, isDraining: () => draining });
  const server = app.listen(config.API_PORT, config.API_HOST, () => {
    log.info(`API listening on http://${config.API_HOST}:${config.API_PORT} (admin page: /admin/, docs: /docs)`);
  });
  const shutdown = (signal: string) => {
    if (draining) return;
    draining = true;
    log.info(`${signal}: finishing in-flight requests`);
    // New connections are refused and idle keep-alive sockets closed; requests under way finish, within the grace.
    server.close(() => {
      void connection.close().finally(() => process.exit(0));
    });
    server.closeIdleConnections();
    setTimeout(() => {
      log.warn('in-flight requests did not finish in time; exiting');
      process.exit(1);
    }, config.API_SHUTDOWN_GRACE_MS).unref();
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
