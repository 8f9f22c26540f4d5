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
import { CONNECTION_STATUSES, CRMS } from '../workflows/definitions';

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

const objectSelectionSchema = z.strictObject({
  object: apiName('object'),
  fields: z
    .array(apiName('field'))
    .min(1, 'name at least one field')
    .max(LIMITS.fieldsPerObject, `at most ${LIMITS.fieldsPerObject} fields per object`),
});

/**
 * The objects and fields the agent reads. What JSON Schema can express is checked here (a 400 otherwise); the two
 * rules it cannot, that names are unique regardless of case and that there are at most 1,000 fields in total, are
 * checked by `agentConfigurationConflicts` and answered with a 422.
 */
export const agentConfigurationSchema = z
  .strictObject({
    objects: z
      .array(objectSelectionSchema)
      .min(1, 'name at least one object')
      .max(LIMITS.objects, `at most ${LIMITS.objects} objects`),
  })
  .meta({
    id: 'AgentConfiguration',
    description:
      'The objects and fields the agent reads: exactly what is granted. Salesforce API names are case-insensitive: ' +
      `an object or a field named twice in any case, or more than ${LIMITS.fieldsInTotal} fields in total, is a 422.`,
    examples: [
      {
        objects: [
          { object: 'Account', fields: ['Name', 'Industry'] },
          { object: 'Contact', fields: ['Email'] },
        ],
      },
    ],
  });

/** A rule of the request that JSON Schema cannot express: well-formed, but not something the service can act on. */
export interface Conflict {
  path: PropertyKey[];
  message: string;
}

/** Duplicate names (Salesforce compares them without case) and the total number of fields. */
export function agentConfigurationConflicts(configuration: AgentConfiguration): Conflict[] {
  const conflicts: Conflict[] = [];
  const objects = new Set<string>();
  configuration.objects.forEach((selection, index) => {
    const key = selection.object.toLowerCase();
    if (objects.has(key)) {
      conflicts.push({ path: ['objects', index, 'object'], message: `duplicate object ${selection.object}` });
    }
    objects.add(key);
    const fields = new Set<string>();
    selection.fields.forEach((field, fieldIndex) => {
      const fieldKey = field.toLowerCase();
      if (fields.has(fieldKey)) {
        conflicts.push({ path: ['objects', index, 'fields', fieldIndex], message: `duplicate field ${field}` });
      }
      fields.add(fieldKey);
    });
  });
  const total = configuration.objects.reduce((sum, o) => sum + o.fields.length, 0);
  if (total > LIMITS.fieldsInTotal) {
    conflicts.push({ path: ['objects'], message: `at most ${LIMITS.fieldsInTotal} fields in total` });
  }
  return conflicts;
}

/**
 * An org URL: https with a host name, or http on loopback (the emulator, a local proxy); an optional port and path;
 * no credentials, query or fragment. The pattern is the whole rule, so the OpenAPI document states exactly it.
 */
const ORG_URL_PATTERN =
  /^(?:https:\/\/(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?|http:\/\/(?:localhost|127\.0\.0\.1|\[::1\]))(?::[0-9]{1,5})?(?:\/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?$/;

export const orgUrl = z
  .string()
  .max(2048)
  .regex(
    ORG_URL_PATTERN,
    'must be an https URL (http only on localhost) without credentials, query or fragment, such as https://acme.my.salesforce.com',
  )
  .transform((value) => value.replace(/\/+$/, ''));

/** `tenants/<tenantId>/<name>[/<name>…]`: no empty, "." or ".." segment. */
const SECRET_REF_PATTERN = /^tenants\/[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)+$/;

/** The admin's OAuth credentials: either a reference the admin backend stored, or the tokens themselves. */
const adminCredentialsSchema = z
  .union(
    [
      z.strictObject({
        secretRef: z
          .string()
          .max(300)
          .regex(SECRET_REF_PATTERN, 'must be a secret reference such as tenants/<tenantId>/admin/<name>')
          .describe(
            'Where the admin backend stored the tokens, under the tenant’s own tenants/<tenantId>/; a reference to ' +
              'another tenant or to nothing stored is a 422.',
          ),
      }),
      z.strictObject({
        accessToken: z.string().min(1).max(LIMITS.tokenLength),
        refreshToken: z.string().min(1).max(LIMITS.tokenLength).optional(),
      }),
    ],
    { error: 'give either secretRef, or accessToken (with an optional refreshToken)' },
  )
  .meta({
    id: 'AdminCredentials',
    description:
      'The org admin’s OAuth credentials: a secretRef the admin backend stored under tenants/<tenantId>/, or the ' +
      'tokens, which the service stores encrypted. Never returned.',
    examples: [{ secretRef: 'tenants/acme/admin/oauth' }, { accessToken: '00D…!AQ4A…', refreshToken: '5Aep…' }],
  });

const appKindSchema = z.enum(['external_client_app', 'connected_app'] satisfies AppKind[]);

/**
 * Temporal durations the service accepts for the readiness wait, from 10 seconds to 2 hours: the pattern spells the
 * range out (10–7200 seconds, 1–120 minutes, 1–2 hours), so the OpenAPI document states exactly it.
 */
const READINESS_TIMEOUT_PATTERN =
  /^(?:(?:[1-9][0-9]|[1-9][0-9]{2}|[1-6][0-9]{3}|7[01][0-9]{2}|7200) seconds?|(?:[1-9]|[1-9][0-9]|1[01][0-9]|120) minutes?|[12] hours?)$/;

const readinessTimeoutSchema = z
  .string()
  .regex(READINESS_TIMEOUT_PATTERN, 'must be a duration from "10 seconds" to "2 hours", such as "15 minutes"')
  .describe('How long to wait for Salesforce to make the new app usable; READINESS_TIMEOUT when absent.');

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

/** Where the org is: at least one of its URLs (each stands for the other when absent). */
const GIVES_AN_ORG_URL = [{ required: ['loginUrl'] }, { required: ['instanceUrl'] }];

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
  .meta({
    id: 'EnableRequest',
    description: 'The org (loginUrl, instanceUrl or both), the admin’s credentials and what the agent reads.',
    // The superRefine above, in JSON Schema.
    anyOf: GIVES_AN_ORG_URL,
    examples: [
      {
        loginUrl: 'https://acme.my.salesforce.com',
        adminCredentials: { secretRef: 'tenants/acme/admin/oauth' },
        agentConfiguration: { objects: [{ object: 'Account', fields: ['Name', 'Industry'] }] },
      },
    ],
  });

export const reconnectBodySchema = z
  .strictObject({
    ...targetFields,
    appKind: appKindSchema.optional(),
    agentConfiguration: agentConfigurationSchema.optional(),
    readinessTimeout: readinessTimeoutSchema.optional(),
    breakBeforeMake: z
      .boolean()
      .optional()
      .describe(
        'true: remove the current connection before creating the new one (the agent loses access for a few ' +
          'minutes). Needed only when the org has no spare Salesforce Integration license for a reconnect that ' +
          'keeps the current connection working until the new one works (409 break-before-make-required otherwise).',
      ),
    mode: z
      .enum(['auto', 'recreate'])
      .optional()
      .describe(
        '`auto` (default): a connection a health check found broken is repaired in place (only the broken parts: ' +
          'user reactivated, permission set and license re-assigned, certificate uploaded again, a deleted app ' +
          'recreated), a working one recreated make-before-break; `recreate`: recreate everything.',
      ),
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
  .meta({
    id: 'ReconnectRequest',
    description:
      'Everything is optional: the connection’s last target is reused. A new org comes whole: a URL with the admin ' +
      'credentials.',
    // The superRefine above, in JSON Schema: no target at all, or credentials with at least one URL.
    anyOf: [
      { properties: { loginUrl: false, instanceUrl: false, adminCredentials: false } },
      { required: ['adminCredentials', 'loginUrl'] },
      { required: ['adminCredentials', 'instanceUrl'] },
    ],
    examples: [{}, { agentConfiguration: { objects: [{ object: 'Account', fields: ['Name', 'Industry', 'Phone'] }] } }],
  });

export const disableBodySchema = z.strictObject({ adminCredentials: adminCredentialsSchema.optional() }).meta({
  id: 'DisableRequest',
  description: 'Fresh admin credentials; the ones recorded at enable when absent.',
  examples: [{}, { adminCredentials: { secretRef: 'tenants/acme/admin/oauth' } }],
});

/** Requests that carry nothing (rotation, cancel, the agent token): no body, or an empty object. */
export const emptyBodySchema = z.strictObject({}).meta({
  id: 'EmptyRequest',
  description: 'Nothing to send: no body, or an empty object.',
  examples: [{}],
});

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

/**
 * What the wire carries where it differs from what zod parses: a query string that holds an integer. The OpenAPI
 * document uses these JSON Schemas; the zod schema accepts exactly the strings they describe.
 */
export const wireSchemas = new Map<z.ZodType, Record<string, unknown>>();

const limitSchema = z
  .string()
  .regex(/^(?:[1-9]|[1-4][0-9]|50)$/, 'must be a number from 1 to 50')
  .transform(Number);
wireSchemas.set(limitSchema, {
  type: 'integer',
  minimum: 1,
  maximum: 50,
  description: 'At most this many operations (50 when absent).',
});

export const operationsQuerySchema = z.strictObject({
  limit: limitSchema.optional(),
  status: operationStatusSchema.optional().describe('Only the operations with this status.'),
});

/** Rotation takes no parameters: the body, if any, must be an empty object. */
export const rotateCertificateBodySchema = emptyBodySchema;

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
  .meta({
    id: 'PlanRequest',
    description:
      'The body of the operation to plan, and `operation`. Admin credentials come with the org’s URL; without ' +
      'them, the connection’s are used.',
    // The superRefine above, in JSON Schema: no credentials, or credentials with at least one URL.
    anyOf: [
      { properties: { adminCredentials: false } },
      { required: ['adminCredentials', 'loginUrl'] },
      { required: ['adminCredentials', 'instanceUrl'] },
    ],
    examples: [{ operation: 'update_access' }],
  });

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
    makeBeforeBreak: z
      .object({
        possible: z.boolean(),
        reason: z.string().optional(),
      })
      .optional()
      .describe(
        'Reconnect only: whether the new connection can be made before the current one is removed (a spare ' +
          'integration license for the overlap); when not, the reconnect needs "breakBeforeMake": true.',
      ),
    salesforceCalls: z.object({
      total: z.number().int(),
      calls: z.array(z.object({ api: z.string(), purpose: z.string(), count: z.number().int() })),
    }),
  })
  .meta({ id: 'Plan' });

export const updateAccessBodySchema = z.strictObject({ agentConfiguration: agentConfigurationSchema.optional() }).meta({
  id: 'UpdateAccessRequest',
  description: 'The configuration to grant, which replaces the saved one; the saved one when absent.',
  examples: [{}],
});

export type AdminCredentialsInput = z.infer<typeof adminCredentialsSchema>;

// Responses: documented in OpenAPI and used to type the mapping from the workflow's state.

const connectionErrorSchema = z
  .object({
    type: z.string(),
    salesforceCode: z.string().optional(),
    salesforceMessage: z.string().optional().describe('Salesforce’s own message, when it gave one (never ours).'),
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
    steps: z
      .array(z.string())
      .optional()
      .describe(
        'Every step of the operation in the order it runs, over all its sagas (a reconnect checks, disables, then ' +
          'enables): `currentStep.index` is a position in it. A step with nothing to do is passed over.',
      ),
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
    status: z.enum(CONNECTION_STATUSES),
    statusMessage: z.string(),
    currentOperation: operationViewSchema.optional(),
    details: z
      .object({
        appKind: appKindSchema,
        appLabel: z.string(),
        appApiName: z.string(),
        appId: z.string().optional(),
        consumerKey: z.string().describe('The app’s OAuth consumer key (public: the JWT’s issuer).'),
        integrationUserId: z.string(),
        integrationUsername: z.string(),
        integrationUserName: z.string().describe('The integration user’s name, as Setup lists it.'),
        permissionSetId: z.string(),
        permissionSetName: z.string().describe('The permission set’s API name.'),
        permissionSetLabel: z.string().describe('The permission set’s label, as Setup lists it.'),
        setupLinks: z
          .object({
            app: z.string(),
            integrationUser: z.string(),
            permissionSet: z.string(),
            certificate: z.string(),
          })
          .describe('Each component’s page in Salesforce Setup (Lightning Experience).'),
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
    updatedAt: z.string().optional().describe('When the connection last changed; absent on one never enabled.'),
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

export const operationRefSchema = z
  .object({ operationId: z.string(), kind: operationKindSchema, workflowId: z.string().optional() })
  .meta({ id: 'OperationRef', description: 'An operation of the connection, by id, with its saga’s workflow.' });

export const problemSchema = z
  .object({
    type: z.string().describe('A URI naming the kind of problem; its last segment is a stable slug to switch on.'),
    code: z
      .string()
      .optional()
      .describe('The last segment of `type`: a stable code to switch on and translate (`empty-configuration`, …).'),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string().optional(),
    instance: z.string().optional().describe('The request path.'),
    errors: z
      .array(z.object({ field: z.string(), message: z.string() }))
      .optional()
      .describe('On 400 and 422: each failing field (body.…, path.…, query.…, header.…) and what is wrong with it.'),
    runningOperation: operationRefSchema.optional().describe('On 409: the operation that is running.'),
    originalOperation: operationRefSchema
      .optional()
      .describe('On 422 idempotency-key-reused: the operation the key was first used for.'),
    keyId: z
      .string()
      .optional()
      .describe('On 503 payload-key-missing: the id of the payload codec key this API lacks (PAYLOAD_CODEC_KEYS).'),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details.' });

export const agentConfigurationViewSchema = z
  .object({
    objects: z.array(z.object({ object: z.string(), fields: z.array(z.string()) })),
    needsReconnect: z.boolean().describe('True when the connection grants less than this configuration reads.'),
    missingFields: z.array(z.string()),
    links: z.object({ connection: z.string() }),
  })
  .meta({ id: 'AgentConfigurationState' });

/** An org URL in a query string: shorter than in a body, so that a whole request stays within the server's limits. */
const queryOrgUrl = z
  .string()
  .max(300)
  .regex(ORG_URL_PATTERN, 'must be an https URL (http only on localhost) such as https://acme.my.salesforce.com')
  .transform((value) => value.replace(/\/+$/, ''));

/**
 * Where the picker reads the org: a stored reference with the org's URL, or nothing (the connection's credentials).
 * A secretRef without a URL is a 422 (no schema of a query string can say that one parameter needs another).
 */
export const orgCatalogueQuerySchema = z.strictObject({
  loginUrl: queryOrgUrl.optional().describe('With secretRef: the org’s login URL; the instance URL when absent.'),
  instanceUrl: queryOrgUrl.optional().describe('With secretRef: the org’s instance URL; the login URL when absent.'),
  secretRef: z
    .string()
    .max(300)
    .regex(SECRET_REF_PATTERN, 'must be a secret reference such as tenants/<tenantId>/admin/<name>')
    .optional()
    .describe(
      'Admin credentials stored under tenants/<tenantId>/ (by the sign-in or the admin backend), to read an org ' +
        'before any connection exists, with loginUrl or instanceUrl (422 without); the connection’s own ' +
        'credentials when absent.',
    ),
});

export const orgObjectPathSchema = z.strictObject({
  tenantId: tenantIdSchema,
  object: apiName('the object'),
});

const catalogueObjectSchema = z.object({
  name: z.string().describe('API name, as the agent configuration names it.'),
  label: z.string(),
  custom: z.boolean(),
});

export const orgObjectsViewSchema = z
  .object({
    objects: z
      .array(catalogueObjectSchema)
      .describe('Data objects the integration user can be granted read access to, by label.'),
    links: z.object({ connection: z.string() }),
  })
  .meta({ id: 'OrgObjects' });

export const orgFieldsViewSchema = z
  .object({
    object: catalogueObjectSchema,
    fields: z
      .array(
        z.object({
          name: z.string(),
          label: z.string(),
          type: z.string(),
          custom: z.boolean(),
          permissionable: z
            .boolean()
            .describe('False for fields read through object access alone (Id, required fields).'),
        }),
      )
      .describe('The object’s fields, by label.'),
    links: z.object({ objects: z.string() }),
  })
  .meta({ id: 'OrgFields' });

export type OrgObjectsView = z.infer<typeof orgObjectsViewSchema>;
export type OrgFieldsView = z.infer<typeof orgFieldsViewSchema>;
export type AgentConfigurationView = z.infer<typeof agentConfigurationViewSchema>;
export type ConnectionView = z.infer<typeof connectionViewSchema>;
export type OperationView = z.infer<typeof operationViewSchema>;
export type AgentTokenView = z.infer<typeof agentTokenSchema>;
export type AcceptedView = z.infer<typeof operationAcceptedSchema>;
export type PlanView = z.infer<typeof planViewSchema>;
export type ProblemView = z.infer<typeof problemSchema>;

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
