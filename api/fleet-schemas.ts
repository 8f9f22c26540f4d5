/** The shapes of the fleet operations' routes (`/v1/fleet-operations`, routes/fleet-operations.ts). */
import { z } from 'zod';
import type { FleetStatus } from '../workflows/definitions';
import { CONNECTION_STATUSES, FLEET_OPERATION_KINDS } from '../workflows/definitions';
import { operationIdSchema, tenantIdSchema } from './schemas';

/** The largest fleet one request may name (a status selection that matches more is a 422). */
export const FLEET_MAX_TENANTS = 10_000;
export const FLEET_MAX_CONCURRENCY = 50;
export const FLEET_DEFAULT_CONCURRENCY = 10;
export const FLEET_MAX_PER_ORG_PER_MINUTE = 60;
export const FLEET_DEFAULT_PER_ORG_PER_MINUTE = 10;

export const fleetPathSchema = z.strictObject({ fleetOperationId: operationIdSchema });

export const fleetOperationBodySchema = z
  .strictObject({
    kind: z
      .enum(FLEET_OPERATION_KINDS, { error: `must be one of ${FLEET_OPERATION_KINDS.join(', ')}` })
      .describe('The operation each tenant’s Salesforce connection runs.'),
    tenantIds: z
      .array(tenantIdSchema)
      .min(1, 'must name at least one tenant')
      .max(FLEET_MAX_TENANTS, `must name at most ${FLEET_MAX_TENANTS} tenants`)
      .optional()
      .describe('The tenants, by id (a repeated id counts once). Give this or `status`.'),
    status: z
      .enum(CONNECTION_STATUSES, { error: `must be one of ${CONNECTION_STATUSES.join(', ')}` })
      .optional()
      .describe('Every Salesforce connection in this status (whose workflow runs). Give this or `tenantIds`.'),
    maxConcurrency: z
      .int()
      .min(1)
      .max(FLEET_MAX_CONCURRENCY)
      .default(FLEET_DEFAULT_CONCURRENCY)
      .describe('How many tenants’ operations run at once.'),
    perOrgPerMinute: z
      .int()
      .min(1)
      .max(FLEET_MAX_PER_ORG_PER_MINUTE)
      .default(FLEET_DEFAULT_PER_ORG_PER_MINUTE)
      .describe('At most this many operations start per Salesforce org per minute; never two at once on one org.'),
  })
  .superRefine((body, ctx) => {
    if (body.tenantIds && body.status) {
      ctx.addIssue({ code: 'custom', path: ['status'], message: 'give tenantIds or status, not both' });
    } else if (!body.tenantIds && !body.status) {
      ctx.addIssue({ code: 'custom', path: ['tenantIds'], message: 'give tenantIds or status' });
    }
  })
  .meta({
    id: 'FleetOperationRequest',
    description: 'One operation over a list of tenants, or over every Salesforce connection in a status.',
    // The superRefine above, in JSON Schema.
    anyOf: [
      { required: ['tenantIds'], properties: { status: false } },
      { required: ['status'], properties: { tenantIds: false } },
    ],
    examples: [{ kind: 'update_access', status: 'enabled' }],
  });

export type FleetOperationBody = z.output<typeof fleetOperationBodySchema>;

export const fleetOperationViewSchema = z
  .object({
    id: z.string(),
    kind: z.enum(FLEET_OPERATION_KINDS),
    status: z
      .enum(['running', 'paused', 'cancelled', 'completed'] satisfies FleetStatus[])
      .describe('`cancelled`: no tenant starts any more; those running finish.'),
    total: z.int().describe('Tenants selected.'),
    done: z.int().describe('Tenants whose operation succeeded.'),
    failed: z.int().describe('Tenants whose operation failed or was refused.'),
    running: z.int(),
    remaining: z.int().describe('Tenants not started yet (after a cancel: never).'),
    failures: z
      .array(
        z.object({
          tenantId: z.string(),
          code: z.string().describe('The refusal’s problem code, or the operation’s error type.'),
          message: z.string(),
          operationId: z.string().optional().describe('The tenant’s operation, when it ran.'),
        }),
      )
      .describe('The failed tenants with their cause (the first 100).'),
    createdAt: z.string(),
    endedAt: z.string().optional(),
  })
  .meta({ id: 'FleetOperation', description: 'A fleet operation’s progress.' });

export type FleetOperationView = z.output<typeof fleetOperationViewSchema>;
