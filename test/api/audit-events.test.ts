import path from 'node:path';
import type { ApiClient, Connection } from '@agent-connections/api-client';
import type { CreatedOrg } from '@agent-connections/salesforce-emulator';
import type { AuditEvent, AuditStore } from '../../audit/audit-store';
import { openEmbeddedAuditStore } from '../../audit/open-audit-store';
import { connectionWorkflowId } from '../../workflows/definitions';
import { recordHistory } from '../support/harness';
import { temporaryDir } from '../support/temp-dirs';
import type { ApiStack } from './api-stack';
import { AGENT_CONFIGURATION, ok, salesforceOf, startApiStack, uniqueTenant, waitForConnection } from './api-stack';
import { pollUntil } from '../support/poll';

const CONNECTION = '/v1/tenants/{tenantId}/connections/{crm}';
const AUDIT = '/v1/tenants/{tenantId}/audit-events';

/** The store the API and the worker share, which a test can replace by a new instance over the same data. */
class SwappableStore implements AuditStore {
  constructor(public current: AuditStore) {}
  record(event: AuditEvent) {
    return this.current.record(event);
  }
  list(tenantId: string, options: { limit: number; cursor?: string }) {
    return this.current.list(tenantId, options);
  }
  close() {
    return this.current.close();
  }
}

/**
 * The audit trail on the real stack: enable, update-access and disable through the API each leave one event naming
 * who asked and every Salesforce component with its id; pages with an opaque cursor; tenant isolation; bad input;
 * the events outlive a restart of the store.
 */
describe('GET /v1/tenants/{t}/audit-events', () => {
  let stack: ApiStack;
  let org: CreatedOrg;
  let admin: ApiClient;
  let reader: ApiClient;
  let store: SwappableStore;
  let auditDir: string;
  const tenant = uniqueTenant('audit');
  const connectionPath = salesforceOf(tenant);
  let enabled: Connection;

  const readConnection = async (): Promise<Connection> =>
    ok(await reader.GET(CONNECTION, { params: { path: connectionPath } }));
  const settled = (c: Connection) => !c.currentOperation;
  /** The event is written once the connection has closed the operation: wait for the trail itself. */
  const waitForEvents = async (count: number): Promise<void> => {
    await pollUntil(
      async () =>
        (await reader.GET(AUDIT, { params: { path: { tenantId: tenant }, query: { limit: 100 } } })).data?.events
          .length ?? 0,
      (events) => events >= count,
      { what: `${count} audit events`, timeoutMs: 90_000 },
    );
  };

  beforeAll(async () => {
    auditDir = path.join(await temporaryDir('audit-'), 'audit');
    store = new SwappableStore(await openEmbeddedAuditStore(auditDir));
    stack = await startApiStack({ audit: store });
    org = await stack.emulator.control.createOrg({ key: 'audit' });
    admin = stack.client(stack.keys.admin);
    reader = stack.client(stack.keys.read);

    const enable = await admin.POST(`${CONNECTION}/enable`, {
      params: { path: connectionPath },
      body: {
        loginUrl: org.loginUrl,
        instanceUrl: org.instanceUrl,
        adminCredentials: { accessToken: org.accessToken, refreshToken: org.refreshToken },
        agentConfiguration: AGENT_CONFIGURATION,
      },
    });
    expect(enable.response.status).toBe(202);
    enabled = await waitForConnection(readConnection, (c) => settled(c) && c.status === 'enabled');
    await waitForEvents(1);
    const update = await admin.POST(`${CONNECTION}/update-access`, { params: { path: connectionPath }, body: {} });
    expect(update.response.status).toBe(202);
    await waitForEvents(2);
    const disable = await admin.POST(`${CONNECTION}/disable`, { params: { path: connectionPath }, body: {} });
    expect(disable.response.status).toBe(202);
    await waitForEvents(3);
    await recordHistory(
      'connection-audit-events',
      stack.env.client.workflow.getHandle(connectionWorkflowId(tenant, 'salesforce')),
    );
  }, 240_000);

  afterAll(async () => {
    await stack?.close();
    await store?.close();
  });

  const list = async (query: { limit?: number; cursor?: string } = {}) =>
    reader.GET(AUDIT, { params: { path: { tenantId: tenant }, query } });

  it('records enable, update-access and disable: who asked, each component with its Salesforce id, the outcome', async () => {
    const { events } = ok(await list());
    expect(events.map((e) => [e.operation.kind, e.outcome])).toEqual([
      ['disable', 'succeeded'],
      ['update_access', 'succeeded'],
      ['enable', 'succeeded'],
    ]);
    for (const event of events) {
      expect(event).toMatchObject({ tenantId: tenant, crm: 'salesforce', actor: { apiKeyId: 'backend' } });
      expect(Date.parse(event.occurredAt)).toBeGreaterThanOrEqual(Date.parse(event.operation.startedAt));
    }
    const details = enabled.details!;
    const created = [
      { kind: 'client_app', name: details.appApiName, salesforceId: details.appId, change: 'created' },
      {
        kind: 'integration_user',
        name: details.integrationUsername,
        salesforceId: details.integrationUserId,
        change: 'created',
      },
      {
        kind: 'permission_set',
        name: details.permissionSetName,
        salesforceId: details.permissionSetId,
        change: 'created',
      },
    ];
    const [disable, update, enable] = events;
    expect(enable?.components).toEqual(created);
    expect(update?.components).toEqual([{ ...created[2], change: 'changed' }]);
    expect(disable?.components).toEqual(created.map((c) => ({ ...c, change: 'removed' })));
    // The user and the permission set by their Salesforce ids; an External Client App is deployed and named by its
    // API name (its details carry an id only for a Connected App).
    for (const c of created.filter((c) => c.kind !== 'client_app'))
      expect(c.salesforceId).toMatch(/^[A-Za-z0-9]{15,18}$/);
    expect(created[0]?.name).toMatch(/\S/);
    // Who asked is the key's id; nothing secret is recorded.
    const serialized = JSON.stringify(events);
    expect(serialized).not.toContain(org.accessToken);
    expect(serialized).not.toContain(stack.keys.admin);
  });

  it('pages most recent first with an opaque cursor', async () => {
    const first = ok(await list({ limit: 2 }));
    expect(first.events.map((e) => e.operation.kind)).toEqual(['disable', 'update_access']);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = ok(await list({ limit: 2, cursor: first.nextCursor }));
    expect(second.events.map((e) => e.operation.kind)).toEqual(['enable']);
    expect(second.nextCursor).toBeUndefined();
  });

  it('keeps a key bound to another tenant out (404), and needs an API key', async () => {
    const acme = stack.client(stack.keys.acmeAdmin);
    const other = await acme.GET(AUDIT, { params: { path: { tenantId: tenant } } });
    expect(other.response.status).toBe(404);
    const own = ok(await acme.GET(AUDIT, { params: { path: { tenantId: 'acme' } } }));
    expect(own.events.every((e) => e.tenantId === 'acme')).toBe(true);
    const anonymous = await fetch(`${stack.baseUrl}/v1/tenants/${tenant}/audit-events`);
    expect(anonymous.status).toBe(401);
  });

  it('answers a bad limit or cursor with a 400 naming the field', async () => {
    const badLimit = await fetch(`${stack.baseUrl}/v1/tenants/${tenant}/audit-events?limit=101`, {
      headers: { Authorization: `Bearer ${stack.keys.read}` },
    });
    expect(badLimit.status).toBe(400);
    expect(((await badLimit.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe('query.limit');
    for (const cursor of ['not-ours', Buffer.from('{"s":"0"}').toString('base64url'), 'a.b']) {
      const response = await fetch(
        `${stack.baseUrl}/v1/tenants/${tenant}/audit-events?cursor=${encodeURIComponent(cursor)}`,
        { headers: { Authorization: `Bearer ${stack.keys.read}` } },
      );
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(((await response.json()) as { errors: { field: string }[] }).errors[0]?.field).toBe('query.cursor');
    }
  });

  it('keeps its events across a restart: a new store over the same data answers the same', async () => {
    const before = ok(await list());
    await store.current.close();
    store.current = await openEmbeddedAuditStore(auditDir);
    expect(ok(await list())).toEqual(before);
  });
});
