import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiClient, components } from '@agent-connections/api-client';
import { createApiClient } from '@agent-connections/api-client';
import type { CreatedOrg } from '@agent-connections/salesforce-emulator';
import { generateApiKey, hashApiKey } from '../../api/auth';
import { fleetOperationWorkflowId } from '../../workflows/definitions';
import type { fleetOperation } from '../../workflows/fleet-operation';
import { recordHistory } from '../support/harness';
import type { ApiStack } from './api-stack';
import { AGENT_CONFIGURATION, ok, salesforceOf, startApiStack, uniqueTenant, waitForConnection } from './api-stack';
import { pollUntil } from '../support/poll';

type FleetOperation = components['schemas']['FleetOperation'];
type Operation = components['schemas']['Operation'];

const CONNECTION = '/v1/tenants/{tenantId}/connections/{crm}';
const FLEET = '/v1/fleet-operations';
const FLEET_ID = `${FLEET}/{fleetOperationId}` as const;

/**
 * Fleet operations on the real stack: one update_access over several tenants' connections, through their connection
 * workflows, with progress, pause, resume, cancel, a failing tenant and a busy one; and the route's bad input.
 */
describe('fleet operations', () => {
  let stack: ApiStack;
  let server: Server;
  let fleet: ApiClient;
  let admin: ApiClient;
  let reader: ApiClient;
  let orgs: CreatedOrg[];
  /** Enabled tenants, with the key of their org. */
  const enabled: { tenantId: string; org: string }[] = [];

  /** Tenants that share an org (a sandbox per tenant, say) each have an agent of their own name. */
  const enable = async (tenantId: string, org: CreatedOrg, agentName: string): Promise<void> => {
    ok(
      await admin.POST(`${CONNECTION}/enable`, {
        params: { path: salesforceOf(tenantId) },
        body: {
          loginUrl: org.loginUrl,
          instanceUrl: org.instanceUrl,
          adminCredentials: { accessToken: org.accessToken, refreshToken: org.refreshToken },
          agentName,
          agentConfiguration: AGENT_CONFIGURATION,
        },
      }),
    );
  };
  const readConnection = (tenantId: string) => async () =>
    ok(await reader.GET(CONNECTION, { params: { path: salesforceOf(tenantId) } }));

  const start = async (body: components['schemas']['FleetOperationRequest']): Promise<FleetOperation> => {
    const result = await fleet.POST(FLEET, { body });
    expect(result.response.status).toBe(202);
    return ok(result);
  };
  const read = async (id: string): Promise<FleetOperation> =>
    ok(await fleet.GET(FLEET_ID, { params: { path: { fleetOperationId: id } } }));
  const control = async (id: string, action: 'pause' | 'resume' | 'cancel'): Promise<FleetOperation> =>
    ok(await fleet.POST(`${FLEET_ID}/${action}`, { params: { path: { fleetOperationId: id } } }));
  const waitFor = (id: string, done: (f: FleetOperation) => boolean, timeoutMs = 120_000) =>
    pollUntil(() => read(id), done, { what: `the expected state of fleet operation ${id}`, timeoutMs });
  const ended = (f: FleetOperation) =>
    (f.status === 'completed' || f.status === 'cancelled') && f.running === 0 && f.endedAt !== undefined;
  const updateAccessOps = async (tenantId: string): Promise<Operation[]> =>
    ok(
      await reader.GET(`${CONNECTION}/operations`, { params: { path: salesforceOf(tenantId), query: {} } }),
    ).operations.filter((o) => o.kind === 'update_access');

  beforeAll(async () => {
    stack = await startApiStack();
    const fleetKey = generateApiKey();
    // A fleet key, and room for a body of more tenants than a fleet may name.
    const app = stack.appWith({
      apiKeys: [...stack.apiKeys, { id: 'fleet-ops', sha256: hashApiKey(fleetKey), scopes: ['fleet'] }],
      config: { ...stack.config, API_MAX_BODY_BYTES: 1_000_000 },
    });
    server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fleet = createApiClient({ baseUrl, apiKey: fleetKey });
    admin = createApiClient({ baseUrl, apiKey: stack.keys.admin });
    reader = createApiClient({ baseUrl, apiKey: stack.keys.read });
    orgs = await Promise.all(['fleet-a', 'fleet-b'].map((key) => stack.emulator.control.createOrg({ key })));
    for (let i = 0; i < 6; i += 1) {
      const org = orgs[i % 2]!;
      const tenantId = uniqueTenant('fleet');
      await enable(tenantId, org, `Fleet Agent ${i}`);
      enabled.push({ tenantId, org: org === orgs[0] ? 'a' : 'b' });
    }
    for (const { tenantId } of enabled) {
      await waitForConnection(readConnection(tenantId), (c) => c.status === 'enabled');
    }
  }, 240_000);

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await stack?.close();
  });

  it('runs update_access on every tenant, one at a time per org; a never-enabled tenant fails with its cause', async () => {
    const never = uniqueTenant('fleet-never');
    const tenantIds = [...enabled.slice(0, 4).map((t) => t.tenantId), never];
    const accepted = await start({ kind: 'update_access', tenantIds, maxConcurrency: 4 });
    expect(accepted).toMatchObject({ status: 'running', total: 5, remaining: 5 });

    const final = await waitFor(accepted.id, ended);
    expect(final).toMatchObject({ status: 'completed', total: 5, done: 4, failed: 1, running: 0, remaining: 0 });
    expect(final.failures).toEqual([
      expect.objectContaining({
        tenantId: never,
        code: 'operation-rejected',
        message: expect.stringMatching(/enable/),
      }),
    ]);

    // Each tenant ran one update_access through its connection; one org never had two running at once.
    const runs = await Promise.all(
      enabled.slice(0, 4).map(async (t) => ({ ...t, ops: await updateAccessOps(t.tenantId) })),
    );
    for (const run of runs) expect(run.ops.map((o) => o.status)).toEqual(['succeeded']);
    // At the fleet's background priority, fair per org.
    const saga = await stack.env.client.workflow.getHandle(runs[0]!.ops[0]!.workflowId).describe();
    expect(saga.priority).toMatchObject({ priorityKey: 5, fairnessKey: expect.any(String) });
    for (const org of ['a', 'b']) {
      const spans = runs
        .filter((r) => r.org === org)
        .map((r) => ({ start: Date.parse(r.ops[0]!.startedAt), end: Date.parse(r.ops[0]!.endedAt ?? '') }))
        .sort((x, y) => x.start - y.start);
      for (let i = 1; i < spans.length; i += 1) expect(spans[i]!.start).toBeGreaterThanOrEqual(spans[i - 1]!.end);
    }
    await recordHistory(
      'fleet-operation-update-access',
      stack.env.client.workflow.getHandle(fleetOperationWorkflowId(accepted.id)),
    );
  }, 180_000);

  it('starts nothing while paused, and finishes once resumed', async () => {
    const tenantIds = enabled.slice(0, 4).map((t) => t.tenantId);
    const accepted = await start({ kind: 'update_access', tenantIds, maxConcurrency: 1 });
    expect((await control(accepted.id, 'pause')).status).toBe('paused');

    const held = await waitFor(accepted.id, (f) => f.status === 'paused' && f.running === 0);
    expect(held.status).toBe('paused');
    expect(held.remaining).toBeGreaterThan(0);
    // While paused, another look finds the same counts: nothing started meanwhile.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await read(accepted.id)).toMatchObject({ done: held.done, running: 0, remaining: held.remaining });

    expect((await control(accepted.id, 'resume')).status).toBe('running');
    const final = await waitFor(accepted.id, ended);
    expect(final).toMatchObject({ status: 'completed', done: 4, failed: 0, remaining: 0 });
  }, 180_000);

  it('cancel stops the rest: the running tenant finishes, no other starts', async () => {
    const tenantIds = enabled.map((t) => t.tenantId);
    const accepted = await start({ kind: 'update_access', tenantIds, maxConcurrency: 1 });
    const cancelled = await fleet.POST(`${FLEET_ID}/cancel`, { params: { path: { fleetOperationId: accepted.id } } });
    expect(cancelled.response.status).toBe(202);
    expect(ok(cancelled).status).toBe('cancelled');

    const final = await waitFor(accepted.id, ended);
    expect(final.status).toBe('cancelled');
    expect(final.done + final.failed).toBeLessThanOrEqual(1);
    expect(final.remaining).toBe(6 - final.done - final.failed);
    // Cancelling again answers the same; pausing an ended one is a conflict.
    expect((await control(accepted.id, 'cancel')).status).toBe('cancelled');
    const pause = await fleet.POST(`${FLEET_ID}/pause`, { params: { path: { fleetOperationId: accepted.id } } });
    expect(pause.response.status).toBe(409);
  }, 180_000);

  it('waits for a tenant’s own running operation: never two at once on one connection', async () => {
    const [busy, other] = [enabled[4]!, enabled[5]!];
    // Every call to the busy tenant's org is slow, so the admin's own update_access is still running.
    await stack.emulator.control.addFault({ org: 'fleet-a', action: { kind: 'latency', ms: 1_000 } });
    const mine = ok(
      await admin.POST(`${CONNECTION}/update-access`, { params: { path: salesforceOf(busy.tenantId) }, body: {} }),
    );
    const accepted = await start({ kind: 'update_access', tenantIds: [busy.tenantId, other.tenantId] });
    const final = await waitFor(accepted.id, ended, 150_000).finally(() => stack.emulator.control.clearFaults());
    expect(final).toMatchObject({ status: 'completed', done: 2, failed: 0 });

    const ops = await updateAccessOps(busy.tenantId);
    const admins = ops.find((o) => 'operationId' in mine && o.id === mine.operationId)!;
    const fleets = ops.find((o) => o.id !== admins.id && Date.parse(o.startedAt) >= Date.parse(accepted.createdAt))!;
    expect(admins.status).toBe('succeeded');
    expect(fleets.status).toBe('succeeded');
    expect(Date.parse(fleets.startedAt)).toBeGreaterThanOrEqual(Date.parse(admins.endedAt ?? ''));
    // The fleet found the connection busy and came back: more tenant attempts than tenants.
    const history = await stack.env.client.workflow.getHandle(fleetOperationWorkflowId(accepted.id)).fetchHistory();
    const attempts = (history.events ?? []).filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runFleetTenantOperation',
    );
    expect(attempts.length).toBeGreaterThan(2);
  }, 180_000);

  it('selects by status: every enabled connection of this service', async () => {
    const accepted = await start({ kind: 'update_access', status: 'enabled', maxConcurrency: 6 });
    const final = await waitFor(accepted.id, ended);
    expect(final).toMatchObject({ status: 'completed', total: 6, done: 6, failed: 0 });
  }, 180_000);

  it('continues as new when its history grows, carrying what is left and what was done', async () => {
    const fleetOperationId = randomUUID();
    const handle = await stack.env.client.workflow.start<typeof fleetOperation>('fleetOperation', {
      workflowId: fleetOperationWorkflowId(fleetOperationId),
      taskQueue: stack.taskQueue,
      args: [
        {
          fleetOperationId,
          kind: 'update_access',
          selection: { tenantIds: [...enabled.slice(0, 4).map((t) => t.tenantId), uniqueTenant('fleet-never')] },
          maxConcurrency: 2,
          perOrgPerMinute: 10,
          createdAt: new Date().toISOString(),
          historyLimit: 20,
        },
      ],
    });
    const final = await handle.result();
    expect(final).toMatchObject({ status: 'completed', total: 5, done: 4, failed: 1, running: 0, remaining: 0 });
    const latest = await stack.env.client.workflow.getHandle(handle.workflowId).describe();
    expect(latest.runId).not.toBe(handle.firstExecutionRunId);
    expect(await read(fleetOperationId)).toMatchObject({ status: 'completed', done: 4, failed: 1 });
  }, 180_000);

  it('refuses bad input naming the field, and keys without the fleet scope', async () => {
    const bad = async (body: unknown, field: string, status = 400) => {
      const result = await fleet.POST(FLEET, { body: body as never });
      expect(result.response.status).toBe(status);
      expect((result.error as { errors?: { field: string }[] }).errors?.map((e) => e.field)).toContain(field);
    };
    await bad({ kind: 'update_access', tenantIds: [] }, 'body.tenantIds');
    await bad({ kind: 'enable', tenantIds: ['acme'] }, 'body.kind');
    await bad({ kind: 'update_access', tenantIds: ['acme'], status: 'enabled' }, 'body.status');
    await bad({ kind: 'update_access' }, 'body.tenantIds');
    await bad({ kind: 'update_access', tenantIds: ['acme'], maxConcurrency: 0 }, 'body.maxConcurrency');
    await bad({ kind: 'update_access', tenantIds: ['acme'], maxConcurrency: 51 }, 'body.maxConcurrency');
    await bad({ kind: 'update_access', tenantIds: ['acme'], perOrgPerMinute: 0 }, 'body.perOrgPerMinute');
    const tooMany = Array.from({ length: 10_001 }, (_, i) => `t${i}`);
    await bad({ kind: 'update_access', tenantIds: tooMany }, 'body.tenantIds');

    // Same Idempotency-Key, same body: the same fleet operation; another body: 422.
    const headers = { 'Idempotency-Key': `fleet-${Date.now()}` };
    const body = { kind: 'update_access' as const, tenantIds: [uniqueTenant('fleet-idem')] };
    const first = ok(await fleet.POST(FLEET, { params: { header: headers }, body }));
    const again = ok(await fleet.POST(FLEET, { params: { header: headers }, body }));
    expect(again.id).toBe(first.id);
    const other = await fleet.POST(FLEET, { params: { header: headers }, body: { ...body, maxConcurrency: 2 } });
    expect(other.response.status).toBe(422);

    for (const key of [stack.keys.admin, stack.keys.read]) {
      const client = stack.client(key);
      const denied = await client.POST(FLEET, { body: { kind: 'update_access', tenantIds: ['acme'] } });
      expect(denied.response.status).toBe(403);
      const read = await client.GET(FLEET_ID, { params: { path: { fleetOperationId: first.id } } });
      expect(read.response.status).toBe(403);
    }
    const unknown = await fleet.GET(FLEET_ID, {
      params: { path: { fleetOperationId: '00000000-0000-4000-8000-000000000000' } },
    });
    expect(unknown.response.status).toBe(404);
  });
});
