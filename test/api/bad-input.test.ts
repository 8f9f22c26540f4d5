import request from 'supertest';
import type { CreatedOrg } from '../../emulator';
import { connectionWorkflowId } from '../../workflows/definitions';
import type { ApiStack } from './api-stack';
import { AGENT_CONFIGURATION, startApiStack, uniqueTenant } from './api-stack';

interface BadRequest {
  name: string;
  method: 'get' | 'post' | 'put';
  path: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string is sent raw with the given Content-Type (JSON by default). */
  body?: unknown;
  rawBody?: string;
}

const VALID_AGENT_FIELDS = AGENT_CONFIGURATION;

const WRONG_TYPES: unknown[] = [null, 42, true, [], {}, '', 'x'.repeat(3000)];

const BAD_API_NAMES = [
  '',
  ' ',
  'Account Name',
  '1Account',
  '_Account',
  'Account_',
  'Acc__',
  '__c',
  'Account__c__d__e__f',
  'Name;DROP TABLE',
  'Näme',
  'a'.repeat(81),
  'Account.Name',
  'Account-Name',
  '<script>',
  'Name\n',
];

const BAD_URLS = [
  'not a url',
  'ftp://example.my.salesforce.com',
  'http://example.my.salesforce.com',
  'javascript:alert(1)',
  'https://user:pass@example.my.salesforce.com',
  'https://example.my.salesforce.com/?x=1',
  'https://example.my.salesforce.com/#frag',
  `https://${'a'.repeat(2100)}.com`,
  '//example.com',
  'file:///etc/passwd',
];

const BAD_TENANTS = ['a:b', '-start', 'x'.repeat(65), 'a%2Fb', 'a%20b', '%00', 'tenant.name', '..', 'caf%C3%A9', '%'];
const BAD_CRMS = ['hubspot', 'Salesforce', 'SALESFORCE', 'dynamics', '', 'salesforce%20', 'sales%2Fforce'];
const BAD_OPERATION_IDS = [
  '123',
  'not-a-uuid',
  '00000000-0000-4000-8000-00000000000Z',
  'ABCDEF00-0000-4000-8000-000000000000',
];

/** Every way to break the enable body, one field at a time, starting from a valid one. */
function enableBodyCases(valid: Record<string, unknown>): Array<[string, unknown]> {
  const cases: Array<[string, unknown]> = [];
  for (const field of [
    'loginUrl',
    'instanceUrl',
    'adminCredentials',
    'appKind',
    'agentName',
    'agentConfiguration',
    'readinessTimeout',
  ]) {
    for (const value of WRONG_TYPES)
      cases.push([`${field} = ${JSON.stringify(value)?.slice(0, 20)}`, { ...valid, [field]: value }]);
  }
  for (const url of BAD_URLS) {
    cases.push([`loginUrl ${url.slice(0, 30)}`, { ...valid, loginUrl: url }]);
    cases.push([`instanceUrl ${url.slice(0, 30)}`, { ...valid, instanceUrl: url }]);
  }
  const credentials: unknown[] = [
    { secretRef: 'tenants/other/admin/x' },
    { secretRef: '../../etc/passwd' },
    { secretRef: 'tenants/x/../y' },
    { secretRef: 'tenants/x/admin/x', accessToken: 'a' },
    { refreshToken: 'only-refresh' },
    { accessToken: '' },
    { accessToken: 'a'.repeat(9000) },
    { accessToken: 'a', extra: 1 },
    { accessToken: 42 },
  ];
  for (const c of credentials)
    cases.push([`adminCredentials ${JSON.stringify(c).slice(0, 40)}`, { ...valid, adminCredentials: c }]);
  for (const appKind of ['eca', 'CONNECTED_APP', 'external-client-app'])
    cases.push([`appKind ${appKind}`, { ...valid, appKind }]);
  for (const agentName of ['', 'a'.repeat(41), 'Agent<script>', ' leading', 'émoji 🤖'])
    cases.push([`agentName ${agentName.slice(0, 20)}`, { ...valid, agentName }]);
  for (const t of ['1 day', '5 seconds', '0 minutes', '3 hours', '15minutes', '15 min', '-1 minutes', '99999 hours']) {
    cases.push([`readinessTimeout ${t}`, { ...valid, readinessTimeout: t }]);
  }
  for (const [name, configuration] of agentConfigurationCases())
    cases.push([`agentConfiguration: ${name}`, { ...valid, agentConfiguration: configuration }]);
  const { loginUrl: _login, instanceUrl: _instance, ...withoutUrls } = valid;
  cases.push(['no URL at all', withoutUrls]);
  const { adminCredentials: _credentials, ...withoutCredentials } = valid;
  cases.push(['no credentials', withoutCredentials]);
  cases.push(['unknown field', { ...valid, surprise: 1 }]);
  cases.push([
    'prototype pollution',
    JSON.parse(`{"__proto__": {"admin": true}, "loginUrl": "${String(valid.loginUrl)}"}`),
  ]);
  return cases;
}

function agentConfigurationCases(): Array<[string, unknown]> {
  const manyFields = (n: number, prefix = 'F') => Array.from({ length: n }, (_, i) => `${prefix}${i}__c`);
  const cases: Array<[string, unknown]> = [
    ['no objects', { objects: [] }],
    ['objects not an array', { objects: {} }],
    ['object without fields', { objects: [{ object: 'Account', fields: [] }] }],
    ['object missing name', { objects: [{ fields: ['Name'] }] }],
    [
      'duplicate objects',
      {
        objects: [
          { object: 'Account', fields: ['Name'] },
          { object: 'account', fields: ['Industry'] },
        ],
      },
    ],
    ['duplicate fields', { objects: [{ object: 'Account', fields: ['Name', 'NAME'] }] }],
    [
      'too many objects',
      { objects: Array.from({ length: 51 }, (_, i) => ({ object: `Obj${i}__c`, fields: ['Name'] })) },
    ],
    ['too many fields in one object', { objects: [{ object: 'Account', fields: manyFields(201) }] }],
    [
      'too many fields in total',
      { objects: Array.from({ length: 6 }, (_, i) => ({ object: `Obj${i}__c`, fields: manyFields(180, `F${i}_`) })) },
    ],
    ['extra key in object', { objects: [{ object: 'Account', fields: ['Name'], access: 'edit' }] }],
    ['extra key at top', { objects: [{ object: 'Account', fields: ['Name'] }], write: true }],
    ['fields as a string', { objects: [{ object: 'Account', fields: 'Name' }] }],
  ];
  for (const name of BAD_API_NAMES) {
    cases.push([`object name ${JSON.stringify(name).slice(0, 20)}`, { objects: [{ object: name, fields: ['Name'] }] }]);
    cases.push([
      `field name ${JSON.stringify(name).slice(0, 20)}`,
      { objects: [{ object: 'Account', fields: [name] }] },
    ]);
  }
  for (const value of WRONG_TYPES) cases.push([`configuration ${JSON.stringify(value)?.slice(0, 20)}`, value]);
  return cases;
}

/**
 * A generated set of malformed bodies, paths, queries and headers. Each must get a 4xx problem+json that names the
 * status, no stack trace and no echo of a secret; and at the end no workflow may exist for the tenants used and
 * nothing may have been created in the org.
 */
describe('malformed requests', () => {
  let stack: ApiStack;
  let org: CreatedOrg;
  let componentsBefore: unknown[];
  const tenant = uniqueTenant('bad');
  const connection = `/v1/tenants/${tenant}/connections/salesforce`;
  const secret = 'SECRET-TOKEN-THAT-MUST-NOT-ECHO';

  beforeAll(async () => {
    stack = await startApiStack();
    org = await stack.emulator.control.createOrg({ key: 'bad' });
    componentsBefore = await stack.emulator.control.components('bad');
  });

  afterAll(async () => {
    await stack?.close();
  });

  function generate(): BadRequest[] {
    const admin = { Authorization: `Bearer ${stack.keys.admin}` };
    const valid = {
      loginUrl: org.loginUrl,
      instanceUrl: org.instanceUrl,
      adminCredentials: { accessToken: secret },
      agentConfiguration: VALID_AGENT_FIELDS,
    };
    const cases: BadRequest[] = [];
    for (const [name, body] of enableBodyCases(valid)) {
      cases.push({ name: `enable: ${name}`, method: 'post', path: `${connection}/enable`, headers: admin, body });
    }
    for (const [name, body] of enableBodyCases(valid).filter(
      ([n]) => !/^(appKind|agentName|no credentials|no URL)/.test(n),
    )) {
      const { appKind: _a, agentName: _n, ...reconnectBody } = body as Record<string, unknown>;
      if (JSON.stringify(reconnectBody) === JSON.stringify(body) || name.startsWith('unknown')) {
        cases.push({
          name: `reconnect: ${name}`,
          method: 'post',
          path: `${connection}/reconnect`,
          headers: admin,
          body: reconnectBody,
        });
      }
    }
    for (const [name, body] of agentConfigurationCases()) {
      cases.push({
        name: `agent-configuration: ${name}`,
        method: 'put',
        path: `/v1/tenants/${tenant}/agent-configuration`,
        headers: admin,
        body,
      });
    }
    for (const value of WRONG_TYPES.filter((v) =>
      v !== null && typeof v === 'object' && !Array.isArray(v) ? false : true,
    )) {
      cases.push({
        name: `disable: credentials ${JSON.stringify(value)?.slice(0, 20)}`,
        method: 'post',
        path: `${connection}/disable`,
        headers: admin,
        body: { adminCredentials: value },
      });
    }
    cases.push({
      name: 'disable: unknown field',
      method: 'post',
      path: `${connection}/disable`,
      headers: admin,
      body: { force: true },
    });
    const operation = `${connection}/operations/00000000-0000-4000-8000-000000000000`;
    cases.push({
      name: 'cancel: a body',
      method: 'post',
      path: `${operation}/cancel`,
      headers: admin,
      body: { reason: 'x' },
    });
    cases.push({
      name: 'agent-token: a body',
      method: 'post',
      path: `${connection}/agent-token`,
      headers: { Authorization: `Bearer ${stack.keys.agent}` },
      body: { scope: 'full' },
    });

    // Paths.
    for (const t of BAD_TENANTS) {
      cases.push({
        name: `tenant ${t}: read`,
        method: 'get',
        path: `/v1/tenants/${t}/connections/salesforce`,
        headers: admin,
      });
      cases.push({
        name: `tenant ${t}: enable`,
        method: 'post',
        path: `/v1/tenants/${t}/connections/salesforce/enable`,
        headers: admin,
        body: valid,
      });
      cases.push({
        name: `tenant ${t}: configure`,
        method: 'put',
        path: `/v1/tenants/${t}/agent-configuration`,
        headers: admin,
        body: VALID_AGENT_FIELDS,
      });
    }
    for (const crm of BAD_CRMS) {
      cases.push({
        name: `crm ${crm}: read`,
        method: 'get',
        path: `/v1/tenants/${tenant}/connections/${crm}`,
        headers: admin,
      });
      cases.push({
        name: `crm ${crm}: enable`,
        method: 'post',
        path: `/v1/tenants/${tenant}/connections/${crm}/enable`,
        headers: admin,
        body: valid,
      });
      cases.push({
        name: `crm ${crm}: disable`,
        method: 'post',
        path: `/v1/tenants/${tenant}/connections/${crm}/disable`,
        headers: admin,
      });
    }
    for (const id of BAD_OPERATION_IDS) {
      cases.push({
        name: `operation ${id}: read`,
        method: 'get',
        path: `${connection}/operations/${id}`,
        headers: admin,
      });
      cases.push({
        name: `operation ${id}: cancel`,
        method: 'post',
        path: `${connection}/operations/${id}/cancel`,
        headers: admin,
      });
    }
    for (const suffix of ['/enable/now', '/operations/x/y/z', '/../../admin', '/enable%00', '/agent-token/refresh']) {
      cases.push({
        name: `unknown path ${suffix}`,
        method: 'post',
        path: `${connection}${suffix}`,
        headers: admin,
        body: valid,
      });
    }
    // Queries.
    for (const query of [
      'limit=abc',
      'limit=0',
      'limit=51',
      'limit=-1',
      'limit=1.5',
      'limit=1&limit=2',
      'status=bogus',
      'status=',
      'unknown=1',
      'limit=9999',
    ]) {
      cases.push({ name: `query ${query}`, method: 'get', path: `${connection}/operations?${query}`, headers: admin });
    }
    // Headers.
    const authHeaders = [
      '',
      'Bearer',
      'Bearer ',
      'Basic dXNlcjpwYXNz',
      `bearer ${stack.keys.admin}x`,
      `Bearer ${secret}`,
      `Token ${stack.keys.admin}`,
      'Bearer a'.repeat(200),
    ];
    for (const header of authHeaders) {
      cases.push({
        name: `authorization "${header.slice(0, 20)}": enable`,
        method: 'post',
        path: `${connection}/enable`,
        headers: { Authorization: header },
        body: valid,
      });
      cases.push({
        name: `authorization "${header.slice(0, 20)}": read`,
        method: 'get',
        path: connection,
        headers: { Authorization: header },
      });
    }
    cases.push({
      name: 'read key: enable',
      method: 'post',
      path: `${connection}/enable`,
      headers: { Authorization: `Bearer ${stack.keys.read}` },
      body: valid,
    });
    cases.push({
      name: 'agent key: configure',
      method: 'put',
      path: `/v1/tenants/${tenant}/agent-configuration`,
      headers: { Authorization: `Bearer ${stack.keys.agent}` },
      body: VALID_AGENT_FIELDS,
    });
    cases.push({
      name: 'tenant-bound key, other tenant: enable',
      method: 'post',
      path: `${connection}/enable`,
      headers: { Authorization: `Bearer ${stack.keys.acmeAdmin}` },
      body: valid,
    });
    for (const key of ['', ' ', 'k'.repeat(256), 'with space', 'tab\tkey', 'clé']) {
      cases.push({
        name: `idempotency-key "${key.slice(0, 12)}"`,
        method: 'post',
        path: `${connection}/enable`,
        headers: { ...admin, 'Idempotency-Key': key },
        body: valid,
      });
    }
    for (const type of [
      'text/plain',
      'application/xml',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json-patch',
      'text/json',
    ]) {
      cases.push({
        name: `content-type ${type}`,
        method: 'post',
        path: `${connection}/enable`,
        headers: { ...admin, 'Content-Type': type },
        rawBody: JSON.stringify(valid),
      });
    }
    for (const raw of [
      '{',
      '{"loginUrl":}',
      "{'single': 1}",
      '[1,2',
      'null',
      '"string"',
      '42',
      'true',
      '[]',
      '{"a":1}{"b":2}',
      '\u0000',
    ]) {
      cases.push({
        name: `raw body ${raw.slice(0, 12)}`,
        method: 'post',
        path: `${connection}/enable`,
        headers: { ...admin, 'Content-Type': 'application/json' },
        rawBody: raw,
      });
    }
    cases.push({
      name: 'body over the limit',
      method: 'post',
      path: `${connection}/enable`,
      headers: { ...admin, 'Content-Type': 'application/json' },
      rawBody: JSON.stringify({ ...valid, agentName: 'x'.repeat(70_000) }),
    });
    cases.push({
      name: 'charset latin1',
      method: 'post',
      path: `${connection}/enable`,
      headers: { ...admin, 'Content-Type': 'application/json; charset=latin1' },
      rawBody: JSON.stringify(valid),
    });
    return cases;
  }

  it('answers every one of ≥ 300 malformed requests with a 4xx problem+json, and starts nothing', async () => {
    const cases = generate();
    expect(cases.length).toBeGreaterThanOrEqual(300);
    const failures: string[] = [];
    const run = async (c: BadRequest) => {
      let call = request(stack.app)[c.method](c.path);
      for (const [name, value] of Object.entries(c.headers ?? {})) call = call.set(name, value);
      const rawBody =
        c.rawBody ??
        (c.body !== undefined && (typeof c.body !== 'object' || c.body === null) ? JSON.stringify(c.body) : undefined);
      const response =
        rawBody !== undefined
          ? await call.set('Content-Type', c.headers?.['Content-Type'] ?? 'application/json').send(rawBody)
          : c.body !== undefined
            ? await call.send(c.body as object)
            : await call;
      const text = response.text ?? '';
      const problems = [
        response.status >= 400 && response.status < 500 ? '' : `status ${response.status}`,
        /^application\/problem\+json/.test(String(response.headers['content-type'])) ? '' : 'not problem+json',
        (response.body as { status?: number }).status === response.status ? '' : 'body.status differs',
        /\bat \S+ \(|node_modules|Error:/.test(text) ? 'leaks a stack' : '',
        text.includes(secret) ? 'echoes the secret' : '',
      ].filter(Boolean);
      if (problems.length > 0)
        failures.push(`${c.name}: ${problems.join(', ')} → ${response.status} ${text.slice(0, 200)}`);
    };
    // A few at a time: enough to be quick, few enough for two cores.
    for (let i = 0; i < cases.length; i += 8) await Promise.all(cases.slice(i, i + 8).map(run));
    expect(failures).toEqual([]);

    for (const crm of ['salesforce', 'dynamics365'] as const) {
      const described = await stack.env.client.workflow
        .getHandle(connectionWorkflowId(tenant, crm))
        .describe()
        .then(
          () => 'exists',
          (err: Error) => err.name,
        );
      expect(described).toBe('WorkflowNotFoundError');
    }
    expect(await stack.emulator.control.components('bad')).toEqual(componentsBefore);
    const calls = (await stack.emulator.control.counters()).byOperation;
    expect(Object.keys(calls).filter((operation) => /create|update|delete|deploy|upsert/.test(operation))).toEqual([]);
  });
});
