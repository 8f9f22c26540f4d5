import { randomUUID } from 'node:crypto';
import { ErrorType } from '../../workflows/definitions';
import { recordHistory } from '../support/harness';
import { useSagaSuite } from '../support/saga-suite';
import { componentCounts, createTestOrg, enableRequest, leftovers } from '../support/salesforce';
import { pollUntil } from '../support/poll';

describe('one operation at a time per tenant, cancellation (dev server + emulator)', () => {
  const suite = useSagaSuite();

  it('refuses a second operation for a tenant while one runs, naming it; other tenants run in parallel', async () => {
    const s = suite();
    // Salesforce takes a while to make the app usable: both enables sit in the readiness wait together.
    const a = await createTestOrg(s.emulator, s.secrets, { propagationDelayMs: 4000 });
    const b = await createTestOrg(s.emulator, s.secrets, { propagationDelayMs: 4000 });
    const tenantA = `t-${randomUUID()}`;
    const tenantB = `t-${randomUUID()}`;
    const first = randomUUID();
    await s.connections.enable(tenantA, enableRequest(a.target, { operationId: first }));
    const other = randomUUID();
    await s.connections.enable(tenantB, enableRequest(b.target, { operationId: other }));

    await expect(
      s.connections.enable(tenantA, { operationId: randomUUID(), target: a.target, appKind: 'external_client_app' }),
    ).rejects.toMatchObject({
      cause: { type: ErrorType.operationInProgress, message: expect.stringContaining(first) },
    });
    await expect(s.connections.disable(tenantA, { operationId: randomUUID() })).rejects.toMatchObject({
      cause: { type: ErrorType.operationInProgress },
    });

    // The same request again (an API retry with the same Idempotency-Key) returns the running operation.
    await expect(
      s.connections.enable(tenantA, { operationId: first, target: a.target, appKind: 'external_client_app' }),
    ).resolves.toMatchObject({ operationId: first, kind: 'enable' });

    const [stateA, stateB] = await Promise.all([
      s.connections.reachedStep(tenantA, 'readiness'),
      s.connections.reachedStep(tenantB, 'readiness'),
    ]);
    expect(stateA.status).toBe('enabling');
    expect(stateB.status).toBe('enabling');
    expect(stateA.currentOperation?.stepsDone).toEqual([
      'preflight',
      'signing_key',
      'permission_set',
      'integration_user',
      'user_access',
      'client_app',
    ]);

    const [doneA, doneB] = await Promise.all([
      s.connections.settled(tenantA, first),
      s.connections.settled(tenantB, other),
    ]);
    expect(doneA.status).toBe('enabled');
    expect(doneB.status).toBe('enabled');
    expect(await componentCounts(s.emulator, a.org.key)).toMatchObject({ PermissionSet: 1, User: 1 });
  });

  it('refuses reusing an operation id (Idempotency-Key) for a different request', async () => {
    const s = suite();
    const { target } = await createTestOrg(s.emulator, s.secrets);
    const tenantId = `t-${randomUUID()}`;
    const operationId = randomUUID();
    await s.connections.enable(tenantId, enableRequest(target, { operationId, requestHash: 'hash-of-body-1' }));
    await expect(
      s.connections.enable(tenantId, {
        operationId,
        requestHash: 'hash-of-body-2',
        target,
        appKind: 'external_client_app',
      }),
    ).rejects.toMatchObject({ cause: { type: ErrorType.idempotencyKeyReused } });
    await s.connections.settled(tenantId, operationId);
    await expect(s.connections.disable(tenantId, { operationId })).rejects.toMatchObject({
      cause: { type: ErrorType.idempotencyKeyReused },
    });
  });

  it('cancelling an enable mid-way compensates everything it created; the connection ends disabled', async () => {
    const s = suite();
    const { org, target } = await createTestOrg(s.emulator, s.secrets, { propagationDelayMs: 600_000 });
    const tenantId = `t-${randomUUID()}`;
    const operationId = randomUUID();
    await s.connections.enable(tenantId, enableRequest(target, { operationId }));
    const atReadiness = await s.connections.reachedStep(tenantId, 'readiness');
    expect((await leftovers(s.emulator, org.key)).length).toBeGreaterThan(5);
    // The wait has probed, been refused and sent its first heartbeat: the next one is throttled, so the probe would
    // hear of a cancel only minutes later.
    const waiting = s.env.client.workflow.getHandle(atReadiness.currentOperation!.workflowId);
    await pollUntil(
      async () => (await waiting.describe()).raw.pendingActivities ?? [],
      (pending) => !!pending.find((p) => p.activityType?.name === 'awaitReadiness')?.lastHeartbeatTime,
      { what: 'the readiness wait to heartbeat', intervalMs: 200 },
    );

    const cancelled = await s.connections.cancel(tenantId, operationId);
    expect(cancelled).toMatchObject({ id: operationId, status: 'running' });
    const state = await s.connections.settled(tenantId, operationId);
    const record = state.operations.find((o) => o.id === operationId)!;
    expect(record.status).toBe('cancelled');
    expect(record.stepsCompensated).toEqual(
      expect.arrayContaining(['client_app', 'user_access', 'integration_user', 'permission_set', 'signing_key']),
    );
    expect(state.status).toBe('disabled');
    expect(await leftovers(s.emulator, org.key)).toEqual([]);

    // The rollback did not wait for the readiness probe to hear of the cancel (an activity hears of it only in the
    // answer to its next heartbeat, up to 144 s later): the saga asked the wait to stop and scheduled its first
    // compensation in the same workflow task.
    const saga = s.env.client.workflow.getHandle(record.workflowId);
    const events = (await saga.fetchHistory()).events ?? [];
    const wait = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'awaitReadiness');
    const ofWait = (id: unknown) => wait !== undefined && String(id) === String(wait.eventId);
    const cancelRequested = events.findIndex((e) =>
      ofWait(e.activityTaskCancelRequestedEventAttributes?.scheduledEventId),
    );
    expect(cancelRequested).toBeGreaterThan(-1);
    const firstCompensation = events.findIndex((e, i) => i > cancelRequested && e.activityTaskScheduledEventAttributes);
    expect(firstCompensation).toBeGreaterThan(cancelRequested);
    const between = events.slice(cancelRequested, firstCompensation);
    expect(
      between.filter((e) => e.workflowTaskStartedEventAttributes || e.activityTaskCanceledEventAttributes),
    ).toEqual([]);
    await recordHistory('enable-cancelled-during-readiness', saga);

    await expect(s.connections.cancel(tenantId, operationId)).rejects.toMatchObject({
      cause: { type: ErrorType.operationRejected, message: expect.stringContaining('already ended') },
    });
  });
});
