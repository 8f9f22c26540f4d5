import { createCipheriv, createDecipheriv, createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { SecretRef } from '../workflows/definitions';

/**
 * Where secrets live: admin OAuth tokens and the generated private keys. Workflows carry only `SecretRef`s.
 * Any store with these four operations fits: the default below keeps each secret in its own AES-256-GCM encrypted
 * file; `VaultSecretStore` (vault-secret-store.ts) keeps them in OpenBao or Vault. `openSecretStore` (index.ts)
 * opens the configured one. test/unit/secret-store.test.ts is the contract every store passes.
 */
export interface SecretStore {
  /** Stores `value` under a reference of the caller's choosing (idempotent: a retry writes the same). */
  put(ref: string, value: string): Promise<SecretRef>;
  /** Stores `value` under a new random reference starting with `prefix`. */
  create(prefix: string, value: string): Promise<SecretRef>;
  /** The value, or undefined when there is none (never throws for a missing secret). */
  get(ref: SecretRef): Promise<string | undefined>;
  /** Removes the value for good; succeeds when it is already gone. */
  delete(ref: SecretRef): Promise<void>;
  /** Ends background work (a token's renewal), for a caller that is done with the store. */
  close?(): Promise<void>;
}

export interface MasterKey {
  id: string;
  key: Buffer;
}

interface SealedSecret {
  ref: string;
  keyId: string;
  iv: string;
  tag: string;
  data: string;
}

/** Parses `id:base64key[,id:base64key...]`; the last key encrypts, all of them decrypt (rotation). */
export function parseMasterKeys(spec: string): MasterKey[] {
  const keys = spec
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [id, encoded] = entry.includes(':') ? entry.split(':', 2) : ['k1', entry];
      const key = Buffer.from(encoded ?? '', 'base64');
      if (!id || key.length !== 32) throw new Error(`master key "${id}" must be 32 bytes, base64-encoded`);
      return { id, key };
    });
  if (keys.length === 0) throw new Error('at least one master key is required');
  return keys;
}

export class EncryptedFileSecretStore implements SecretStore {
  private readonly current: MasterKey;

  constructor(
    private readonly dir: string,
    private readonly keys: MasterKey[],
  ) {
    const newest = keys[keys.length - 1];
    if (!newest) throw new Error('at least one master key is required');
    this.current = newest;
  }

  async put(ref: string, value: string): Promise<SecretRef> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(ref));
    const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    const sealed: SealedSecret = {
      ref,
      keyId: this.current.id,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = this.fileOf(ref);
    const partial = `${file}.${randomUUID()}.partial`;
    await fs.writeFile(partial, JSON.stringify(sealed), { mode: 0o600 });
    await fs.rename(partial, file);
    return { secretRef: ref };
  }

  async create(prefix: string, value: string): Promise<SecretRef> {
    return this.put(`${prefix}/${randomUUID()}`, value);
  }

  async get({ secretRef }: SecretRef): Promise<string | undefined> {
    let sealed: SealedSecret;
    try {
      sealed = JSON.parse(await fs.readFile(this.fileOf(secretRef), 'utf8')) as SealedSecret;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const key = this.keys.find((k) => k.id === sealed.keyId);
    if (!key) throw new Error(`secret ${secretRef} is sealed with unknown master key "${sealed.keyId}"`);
    const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(Buffer.from(secretRef));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
  }

  async delete({ secretRef }: SecretRef): Promise<void> {
    await fs.rm(this.fileOf(secretRef), { force: true });
  }

  /** Re-seals every secret with the newest master key, so that older keys can be retired. */
  async reseal(): Promise<number> {
    let count = 0;
    for (const name of await fs.readdir(this.dir).catch(() => [] as string[])) {
      if (!name.endsWith('.json')) continue;
      const sealed = JSON.parse(await fs.readFile(path.join(this.dir, name), 'utf8')) as SealedSecret;
      if (sealed.keyId === this.current.id) continue;
      const value = await this.get({ secretRef: sealed.ref });
      if (value !== undefined) {
        await this.put(sealed.ref, value);
        count += 1;
      }
    }
    return count;
  }

  /** The references of every stored secret (each file records its own), to copy the store elsewhere. */
  async refs(): Promise<string[]> {
    const refs: string[] = [];
    for (const name of await fs.readdir(this.dir).catch(() => [] as string[])) {
      if (!name.endsWith('.json')) continue;
      refs.push((JSON.parse(await fs.readFile(path.join(this.dir, name), 'utf8')) as SealedSecret).ref);
    }
    return refs.sort();
  }

  /** How many secrets each master key seals (rotation is done when only the newest one is left). */
  async keyUsage(): Promise<Record<string, number>> {
    const usage: Record<string, number> = {};
    for (const name of await fs.readdir(this.dir).catch(() => [] as string[])) {
      if (!name.endsWith('.json')) continue;
      const { keyId } = JSON.parse(await fs.readFile(path.join(this.dir, name), 'utf8')) as SealedSecret;
      usage[keyId] = (usage[keyId] ?? 0) + 1;
    }
    return usage;
  }

  /** The id of the key that seals new secrets. */
  get currentKeyId(): string {
    return this.current.id;
  }

  private fileOf(ref: string): string {
    return path.join(this.dir, `${createHash('sha256').update(ref).digest('hex')}.json`);
  }
}

/**
 * Opens the file store. Without SECRETS_MASTER_KEYS (a laptop, `npm start`), a key is generated once into the data
 * folder so that the API and the worker share it; production sets the variable from its secret manager.
 */
export async function openFileSecretStore(options: {
  dir: string;
  masterKeys?: string;
  dataDir: string;
  warn?: (message: string) => void;
}): Promise<EncryptedFileSecretStore> {
  if (options.masterKeys) return new EncryptedFileSecretStore(options.dir, parseMasterKeys(options.masterKeys));
  const keyFile = path.join(options.dataDir, 'master.key');
  let spec: string;
  try {
    spec = (await fs.readFile(keyFile, 'utf8')).trim();
  } catch {
    spec = `dev:${randomBytes(32).toString('base64')}`;
    await fs.mkdir(options.dataDir, { recursive: true });
    await fs.writeFile(keyFile, spec, { mode: 0o600, flag: 'wx' }).catch(async () => {
      spec = (await fs.readFile(keyFile, 'utf8')).trim();
    });
    options.warn?.(`SECRETS_MASTER_KEYS is not set: using a generated development key in ${keyFile}`);
  }
  return new EncryptedFileSecretStore(options.dir, parseMasterKeys(spec));
}
