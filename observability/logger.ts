import pino from 'pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { tenantOfWorkflowId } from '../workflows/definitions';

/** Field names that hold secrets wherever they appear (up to three levels deep): their values are never written. */
const SECRET_FIELDS = [
  'authorization',
  'Authorization',
  'cookie',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'privateKey',
  'privateKeyPem',
  'private_key',
  'clientSecret',
  'client_secret',
  'assertion',
  'password',
  'apiKey',
  'masterKey',
  'key',
];

const REDACT_PATHS = SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]);

/**
 * Secrets that could hide inside free text (an error message quoting a request, say): PEM private keys, bearer
 * credentials, Salesforce session ids (`00D…!…`), JWTs and this service's API keys. Replaced before a line is written.
 */
const SECRET_PATTERNS: RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=!-]+/gi,
  /\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]+/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g,
  /\bacsk_[A-Za-z0-9_-]{16,}/g,
];

function scrubSecrets(text: string): string {
  return SECRET_PATTERNS.reduce((out, pattern) => out.replace(pattern, '[redacted]'), text);
}

function scrubValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (depth >= 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubValue(v, depth + 1)]));
}

export interface LoggerOptions {
  level: string;
  /** `api` or `worker`: every line says which process wrote it. */
  service: string;
  /** Defaults to stdout. */
  destination?: DestinationStream;
}

/**
 * The service's JSON logger: one line per event with `service`, and where known `tenantId`, `workflowId`, `runId`
 * and `step`. Known secret fields are censored, and secret-looking text in any string is replaced.
 */
export function createLogger(options: LoggerOptions): PinoLogger {
  return pino(
    {
      level: options.level,
      base: { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => scrubValue(object, 0) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((arg) => (typeof arg === 'string' ? scrubSecrets(arg) : arg));
          method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

const PINO_LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * The Temporal runtime's logger, written through pino: workflow logs (workflow.log), activity logs (Context.log),
 * the worker's lifecycle and Rust core's forwarded lines. The SDK attaches workflowId, runId (workflowRunId for
 * activities), workflowType, activityType; this adds the tenant and names the run id the same way everywhere.
 */
export class PinoTemporalLogger implements TemporalLogger {
  constructor(private readonly logger: PinoLogger) {}

  log(level: LogLevel, message: string, meta: LogMetadata = {}): void {
    // The task token identifies an activity attempt to the server; it is noise in a log line.
    const { workflowRunId, taskToken: _taskToken, ...rest } = meta as Record<string, unknown>;
    const fields: Record<string, unknown> = { ...rest };
    if (workflowRunId !== undefined && fields.runId === undefined) fields.runId = workflowRunId;
    const tenantId = tenantOfWorkflowId(fields.workflowId);
    if (tenantId !== undefined && fields.tenantId === undefined) fields.tenantId = tenantId;
    if (fields.error instanceof Error) fields.error = { name: fields.error.name, message: fields.error.message };
    if (fields.failure instanceof Error)
      fields.failure = { name: fields.failure.name, message: fields.failure.message };
    this.logger[PINO_LEVELS[level] ?? 'info'](fields, message);
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }

  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }

  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }

  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }

  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}
