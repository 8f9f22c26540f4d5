import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { RunningEmulator } from '@agent-connections/salesforce-emulator';
import { SalesforceClients } from '../../salesforce/clients';
import type { EncryptedFileSecretStore } from '../../secrets/secret-store';
import type { ComponentNames } from '../../workflows/definitions';
import { componentNames } from '../../workflows/naming';
import { temporarySecretStore } from './harness';
import { SERVICE_OAUTH_CLIENT, startTestEmulator } from './salesforce';

export interface ActivitySuite {
  emulator: RunningEmulator;
  secrets: EncryptedFileSecretStore;
  /** Salesforce clients as the worker builds them (the service's OAuth client, API 66.0). */
  clients: SalesforceClients;
}

/**
 * For activities run alone (no worker, no Temporal) against the emulator with real jsforce: one emulator and one
 * secret store per test file; `suite()` returns them once beforeAll has run. The emulator is closed in afterAll.
 */
export function useActivitySuite(): () => ActivitySuite {
  let suite: ActivitySuite | undefined;
  beforeAll(async () => {
    const emulator = await startTestEmulator();
    const secrets = (await temporarySecretStore()).store;
    suite = {
      emulator,
      secrets,
      clients: new SalesforceClients(secrets, { apiVersion: '66.0', oauthClient: SERVICE_OAUTH_CLIENT }),
    };
  });
  afterAll(async () => {
    await suite?.emulator.close();
  });
  return () => {
    if (!suite) throw new Error('the activity suite is not set up yet');
    return suite;
  };
}

/**
 * Runs an activity as attempt `attempt` would run in the worker. Tests assert the failures, so the environment's
 * warning for each would only be noise: it logs errors only.
 */
export function runAttempt<P extends unknown[], R>(
  attempt: number,
  fn: (...args: P) => Promise<R>,
  ...args: P
): Promise<R> {
  return new MockActivityEnvironment({ attempt }, { logger: new DefaultLogger('ERROR') }).run(fn, ...args);
}

/** The names of a new connection's components: a new tenant and operation, a fixed org id. */
export function testComponentNames(): ComponentNames {
  return componentNames({
    agentName: 'Copilot for Sales',
    tenantId: `t-${randomUUID()}`,
    operationId: randomUUID(),
    orgId: '00D000000000001',
    usernameDomain: 'test.agent-connections.app',
  });
}
