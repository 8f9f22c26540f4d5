/**
 * The API's request and response shapes, as zod schemas: they validate requests, type the handlers and generate the
 * OpenAPI document. Each maps onto a type of workflows/definitions.ts (checked at compile time below), so that the
 * API cannot drift from what the connection workflow accepts.
 */
import { z } from 'zod';
import type {
  AgentConfiguration,
  AppKind,
  ComponentRef,
  ConnectionStatus,
  Crm,
  OperationKind,
  OperationStatus,
} from '../workflows/definitions';
import { CRMS } from '../workflows/definitions';

/** Salesforce API names: letters, digits and single underscores, an optional namespace and suffix (`ns__Field__c`). */
const API_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*(?:__[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*){0,2}$/;

const LIMITS = {
  apiNameLength: 80,
  objects: 50,
  fieldsPerObject: 200,
  fieldsInTotal: 1000,
  tokenLength: 8192,
  idempotencyKeyLength: 255,
  agentNameLength: 40,
} as const;

const apiName = (what: string) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .max(LIMITS.apiNameLength, `${what} must be at most ${LIMITS.apiNameLength} characters`)
    .regex(API_NAME_PATTERN, `${what} must be a Salesforce API name such as Account, Industry or My_Field__c`);

export const tenantIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/,
    'must be 1 to 64 letters, digits, "-" or "_", starting with a letter or digit',
  );

export const crmSchema = z.enum(CRMS, { error: `must be one of ${CRMS.join(', ')}` });

export const operationIdSchema = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a lower-case UUID');

export const tenantPathSchema = z.strictObject({ tenantId: tenantIdSchema });
export const connectionPathSchema = z.strictObject({ tenantId: tenantIdSchema, crm: crmSchema });
export const operationPathSchema = z.strictObject({
  tenantId: tenantIdSchema,
  crm: crmSchema,
  operationId: operationIdSchema,
});

export const idempotencyKeySchema = z
  .string()
  .min(1, 'must not be empty')
  .max(LIMITS.idempotencyKeyLength, `must be at most ${LIMITS.idempotencyKeyLength} characters`)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

const objectSelectionSchema = z
  .strictObject({
    object: apiName('object'),
    fields: z
      .array(apiName('field'))
      .min(1, 'name at least one field')
      .max(LIMITS.fieldsPerObject, `at most ${LIMITS.fieldsPerObject} fields per object`),
  })
  .superRefine((selection, ctx) => {
    const seen = new Set<string>();
    selection.fields.forEach((field, index) => {
      // Salesforce API names are case-insensitive: Industry and industry are the same field.
      const key = field.toLowerCase();
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['fields', index], message: `duplicate field ${field}` });
      seen.add(key);
    });
  });

export const agentConfigurationSchema = z
  .strictObject({
    objects: z
      .array(objectSelectionSchema)
      .min(1, 'name at least one object')
      .max(LIMITS.objects, `at most ${LIMITS.objects} objects`),
  })
  .superRefine((configuration, ctx) => {
    const seen = new Set<string>();
    configuration.objects.forEach((selection, index) => {
      const key = selection.object.toLowerCase();
      if (seen.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['objects', index, 'object'],
          message: `duplicate object ${selection.object}`,
        });
      }
      seen.add(key);
    });
    const total = configuration.objects.reduce((sum, o) => sum + o.fields.length, 0);
    if (total > LIMITS.fieldsInTotal) {
      ctx.addIssue({ code: 'custom', path: ['objects'], message: `at most ${LIMITS.fieldsInTotal} fields in total` });
    }
  })
  .meta({ id: 'AgentConfiguration', description: 'The objects and fields the agent reads: exactly what is granted.' });

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** https only, except on loopback (the emulator, a local proxy); no credentials, query or fragment in the URL. */
const orgUrl = z
  .string()
  .max(2048)
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute URL' });
      return;
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
      ctx.addIssue({ code: 'custom', message: 'must be an https URL' });
    }
    if (url.username || url.password || url.search || url.hash) {
      ctx.addIssue({ code: 'custom', message: 'must not carry credentials, a query or a fragment' });
    }
  })
  .transform((value) => value.replace(/\/+$/, ''));

const secretRefPattern = /^tenants\/[A-Za-z0-9_-]+\/[A-Za-z0-9_./-]{1,200}$/;

/** The admin's OAuth credentials: either a reference the admin backend stored, or the tokens themselves. */
const adminCredentialsSchema = z
  .strictObject({
    secretRef: z
      .string()
      .regex(secretRefPattern, 'must be a secret reference such as tenants/<tenantId>/admin/<name>')
      .refine((ref) => !ref.split('/').includes('..'), 'must not contain ".."')
      .optional(),
    accessToken: z.string().min(1).max(LIMITS.tokenLength).optional(),
    refreshToken: z.string().min(1).max(LIMITS.tokenLength).optional(),
  })
  .superRefine((credentials, ctx) => {
    if (credentials.secretRef && (credentials.accessToken || credentials.refreshToken)) {
      ctx.addIssue({ code: 'custom', message: 'give either secretRef or accessToken (with refreshToken), not both' });
    } else if (!credentials.secretRef && !credentials.accessToken) {
      ctx.addIssue({ code: 'custom', message: 'give secretRef or accessToken' });
    }
  })
  .meta({
    id: 'AdminCredentials',
    description:
      'The org admin’s OAuth credentials: a secretRef the admin backend stored under tenants/<tenantId>/, or the ' +
      'tokens, which the service stores encrypted. Never returned.',
  });

const appKindSchema = z.enum(['external_client_app', 'connected_app'] satisfies AppKind[]);

/** Temporal durations the service accepts for the readiness wait: from 10 seconds to 2 hours. */
const readinessTimeoutSchema = z
  .string()
  .regex(/^[1-9]\d{0,4} (second|seconds|minute|minutes|hour|hours)$/, 'must be a duration such as "15 minutes"')
  .refine((value) => {
    const [amount = '0', unit = ''] = value.split(' ');
    const seconds = Number(amount) * (unit.startsWith('hour') ? 3600 : unit.startsWith('minute') ? 60 : 1);
    return seconds >= 10 && seconds <= 7200;
  }, 'must be between 10 seconds and 2 hours');

const agentNameSchema = z
  .string()
  .min(1)
  .max(LIMITS.agentNameLength)
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, 'must be letters, digits, spaces, ".", "_" or "-"');

const targetFields = {
  loginUrl: orgUrl.optional().describe('The org’s login URL (My Domain); the instance URL when absent.'),
  instanceUrl: orgUrl.optional().describe('The org’s instance URL; the login URL when absent.'),
  adminCredentials: adminCredentialsSchema.optional(),
};

export const enableBodySchema = z
  .strictObject({
    ...targetFields,
    adminCredentials: adminCredentialsSchema,
    appKind: appKindSchema.default('external_client_app'),
    agentName: agentNameSchema.optional(),
    agentConfiguration: agentConfigurationSchema.optional(),
    readinessTimeout: readinessTimeoutSchema.optional(),
  })
  .superRefine((body, ctx) => {
    if (!body.loginUrl && !body.instanceUrl) {
      ctx.addIssue({ code: 'custom', path: ['loginUrl'], message: 'give loginUrl or instanceUrl' });
    }
  })
  .meta({ id: 'EnableRequest' });

export const reconnectBodySchema = z
  .strictObject({
    ...targetFields,
    appKind: appKindSchema.optional(),
    agentConfiguration: agentConfigurationSchema.optional(),
    readinessTimeout: readinessTimeoutSchema.optional(),
  })
  .superRefine((body, ctx) => {
    const givesTarget = Boolean(body.loginUrl || body.instanceUrl || body.adminCredentials);
    if (givesTarget && !(body.loginUrl || body.instanceUrl)) {
      ctx.addIssue({
        code: 'custom',
        path: ['loginUrl'],
        message: 'give loginUrl or instanceUrl with new credentials',
      });
    }
    if (givesTarget && !body.adminCredentials) {
      ctx.addIssue({ code: 'custom', path: ['adminCredentials'], message: 'give the admin credentials for a new org' });
    }
  })
  .meta({ id: 'ReconnectRequest', description: 'Everything is optional: the connection’s last target is reused.' });

export const disableBodySchema = z
  .strictObject({ adminCredentials: adminCredentialsSchema.optional() })
  .meta({ id: 'DisableRequest', description: 'Fresh admin credentials; the ones recorded at enable when absent.' });

export const emptyBodySchema = z.strictObject({});

const operationStatusSchema = z.enum([
  'running',
  'succeeded',
  'failed',
  'rollback_incomplete',
  'cancelled',
] satisfies OperationStatus[]);

const operationKindSchema = z.enum([
  'enable',
  'disable',
  'reconnect',
  'rotate_certificate',
  'update_access',
] satisfies OperationKind[]);

export const operationsQuerySchema = z.strictObject({
  limit: z
    .string()
    .regex(/^\d{1,3}$/, 'must be a number from 1 to 50')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 50, 'must be a number from 1 to 50')
    .optional(),
  status: operationStatusSchema.optional(),
});

/** Rotation takes no parameters: the body, if any, must be an empty object. */
export const rotateCertificateBodySchema = z.strictObject({});

const componentKindSchema = z.enum([
  'permission_set',
  'integration_user',
  'user_access',
  'client_app',
  'signing_key',
] satisfies ComponentRef['kind'][]);

/** A plan takes the body of the operation it plans, and which operation it is. */
export const planBodySchema = z
  .strictObject({
    operation: z.enum(['enable', 'update_access', 'reconnect']).default('enable'),
    ...targetFields,
    appKind: appKindSchema.optional(),
    agentName: agentNameSchema.optional(),
    agentConfiguration: agentConfigurationSchema.optional(),
    readinessTimeout: readinessTimeoutSchema.optional(),
  })
  .superRefine((body, ctx) => {
    if (body.adminCredentials && !body.loginUrl && !body.instanceUrl) {
      ctx.addIssue({
        code: 'custom',
        path: ['loginUrl'],
        message: 'give loginUrl or instanceUrl with adminCredentials',
      });
    }
  })
  .meta({ id: 'PlanRequest' });

const plannedComponentSchema = z.object({
  kind: componentKindSchema,
  name: z.string(),
  label: z.string().optional(),
  action: z.string(),
});

const grantSchema = z.object({
  object: z.string(),
  fields: z.array(z.string()),
  fieldPermissions: z.array(z.string()),
});

export const planViewSchema = z
  .object({
    operation: z.enum(['enable', 'update_access', 'reconnect']),
    feasible: z.boolean(),
    problems: z.array(z.object({ code: z.string(), message: z.string(), fix: z.string() })),
    warnings: z.array(z.object({ code: z.string(), message: z.string(), fix: z.string() })),
    create: z.array(plannedComponentSchema),
    change: z.array(plannedComponentSchema.extend({ grant: z.array(grantSchema), revoke: z.array(grantSchema) })),
    remove: z.array(plannedComponentSchema),
    grants: z.array(grantSchema),
    licenses: z.array(z.object({ name: z.string(), needed: z.number().int(), available: z.number().int().optional() })),
    salesforceCalls: z.object({
      total: z.number().int(),
      calls: z.array(z.object({ api: z.string(), purpose: z.string(), count: z.number().int() })),
    }),
  })
  .meta({ id: 'Plan' });

export const updateAccessBodySchema = z
  .strictObject({ agentConfiguration: agentConfigurationSchema.optional() })
  .meta({ id: 'UpdateAccessRequest' });

export type AdminCredentialsInput = z.infer<typeof adminCredentialsSchema>;

// Responses: documented in OpenAPI and used to type the mapping from the workflow's state.

const connectionErrorSchema = z
  .object({
    type: z.string(),
    salesforceCode: z.string().optional(),
    message: z.string().describe('What happened, for the admin.'),
    fix: z.string().describe('What the admin can do about it.'),
    step: z.string().optional(),
    at: z.string(),
  })
  .meta({ id: 'ConnectionError' });

const stepProgressSchema = z.object({
  step: z.string(),
  title: z.string(),
  index: z.number().int(),
  total: z.number().int(),
  startedAt: z.string(),
});

const componentRefSchema = z.object({
  kind: componentKindSchema,
  name: z.string(),
  id: z.string().optional(),
});

export const operationViewSchema = z
  .object({
    id: z.string(),
    kind: operationKindSchema,
    status: operationStatusSchema,
    workflowId: z.string().describe('The saga’s workflow, for operators in the Temporal Web UI.'),
    startedAt: z.string(),
    endedAt: z.string().optional(),
    currentStep: stepProgressSchema.optional(),
    progress: z
      .object({ done: z.number().int(), total: z.number().int().optional() })
      .describe('Steps done so far and the number of steps, when known.'),
    stepsDone: z.array(z.string()),
    stepsCompensated: z.array(z.string()),
    failure: connectionErrorSchema.optional(),
    remaining: z.array(componentRefSchema).optional().describe('Components left in the org by an incomplete rollback.'),
    links: z.object({ self: z.string(), connection: z.string(), cancel: z.string().optional() }),
  })
  .meta({ id: 'Operation' });

export const operationAcceptedSchema = z
  .object({
    operationId: z.string(),
    kind: operationKindSchema,
    workflowId: z.string(),
    links: z.object({ operation: z.string(), connection: z.string() }),
  })
  .meta({ id: 'OperationAccepted', description: 'The operation runs; follow links.operation (also in Location).' });

export const operationListSchema = z.object({ operations: z.array(operationViewSchema) }).meta({ id: 'OperationList' });

export const connectionViewSchema = z
  .object({
    tenantId: z.string(),
    crm: crmSchema,
    status: z.enum([
      'disabled',
      'enabling',
      'enabled',
      'needs_reconnect',
      'error',
      'disabling',
      'reconnecting',
      'rollback_incomplete',
    ] satisfies ConnectionStatus[]),
    statusMessage: z.string(),
    currentOperation: operationViewSchema.optional(),
    details: z
      .object({
        appKind: appKindSchema,
        appLabel: z.string(),
        appApiName: z.string(),
        integrationUserId: z.string(),
        integrationUsername: z.string(),
        permissionSetId: z.string(),
        permissionSetName: z.string(),
        orgId: z.string(),
        loginUrl: z.string(),
        instanceUrl: z.string(),
        certificateExpiresAt: z.string(),
        createdAt: z.string(),
      })
      .optional()
      .describe('What the connection created in the org; present once established.'),
    grantedObjects: z.array(z.object({ object: z.string(), fields: z.array(z.string()) })),
    agentConfiguration: agentConfigurationSchema.optional(),
    lastError: connectionErrorSchema.optional(),
    needsReconnect: z.boolean(),
    needsReconnectReason: z.string().optional(),
    missingFields: z.array(z.string()).describe('Fields the agent reads that the connection does not grant.'),
    leftovers: z.array(componentRefSchema),
    health: z
      .object({
        checkedAt: z.string(),
        ok: z.boolean(),
        problems: z.array(z.object({ kind: z.string(), message: z.string(), fix: z.string(), drift: z.boolean() })),
      })
      .optional()
      .describe('The last scheduled health check: failures put the connection in error; drift is reported only.'),
    updatedAt: z.string().optional(),
    links: z.object({
      self: z.string(),
      operations: z.string(),
      enable: z.string(),
      disable: z.string(),
      reconnect: z.string(),
      rotateCertificate: z.string(),
      updateAccess: z.string(),
      currentOperation: z.string().optional(),
    }),
  })
  .meta({ id: 'Connection' });

export const agentTokenSchema = z
  .object({
    accessToken: z.string(),
    tokenType: z.literal('Bearer'),
    instanceUrl: z.string(),
    expiresAt: z.string().describe('When the service stops handing out this token; ask again after.'),
  })
  .meta({ id: 'AgentToken' });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    runningOperation: z
      .object({ operationId: z.string(), kind: z.string(), workflowId: z.string().optional() })
      .optional()
      .describe('On 409: the operation that is running.'),
  })
  .meta({ id: 'Problem' });

export const agentConfigurationViewSchema = z
  .object({
    objects: z.array(z.object({ object: z.string(), fields: z.array(z.string()) })),
    needsReconnect: z.boolean().describe('True when the connection grants less than this configuration reads.'),
    missingFields: z.array(z.string()),
    links: z.object({ connection: z.string() }),
  })
  .meta({ id: 'AgentConfigurationState' });

export type AgentConfigurationView = z.infer<typeof agentConfigurationViewSchema>;
export type ConnectionView = z.infer<typeof connectionViewSchema>;
export type OperationView = z.infer<typeof operationViewSchema>;
export type AgentTokenView = z.infer<typeof agentTokenSchema>;
export type AcceptedView = z.infer<typeof operationAcceptedSchema>;
export type PlanView = z.infer<typeof planViewSchema>;

// Compile-time links to the contracts: a change there that the API does not follow fails the build here.
type Assert<T extends true> = T;
export type ContractChecks = [
  Assert<z.infer<typeof agentConfigurationSchema> extends AgentConfiguration ? true : false>,
  Assert<z.infer<typeof crmSchema> extends Crm ? true : false>,
  Assert<Crm extends z.infer<typeof crmSchema> ? true : false>,
  Assert<z.infer<typeof appKindSchema> extends AppKind ? true : false>,
  Assert<AppKind extends z.infer<typeof appKindSchema> ? true : false>,
  Assert<ConnectionStatus extends ConnectionView['status'] ? true : false>,
  Assert<OperationStatus extends OperationView['status'] ? true : false>,
  Assert<OperationKind extends z.infer<typeof operationKindSchema> ? true : false>,
  Assert<ComponentRef['kind'] extends z.infer<typeof componentRefSchema>['kind'] ? true : false>,
];
