import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { EncryptedFileSecretStore, parseMasterKeys } from '../../secrets/secret-store';
import { temporaryDir } from '../support/temp-dirs';

const key = (id: string) => ({ id, key: randomBytes(32) });

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

  it('answers undefined for a missing reference and deletes idempotently', async () => {
    const store = new EncryptedFileSecretStore(await temporaryDir('secret-store-'), [key('k1')]);
    expect(await store.get({ secretRef: 'nope' })).toBeUndefined();
    const ref = await store.create('tenants/acme/keys', 'v');
    expect(ref.secretRef.startsWith('tenants/acme/keys/')).toBe(true);
    await store.delete(ref);
    await store.delete(ref);
    expect(await store.get(ref)).toBeUndefined();
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
