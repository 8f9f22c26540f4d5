import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureTool } from '../../scripts/temporal-tools.cjs';
import { loadConfig } from '../../config';
import { openSecretStore } from '../../secrets';
import { EncryptedFileSecretStore, parseMasterKeys } from '../../secrets/secret-store';
import type { SecretStore } from '../../secrets/secret-store';
import { SecretStoreError, VaultSecretStore } from '../../secrets/vault-secret-store';
import { baoApi, createAppRole, openBao, revokeTokensOf, rootVaultStore, testPrefix } from '../support/openbao';
import { freePort } from '../support/free-port';
import { temporaryDir } from '../support/temp-dirs';

const key = (id: string) => ({ id, key: randomBytes(32) });

/** Every store opened by a test, closed at the end (the vault store renews its token in the background). */
const opened: SecretStore[] = [];
afterAll(async () => {
  for (const store of opened) await store.close?.();
});
function track<T extends SecretStore>(store: T): T {
  opened.push(store);
  return store;
}

interface Backend {
  name: string;
  /** A new, empty store, and a way to open a second instance on the same data (another process would). */
  open(): Promise<{ store: SecretStore; another(): Promise<SecretStore> }>;
}

const backends: Backend[] = [
  {
    name: 'encrypted files',
    open: async () => {
      const dir = await temporaryDir('secret-store-');
      const k1 = key('k1');
      return {
        store: new EncryptedFileSecretStore(dir, [k1]),
        another: () => Promise.resolve(new EncryptedFileSecretStore(dir, [k1])),
      };
    },
  },
  {
    name: 'OpenBao KV v2 (real bao dev server)',
    open: async () => {
      const prefix = testPrefix();
      return {
        store: track(await rootVaultStore(prefix)),
        another: async () => track(await rootVaultStore(prefix)),
      };
    },
  },
];

const PEM = `-----BEGIN PRIVATE KEY-----\n${randomBytes(1200)
  .toString('base64')
  .replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----`;

describe.each(backends)('the secret store contract: $name', ({ open }) => {
  it('reads back what it stored; a retried put writes the same, a new value replaces the old', async () => {
    const { store } = await open();
    const ref = await store.put('tenants/acme/admin/op1', 'access-token-SECRET-123');
    expect(ref).toEqual({ secretRef: 'tenants/acme/admin/op1' });
    expect(await store.get(ref)).toBe('access-token-SECRET-123');
    await store.put('tenants/acme/admin/op1', 'access-token-SECRET-123');
    expect(await store.get(ref)).toBe('access-token-SECRET-123');
    await store.put('tenants/acme/admin/op1', 'refreshed-token');
    expect(await store.get(ref)).toBe('refreshed-token');
  });

  it('answers undefined for a missing reference, creates new references under a prefix, deletes idempotently', async () => {
    const { store } = await open();
    expect(await store.get({ secretRef: 'tenants/acme/admin/nope' })).toBeUndefined();
    const ref = await store.create('tenants/acme/signing-keys', 'v');
    const other = await store.create('tenants/acme/signing-keys', 'w');
    expect(ref.secretRef.startsWith('tenants/acme/signing-keys/')).toBe(true);
    expect(other.secretRef).not.toBe(ref.secretRef);
    expect(await store.get(ref)).toBe('v');
    await store.delete(ref);
    await store.delete(ref);
    await store.delete({ secretRef: 'tenants/acme/never-written' });
    expect(await store.get(ref)).toBeUndefined();
    expect(await store.get(other)).toBe('w');
  });

  it('is shared: a second instance (another process, another machine) reads and deletes what the first stored', async () => {
    const { store, another } = await open();
    const ref = await store.put('tenants/acme/signing-keys/op2', PEM);
    const second = await another();
    expect(await second.get(ref)).toBe(PEM);
    await second.delete(ref);
    expect(await store.get(ref)).toBeUndefined();
  });

  it('keeps values of any size and character exactly, and tenants apart', async () => {
    const { store } = await open();
    const values = {
      'tenants/a/admin/x': JSON.stringify({ accessToken: '00D!AR8AQ"quoted"', refreshToken: '5Aep\\n/+=' }),
      'tenants/b/admin/x': 'ünïcødé ✓ 🔑',
      'tenants/c/admin/x': '',
      'tenants/d/signing-keys/x': PEM.repeat(4),
    };
    for (const [ref, value] of Object.entries(values)) await store.put(ref, value);
    for (const [ref, value] of Object.entries(values)) expect(await store.get({ secretRef: ref })).toBe(value);
  });

  it('takes concurrent writes and reads (activities run in parallel)', async () => {
    const { store } = await open();
    const refs = Array.from({ length: 40 }, (_, i) => `tenants/t${i % 5}/signing-keys/op-${i}`);
    await Promise.all(refs.map((ref, i) => store.put(ref, `value-${i}`)));
    const read = await Promise.all(refs.map((ref) => store.get({ secretRef: ref })));
    expect(read).toEqual(refs.map((_, i) => `value-${i}`));
    await Promise.all(refs.map((ref) => store.delete({ secretRef: ref })));
    expect(await Promise.all(refs.map((ref) => store.get({ secretRef: ref })))).toEqual(refs.map(() => undefined));
  });
});

describe('the encrypted file secret store', () => {
  it('stores values encrypted at rest and reads them back', async () => {
    const dir = await temporaryDir('secret-store-');
    const store = new EncryptedFileSecretStore(dir, [key('k1')]);
    const ref = await store.put('tenants/acme/admin/op1', 'access-token-SECRET-123');
    expect(await store.get(ref)).toBe('access-token-SECRET-123');
    const files = await fs.readdir(dir);
    expect(files).toHaveLength(1);
    const onDisk = await fs.readFile(path.join(dir, files[0]!), 'utf8');
    expect(onDisk).not.toContain('SECRET-123');
    expect(onDisk).not.toContain('tenants/acme/admin/op1'.replace(/\//g, '_'));
  });

  it('rotates master keys: old secrets still open, new ones use the newest key, reseal retires the old key', async () => {
    const dir = await temporaryDir('secret-store-');
    const k1 = key('k1');
    const k2 = key('k2');
    const before = new EncryptedFileSecretStore(dir, [k1]);
    const ref = await before.put('a', 'first');
    const rotated = new EncryptedFileSecretStore(dir, [k1, k2]);
    expect(await rotated.get(ref)).toBe('first');
    expect(await rotated.reseal()).toBe(1);
    const onlyNew = new EncryptedFileSecretStore(dir, [k2]);
    expect(await onlyNew.get(ref)).toBe('first');
  });

  it('refuses a value sealed for another reference (the reference is authenticated)', async () => {
    const dir = await temporaryDir('secret-store-');
    const store = new EncryptedFileSecretStore(dir, [key('k1')]);
    await store.put('a', 'value-a');
    const [file] = await fs.readdir(dir);
    const sealed = JSON.parse(await fs.readFile(path.join(dir, file!), 'utf8'));
    await store.put('b', 'value-b');
    const fileOfB = (await fs.readdir(dir)).find((f) => f !== file)!;
    await fs.writeFile(path.join(dir, fileOfB), JSON.stringify({ ...sealed, ref: 'b' }));
    await expect(store.get({ secretRef: 'b' })).rejects.toThrow();
  });

  it('parses master key lists and rejects keys of the wrong size, naming them', () => {
    const a = randomBytes(32).toString('base64');
    expect(parseMasterKeys(`k1:${a}`)[0]?.id).toBe('k1');
    expect(parseMasterKeys(a)[0]?.id).toBe('k1');
    expect(() => parseMasterKeys(`short:${randomBytes(8).toString('base64')}`)).toThrow(/short/);
    expect(() => parseMasterKeys('')).toThrow(/at least one/);
  });
});

/** The error a promise rejects with, for checks on its message. */
async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe('the OpenBao/Vault secret store (real bao dev server)', () => {
  it('keeps each secret as one KV v2 entry under the prefix: <mount>/data/<prefix>/<reference>', async () => {
    const prefix = testPrefix();
    const store = track(await rootVaultStore(prefix));
    await store.put('tenants/acme/admin/op1', 'the-value');
    const entry = await baoApi('GET', `secret/data/${prefix}/tenants/acme/admin/op1`);
    expect(entry.status).toBe(200);
    expect((entry.json?.data?.data as { value: string }).value).toBe('the-value');
    const listed = await baoApi('GET', `secret/metadata/${prefix}?list=true`);
    expect(listed.json?.data?.keys).toEqual(['tenants/']);
  });

  it('delete removes every version and the metadata: nothing lingers to undelete', async () => {
    const prefix = testPrefix();
    const store = track(await rootVaultStore(prefix));
    const ref = await store.put('tenants/acme/signing-keys/op1', 'first');
    await store.put(ref.secretRef, 'second');
    const metadata = await baoApi('GET', `secret/metadata/${prefix}/${ref.secretRef}`);
    expect(metadata.json?.data?.current_version).toBe(2);
    await store.delete(ref);
    expect((await baoApi('GET', `secret/metadata/${prefix}/${ref.secretRef}`)).status).toBe(404);
    for (const version of [1, 2]) {
      expect((await baoApi('GET', `secret/data/${prefix}/${ref.secretRef}?version=${version}`)).status).toBe(404);
    }
    expect((await baoApi('GET', `secret/metadata/${prefix}?list=true`)).status).toBe(404);
  });

  it('logs in with AppRole under the shipped policy, which allows its prefix and nothing else', async () => {
    const prefix = testPrefix();
    const role = await createAppRole(prefix);
    const { address } = openBao();
    const store = track(
      await VaultSecretStore.open({
        address,
        auth: { kind: 'approle', roleId: role.roleId, secretId: role.secretId },
        pathPrefix: prefix,
      }),
    );
    expect(store.loginCount).toBe(1);
    const ref = await store.put('tenants/acme/admin/op1', 'v1');
    expect(await store.get(ref)).toBe('v1');
    await store.delete(ref);
    expect(await store.get(ref)).toBeUndefined();

    const elsewhere = track(
      await VaultSecretStore.open({
        address,
        auth: { kind: 'approle', roleId: role.roleId, secretId: role.secretId },
        pathPrefix: `${prefix}-other`,
      }),
    );
    const denied = await failureOf(elsewhere.put('tenants/acme/admin/op1', 'VALUE-THAT-MUST-NOT-SHOW'));
    expect(denied).toBeInstanceOf(SecretStoreError);
    expect(denied.message).toMatch(/could not store secret tenants\/acme\/admin\/op1: permission denied/);
    expect(denied.message).toMatch(/VAULT_ROLE_ID\/VAULT_SECRET_ID/);
    expect(denied.message).not.toContain('VALUE-THAT-MUST-NOT-SHOW');
    expect(denied.message).not.toContain(role.secretId);
  });

  it('logs in again when its token expires (token_ttl 2 s, not renewable past its max)', async () => {
    const prefix = testPrefix();
    const role = await createAppRole(prefix, { tokenTtl: 2, tokenMaxTtl: 2 });
    const store = track(
      await VaultSecretStore.open({
        address: openBao().address,
        auth: { kind: 'approle', roleId: role.roleId, secretId: role.secretId },
        pathPrefix: prefix,
      }),
    );
    const ref = await store.put('tenants/acme/admin/op1', 'before');
    await new Promise((r) => setTimeout(r, 3000));
    expect(await store.get(ref)).toBe('before');
    await store.put(ref.secretRef, 'after');
    expect(await store.get(ref)).toBe('after');
    expect(store.loginCount).toBeGreaterThanOrEqual(2);
  });

  it('logs in again when its token is refused (revoked), and repeats the call', async () => {
    const prefix = testPrefix();
    const role = await createAppRole(prefix);
    const store = track(
      await VaultSecretStore.open({
        address: openBao().address,
        auth: { kind: 'approle', roleId: role.roleId, secretId: role.secretId },
        pathPrefix: prefix,
      }),
    );
    const ref = await store.put('tenants/acme/admin/op1', 'kept');
    expect(await revokeTokensOf(role.roleName)).toBe(1);
    expect(await store.get(ref)).toBe('kept');
    expect(store.loginCount).toBe(2);
  });

  it('renews a renewable VAULT_TOKEN in the background', async () => {
    const prefix = testPrefix();
    const created = await baoApi('POST', 'auth/token/create', {
      ttl: '3s',
      explicit_max_ttl: '1h',
      policies: ['root'],
    });
    const token = created.json?.auth?.client_token as string;
    const store = track(await rootVaultStore(prefix, { auth: { kind: 'token', token } }));
    await new Promise((r) => setTimeout(r, 4500));
    const ref = await store.put('tenants/acme/admin/op1', 'still-valid');
    expect(await store.get(ref)).toBe('still-valid');
  });

  it('refuses a wrong token at start-up, naming VAULT_TOKEN and never printing it', async () => {
    const err = await failureOf(rootVaultStore(testPrefix(), { auth: { kind: 'token', token: 'hvs.WRONG-TOKEN-42' } }));
    expect(err).toBeInstanceOf(SecretStoreError);
    expect(err.message).toMatch(/refused VAULT_TOKEN \(permission denied\)/);
    expect(err.message).toContain(openBao().address);
    expect(err.message).not.toContain('WRONG-TOKEN-42');
  });

  it('refuses a wrong AppRole secret id, naming VAULT_ROLE_ID and VAULT_SECRET_ID and never printing them', async () => {
    const role = await createAppRole(testPrefix());
    const err = await failureOf(
      VaultSecretStore.open({
        address: openBao().address,
        auth: { kind: 'approle', roleId: role.roleId, secretId: 'not-the-SECRET-id' },
      }),
    );
    expect(err.message).toMatch(/refused the AppRole login at auth\/approle .*check VAULT_ROLE_ID and VAULT_SECRET_ID/);
    expect(err.message).not.toContain('not-the-SECRET-id');
    expect(err.message).not.toContain(role.roleId);
  });

  it('names VAULT_ADDR when nothing answers, and VAULT_KV_MOUNT when the mount is missing or KV version 1', async () => {
    const unreachable = await failureOf(
      VaultSecretStore.open({ address: `http://127.0.0.1:${await freePort()}`, auth: { kind: 'token', token: 't' } }),
    );
    expect(unreachable.message).toMatch(
      /cannot reach OpenBao\/Vault at http:\/\/127\.0\.0\.1:\d+ \(VAULT_ADDR\): ECONNREFUSED/,
    );

    const missing = await failureOf(rootVaultStore(testPrefix(), { kvMount: 'no-such-mount' }));
    expect(missing.message).toMatch(/VAULT_KV_MOUNT=no-such-mount: no secrets engine is mounted there/);

    const v1 = `kv1-${randomUUID().slice(0, 8)}`;
    expect((await baoApi('POST', `sys/mounts/${v1}`, { type: 'kv', options: { version: '1' } })).status).toBe(204);
    const wrongVersion = await failureOf(rootVaultStore(testPrefix(), { kvMount: v1 }));
    expect(wrongVersion.message).toMatch(
      new RegExp(`VAULT_KV_MOUNT=${v1} is KV version 1; the store needs KV version 2`),
    );
  });

  it('refuses references that would leave its prefix', async () => {
    const store = track(await rootVaultStore(testPrefix()));
    for (const ref of ['tenants/../../sys/x', 'tenants//x', 'tenants/./x', '']) {
      await expect(store.put(ref, 'v')).rejects.toThrow(/is not a valid path/);
      await expect(store.get({ secretRef: ref })).rejects.toThrow(/is not a valid path/);
    }
  });

  it('deploy/openbao/setup.sh makes the policy and the AppRole the service logs in with, and runs again harmlessly', async () => {
    const prefix = testPrefix();
    const role = `ac-setup-${randomUUID().slice(0, 8)}`;
    const credentials = { VAULT_ROLE_ID: `role-${randomUUID()}`, VAULT_SECRET_ID: `secret-${randomUUID()}` };
    const script = path.resolve(__dirname, '..', '..', 'deploy', 'openbao', 'setup.sh');
    const run = () =>
      promisify(execFile)('sh', [script], {
        env: {
          ...process.env,
          PATH: `${path.dirname(ensureTool('bao'))}${path.delimiter}${process.env.PATH ?? ''}`,
          BAO_ADDR: openBao().address,
          BAO_TOKEN: openBao().rootToken,
          VAULT_PATH_PREFIX: prefix,
          APPROLE_ROLE: role,
          ...credentials,
        },
      });
    expect((await run()).stdout).toMatch(new RegExp(`AppRole ${role} ready`));
    expect((await run()).stdout).toMatch(new RegExp(`AppRole ${role} ready`));
    const store = track(
      await VaultSecretStore.open({
        address: openBao().address,
        auth: { kind: 'approle', roleId: credentials.VAULT_ROLE_ID, secretId: credentials.VAULT_SECRET_ID },
        pathPrefix: prefix,
      }),
    );
    const ref = await store.put('tenants/acme/admin/op1', 'set-up');
    expect(await store.get(ref)).toBe('set-up');
    await store.delete(ref);
    const policy = await baoApi('GET', `sys/policies/acl/${role}`);
    expect(policy.json?.data?.policy).toContain(`path "secret/data/${prefix}/*"`);
  });

  it('is what openSecretStore opens for SECRETS_BACKEND=vault (AppRole from the configuration)', async () => {
    const prefix = testPrefix();
    const role = await createAppRole(prefix);
    const config = loadConfig({
      SECRETS_BACKEND: 'vault',
      VAULT_ADDR: openBao().address,
      VAULT_ROLE_ID: role.roleId,
      VAULT_SECRET_ID: role.secretId,
      VAULT_PATH_PREFIX: prefix,
      VAULT_TOKEN: '',
    });
    const store = track(await openSecretStore(config));
    expect(store).toBeInstanceOf(VaultSecretStore);
    await store.put('tenants/acme/admin/op1', 'configured');
    const entry = await baoApi('GET', `secret/data/${prefix}/tenants/acme/admin/op1`);
    expect((entry.json?.data?.data as { value: string }).value).toBe('configured');
  });
});

describe('the secret store configuration', () => {
  it('defaults to the file store', async () => {
    const dir = await temporaryDir('secret-store-');
    const config = loadConfig({ DATA_DIR: dir, SECRETS_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}` });
    expect(config.SECRETS_BACKEND).toBe('file');
    expect(await openSecretStore(config)).toBeInstanceOf(EncryptedFileSecretStore);
  });

  it('names the missing or conflicting variable for SECRETS_BACKEND=vault', () => {
    const vault = { SECRETS_BACKEND: 'vault' };
    expect(() => loadConfig({ ...vault, VAULT_TOKEN: 't' })).toThrow(
      /VAULT_ADDR: is required when SECRETS_BACKEND=vault/,
    );
    expect(() => loadConfig({ ...vault, VAULT_ADDR: 'http://127.0.0.1:8200' })).toThrow(
      /VAULT_TOKEN: SECRETS_BACKEND=vault needs VAULT_TOKEN, or VAULT_ROLE_ID with VAULT_SECRET_ID/,
    );
    expect(() => loadConfig({ ...vault, VAULT_ADDR: 'http://127.0.0.1:8200', VAULT_ROLE_ID: 'r' })).toThrow(
      /VAULT_SECRET_ID: is required with VAULT_ROLE_ID/,
    );
    expect(() =>
      loadConfig({
        ...vault,
        VAULT_ADDR: 'http://127.0.0.1:8200',
        VAULT_ROLE_ID: 'r',
        VAULT_SECRET_ID: 's',
        VAULT_TOKEN: 't',
      }),
    ).toThrow(/VAULT_TOKEN: set either VAULT_TOKEN or VAULT_ROLE_ID with VAULT_SECRET_ID, not both/);
    expect(() => loadConfig({ ...vault, VAULT_ADDR: 'openbao:8200', VAULT_TOKEN: 't' })).toThrow(
      /VAULT_ADDR: must be a URL/,
    );
    expect(() =>
      loadConfig({ ...vault, VAULT_ADDR: 'http://x:8200', VAULT_TOKEN: 't', VAULT_PATH_PREFIX: 'a/../b' }),
    ).toThrow(/VAULT_PATH_PREFIX/);
    expect(() => loadConfig({ SECRETS_BACKEND: 'consul' })).toThrow(/SECRETS_BACKEND/);
    const ok = loadConfig({ ...vault, VAULT_ADDR: 'http://127.0.0.1:8200', VAULT_TOKEN: 't', VAULT_ROLE_ID: '' });
    expect(ok).toMatchObject({
      VAULT_KV_MOUNT: 'secret',
      VAULT_PATH_PREFIX: 'agent-connections',
      VAULT_ROLE_ID: undefined,
    });
  });
});
