import { randomUUID } from 'node:crypto';
import type { temporal } from '@temporalio/proto';
import { ConnectionGateway } from '../../api/connection-gateway';
import { connectionView } from '../../api/views';
import type { HealthReport } from '../../workflows/definitions';
import { connectionWorkflowId, healthScheduleId } from '../../workflows/definitions';
import { recordHistory } from '../support/harness';
import { useSagaSuite } from '../support/saga-suite';
import type { SagaSuite } from '../support/saga-suite';
import { createTestOrg, enableRequest } from '../support/salesforce';
import { pollUntil } from '../support/poll';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/**
 * A health check signals the connection only when its report changes what the connection shows: a healthy → healthy
 * check sends nothing (one billed Action less per check), and the API still shows when the connection was last checked,
 * from the check's own result.
 */
describe('health reports reach the connection only when they change what it shows (dev server + emulator)', () => {
  const suite = useSagaSuite();

  async function enabledConnection(s: SagaSuite) {
    const { org, target } = await createTestOrg(s.emulator, s.secrets);
    const tenantId = `t-${randomUUID()}`;
    const state = await s.connections.enableAndSettle(tenantId, enableRequest(target));
    expect(state.status).toBe('enabled');
    return { org, tenantId, details: state.details! };
  }

  /** Runs the connection's Schedule now and waits for that check to end: its workflow and its result. */
  async function runCheck(s: SagaSuite, tenantId: string) {
    const schedule = s.env.client.schedule.getHandle(healthScheduleId(tenantId, 'salesforce'));
    const before = (await schedule.describe()).info.recentActions.at(-1)?.action.workflow.firstExecutionRunId;
    // The previous check has ended, but the Schedule may not know it yet: its SKIP policy would drop the trigger.
    await schedule.trigger('ALLOW_ALL');
    const started = await pollUntil(
      async () => (await schedule.describe()).info.recentActions.at(-1)?.action.workflow,
      // Two checks in the same second share a workflow id: runs tell them apart.
      (latest) => !!latest && latest.firstExecutionRunId !== before,
      { what: 'the health check to start', intervalMs: 150 },
    );
    const handle = s.env.client.workflow.getHandle(started!.workflowId, started!.firstExecutionRunId);
    return { handle, report: (await handle.result()) as HealthReport | undefined };
  }

  /** The connection once it has published the report of the check at `checkedAt` (its memo follows the signal). */
  async function published(s: SagaSuite, tenantId: string, checkedAt: string) {
    return pollUntil(
      () => s.connections.state(tenantId),
      (state) => state.health?.checkedAt === checkedAt,
      {
        what: `the report of ${checkedAt} published`,
        timeoutMs: 10_000,
        intervalMs: 100,
        describe: (state) => state.health,
      },
    );
  }

  const connectionEvents = async (s: SagaSuite, tenantId: string): Promise<HistoryEvent[]> =>
    (await s.env.client.workflow.getHandle(connectionWorkflowId(tenantId, 'salesforce')).fetchHistory()).events ?? [];
  const reportsReceived = (events: HistoryEvent[]) =>
    events.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'healthReport').length;
  const probes = (events: HistoryEvent[]) =>
    events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'checkHealthOf').length;

  it('sends nothing for a healthy connection found healthy again, and the API still shows when it was checked', async () => {
    const s = suite();
    const { tenantId } = await enabledConnection(s);
    const gateway = new ConnectionGateway(s.env.client, {
      taskQueue: s.taskQueue,
      timeoutMs: 10_000,
      lastCheckFreshMs: 0,
    });

    // The first check is news (the connection had no report yet): it is sent.
    const first = await runCheck(s, tenantId);
    expect(first.report).toMatchObject({ ok: true, problems: [] });
    expect(first.report?.unchanged).toBeUndefined();
    await published(s, tenantId, first.report!.checkedAt);
    expect(reportsReceived(await connectionEvents(s, tenantId))).toBe(1);

    // The second finds the same: nothing is sent, the check keeps its report as its result.
    const second = await runCheck(s, tenantId);
    expect(second.report).toMatchObject({ ok: true, problems: [], unchanged: true });
    expect(second.report!.checkedAt > first.report!.checkedAt).toBe(true);
    const secondEvents = (await second.handle.fetchHistory()).events ?? [];
    expect(secondEvents.some((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes)).toBe(false);
    await recordHistory('health-check-unchanged', second.handle);
    expect(reportsReceived(await connectionEvents(s, tenantId))).toBe(1);

    // The connection's memo still holds the first check; what the API shows has the second's time.
    expect((await s.connections.state(tenantId)).health?.checkedAt).toBe(first.report!.checkedAt);
    const shown = connectionView((await gateway.readState(tenantId, 'salesforce', { withLastCheck: true }))!);
    expect(shown.status).toBe('enabled');
    expect(shown.health).toEqual({ checkedAt: second.report!.checkedAt, ok: true, problems: [] });
    // The operator's view (the Web UI's current details) says the time is the last report's and where the checks are.
    const metadata = await s.env.client.workflow
      .getHandle(connectionWorkflowId(tenantId, 'salesforce'))
      .query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toContain(`- Health as last reported (${first.report!.checkedAt}): passed`);
    expect(metadata.currentDetails).toContain(
      `recent runs of Schedule \`${healthScheduleId(tenantId, 'salesforce')}\``,
    );
    // Without asking for it (the token broker, admission) the memo is read alone.
    expect((await gateway.readState(tenantId, 'salesforce'))?.health?.checkedAt).toBe(first.report!.checkedAt);

    // What the API keeps for a while: the check it read last, until it reads the Schedule again.
    const keeping = new ConnectionGateway(s.env.client, {
      taskQueue: s.taskQueue,
      timeoutMs: 10_000,
      lastCheckFreshMs: 60_000,
    });
    const shownAt = async (g: ConnectionGateway) =>
      (await g.readState(tenantId, 'salesforce', { withLastCheck: true }))?.health?.checkedAt;
    expect(await shownAt(keeping)).toBe(second.report!.checkedAt);
    const third = await runCheck(s, tenantId);
    expect(third.report?.unchanged).toBe(true);
    expect(await shownAt(keeping)).toBe(second.report!.checkedAt);
    expect(await shownAt(gateway)).toBe(third.report!.checkedAt);
  });

  it('still sends a problem (with the re-check), keeps quiet while it stays the same, and sends the recovery', async () => {
    const s = suite();
    const { org, tenantId, details } = await enabledConnection(s);
    const gateway = new ConnectionGateway(s.env.client, {
      taskQueue: s.taskQueue,
      timeoutMs: 10_000,
      lastCheckFreshMs: 0,
    });
    await published(s, tenantId, (await runCheck(s, tenantId)).report!.checkedAt);

    // Broken: the report changes the status, so it is sent, after the confirming re-check.
    await s.emulator.control.patchRecord(org.key, 'User', details.integrationUserId, { IsActive: false });
    const broken = await runCheck(s, tenantId);
    expect(broken.report?.unchanged).toBeUndefined();
    expect(probes((await broken.handle.fetchHistory()).events ?? [])).toBe(2);
    await recordHistory('health-check-report-changed', broken.handle);
    await published(s, tenantId, broken.report!.checkedAt);
    let shown = connectionView((await gateway.readState(tenantId, 'salesforce', { withLastCheck: true }))!);
    expect(shown.status).toBe('error');
    expect(shown.lastError).toMatchObject({ type: 'HealthCheckFailed', step: 'health_check' });
    expect(shown.lastError?.fix).toMatch(/Reconnect/);
    expect(shown.health?.problems.map((p) => p.kind)).toContain('user_inactive');
    expect(reportsReceived(await connectionEvents(s, tenantId))).toBe(2);

    // Still broken the same way: nothing new to show, nothing sent, no re-check; the time of the check still shows.
    const again = await runCheck(s, tenantId);
    expect(again.report).toMatchObject({ ok: false, unchanged: true });
    expect(probes((await again.handle.fetchHistory()).events ?? [])).toBe(1);
    expect(reportsReceived(await connectionEvents(s, tenantId))).toBe(2);
    shown = connectionView((await gateway.readState(tenantId, 'salesforce', { withLastCheck: true }))!);
    expect(shown.status).toBe('error');
    expect(shown.health?.checkedAt).toBe(again.report!.checkedAt);

    // Fixed in Salesforce: the recovery changes the status, so it is sent and clears the error.
    await s.emulator.control.patchRecord(org.key, 'User', details.integrationUserId, { IsActive: true });
    const recovered = await runCheck(s, tenantId);
    expect(recovered.report).toMatchObject({ ok: true, problems: [] });
    expect(recovered.report?.unchanged).toBeUndefined();
    const state = await published(s, tenantId, recovered.report!.checkedAt);
    expect(state.status).toBe('enabled');
    expect(state.lastError).toBeUndefined();
    expect(reportsReceived(await connectionEvents(s, tenantId))).toBe(3);
  });
});
