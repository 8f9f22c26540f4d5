import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { VaultSecretStore } from '../../secrets/vault-secret-store';
import type { VaultSecretStoreOptions } from '../../secrets/vault-secret-store';

/**
 * The OpenBao dev server that the Jest global setup started (TEST_OPENBAO_ADDR, root token TEST_OPENBAO_TOKEN), and
 * what the tests do with it as an operator would: policies, AppRoles, reading KV metadata. Each test works under a
 * path prefix of its own, so files running side by side never see each other's secrets.
 */
export interface OpenBaoServer {
  address: string;
  rootToken: string;
}

export function openBao(): OpenBaoServer {
  const address = process.env.TEST_OPENBAO_ADDR;
  const rootToken = process.env.TEST_OPENBAO_TOKEN;
  if (!address || !rootToken) throw new Error('TEST_OPENBAO_ADDR is not set: run the tests through `npm test`');
  return { address, rootToken };
}

export interface BaoResponse {
  status: number;
  json: { data?: Record<string, unknown>; auth?: Record<string, unknown>; errors?: string[] } | undefined;
}

/** One call to OpenBao's HTTP API, as root unless another token is given; the run's server unless another is. */
export async function baoApi(
  method: string,
  apiPath: string,
  body?: unknown,
  token?: string,
  server: OpenBaoServer = openBao(),
): Promise<BaoResponse> {
  const { address, rootToken } = server;
  const response = await fetch(`${address}/v1/${apiPath}`, {
    method,
    headers: { 'X-Vault-Token': token ?? rootToken, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as BaoResponse['json']) : undefined };
}

/** A fresh path prefix under the dev server's `secret/` KV version 2 mount. */
export function testPrefix(): string {
  return `test-${randomUUID()}`;
}

/** A store on the dev server with the root token, under `prefix`. */
export function rootVaultStore(
  prefix: string,
  options: Partial<VaultSecretStoreOptions> = {},
): Promise<VaultSecretStore> {
  const { address, rootToken } = openBao();
  return VaultSecretStore.open({
    address,
    auth: { kind: 'token', token: rootToken },
    kvMount: 'secret',
    pathPrefix: prefix,
    ...options,
  });
}

const approleMounts = new Map<string, Promise<void>>();

/** Enables the AppRole auth method once per server (every test file shares the dev server). */
function enableAppRole(server: OpenBaoServer): Promise<void> {
  let mounted = approleMounts.get(server.address);
  if (mounted) return mounted;
  mounted = (async () => {
    const enabled = await baoApi('POST', 'sys/auth/approle', { type: 'approle' }, undefined, server);
    // 400 "path is already in use": another test file enabled it first.
    if (enabled.status !== 204 && enabled.status !== 400) {
      throw new Error(`enabling AppRole failed: ${enabled.status} ${JSON.stringify(enabled.json?.errors)}`);
    }
  })();
  approleMounts.set(server.address, mounted);
  return mounted;
}

/** The shipped policy (deploy/openbao/policy.hcl) with the test's prefix in place of `agent-connections`. */
export function servicePolicy(prefix: string): string {
  const file = path.resolve(__dirname, '..', '..', 'deploy', 'openbao', 'policy.hcl');
  return fs.readFileSync(file, 'utf8').replaceAll('/agent-connections/', `/${prefix}/`);
}

export interface TestAppRole {
  roleName: string;
  roleId: string;
  secretId: string;
}

/**
 * An AppRole for the service as an operator sets it up (deploy/openbao/setup.sh does the same with the CLI): the
 * shipped policy over `prefix`, tokens of `tokenTtl`/`tokenMaxTtl` seconds.
 */
export async function createAppRole(
  prefix: string,
  options: { tokenTtl?: number; tokenMaxTtl?: number; server?: OpenBaoServer } = {},
): Promise<TestAppRole> {
  const server = options.server ?? openBao();
  const api = (method: string, apiPath: string, body?: unknown) => baoApi(method, apiPath, body, undefined, server);
  await enableAppRole(server);
  const roleName = `agent-connections-${randomUUID().slice(0, 8)}`;
  const check = (what: string, response: BaoResponse) => {
    if (response.status >= 300) throw new Error(`${what}: ${response.status} ${JSON.stringify(response.json?.errors)}`);
    return response;
  };
  check('policy', await api('PUT', `sys/policies/acl/${roleName}`, { policy: servicePolicy(prefix) }));
  check(
    'role',
    await api('POST', `auth/approle/role/${roleName}`, {
      token_policies: [roleName],
      token_ttl: options.tokenTtl ?? 3600,
      token_max_ttl: options.tokenMaxTtl ?? 14_400,
      secret_id_ttl: 0,
    }),
  );
  const roleId = check('role id', await api('GET', `auth/approle/role/${roleName}/role-id`)).json?.data
    ?.role_id as string;
  const secretId = check('secret id', await api('POST', `auth/approle/role/${roleName}/secret-id`, {})).json?.data
    ?.secret_id as string;
  return { roleName, roleId, secretId };
}

/** Revokes every token the role has issued, as an operator (or an expiry) would. */
export async function revokeTokensOf(roleName: string): Promise<number> {
  const listed = await baoApi('GET', 'auth/token/accessors?list=true');
  let revoked = 0;
  for (const accessor of (listed.json?.data?.keys as string[] | undefined) ?? []) {
    const info = await baoApi('POST', 'auth/token/lookup-accessor', { accessor });
    const meta = info.json?.data?.meta as Record<string, string> | null | undefined;
    if (meta?.role_name !== roleName) continue;
    await baoApi('POST', 'auth/token/revoke-accessor', { accessor });
    revoked += 1;
  }
  return revoked;
}
