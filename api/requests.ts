import { createHash, randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { z } from 'zod';
import { fieldErrorsOf, fieldName, HttpProblem, problems } from './problem';
import type { Conflict } from './schemas';
import { agentConfigurationConflicts, idempotencyKeySchema } from './schemas';
import type { AgentConfiguration } from '../workflows/definitions';

/** Parses one part of a request; a failure is a 400 naming each failing field. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  location: 'body' | 'path' | 'query' | 'header',
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw problems.invalid(fieldErrorsOf(parsed.error, location));
  return parsed.data;
}

/**
 * The rules of an agent configuration that JSON Schema cannot state (names unique regardless of case, at most 1,000
 * fields in total): a well-formed request that breaks one is a 422 naming each place, not a 400.
 */
export function checkAgentConfiguration(configuration: AgentConfiguration | undefined, at: PropertyKey[]): void {
  if (!configuration) return;
  const conflicts: Conflict[] = agentConfigurationConflicts(configuration);
  if (conflicts.length === 0) return;
  const errors = conflicts.map((c) => ({ field: fieldName('body', [...at, ...c.path]), message: c.message }));
  throw problems.unprocessable(
    'agent-configuration-rejected',
    errors.map((e) => `${e.field}: ${e.message}`).join('; '),
    { errors },
  );
}

/** The body, or `{}` when none was sent (POSTs without a body are fine where nothing is required). */
export function bodyOf(req: Request): unknown {
  return req.body === undefined ? {} : (req.body as unknown);
}

/** The query as a plain record; a repeated parameter (`?limit=1&limit=2`) stays an array and fails validation. */
export function queryOf(req: Request): Record<string, unknown> {
  const query: Record<string, unknown> = {};
  for (const [key, value] of new URL(req.originalUrl, 'http://local').searchParams) {
    const previous = query[key];
    query[key] = previous === undefined ? value : [previous, value].flat();
  }
  return query;
}

function hasBody(req: Request): boolean {
  const length = req.get('content-length');
  return req.get('transfer-encoding') !== undefined || (length !== undefined && length !== '0');
}

/** Bodies must be JSON: anything else is a 415 before a byte of it is parsed. */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  if ((req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') && hasBody(req)) {
    if (!req.is(['application/json', 'application/*+json'])) {
      throw new HttpProblem(
        415,
        'unsupported-media-type',
        'Send the body as application/json.',
        {},
        {
          'Accept-Post': 'application/json',
        },
      );
    }
  }
  next();
};

/** JSON with sorted keys, so that the same body in another key order or spacing hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A UUID (version 8, "custom") that is a function of the tenant and the client's key, so that retries find it. */
function operationIdFromKey(tenantId: string, idempotencyKey: string): string {
  const bytes = createHash('sha256').update(`agent-connections/idempotency\n${tenantId}\n${idempotencyKey}`).digest();
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The operation's id: derived from the Idempotency-Key when there is one, random otherwise. */
export function operationIdOf(req: Request, tenantId: string): { operationId: string; idempotent: boolean } {
  const header = req.get('idempotency-key');
  if (header === undefined) return { operationId: randomUUID(), idempotent: false };
  const key = parseIdempotencyKey(header);
  return { operationId: operationIdFromKey(tenantId, key), idempotent: true };
}

/** Validates the Idempotency-Key of POSTs that create nothing, so that a malformed one is refused everywhere alike. */
export function checkIdempotencyKey(req: Request): void {
  const header = req.get('idempotency-key');
  if (header !== undefined) parseIdempotencyKey(header);
}

function parseIdempotencyKey(header: string): string {
  const parsed = idempotencyKeySchema.safeParse(header);
  if (!parsed.success) {
    throw problems.invalid(parsed.error.issues.map((i) => ({ field: 'header.idempotency-key', message: i.message })));
  }
  return parsed.data;
}
