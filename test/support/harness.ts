import { randomUUID } from 'node:crypto';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import fs from 'node:fs/promises';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { ActivityDependencies } from '../../activities';
import { SalesforceClients } from '../../salesforce/clients';
import { EncryptedFileSecretStore } from '../../secrets/secret-store';
import { FAILURE_CONVERTER_PATH, encryptedDataConverter } from '../../codec/data-converter';
import { createServiceWorker } from '../../workers/service-worker';
import type { ServiceWorker, WorkerTuning } from '../../workers/service-worker';
import { temporaryDir } from './temp-dirs';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow bundle, built once per test file (webpack takes seconds), with the service's failure converter. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: silentLogger,
  });
  return bundle;
}

const silentLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/**
 * Tests run with payload encryption on, as production does. The key is a fixed test key (not a secret) so that
 * histories recorded by the integration tests can be replayed by test/replay.
 */
export const TEST_PAYLOAD_KEY = { id: 'test', key: Buffer.from('agent-connections test key, v1!!', 'utf8') };
export const testDataConverter = encryptedDataConverter([TEST_PAYLOAD_KEY]);

/** With RECORD_HISTORIES=1, saves a run's history as a replay fixture (test/fixtures/histories/<name>.json). */
export async function recordHistory(
  name: string,
  handle: { workflowId: string; fetchHistory(): Promise<unknown> },
): Promise<void> {
  if (!process.env.RECORD_HISTORIES) return;
  const history = (await handle.fetchHistory()) as Parameters<typeof historyToJSON>[0];
  const dir = path.join(__dirname, '..', 'fixtures', 'histories');
  await fs.mkdir(dir, { recursive: true });
  // Workflow ids matter to replay: child workflow ids are derived from them.
  const fixture = `{"workflowId":${JSON.stringify(handle.workflowId)},"history":${historyToJSON(history)}}`;
  await fs.writeFile(path.join(dir, `${name}.json`), fixture);
}

/** Connects to the dev server that the Jest global setup started. */
export async function devServerEnvironment(): Promise<TestWorkflowEnvironment> {
  const address = process.env.TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEST_TEMPORAL_ADDRESS is not set: run the tests through `npm test`');
  return TestWorkflowEnvironment.createFromExistingServer({ address, client: { dataConverter: testDataConverter } });
}

/** A secret store in a fresh temporary folder of the run with a random master key. */
export async function temporarySecretStore(): Promise<{
  store: EncryptedFileSecretStore;
  dir: string;
  /** The master key as SECRETS_MASTER_KEYS spells it, for worker processes that share the store. */
  masterKeys: string;
}> {
  const dir = await temporaryDir('agent-connections-secrets-');
  const key = { id: 'test', key: Buffer.from(randomUUID().replace(/-/g, ''), 'utf8') };
  return {
    store: new EncryptedFileSecretStore(dir, [key]),
    dir,
    masterKeys: `${key.id}:${key.key.toString('base64')}`,
  };
}

export interface TestDependenciesOptions {
  secrets: EncryptedFileSecretStore;
  oauthClient?: { clientId: string; clientSecret: string };
}

/** Activity dependencies without Temporal access; `startServiceWorker` adds it (it knows the task queue). */
export function testDependencies(options: TestDependenciesOptions): Omit<ActivityDependencies, 'temporal'> {
  return {
    clients: new SalesforceClients(options.secrets, { apiVersion: '66.0', oauthClient: options.oauthClient }),
    secrets: options.secrets,
    usernameDomain: 'test.agent-connections.app',
    contactEmail: 'admin@agent-connections.app',
    certificateValidityDays: 365,
  };
}

export interface ServiceWorkerTestOptions {
  healthCheckInterval?: string;
  rotateBeforeDays?: number;
  /** The health check's confirming re-check (a second here, so that failure tests stay quick). */
  healthRecheckAfter?: string;
  /** Webhook deliveries (none without). */
  webhooks?: ActivityDependencies['webhooks'];
  /** Slots of the service queue's worker (the connection queue's keep theirs unless `connectionTuning` says). */
  tuning?: WorkerTuning;
  connectionTuning?: WorkerTuning;
}

/** A worker of the real service (real workflows, real activities) on a task queue of its own. */
export async function startServiceWorker(
  env: TestWorkflowEnvironment,
  dependencies: Omit<ActivityDependencies, 'temporal'>,
  options: ServiceWorkerTestOptions = {},
): Promise<{
  worker: ServiceWorker;
  taskQueue: string;
  running: Promise<void>;
  /** Shuts the worker down and waits until it has stopped; a second call waits for the same shutdown. */
  stop: () => Promise<void>;
}> {
  const taskQueue = `test-${randomUUID()}`;
  const worker = await createServiceWorker({
    connection: env.nativeConnection,
    dataConverter: testDataConverter,
    namespace: 'default',
    taskQueue,
    dependencies: {
      ...dependencies,
      temporal: {
        client: env.client,
        taskQueue,
        healthCheckInterval: options.healthCheckInterval ?? '1 hour',
        rotateBeforeDays: options.rotateBeforeDays ?? 30,
        healthRecheckAfter: options.healthRecheckAfter ?? '1 second',
      },
      webhooks: options.webhooks,
    },
    workflowBundle: await workflowBundle(),
    tuning: options.tuning,
    connectionTuning: options.connectionTuning,
  });
  const running = worker.run();
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      worker.shutdown();
      await running;
    })());
  return { worker, taskQueue, running, stop };
}
