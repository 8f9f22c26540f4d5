import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { RunningEmulator } from '@agent-connections/salesforce-emulator';
import type { EncryptedFileSecretStore } from '../../secrets/secret-store';
import { Connections } from './connections';
import { devServerEnvironment, startServiceWorker, temporarySecretStore, testDependencies } from './harness';
import type { ServiceWorkerTestOptions } from './harness';
import { SERVICE_OAUTH_CLIENT, startTestEmulator } from './salesforce';

export interface SagaSuite {
  env: TestWorkflowEnvironment;
  emulator: RunningEmulator;
  secrets: EncryptedFileSecretStore;
  connections: Connections;
  taskQueue: string;
}

/**
 * One real dev-server connection, one emulator and one service worker per test file; `suite()` returns them once
 * beforeAll has run. Everything is stopped in afterAll.
 */
export function useSagaSuite(workerOptions: ServiceWorkerTestOptions = {}): () => SagaSuite {
  let suite: SagaSuite | undefined;
  let stop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const env = await devServerEnvironment();
    const emulator = await startTestEmulator();
    const secrets = (await temporarySecretStore()).store;
    const started = await startServiceWorker(
      env,
      testDependencies({ secrets, oauthClient: SERVICE_OAUTH_CLIENT }),
      workerOptions,
    );
    suite = {
      env,
      emulator,
      secrets,
      connections: new Connections(env.client, started.taskQueue),
      taskQueue: started.taskQueue,
    };
    stop = started.stop;
  });
  afterEach(async () => {
    await suite?.emulator.control.clearFaults();
  });
  afterAll(async () => {
    await stop?.();
    await suite?.emulator.close();
    await suite?.env.teardown();
  });
  return () => {
    if (!suite) throw new Error('the saga suite is not set up yet');
    return suite;
  };
}
