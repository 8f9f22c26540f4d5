import { randomUUID } from 'node:crypto';
import type { ScheduleHandle } from '@temporalio/client';
import { healthCadence, HEALTH_SCHEDULE_VERSION } from '../../activities/health-schedule-spec';
import type { HealthCheckInput } from '../../workflows/definitions';
import { connectionWorkflowId, healthCheckWorkflowId, healthScheduleId } from '../../workflows/definitions';
import { recordHistory } from '../support/harness';
import { useSagaSuite } from '../support/saga-suite';
import type { SagaSuite } from '../support/saga-suite';
import { createTestOrg, enableRequest } from '../support/salesforce';
import { pollUntil } from '../support/poll';

const HOUR = 3_600_000;

async function enabledConnection(s: SagaSuite): Promise<string> {
  const { target } = await createTestOrg(s.emulator, s.secrets);
  const tenantId = `t-${randomUUID()}`;
  expect((await s.connections.enableAndSettle(tenantId, enableRequest(target))).status).toBe('enabled');
  return tenantId;
}

/** Triggers the Schedule and waits for the health check it starts to end; returns that run's workflow id. */
async function triggerAndWait(s: SagaSuite, schedule: ScheduleHandle): Promise<string> {
  const before = (await schedule.describe()).info.recentActions.length;
  await schedule.trigger();
  const recent = await pollUntil(
    async () => (await schedule.describe()).info.recentActions,
    (actions) => actions.length > before,
    { what: 'a health check started by the Schedule', intervalMs: 150 },
  );
  const handle = s.env.client.workflow.getHandle(recent[recent.length - 1]!.action.workflow.workflowId);
  await handle.result();
  return handle.workflowId;
}

async function publishedHealth(s: SagaSuite, tenantId: string) {
  return pollUntil(
    async () => (await s.connections.state(tenantId)).health,
    (health) => !!health,
    { what: 'the published health', timeoutMs: 15_000, intervalMs: 150, onTimeout: 'return' },
  );
}

async function expectAtCadence(schedule: ScheduleHandle, tenantId: string): Promise<void> {
  const cadence = healthCadence(tenantId, 'salesforce', '1 hour');
  const description = await schedule.describe();
  expect(description.spec.intervals).toEqual([{ every: HOUR, offset: cadence.offsetMs }]);
  expect(description.spec.jitter).toBe(5 * 60_000);
  expect(description.action.type === 'startWorkflow' && description.action.args?.[0]).toMatchObject({
    tenantId,
    scheduleVersion: HEALTH_SCHEDULE_VERSION,
  });
  // Temporal plans the next runs at the connection's own offset in the hour, plus at most the jitter.
  for (const next of description.info.nextActionTimes) {
    const inHour = next.getTime() % HOUR;
    const late = (inHour - cadence.offsetMs + HOUR) % HOUR;
    expect(late).toBeLessThan(5 * 60_000);
  }
}

describe('health checks spread over the interval (dev server + emulator)', () => {
  const suite = useSagaSuite();

  it('an enable creates the Schedule at the connection’s own offset, with jitter', async () => {
    const s = suite();
    const tenantId = await enabledConnection(s);
    const schedule = s.env.client.schedule.getHandle(healthScheduleId(tenantId, 'salesforce'));
    await expectAtCadence(schedule, tenantId);
    const checkId = await triggerAndWait(s, schedule);
    await recordHistory('health-check-spread', s.env.client.workflow.getHandle(checkId));
    // The check signals its report; the connection publishes it when it takes the signal in, a moment later.
    expect(await publishedHealth(s, tenantId)).toMatchObject({ ok: true });
    // A report that changes no status is published in the memo only: no search-attribute upsert (a billed Action).
    const connection = s.env.client.workflow.getHandle(connectionWorkflowId(tenantId, 'salesforce'));
    await recordHistory('connection-health-report', connection);
    const events = (await connection.fetchHistory()).events ?? [];
    const signalled = events.findIndex((e) => e.workflowExecutionSignaledEventAttributes);
    expect(signalled).toBeGreaterThan(0);
    expect(events.slice(signalled).filter((e) => e.upsertWorkflowSearchAttributesEventAttributes)).toEqual([]);
  });

  it('a Schedule from before (top of the hour, no jitter) is moved to the offset by its next run, once', async () => {
    const s = suite();
    const tenantId = await enabledConnection(s);
    const scheduleId = healthScheduleId(tenantId, 'salesforce');
    await s.env.client.schedule.getHandle(scheduleId).delete();
    const oldInput: HealthCheckInput = { tenantId, crm: 'salesforce', rotateBeforeDays: 30 };
    const schedule = await s.env.client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '1 hour' }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'connectionHealthCheck',
        workflowId: healthCheckWorkflowId(tenantId, 'salesforce'),
        taskQueue: s.taskQueue,
        args: [oldInput],
      },
      policies: { overlap: 'SKIP', catchupWindow: '1 minute' },
    });
    expect((await schedule.describe()).spec.intervals).toEqual([{ every: HOUR, offset: undefined }]);

    const checkId = await triggerAndWait(s, schedule);
    await recordHistory('health-check-spread-migration', s.env.client.workflow.getHandle(checkId));
    await expectAtCadence(schedule, tenantId);
    expect(await publishedHealth(s, tenantId)).toMatchObject({ ok: true });

    // The next run carries the version: it checks without touching the Schedule again.
    const nextId = await triggerAndWait(s, schedule);
    const history = await s.env.client.workflow.getHandle(nextId).fetchHistory();
    const activities = (history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter(Boolean);
    expect(activities).toEqual(['checkHealthOf']);
  });

  it('a disabled connection’s old Schedule is not brought back by a run that was already under way', async () => {
    const s = suite();
    const tenantId = await enabledConnection(s);
    await s.connections.disableAndSettle(tenantId);
    const check = await s.env.client.workflow.start('connectionHealthCheck', {
      taskQueue: s.taskQueue,
      workflowId: `${healthCheckWorkflowId(tenantId, 'salesforce')}-late`,
      args: [{ tenantId, crm: 'salesforce', rotateBeforeDays: 30 } satisfies HealthCheckInput],
    });
    await expect(check.result()).resolves.toBeUndefined();
    await expect(s.env.client.schedule.getHandle(healthScheduleId(tenantId, 'salesforce')).describe()).rejects.toThrow(
      /not found/i,
    );
  });
});
