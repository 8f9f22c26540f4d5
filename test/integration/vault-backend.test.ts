import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { RunningEmulator } from '@agent-connections/salesforce-emulator';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { VaultSecretStore } from '../../secrets/vault-secret-store';
import { Connections } from '../support/connections';
import { TEST_PAYLOAD_KEY, devServerEnvironment } from '../support/harness';
import { baoApi, createAppRole, openBao, testPrefix } from '../support/openbao';
import {
  SERVICE_OAUTH_CLIENT,
  createTestOrg,
  enableRequest,
  leftovers,
  startTestEmulator,
} from '../support/salesforce';
import { temporaryDir } from '../support/temp-dirs';

const root = path.resolve(__dirname, '..', '..');

/**
 * The real worker program (workers/main.ts) configured with SECRETS_BACKEND=vault and an AppRole under the shipped
 * policy, against the OpenBao dev server of the run: enable puts the signing key in OpenBao, disable removes it with
 * every version, and the worker's data folder never holds a secret.
 */
describe('the worker with its secrets in OpenBao (SECRETS_BACKEND=vault, AppRole)', () => {
  let env: TestWorkflowEnvironment;
  let emulator: RunningEmulator;
  let secrets: VaultSecretStore;
  let worker: ChildProcess | undefined;
  let workerOutput = '';
  let prefix: string;
  let dataDir: string;
  let taskQueue: string;

  beforeAll(async () => {
    env = await devServerEnvironment();
    emulator = await startTestEmulator();
    prefix = testPrefix();
    const role = await createAppRole(prefix);
    dataDir = await temporaryDir('vault-worker-');
    taskQueue = `vault-${randomUUID()}`;
    const vaultEnv = {
      SECRETS_BACKEND: 'vault',
      VAULT_ADDR: openBao().address,
      VAULT_ROLE_ID: role.roleId,
      VAULT_SECRET_ID: role.secretId,
      VAULT_PATH_PREFIX: prefix,
    };
    // The test stands in for the API: it stores the admin's tokens in the same place, with the same role.
    secrets = await VaultSecretStore.open({
      address: vaultEnv.VAULT_ADDR,
      auth: { kind: 'approle', roleId: role.roleId, secretId: role.secretId },
      pathPrefix: prefix,
    });
    worker = spawn(path.join(root, 'node_modules', '.bin', 'tsx'), ['workers/main.ts'], {
      cwd: root,
      env: {
        ...process.env,
        ...vaultEnv,
        TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
        TEMPORAL_NAMESPACE: 'default',
        TASK_QUEUE: taskQueue,
        DATA_DIR: dataDir,
        PAYLOAD_CODEC_KEYS: `${TEST_PAYLOAD_KEY.id}:${TEST_PAYLOAD_KEY.key.toString('base64')}`,
        SALESFORCE_CLIENT_ID: SERVICE_OAUTH_CLIENT.clientId,
        SALESFORCE_CLIENT_SECRET: SERVICE_OAUTH_CLIENT.clientSecret,
        INTEGRATION_USERNAME_DOMAIN: 'test.agent-connections.app',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const collect = (chunk: Buffer) => (workerOutput = (workerOutput + chunk.toString('utf8')).slice(-4000));
    worker.stdout?.on('data', collect);
    worker.stderr?.on('data', collect);
  });

  afterAll(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      const exited = new Promise((resolve) => worker!.once('exit', resolve));
      process.kill(-worker.pid!, 'SIGKILL');
      await exited;
    }
    await secrets?.close();
    await emulator?.close();
    await env?.teardown();
  });

  it('enables and disables a connection; the signing key lives in OpenBao and is gone for good afterwards', async () => {
    const connections = new Connections(env.client, taskQueue);
    const { org, target } = await createTestOrg(emulator, secrets);
    const tenantId = `t-${randomUUID()}`;
    const enabled = await connections.enableAndSettle(tenantId, enableRequest(target)).catch((err: unknown) => {
      throw new Error(`${String(err)}\nworker output:\n${workerOutput}`);
    });
    expect(enabled.lastError).toBeUndefined();
    expect(enabled.status).toBe('enabled');
    const keyRef = enabled.details!.privateKey.secretRef;
    expect(keyRef.startsWith(`tenants/${tenantId}/signing-keys/`)).toBe(true);
    const stored = await baoApi('GET', `secret/data/${prefix}/${keyRef}`);
    expect(stored.status).toBe(200);
    expect(JSON.parse((stored.json?.data?.data as { value: string }).value)).toHaveProperty('privateKeyPem');

    const disabled = await connections.disableAndSettle(tenantId);
    expect(disabled.status).toBe('disabled');
    expect(await leftovers(emulator, org.key)).toEqual([]);
    expect((await baoApi('GET', `secret/metadata/${prefix}/${keyRef}`)).status).toBe(404);
    expect((await baoApi('GET', `secret/metadata/${prefix}/tenants/${tenantId}?list=true`)).status).toBe(404);
    // Nothing secret on the worker's disk: no secrets folder, no master key.
    expect(fs.readdirSync(dataDir).filter((name) => name === 'secrets' || name === 'master.key')).toEqual([]);
  });
});
