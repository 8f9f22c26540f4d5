import { randomUUID } from 'node:crypto';
import type { temporal } from '@temporalio/proto';
import { recordHistory } from '../support/harness';
import { useSagaSuite } from '../support/saga-suite';
import { createTestOrg, enableRequest } from '../support/salesforce';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const PROPAGATION_MS = 20_000;

const timeOf = (event: HistoryEvent | undefined): number => {
  const t = event?.eventTime;
  if (!t) throw new Error('no such event');
  return Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
};

/**
 * Salesforce takes minutes to make a new app usable; the emulator's orgs here take 20 s. The readiness wait must
 * notice within 5 s, measured between the emulator's own times (the app's creation plus its propagation delay) and
 * the saga's history (when the readiness step and the enable completed), not by the test's clock.
 */
describe('readiness noticed promptly (dev server + emulator with a 20 s propagation delay)', () => {
  const suite = useSagaSuite();

  it('an enable completes within 5 s of the app becoming usable, in one attempt of one activity', async () => {
    const s = suite();
    const { org, target } = await createTestOrg(s.emulator, s.secrets, { propagationDelayMs: PROPAGATION_MS });
    const tenantId = `t-${randomUUID()}`;
    const state = await s.connections.enableAndSettle(tenantId, enableRequest(target));
    expect(state.status).toBe('enabled');

    const appCreated = (await s.emulator.control.components(org.key))
      .filter((c) => /^(ExternalClientApplication|ExtlClntApp)/.test(c.kind))
      .map((c) => Date.parse(c.createdAt));
    expect(appCreated.length).toBeGreaterThan(0);
    const usableAt = Math.max(...appCreated) + PROPAGATION_MS;

    const saga = s.env.client.workflow.getHandle(state.operations[0]!.workflowId);
    await recordHistory('enable-readiness-wait', saga);
    const events = (await saga.fetchHistory()).events ?? [];
    const scheduled = events.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'awaitReadiness',
    );
    expect(scheduled).toHaveLength(1);
    const scheduledId = Number(scheduled[0]!.eventId);
    const started = events.find((e) => Number(e.activityTaskStartedEventAttributes?.scheduledEventId) === scheduledId);
    const completed = events.find(
      (e) => Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === scheduledId,
    );
    // One attempt however long the wait: probes are not billed, attempts are.
    expect(started?.activityTaskStartedEventAttributes?.attempt).toBe(1);
    const sagaCompleted = events.find((e) => e.workflowExecutionCompletedEventAttributes);

    // It waited for propagation, and noticed the end of it within 5 s.
    expect(timeOf(completed)).toBeGreaterThanOrEqual(usableAt);
    expect(timeOf(completed) - usableAt).toBeLessThanOrEqual(5_000);
    expect(timeOf(sagaCompleted) - usableAt).toBeLessThanOrEqual(5_000);
  });
});
