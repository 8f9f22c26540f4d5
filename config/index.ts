import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_HEALTH_RECHECK_AFTER, DEFAULT_READINESS_TIMEOUT } from '../workflows/activity-options';

/** Domain of the integration users' usernames when INTEGRATION_USERNAME_DOMAIN is not set. */
export const DEFAULT_USERNAME_DOMAIN = 'agent-connections.app';

/**
 * The service's configuration: one zod schema over the environment, parsed once at start-up. An invalid value stops
 * the process with a message naming the variable. Temporal's connection is configured apart, by the standard
 * TEMPORAL_* variables and profile file (see temporal-connection.ts).
 */
const durationPattern = /^\d+\s*(ms|milliseconds?|s|seconds?|m|minutes?|h|hours?)$/;
const hostPort = /^[A-Za-z0-9.:[\]-]+:\d{1,5}$/;
/** "true"/"1"/"yes" and "false"/"0"/"no"/"": unlike z.coerce.boolean, "false" is false. */
const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');
/** An optional setting where an empty value (`VAR=`, compose's `${VAR:-}`) means unset. */
const unsetWhenEmpty = <T extends z.ZodType>(inner: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), inner.optional());

const schema = z
  .object({
    DATA_DIR: z.string().default('.data'),
    API_HOST: z.string().default('127.0.0.1'),
    API_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    TASK_QUEUE: z.string().min(1).default('agent-connections'),
    /**
     * Where secrets live: `file` (AES-256-GCM files under SECRETS_DIR, every process mounting the same folder) or
     * `vault` (OpenBao or HashiCorp Vault, KV version 2, over HTTP: nothing to mount).
     */
    SECRETS_BACKEND: z.enum(['file', 'vault']).default('file'),
    SECRETS_DIR: z.string().optional(),
    /** `id:base64key[,id:base64key]`, 32-byte keys; the last one encrypts. */
    SECRETS_MASTER_KEYS: z.string().optional(),
    /** OpenBao/Vault server, e.g. `https://openbao.internal:8200` (SECRETS_BACKEND=vault). */
    VAULT_ADDR: unsetWhenEmpty(
      z
        .string()
        .regex(
          /^https?:\/\/[^/\s]+\/?$/,
          'must be a URL such as https://openbao.internal:8200 (http or https, no path)',
        ),
    ),
    /** Namespace (OpenBao namespaces, Vault Enterprise/HCP); unset for the root namespace. */
    VAULT_NAMESPACE: unsetWhenEmpty(z.string().min(1)),
    /** A token (static, renewed while it is renewable); or AppRole below. */
    VAULT_TOKEN: unsetWhenEmpty(z.string().min(1)),
    /** AppRole credentials: the service logs in, renews its token and logs in again when it expires. */
    VAULT_ROLE_ID: unsetWhenEmpty(z.string().min(1)),
    VAULT_SECRET_ID: unsetWhenEmpty(z.string().min(1)),
    /** Where the AppRole auth method is mounted. */
    VAULT_APPROLE_MOUNT: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, 'must be a mount path such as approle')
      .default('approle'),
    /** The KV version 2 secrets engine's mount. */
    VAULT_KV_MOUNT: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, 'must be a mount path such as secret')
      .default('secret'),
    /** Every secret of the service lives under this path of the mount: `<mount>/data/<prefix>/tenants/...`. */
    VAULT_PATH_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, 'must be a path such as agent-connections (no leading /)')
      .refine((p) => !p.split('/').some((segment) => segment === '.' || segment === '..'), 'must not contain . or ..')
      .default('agent-connections'),
    /** A PEM CA bundle to trust for an https VAULT_ADDR with a private CA. */
    VAULT_CACERT: unsetWhenEmpty(z.string().min(1)),
    /** How long one request to OpenBao/Vault may take. */
    VAULT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
    /** Keys of the payload codec that encrypts Temporal payloads, same format; the last one encrypts. */
    PAYLOAD_CODEC_KEYS: z.string().optional(),
    SALESFORCE_API_VERSION: z
      .string()
      .regex(/^\d{2}\.0$/, 'must look like 66.0')
      .default('66.0'),
    SALESFORCE_CLIENT_ID: z.string().optional(),
    SALESFORCE_CLIENT_SECRET: z.string().optional(),
    /**
     * The API's address as browsers reach it (`https://connections.example.com`): Sign in with Salesforce's callback
     * is `<API_PUBLIC_URL>/v1/oauth/salesforce/callback`. Default: http://API_HOST:API_PORT.
     */
    API_PUBLIC_URL: unsetWhenEmpty(
      z
        .string()
        .regex(/^https?:\/\/[^/\s?#]+(\/[^\s?#]*)?$/, 'must be an http(s) URL without query or fragment')
        .transform((value) => value.replace(/\/+$/, '')),
    ),
    READINESS_TIMEOUT: z
      .string()
      .regex(durationPattern, 'must be a duration such as "15 minutes"')
      .default(DEFAULT_READINESS_TIMEOUT),
    INTEGRATION_USERNAME_DOMAIN: z
      .string()
      .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'must be a domain name')
      .max(32, 'must be at most 32 characters (Salesforce usernames have at most 80)')
      .default(DEFAULT_USERNAME_DOMAIN),
    CONTACT_EMAIL: z.string().email().default('salesforce-admin@agent-connections.app'),
    CERTIFICATE_VALIDITY_DAYS: z.coerce.number().int().min(1).max(3650).default(365),
    /** The JWT certificate is rotated this many days before it expires. */
    CERTIFICATE_ROTATE_BEFORE_DAYS: z.coerce.number().int().min(1).max(365).default(30),
    /** How often each enabled connection is checked end to end, by a Temporal Schedule. */
    HEALTH_CHECK_INTERVAL: z.string().regex(durationPattern, 'must be a duration such as "1 hour"').default('1 hour'),
    /** A failed health check is confirmed by a second one this long after before the connection goes to error. */
    HEALTH_RECHECK_AFTER: z
      .string()
      .regex(durationPattern, 'must be a duration such as "30 seconds"')
      .default(DEFAULT_HEALTH_RECHECK_AFTER),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /**
     * API keys, hashed: `id:scope[+scope]:sha256hex[:tenantId]` entries separated by commas (scopes: admin, read,
     * agent). Without API_KEYS and API_KEYS_FILE, an API on a loopback address generates a local admin key into
     * DATA_DIR/local-admin.key; elsewhere it refuses to start.
     */
    API_KEYS: z.string().optional(),
    /** A JSON file of `[{ id, sha256, scopes, tenantId? }]`, read at start-up. */
    API_KEYS_FILE: z.string().optional(),
    /** When set (comma-separated), the only tenants the API knows; any other answers 404. */
    API_TENANTS: z.string().optional(),
    API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(300),
    /** How long the API waits for the connection workflow to accept an operation before answering 503. */
    API_UPDATE_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
    API_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(10_485_760).default(65_536),
    /**
     * The API's HTTP server: how long a client may take to send a request's headers (headersTimeout), the whole
     * request (requestTimeout), and how long an idle keep-alive connection stays open (keepAliveTimeout). Node's
     * defaults (60 s, 300 s) let slow clients hold connections for minutes.
     */
    API_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
    API_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
    API_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
    /** How long in-flight requests may take to finish on SIGTERM. */
    API_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
    /**
     * Lifetime assumed for the integration user's access tokens (Salesforce does not return it with the JWT bearer
     * flow; it is the org's session timeout, 15 minutes at the shortest). The broker renews a minute before.
     */
    AGENT_TOKEN_TTL_SECONDS: z.coerce.number().int().min(120).max(86_400).default(900),
    /**
     * Web UI origins allowed to call the codec endpoint (CORS, with credentials), comma-separated. The dev server's UI
     * by default; the docker UI is http://localhost:8080.
     */
    CODEC_CORS_ORIGINS: z.string().default('http://localhost:8233,http://127.0.0.1:8233'),
    /**
     * Who may decode payloads through `/codec`: `key` needs a bearer API key with the `codec` scope; `key-or-local-ui`
     * (default) also lets the loopback Web UI in without a key, only while the API itself listens on loopback (the UI
     * sends no Authorization header to an http endpoint); `none` trusts the network (behind an authenticating proxy).
     */
    CODEC_AUTH: z.enum(['key', 'key-or-local-ui', 'none']).default('key-or-local-ui'),
    CODEC_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(104_857_600).default(4_194_304),
    /** Payloads in one codec request; the Web UI sends a handful at a time. */
    CODEC_MAX_PAYLOADS: z.coerce.number().int().min(1).max(10_000).default(1000),
    /** Codec requests per minute per API key, or per client address for keyless callers (the local Web UI). */
    CODEC_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(600),
    /** Worker threads that run large codec requests off the event loop; default: one fewer than the cores (1 to 4). */
    CODEC_WORKER_THREADS: z.coerce.number().int().min(1).max(64).optional(),
    /** `/metrics` on the API needs a bearer key with the `metrics` scope unless this is true (a private network). */
    API_METRICS_PUBLIC: booleanFlag.default(false),
    /** `host:port` of the worker's `/metrics` and `/healthz`; empty turns it off. */
    WORKER_METRICS_ADDRESS: z.string().regex(hostPort, 'must be host:port').or(z.literal('')).default(''),
    /**
     * Where the SDK's own Prometheus exporter (Rust core) binds; the worker's `/metrics` appends its series. Defaults
     * to the loopback port after WORKER_METRICS_ADDRESS's.
     */
    TEMPORAL_SDK_METRICS_ADDRESS: z.string().regex(hostPort, 'must be host:port').optional(),
    /** A workflow bundle built ahead (`npm run build:workflows`); unset, the worker bundles its sources at start. */
    WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),
    /** The most activities the service queue's worker (sagas, health checks) runs at once (the SDK's 100). */
    WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(10_000).optional(),
    /**
     * The host CPU share (0.1–1) up to which the service queue's worker takes more activities than 2 (the SDK's
     * resource-based slots): what is left keeps admission and the API prompt when background work could take every
     * core. Activities that mostly wait on Salesforce use little CPU and are not held back. 1: fixed slots.
     */
    WORKER_TARGET_CPU_USAGE: z.coerce.number().min(0.1).max(1).default(0.7),
    WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).max(10_000).optional(),
    WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(1_000_000).optional(),
    /**
     * Slots of the readiness queue's worker (`<TASK_QUEUE>-readiness`): how many operations per process can wait for
     * Salesforce to make their app usable at once. A wait is a few-second probe loop, mostly asleep: cheap to hold.
     */
    WORKER_MAX_CONCURRENT_READINESS_WAITS: z.coerce.number().int().min(1).max(10_000).default(500),
    /** How long in-flight activities get to finish on SIGTERM before they are cancelled. */
    WORKER_SHUTDOWN_GRACE_TIME: z
      .string()
      .regex(durationPattern, 'must be a duration such as "30 seconds"')
      .default('30 seconds'),
    /** OpenTelemetry tracing through the SDK's interceptors (client, workflows, activities). */
    OTEL_ENABLED: booleanFlag.default(false),
    /** OTLP/HTTP traces endpoint; the exporter's standard OTEL_EXPORTER_OTLP_* variables apply when unset. */
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().url().optional(),
    OTEL_SERVICE_NAME: z.string().min(1).default('agent-connections'),
    /** Where connection events are POSTed as Standard Webhooks messages; unset, none are sent. */
    WEBHOOK_URL: unsetWhenEmpty(
      z
        .string()
        .url()
        .regex(/^https?:\/\//, 'must be an http or https URL'),
    ),
    /** The Standard Webhooks signing secret, `whsec_` followed by base64 (24 to 64 bytes); required with WEBHOOK_URL. */
    WEBHOOK_SECRET: unsetWhenEmpty(
      z
        .string()
        .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'must be whsec_ followed by base64')
        .refine((s) => {
          const bytes = Buffer.from(s.slice('whsec_'.length), 'base64').length;
          return bytes >= 24 && bytes <= 64;
        }, 'must hold 24 to 64 bytes of key after whsec_'),
    ),
    /** Where the audit trail lives: `embedded` (PGlite under DATA_DIR/audit) or `postgres` (AUDIT_DATABASE_URL). */
    AUDIT_STORE: z.enum(['embedded', 'postgres']).default('embedded'),
    /** `postgres://user:password@host:5432/db`: required with AUDIT_STORE=postgres. */
    AUDIT_DATABASE_URL: unsetWhenEmpty(z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')),
  })
  .superRefine((config, ctx) => {
    if (config.WEBHOOK_URL && !config.WEBHOOK_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['WEBHOOK_SECRET'], message: 'is required with WEBHOOK_URL' });
    }
    if (config.AUDIT_STORE === 'postgres' && !config.AUDIT_DATABASE_URL) {
      ctx.addIssue({ code: 'custom', path: ['AUDIT_DATABASE_URL'], message: 'is required with AUDIT_STORE=postgres' });
    }
    if (config.SECRETS_BACKEND !== 'vault') return;
    const issue = (variable: string, message: string) => ctx.addIssue({ code: 'custom', path: [variable], message });
    if (!config.VAULT_ADDR) issue('VAULT_ADDR', 'is required when SECRETS_BACKEND=vault');
    const approle = Boolean(config.VAULT_ROLE_ID || config.VAULT_SECRET_ID);
    if (config.VAULT_TOKEN && approle) {
      issue('VAULT_TOKEN', 'set either VAULT_TOKEN or VAULT_ROLE_ID with VAULT_SECRET_ID, not both');
    } else if (!config.VAULT_TOKEN && !approle) {
      issue('VAULT_TOKEN', 'SECRETS_BACKEND=vault needs VAULT_TOKEN, or VAULT_ROLE_ID with VAULT_SECRET_ID (AppRole)');
    } else if (approle && !config.VAULT_ROLE_ID) {
      issue('VAULT_ROLE_ID', 'is required with VAULT_SECRET_ID (AppRole)');
    } else if (approle && !config.VAULT_SECRET_ID) {
      issue('VAULT_SECRET_ID', 'is required with VAULT_ROLE_ID (AppRole)');
    }
  });

/** Webhook delivery settings, when WEBHOOK_URL is set. */
export function webhookSettings(
  config: Pick<AppConfig, 'WEBHOOK_URL' | 'WEBHOOK_SECRET'>,
): { url: string; secret: string } | undefined {
  return config.WEBHOOK_URL && config.WEBHOOK_SECRET
    ? { url: config.WEBHOOK_URL, secret: config.WEBHOOK_SECRET }
    : undefined;
}

export type AppConfig = z.infer<typeof schema> & { secretsDir: string };

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  const config = parsed.data;
  if (config.API_HEADERS_TIMEOUT_MS > config.API_REQUEST_TIMEOUT_MS) {
    throw new Error(
      'Invalid configuration: API_HEADERS_TIMEOUT_MS must not exceed API_REQUEST_TIMEOUT_MS (the headers are part of the request)',
    );
  }
  return { ...config, secretsDir: config.SECRETS_DIR ?? path.join(config.DATA_DIR, 'secrets') };
}

/** Where Salesforce sends the admin back after Sign in with Salesforce: register it on the OAuth client. */
export function signInCallbackUrl(config: Pick<AppConfig, 'API_PUBLIC_URL' | 'API_HOST' | 'API_PORT'>): string {
  const host = config.API_HOST.includes(':') ? `[${config.API_HOST}]` : config.API_HOST;
  return `${config.API_PUBLIC_URL ?? `http://${host}:${config.API_PORT}`}/v1/oauth/salesforce/callback`;
}

/**
 * The service's own OAuth client, when configured: admins sign in with Salesforce through it, and it refreshes an
 * admin's expired access token.
 */
export function serviceOAuthClient(
  config: Pick<AppConfig, 'SALESFORCE_CLIENT_ID' | 'SALESFORCE_CLIENT_SECRET'>,
): { clientId: string; clientSecret: string } | undefined {
  return config.SALESFORCE_CLIENT_ID && config.SALESFORCE_CLIENT_SECRET
    ? { clientId: config.SALESFORCE_CLIENT_ID, clientSecret: config.SALESFORCE_CLIENT_SECRET }
    : undefined;
}
