import fs from 'node:fs/promises';
import request from 'supertest';
import type { ApiClient, Connection, EnableRequest } from '@agent-connections/api-client';
import type { CreatedOrg } from '@agent-connections/salesforce-emulator';
import type { ApiStack } from './api-stack';
import { AGENT_CONFIGURATION, ok, salesforceOf, startApiStack, uniqueTenant, waitForConnection } from './api-stack';

const PROBLEM = /^application\/problem\+json/;
const CONNECTION = '/v1/tenants/{tenantId}/connections/{crm}';
const OPERATION = `${CONNECTION}/operations/{operationId}` as const;

/**
 * The HTTP contract on the real stack: idempotency, concurrency, cancel, auth, tenants, and every error status. The
 * requests a client makes go through the typed client generated from the OpenAPI document; the malformed ones, and
 * those about headers and methods, through supertest.
 */
describe('the API contract', () => {
  let stack: ApiStack;
  /** An org whose new apps take minutes to become usable: an enable there stays running as long as a test needs. */
  let slowOrg: CreatedOrg;
  let fastOrg: CreatedOrg;
  let admin: ApiClient;
  let reader: ApiClient;

  const auth = (key: string) => ({ Authorization: `Bearer ${key}` });
  const enableBody = (org: CreatedOrg, extra: Partial<EnableRequest> = {}): EnableRequest => ({
    loginUrl: org.loginUrl,
    instanceUrl: org.instanceUrl,
    adminCredentials: { accessToken: org.accessToken, refreshToken: org.refreshToken },
    agentConfiguration: AGENT_CONFIGURATION,
    ...extra,
  });
  /** An enable whose preflight fails at once (the org has no such object): an operation that ends quickly. */
  const unknownObjectBody = (): EnableRequest =>
    enableBody(fastOrg, { agentConfiguration: { objects: [{ object: 'NoSuchObject__c', fields: ['Name'] }] } });
  const readConnection = (tenant: string) => async (): Promise<Connection> =>
    ok(await reader.GET(CONNECTION, { params: { path: salesforceOf(tenant) } }));
  /** Enables for `tenant`; a 202 is expected (the answer is the accepted operation with its Location). */
  const enable = async (tenant: string, body: EnableRequest, key?: string) => {
    const result = await admin.POST(`${CONNECTION}/enable`, {
      params: { path: salesforceOf(tenant), header: key ? { 'Idempotency-Key': key } : {} },
      body,
    });
    const accepted = ok(result);
    if (result.response.status !== 202 || !('operationId' in accepted)) {
      throw new Error(`expected 202, got ${result.response.status}`);
    }
    return { ...accepted, location: result.response.headers.get('location') };
  };
  const cancel = (tenant: string, operationId: string) =>
    admin.POST(`${OPERATION}/cancel`, { params: { path: { ...salesforceOf(tenant), operationId } } });

  beforeAll(async () => {
    stack = await startApiStack();
    slowOrg = await stack.emulator.control.createOrg({ key: 'slow', propagationDelayMs: 600_000 });
    fastOrg = await stack.emulator.control.createOrg({ key: 'fast' });
    admin = stack.client(stack.keys.admin);
    reader = stack.client(stack.keys.read);
  });

  afterAll(async () => {
    await stack?.close();
  });

  describe('idempotency', () => {
    it('returns the same operation for the same key and body, and 422 for the same key with another body', async () => {
      const tenant = uniqueTenant('idem');
      const first = await enable(tenant, enableBody(slowOrg), 'order-42');
      // The same body in another key order is the same request.
      const { agentConfiguration, ...rest } = enableBody(slowOrg);
      const again = await enable(tenant, { agentConfiguration, ...rest }, 'order-42');
      expect(again.operationId).toBe(first.operationId);
      expect(again.location).toBe(first.location);

      const other = await admin.POST(`${CONNECTION}/enable`, {
        params: { path: salesforceOf(tenant), header: { 'Idempotency-Key': 'order-42' } },
        body: enableBody(slowOrg, { appKind: 'connected_app' }),
      });
      expect(other.response.status).toBe(422);
      expect(other.response.headers.get('content-type')).toMatch(PROBLEM);
      expect(other.error).toMatchObject({
        status: 422,
        type: expect.stringContaining('idempotency-key-reused'),
        originalOperation: { operationId: first.operationId, kind: 'enable' },
      });

      const { operations } = ok(
        await reader.GET(`${CONNECTION}/operations`, { params: { path: salesforceOf(tenant) } }),
      );
      expect(operations).toHaveLength(1);
      expect((await cancel(tenant, first.operationId)).response.status).toBe(202);
    });

    it('derives a different operation from the same key for another tenant, and a random one without a key', async () => {
      const failing = async (tenant: string, key?: string) =>
        (await enable(tenant, unknownObjectBody(), key)).operationId;
      const ids = await Promise.all(
        [uniqueTenant('idem-a'), uniqueTenant('idem-b')].map((t) => failing(t, 'shared-key')),
      );
      expect(ids[0]).not.toBe(ids[1]);
      const tenant = uniqueTenant('idem-c');
      const a = await failing(tenant);
      await waitForConnection(readConnection(tenant), (c) => !c.currentOperation);
      const b = await failing(tenant);
      expect(a).not.toBe(b);
    });
  });

  describe('concurrency', () => {
    it('accepts exactly one of two enables sent at once; the other is a 409 naming the running operation', async () => {
      const tenant = uniqueTenant('race');
      const responses = await Promise.all(
        ['race-a', 'race-b'].map((key) =>
          admin.POST(`${CONNECTION}/enable`, {
            params: { path: salesforceOf(tenant), header: { 'Idempotency-Key': key } },
            body: enableBody(slowOrg),
          }),
        ),
      );
      expect(responses.map((r) => r.response.status).sort()).toEqual([202, 409]);
      const accepted = ok(responses.find((r) => r.response.status === 202)!);
      const refused = responses.find((r) => r.response.status === 409)!;
      if (!('operationId' in accepted)) throw new Error('a Salesforce enable answers the operation');
      expect(refused.response.headers.get('content-type')).toMatch(PROBLEM);
      expect(refused.error?.runningOperation).toMatchObject({
        operationId: accepted.operationId,
        kind: 'enable',
        workflowId: accepted.workflowId,
      });
      expect(refused.error?.detail).toContain(accepted.operationId);
      expect((await cancel(tenant, accepted.operationId)).response.status).toBe(202);
    });
  });

  describe('cancel', () => {
    it('cancels a running operation, rolls it back, and answers the same when asked again', async () => {
      const tenant = uniqueTenant('cancel');
      const started = await enable(tenant, enableBody(slowOrg));
      await waitForConnection(readConnection(tenant), (c) => (c.currentOperation?.stepsDone.length ?? 0) >= 2);
      const cancelled = await admin.POST(`${OPERATION}/cancel`, {
        params: {
          path: { ...salesforceOf(tenant), operationId: started.operationId },
          header: { 'Idempotency-Key': 'cancel-1' },
        },
      });
      expect(cancelled.response.status).toBe(202);
      expect(cancelled.response.headers.get('location')).toBe(started.location);
      expect(ok(cancelled)).toMatchObject({ id: started.operationId });
      const connection = await waitForConnection(readConnection(tenant), (c) => !c.currentOperation);
      expect(connection.status).toBe('disabled');
      const operation = ok(
        await reader.GET(OPERATION, {
          params: { path: { ...salesforceOf(tenant), operationId: started.operationId } },
        }),
      );
      expect(operation.status).toBe('cancelled');
      expect(operation.stepsCompensated.length).toBeGreaterThan(0);
      expect((await cancel(tenant, started.operationId)).response.status).toBe(202);
    });

    it('refuses to cancel an operation that ended otherwise (409) or does not exist (404)', async () => {
      const tenant = uniqueTenant('cancel-ended');
      const started = await enable(tenant, unknownObjectBody());
      await waitForConnection(readConnection(tenant), (c) => !c.currentOperation);
      const ended = await cancel(tenant, started.operationId);
      expect(ended.response.status).toBe(409);
      expect(ended.error?.type).toContain('operation-ended');
      const missing = await cancel(tenant, '00000000-0000-4000-8000-000000000000');
      expect(missing.response.status).toBe(404);
      expect(missing.response.headers.get('content-type')).toMatch(PROBLEM);
      const unknown = await reader.GET(OPERATION, {
        params: { path: { ...salesforceOf(tenant), operationId: '00000000-0000-4000-8000-000000000000' } },
      });
      expect(unknown.response.status).toBe(404);
    });
  });

  describe('operations the connection refuses', () => {
    it('answers 409 with the reason: enabling twice, reconnecting what was never enabled', async () => {
      const tenant = uniqueTenant('refuse');
      const path = salesforceOf(tenant);
      const never = await admin.POST(`${CONNECTION}/reconnect`, { params: { path } });
      expect(never.response.status).toBe(409);
      expect(never.error).toMatchObject({ status: 409, detail: expect.stringMatching(/never enabled/) });
      await enable(tenant, enableBody(fastOrg));
      await waitForConnection(readConnection(tenant), (c) => c.status === 'enabled');
      const twice = await admin.POST(`${CONNECTION}/enable`, { params: { path }, body: enableBody(fastOrg) });
      expect(twice.response.status).toBe(409);
      expect(twice.error?.detail).toMatch(/already enabled/);
      expect(twice.error?.runningOperation).toBeUndefined();
      ok(await admin.POST(`${CONNECTION}/disable`, { params: { path } }));
      await waitForConnection(readConnection(tenant), (c) => c.status === 'disabled');
    });

    it('removes the credentials it stored when the operation is refused, and keeps them when it is accepted', async () => {
      const tenant = uniqueTenant('refuse-secret');
      const path = salesforceOf(tenant);
      const storedSecrets = async () => (await fs.readdir(stack.secretsDir)).length;
      const before = await storedSecrets();
      // A reconnect naming a new org, with no agent configuration anywhere: refused in plain words (422).
      const refused = await admin.POST(`${CONNECTION}/reconnect`, {
        params: { path },
        body: { loginUrl: fastOrg.loginUrl, adminCredentials: { accessToken: 'token-that-must-not-stay' } },
      });
      expect(refused.response.status).toBe(422);
      expect(refused.error).toMatchObject({
        code: 'empty-configuration',
        detail: expect.stringMatching(/object and field/),
      });
      expect(JSON.stringify(refused.error)).not.toContain('token-that-must-not-stay');
      expect(await storedSecrets()).toBe(before);
      await enable(tenant, enableBody(fastOrg));
      expect(await storedSecrets()).toBe(before + 1);
      await waitForConnection(readConnection(tenant), (c) => c.status === 'enabled');
      ok(await admin.POST(`${CONNECTION}/disable`, { params: { path } }));
      await waitForConnection(readConnection(tenant), (c) => c.status === 'disabled');
    });

    it('takes an admin secretRef only from the tenant’s own part of the store, and only if it exists (422 otherwise)', async () => {
      const tenant = uniqueTenant('refs');
      const path = salesforceOf(tenant);
      const withRef = (secretRef: string) =>
        admin.POST(`${CONNECTION}/enable`, {
          params: { path },
          body: enableBody(fastOrg, { adminCredentials: { secretRef } }),
        });
      const foreign = await withRef('tenants/someone-else/admin/x');
      expect(foreign.response.status).toBe(422);
      expect(foreign.error?.type).toContain('secret-ref-unusable');
      expect(foreign.error?.errors).toEqual([
        { field: 'body.adminCredentials.secretRef', message: `must be a reference under tenants/${tenant}/` },
      ]);
      expect((await withRef(`tenants/${tenant}/admin/missing`)).response.status).toBe(422);
      await stack.secrets.put(
        `tenants/${tenant}/admin/stored`,
        JSON.stringify({ accessToken: fastOrg.accessToken, refreshToken: fastOrg.refreshToken }),
      );
      expect((await withRef(`tenants/${tenant}/admin/stored`)).response.status).toBe(202);
      await waitForConnection(readConnection(tenant), (c) => c.status === 'enabled');
      ok(await admin.POST(`${CONNECTION}/disable`, { params: { path } }));
    });
  });

  describe('Dynamics 365 Sales', () => {
    it('answers connected with nothing to do, and refuses disable and reconnect', async () => {
      const tenant = uniqueTenant('dyn');
      const path = { tenantId: tenant, crm: 'dynamics365' as const };
      const read = ok(await reader.GET(CONNECTION, { params: { path } }));
      expect(read).toMatchObject({
        crm: 'dynamics365',
        status: 'enabled',
        statusMessage: expect.stringMatching(/Nothing to set up/),
      });
      // The same body as for Salesforce, validated alike (a 400 without it); nothing is created.
      await request(stack.app)
        .post(`/v1/tenants/${tenant}/connections/dynamics365/enable`)
        .set(auth(stack.keys.admin))
        .send({})
        .expect(400);
      const enabled = await admin.POST(`${CONNECTION}/enable`, { params: { path }, body: enableBody(fastOrg) });
      expect(enabled.response.status).toBe(200);
      expect(ok(enabled)).toMatchObject({ status: 'enabled' });
      expect((await admin.POST(`${CONNECTION}/disable`, { params: { path } })).response.status).toBe(409);
      expect((await admin.POST(`${CONNECTION}/reconnect`, { params: { path } })).response.status).toBe(409);
      const token = await stack.client(stack.keys.agent).POST(`${CONNECTION}/agent-token`, { params: { path } });
      expect(token.response.status).toBe(409);
      expect(ok(await reader.GET(`${CONNECTION}/operations`, { params: { path } })).operations).toEqual([]);
    });
  });

  describe('authentication, scopes and tenants', () => {
    const path = '/v1/tenants/acme/connections/salesforce';

    it('answers 401 without a key, with a malformed header or an unknown key', async () => {
      for (const header of [undefined, 'Basic abc', 'Bearer', `Bearer ${stack.keys.admin}x`, 'Bearer a b']) {
        const call = request(stack.app).get(path);
        const response = await (header ? call.set('Authorization', header) : call).expect(401);
        expect(response.headers['content-type']).toMatch(PROBLEM);
        expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
      }
    });

    it('answers 403 to a key without the scope', async () => {
      await request(stack.app).post(`${path}/enable`).set(auth(stack.keys.read)).send({}).expect(403);
      await request(stack.app).post(`${path}/disable`).set(auth(stack.keys.agent)).expect(403);
      await request(stack.app).get(path).set(auth(stack.keys.agent)).expect(403);
      await request(stack.app)
        .put('/v1/tenants/acme/agent-configuration')
        .set(auth(stack.keys.read))
        .send(AGENT_CONFIGURATION)
        .expect(403);
      await request(stack.app).get(path).set(auth(stack.keys.read)).expect(200);
      await request(stack.app).get(path).set(auth(stack.keys.admin)).expect(200);
    });

    it('keeps a tenant-bound key to its tenant: others answer 404, before anything is read', async () => {
      await request(stack.app).get(path).set(auth(stack.keys.acmeAdmin)).expect(200);
      const other = await request(stack.app)
        .get('/v1/tenants/globex/connections/salesforce')
        .set(auth(stack.keys.acmeAdmin))
        .expect(404);
      expect(other.headers['content-type']).toMatch(PROBLEM);
      await request(stack.app)
        .post('/v1/tenants/globex/connections/salesforce/enable')
        .set(auth(stack.keys.acmeAdmin))
        .send(enableBody(fastOrg))
        .expect(404);
      await request(stack.app)
        .put('/v1/tenants/globex/agent-configuration')
        .set(auth(stack.keys.acmeAdmin))
        .send(AGENT_CONFIGURATION)
        .expect(404);
      const globex = await request(stack.app)
        .get('/v1/tenants/globex/connections/salesforce')
        .set(auth(stack.keys.read))
        .expect(200);
      expect(globex.body.status).toBe('disabled');
    });

    it('knows only the configured tenants when a list is given', async () => {
      const app = stack.appWith({ config: { ...stack.config, API_TENANTS: 'acme, initech' } });
      await request(app).get('/v1/tenants/initech/connections/salesforce').set(auth(stack.keys.read)).expect(200);
      await request(app).get('/v1/tenants/unknown/connections/salesforce').set(auth(stack.keys.read)).expect(404);
    });

    it('limits the rate per key: 429 with Retry-After, other keys unaffected', async () => {
      const app = stack.appWith({ config: { ...stack.config, API_RATE_LIMIT_PER_MINUTE: 3 } });
      for (let i = 0; i < 3; i += 1) await request(app).get(path).set(auth(stack.keys.read)).expect(200);
      const limited = await request(app).get(path).set(auth(stack.keys.read)).expect(429);
      expect(limited.headers['content-type']).toMatch(PROBLEM);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      await request(app).get(path).set(auth(stack.keys.admin)).expect(200);
    });
  });

  describe('HTTP errors', () => {
    const base = '/v1/tenants/acme/connections/salesforce';

    it('answers 405 with Allow to a method the resource does not support, and OPTIONS with Allow', async () => {
      const cases: Array<[string, 'put' | 'delete' | 'post' | 'get', string]> = [
        [base, 'delete', 'GET, HEAD, OPTIONS'],
        [base, 'post', 'GET, HEAD, OPTIONS'],
        [`${base}/enable`, 'get', 'POST, OPTIONS'],
        [`${base}/operations`, 'put', 'GET, HEAD, OPTIONS'],
        ['/v1/tenants/acme/agent-configuration', 'post', 'GET, PUT, HEAD, OPTIONS'],
      ];
      for (const [url, method, allow] of cases) {
        const response = await request(stack.app)[method](url).set(auth(stack.keys.admin)).expect(405);
        expect(response.headers.allow).toBe(allow);
        expect(response.headers['content-type']).toMatch(PROBLEM);
      }
      const options = await request(stack.app).options(`${base}/enable`).set(auth(stack.keys.admin)).expect(204);
      expect(options.headers.allow).toBe('POST, OPTIONS');
    });

    it('answers 404 to an unknown path', async () => {
      const response = await request(stack.app).get('/v1/nothing-here').set(auth(stack.keys.admin)).expect(404);
      expect(response.body).toMatchObject({ status: 404, title: 'Not found' });
    });

    it('answers 413 to a body over the limit and 415 to a body that is not JSON', async () => {
      const big = await request(stack.app)
        .post(`${base}/enable`)
        .set(auth(stack.keys.admin))
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ agentName: 'x'.repeat(70_000) }))
        .expect(413);
      expect(big.headers['content-type']).toMatch(PROBLEM);
      const form = await request(stack.app)
        .post(`${base}/enable`)
        .set(auth(stack.keys.admin))
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send('loginUrl=https://example.my.salesforce.com')
        .expect(415);
      expect(form.headers['content-type']).toMatch(PROBLEM);
    });

    it('answers 400 naming each failing field', async () => {
      const response = await request(stack.app)
        .post(`${base}/enable`)
        .set(auth(stack.keys.admin))
        .send({
          loginUrl: 'ftp://example.com',
          adminCredentials: {},
          agentConfiguration: { objects: [{ object: 'Account', fields: ['Name', 'name', 'Bad Field'] }] },
          surprise: true,
        })
        .expect(400);
      expect(response.headers['content-type']).toMatch(PROBLEM);
      const fields = (response.body.errors as Array<{ field: string }>).map((e) => e.field).sort();
      expect(fields).toEqual([
        'body.adminCredentials',
        'body.agentConfiguration.objects[0].fields[2]',
        'body.loginUrl',
        'body.surprise',
      ]);
      const path = await request(stack.app)
        .get('/v1/tenants/a:b/connections/hubspot')
        .set(auth(stack.keys.admin))
        .expect(400);
      expect((path.body.errors as Array<{ field: string }>).map((e) => e.field)).toEqual(['path.tenantId', 'path.crm']);
      const query = await request(stack.app)
        .get(`${base}/operations?limit=0&x=1`)
        .set(auth(stack.keys.admin))
        .expect(400);
      expect((query.body.errors as Array<{ field: string }>).map((e) => e.field).sort()).toEqual([
        'query.limit',
        'query.x',
      ]);
    });

    it('answers 422 to a well-formed configuration that names a field or an object twice in another case', async () => {
      const response = await request(stack.app)
        .put('/v1/tenants/acme/agent-configuration')
        .set(auth(stack.keys.admin))
        .send({
          objects: [
            { object: 'Account', fields: ['Name', 'NAME'] },
            { object: 'account', fields: ['Industry'] },
          ],
        })
        .expect(422);
      expect(response.headers['content-type']).toMatch(PROBLEM);
      expect(response.body.type).toContain('agent-configuration-rejected');
      expect((response.body.errors as Array<{ field: string }>).map((e) => e.field)).toEqual([
        'body.objects[0].fields[1]',
        'body.objects[1].object',
      ]);
    });

    it('answers 400 to a body where none may be', async () => {
      await request(stack.app)
        .post(`${base}/rotate-certificate`)
        .set(auth(stack.keys.admin))
        .send({ unexpected: true })
        .expect(400);
    });

    it('never shows a stack trace or an internal message', async () => {
      const response = await request(stack.app)
        .post(`${base}/enable`)
        .set(auth(stack.keys.admin))
        .set('Content-Type', 'application/json')
        .send('{"loginUrl": ')
        .expect(400);
      expect(JSON.stringify(response.body)).not.toMatch(/at \w+ \(|node_modules|SyntaxError/);
    });
  });

  describe('documentation and health', () => {
    it('serves an OpenAPI 3.1 document generated from the schemas, a docs page and the admin page', async () => {
      const document = await request(stack.app).get('/openapi.json').expect(200);
      expect(document.body.openapi).toBe('3.1.0');
      expect(Object.keys(document.body.paths)).toEqual(
        expect.arrayContaining([
          '/v1/tenants/{tenantId}/connections/{crm}',
          '/v1/tenants/{tenantId}/connections/{crm}/enable',
          '/v1/tenants/{tenantId}/connections/{crm}/operations/{operationId}/cancel',
          '/v1/tenants/{tenantId}/connections/{crm}/agent-token',
          '/v1/tenants/{tenantId}/agent-configuration',
        ]),
      );
      const fieldPattern =
        document.body.components.schemas.AgentConfiguration.properties.objects.items.properties.fields.items.pattern;
      expect(new RegExp(fieldPattern).test('My_Field__c')).toBe(true);
      expect(new RegExp(fieldPattern).test('Bad Field')).toBe(false);
      await request(stack.app).get('/docs').expect(200).expect('Content-Type', /html/);
      const page = await request(stack.app).get('/admin/').expect(200).expect('Content-Type', /html/);
      expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    });

    it('is live and ready while Temporal answers', async () => {
      await request(stack.app).get('/healthz').expect(200, { status: 'ok' });
      await request(stack.app).get('/readyz').expect(200);
      await request(stack.appWith({ isDraining: () => true }))
        .get('/readyz')
        .expect(503);
    });
  });
});
