/** The shapes of the audit trail's route (`GET /v1/tenants/{t}/audit-events`, routes/audit-events.ts). */
import { z } from 'zod';
import type { ComponentRef, OperationKind, OperationStatus } from '../workflows/definitions';
import { crmSchema, tenantIdSchema, wireSchemas } from './schemas';

export const AUDIT_MAX_LIMIT = 100;
export const AUDIT_DEFAULT_LIMIT = 50;

export const auditPathSchema = z.strictObject({ tenantId: tenantIdSchema });

const auditLimitSchema = z
  .string()
  .regex(/^(?:[1-9]|[1-9][0-9]|100)$/, `must be a number from 1 to ${AUDIT_MAX_LIMIT}`)
  .transform(Number);
wireSchemas.set(auditLimitSchema, {
  type: 'integer',
  minimum: 1,
  maximum: AUDIT_MAX_LIMIT,
  description: `At most this many events (${AUDIT_DEFAULT_LIMIT} when absent).`,
});

export const auditQuerySchema = z.strictObject({
  limit: auditLimitSchema.optional(),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,200}$/, 'must be the nextCursor of a previous page')
    .optional()
    .describe('The `nextCursor` of the previous page: the events older than it.'),
});

const auditComponentSchema = z.object({
  kind: z.enum([
    'permission_set',
    'integration_user',
    'user_access',
    'client_app',
    'signing_key',
  ] satisfies ComponentRef['kind'][]),
  name: z.string().describe('Its Salesforce name: API name or username.'),
  salesforceId: z.string().optional().describe('Its Salesforce id.'),
  change: z
    .enum(['created', 'changed', 'removed', 'undone', 'remaining'])
    .describe(
      '`created`, `changed`, `removed` by the operation; `undone`: created then removed by its rollback; ' +
        '`remaining`: left in the org by a rollback or a disable that could not finish.',
    ),
});

export const auditEventSchema = z
  .object({
    id: z.string(),
    tenantId: z.string(),
    crm: crmSchema,
    occurredAt: z.string().describe('When the operation ended (ISO 8601).'),
    actor: z
      .object({
        apiKeyId: z.string().optional().describe('The id of the API key that asked (never the key).'),
        salesforceUsername: z
          .string()
          .optional()
          .describe('The admin who signed in with Salesforce, when the operation used those credentials.'),
      })
      .describe('Who asked.'),
    operation: z.object({
      kind: z.enum(['enable', 'disable', 'reconnect', 'rotate_certificate', 'update_access'] satisfies OperationKind[]),
      id: z.string(),
      startedAt: z.string(),
    }),
    outcome: z
      .enum(['running', 'succeeded', 'failed', 'rollback_incomplete', 'cancelled'] satisfies OperationStatus[])
      .describe('How the operation ended.'),
    failure: z.object({ type: z.string(), message: z.string() }).optional(),
    components: z.array(auditComponentSchema).describe('Each component the operation touched in Salesforce.'),
  })
  .meta({ id: 'AuditEvent', description: 'One finished operation: who, what, when, and how it ended.' });

export const auditPageSchema = z
  .object({
    events: z.array(auditEventSchema).describe('Most recent first.'),
    nextCursor: z.string().optional().describe('Pass as `cursor` for the next page; absent on the last one.'),
  })
  .meta({ id: 'AuditEventPage' });
