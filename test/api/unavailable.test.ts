import { Client, Connection } from '@temporalio/client';
import request from 'supertest';
import type { CreatedOrg } from '@agent-connections/salesforce-emulator';
import { freePort } from '../support/free-port';
import type { ApiStack } from './api-stack';
import { AGENT_CONFIGURATION, startApiStack, uniqueTenant } from './api-stack';

const PROBLEM = /^application\/problem\+json/;

/** When the worker or Temporal itself does not answer: bounded waits, 503 with Retry-After, nothing hangs. */
describe('the API when Temporal or the worker is away', () => {
  let stack: ApiStack;
  let org: CreatedOrg;
  const auth = (key: string) => ({ Authorization: `Bearer ${key}` });

  beforeAll(async () => {
    stack = await startApiStack({ worker: false, config: { API_UPDATE_TIMEOUT_MS: 1500 } });
    org = await stack.emulator.control.createOrg({ key: 'away' });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('answers 503 with Retry-After when no worker takes the operation in time, and still reads the connection', async () => {
    const tenant = uniqueTenant('no-worker');
    const base = `/v1/tenants/${tenant}/connections/salesforce`;
    const started = Date.now();
    const response = await request(stack.app)
      .post(`${base}/enable`)
      .set(auth(stack.keys.admin))
      .set('Idempotency-Key', 'no-worker')
      .send({
        loginUrl: org.loginUrl,
        adminCredentials: { accessToken: org.accessToken },
        agentConfiguration: AGENT_CONFIGURATION,
      })
      .expect(503);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(response.headers['content-type']).toMatch(PROBLEM);
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    expect(response.body.detail).toMatch(/Idempotency-Key/);

    const connection = await request(stack.app).get(base).set(auth(stack.keys.read)).expect(200);
    expect(connection.body.status).toBe('disabled');
    await request(stack.app)
      .put(`/v1/tenants/${tenant}/agent-configuration`)
      .set(auth(stack.keys.admin))
      .send(AGENT_CONFIGURATION)
      .expect(503);
  });

  it('answers 503 with Retry-After when Temporal is unreachable, and /readyz says so', async () => {
    const connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: 1000 });
    const app = stack.appWith({ client: new Client({ connection }) });
    const tenant = uniqueTenant('unreachable');
    const base = `/v1/tenants/${tenant}/connections/salesforce`;
    try {
      const read = await request(app).get(base).set(auth(stack.keys.read)).expect(503);
      expect(read.headers['content-type']).toMatch(PROBLEM);
      expect(read.headers['retry-after']).toBeDefined();
      const enable = await request(app)
        .post(`${base}/enable`)
        .set(auth(stack.keys.admin))
        .send({ loginUrl: org.loginUrl, adminCredentials: { secretRef: `tenants/${tenant}/admin/none` } })
        .expect(422);
      expect(enable.body.errors[0].field).toBe('body.adminCredentials.secretRef');
      const disable = await request(app).post(`${base}/disable`).set(auth(stack.keys.admin)).expect(503);
      expect(JSON.stringify(disable.body)).not.toMatch(/at \w+ \(|grpc|ECONNREFUSED/);
      await request(app).get(`${base}/operations`).set(auth(stack.keys.read)).expect(503);
      await request(app).get('/readyz').expect(503);
      await request(app).get('/healthz').expect(200);
    } finally {
      await connection.close().catch(() => undefined);
    }
  });
});
