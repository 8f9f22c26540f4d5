import type { ApiClient, Connection } from '@agent-connections/api-client';
import type { CreatedOrg } from '@agent-connections/salesforce-emulator';
import { leftovers } from '../support/salesforce';
import type { ApiStack } from './api-stack';
import { AGENT_CONFIGURATION, ok, salesforceOf, startApiStack, uniqueTenant, waitForConnection } from './api-stack';
import { pollUntil } from '../support/poll';

const CONNECTION = '/v1/tenants/{tenantId}/connections/{crm}';
const OPERATION = `${CONNECTION}/operations/{operationId}` as const;

/**
 * The whole life of one connection through the API, on the real stack, with the typed client generated from the
 * OpenAPI document: enable, watch progress, details, the agent's token, a configuration that asks for more,
 * reconnect, disable; and what the org holds at each point.
 */
describe('a Salesforce connection through the API', () => {
  let stack: ApiStack;
  let org: CreatedOrg;
  let admin: ApiClient;
  let reader: ApiClient;
  let agent: ApiClient;
  const tenant = uniqueTenant('life');
  const path = salesforceOf(tenant);
  const base = `/v1/tenants/${tenant}/connections/salesforce`;

  const readConnection = async (): Promise<Connection> => ok(await reader.GET(CONNECTION, { params: { path } }));

  beforeAll(async () => {
    stack = await startApiStack();
    org = await stack.emulator.control.createOrg({ key: 'life' });
    admin = stack.client(stack.keys.admin);
    reader = stack.client(stack.keys.read);
    agent = stack.client(stack.keys.agent);
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
    const enabled = await admin.POST(`${CONNECTION}/enable`, {
      params: { path, header: { 'Idempotency-Key': 'enable-1' } },
      body: {
        loginUrl: org.loginUrl,
        instanceUrl: org.instanceUrl,
        adminCredentials: { accessToken: org.accessToken, refreshToken: org.refreshToken },
        agentConfiguration: AGENT_CONFIGURATION,
      },
    });
    expect(enabled.response.status).toBe(202);
    const accepted = ok(enabled);
    if (!('operationId' in accepted)) throw new Error('a Salesforce enable answers the operation');
    const { operationId } = accepted;
    expect(enabled.response.headers.get('location')).toBe(`${base}/operations/${operationId}`);
    expect(accepted).toMatchObject({ kind: 'enable', links: { operation: enabled.response.headers.get('location') } });
    expect(JSON.stringify(accepted)).not.toContain(org.accessToken);

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

    const operation = ok(await reader.GET(OPERATION, { params: { path: { ...path, operationId } } }));
    expect(operation).toMatchObject({ id: operationId, kind: 'enable', status: 'succeeded' });
    expect(operation.stepsDone.length).toBeGreaterThan(0);

    const kinds = new Set((await stack.emulator.control.components('life')).map((c) => c.kind));
    expect([...kinds]).toEqual(expect.arrayContaining(['PermissionSet', 'User', 'ExternalClientApplication']));
  });

  it('hands the agent a token for the integration user, cached across requests, only with the agent scope', async () => {
    await stack.emulator.control.resetCounters();
    const firstResult = await agent.POST(`${CONNECTION}/agent-token`, { params: { path } });
    expect(firstResult.response.headers.get('cache-control')).toBe('no-store');
    const first = ok(firstResult);
    expect(first).toMatchObject({ tokenType: 'Bearer', instanceUrl: org.instanceUrl });
    expect(first.accessToken).toEqual(expect.any(String));
    expect(JSON.stringify(first)).not.toMatch(/PRIVATE KEY|privateKey/);
    expect(Date.parse(first.expiresAt)).toBeGreaterThan(Date.now() + 10 * 60_000);

    const second = ok(await agent.POST(`${CONNECTION}/agent-token`, { params: { path } }));
    expect(second.accessToken).toBe(first.accessToken);
    expect((await stack.emulator.control.counters()).byOperation['oauth.token']).toBe(1);

    // The token works in the org, as the integration user.
    const query = await fetch(
      `${org.instanceUrl}/services/data/v66.0/query?q=${encodeURIComponent('SELECT Id FROM Account')}`,
      { headers: { Authorization: `Bearer ${first.accessToken}` } },
    );
    expect(query.status).toBe(200);

    const refused = await admin.POST(`${CONNECTION}/agent-token`, { params: { path } });
    expect(refused.response.status).toBe(403);
    expect(refused.error).toMatchObject({ status: 403, type: expect.stringContaining('forbidden') });
  });

  it('rotates the JWT certificate through the API; the agent still gets working tokens afterwards', async () => {
    const rotation = await admin.POST(`${CONNECTION}/rotate-certificate`, {
      params: { path, header: { 'Idempotency-Key': 'rotate-1' } },
      body: {},
    });
    expect(rotation.response.status).toBe(202);
    const accepted = ok(rotation);
    expect(accepted).toMatchObject({ kind: 'rotate_certificate' });
    expect(rotation.response.headers.get('location')).toBe(`${base}/operations/${accepted.operationId}`);
    const operation = await pollUntil(
      async () => ok(await admin.GET(OPERATION, { params: { path: { ...path, operationId: accepted.operationId } } })),
      (o) => o.status !== 'running',
      { what: 'the rotation to end', intervalMs: 200, onTimeout: 'return' },
    );
    expect(operation).toMatchObject({ kind: 'rotate_certificate', status: 'succeeded' });
    expect(ok(await agent.POST(`${CONNECTION}/agent-token`, { params: { path } })).accessToken).toEqual(
      expect.any(String),
    );
  });

  it('says a reconnect is needed, naming the fields, when the agent configuration asks for more', async () => {
    const wider = {
      objects: [...AGENT_CONFIGURATION.objects, { object: 'Opportunity', fields: ['StageName', 'Amount'] }],
    };
    const saved = ok(
      await admin.PUT('/v1/tenants/{tenantId}/agent-configuration', {
        params: { path: { tenantId: tenant } },
        body: wider,
      }),
    );
    expect(saved).toMatchObject({
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
    const read = ok(
      await reader.GET('/v1/tenants/{tenantId}/agent-configuration', { params: { path: { tenantId: tenant } } }),
    );
    expect(read.objects).toEqual(wider.objects);
  });

  it('shows a Salesforce failure with its fix, and Reconnect recreates the connection with the new fields', async () => {
    // The next user creation fails as if no Integration license were free; the reconnect's enable half meets it.
    await stack.emulator.control.addFault({
      org: 'life',
      match: { operation: 'rest.create', object: 'User' },
      action: { kind: 'error', status: 400, errorCode: 'LICENSE_LIMIT_EXCEEDED', message: 'No licenses left' },
      times: 1,
    });
    ok(await admin.POST(`${CONNECTION}/reconnect`, { params: { path } }));
    const failed = await waitForConnection(readConnection, (c) => c.status !== 'reconnecting');
    // Made before broken: the new components are undone, the connection keeps working as it was.
    expect(failed.status).toBe('needs_reconnect');
    expect(failed.lastError).toMatchObject({ salesforceCode: 'LICENSE_LIMIT_EXCEEDED' });
    expect(failed.lastError?.fix).toMatch(/Reconnect/);

    const again = ok(await admin.POST(`${CONNECTION}/reconnect`, { params: { path } }));
    const connection = await waitForConnection(readConnection, (c) => c.status !== 'reconnecting');
    expect(connection.status).toBe('enabled');
    expect(connection).toMatchObject({ needsReconnect: false, missingFields: [] });
    expect(connection.lastError).toBeUndefined();
    expect(connection.grantedObjects.map((o) => o.object)).toContain('Opportunity');
    const { operations } = ok(await reader.GET(`${CONNECTION}/operations`, { params: { path } }));
    expect(operations[0]).toMatchObject({ id: again.operationId, status: 'succeeded' });
    expect(operations.map((o) => o.kind)).toEqual(['reconnect', 'reconnect', 'rotate_certificate', 'enable']);
    const failedOnly = ok(
      await reader.GET(`${CONNECTION}/operations`, { params: { path, query: { status: 'failed', limit: 5 } } }),
    );
    expect(failedOnly.operations).toHaveLength(1);
  });

  it('disables: everything the connection created is removed from the org', async () => {
    const disabled = await admin.POST(`${CONNECTION}/disable`, {
      params: { path, header: { 'Idempotency-Key': 'disable-1' } },
    });
    expect(disabled.response.status).toBe(202);
    const connection = await waitForConnection(readConnection, (c) => c.status !== 'disabling');
    expect(connection.status).toBe('disabled');
    expect(connection.details).toBeUndefined();
    expect(await leftovers(stack.emulator, 'life')).toEqual([]);
    const token = await agent.POST(`${CONNECTION}/agent-token`, { params: { path } });
    expect(token.response.status).toBe(409);
    expect(token.error?.type).toContain('not-connected');
  });
});
