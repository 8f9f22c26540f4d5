import Ajv2020 from 'ajv/dist/2020';
import { openApiDocument } from '../../api/openapi';
import {
  agentConfigurationSchema,
  disableBodySchema,
  emptyBodySchema,
  enableBodySchema,
  operationsQuerySchema,
  reconnectBodySchema,
} from '../../api/schemas';
import type { z } from 'zod';

type Json = Record<string, unknown>;
interface MediaType {
  schema: Json;
  examples?: Record<string, { value: unknown }>;
}
interface OperationObject {
  operationId: string;
  summary: string;
  requestBody?: { content: Record<string, MediaType> };
  responses: Record<string, { description: string; content?: Record<string, MediaType> }>;
}

const document = openApiDocument() as {
  paths: Record<string, Record<string, OperationObject>>;
  components: { schemas: Record<string, Json> };
};
const operations = Object.entries(document.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, operation]) => ({ label: `${method.toUpperCase()} ${path}`, operation })),
);

/** Every `$ref` anywhere in a value. */
function refs(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refs);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, v]) => (key === '$ref' && typeof v === 'string' ? [v] : refs(v)));
  }
  return [];
}

describe('the OpenAPI document', () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema({ $id: 'doc', components: document.components }, 'doc');
  const validate = (schema: Json, value: unknown): string => {
    const check = ajv.compile({ $ref: '#/$defs/s', $defs: { s: rewrite(schema) } });
    return check(value) ? '' : ajv.errorsText(check.errors);
  };
  /** The document's references, pointed at the schema registered as "doc". */
  const rewrite = (schema: Json): Json =>
    JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"doc#/components/')) as Json;

  it('names every operation uniquely and resolves every reference', () => {
    const ids = operations.map((o) => o.operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    for (const ref of refs(document)) {
      const name = ref.replace('#/components/schemas/', '');
      expect(document.components.schemas[name]).toBeDefined();
    }
  });

  it('gives every response a body with examples that match its schema', () => {
    const failures: string[] = [];
    for (const { label, operation } of operations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        const media = Object.values(response.content ?? {});
        if (media.length === 0) failures.push(`${label} ${status}: no body`);
        for (const { schema, examples } of media) {
          if (!examples || Object.keys(examples).length === 0) failures.push(`${label} ${status}: no example`);
          for (const [name, example] of Object.entries(examples ?? {})) {
            const error = validate(schema, example.value);
            if (error) failures.push(`${label} ${status} ${name}: ${error}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('gives request examples that match both the document and the validation of the server', () => {
    const servers: Record<string, z.ZodType> = {
      enableConnection: enableBodySchema,
      disableConnection: disableBodySchema,
      reconnectConnection: reconnectBodySchema,
      rotateCertificate: emptyBodySchema,
      putAgentConfiguration: agentConfigurationSchema,
    };
    const failures: string[] = [];
    for (const { label, operation } of operations) {
      for (const { schema, examples } of Object.values(operation.requestBody?.content ?? {})) {
        for (const [name, example] of Object.entries(examples ?? {})) {
          const error = validate(schema, example.value);
          if (error) failures.push(`${label} ${name}: ${error}`);
          const server = servers[operation.operationId];
          if (server && !server.safeParse(example.value).success) failures.push(`${label} ${name}: server refuses`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('states the refinements of the server: one org URL at least, credentials whole, readiness range', () => {
    const enable = document.components.schemas.EnableRequest!;
    const reconnect = document.components.schemas.ReconnectRequest!;
    const credentials = { accessToken: 'a' };
    const cases: Array<[Json, unknown]> = [
      [enable, { adminCredentials: credentials }],
      [
        enable,
        { loginUrl: 'https://a.my.salesforce.com', adminCredentials: { secretRef: 'tenants/a/x', accessToken: 'a' } },
      ],
      [enable, { instanceUrl: 'https://a.my.salesforce.com', adminCredentials: credentials }],
      [
        enable,
        { loginUrl: 'https://a.my.salesforce.com', adminCredentials: credentials, readinessTimeout: '9 seconds' },
      ],
      [enable, { loginUrl: 'https://a.my.salesforce.com', adminCredentials: credentials, readinessTimeout: '2 hours' }],
      [
        enable,
        { loginUrl: 'https://a.my.salesforce.com', adminCredentials: credentials, readinessTimeout: '121 minutes' },
      ],
      [enable, { loginUrl: 'https://a.b.com/?q=1', adminCredentials: credentials }],
      [enable, { loginUrl: 'http://127.0.0.1:4410', adminCredentials: credentials }],
      [enable, { loginUrl: 'http://example.com', adminCredentials: credentials }],
      [enable, { loginUrl: 'https://a.com', adminCredentials: { secretRef: 'tenants/a/../b' } }],
      [reconnect, {}],
      [reconnect, { loginUrl: 'https://a.my.salesforce.com' }],
      [reconnect, { adminCredentials: credentials }],
      [reconnect, { instanceUrl: 'https://a.my.salesforce.com', adminCredentials: credentials }],
    ];
    const zodOf = (schema: Json) => (schema === enable ? enableBodySchema : reconnectBodySchema);
    for (const [schema, body] of cases) {
      const documentAccepts = validate(schema, body) === '';
      const serverAccepts = zodOf(schema).safeParse(body).success;
      expect({ body, documentAccepts }).toEqual({ body, documentAccepts: serverAccepts });
    }
  });

  it('documents the query limit as the integers the server accepts', () => {
    const parameter = (
      document.paths['/v1/tenants/{tenantId}/connections/{crm}/operations']?.get as unknown as {
        parameters: Array<{ name: string; schema: Json }>;
      }
    ).parameters.find((p) => p.name === 'limit')!;
    expect(parameter.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 50 });
    for (const value of ['0', '1', '9', '10', '49', '50', '51', '05', '1.0', '-1', 'x', '']) {
      const documentAccepts = validate(parameter.schema, Number(value)) === '' && String(Number(value)) === value;
      expect({ value, server: operationsQuerySchema.safeParse({ limit: value }).success }).toEqual({
        value,
        server: documentAccepts,
      });
    }
  });
});
