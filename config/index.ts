import path from 'node:path';
import { z } from 'zod';

/**
 * The service's configuration: one zod schema over the environment, parsed once at start-up. An invalid value stops
 * the process with a message naming the variable. Temporal's connection is configured apart, by the standard
 * TEMPORAL_* variables and profile file (see temporal-connection.ts).
 */
const durationPattern = /^\d+\s*(ms|milliseconds?|s|seconds?|m|minutes?|h|hours?)$/;

const schema = z.object({
  DATA_DIR: z.string().default('.data'),
  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  TASK_QUEUE: z.string().min(1).default('agent-connections'),
  SECRETS_DIR: z.string().optional(),
  /** `id:base64key[,id:base64key]`, 32-byte keys; the last one encrypts. */
  SECRETS_MASTER_KEYS: z.string().optional(),
  /** Keys of the payload codec that encrypts Temporal payloads, same format; the last one encrypts. */
  PAYLOAD_CODEC_KEYS: z.string().optional(),
  SALESFORCE_API_VERSION: z
    .string()
    .regex(/^\d{2}\.0$/, 'must look like 66.0')
    .default('66.0'),
  SALESFORCE_CLIENT_ID: z.string().optional(),
  SALESFORCE_CLIENT_SECRET: z.string().optional(),
  READINESS_TIMEOUT: z.string().regex(durationPattern, 'must be a duration such as "15 minutes"').default('15 minutes'),
  INTEGRATION_USERNAME_DOMAIN: z
    .string()
    .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'must be a domain name')
    .max(32, 'must be at most 32 characters (Salesforce usernames have at most 80)')
    .default('agent-connections.app'),
  CONTACT_EMAIL: z.string().email().default('salesforce-admin@agent-connections.app'),
  CERTIFICATE_VALIDITY_DAYS: z.coerce.number().int().min(1).max(3650).default(365),
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
  /** How long in-flight requests may take to finish on SIGTERM. */
  API_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
  /**
   * Lifetime assumed for the integration user's access tokens (Salesforce does not return it with the JWT bearer
   * flow; it is the org's session timeout, 15 minutes at the shortest). The broker renews a minute before.
   */
  AGENT_TOKEN_TTL_SECONDS: z.coerce.number().int().min(120).max(86_400).default(900),
});

export type AppConfig = z.infer<typeof schema> & { secretsDir: string };

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  const config = parsed.data;
  return { ...config, secretsDir: config.SECRETS_DIR ?? path.join(config.DATA_DIR, 'secrets') };
}
