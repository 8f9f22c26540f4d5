import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { RequestHandler, Response } from 'express';
import { z } from 'zod';
import { problems } from './problem';

/**
 * Bearer API keys. Only their SHA-256 hashes are configured and kept; a key is random (256 bits), so a plain hash is
 * as strong as a slow one here and lets every request be checked in constant time.
 *
 * - `admin`: operations on connections and the agent configuration, plus everything `read` allows.
 * - `read`: the connection, its operations and the agent configuration.
 * - `agent`: the agent's token broker only, separate from the admin's credentials.
 * - `codec`: the codec endpoint (`/codec/encode`, `/codec/decode`), for operators' tools; it decrypts payloads.
 * - `metrics`: `/metrics`, for a Prometheus scraper.
 * - `fleet`: fleet operations (one operation over many tenants, `/v1/fleet-operations`). Not implied by `admin`: as
 *   with `agent`, `codec` and `metrics`, `admin` implies only `read`; acting on every tenant at once is granted apart.
 */
const SCOPES = ['admin', 'read', 'agent', 'codec', 'metrics', 'fleet'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKey {
  id: string;
  sha256: string;
  scopes: Scope[];
  /** A key bound to a tenant sees no other tenant: they answer 404, as if they did not exist. */
  tenantId?: string;
}

export interface Principal {
  keyId: string;
  scopes: Scope[];
  tenantId?: string;
}

const apiKeySchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1 to 64 letters, digits, ".", "_" or "-"'),
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be a hex SHA-256 digest')
    .transform((hex) => hex.toLowerCase()),
  scopes: z.array(z.enum(SCOPES)).min(1),
  tenantId: z.string().min(1).optional(),
});

export function hashApiKey(rawKey: string): string {
  return createHash('sha256').update(rawKey, 'utf8').digest('hex');
}

/** A new random key, in a form that is easy to recognise in a leak scanner. */
export function generateApiKey(): string {
  return `acsk_${randomBytes(32).toString('base64url')}`;
}

/** `id:scope[+scope]:sha256hex[:tenantId]`, comma-separated. */
function parseApiKeySpec(spec: string): ApiKey[] {
  return spec
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry, index) => {
      const [id, scopes, sha256, tenantId] = entry.split(':');
      const parsed = apiKeySchema.safeParse({ id, sha256, scopes: scopes?.split('+') ?? [], tenantId });
      if (!parsed.success) {
        const why = parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ');
        throw new Error(`API_KEYS entry ${index + 1} is invalid: ${why}`);
      }
      return parsed.data;
    });
}

function parseApiKeyFile(file: string): ApiKey[] {
  const parsed = z.array(apiKeySchema).safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `[${i.path.join('.')}] ${i.message}`).join('; ');
    throw new Error(`API_KEYS_FILE ${file} is invalid: ${why}`);
  }
  return parsed.data;
}

export const LOCAL_ADMIN_KEY_FILE = 'local-admin.key';

/**
 * The keys of a process: from API_KEYS and API_KEYS_FILE; with neither, and only on a loopback address, a local admin
 * key kept (0600) in the data folder so that `npm start` works out of the box. Anywhere else, no key means no start.
 */
export function loadApiKeys(options: {
  spec?: string;
  file?: string;
  host: string;
  dataDir: string;
  info?: (message: string) => void;
}): ApiKey[] {
  const keys = [
    ...(options.spec ? parseApiKeySpec(options.spec) : []),
    ...(options.file ? parseApiKeyFile(options.file) : []),
  ];
  if (keys.length > 0) return keys;
  if (!['127.0.0.1', 'localhost', '::1'].includes(options.host)) {
    throw new Error('No API key is configured: set API_KEYS or API_KEYS_FILE (the API listens beyond loopback)');
  }
  const keyFile = path.join(options.dataDir, LOCAL_ADMIN_KEY_FILE);
  let raw: string;
  try {
    raw = fs.readFileSync(keyFile, 'utf8').trim();
  } catch {
    raw = generateApiKey();
    fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(keyFile, `${raw}\n`, { mode: 0o600 });
  }
  options.info?.(`no API key configured: using the local admin key in ${keyFile}`);
  return [{ id: 'local-admin', sha256: hashApiKey(raw), scopes: ['admin'] }];
}

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new Error('route reached without authentication');
  return principal;
}

/** Checks the bearer key; on success the principal is in `res.locals.principal`. */
export function authenticate(keys: ApiKey[]): RequestHandler {
  const byHash = new Map(keys.map((key) => [key.sha256, key]));
  return (req, res, next) => {
    const header = req.get('authorization');
    if (!header) throw problems.unauthenticated('Send an API key: Authorization: Bearer <key>.');
    const match = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header);
    if (!match?.[1]) throw problems.unauthenticated('The Authorization header must be "Bearer <key>".');
    const digest = hashApiKey(match[1]);
    const key = byHash.get(digest);
    // The map lookup is on a digest of a secret, which leaks nothing; the compare below is belt and braces.
    if (!key || !timingSafeEqual(Buffer.from(key.sha256, 'hex'), Buffer.from(digest, 'hex'))) {
      throw problems.unauthenticated('The API key is not valid.');
    }
    res.locals.principal = { keyId: key.id, scopes: key.scopes, tenantId: key.tenantId } satisfies Principal;
    next();
  };
}

function allows(principal: Principal, scope: Scope): boolean {
  return principal.scopes.includes(scope) || (scope === 'read' && principal.scopes.includes('admin'));
}

export function requireScope(scope: Scope): RequestHandler {
  return (_req, res, next) => {
    const principal = principalOf(res);
    if (!allows(principal, scope)) {
      throw problems.forbidden(`This API key may not do this: it needs the "${scope}" scope.`);
    }
    next();
  };
}

/** Tenant isolation, and the optional list of known tenants: both answer 404, so that nothing leaks about others. */
export function assertTenantVisible(principal: Principal, tenantId: string, knownTenants?: ReadonlySet<string>): void {
  if ((principal.tenantId && principal.tenantId !== tenantId) || (knownTenants && !knownTenants.has(tenantId))) {
    throw problems.notFound(`No tenant ${tenantId}.`);
  }
}
