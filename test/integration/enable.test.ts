import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { RunningEmulator } from '../../emulator';
import type { EncryptedFileSecretStore } from '../../activities/secret-store';
import { Connections } from '../support/connections';
import {
  devServerEnvironment,
  recordHistory,
  startServiceWorker,
  temporarySecretStore,
  testDependencies,
} from '../support/harness';
import {
  DEFAULT_AGENT_CONFIGURATION,
  SERVICE_OAUTH_CLIENT,
  componentCounts,
  createTestOrg,
  startTestEmulator,
} from '../support/salesforce';

describe('enable on the real dev server against the Salesforce emulator', () => {
  let env: TestWorkflowEnvironment;
  let emulator: RunningEmulator;
  let secrets: EncryptedFileSecretStore;
  let connections: Connections;
  let stopWorker: () => Promise<void>;

  beforeAll(async () => {
    env = await devServerEnvironment();
    emulator = await startTestEmulator();
    secrets = (await temporarySecretStore()).store;
    const started = await startServiceWorker(env, testDependencies({ secrets, oauthClient: SERVICE_OAUTH_CLIENT }));
    connections = new Connections(env.client, started.taskQueue);
    stopWorker = async () => {
      started.worker.shutdown();
      await started.running;
    };
  });

  afterAll(async () => {
    await stopWorker?.();
    await emulator?.close();
    await env?.teardown();
  });

  it('creates exactly one app, user and permission set, and the integration user can sign in by JWT', async () => {
    const { org, target } = await createTestOrg(emulator, secrets);
    const tenantId = `t-${randomUUID()}`;
    const operationId = randomUUID();
    await connections.enable(tenantId, {
      operationId,
      target,
      appKind: 'external_client_app',
      agentConfiguration: DEFAULT_AGENT_CONFIGURATION,
    });
    const state = await connections.settled(tenantId, operationId);
    expect(state.lastError).toBeUndefined();
    expect(state.status).toBe('enabled');
    expect(state.details).toMatchObject({
      appKind: 'external_client_app',
      appLabel: 'Copilot for Sales connected app',
      permissionSetName: 'Copilot_for_Sales_permission_set',
      orgId: org.orgId,
    });
    expect(await componentCounts(emulator, org.key)).toMatchObject({ PermissionSet: 1, User: 1 });
    await recordHistory('enable-succeeded', env.client.workflow.getHandle(state.operations[0]!.workflowId));
  });
});
