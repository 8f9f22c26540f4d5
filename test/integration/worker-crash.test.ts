import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { RunningEmulator } from '@agent-connections/salesforce-emulator';
import type { EncryptedFileSecretStore } from '../../secrets/secret-store';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { READINESS_HEARTBEAT_TIMEOUT_MS } from '../../workflows/activity-options';
import { Connections } from '../support/connections';
import { TEST_PAYLOAD_KEY, devServerEnvironment, temporarySecretStore } from '../support/harness';
import {
  SERVICE_OAUTH_CLIENT,
  componentCounts,
  createTestOrg,
  enableRequest,
  startTestEmulator,
} from '../support/salesforce';

const root = path.resolve(__dirname, '..', '..');

/** The real worker program (workers/main.ts) in its own process group, so that SIGKILL takes all of it. */
function startWorkerProcess(env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(path.join(root, 'node_modules', '.bin', 'tsx'), ['workers/main.ts'], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    process.kill(-child.pid!, 'SIGKILL');
  });
}

describe('a worker killed in the middle of an operation', () => {
  let env: TestWorkflowEnvironment;
  let emulator: RunningEmulator;
  let secrets: EncryptedFileSecretStore;
  let workerEnv: NodeJS.ProcessEnv;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    env = await devServerEnvironment();
    emulator = await startTestEmulator();
    const store = await temporarySecretStore();
    secrets = store.store;
    workerEnv = {
      TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
      TEMPORAL_NAMESPACE: 'default',
      TASK_QUEUE: `crash-${randomUUID()}`,
      DATA_DIR: store.dir,
      SECRETS_DIR: store.dir,
      SECRETS_MASTER_KEYS: store.masterKeys,
      PAYLOAD_CODEC_KEYS: `${TEST_PAYLOAD_KEY.id}:${TEST_PAYLOAD_KEY.key.toString('base64')}`,
      SALESFORCE_CLIENT_ID: SERVICE_OAUTH_CLIENT.clientId,
      SALESFORCE_CLIENT_SECRET: SERVICE_OAUTH_CLIENT.clientSecret,
      INTEGRATION_USERNAME_DOMAIN: 'test.agent-connections.app',
    };
  });

  afterAll(async () => {
    for (const child of children) await kill(child);
    await emulator?.close();
    await env?.teardown();
  });

  it(
    'is finished by the next worker, exactly once: one user, one app, one permission set',
    async () => {
      const connections = new Connections(env.client, workerEnv.TASK_QUEUE!);
      // The app takes a few seconds to propagate, so the operation is mid-way (waiting for readiness) when killed.
      const { org, target } = await createTestOrg(emulator, secrets, { propagationDelayMs: 5000 });
      const first = startWorkerProcess(workerEnv);
      children.push(first);
      const tenantId = `t-${randomUUID()}`;
      const operationId = randomUUID();
      await connections.enable(tenantId, enableRequest(target, { operationId }));
      await connections.reachedStep(tenantId, 'readiness');
      await kill(first);
      expect((await connections.state(tenantId)).status).toBe('enabling');

      const second = startWorkerProcess(workerEnv);
      children.push(second);
      // The dead worker's wait is given up after its heartbeat timeout (3 minutes: the readiness wait heartbeats
      // sparsely, to cost few Actions), then retried on the new worker.
      const state = await connections.settled(tenantId, operationId, READINESS_HEARTBEAT_TIMEOUT_MS + 60_000);
      expect(state.lastError).toBeUndefined();
      expect(state.status).toBe('enabled');
      expect(await componentCounts(emulator, org.key)).toMatchObject({
        PermissionSet: 1,
        User: 1,
        PermissionSetAssignment: 1,
        PermissionSetLicenseAssign: 1,
        ExternalClientApplication: 1,
        ExtlClntAppGlobalOauthSettings: 1,
      });
      // Each create went to Salesforce once: the new worker replayed the finished steps, it did not redo them.
      const counters = await emulator.control.counters(org.key);
      expect(counters.byOperationAndObject['rest.create']).toMatchObject({
        PermissionSet: 1,
        User: 1,
        PermissionSetAssignment: 1,
        PermissionSetLicenseAssign: 1,
      });
      expect(counters.byOperation['metadata.deploy']).toBe(1);
    },
    READINESS_HEARTBEAT_TIMEOUT_MS + 120_000,
  );
});
