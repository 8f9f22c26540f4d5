import { Client, Connection } from '@temporalio/client';
import { openSecretStore } from '../secrets';
import { isLoopbackHost } from './loopback';
import { encryptedDataConverter, loadCodecKeys } from '../codec/data-converter';
import { EncryptionCodec } from '../codec/encryption-codec';
import { loadConfig, serviceOAuthClient, signInCallbackUrl } from '../config';
import { loadTemporalSettings } from '../config/temporal-connection';
import { createLogger } from '../observability/logger';
import { ApiMetrics } from '../observability/metrics';
import { createTracing } from '../observability/tracing';
import { createApp } from './app';
import { loadApiKeys } from './auth';
import { CodecWorkers, defaultCodecThreads } from './codec-workers';
import { createApiServer } from './http-server';
import { auditStoreOf } from '../audit/open-audit-store';

/** The API process: parse config, connect lazily to Temporal, listen, and drain gracefully on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.LOG_LEVEL, service: 'api' });
  const apiKeys = loadApiKeys({
    spec: config.API_KEYS,
    file: config.API_KEYS_FILE,
    host: config.API_HOST,
    dataDir: config.DATA_DIR,
    info: (message) => log.info(message),
  });
  const secrets = await openSecretStore(config, {
    info: (message) => log.info(message),
    warn: (message) => log.warn(message),
  });
  const temporal = loadTemporalSettings();
  const connection = Connection.lazy(temporal.connectionOptions);
  // The same codec as the worker: operation requests and the connection's memo are encrypted in Temporal.
  const codecKeys = loadCodecKeys(config.PAYLOAD_CODEC_KEYS, config.DATA_DIR);
  const dataConverter = encryptedDataConverter(codecKeys);
  const tracing = createTracing(config, 'api');
  const client = new Client({
    connection,
    namespace: temporal.namespace,
    dataConverter,
    ...(tracing ? { plugins: [tracing.plugin] } : {}),
  });
  const apiOnLoopback = isLoopbackHost(config.API_HOST);
  if (config.CODEC_AUTH === 'key-or-local-ui' && !apiOnLoopback) {
    log.info('the API listens beyond loopback: /codec needs a key with the "codec" scope (CODEC_AUTH=key-or-local-ui)');
  }
  if (!config.API_PUBLIC_URL && !apiOnLoopback && serviceOAuthClient(config)) {
    log.warn(`API_PUBLIC_URL is not set: Sign in with Salesforce sends admins back to ${signInCallbackUrl(config)}`);
  }
  if (config.CODEC_AUTH === 'none') log.warn('CODEC_AUTH=none: /codec decodes for anyone who reaches it');
  let draining = false;
  // Large codec requests are parsed and decrypted in worker threads, off the event loop.
  const codecWorkers = new CodecWorkers({
    keys: codecKeys,
    threads: config.CODEC_WORKER_THREADS ?? defaultCodecThreads(),
  });
  // Embedded (the default): this process owns the store and serves it to the worker (see README, Audit trail).
  const audit = await auditStoreOf(config, 'api');
  const app = createApp({
    client,
    secrets,
    audit,
    config,
    apiKeys,
    log,
    salesforceOAuthClient: serviceOAuthClient(config),
    signInCallbackUrl: signInCallbackUrl(config),
    isDraining: () => draining,
    codec: {
      codec: new EncryptionCodec(codecKeys),
      namespace: temporal.namespace,
      allowedOrigins: config.CODEC_CORS_ORIGINS.split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
      auth: config.CODEC_AUTH,
      apiOnLoopback,
      maxBodyBytes: config.CODEC_MAX_BODY_BYTES,
      maxPayloads: config.CODEC_MAX_PAYLOADS,
      rateLimitPerMinute: config.CODEC_RATE_LIMIT_PER_MINUTE,
      workers: codecWorkers,
    },
    metrics: { registry: new ApiMetrics(), public: config.API_METRICS_PUBLIC },
  });
  const server = createApiServer(app, config).listen(config.API_PORT, config.API_HOST, () => {
    log.info(`API listening on http://${config.API_HOST}:${config.API_PORT} (admin page: /admin/, docs: /docs)`);
  });
  const shutdown = (signal: string) => {
    if (draining) return;
    draining = true;
    log.info(`${signal}: finishing in-flight requests`);
    // New connections are refused and idle keep-alive sockets closed; requests under way finish, within the grace.
    server.close(() => {
      void Promise.allSettled([tracing?.shutdown(), connection.close(), codecWorkers.close(), audit.close()]).finally(
        () => process.exit(0),
      );
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
