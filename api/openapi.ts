import { z } from 'zod';
import { auditPageSchema, auditQuerySchema } from './audit-schemas';
import type { FleetOperationView } from './fleet-schemas';
import { fleetOperationBodySchema, fleetOperationViewSchema, fleetPathSchema } from './fleet-schemas';
import type { Scope } from './auth';
import { RETRY_AFTER_SECONDS } from './connection-gateway';
import {
  agentConfigurationSchema,
  agentConfigurationViewSchema,
  agentTokenSchema,
  connectionViewSchema,
  crmSchema,
  disableBodySchema,
  emptyBodySchema,
  enableBodySchema,
  idempotencyKeySchema,
  operationAcceptedSchema,
  operationIdSchema,
  operationListSchema,
  operationViewSchema,
  operationsQuerySchema,
  reconnectBodySchema,
  planBodySchema,
  planViewSchema,
  orgCatalogueQuerySchema,
  orgFieldsViewSchema,
  orgObjectPathSchema,
  orgObjectsViewSchema,
  updateAccessBodySchema,
  tenantIdSchema,
  wireSchemas,
} from './schemas';
import {
  signInBodySchema,
  signInCallbackQuerySchema,
  signInStartedSchema,
  signInStatusSchema,
} from './sign-in-schemas';
import type { SignInStarted, SignInStatus } from './sign-in-schemas';
import type {
  AcceptedView,
  AgentConfigurationView,
  AgentTokenView,
  ConnectionView,
  OperationView,
  OrgFieldsView,
  OrgObjectsView,
  PlanView,
  ProblemView,
} from './schemas';

type JsonSchema = Record<string, unknown>;

interface Example<T = unknown> {
  summary: string;
  value: T;
}

interface Success {
  description: string;
  schema: z.ZodType;
  examples: Record<string, Example>;
  /** Sets Location to the operation. */
  location?: boolean;
  headers?: Record<string, JsonSchema>;
}

interface Operation {
  operationId: string;
  tag: 'Connections' | 'Operations' | 'Agent' | 'Fleet';
  method: 'get' | 'post' | 'put';
  path: string;
  summary: string;
  description: string;
  /** `none`: no API key (the sign-in callback). */
  scope: Scope | 'none';
  /** The JSON body the route parses; without `bodyRequired`, no body at all is the same as `{}`. */
  body?: z.ZodType;
  bodyRequired?: boolean;
  bodyExamples?: Record<string, Example>;
  query?: z.ZodObject;
  /** `operation`: the key names the operation; `validated`: the key is checked and otherwise unused. */
  idempotencyKey?: 'operation' | 'validated';
  responses: Record<number, Success>;
  errors: ErrorStatus[];
  /** Error descriptions specific to this operation. */
  errorText?: Partial<Record<ErrorStatus, string>>;
  links?: Record<string, JsonSchema>;
  /** Reached without an API key (a browser redirected by Salesforce). */
  public?: boolean;
  /** Redirects the operation answers with, by status: a description and the Location's pattern. */
  redirects?: Record<number, { description: string; location: string; examples: Record<string, Example<string>> }>;
}

type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 502 | 503;

// Examples: one tenant, one operation, as the service answers them.

const TENANT = 'acme';

const auditPageExample = {
  events: [
    {
      id: 'audit:acme:salesforce:01J9Z3V6M4Q2X8K7T5R3N1P0AB',
      tenantId: 'acme',
      crm: 'salesforce',
      occurredAt: '2026-03-02T09:14:05.000Z',
      actor: { apiKeyId: 'ops-console' },
      operation: { kind: 'enable', id: '01J9Z3V6M4Q2X8K7T5R3N1P0AB', startedAt: '2026-03-02T09:12:41.000Z' },
      outcome: 'succeeded',
      components: [
        {
          kind: 'permission_set',
          name: 'Agent_Connections_Acme',
          salesforceId: '0PS5g000000AbCdGAK',
          change: 'created',
        },
        {
          kind: 'integration_user',
          name: 'agent.3f9a@00d5g.agent-connections.app',
          salesforceId: '0055g00000AbCdEAAV',
          change: 'created',
        },
        { kind: 'client_app', name: 'Agent_Connections_Acme', salesforceId: '0H45g000000AbCdCAG', change: 'created' },
      ],
    },
  ],
  nextCursor: 'eyJzIjoiNDEifQ',
};
const OPERATION_ID = '6f1c2a0e-4b7d-4e8a-9c3b-2d5e7f9a1b4c';
const CONNECTION_PATH = `/v1/tenants/${TENANT}/connections/salesforce`;
const OPERATION_PATH = `${CONNECTION_PATH}/operations/${OPERATION_ID}`;
const CONFIGURATION = {
  objects: [
    { object: 'Account', fields: ['Name', 'Industry'] },
    { object: 'Contact', fields: ['Email'] },
  ],
};

const acceptedExample: AcceptedView = {
  operationId: OPERATION_ID,
  kind: 'enable',
  workflowId: `enable:${TENANT}:salesforce:${OPERATION_ID}`,
  links: { operation: OPERATION_PATH, connection: CONNECTION_PATH },
};

const runningOperationExample: OperationView = {
  id: OPERATION_ID,
  kind: 'enable',
  status: 'running',
  workflowId: acceptedExample.workflowId,
  startedAt: '2026-03-02T09:15:00.000Z',
  currentStep: {
    step: 'create_integration_user',
    title: 'Creating the integration user',
    index: 3,
    total: 7,
    startedAt: '2026-03-02T09:15:04.210Z',
  },
  progress: { done: 2, total: 7 },
  stepsDone: ['preflight', 'create_permission_set'],
  stepsCompensated: [],
  links: { self: OPERATION_PATH, connection: CONNECTION_PATH, cancel: `${OPERATION_PATH}/cancel` },
};

const cancelledOperationExample: OperationView = {
  ...runningOperationExample,
  status: 'cancelled',
  endedAt: '2026-03-02T09:15:09.870Z',
  currentStep: undefined,
  progress: { done: 2 },
  stepsCompensated: ['create_permission_set'],
  links: { self: OPERATION_PATH, connection: CONNECTION_PATH },
};

const connectionExample: ConnectionView = {
  tenantId: TENANT,
  crm: 'salesforce',
  status: 'enabled',
  statusMessage: 'Connected. The agent reads 3 fields on 2 objects.',
  details: {
    appKind: 'external_client_app',
    appLabel: 'Sales Agent connected app',
    appApiName: 'Sales_Agent_connected_app',
    consumerKey: '3MVG9A2kN3Bn17hs8MIaQx1voVGy',
    integrationUserId: '0055g00000AbCdEAAV',
    integrationUsername: 'sales-agent.00d5g000001abcd@agent-connections.app',
    integrationUserName: 'Sales Agent integration user',
    permissionSetId: '0PS5g000000AbCdGAK',
    permissionSetName: 'Sales_Agent_permission_set',
    permissionSetLabel: 'Sales Agent permission set',
    setupLinks: {
      app: 'https://acme.my.salesforce.com/lightning/setup/ManageExternalClientApplication/home',
      integrationUser:
        'https://acme.my.salesforce.com/lightning/setup/ManageUsers/page?address=%2F0055g00000AbCdEAAV%3Fnoredirect%3D1%26isUserEntityOverride%3D1',
      permissionSet: 'https://acme.my.salesforce.com/lightning/setup/PermSets/page?address=%2F0PS5g000000AbCdGAK',
      certificate: 'https://acme.my.salesforce.com/lightning/setup/ManageExternalClientApplication/home',
    },
    orgId: '00D5g000001AbCdEAK',
    loginUrl: 'https://acme.my.salesforce.com',
    instanceUrl: 'https://acme.my.salesforce.com',
    certificateExpiresAt: '2027-03-02T09:16:00.000Z',
    createdAt: '2026-03-02T09:16:02.000Z',
  },
  grantedObjects: CONFIGURATION.objects,
  agentConfiguration: CONFIGURATION,
  needsReconnect: false,
  missingFields: [],
  leftovers: [],
  updatedAt: '2026-03-02T09:16:02.000Z',
  links: {
    self: CONNECTION_PATH,
    operations: `${CONNECTION_PATH}/operations`,
    enable: `${CONNECTION_PATH}/enable`,
    disable: `${CONNECTION_PATH}/disable`,
    reconnect: `${CONNECTION_PATH}/reconnect`,
    rotateCertificate: `${CONNECTION_PATH}/rotate-certificate`,
    updateAccess: `${CONNECTION_PATH}/update-access`,
  },
};

const disabledExample: ConnectionView = {
  tenantId: TENANT,
  crm: 'salesforce',
  status: 'disabled',
  statusMessage: 'Access is off. Nothing of the connection exists in Salesforce.',
  grantedObjects: [],
  agentConfiguration: CONFIGURATION,
  needsReconnect: false,
  missingFields: [],
  leftovers: [],
  updatedAt: '2026-03-02T09:16:02.000Z',
  links: connectionExample.links,
};

const dynamicsExample: ConnectionView = {
  tenantId: TENANT,
  crm: 'dynamics365',
  status: 'enabled',
  statusMessage: 'The agent runs inside Dynamics 365 Sales. Nothing to set up.',
  grantedObjects: [],
  needsReconnect: false,
  missingFields: [],
  leftovers: [],
  links: {
    self: `/v1/tenants/${TENANT}/connections/dynamics365`,
    operations: `/v1/tenants/${TENANT}/connections/dynamics365/operations`,
    enable: `/v1/tenants/${TENANT}/connections/dynamics365/enable`,
    disable: `/v1/tenants/${TENANT}/connections/dynamics365/disable`,
    reconnect: `/v1/tenants/${TENANT}/connections/dynamics365/reconnect`,
    rotateCertificate: `/v1/tenants/${TENANT}/connections/dynamics365/rotate-certificate`,
    updateAccess: `/v1/tenants/${TENANT}/connections/dynamics365/update-access`,
  },
};

const configurationStateExample: AgentConfigurationView = {
  objects: [...CONFIGURATION.objects, { object: 'Opportunity', fields: ['StageName'] }],
  needsReconnect: true,
  missingFields: ['Opportunity.StageName'],
  links: { connection: CONNECTION_PATH },
};

const tokenExample: AgentTokenView = {
  accessToken: '00D5g000001AbCd!AQ4AQFk…',
  tokenType: 'Bearer',
  instanceUrl: 'https://acme.my.salesforce.com',
  expiresAt: '2026-03-02T09:31:00.000Z',
};

const planExample: PlanView = {
  operation: 'update_access',
  feasible: true,
  problems: [],
  warnings: [],
  create: [],
  change: [
    {
      kind: 'permission_set',
      name: 'Sales_Agent_Access',
      action: 'update',
      grant: [{ object: 'Opportunity', fields: ['StageName'], fieldPermissions: ['Opportunity.StageName'] }],
      revoke: [],
    },
  ],
  remove: [],
  grants: [
    { object: 'Account', fields: ['Name', 'Industry'], fieldPermissions: ['Account.Name', 'Account.Industry'] },
    { object: 'Contact', fields: ['Email'], fieldPermissions: ['Contact.Email'] },
    { object: 'Opportunity', fields: ['StageName'], fieldPermissions: ['Opportunity.StageName'] },
  ],
  licenses: [],
  salesforceCalls: { total: 2, calls: [{ api: 'composite', purpose: 'permission rows', count: 2 }] },
};

const SIGN_IN_PATH = '/v1/tenants/{tenantId}/connections/salesforce/sign-in';

const signInStartedExample: SignInStarted = {
  authorizeUrl:
    'https://login.salesforce.com/services/oauth2/authorize?scope=api%20refresh_token&state=acme.3q2-7wEd…' +
    '&code_challenge_method=S256&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&response_type=code' +
    '&client_id=3MVG9…&redirect_uri=https%3A%2F%2Fconnections.example.com%2Fv1%2Foauth%2Fsalesforce%2Fcallback',
  expiresAt: '2026-03-02T09:25:00.000Z',
};

const signInStatusExample: SignInStatus = {
  signedIn: true,
  username: 'admin@acme.com',
  displayName: 'Ada Admin',
  orgId: '00D5g000001AbCdEAK',
  userId: '0055g00000AdMiNAAV',
  loginUrl: 'https://login.salesforce.com',
  instanceUrl: 'https://acme.my.salesforce.com',
  signedInAt: '2026-03-02T09:14:12.000Z',
  adminCredentials: { secretRef: 'tenants/acme/admin/sign-in-0b7e1c52-3f4a-4d2e-9a55-1f0c8e2d7b6a' },
};

const orgObjectsExample: OrgObjectsView = {
  objects: [
    { name: 'Account', label: 'Account', custom: false },
    { name: 'Contact', label: 'Contact', custom: false },
    { name: 'Deal_Score__c', label: 'Deal score', custom: true },
  ],
  links: { connection: CONNECTION_PATH },
};

const orgFieldsExample: OrgFieldsView = {
  object: { name: 'Account', label: 'Account', custom: false },
  fields: [
    { name: 'Id', label: 'Account ID', type: 'id', custom: false, permissionable: false },
    { name: 'Industry', label: 'Industry', type: 'picklist', custom: false, permissionable: true },
    { name: 'Name', label: 'Account Name', type: 'string', custom: false, permissionable: false },
  ],
  links: { objects: `${CONNECTION_PATH}/objects` },
};

const PROBLEM_BASE = 'https://agent-connections.app/problems/';

function problem(status: number, slug: string, title: string, detail: string, extra: Partial<ProblemView> = {}) {
  return {
    type: `${PROBLEM_BASE}${slug}`,
    code: slug,
    title,
    status,
    detail,
    instance: CONNECTION_PATH,
    ...extra,
  } satisfies ProblemView;
}

const ERRORS: Record<ErrorStatus, { description: string; examples: Record<string, Example>; headers?: string[] }> = {
  400: {
    description: 'The request does not match this document (body, path, query or header): `errors` names each field',
    examples: {
      invalid: {
        summary: 'A field that breaks the schema',
        value: problem(400, 'invalid-request', 'Invalid request', 'body.loginUrl: must be an https URL …', {
          errors: [{ field: 'body.loginUrl', message: 'must be an https URL …' }],
        }),
      },
    },
  },
  401: {
    description: 'No API key, or an unknown one',
    headers: ['WWW-Authenticate'],
    examples: {
      unauthenticated: {
        summary: 'No key',
        value: problem(
          401,
          'unauthenticated',
          'Authentication required',
          'Send an API key: Authorization: Bearer <key>.',
        ),
      },
    },
  },
  403: {
    description: 'The API key lacks the scope this operation needs',
    examples: {
      forbidden: {
        summary: 'A read key asks for a change',
        value: problem(403, 'forbidden', 'Forbidden', 'This API key may not do this: it needs the "admin" scope.'),
      },
    },
  },
  404: {
    description: 'Unknown tenant (or one the key is not bound to), or no such operation',
    examples: {
      notFound: { summary: 'Another tenant', value: problem(404, 'not-found', 'Not found', 'No tenant globex.') },
    },
  },
  409: {
    description:
      'An operation is running (`runningOperation` names it), or the connection refuses this operation in its state',
    examples: {
      inProgress: {
        summary: 'Another operation runs',
        value: problem(409, 'operation-in-progress', 'Conflict', `Operation ${OPERATION_ID} (enable) is running.`, {
          runningOperation: { operationId: OPERATION_ID, kind: 'enable', workflowId: acceptedExample.workflowId },
        }),
      },
      rejected: {
        summary: 'Not possible now',
        value: problem(409, 'operation-rejected', 'Conflict', 'Salesforce access is already enabled.'),
      },
    },
  },
  413: {
    description: 'The body is larger than API_MAX_BODY_BYTES (64 KiB by default)',
    examples: {
      tooLarge: {
        summary: 'Too large',
        value: problem(
          413,
          'body-too-large',
          'Request body too large',
          'The request body exceeds the size this API accepts.',
        ),
      },
    },
  },
  415: {
    description: 'The body is not JSON (send `Content-Type: application/json`)',
    headers: ['Accept-Post'],
    examples: {
      notJson: {
        summary: 'A form',
        value: problem(415, 'unsupported-media-type', 'Unsupported media type', 'Send the body as application/json.'),
      },
    },
  },
  422: {
    description:
      'Well-formed, but not something the service can act on: the Idempotency-Key was used for another body ' +
      '(`originalOperation` names its operation), a secretRef outside the tenant or with nothing stored, or an agent ' +
      'configuration naming an object or field twice (in any case) or more than 1,000 fields',
    examples: {
      keyReused: {
        summary: 'Idempotency-Key reused',
        value: problem(
          422,
          'idempotency-key-reused',
          'Unprocessable request',
          `This Idempotency-Key was used for another request (operation ${OPERATION_ID}).`,
          { originalOperation: { operationId: OPERATION_ID, kind: 'enable', workflowId: acceptedExample.workflowId } },
        ),
      },
      duplicateField: {
        summary: 'A field named twice',
        value: problem(
          422,
          'agent-configuration-rejected',
          'Unprocessable request',
          'body.agentConfiguration.objects[0].fields[1]: duplicate field name',
          { errors: [{ field: 'body.agentConfiguration.objects[0].fields[1]', message: 'duplicate field name' }] },
        ),
      },
    },
  },
  429: {
    description: 'Rate limit of the API key (API_RATE_LIMIT_PER_MINUTE): retry after Retry-After seconds',
    headers: ['Retry-After', 'RateLimit', 'RateLimit-Policy'],
    examples: {
      limited: {
        summary: 'Too many requests',
        value: problem(
          429,
          'rate-limited',
          'Too many requests',
          'Too many requests for this API key; retry after the delay given.',
        ),
      },
    },
  },
  502: {
    description: 'Salesforce refused the integration user’s sign-in',
    examples: {
      refused: {
        summary: 'Sign-in refused',
        value: problem(
          502,
          'salesforce-token-refused',
          'Salesforce refused',
          'Salesforce did not issue a token for the integration user (invalid_grant). If this persists, reconnect the connection.',
        ),
      },
    },
  },
  503: {
    description:
      'Temporal or the worker did not answer in time: retry after Retry-After seconds, with the same key; or ' +
      '`payload-key-missing`: the tenant’s data is encrypted with a payload key this API lacks (`keyId`), for an ' +
      'operator to add',
    headers: ['Retry-After'],
    examples: {
      unavailable: {
        summary: 'Temporal did not answer',
        value: problem(
          503,
          'unavailable',
          'Service unavailable',
          'The workflow service did not answer in time. Retry later, with the same Idempotency-Key.',
        ),
      },
      payloadKeyMissing: {
        summary: 'A payload key is missing from the API’s configuration',
        value: problem(
          503,
          'payload-key-missing',
          'Service unavailable',
          'This tenant’s data is encrypted with payload key "k2026", which this API is not configured with. An ' +
            'operator must add that key to PAYLOAD_CODEC_KEYS (keys are removed only once nothing sealed with them ' +
            'is kept).',
          { keyId: 'k2026' },
        ),
      },
    },
  },
};

const HEADERS: Record<string, JsonSchema> = {
  Location: {
    description: 'The operation’s URL (also `links.operation`)',
    required: true,
    schema: { type: 'string', pattern: '^/v1/tenants/[^/]+/connections/[^/]+/operations/[0-9a-f-]{36}$' },
  },
  'Retry-After': {
    description: 'Seconds to wait before retrying',
    required: true,
    schema: { type: 'string', pattern: '^[0-9]+$', examples: [String(RETRY_AFTER_SECONDS)] },
  },
  'WWW-Authenticate': {
    description: 'The scheme to use: `Bearer realm="agent-connections"`',
    required: true,
    schema: { type: 'string', pattern: '^Bearer ' },
  },
  'Accept-Post': {
    description: 'The media type to send',
    required: true,
    schema: { type: 'string', const: 'application/json' },
  },
  RateLimit: {
    description: 'The key’s remaining allowance (IETF draft 7): `limit=…, remaining=…, reset=…`',
    schema: { type: 'string' },
  },
  'RateLimit-Policy': { description: 'The rate limit policy: `<limit>;w=60`', schema: { type: 'string' } },
  'Cache-Control': {
    description: 'Never cache a token',
    required: true,
    schema: { type: 'string', const: 'no-store' },
  },
};

const CONNECTION = '/v1/tenants/{tenantId}/connections/{crm}';

/** Why reading the org's catalogue (objects, fields) fails, the same for both of its routes. */
const ORG_CATALOGUE_ERROR_TEXT = {
  409:
    'No admin credentials to read the org with (`no-admin-credentials`), Salesforce refused them, or the org does ' +
    'not answer at its URL (`salesforce-unreachable`)',
  422: 'A `secretRef` outside the tenant, with nothing stored, or without `loginUrl` or `instanceUrl`',
};

const READ_ERRORS: ErrorStatus[] = [400, 401, 403, 404, 429, 503];
const WRITE_ERRORS: ErrorStatus[] = [...READ_ERRORS, 409, 413, 415];

const ACCEPTED = (kind: AcceptedView['kind']): Success => ({
  description: 'Accepted: the operation runs (follow Location or `links.operation`)',
  schema: operationAcceptedSchema,
  location: true,
  examples: {
    accepted: {
      summary: 'Accepted',
      value: {
        ...acceptedExample,
        kind,
        workflowId: `${kind}:${TENANT}:salesforce:${OPERATION_ID}`,
      } satisfies AcceptedView,
    },
  },
});

/** From an accepted operation to reading and cancelling it: for clients, and for stateful API testing. */
const OPERATION_LINKS = {
  GetOperation: {
    operationId: 'getOperation',
    description: 'Read the operation that was accepted.',
    parameters: {
      tenantId: '$request.path.tenantId',
      crm: '$request.path.crm',
      operationId: '$response.body#/operationId',
    },
  },
  CancelOperation: {
    operationId: 'cancelOperation',
    description: 'Cancel the operation that was accepted.',
    parameters: {
      tenantId: '$request.path.tenantId',
      crm: '$request.path.crm',
      operationId: '$response.body#/operationId',
    },
  },
};

const operations: Operation[] = [
  {
    operationId: 'getConnection',
    tag: 'Connections',
    method: 'get',
    path: CONNECTION,
    summary: 'Read the connection',
    description:
      'Status, the running operation and its step, connection details, granted fields, the last error with its fix, ' +
      'and whether a reconnect is needed (with the missing fields). Answers even while no worker runs. A connection ' +
      'never enabled reads as `disabled`; Dynamics 365 Sales always reads as `enabled`.',
    scope: 'read',
    responses: {
      200: {
        description: 'The connection',
        schema: connectionViewSchema,
        examples: {
          enabled: { summary: 'An enabled Salesforce connection', value: connectionExample },
          dynamics: { summary: 'Dynamics 365 Sales (connected natively)', value: dynamicsExample },
        },
      },
    },
    errors: READ_ERRORS,
  },
  {
    operationId: 'enableConnection',
    tag: 'Connections',
    method: 'post',
    path: `${CONNECTION}/enable`,
    summary: 'Enable access',
    description:
      'Creates the OAuth client app, the integration user and the permission set in the org, as a saga that rolls ' +
      'back on a permanent failure. Dynamics 365 Sales is connected natively: the same body is validated, nothing is ' +
      'created, and the answer is 200 with the connection.',
    scope: 'admin',
    body: enableBodySchema,
    bodyRequired: true,
    bodyExamples: {
      secretRef: {
        summary: 'Credentials the admin backend stored',
        value: {
          loginUrl: 'https://acme.my.salesforce.com',
          adminCredentials: { secretRef: `tenants/${TENANT}/admin/oauth` },
          agentConfiguration: CONFIGURATION,
        },
      },
      tokens: {
        summary: 'The admin’s tokens, stored encrypted by the service',
        value: {
          loginUrl: 'https://acme.my.salesforce.com',
          instanceUrl: 'https://acme.my.salesforce.com',
          adminCredentials: { accessToken: '00D5g000001AbCd!AQ4AQ…', refreshToken: '5Aep861…' },
          appKind: 'external_client_app',
          agentName: 'Sales Agent',
          agentConfiguration: CONFIGURATION,
          readinessTimeout: '15 minutes',
        },
      },
    },
    idempotencyKey: 'operation',
    responses: {
      200: {
        description: 'Dynamics 365 Sales: nothing to create; the connection as it is',
        schema: connectionViewSchema,
        examples: { dynamics: { summary: 'Connected natively', value: dynamicsExample } },
      },
      202: ACCEPTED('enable'),
    },
    errors: [...WRITE_ERRORS, 422],
    links: OPERATION_LINKS,
  },
  {
    operationId: 'disableConnection',
    tag: 'Connections',
    method: 'post',
    path: `${CONNECTION}/disable`,
    summary: 'Disable access',
    description:
      'Removes what enable created (the integration user is deactivated and renamed: Salesforce cannot delete ' +
      'users). Works from any state. A connection that holds nothing (never enabled, or already disabled) has ' +
      'nothing to disable: the answer is 200 with the connection, and nothing starts. Dynamics 365 Sales: 409.',
    scope: 'admin',
    body: disableBodySchema,
    bodyExamples: {
      recorded: { summary: 'With the credentials recorded at enable', value: {} },
      fresh: {
        summary: 'With fresh credentials',
        value: { adminCredentials: { secretRef: `tenants/${TENANT}/admin/oauth` } },
      },
    },
    idempotencyKey: 'operation',
    responses: {
      200: {
        description: 'Nothing to disable (the connection holds nothing); the connection as it is, nothing started',
        schema: connectionViewSchema,
        examples: { alreadyOff: { summary: 'Access is already off', value: disabledExample } },
      },
      202: ACCEPTED('disable'),
    },
    errors: [...WRITE_ERRORS, 422],
    links: OPERATION_LINKS,
  },
  {
    operationId: 'rotateCertificate',
    tag: 'Connections',
    method: 'post',
    path: `${CONNECTION}/rotate-certificate`,
    summary: 'Rotate the JWT certificate',
    description:
      'Replaces the app’s key pair and certificate without downtime: the old key is discarded only once the new one ' +
      'signs in. The health check starts one by itself before the certificate expires.',
    scope: 'admin',
    body: emptyBodySchema,
    bodyExamples: { empty: { summary: 'Nothing to send', value: {} } },
    idempotencyKey: 'operation',
    responses: { 202: ACCEPTED('rotate_certificate') },
    errors: [...WRITE_ERRORS, 422],
    links: OPERATION_LINKS,
  },
  {
    operationId: 'planOperation',
    tag: 'Connections',
    method: 'post',
    path: `${CONNECTION}/plan`,
    summary: 'Plan an operation',
    description:
      'What an enable, an update of access or a reconnect would do, read from the org: the components it would ' +
      'create, change and remove, the object and field grants, the licenses it needs and the Salesforce calls it ' +
      'would make, with any problem that would stop it. Makes no write to Salesforce and starts nothing. The body is ' +
      'the operation’s own, plus `operation`; the connection’s admin credentials and configuration are used when the ' +
      'body has none. Admin tokens sent here are used for this request only, never stored.',
    scope: 'admin',
    body: planBodySchema,
    bodyExamples: {
      enable: {
        summary: 'An enable, with the credentials the admin backend stored',
        value: {
          operation: 'enable',
          loginUrl: 'https://acme.my.salesforce.com',
          adminCredentials: { secretRef: `tenants/${TENANT}/admin/oauth` },
          agentConfiguration: CONFIGURATION,
        },
      },
      updateAccess: {
        summary: 'An update of access, with the connection’s credentials',
        value: {
          operation: 'update_access',
          agentConfiguration: { objects: [...CONFIGURATION.objects, { object: 'Opportunity', fields: ['StageName'] }] },
        },
      },
    },
    responses: {
      200: {
        description: 'The plan',
        schema: planViewSchema,
        examples: { plan: { summary: 'An update of access', value: planExample } },
      },
    },
    errors: [...WRITE_ERRORS, 422],
    errorText: {
      409:
        'Dynamics 365 Sales (nothing to plan), a connection not established (for update_access and reconnect), no ' +
        'admin credentials to read the org with, or Salesforce refused them',
      422:
        'A secretRef outside the tenant or with nothing stored, no agent configuration to plan for, or a ' +
        'configuration naming an object or field twice (in any case) or more than 1,000 fields',
      503: 'Temporal did not answer, or Salesforce could not be reached: retry after Retry-After seconds',
    },
  },
  {
    operationId: 'updateAccess',
    tag: 'Connections',
    method: 'post',
    path: `${CONNECTION}/update-access`,
    summary: 'Update access in place',
    description:
      'Grants the permission set exactly the agent configuration’s objects and fields (the held one, or the one ' +
      'sent, which replaces it): the app, consumer key, integration user and certificate stay, so the agent keeps its ' +
      'access throughout. The configuration is checked against the org first; a failure changes nothing, and a ' +
      'failed update puts the previous grants back. Dynamics 365 Sales: 409.',
    scope: 'admin',
    body: updateAccessBodySchema,
    bodyExamples: {
      held: { summary: 'The configuration the connection holds', value: {} },
      more: {
        summary: 'More fields',
        value: {
          agentConfiguration: { objects: [...CONFIGURATION.objects, { object: 'Opportunity', fields: ['StageName'] }] },
        },
      },
    },
    idempotencyKey: 'operation',
    responses: { 202: ACCEPTED('update_access') },
    errors: [...WRITE_ERRORS, 422],
    links: OPERATION_LINKS,
  },
  {
    operationId: 'reconnectConnection',
    tag: 'Connections',
    method: 'post',
    path: `${CONNECTION}/reconnect`,
    summary: 'Reconnect',
    description:
      'Creates the connection again, e.g. in another org (give its URL and the admin credentials); to grant newly ' +
      'configured fields, Update access is faster. A working connection is made before it is broken: the new app, ' +
      'integration user and permission set are created and checked first, the agent is switched to them, and only ' +
      'then are the old ones removed; if the creation fails, the old connection keeps working. That needs a spare ' +
      'Salesforce Integration license for the overlap: without one the answer is 409 `break-before-make-required`, ' +
      'and `"breakBeforeMake": true` confirms removing the current connection first. A connection that does not ' +
      'work is removed first. Dynamics 365 Sales: 409.',
    scope: 'admin',
    body: reconnectBodySchema,
    bodyExamples: {
      same: { summary: 'The same org, the saved configuration', value: {} },
      fields: {
        summary: 'More fields',
        value: {
          agentConfiguration: { objects: [...CONFIGURATION.objects, { object: 'Opportunity', fields: ['StageName'] }] },
        },
      },
      breakBeforeMake: {
        summary: 'No spare license: remove the current connection first',
        value: { breakBeforeMake: true },
      },
      otherOrg: {
        summary: 'Another org',
        value: {
          loginUrl: 'https://globex.my.salesforce.com',
          adminCredentials: { secretRef: `tenants/${TENANT}/admin/globex` },
        },
      },
    },
    idempotencyKey: 'operation',
    responses: { 202: ACCEPTED('reconnect') },
    errors: [...WRITE_ERRORS, 422],
    links: OPERATION_LINKS,
  },
  {
    operationId: 'listOperations',
    tag: 'Operations',
    method: 'get',
    path: `${CONNECTION}/operations`,
    summary: 'List operations',
    description: 'The running operation first, then the ended ones, most recent first (the last 20 are kept).',
    scope: 'read',
    query: operationsQuerySchema,
    responses: {
      200: {
        description: 'Most recent first',
        schema: operationListSchema,
        examples: { list: { summary: 'One running operation', value: { operations: [runningOperationExample] } } },
      },
    },
    errors: READ_ERRORS,
  },
  {
    operationId: 'listAuditEvents',
    tag: 'Operations',
    method: 'get',
    path: '/v1/tenants/{tenantId}/audit-events',
    summary: 'List audit events',
    description:
      'The tenant’s audit trail, most recent first: one event per finished operation with who asked (API key id, ' +
      'the admin signed in with Salesforce), the operation, when it ended, its outcome and every component it ' +
      'created, changed or removed in Salesforce. Kept in the audit store, apart from Temporal: it outlives ' +
      'restarts and workflow retention. Page with `limit` and the `nextCursor` of the previous page.',
    scope: 'read',
    query: auditQuerySchema,
    responses: {
      200: {
        description: 'A page of events, most recent first',
        schema: auditPageSchema,
        examples: { page: { summary: 'One enable', value: auditPageExample } },
      },
    },
    errors: [...READ_ERRORS],
    errorText: {
      400: 'A bad `limit` (1 to 100) or a `cursor` this API did not give, named in `errors`',
      503: 'The audit store did not answer, or the audit trail is not configured on this API',
    },
  },
  {
    operationId: 'getOperation',
    tag: 'Operations',
    method: 'get',
    path: `${CONNECTION}/operations/{operationId}`,
    summary: 'Read an operation',
    description: 'Status, the current step, steps done and compensated, the failure if any, and what remains.',
    scope: 'read',
    responses: {
      200: {
        description: 'The operation',
        schema: operationViewSchema,
        examples: { running: { summary: 'Running', value: runningOperationExample } },
      },
    },
    errors: READ_ERRORS,
    errorText: { 404: 'Unknown tenant, or no such operation on this connection' },
  },
  {
    operationId: 'cancelOperation',
    tag: 'Operations',
    method: 'post',
    path: `${CONNECTION}/operations/{operationId}/cancel`,
    summary: 'Cancel a running operation',
    description:
      'What the operation did is rolled back. Cancelling a cancelled operation answers the same; one that ended ' +
      'otherwise is a 409.',
    scope: 'admin',
    body: emptyBodySchema,
    idempotencyKey: 'validated',
    responses: {
      202: {
        description: 'Cancellation requested (or already done): the operation',
        schema: operationViewSchema,
        location: true,
        examples: { cancelled: { summary: 'Cancelled', value: cancelledOperationExample } },
      },
    },
    errors: WRITE_ERRORS,
    errorText: {
      404: 'Unknown tenant, or no such operation on this connection',
      409: 'The operation has already ended otherwise (`operation-ended`)',
    },
  },
  {
    operationId: 'getAgentToken',
    tag: 'Agent',
    method: 'post',
    path: `${CONNECTION}/agent-token`,
    summary: 'Get an access token for the agent',
    description:
      'A short-lived Salesforce access token for the integration user, cached until shortly before it expires. The ' +
      'service signs the JWT assertion; the private key never leaves it. Needs the agent scope.',
    scope: 'agent',
    body: emptyBodySchema,
    idempotencyKey: 'validated',
    responses: {
      200: {
        description: 'A token',
        schema: agentTokenSchema,
        headers: { 'Cache-Control': HEADERS['Cache-Control'] ?? {} },
        examples: { token: { summary: 'A token', value: tokenExample } },
      },
    },
    errors: [...WRITE_ERRORS, 502],
    errorText: { 409: 'Not connected (`not-connected`), or Dynamics 365 Sales, which needs no token' },
  },
  {
    operationId: 'getAgentConfiguration',
    tag: 'Agent',
    method: 'get',
    path: '/v1/tenants/{tenantId}/agent-configuration',
    summary: 'Read the agent configuration',
    description: 'The objects and fields the agent reads, and what the Salesforce connection does not grant yet.',
    scope: 'read',
    responses: {
      200: {
        description: 'The configuration',
        schema: agentConfigurationViewSchema,
        examples: { state: { summary: 'More than is granted', value: configurationStateExample } },
      },
    },
    errors: READ_ERRORS,
    errorText: { 404: 'Unknown tenant, or no configuration saved yet' },
  },
  {
    operationId: 'listOrgObjects',
    tag: 'Agent',
    method: 'get',
    path: '/v1/tenants/{tenantId}/connections/salesforce/objects',
    summary: 'List the objects the agent can read in the org',
    description:
      'From the org’s describe, as its admin: the data objects an integration user can be granted read access to ' +
      '(setup objects, sharing, history, feed and event objects left out), for a picker. Reads with the ' +
      'connection’s admin credentials, or, before any connection, with `secretRef` and the org’s URL.',
    scope: 'read',
    query: orgCatalogueQuerySchema,
    responses: {
      200: {
        description: 'The objects, by label',
        schema: orgObjectsViewSchema,
        examples: { objects: { summary: 'A few objects', value: orgObjectsExample } },
      },
    },
    errors: [...READ_ERRORS, 409, 422],
    errorText: {
      404: 'Unknown tenant',
      ...ORG_CATALOGUE_ERROR_TEXT,
    },
  },
  {
    operationId: 'listOrgObjectFields',
    tag: 'Agent',
    method: 'get',
    path: '/v1/tenants/{tenantId}/connections/salesforce/objects/{object}/fields',
    summary: 'List an object’s fields in the org',
    description: 'From the object’s describe, as the org’s admin: its fields by label, for a picker.',
    scope: 'read',
    query: orgCatalogueQuerySchema,
    responses: {
      200: {
        description: 'The object and its fields',
        schema: orgFieldsViewSchema,
        examples: { fields: { summary: 'Account', value: orgFieldsExample } },
      },
    },
    errors: [...READ_ERRORS, 409, 422],
    errorText: {
      404: 'Unknown tenant, or no such object the agent can read in the org',
      ...ORG_CATALOGUE_ERROR_TEXT,
    },
  },
  {
    operationId: 'putAgentConfiguration',
    tag: 'Agent',
    method: 'put',
    path: '/v1/tenants/{tenantId}/agent-configuration',
    summary: 'Set the objects and fields the agent reads',
    description:
      'When it reads more than the connection grants, the connection says a reconnect (or an update of access) is ' +
      'needed. Once the connection has an org, the configuration is checked against it first.',
    scope: 'admin',
    body: agentConfigurationSchema,
    bodyRequired: true,
    bodyExamples: { configuration: { summary: 'Two objects', value: CONFIGURATION } },
    responses: {
      200: {
        description: 'Saved',
        schema: agentConfigurationViewSchema,
        examples: { state: { summary: 'More than is granted', value: configurationStateExample } },
      },
    },
    errors: [...WRITE_ERRORS, 422],
    errorText: {
      409: 'Salesforce refused the connection’s admin credentials when the configuration was checked against the org',
      422:
        'An object or field named twice (in any case), more than 1,000 fields in total, or objects and fields the ' +
        'org does not have or the integration user could not read (`configuration-not-servable`, checked once the ' +
        'connection has an org)',
      503: 'Temporal did not answer, or Salesforce could not be reached: retry after Retry-After seconds',
    },
  },
  {
    operationId: 'startSalesforceSignIn',
    tag: 'Connections',
    method: 'post',
    path: SIGN_IN_PATH,
    summary: 'Start Sign in with Salesforce',
    description:
      'The OAuth 2.0 web server flow with PKCE (S256): answers the `authorizeUrl` of Salesforce’s sign-in page for ' +
      'the service’s OAuth client (SALESFORCE_CLIENT_ID/SECRET), with a `state` bound to the tenant and a PKCE ' +
      'verifier the service keeps for 10 minutes. Open it in the admin’s browser; Salesforce sends the browser back ' +
      'to the callback (`/v1/oauth/salesforce/callback`), which stores the tokens and returns to the admin page.',
    scope: 'admin',
    body: signInBodySchema,
    bodyRequired: true,
    idempotencyKey: 'validated',
    responses: {
      200: {
        description: 'Where to send the admin',
        schema: signInStartedSchema,
        headers: { 'Cache-Control': HEADERS['Cache-Control'] ?? {} },
        examples: { started: { summary: 'Started', value: signInStartedExample } },
      },
    },
    errors: [400, 401, 403, 404, 409, 413, 415, 429],
    errorText: { 409: 'The service has no OAuth client (`sign-in-unavailable`): set SALESFORCE_CLIENT_ID/SECRET' },
  },
  {
    operationId: 'getSalesforceSignIn',
    tag: 'Connections',
    method: 'get',
    path: SIGN_IN_PATH,
    summary: 'Who signed in with Salesforce',
    description:
      'The admin who last signed in with Salesforce for the tenant: username, org id, instance URL and when, and the ' +
      'reference of the stored tokens to give as `adminCredentials` (never the tokens).',
    scope: 'read',
    responses: {
      200: {
        description: 'Who signed in, or `signedIn: false`',
        schema: signInStatusSchema,
        headers: { 'Cache-Control': HEADERS['Cache-Control'] ?? {} },
        examples: {
          signedIn: { summary: 'Signed in', value: signInStatusExample },
          nobody: { summary: 'Nobody signed in', value: { signedIn: false } satisfies SignInStatus },
        },
      },
    },
    errors: [400, 401, 403, 404, 429],
  },
  {
    operationId: 'salesforceSignInCallback',
    tag: 'Connections',
    method: 'get',
    path: '/v1/oauth/salesforce/callback',
    summary: 'Sign in with Salesforce: the callback',
    description:
      'Where Salesforce sends the admin’s browser back (register this URL, under API_PUBLIC_URL, as the OAuth ' +
      'client’s callback). With a `state` the service gave and has not seen back yet: exchanges the `code` with the ' +
      'PKCE verifier, stores the tokens, and redirects to the admin page with `signIn=ok`, or with ' +
      '`signInError=<OAuth error code>` (`access_denied` when the admin denied access, `invalid_grant` when Salesforce ' +
      'refused the code). A state that is unknown, expired or already used is a 400 and nothing is stored.',
    scope: 'none',
    public: true,
    query: signInCallbackQuerySchema,
    responses: {},
    redirects: {
      303: {
        description: 'Back to the admin page: `/admin/?tenant=<tenantId>&signIn=ok` or `&signInError=<code>`',
        location: '^/admin/\\?tenant=[A-Za-z0-9_-]+&(signIn=ok|signInError=[A-Za-z0-9_.-]+)$',
        examples: {
          signedIn: { summary: 'Signed in', value: 'Redirecting to /admin/?tenant=acme&signIn=ok' },
          denied: {
            summary: 'Denied in Salesforce',
            value: 'Redirecting to /admin/?tenant=acme&signInError=access_denied',
          },
        },
      },
    },
    errors: [400, 429],
    errorText: {
      400:
        'The query does not match this document, or its state is unknown, expired or already used ' +
        '(`sign-in-state-unknown`, naming query.state); nothing is stored',
      429: 'Too many requests from this address: retry after Retry-After seconds',
    },
  },
];

const FLEET_ID = '3b0f6d1e-2c4a-4f7b-8e9d-1a2b3c4d5e6f';
const FLEET_PATH = '/v1/fleet-operations/{fleetOperationId}';
const fleetExample: FleetOperationView = {
  id: FLEET_ID,
  kind: 'update_access',
  status: 'running',
  total: 200,
  done: 120,
  failed: 1,
  running: 10,
  remaining: 69,
  failures: [
    {
      tenantId: 'globex',
      code: 'operation-rejected',
      message: 'The connection is not established: enable it, with the objects and fields the agent reads.',
    },
  ],
  createdAt: '2026-03-02T09:00:00.000Z',
};
const FLEET_READ_ERRORS: ErrorStatus[] = [400, 401, 403, 404, 429, 503];
const FLEET_LOCATION: JsonSchema = {
  description: 'The fleet operation’s URL',
  required: true,
  schema: { type: 'string', pattern: '^/v1/fleet-operations/[0-9a-f-]{36}$' },
};
const fleetView = (description: string, status: FleetOperationView['status'], location = true): Success => ({
  description,
  schema: fleetOperationViewSchema,
  ...(location ? { headers: { Location: FLEET_LOCATION } } : {}),
  examples: { progress: { summary: status, value: { ...fleetExample, status } } },
});
/** From a started fleet operation to reading and steering it: for clients, and for stateful API testing. */
const fleetLink = (operationId: string, description: string) => ({
  operationId,
  description,
  parameters: { fleetOperationId: '$response.body#/id' },
});
const FLEET_LINKS = {
  GetFleetOperation: fleetLink('getFleetOperation', 'Read the fleet operation that was started.'),
  PauseFleetOperation: fleetLink('pauseFleetOperation', 'Pause the fleet operation that was started.'),
  ResumeFleetOperation: fleetLink('resumeFleetOperation', 'Resume the fleet operation that was started.'),
  CancelFleetOperation: fleetLink('cancelFleetOperation', 'Cancel the fleet operation that was started.'),
};

/** A fleet operation's pause, resume and cancel. */
function fleetControl(action: 'pause' | 'resume' | 'cancel', summary: string, description: string): Operation {
  return {
    operationId: `${action}FleetOperation`,
    tag: 'Fleet',
    method: 'post',
    path: `${FLEET_PATH}/${action}`,
    summary,
    description,
    scope: 'fleet',
    body: emptyBodySchema,
    idempotencyKey: 'validated',
    responses: {
      [action === 'cancel' ? 202 : 200]: fleetView(
        'The fleet operation',
        action === 'pause' ? 'paused' : action === 'cancel' ? 'cancelled' : 'running',
      ),
    },
    errors: [...FLEET_READ_ERRORS, 409, 413, 415],
    errorText: { 404: 'No such fleet operation', 409: 'The fleet operation has ended (or was cancelled)' },
  };
}

const fleetOperations: Operation[] = [
  {
    operationId: 'startFleetOperation',
    tag: 'Fleet',
    method: 'post',
    path: '/v1/fleet-operations',
    summary: 'Start a fleet operation',
    description:
      'Runs `update_access`, `rotate_certificate` or `reconnect` on many tenants’ Salesforce connections: a list of ' +
      'tenants, or every connection in a status. Each tenant’s operation goes through its connection, one at a ' +
      'time per tenant as always (a busy connection is tried again later); at most `maxConcurrency` at once, never ' +
      'two at once on one org, at most `perOrgPerMinute` started per org per minute, behind what admins wait for. ' +
      'A tenant whose operation is refused or fails is reported with its cause; the others go on. A status that ' +
      'matches no connection, or more than 10,000, is a 422.',
    scope: 'fleet',
    body: fleetOperationBodySchema,
    bodyRequired: true,
    bodyExamples: {
      status: { summary: 'Every enabled connection', value: { kind: 'update_access', status: 'enabled' } },
      list: {
        summary: 'Listed tenants, two at a time',
        value: { kind: 'rotate_certificate', tenantIds: ['acme', 'globex'], maxConcurrency: 2 },
      },
    },
    idempotencyKey: 'operation',
    responses: { 202: fleetView('Accepted: the fleet operation runs (follow Location)', 'running') },
    links: FLEET_LINKS,
    errors: [400, 401, 403, 413, 415, 422, 429, 503],
    errorText: {
      403: 'The key lacks the `fleet` scope, or is bound to one tenant',
      422: 'An unknown tenant, a status that matches no connection or too many, or an Idempotency-Key reused',
    },
  },
  {
    operationId: 'getFleetOperation',
    tag: 'Fleet',
    method: 'get',
    path: FLEET_PATH,
    summary: 'Read a fleet operation',
    description: 'Its status and counts (total, done, failed, running, remaining), and the failed tenants with cause.',
    scope: 'fleet',
    responses: { 200: fleetView('The fleet operation', 'running', false) },
    errors: FLEET_READ_ERRORS,
    errorText: { 404: 'No such fleet operation' },
  },
  fleetControl('pause', 'Pause a fleet operation', 'No tenant starts until it is resumed; running ones finish.'),
  fleetControl('resume', 'Resume a fleet operation', 'Tenants start again. Resuming a running one answers the same.'),
  fleetControl(
    'cancel',
    'Cancel a fleet operation',
    'No tenant starts any more; running ones finish (they are not rolled back). Cancelling twice answers the same.',
  ),
];

const PATH_PARAMETERS: Record<string, { schema: z.ZodType; description: string; example: string }> = {
  tenantId: { schema: tenantIdSchema, description: 'The tenant (the customer)', example: TENANT },
  crm: { schema: crmSchema, description: 'The CRM', example: 'salesforce' },
  operationId: { schema: operationIdSchema, description: 'The operation', example: OPERATION_ID },
  fleetOperationId: {
    schema: fleetPathSchema.shape.fleetOperationId,
    description: 'The fleet operation',
    example: FLEET_ID,
  },
  object: { schema: orgObjectPathSchema.shape.object, description: 'An object’s API name', example: 'Account' },
};

const COMPONENT_PREFIX = '#/components/schemas/';

/** Writes the wire form of the schemas in `wireSchemas` (a query string holding an integer) over zod's own. */
const override = (ctx: { zodSchema: unknown; jsonSchema: JsonSchema }) => {
  const wire = wireSchemas.get(ctx.zodSchema as z.ZodType);
  if (!wire) return;
  for (const key of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[key];
  Object.assign(ctx.jsonSchema, wire);
};

function refOrInline(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const id = z.globalRegistry.get(schema)?.id;
  if (id) return { $ref: `${COMPONENT_PREFIX}${id}` };
  return strip(z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any', override }));
}

function strip(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

/** The request schemas: shown as clients write them (defaults optional); every other schema as the API answers it. */
const REQUEST_SCHEMAS = [
  enableBodySchema,
  planBodySchema,
  updateAccessBodySchema,
  reconnectBodySchema,
  disableBodySchema,
  emptyBodySchema,
  agentConfigurationSchema,
  signInBodySchema,
  fleetOperationBodySchema,
];

/**
 * An object schema whose `anyOf` only adds rules about which properties are present (`required`, or a property set
 * to `false`), rewritten as an `anyOf` of whole objects: the same set of values (the object's rules distribute over
 * the alternatives), but each alternative is a shape of its own, which code generators and renderers understand.
 */
function distributeAnyOf(schema: JsonSchema): JsonSchema {
  const { anyOf, properties, required, ...rest } = schema as JsonSchema & {
    anyOf?: JsonSchema[];
    properties?: Record<string, unknown>;
    required?: string[];
  };
  const presenceOnly = (branch: JsonSchema) =>
    Object.keys(branch).every((key) => key === 'required' || key === 'properties') &&
    Object.values((branch.properties as Record<string, unknown> | undefined) ?? {}).every((v) => v === false);
  if (rest.type !== 'object' || !properties || !Array.isArray(anyOf) || !anyOf.every(presenceOnly)) return schema;
  const { description, examples, ...shape } = rest;
  return {
    ...(description !== undefined ? { description } : {}),
    anyOf: anyOf.map((branch) => ({
      ...shape,
      properties: { ...properties, ...(branch.properties as Record<string, unknown> | undefined) },
      required: [...new Set([...(required ?? []), ...((branch.required as string[] | undefined) ?? [])])],
    })),
    ...(examples !== undefined ? { examples } : {}),
  };
}

/** Every schema with an id, as components: request schemas as clients write them, responses as they arrive. */
function components(): Record<string, JsonSchema> {
  const convert = (io: 'input' | 'output') =>
    (
      z.toJSONSchema(z.globalRegistry, {
        target: 'draft-2020-12',
        io,
        unrepresentable: 'any',
        override,
        uri: (id) => `${COMPONENT_PREFIX}${id}`,
      }) as { schemas: Record<string, JsonSchema> }
    ).schemas;
  const requests = convert('input');
  const responses = convert('output');
  const requestIds = new Set(REQUEST_SCHEMAS.map((s) => z.globalRegistry.get(s)?.id));
  return Object.fromEntries(
    Object.keys(responses)
      .sort()
      .map((id) => [id, distributeAnyOf(strip((requestIds.has(id) ? requests[id] : responses[id]) ?? {}))]),
  );
}

function parametersOf(op: Operation): JsonSchema[] {
  const parameters: JsonSchema[] = [...op.path.matchAll(/\{(\w+)\}/g)].map(([, name = '']) => {
    const parameter = PATH_PARAMETERS[name];
    if (!parameter) throw new Error(`no schema for the path parameter ${name}`);
    return {
      name,
      in: 'path',
      required: true,
      description: parameter.description,
      schema: refOrInline(parameter.schema, 'input'),
      example: parameter.example,
    };
  });
  if (op.query) {
    for (const [name, schema] of Object.entries(op.query.shape)) {
      const inline = refOrInline(schema as z.ZodType, 'input');
      const { description, ...rest } = inline;
      parameters.push({
        name,
        in: 'query',
        required: !(schema as z.ZodType).safeParse(undefined).success,
        ...(typeof description === 'string' ? { description } : {}),
        schema: rest,
      });
    }
  }
  if (op.idempotencyKey) {
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        op.idempotencyKey === 'operation'
          ? 'The same key and body return the same operation (also after a 503); the same key with another body is ' +
            'a 422 naming the first operation. Without it, every request is a new operation.'
          : 'Accepted for symmetry with the other POSTs and validated; repeating the request is safe anyway.',
      schema: refOrInline(idempotencyKeySchema, 'input'),
      example: 'enable-acme-2026-03-02',
    });
  }
  return parameters;
}

function headersOf(names: string[] | undefined): JsonSchema | undefined {
  if (!names?.length) return undefined;
  return Object.fromEntries(names.map((name) => [name, HEADERS[name]]));
}

function responsesOf(op: Operation): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  for (const [status, success] of Object.entries(op.responses)) {
    const headers = {
      ...(success.location ? { Location: HEADERS.Location } : {}),
      ...success.headers,
    };
    responses[status] = {
      description: success.description,
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      content: {
        'application/json': { schema: refOrInline(success.schema, 'output'), examples: success.examples },
      },
    };
  }
  for (const [status, redirect] of Object.entries(op.redirects ?? {})) {
    responses[status] = {
      description: redirect.description,
      headers: {
        Location: {
          description: 'Where the browser goes',
          required: true,
          schema: { type: 'string', pattern: redirect.location },
        },
      },
      content: { 'text/plain': { schema: { type: 'string' }, examples: redirect.examples } },
    };
  }
  for (const status of op.errors) {
    const error = ERRORS[status];
    const headers = headersOf(error.headers);
    responses[status] = {
      description: op.errorText?.[status] ?? error.description,
      ...(headers ? { headers } : {}),
      content: {
        'application/problem+json': { schema: { $ref: `${COMPONENT_PREFIX}Problem` }, examples: error.examples },
      },
    };
  }
  return responses;
}

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function openApiDocument(): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of [...operations, ...fleetOperations]) {
    const pathItem = (paths[op.path] ??= {});
    pathItem[op.method] = {
      operationId: op.operationId,
      tags: [op.tag],
      summary: op.summary,
      description:
        op.scope === 'none'
          ? `${op.description}\n\nNo API key.`
          : `${op.description}\n\nScope: \`${op.scope}\`${op.scope === 'read' ? ' (or `admin`)' : ''}.`,
      security: op.public ? [] : [{ apiKey: [] }],
      ...(op.scope === 'none' ? {} : { 'x-required-scope': op.scope }),
      parameters: parametersOf(op),
      ...(op.body
        ? {
            requestBody: {
              required: op.bodyRequired ?? false,
              ...(op.bodyRequired ? {} : { description: 'Optional: no body is the same as `{}`.' }),
              content: {
                'application/json': {
                  schema: refOrInline(op.body, 'input'),
                  ...(op.bodyExamples ? { examples: op.bodyExamples } : {}),
                },
              },
            },
          }
        : {}),
      responses: responsesOf(op),
    };
    if (op.links) {
      const accepted = (pathItem[op.method] as { responses: Record<string, Record<string, unknown>> }).responses['202'];
      if (accepted) accepted.links = op.links;
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'agent-connections',
      version: '1.0.0',
      description:
        'Connects a sales agent to a customer’s Salesforce org (Dynamics 365 Sales is connected natively). ' +
        'Authenticate with `Authorization: Bearer <API key>`; scopes: `admin` (operations, configuration, and ' +
        'everything `read` allows), `read`, `agent` (the token broker), `fleet` (fleet operations; not implied by ' +
        '`admin`). Errors are RFC 9457 `application/problem+json`: ' +
        '400 when a request does not match this document, 422 when it does but breaks a rule a schema cannot state.',
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'Connections', description: 'A tenant’s connection to its CRM, and the operations that change it' },
      { name: 'Operations', description: 'The operations of a connection: progress, outcome, cancel' },
      { name: 'Agent', description: 'What the agent reads, and its Salesforce access token' },
      { name: 'Fleet', description: 'One operation over many tenants: progress, pause, resume, cancel' },
    ],
    paths,
    components: {
      schemas: components(),
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key of the service' } },
    },
  };
}
