import request from 'supertest';
import type { CreatedOrg } from '@agent-connections/salesforce-emulator';
import type { ConnectionView } from '../../api/schemas';
import { leftovers } from '../support/salesforce';
import type { ApiStack } from './api-stack';
import { AGENT_CONFIGURATION, startApiStack, uniqueTenant, waitForConnection } from './api-stack';

/**
 * The whole life of one connection through the API, on the real stack: enable, watch progress, details, the agent's
 * token, a configuration that asks for more, reconnect, disable; and what the org holds at each point.
 */
describe('a Salesforce connection through the API', () => {
  let stack: ApiStack;
  let org: CreatedOrg;
  const tenant = uniqueTenant('life');
  const base = `/v1/tenants/${tenant}/connections/salesforce`;

  const readConnection = async (): Promise<ConnectionView> => {
    const response = await request(stack.app).get(base).set('Authorization', `Bearer ${stack.keys.read}`).expect(200);
    return response.body as ConnectionView;
  };

  beforeAll(async () => {
    stack = await startApiStack();
    org = await stack.emulator.control.createOrg({ key: 'life' });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('shows a connection never enabled as off, without starting anything', async () => {
    const connection = await readConnection();
    expect(connection).toMatchObject({
      tenantId: tenant,
      crm: 'salesforce',
      status: 'disabled',
      needsReconnect: false,
    });
    expect(connection.details).toBeUndefined();
    expect(connection.links.enable).toBe(`${base}/enable`);
  });

  it('enables: 202 with Location, progress by step, then the details of what it created', async () => {
    const response = await request(stack.app)
      .post(`${base}/enable`)
      .set('Authorization', `Bearer ${stack.keys.admin}`)
      .set('Idempotency-Key', 'enable-1')
      .send({
        loginUrl: org.loginUrl,
        instanceUrl: org.instanceUrl,
        adminCredentials: { accessToken: org.accessToken, refreshToken: org.refreshToken },
        agentConfiguration: AGENT_CONFIGURATION,
      })
      .expect(202);
    const operationId = response.body.operationId as string;
    expect(response.headers.location).toBe(`${base}/operations/${operationId}`);
    expect(response.body).toMatchObject({ kind: 'enable', links: { operation: response.headers.location } });
    expect(JSON.stringify(response.body)).not.toContain(org.accessToken);

    const steps = new Set<string>();
    const connection = await waitForConnection(readConnection, (c) => {
      if (c.currentOperation?.currentStep) steps.add(c.currentOperation.currentStep.step);
      return c.status !== 'enabling';
    });
    expect(connection.status).toBe('enabled');
    expect(steps.size).toBeGreaterThan(0);
    expect(connection.details).toMatchObject({ orgId: org.orgId, appKind: 'external_client_app' });
    expect(connection.grantedObjects).toEqual(expect.arrayContaining([expect.objectContaining({ object: 'Account' })]));
    const serialized = JSON.stringify(connection);
    expect(serialized).not.toMatch(/privateKey|secretRef|accessToken|requestHash/);

    const operation = await request(stack.app)
      .get(`${base}/operations/${operationId}`)
      .set('Authorization', `Bearer ${stack.keys.read}`)
      .expect(200);
    expect(operation.body).toMatchObject({ id: operationId, kind: 'enable', status: 'succeeded' });
    expect(operation.body.stepsDone.length).toBeGreaterThan(0);

    const kinds = new Set((await stack.emulator.control.components('life')).map((c) => c.kind));
    expect([...kinds]).toEqual(expect.arrayContaining(['PermissionSet', 'User', 'ExternalClientApplication']));
  });

  it('hands the agent a token for the integration user, cached across requests, only with the agent scope', async () => {
    await stack.emulator.control.resetCounters();
    const first = await request(stack.app)
      .post(`${base}/agent-token`)
      .set('Authorization', `Bearer ${stack.keys.agent}`)
      .expect(200);
    expect(first.headers['cache-control']).toBe('no-store');
    expect(first.body).toMatchObject({ tokenType: 'Bearer', instanceUrl: org.instanceUrl });
    expect(first.body.accessToken).toEqual(expect.any(String));
    expect(JSON.stringify(first.body)).not.toMatch(/PRIVATE KEY|privateKey/);
    expect(Date.parse(first.body.expiresAt)).toBeGreaterThan(Date.now() + 10 * 60_000);

    const second = await request(stack.app)
      .post(`${base}/agent-token`)
      .set('Authorization', `Bearer ${stack.keys.agent}`)
      .expect(200);
    expect(second.body.accessToken).toBe(first.body.accessToken);
    expect((await stack.emulator.control.counters()).byOperation['oauth.token']).toBe(1);

    // The token works in the org, as the integration user.
    const query = await fetch(
      `${org.instanceUrl}/services/data/v66.0/query?q=${encodeURIComponent('SELECT Id FROM Account')}`,
      {
        headers: { Authorization: `Bearer ${first.body.accessToken}` },
      },
    );
    expect(query.status).toBe(200);

    await request(stack.app).post(`${base}/agent-token`).set('Authorization', `Bearer ${stack.keys.admin}`).expect(403);
  });

  it('rotates the JWT certificate through the API; the agent still gets working tokens afterwards', async () => {
    const rotation = await request(stack.app)
      .post(`${base}/rotate-certificate`)
      .set('Authorization', `Bearer ${stack.keys.admin}`)
      .set('Idempotency-Key', 'rotate-1')
      .send({})
      .expect(202);
    expect(rotation.body).toMatchObject({ kind: 'rotate_certificate' });
    expect(rotation.headers.location).toBe(`${base}/operations/${rotation.body.operationId}`);
    const deadline = Date.now() + 30_000;
    let operation;
    do {
      operation = (
        await request(stack.app)
          .get(String(rotation.headers.location))
          .set('Authorization', `Bearer ${stack.keys.admin}`)
      ).body;
      if (operation.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 200));
    } while (Date.now() < deadline);
    expect(operation).toMatchObject({ kind: 'rotate_certificate', status: 'succeeded' });
    await request(stack.app)
      .post(`${base}/rotate-certificate`)
      .set('Authorization', `Bearer ${stack.keys.admin}`)
      .send({ unexpected: true })
      .expect(400);
  });

  it('says a reconnect is needed, naming the fields, when the agent configuration asks for more', async () => {
    const wider = {
      objects: [...AGENT_CONFIGURATION.objects, { object: 'Opportunity', fields: ['StageName', 'Amount'] }],
    };
    const saved = await request(stack.app)
      .put(`/v1/tenants/${tenant}/agent-configuration`)
      .set('Authorization', `Bearer ${stack.keys.admin}`)
      .send(wider)
      .expect(200);
    expect(saved.body).toMatchObject({
      needsReconnect: true,
      missingFields: ['Opportunity.StageName', 'Opportunity.Amount'],
    });
    const connection = await readConnection();
    expect(connection).toMatchObject({
      status: 'needs_reconnect',
      needsReconnect: true,
      missingFields: ['Opportunity.StageName', 'Opportunity.Amount'],
    });
    expect(connection.needsReconnectReason).toEqual(expect.any(String));
    const read = await request(stack.app)
      .get(`/v1/tenants/${tenant}/agent-configuration`)
      .set('Authorization', `Bearer ${stack.keys.read}`)
      .expect(200);
    expect(read.body.objects).toEqual(wider.objects);
  });

  it('shows a Salesforce failure with its fix, and Reconnect recreates the connection with the new fields', async () => {
    // The next user creation fails as if no Integration license were free; the reconnect's enable half meets it.
    await stack.emulator.control.addFault({
      org: 'life',
      match: { operation: 'rest.create', object: 'User' },
      action: { kind: 'error', status: 400, errorCode: 'LICENSE_LIMIT_EXCEEDED', message: 'No licenses left' },
      times: 1,
    });
    await request(stack.app).post(`${base}/reconnect`).set('Authorization', `Bearer ${stack.keys.admin}`).expect(202);
    const failed = await waitForConnection(readConnection, (c) => c.status !== 'reconnecting');
    expect(failed.status).toBe('error');
    expect(failed.lastError).toMatchObject({ salesforceCode: 'LICENSE_LIMIT_EXCEEDED' });
    expect(failed.lastError?.fix).toMatch(/Reconnect/);

    const again = await request(stack.app)
      .post(`${base}/reconnect`)
      .set('Authorization', `Bearer ${stack.keys.admin}`)
      .expect(202);
    const connection = await waitForConnection(readConnection, (c) => c.status !== 'reconnecting');
    expect(connection.status).toBe('enabled');
    expect(connection).toMatchObject({ needsReconnect: false, missingFields: [] });
    expect(connection.lastError).toBeUndefined();
    expect(connection.grantedObjects.map((o) => o.object)).toContain('Opportunity');
    const operations = await request(stack.app)
      .get(`${base}/operations`)
      .set('Authorization', `Bearer ${stack.keys.read}`)
      .expect(200);
    expect(operations.body.operations[0]).toMatchObject({ id: again.body.operationId, status: 'succeeded' });
    expect(operations.body.operations.map((o: { kind: string }) => o.kind)).toEqual([
      'reconnect',
      'reconnect',
      'rotate_certificate',
      'enable',
    ]);
    const failedOnly = await request(stack.app)
      .get(`${base}/operations?status=failed&limit=5`)
      .set('Authorization', `Bearer ${stack.keys.read}`)
      .expect(200);
    expect(failedOnly.body.operations).toHaveLength(1);
  });

  it('disables: everything the connection created is removed from the org', async () => {
    await request(stack.app)
      .post(`${base}/disable`)
      .set('Authorization', `Bearer ${stack.keys.admin}`)
      .set('Idempotency-Key', 'disable-1')
      .expect(202);
    const connection = await waitForConnection(readConnection, (c) => c.status !== 'disabling');
    expect(connection.status).toBe('disabled');
    expect(connection.details).toBeUndefined();
    expect(await leftovers(stack.emulator, 'life')).toEqual([]);
    await request(stack.app).post(`${base}/agent-token`).set('Authorization', `Bearer ${stack.keys.agent}`).expect(409);
  });
});
