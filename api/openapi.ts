import { z } from 'zod';
import type { Scope } from './auth';
import {
  agentConfigurationSchema,
  agentConfigurationViewSchema,
  agentTokenSchema,
  connectionViewSchema,
  crmSchema,
  disableBodySchema,
  enableBodySchema,
  idempotencyKeySchema,
  operationAcceptedSchema,
  operationIdSchema,
  operationListSchema,
  operationViewSchema,
  operationsQuerySchema,
  reconnectBodySchema,
  rotateCertificateBodySchema,
  updateAccessBodySchema,
  planBodySchema,
  planViewSchema,
  tenantIdSchema,
} from './schemas';

type JsonSchema = Record<string, unknown>;

interface Operation {
  method: 'get' | 'post' | 'put';
  path: string;
  summary: string;
  description?: string;
  scope: Scope;
  body?: z.ZodType;
  bodyRequired?: boolean;
  query?: z.ZodObject;
  idempotent?: boolean;
  success: { status: number; description: string; schema?: z.ZodType; location?: boolean };
  errors: number[];
}

/** Every operation answers the same way: 202, the operation, and its Location. */
const OPERATION_ACCEPTED = {
  status: 202,
  description: 'Accepted; the operation runs',
  schema: operationAcceptedSchema,
  location: true,
} as const;

const CONNECTION = '/v1/tenants/{tenantId}/connections/{crm}';
const COMMON_ERRORS = [400, 401, 403, 404, 405, 429, 503];

const operations: Operation[] = [
  {
    method: 'get',
    path: CONNECTION,
    summary: 'Read the connection',
    description:
      'Status, the running operation and its step, connection details, granted fields, the last error with its fix, ' +
      'and whether a reconnect is needed (with the missing fields). Answers even while no worker runs.',
    scope: 'read',
    success: { status: 200, description: 'The connection', schema: connectionViewSchema },
    errors: COMMON_ERRORS,
  },
  {
    method: 'post',
    path: `${CONNECTION}/enable`,
    summary: 'Enable access',
    description:
      'Creates the OAuth client app, the integration user and the permission set in the org. Dynamics 365 answers 200: ' +
      'it is connected natively.',
    scope: 'admin',
    body: enableBodySchema,
    bodyRequired: true,
    idempotent: true,
    success: OPERATION_ACCEPTED,
    errors: [...COMMON_ERRORS, 409, 413, 415, 422],
  },
  {
    method: 'post',
    path: `${CONNECTION}/disable`,
    summary: 'Disable access',
    description: 'Removes what enable created (the integration user is deactivated: Salesforce cannot delete users).',
    scope: 'admin',
    body: disableBodySchema,
    idempotent: true,
    success: OPERATION_ACCEPTED,
    errors: [...COMMON_ERRORS, 409, 413, 415, 422],
  },
  {
    method: 'post',
    path: `${CONNECTION}/rotate-certificate`,
    summary: 'Rotate the JWT certificate',
    description:
      'Replaces the app’s key pair and certificate without downtime: the old key is discarded only once the new one signs in.',
    scope: 'admin',
    body: rotateCertificateBodySchema,
    idempotent: true,
    success: OPERATION_ACCEPTED,
    errors: [...COMMON_ERRORS, 409, 413, 415, 422],
  },
  {
    method: 'post',
    path: `${CONNECTION}/plan`,
    summary: 'Plan an operation',
    description:
      'What an enable, an update of access or a reconnect would do, read from the org: the components it would ' +
      'create, change and remove, the object and field grants, the licenses it needs and the Salesforce calls it ' +
      'would make, with any problem that would stop it. Makes no write to Salesforce and starts nothing. The body is ' +
      'the operation’s own, plus `operation`; the connection’s admin credentials and configuration are used when the ' +
      'body has none.',
    scope: 'admin',
    body: planBodySchema,
    success: { status: 200, description: 'The plan', schema: planViewSchema },
    errors: [...COMMON_ERRORS, 409, 413, 415, 422],
  },
  {
    method: 'post',
    path: `${CONNECTION}/update-access`,
    summary: 'Update access in place',
    description:
      'Grants the permission set exactly the agent configuration’s objects and fields (the held one, or the one ' +
      'sent, which replaces it): the app, consumer key, integration user and certificate stay, so the agent keeps its ' +
      'access throughout. The configuration is checked against the org first; a failure changes nothing, and a ' +
      'failed update puts the previous grants back.',
    scope: 'admin',
    body: updateAccessBodySchema,
    idempotent: true,
    success: OPERATION_ACCEPTED,
    errors: [...COMMON_ERRORS, 409, 413, 415, 422],
  },
  {
    method: 'post',
    path: `${CONNECTION}/reconnect`,
    summary: 'Reconnect',
    description: 'Removes the connection and creates it again, e.g. to grant newly configured fields.',
    scope: 'admin',
    body: reconnectBodySchema,
    idempotent: true,
    success: OPERATION_ACCEPTED,
    errors: [...COMMON_ERRORS, 409, 413, 415, 422],
  },
  {
    method: 'get',
    path: `${CONNECTION}/operations`,
    summary: 'List operations',
    scope: 'read',
    query: operationsQuerySchema,
    success: { status: 200, description: 'Most recent first', schema: operationListSchema },
    errors: COMMON_ERRORS,
  },
  {
    method: 'get',
    path: `${CONNECTION}/operations/{operationId}`,
    summary: 'Read an operation',
    description: 'Status, steps done and compensated, and the failure if any.',
    scope: 'read',
    success: { status: 200, description: 'The operation', schema: operationViewSchema },
    errors: COMMON_ERRORS,
  },
  {
    method: 'post',
    path: `${CONNECTION}/operations/{operationId}/cancel`,
    summary: 'Cancel a running operation',
    description: 'What the operation did is rolled back. Cancelling a cancelled operation answers the same.',
    scope: 'admin',
    idempotent: true,
    success: { status: 202, description: 'Cancellation requested', schema: operationViewSchema, location: true },
    errors: [...COMMON_ERRORS, 409, 415],
  },
  {
    method: 'post',
    path: `${CONNECTION}/agent-token`,
    summary: 'Get an access token for the agent',
    description:
      'A short-lived Salesforce access token for the integration user, cached until shortly before it expires. The ' +
      'service signs the JWT assertion; the private key never leaves it. Needs the agent scope.',
    scope: 'agent',
    success: { status: 200, description: 'A token', schema: agentTokenSchema },
    errors: [...COMMON_ERRORS, 409, 415, 502],
  },
  {
    method: 'get',
    path: '/v1/tenants/{tenantId}/agent-configuration',
    summary: 'Read the agent configuration',
    scope: 'read',
    success: { status: 200, description: 'The configuration', schema: agentConfigurationViewSchema },
    errors: COMMON_ERRORS,
  },
  {
    method: 'put',
    path: '/v1/tenants/{tenantId}/agent-configuration',
    summary: 'Set the objects and fields the agent reads',
    description: 'When it reads more than the connection grants, the connection says a reconnect is needed.',
    scope: 'admin',
    body: agentConfigurationSchema,
    bodyRequired: true,
    success: { status: 200, description: 'Saved', schema: agentConfigurationViewSchema },
    errors: [...COMMON_ERRORS, 409, 413, 415],
  },
];

const PATH_PARAMETERS: Record<string, z.ZodType> = {
  tenantId: tenantIdSchema,
  crm: crmSchema,
  operationId: operationIdSchema,
};

const COMPONENT_PREFIX = '#/components/schemas/';

function refOrInline(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const id = z.globalRegistry.get(schema)?.id;
  if (id) return { $ref: `${COMPONENT_PREFIX}${id}` };
  return strip(z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }));
}

function strip(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

/** Every schema with an id, as components: request schemas as clients write them, responses as they arrive. */
function components(): Record<string, JsonSchema> {
  const convert = (io: 'input' | 'output') =>
    (
      z.toJSONSchema(z.globalRegistry, {
        target: 'draft-2020-12',
        io,
        unrepresentable: 'any',
        uri: (id) => `${COMPONENT_PREFIX}${id}`,
      }) as { schemas: Record<string, JsonSchema> }
    ).schemas;
  const requests = convert('input');
  const responses = convert('output');
  const requestIds = new Set(
    [enableBodySchema, reconnectBodySchema, disableBodySchema, agentConfigurationSchema].map(
      (s) => z.globalRegistry.get(s)?.id,
    ),
  );
  return Object.fromEntries(
    Object.keys(responses).map((id) => [id, strip((requestIds.has(id) ? requests[id] : responses[id]) ?? {})]),
  );
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid body, path, query or header: `errors` lists each failing field',
  401: 'No or unknown API key',
  403: 'The API key lacks the scope',
  404: 'Unknown tenant, connection resource or operation',
  405: 'Method not allowed (see Allow)',
  409: 'An operation is running (`runningOperation` names it), or the operation does not apply now',
  413: 'Body too large',
  415: 'Body is not JSON',
  422: 'Idempotency-Key reused with another body',
  429: 'Rate limit of the API key (see Retry-After)',
  502: 'Salesforce refused the integration user’s sign-in',
  503: 'Temporal or the worker did not answer (see Retry-After)',
};

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function openApiDocument(): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const parameters: JsonSchema[] = [...op.path.matchAll(/\{(\w+)\}/g)].map(([, name = '']) => ({
      name,
      in: 'path',
      required: true,
      schema: refOrInline(PATH_PARAMETERS[name] ?? z.string(), 'input'),
    }));
    if (op.query) {
      for (const [name, schema] of Object.entries(op.query.shape)) {
        parameters.push({ name, in: 'query', required: false, schema: refOrInline(schema as z.ZodType, 'input') });
      }
    }
    if (op.idempotent) {
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description:
          'The same key and body return the same operation; the same key with another body is a 422. Without it, ' +
          'every request is a new operation.',
        schema: refOrInline(idempotencyKeySchema, 'input'),
      });
    }
    const responses: Record<string, unknown> = {
      [op.success.status]: {
        description: op.success.description,
        ...(op.success.location
          ? { headers: { Location: { description: 'The operation', schema: { type: 'string' } } } }
          : {}),
        ...(op.success.schema
          ? { content: { 'application/json': { schema: refOrInline(op.success.schema, 'output') } } }
          : {}),
      },
    };
    for (const status of op.errors) {
      responses[status] = {
        description: STATUS_TEXT[status] ?? 'Error',
        content: { 'application/problem+json': { schema: { $ref: `${COMPONENT_PREFIX}Problem` } } },
      };
    }
    const pathItem = (paths[op.path] ??= {});
    pathItem[op.method] = {
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      security: [{ apiKey: [] }],
      'x-required-scope': op.scope,
      parameters,
      ...(op.body
        ? {
            requestBody: {
              required: op.bodyRequired ?? false,
              content: { 'application/json': { schema: refOrInline(op.body, 'input') } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'agent-connections',
      version: '1.0.0',
      description:
        'Connects a sales agent to a customer’s Salesforce org. Authenticate with `Authorization: Bearer <API key>`; ' +
        'scopes: admin (operations, configuration, reads), read, agent (the token broker). Errors are RFC 9457 ' +
        'problem+json.',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: components(),
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key of the service' } },
    },
  };
}
