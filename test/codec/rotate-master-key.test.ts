import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { EncryptedFileSecretStore, parseMasterKeys } from '../../secrets/secret-store';
import { temporaryDir } from '../support/temp-dirs';

const root = path.resolve(__dirname, '..', '..');
const run = promisify(execFile);

function keySpec(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/** `npm run secrets:rotate` as an operator runs it: a real process over a real store folder. */
async function rotate(
  env: Record<string, string>,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      path.join(root, 'node_modules', '.bin', 'tsx'),
      ['scripts/rotate-master-key.ts', ...args],
      { cwd: root, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('secrets:rotate re-seals the secret store with the newest master key', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await temporaryDir('agent-connections-rotate-');
  });
  afterAll(async () => {
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('add the new key last, run it, remove the old key: every secret still reads, nothing secret is printed', async () => {
    const secretsDir = path.join(dataDir, 'secrets');
    const oldKey = keySpec('2025');
    const newKey = keySpec('2026');
    const values: Record<string, string> = {
      'tenants/acme/admin/1': JSON.stringify({ accessToken: '00Dacme!secret-token', refreshToken: 'refresh-acme' }),
      'tenants/acme/signing-key/1': JSON.stringify({ privateKeyPem: '-----BEGIN PRIVATE KEY-----\nMIIacme\n' }),
      'tenants/globex/admin/1': JSON.stringify({ accessToken: '00Dglobex!secret-token' }),
    };
    const before = new EncryptedFileSecretStore(secretsDir, parseMasterKeys(oldKey));
    for (const [ref, value] of Object.entries(values)) await before.put(ref, value);
    const env = { DATA_DIR: dataDir, SECRETS_DIR: secretsDir, PAYLOAD_CODEC_KEYS: `${keySpec('p1')},${keySpec('p2')}` };

    // Before: --check says the old key still seals everything.
    const check = await rotate({ ...env, SECRETS_MASTER_KEYS: `${oldKey},${newKey}` }, '--check');
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('secrets by master key: 2025=3');
    expect(check.stdout).toContain('not done');

    const rotated = await rotate({ ...env, SECRETS_MASTER_KEYS: `${oldKey},${newKey}` });
    expect(rotated.stderr).toBe('');
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toContain('re-sealed 3 secret(s) with master key "2026"');
    expect(rotated.stdout).toContain('secrets by master key: 2026=3');
    expect(rotated.stdout).toContain('payload codec: new payloads use key "p2"; 1 older key(s) kept for decoding');
    expect(rotated.stdout).toContain('older master keys can be removed');
    for (const secret of ['secret-token', 'refresh-acme', 'MIIacme', oldKey.split(':')[1]!, newKey.split(':')[1]!]) {
      expect(rotated.stdout).not.toContain(secret);
    }

    // The old key removed: every secret reads with the new key alone, and the old key can no longer read them.
    const after = new EncryptedFileSecretStore(secretsDir, parseMasterKeys(newKey));
    for (const [ref, value] of Object.entries(values)) expect(await after.get({ secretRef: ref })).toBe(value);
    const oldOnly = new EncryptedFileSecretStore(secretsDir, parseMasterKeys(oldKey));
    await expect(oldOnly.get({ secretRef: 'tenants/acme/admin/1' })).rejects.toThrow('unknown master key "2026"');
    const again = await rotate({ ...env, SECRETS_MASTER_KEYS: newKey }, '--check');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('secrets by master key: 2026=3');

    // Removing the old key too early fails loudly and changes nothing.
    const early = new EncryptedFileSecretStore(path.join(dataDir, 'early'), parseMasterKeys(oldKey));
    await early.put('tenants/initech/admin/1', 'value');
    const refused = await rotate({ ...env, SECRETS_DIR: path.join(dataDir, 'early'), SECRETS_MASTER_KEYS: newKey });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('unknown master key "2025"');
    expect(await early.get({ secretRef: 'tenants/initech/admin/1' })).toBe('value');
  });

  it('rejects unknown arguments', async () => {
    const result = await rotate({ DATA_DIR: dataDir }, '--force');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('usage: npm run secrets:rotate');
  });
});
