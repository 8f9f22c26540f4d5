import { randomUUID } from 'node:crypto';
import type { ConnectionState } from '../../workflows/definitions';
import { connectionWorkflowId, healthScheduleId } from '../../workflows/definitions';
import { webhookWorkflowId } from '../../workflows/webhooks';
import { recordHistory } from '../support/harness';
import { useSagaSuite } from '../support/saga-suite';
import type { SagaSuite } from '../support/saga-suite';
import { DEFAULT_AGENT_CONFIGURATION, createTestOrg, enableRequest } from '../support/salesforce';
import { WebhookReceiver } from '../support/webhook-receiver';
import { pollUntil } from '../support/poll';

let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await WebhookReceiver.start();
});
afterAll(async () => {
  await receiver?.close();
});

/** Runs the connection's scheduled health check now and waits for its report to reach the connection. */
async function runHealthCheck(s: SagaSuite, tenantId: string): Promise<ConnectionState> {
  const before = (await s.connections.state(tenantId)).health?.checkedAt;
  await s.env.client.schedule.getHandle(healthScheduleId(tenantId, 'salesforce')).trigger();
  return pollUntil(
    () => s.connections.state(tenantId),
    (state) => !!state.health && state.health.checkedAt !== before,
    { what: 'a new health report', intervalMs: 150, describe: (state) => state.health },
  );
}

const types = (events: { body: { type: string } }[]) => events.map((e) => e.body.type);

describe('signed webhooks on connection events (dev server + emulator + a local receiver)', () => {
  const suite = useSagaSuite({
    // The receiver listens once the file's first beforeAll has run; the worker reads its address at each delivery.
    webhooks: {
      get url() {
        return receiver.url;
      },
      get secret() {
        return receiver.secret;
      },
    },
  });

  async function enabledConnection(s: SagaSuite) {
    const { org, target } = await createTestOrg(s.emulator, s.secrets);
    const tenantId = `t-${randomUUID()}`;
    const state = await s.connections.enableAndSettle(tenantId, enableRequest(target));
    expect(state.status).toBe('enabled');
    return { org, tenantId, details: state.details!, operationId: state.operations[0]!.id };
  }

  it('announces an enable, a confirmed failure and the recovery, each signed and verified with the library', async () => {
    const s = suite();
    const { org, tenantId, details, operationId } = await enabledConnection(s);
    const enabled = await receiver.waitFor(tenantId, (e) => e.length >= 2);
    expect(types(enabled)).toEqual(['operation.finished', 'connection.enabled']);
    expect(enabled.every((e) => e.verified)).toBe(true);
    expect(enabled[0]!.body.data).toMatchObject({
      tenantId,
      crm: 'salesforce',
      operation: { id: operationId, kind: 'enable', status: 'succeeded' },
    });
    expect(enabled[1]!.body.data).toMatchObject({ status: 'enabled', previousStatus: 'disabled', operationId });

    await s.emulator.control.patchRecord(org.key, 'User', details.integrationUserId, { IsActive: false });
    expect((await runHealthCheck(s, tenantId)).status).toBe('error');
    const failed = await receiver.waitFor(tenantId, (e) => e.length >= 3);
    expect(failed[2]!.body).toMatchObject({
      type: 'connection.error',
      data: { status: 'error', previousStatus: 'enabled', lastError: { type: 'HealthCheckFailed' } },
    });

    await s.emulator.control.patchRecord(org.key, 'User', details.integrationUserId, { IsActive: true });
    expect((await runHealthCheck(s, tenantId)).status).toBe('enabled');
    const recovered = await receiver.waitFor(tenantId, (e) => e.length >= 4);
    expect(recovered[3]!.body).toMatchObject({
      type: 'connection.recovered',
      data: { status: 'enabled', previousStatus: 'error' },
    });
    expect(recovered.every((e) => e.verified)).toBe(true);
    // Every event has an id of its own, and a body that says when it happened.
    expect(new Set(recovered.map((e) => e.id)).size).toBe(4);
    expect(recovered.every((e) => !Number.isNaN(Date.parse(e.body.timestamp)))).toBe(true);

    await recordHistory(
      'connection-webhooks',
      s.env.client.workflow.getHandle(connectionWorkflowId(tenantId, 'salesforce')),
    );
  });

  it('retries a delivery the receiver refused with the same webhook-id, so that receivers deduplicate it', async () => {
    const s = suite();
    const { tenantId } = await enabledConnection(s);
    await receiver.waitFor(tenantId, (e) => e.length >= 2);
    receiver.failNext = 2;
    // The agent now reads a field the connection does not grant: the connection needs a reconnect.
    await s.connections.configureAgent(tenantId, {
      objects: [...DEFAULT_AGENT_CONFIGURATION.objects, { object: 'Lead', fields: ['Company'] }],
    });
    const events = await receiver.waitFor(tenantId, (e) => e.length >= 3);
    const event = events[2]!;
    expect(event.body).toMatchObject({ type: 'connection.needs_reconnect', data: { status: 'needs_reconnect' } });
    const attempts = receiver.requests.filter((r) => r.id === event.id);
    expect(attempts.map((a) => a.answered)).toEqual([500, 500, 204]);
    expect(attempts.every((a) => a.verified)).toBe(true);
    // Signed anew for each attempt, under the same id.
    expect(new Set(attempts.map((a) => a.timestamp)).size).toBeGreaterThanOrEqual(2);

    await recordHistory(
      'webhook-delivery-retried',
      s.env.client.workflow.getHandle(webhookWorkflowId(tenantId, 'salesforce', event.id)),
    );
  });

  it('does not put a connection in error for one failed probe: the re-check passes and nothing is announced', async () => {
    const s = suite();
    const { tenantId } = await enabledConnection(s);
    await receiver.waitFor(tenantId, (e) => e.length >= 2);
    // The integration user's next sign-in is refused once.
    await s.emulator.control.addFault({
      match: { operation: 'oauth.token' },
      action: { kind: 'error', status: 400, errorCode: 'invalid_grant', message: 'authentication failure' },
      times: 1,
    });
    const state = await runHealthCheck(s, tenantId);
    expect(await s.emulator.control.listFaults()).toEqual([]);
    expect(state.status).toBe('enabled');
    expect(state.health).toMatchObject({ ok: true, problems: [] });
    expect(state.lastError).toBeUndefined();
    // The check probed twice: the refused sign-in, then the re-check that passed.
    const schedule = await s.env.client.schedule.getHandle(healthScheduleId(tenantId, 'salesforce')).describe();
    const run = schedule.info.recentActions.at(-1)?.action.workflow;
    const check = s.env.client.workflow.getHandle(run!.workflowId);
    const history = await check.fetchHistory();
    const probes = history.events?.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'checkHealthOf',
    );
    expect(probes).toHaveLength(2);
    await recordHistory('health-check-recheck', check);
    expect(types(receiver.delivered(tenantId))).toEqual(['operation.finished', 'connection.enabled']);
  });

  it('announces a disable even though the emptied connection workflow ends right after', async () => {
    const s = suite();
    // Credentials the service stored itself: the disable forgets them, and the connection then holds nothing.
    const { target } = await createTestOrg(s.emulator, s.secrets);
    const tenantId = `t-${randomUUID()}`;
    const enabled = await s.connections.enableAndSettle(
      tenantId,
      enableRequest({ ...target, credentialsOwnedByService: true }),
    );
    expect(enabled.status).toBe('enabled');
    await receiver.waitFor(tenantId, (e) => e.length >= 2);
    const state = await s.connections.disableAndSettle(tenantId);
    expect(state.status).toBe('disabled');
    const events = await receiver.waitFor(tenantId, (e) => e.length >= 4);
    expect(types(events)).toEqual([
      'operation.finished',
      'connection.enabled',
      'operation.finished',
      'connection.disabled',
    ]);
    expect(events[2]!.body.data).toMatchObject({ operation: { kind: 'disable', status: 'succeeded' } });
    expect(events.every((e) => e.verified)).toBe(true);
    const connection = s.env.client.workflow.getHandle(connectionWorkflowId(tenantId, 'salesforce'));
    const ended = await pollUntil(
      async () => (await connection.describe()).status.name,
      (status) => status !== 'RUNNING',
      { what: 'the connection workflow to end', timeoutMs: 15_000, intervalMs: 200, onTimeout: 'return' },
    );
    expect(ended).toBe('COMPLETED');
    await recordHistory('connection-webhooks-ended-empty', connection);
  });
});
