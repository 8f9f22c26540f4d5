import { randomUUID } from 'node:crypto';
import { readinessTaskQueue, StepId } from '../../workflows/definitions';
import { recordHistory } from '../support/harness';
import { useSagaSuite } from '../support/saga-suite';
import { createTestOrg, enableRequest } from '../support/salesforce';
import { pollUntil } from '../support/poll';

/**
 * A readiness wait probes Salesforce for minutes until a new app is usable. It runs on a task queue of its own with
 * slots of its own: with the sagas' worker down to one activity slot, an enable waiting for propagation does not hold
 * that slot, and another tenant's enable runs all its Salesforce steps meanwhile.
 */
describe('readiness waits on a task queue of their own (dev server + emulator)', () => {
  const suite = useSagaSuite({ tuning: { maxConcurrentActivityTaskExecutions: 1 } });

  it('an enable waiting for propagation leaves the one saga slot to another tenant’s enable', async () => {
    const s = suite();
    // Tenant A's org makes new apps usable only after 10 minutes: its enable waits at the readiness step.
    const waiting = await createTestOrg(s.emulator, s.secrets, { propagationDelayMs: 10 * 60_000 });
    const tenantA = `t-${randomUUID()}`;
    const enableA = enableRequest(waiting.target);
    await s.connections.enable(tenantA, enableA);
    const atReadiness = await s.connections.reachedStep(tenantA, StepId.readiness, 90_000);
    const sagaA = s.env.client.workflow.getHandle(atReadiness.currentOperation!.workflowId);
    // The wait is scheduled on the readiness queue, and running there (it has probed, and heartbeats).
    const scheduled = ((await sagaA.fetchHistory()).events ?? []).find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'awaitReadiness',
    );
    expect(scheduled?.activityTaskScheduledEventAttributes?.taskQueue?.name).toBe(readinessTaskQueue(s.taskQueue));
    await pollUntil(
      async () => (await sagaA.describe()).raw.pendingActivities ?? [],
      (pending) => !!pending.find((p) => p.activityType?.name === 'awaitReadiness')?.lastStartedTime,
      { what: 'the readiness wait to start', intervalMs: 200 },
    );

    // Tenant B's enable runs every step, its Salesforce calls in the saga worker's one slot, while A still waits.
    const ready = await createTestOrg(s.emulator, s.secrets);
    const tenantB = `t-${randomUUID()}`;
    const enabledB = await s.connections.enableAndSettle(tenantB, enableRequest(ready.target));
    expect(enabledB.status).toBe('enabled');
    const stillWaiting = await s.connections.state(tenantA);
    expect(stillWaiting.currentOperation).toMatchObject({ id: enableA.operationId, kind: 'enable' });
    expect(stillWaiting.currentOperation?.currentStep?.step).toBe(StepId.readiness);

    // Salesforce makes A's app usable: its wait notices, and A's enable completes too.
    await s.emulator.control.updateSettings(waiting.org.key, { propagationDelayMs: 0 });
    const enabledA = await s.connections.settled(tenantA, enableA.operationId);
    expect(enabledA.status).toBe('enabled');
    await recordHistory('enable-readiness-own-queue', sagaA);
  });
});
