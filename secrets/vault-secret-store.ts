import { randomUUID } from 'node:crypto';
import NodeVault from 'node-vault';
import type { SecretRef } from '../workflows/definitions';
import type { SecretStore } from './secret-store';

/**
 * The secret store on OpenBao or HashiCorp Vault (their HTTP APIs are the same), through `node-vault`: each secret
 * is one KV version 2 entry, `<mount>/data/<prefix>/<reference>` holding `{ value }`, so every API and worker
 * process on any machine reads the same secrets with nothing mounted. OpenBao encrypts what it stores with its own
 * keyring (rotated with `bao operator rotate`), so values are not wrapped again here.
 *
 * Authentication: a token (VAULT_TOKEN, renewed in the background while it is renewable), or AppRole (VAULT_ROLE_ID
 * and VAULT_SECRET_ID): the store logs in, renews its token, and logs in again when the token is about to expire,
 * could not be renewed, or is refused. Errors name the variable or the path at fault and the server's reason; they
 * never carry a secret value or a token (the HTTP library's errors, which hold both, are never passed on).
 */
export type VaultAuth =
  { kind: 'token'; token: string } | { kind: 'approle'; roleId: string; secretId: string; mount?: string };

export interface VaultSecretStoreOptions {
  /** VAULT_ADDR, e.g. `https://openbao.internal:8200`. */
  address: string;
  namespace?: string;
  auth: VaultAuth;
  /** The KV version 2 mount (VAULT_KV_MOUNT), `secret` by default. */
  kvMount?: string;
  /** The path under the mount that holds the service's secrets (VAULT_PATH_PREFIX). */
  pathPrefix?: string;
  /** A PEM CA bundle for an https address with a private CA. */
  caCert?: string;
  timeoutMs?: number;
  log?: { info(message: string): void; warn(message: string): void };
}

/** A secret-store failure: what was being done, where, and the server's reason. No value, no token. */
export class SecretStoreError extends Error {
  constructor(
    message: string,
    /** The HTTP status OpenBao answered, when it answered. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'SecretStoreError';
  }
}

interface KvReadResponse {
  data?: { data?: { value?: unknown } };
}

interface AuthResponse {
  auth?: { client_token?: string; lease_duration?: number; renewable?: boolean };
}

interface LookupSelfResponse {
  data?: { ttl?: number; renewable?: boolean };
}

interface MountResponse {
  data?: { type?: string; options?: { version?: string } | null };
}

/** The status and the reason of a failed node-vault call, from its own error or the HTTP library's. */
function failureOf(err: unknown): { status?: number; reason: string } {
  const e = err as { response?: { statusCode?: number }; code?: string; message?: string };
  const status = typeof e?.response?.statusCode === 'number' ? e.response.statusCode : undefined;
  if (status !== undefined) {
    // node-vault's message is the server's first error (e.g. "permission denied"), or "Status <code>".
    const reason = e.message && e.message !== `Status ${status}` ? e.message : `HTTP ${status}`;
    return { status, reason };
  }
  if (e?.code === 'ECONNABORTED' || e?.code === 'ETIMEDOUT') return { reason: 'no answer in time' };
  if (e?.code) return { reason: e.code };
  return { reason: 'request failed' };
}

export class VaultSecretStore implements SecretStore {
  private readonly client: NodeVault.client;
  private readonly kvMount: string;
  private readonly prefix: string[];
  /** When the current token stops working (ms since the epoch); 0 before the first login. */
  private expiresAt = 0;
  /** The token's lifetime when it was issued or last renewed, to log in again a little before it ends. */
  private ttlMs = 0;
  private authenticating: Promise<void> | undefined;
  private logins = 0;

  private constructor(private readonly options: VaultSecretStoreOptions) {
    this.kvMount = options.kvMount ?? 'secret';
    this.prefix = (options.pathPrefix ?? 'agent-connections').split('/').filter(Boolean);
    this.client = NodeVault({
      endpoint: options.address,
      ...(options.namespace ? { namespace: options.namespace } : {}),
      // Never log: node-vault's debug output would print the values it writes.
      debug: () => undefined,
      requestOptions: {
        timeout: options.timeoutMs ?? 10_000,
        ...(options.caCert ? { ca: options.caCert } : {}),
      },
    });
    // Exactly the configured credentials: node-vault would otherwise fall back to VAULT_TOKEN and VAULT_PREFIX.
    this.client.token = options.auth.kind === 'token' ? options.auth.token : '';
    Object.assign(this.client, { pathPrefix: '' });
    this.client.on('token:renewed', (result: AuthResponse) => {
      const seconds = result.auth?.lease_duration ?? 0;
      if (seconds > 0) this.setLifetime(seconds);
    });
    this.client.on('token:expired', () => this.tokenLost('it can no longer be renewed'));
    this.client.on('token:error:renew', (err: unknown) => this.tokenLost(`renewal failed: ${failureOf(err).reason}`));
  }

  /**
   * Connects and checks everything once, so that a wrong setting stops the process at start-up with its name: the
   * address (VAULT_ADDR), the credentials (VAULT_TOKEN or VAULT_ROLE_ID/VAULT_SECRET_ID), the mount (VAULT_KV_MOUNT).
   */
  static async open(options: VaultSecretStoreOptions): Promise<VaultSecretStore> {
    const store = new VaultSecretStore(options);
    await store.authenticate();
    await store.checkMount();
    return store;
  }

  async put(ref: string, value: string): Promise<SecretRef> {
    const path = this.pathOf(ref, 'data');
    await this.call(`store secret ${ref}`, path, () => this.client.write(path, { data: { value } }));
    return { secretRef: ref };
  }

  async create(prefix: string, value: string): Promise<SecretRef> {
    return this.put(`${prefix}/${randomUUID()}`, value);
  }

  async get({ secretRef }: SecretRef): Promise<string | undefined> {
    const path = this.pathOf(secretRef, 'data');
    const response = await this.call(`read secret ${secretRef}`, path, async () => {
      try {
        return (await this.client.read(path)) as KvReadResponse;
      } catch (err) {
        // 404: never written, or deleted (a deleted or destroyed latest version reads as 404 too).
        if (failureOf(err).status === 404) return undefined;
        throw err;
      }
    });
    if (response === undefined) return undefined;
    const value = response.data?.data?.value;
    if (typeof value !== 'string') {
      throw new SecretStoreError(
        `secret ${secretRef} at ${path} has no string "value" field (not written by this service)`,
      );
    }
    return value;
  }

  /** Deletes the metadata, which removes every version: nothing of the secret stays behind to undelete. */
  async delete({ secretRef }: SecretRef): Promise<void> {
    const path = this.pathOf(secretRef, 'metadata');
    await this.call(`delete secret ${secretRef}`, path, async () => {
      try {
        await this.client.delete(path);
      } catch (err) {
        if (failureOf(err).status !== 404) throw err;
      }
    });
  }

  /** How many times the store has logged in (AppRole), for diagnostics and tests. */
  get loginCount(): number {
    return this.logins;
  }

  /** Stops the background token renewal. */
  close(): Promise<void> {
    this.client.stopAllRenewals();
    return Promise.resolve();
  }

  /** `<mount>/<area>/<prefix>/<reference>`, each segment URL-encoded; `.`, `..` and empty segments are refused. */
  private pathOf(ref: string, area: 'data' | 'metadata'): string {
    const segments = ref.split('/');
    if (segments.some((s) => s === '' || s === '.' || s === '..' || [...s].some((c) => c.charCodeAt(0) < 0x20))) {
      throw new SecretStoreError(
        `secret reference "${ref}" is not a valid path (an empty, "." or ".." segment, or a control character)`,
      );
    }
    return [...this.kvMount.split('/'), area, ...this.prefix, ...segments].map(encodeURIComponent).join('/');
  }

  private describeServer(): string {
    return `OpenBao/Vault at ${this.options.address}${this.options.namespace ? ` (namespace ${this.options.namespace})` : ''}`;
  }

  private credentialsName(): string {
    return this.options.auth.kind === 'token' ? 'VAULT_TOKEN' : 'VAULT_ROLE_ID/VAULT_SECRET_ID (AppRole)';
  }

  /** One KV call with a valid token; an AppRole token that is refused is replaced once and the call repeated. */
  private async call<T>(what: string, path: string, fn: () => Promise<T>): Promise<T> {
    await this.ensureToken();
    const tokenUsed = this.client.token;
    try {
      return await fn();
    } catch (err) {
      const failure = failureOf(err);
      if (failure.status === 403 && this.options.auth.kind === 'approle') {
        await this.relogin(tokenUsed);
        try {
          return await fn();
        } catch (again) {
          throw this.error(what, path, failureOf(again));
        }
      }
      throw this.error(what, path, failure);
    }
  }

  private error(what: string, path: string, failure: { status?: number; reason: string }): SecretStoreError {
    const where = `${this.describeServer()}, ${path}`;
    if (failure.status === 403) {
      return new SecretStoreError(
        `could not ${what}: permission denied at ${where}. The token from ${this.credentialsName()} is invalid, ` +
          `expired or revoked, or its policy lacks create/read/update/delete on ${this.kvMount}/data/` +
          `${this.prefix.join('/')}/* and delete on ${this.kvMount}/metadata/${this.prefix.join('/')}/*`,
        403,
      );
    }
    if (failure.status === undefined) return this.unreachable(what, failure.reason);
    return new SecretStoreError(`could not ${what} at ${where}: ${failure.reason}`, failure.status);
  }

  private async ensureToken(): Promise<void> {
    if (this.options.auth.kind === 'token') return;
    // Log in again shortly before the end: a fifth of the lifetime, at most 10 s ahead.
    const margin = Math.min(10_000, this.ttlMs / 5);
    if (this.expiresAt === 0 || Date.now() >= this.expiresAt - margin) await this.relogin(this.client.token);
  }

  /** Logs in again unless another call already replaced `staleToken`; one login at a time. */
  private async relogin(staleToken: string): Promise<void> {
    if (this.authenticating) return this.authenticating;
    if (this.client.token !== staleToken && this.expiresAt > Date.now()) return;
    this.authenticating = this.authenticate().finally(() => {
      this.authenticating = undefined;
    });
    return this.authenticating;
  }

  private async authenticate(): Promise<void> {
    const auth = this.options.auth;
    this.client.stopTokenRenewal();
    if (auth.kind === 'token') {
      let self: LookupSelfResponse;
      try {
        self = (await this.client.tokenLookupSelf()) as LookupSelfResponse;
      } catch (err) {
        const failure = failureOf(err);
        if (failure.status === 403) {
          throw new SecretStoreError(
            `${this.describeServer()} refused VAULT_TOKEN (permission denied): the token is invalid, expired or revoked`,
            403,
          );
        }
        throw this.startupError('look up VAULT_TOKEN', failure);
      }
      const ttl = self.data?.ttl ?? 0;
      this.setLifetime(ttl);
      if (ttl > 0 && self.data?.renewable) await this.client.startTokenRenewal({ ttl });
      else if (ttl > 0) this.options.log?.warn(`VAULT_TOKEN is not renewable: it expires in ${ttl} s`);
      return;
    }
    let result: AuthResponse;
    try {
      this.client.token = '';
      result = (await this.client.approleLogin({
        ...(auth.mount ? { mount_point: auth.mount } : {}),
        role_id: auth.roleId,
        secret_id: auth.secretId,
      })) as AuthResponse;
    } catch (err) {
      const failure = failureOf(err);
      if (failure.status === 400 || failure.status === 403) {
        throw new SecretStoreError(
          `${this.describeServer()} refused the AppRole login at auth/${auth.mount ?? 'approle'} (${failure.reason}): ` +
            'check VAULT_ROLE_ID and VAULT_SECRET_ID (a secret id can expire or be used up) and VAULT_APPROLE_MOUNT',
          failure.status,
        );
      }
      throw this.startupError(`log in with AppRole at auth/${auth.mount ?? 'approle'}`, failure);
    }
    const seconds = result.auth?.lease_duration ?? 0;
    this.setLifetime(seconds);
    this.logins += 1;
    if (seconds > 0 && result.auth?.renewable) await this.client.startTokenRenewal({ ttl: seconds });
    if (this.logins > 1) this.options.log?.info('secret store: logged in again with AppRole');
  }

  private unreachable(what: string, reason: string): SecretStoreError {
    const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(reason)
      ? ' (its TLS certificate is not trusted: set VAULT_CACERT to the CA that signed it)'
      : '';
    return new SecretStoreError(
      `could not ${what}: cannot reach ${this.describeServer()} (VAULT_ADDR): ${reason}${tls}`,
    );
  }

  private startupError(what: string, failure: { status?: number; reason: string }): SecretStoreError {
    if (failure.status === undefined) return this.unreachable(what, failure.reason);
    return new SecretStoreError(`could not ${what} at ${this.describeServer()}: ${failure.reason}`, failure.status);
  }

  /** The mount must be a KV version 2 engine the token may use. */
  private async checkMount(): Promise<void> {
    const path = `sys/internal/ui/mounts/${this.kvMount.split('/').map(encodeURIComponent).join('/')}`;
    let mount: MountResponse;
    try {
      mount = (await this.client.read(path)) as MountResponse;
    } catch (err) {
      const failure = failureOf(err);
      if (failure.status === 403 || failure.status === 400 || failure.status === 404) {
        throw new SecretStoreError(
          `VAULT_KV_MOUNT=${this.kvMount}: no secrets engine is mounted there at ${this.describeServer()}, or the ` +
            `token from ${this.credentialsName()} may use nothing in it (${failure.reason})`,
          failure.status,
        );
      }
      throw this.startupError(`check VAULT_KV_MOUNT=${this.kvMount}`, failure);
    }
    const type = mount.data?.type;
    const version = mount.data?.options?.version;
    if (type !== 'kv' || version !== '2') {
      throw new SecretStoreError(
        `VAULT_KV_MOUNT=${this.kvMount} is ${type === 'kv' ? `KV version ${version ?? '1'}` : `a "${type}" engine`}; ` +
          `the store needs KV version 2 (bao secrets enable -version=2 -path=${this.kvMount} kv)`,
      );
    }
  }

  private setLifetime(seconds: number): void {
    this.ttlMs = seconds * 1000;
    this.expiresAt = seconds > 0 ? Date.now() + this.ttlMs : Number.POSITIVE_INFINITY;
  }

  private tokenLost(why: string): void {
    if (this.options.auth.kind === 'approle') {
      // The next call logs in again.
      this.expiresAt = Math.min(this.expiresAt, Date.now());
      return;
    }
    this.options.log?.warn(`secret store: VAULT_TOKEN ${why}; replace it before it expires`);
  }
}
