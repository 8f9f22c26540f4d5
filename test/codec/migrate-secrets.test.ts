import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { EncryptedFileSecretStore, parseMasterKeys } from '../../secrets/secret-store';
import { baoApi, createAppRole, openBao, testPrefix } from '../support/openbao';
import { temporaryDir } from '../support/temp-dirs';

const root = path.resolve(__dirname, '..', '..');

/** An operator's command (`npm run secrets:<name>`) as a real process with only `env` set. */
async function command(script: string, env: Record<string, string>): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(path.join(root, 'node_modules', '.bin', 'tsx'), [script], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

describe('moving the secrets from files to OpenBao (real bao dev server)', () => {
  it('secrets:migrate copies every secret under its reference, prints no value, and can run again', async () => {
    const dataDir = await temporaryDir('agent-connections-migrate-');
    const masterKeys = `k1:${randomBytes(32).toString('base64')}`;
    const files = new EncryptedFileSecretStore(path.join(dataDir, 'secrets'), parseMasterKeys(masterKeys));
    const values: Record<string, string> = {
      'tenants/acme/admin/op1-abc': JSON.stringify({ accessToken: '00Dacme!MIGRATED-TOKEN' }),
      'tenants/acme/signing-keys/op1': JSON.stringify({ privateKeyPem: '-----BEGIN PRIVATE KEY-----\nMIIacme\n' }),
    };
    for (const [ref, value] of Object.entries(values)) await files.put(ref, value);
    const prefix = testPrefix();
    const role = await createAppRole(prefix);
    const env = {
      DATA_DIR: dataDir,
      SECRETS_MASTER_KEYS: masterKeys,
      SECRETS_BACKEND: 'vault',
      VAULT_ADDR: openBao().address,
      VAULT_ROLE_ID: role.roleId,
      VAULT_SECRET_ID: role.secretId,
      VAULT_PATH_PREFIX: prefix,
    };
    for (let run = 0; run < 2; run += 1) {
      const { code, output } = await command('scripts/migrate-secrets.ts', env);
      expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining('copied 2 secret(s)') });
      expect(output).not.toContain('MIGRATED-TOKEN');
      expect(output).not.toContain(role.secretId);
    }
    for (const [ref, value] of Object.entries(values)) {
      const entry = await baoApi('GET', `secret/data/${prefix}/${ref}`);
      expect((entry.json?.data?.data as { value: string }).value).toBe(value);
    }
  });

  it('secrets:rotate says master-key rotation does not apply with SECRETS_BACKEND=vault, and exits 0', async () => {
    const dataDir = await temporaryDir('agent-connections-migrate-');
    const { code, output } = await command('scripts/rotate-master-key.ts', {
      DATA_DIR: dataDir,
      SECRETS_BACKEND: 'vault',
      VAULT_ADDR: openBao().address,
      VAULT_TOKEN: openBao().rootToken,
    });
    expect(code).toBe(0);
    expect(output).toMatch(/SECRETS_BACKEND=vault: master-key rotation does not apply/);
    expect(output).toMatch(/bao operator rotate/);
    expect(output).not.toContain(openBao().rootToken);
  });
});
