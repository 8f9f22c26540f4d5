/**
 * Generators of malformed API requests, shared by the API's bad-input test (test/api/bad-input.test.ts) and the
 * bad-input drill of `npm run chaos` (bench/chaos.ts): every request here must get a 4xx and start nothing.
 */
import { gzipSync, deflateSync } from 'node:zlib';

export interface BadRequest {
  name: string;
  method: 'get' | 'post' | 'put';
  path: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string is sent raw with the given Content-Type (JSON by default). */
  body?: unknown;
  rawBody?: string;
}

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

/** What the generators need to know about the stack under test. */
export interface BadRequestContext {
  keys: { admin: string; read: string; agent: string; acmeAdmin: string };
  /** The tenant the requests target (nothing may be started for it). */
  tenant: string;
  loginUrl: string;
  instanceUrl: string;
  /** A value that must never be echoed back. */
  secret: string;
  /** A valid agent configuration, for the cases where another part of the request is wrong. */
  agentConfiguration: { objects: Array<{ object: string; fields: string[] }> };
}

export function badRequests(context: BadRequestContext): BadRequest[] {
  const { keys, tenant, secret } = context;
  const VALID_AGENT_FIELDS = context.agentConfiguration;
  const connection = `/v1/tenants/${tenant}/connections/salesforce`;
  const admin = { Authorization: `Bearer ${keys.admin}` };
  const valid = {
    loginUrl: context.loginUrl,
    instanceUrl: context.instanceUrl,
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
    headers: { Authorization: `Bearer ${keys.agent}` },
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
    `bearer ${keys.admin}x`,
    `Bearer ${secret}`,
    `Token ${keys.admin}`,
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
    headers: { Authorization: `Bearer ${keys.read}` },
    body: valid,
  });
  cases.push({
    name: 'agent key: configure',
    method: 'put',
    path: `/v1/tenants/${tenant}/agent-configuration`,
    headers: { Authorization: `Bearer ${keys.agent}` },
    body: VALID_AGENT_FIELDS,
  });
  cases.push({
    name: 'tenant-bound key, other tenant: enable',
    method: 'post',
    path: `${connection}/enable`,
    headers: { Authorization: `Bearer ${keys.acmeAdmin}` },
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

/** A request as bytes on the wire. */
export interface RawBadRequest {
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** The bytes supertest would send for a BadRequest. */
export function toRaw(c: BadRequest): RawBadRequest {
  const headers: Record<string, string> = { ...(c.headers ?? {}) };
  const rawBody =
    c.rawBody ??
    (c.body !== undefined && (typeof c.body !== 'object' || c.body === null) ? JSON.stringify(c.body) : undefined);
  let body: Buffer | undefined;
  if (rawBody !== undefined) {
    body = Buffer.from(rawBody, 'utf8');
    headers['Content-Type'] = c.headers?.['Content-Type'] ?? 'application/json';
  } else if (c.body !== undefined) {
    body = Buffer.from(JSON.stringify(c.body), 'utf8');
    headers['Content-Type'] ??= 'application/json';
  }
  return { name: c.name, method: c.method.toUpperCase(), path: c.path, headers, ...(body ? { body } : {}) };
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` malformed requests derived from `badRequests` by seeded mutations that keep each one invalid: noise
 * headers, compressed or mis-declared encodings, other charsets, truncated and binary bodies, bodies over the size
 * limit, keys that are unknown or lack the scope, unknown paths and methods, over-long paths and many headers.
 */
export function fuzzedBadRequests(context: BadRequestContext, count: number, seed: number): RawBadRequest[] {
  const rng = mulberry32(seed);
  const pick = <T>(items: T[]): T => items[Math.floor(rng() * items.length)]!;
  const token = (n: number) =>
    Array.from({ length: n }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(rng() * 36)]).join('');
  const base = badRequests(context).map(toRaw);
  // A proper prefix of a JSON object or array is never valid JSON.
  const withJsonBody = base.filter((c) => c.body && c.body.length > 2 && (c.body[0] === 0x7b || c.body[0] === 0x5b));
  const { tenant, keys, secret } = context;
  const connection = `/v1/tenants/${tenant}/connections/salesforce`;
  const validBody = JSON.stringify({
    loginUrl: context.loginUrl,
    instanceUrl: context.instanceUrl,
    adminCredentials: { accessToken: secret },
    agentConfiguration: context.agentConfiguration,
  });
  const adminRoutes: Array<[string, string]> = [
    ['POST', `${connection}/enable`],
    ['POST', `${connection}/disable`],
    ['POST', `${connection}/reconnect`],
    ['PUT', `/v1/tenants/${tenant}/agent-configuration`],
    ['POST', `${connection}/operations/00000000-0000-4000-8000-000000000000/cancel`],
  ];
  const json = { 'Content-Type': 'application/json' };
  const mutations: Array<() => RawBadRequest> = [
    () => {
      const c = pick(base);
      const noise: Record<string, string> = {
        [`X-Fuzz-${token(6)}`]: token(20),
        Accept: pick(['*/*', 'text/html', 'application/xml', 'application/problem+json', '']),
        'Accept-Language': pick(['fr', 'zz-ZZ', '*;q=0', 'de-DE,de;q=0.9']),
        Cookie: `session=${token(40)}`,
        'User-Agent': token(Math.floor(rng() * 500)),
      };
      return { ...c, name: `${c.name} + noise headers`, headers: { ...noise, ...c.headers } };
    },
    () => {
      const c = pick(withJsonBody);
      const gzip = rng() < 0.5;
      return {
        ...c,
        name: `${c.name} (${gzip ? 'gzip' : 'deflate'})`,
        headers: { ...c.headers, 'Content-Encoding': gzip ? 'gzip' : 'deflate' },
        body: gzip ? gzipSync(c.body!) : deflateSync(c.body!),
      };
    },
    () => {
      const c = pick(withJsonBody);
      const encoding = pick(['gzip', 'br', 'compress', 'x-unknown', 'gzip, deflate']);
      return {
        ...c,
        name: `${c.name} (declared ${encoding}, sent plain)`,
        headers: { ...c.headers, 'Content-Encoding': encoding },
      };
    },
    () => {
      const c = pick(withJsonBody);
      const cut = 1 + Math.floor(rng() * (c.body!.length - 1));
      return { ...c, name: `${c.name} (truncated at ${cut})`, body: c.body!.subarray(0, cut) };
    },
    () => {
      const c = pick(withJsonBody);
      return {
        ...c,
        name: `${c.name} (invalid UTF-8)`,
        body: Buffer.concat([Buffer.from([0xff, 0xfe, 0xc3]), c.body!]),
      };
    },
    () => {
      const c = pick(withJsonBody);
      const charset = pick(['utf-16le', 'utf-16', 'iso-8859-1', 'koi8-r', 'utf-7', 'nonsense']);
      return {
        ...c,
        name: `${c.name} (charset ${charset})`,
        headers: { ...c.headers, 'Content-Type': `application/json; charset=${charset}` },
        body: charset.startsWith('utf-16') ? Buffer.from(c.body!.toString('utf8'), 'utf16le') : c.body!,
      };
    },
    () => {
      const [method, path] = pick(adminRoutes);
      const size = 70_000 + Math.floor(rng() * 2_000_000);
      const body = Buffer.from(`{"surprise":"${'x'.repeat(size)}",${validBody.slice(1)}`);
      return {
        name: `${method} ${path}: ${size} byte body`,
        method,
        path,
        headers: { ...json, Authorization: `Bearer ${keys.admin}` },
        body,
      };
    },
    () => {
      const [method, path] = pick(adminRoutes);
      const auth = pick([
        `Bearer acsk_${token(43)}`,
        `Bearer ${keys.admin.slice(0, -1)}`,
        `Bearer ${keys.admin} ${keys.admin}`,
        `bearer  ${token(10)}`,
        `Basic ${Buffer.from(`admin:${token(8)}`).toString('base64')}`,
        `Bearer ${'A'.repeat(1 + Math.floor(rng() * 4000))}`,
        token(30),
      ]);
      return {
        name: `${method} ${path}: unknown key`,
        method,
        path,
        headers: { ...json, Authorization: auth },
        body: Buffer.from(validBody),
      };
    },
    () => {
      const [method, path] = pick(adminRoutes);
      const key = pick([keys.read, keys.agent, keys.acmeAdmin]);
      return {
        name: `${method} ${path}: key without the scope or tenant`,
        method,
        path,
        headers: { ...json, Authorization: `Bearer ${key}` },
        body: Buffer.from(validBody),
      };
    },
    () => {
      const path = pick([
        `${connection}/${token(8)}`,
        `/v1/tenants/${tenant}/${token(6)}`,
        `/v1/${token(5)}`,
        `/v2/tenants/${tenant}/connections/salesforce/enable`,
        `${connection}/enable/${token(4)}`,
        `${connection}/operations/${token(3)}/${token(3)}/cancel`,
      ]);
      return {
        name: `unknown path ${path.slice(-20)}`,
        method: pick(['GET', 'POST', 'PUT']),
        path,
        headers: { ...json, Authorization: `Bearer ${keys.admin}` },
        body: Buffer.from(validBody),
      };
    },
    () => {
      const [, path] = pick(adminRoutes);
      const method = pick(['DELETE', 'PATCH', 'GET', 'OPTIONS']);
      return {
        name: `${method} ${path}`,
        method,
        path,
        headers: { ...json, Authorization: `Bearer ${keys.admin}` },
        body: Buffer.from(validBody),
      };
    },
    () => {
      const length = 4_000 + Math.floor(rng() * 20_000);
      const path = `${connection}/${'a'.repeat(length)}`;
      return {
        name: `path of ${length} characters`,
        method: 'POST',
        path,
        headers: { ...json, Authorization: `Bearer ${keys.admin}` },
        body: Buffer.from(validBody),
      };
    },
    () => {
      const headers: Record<string, string> = { ...json, Authorization: `Bearer acsk_${token(43)}` };
      const n = 50 + Math.floor(rng() * 150);
      for (let i = 0; i < n; i += 1) headers[`X-Many-${i}`] = token(Math.floor(rng() * 200));
      return {
        name: `${n} extra headers, unknown key`,
        method: 'POST',
        path: `${connection}/enable`,
        headers,
        body: Buffer.from(validBody),
      };
    },
    () => {
      const [method, path] = pick(adminRoutes);
      const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(rng() * 2000) }, () => Math.floor(rng() * 256)));
      bytes[0] = 0x7b; // '{', then garbage: never a valid object
      bytes[bytes.length - 1] = 0x00;
      return {
        name: `${method} ${path}: ${bytes.length} random bytes`,
        method,
        path,
        headers: { ...json, Authorization: `Bearer ${keys.admin}` },
        body: bytes,
      };
    },
  ];
  const out: RawBadRequest[] = [...base];
  while (out.length < count) out.push(pick(mutations)());
  return out.slice(0, Math.max(count, base.length));
}
