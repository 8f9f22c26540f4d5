import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  isCancellation,
  log,
  makeContinueAsNewFunc,
  patched,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { Activities } from '../activities';
import { CONTROL_STEP } from './activity-options';
import type { OperationRequests, Refusal } from './admission';
import { admissionRefusal, configurationRefusal, isRefusal, previouslyAccepted } from './admission';
import type { HealthScheduleChange, OperationOutcome } from './connection-state';
import {
  admitOperation,
  applyHealthReport,
  applyOutcome,
  closeOperation,
  findOperation,
  initialConnectionState,
  refreshDerivedState,
  searchAttributesOf,
} from './connection-state';
import { startOperation } from './connection-operations';
import type { RunResult } from './connection-operations';
import type {
  AgentConfiguration,
  CancelRequest,
  ConnectionState,
  ConnectionStatus,
  ConnectionWorkflowInput,
  OperationAccepted,
  OperationKind,
  OperationRecord,
} from './definitions';
import {
  STATE_MEMO_KEY,
  cancelOperationUpdate,
  configureAgentUpdate,
  disableUpdate,
  enableUpdate,
  healthReportSignal,
  operationWorkflowId,
  reconnectUpdate,
  rotateCertificateUpdate,
  stateQuery,
  stepProgressSignal,
} from './definitions';
import { ErrorType } from './definitions';
import { sagaDetailsOf, toConnectionError } from './failures';

/** Continue-as-new well before Temporal's history limits; the state travels in the input. */
const HISTORY_LENGTH_LIMIT = 2000;

/** Connections that were running before health checks existed replay without the Schedule's activity calls. */
const HEALTH_CHECK_SCHEDULE_PATCH = 'health-check-schedule';

/** The update through which each operation kind arrives. */
const OPERATION_UPDATES: { [K in OperationKind]: UpdateDefinition<OperationAccepted, [OperationRequests[K]]> } = {
  enable: enableUpdate,
  disable: disableUpdate,
  reconnect: reconnectUpdate,
  rotate_certificate: rotateCertificateUpdate,
};

/** Schedules are bookkeeping around an operation: a few quick attempts, and a failure never fails the operation. */
const control = proxyActivities<Activities>(CONTROL_STEP);

/** An accepted operation waiting for the main loop to run it; its record is the state's current operation. */
interface QueuedRun {
  record: OperationRecord;
  run: () => Promise<RunResult>;
  /** A rotation leaves the connection as it was when it fails; other operations change its status. */
  statusBefore: ConnectionStatus;
}

function fail(refusal: Refusal): never {
  throw ApplicationFailure.create({
    type: refusal.type,
    message: refusal.message,
    nonRetryable: true,
    details: refusal.details ? [refusal.details] : undefined,
  });
}

function refuse(refusal: Refusal | undefined): void {
  if (refusal) fail(refusal);
}

/** The running operation a cancel request names; anything else is refused. */
function operationToCancel(state: ConnectionState, operationId: string): OperationRecord {
  const record = findOperation(state, operationId);
  if (!record) fail({ type: ErrorType.operationRejected, message: `No operation ${operationId} on this connection.` });
  if (record.status !== 'running') {
    fail({
      type: ErrorType.operationRejected,
      message: `Operation ${operationId} has already ended (${record.status}).`,
    });
  }
  return record;
}

const now = () => new Date().toISOString();

/**
 * The connection of one tenant to one CRM: a long-lived workflow that holds the connection's state and runs each
 * operation (enable, disable, reconnect, certificate rotation) as a child saga, one at a time.
 *
 * - Operations arrive as Updates (the API uses update-with-start); the validators (admission.ts) refuse a second
 *   operation while one runs, so Temporal itself serialises operations per tenant, across every API and worker.
 * - The state (connection-state.ts) is published in the memo (readable by describe() with no worker up) and as
 *   search attributes; it survives restarts, and continue-as-new carries it past the retention of finished runs.
 */
export async function connectionWorkflow(input: ConnectionWorkflowInput): Promise<void> {
  const state: ConnectionState = input.state ?? initialConnectionState(input.tenantId, input.crm, now());
  let queued: QueuedRun | undefined;
  let runningScope: CancellationScope | undefined;

  const publish = () => {
    refreshDerivedState(state, now());
    upsertMemo({ [STATE_MEMO_KEY]: state });
    upsertSearchAttributes(searchAttributesOf(state));
  };

  const accept = <K extends OperationKind>(kind: K, request: OperationRequests[K]): OperationAccepted => {
    const again = previouslyAccepted(state, kind, request);
    if (again && !isRefusal(again)) return again;
    const record: OperationRecord = {
      id: request.operationId,
      kind,
      requestHash: request.requestHash,
      status: 'running',
      workflowId: operationWorkflowId(kind, state.tenantId, state.crm, request.operationId),
      startedAt: now(),
      stepsDone: [],
      stepsCompensated: [],
    };
    // The service's readiness timeout as the API last sent it; rotations the connection starts itself use it.
    if ('readinessTimeout' in request && request.readinessTimeout) state.readinessTimeout = request.readinessTimeout;
    queued = { record, run: () => startOperation<K>(state, record, request), statusBefore: state.status };
    admitOperation(state, record);
    publish();
    return { operationId: record.id, kind, workflowId: record.workflowId };
  };

  const handleOperation = <K extends OperationKind>(kind: K) => {
    const update: UpdateDefinition<OperationAccepted, [OperationRequests[K]]> = OPERATION_UPDATES[kind];
    setHandler(update, (request) => accept(kind, request), {
      validator: (request: OperationRequests[K]) => {
        const again = previouslyAccepted(state, kind, request);
        refuse(isRefusal(again) ? again : again ? undefined : admissionRefusal(state, kind, request));
      },
    });
  };

  setHandler(stateQuery, () => state);
  handleOperation('enable');
  handleOperation('disable');
  handleOperation('reconnect');
  handleOperation('rotate_certificate');

  setHandler(
    cancelOperationUpdate,
    (request) => {
      const record = operationToCancel(state, request.operationId);
      runningScope?.cancel();
      return record;
    },
    { validator: (request: CancelRequest) => void operationToCancel(state, request.operationId) },
  );

  setHandler(
    configureAgentUpdate,
    (configuration) => {
      state.agentConfiguration = configuration;
      publish();
      return state;
    },
    { validator: (configuration: AgentConfiguration) => refuse(configurationRefusal(configuration)) },
  );

  // Sagas started before the progress-in-memo patch report their steps by signal.
  setHandler(stepProgressSignal, (event) => {
    const record = state.currentOperation;
    if (!record || record.id !== event.operationId) return;
    if (event.event === 'started') record.currentStep = event.progress;
    else if (event.event === 'done') record.stepsDone.push(event.progress.step);
    else if (event.event === 'compensated') record.stepsCompensated.push(event.progress.step);
    publish();
  });

  setHandler(healthReportSignal, (report) => {
    if (applyHealthReport(state, report).rotationDue) accept('rotate_certificate', { operationId: uuid4() });
    else publish();
  });

  const updateHealthSchedule = async (change: HealthScheduleChange) => {
    if (!change || !patched(HEALTH_CHECK_SCHEDULE_PATCH)) return;
    try {
      const connection = { tenantId: state.tenantId, crm: state.crm };
      if (change === 'ensure') await control.ensureHealthSchedule(connection);
      else await control.deleteHealthSchedule(connection);
    } catch (err) {
      log.warn('could not update the health-check schedule', { action: change, error: String(err) });
    }
  };

  const outcomeOf = async (run: QueuedRun): Promise<OperationOutcome> => {
    try {
      runningScope = new CancellationScope();
      return { succeeded: true, details: (await runningScope.run(run.run)) ?? undefined };
    } catch (err) {
      const error = toConnectionError(err, run.record.currentStep?.step, now());
      const cancelled = isCancellation(err) || error.type === ErrorType.cancelled;
      return { succeeded: false, error, saga: sagaDetailsOf(err), cancelled };
    } finally {
      runningScope = undefined;
    }
  };

  const runOperation = async (run: QueuedRun) => {
    const outcome = await outcomeOf(run);
    await updateHealthSchedule(applyOutcome(state, run.record, outcome, run.statusBefore));
    closeOperation(state, run.record, now());
    publish();
  };

  publish();
  for (;;) {
    await condition(
      () =>
        queued !== undefined ||
        workflowInfo().historyLength > (input.historyLimit ?? HISTORY_LENGTH_LIMIT) ||
        workflowInfo().continueAsNewSuggested,
    );
    if (queued) {
      const run = queued;
      queued = undefined;
      await runOperation(run);
      continue;
    }
    await condition(allHandlersFinished);
    if (!queued) {
      // The next run starts with the state already in its memo and search attributes: readable at once, even
      // before a worker runs its first task.
      await makeContinueAsNewFunc<typeof connectionWorkflow>({
        memo: { [STATE_MEMO_KEY]: state },
        typedSearchAttributes: searchAttributesOf(state),
      })({ ...input, state });
    }
  }
}
