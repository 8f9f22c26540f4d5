import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  isCancellation,
  makeContinueAsNewFunc,
  patched,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { Refusal } from './admission';
import { admissionRefusal, configurationRefusal, isRefusal, previouslyAccepted } from './admission';
import type { OperationOutcome } from './connection-state';
import {
  admitOperation,
  applyAccessSwitch,
  applyHealthReport,
  applyOutcome,
  closeOperation,
  credentialsToForget,
  findOperation,
  holdsNothing,
  initialConnectionState,
  reconnectStrategy,
  refreshDerivedState,
  searchAttributesOf,
  stateForNewRun,
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
  OperationRequests,
  HealthReport,
  StepProgressEvent,
} from './definitions';
import {
  OPERATION_UPDATES,
  STATE_MEMO_KEY,
  accessSwitchedSignal,
  cancelOperationUpdate,
  configureAgentUpdate,
  healthReportSignal,
  operationWorkflowId,
  stateQuery,
  stepProgressSignal,
} from './definitions';
import { ErrorType } from './definitions';
import { sagaDetailsOf, toConnectionError } from './failures';
import { forgetCredentials, updateHealthSchedule } from './connection-bookkeeping';
import { ConnectionAnnouncer } from './webhooks';
import { auditEventOf, recordAuditEvent } from './audit';
import { describeConnection } from './readable';

/** Continue-as-new well before Temporal's history limits; the state travels in the input. */
const HISTORY_LENGTH_LIMIT = 2000;

/**
 * Runs that hold nothing end (an operation that empties the connection, or no operation for IDLE_TIMEOUT after the run
 * starts empty); runs started before it wait for ever, and replay so.
 */
const END_WHEN_EMPTY_PATCH = 'end-when-empty';

/** How long a run that holds nothing waits for an operation before it ends (the input's `idleTimeout` wins). */
const IDLE_TIMEOUT = '10 minutes';

/** An accepted operation waiting for the main loop to run it; its record is the state's current operation. */
interface QueuedRun {
  record: OperationRecord;
  run: () => Promise<RunResult>;
  /** A rotation leaves the connection as it was when it fails; other operations change its status. */
  statusBefore: ConnectionStatus;
  /** Who asked, for the audit trail. */
  requestedBy?: OperationRequests[OperationKind]['requestedBy'];
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
 * Connections from before publish only upserted search attributes that changed replay with an upsert at every
 * publish. Each upsert is a billed Temporal Action; a health report that changes no status needs none.
 */
const UPSERT_CHANGED_ONLY_PATCH = 'upsert-changed-search-attributes';

/**
 * One run of the connection workflow: its state, the operation waiting to run, and the handlers Temporal delivers
 * messages to. Handlers only validate, record and publish; operations run one at a time in `run()`.
 */
class Connection {
  readonly state: ConnectionState;
  private queued: QueuedRun | undefined;
  private runningScope: CancellationScope | undefined;
  /** The search attributes this run last upserted. */
  private publishedAttributes: string | undefined;
  private readonly announcer: ConnectionAnnouncer;

  constructor(private readonly input: ConnectionWorkflowInput) {
    this.state = input.state ?? initialConnectionState(input.tenantId, input.crm, now());
    this.announcer = new ConnectionAnnouncer(this.state);
  }

  /**
   * The state, with what follows from it, in the memo (read by the API) and the search attributes (the Web UI); a
   * new resting status and a finished operation are announced by webhook (webhooks.ts).
   */
  publish(finished?: OperationRecord): void {
    refreshDerivedState(this.state, now());
    upsertMemo({ [STATE_MEMO_KEY]: this.state });
    const attributes = searchAttributesOf(this.state);
    const published = JSON.stringify(attributes.map((a) => [a.key.name, a.value]));
    if (published !== this.publishedAttributes || !patched(UPSERT_CHANGED_ONLY_PATCH)) {
      upsertSearchAttributes(attributes);
    }
    this.publishedAttributes = published;
    setCurrentDetails(describeConnection(this.state));
    this.announcer.announce(this.state, finished);
  }

  registerHandlers(): void {
    setHandler(stateQuery, () => this.state);
    this.handleOperation('enable');
    this.handleOperation('disable');
    this.handleOperation('reconnect');
    this.handleOperation('rotate_certificate');
    this.handleOperation('update_access');
    setHandler(cancelOperationUpdate, (request) => this.cancel(request), {
      validator: (request: CancelRequest) => void operationToCancel(this.state, request.operationId),
    });
    setHandler(configureAgentUpdate, (configuration) => this.configureAgent(configuration), {
      validator: (configuration: AgentConfiguration) => refuse(configurationRefusal(configuration)),
    });
    setHandler(stepProgressSignal, (event) => this.recordProgress(event));
    setHandler(healthReportSignal, (report) => this.takeHealthReport(report));
    setHandler(accessSwitchedSignal, (event) => {
      applyAccessSwitch(this.state, event);
      this.publish();
    });
  }

  /** Each operation kind: its update's validator applies the admission rules, its handler records and queues it. */
  private handleOperation<K extends OperationKind>(kind: K): void {
    const update: UpdateDefinition<OperationAccepted, [OperationRequests[K]]> = OPERATION_UPDATES[kind];
    setHandler(update, (request) => this.accept(kind, request), {
      validator: (request: OperationRequests[K]) => {
        const again = previouslyAccepted(this.state, kind, request);
        refuse(isRefusal(again) ? again : again ? undefined : admissionRefusal(this.state, kind, request));
      },
    });
  }

  /** Records an operation and queues its run; the same request again returns the operation it started. */
  private accept<K extends OperationKind>(kind: K, request: OperationRequests[K]): OperationAccepted {
    const again = previouslyAccepted(this.state, kind, request);
    if (again && !isRefusal(again)) return again;
    const record: OperationRecord = {
      id: request.operationId,
      kind,
      requestHash: request.requestHash,
      status: 'running',
      workflowId: operationWorkflowId(kind, this.state.tenantId, this.state.crm, request.operationId),
      startedAt: now(),
      stepsDone: [],
      stepsCompensated: [],
      ...(kind === 'reconnect' ? { strategy: reconnectStrategy(this.state, request) } : {}),
      ...(request.priorityKey ? { priorityKey: request.priorityKey } : {}),
    };
    // The service's readiness timeout as the API last sent it; rotations the connection starts itself use it.
    if ('readinessTimeout' in request && request.readinessTimeout) {
      this.state.readinessTimeout = request.readinessTimeout;
    }
    const run = () => startOperation<K>(this.state, record, request);
    this.queued = { record, run, statusBefore: this.state.status, requestedBy: request.requestedBy };
    admitOperation(this.state, record);
    this.publish();
    return { operationId: record.id, kind, workflowId: record.workflowId };
  }

  private cancel(request: CancelRequest): OperationRecord {
    const record = operationToCancel(this.state, request.operationId);
    this.runningScope?.cancel();
    return record;
  }

  private configureAgent(configuration: AgentConfiguration): ConnectionState {
    this.state.agentConfiguration = configuration;
    this.publish();
    return this.state;
  }

  /** Sagas started before the progress-in-memo patch report their steps by signal. */
  private recordProgress(event: StepProgressEvent): void {
    const record = this.state.currentOperation;
    if (!record || record.id !== event.operationId) return;
    if (event.event === 'started') record.currentStep = event.progress;
    else if (event.event === 'done') record.stepsDone.push(event.progress.step);
    else if (event.event === 'compensated') record.stepsCompensated.push(event.progress.step);
    this.publish();
  }

  private takeHealthReport(report: HealthReport): void {
    if (applyHealthReport(this.state, report).rotationDue) this.accept('rotate_certificate', { operationId: uuid4() });
    else this.publish();
  }

  /**
   * Runs operations as they are accepted, and continues as new when the history grows long. A connection that holds
   * nothing ends: once its last operation leaves it empty, or when no operation came for IDLE_TIMEOUT.
   */
  async run(): Promise<void> {
    this.publish();
    for (;;) {
      const work = () => this.queued !== undefined || this.historyIsLong();
      if (this.endsWhenEmpty()) {
        if (!(await condition(work, this.input.idleTimeout ?? IDLE_TIMEOUT)) && (await this.emptyAndSettled())) return;
      } else {
        await condition(work);
      }
      const queued = this.queued;
      if (queued) {
        this.queued = undefined;
        await this.runOperation(queued);
        if (this.endsWhenEmpty() && (await this.emptyAndSettled())) return;
        continue;
      }
      if (!this.historyIsLong()) continue;
      await this.settled();
      if (!this.queued) await this.continueAsNew();
    }
  }

  /** Whether this run may end because it holds nothing (asked only then, so that the patch marks only such runs). */
  private endsWhenEmpty(): boolean {
    return holdsNothing(this.state) && !this.queued && patched(END_WHEN_EMPTY_PATCH);
  }

  /** Lets every handler finish; true if the connection still holds nothing and no operation arrived meanwhile. */
  private async emptyAndSettled(): Promise<boolean> {
    await this.settled();
    return this.queued === undefined && holdsNothing(this.state);
  }

  /**
   * Every handler has finished and every webhook delivery has started: a run ends only then (a child's start is
   * confirmed only while its parent runs).
   */
  private async settled(): Promise<void> {
    await condition(allHandlersFinished);
    while (this.announcer.starting > 0) {
      await this.announcer.started();
      await condition(allHandlersFinished);
    }
  }

  private historyIsLong(): boolean {
    const info = workflowInfo();
    return info.historyLength > (this.input.historyLimit ?? HISTORY_LENGTH_LIMIT) || info.continueAsNewSuggested;
  }

  /**
   * The next run starts with the state already in its memo (all but its lists, see stateForNewRun) and search
   * attributes: readable at once.
   */
  private continueAsNew(): Promise<never> {
    return makeContinueAsNewFunc<typeof connectionWorkflow>({
      memo: { [STATE_MEMO_KEY]: stateForNewRun(this.state) },
      typedSearchAttributes: searchAttributesOf(this.state),
    })({ ...this.input, state: this.state });
  }

  private async runOperation(queued: QueuedRun): Promise<void> {
    const detailsBefore = this.state.details;
    const outcome = await this.outcomeOf(queued);
    await updateHealthSchedule(this.state, applyOutcome(this.state, queued.record, outcome, queued.statusBefore));
    await forgetCredentials(credentialsToForget(this.state, queued.record));
    closeOperation(this.state, queued.record, now());
    this.publish(queued.record);
    await recordAuditEvent(auditEventOf(this.state, queued.record, queued.requestedBy, detailsBefore));
  }

  /** Runs the operation's saga in a scope that cancel() can cancel, and says how it ended. */
  private async outcomeOf(queued: QueuedRun): Promise<OperationOutcome> {
    try {
      this.runningScope = new CancellationScope();
      return { succeeded: true, details: (await this.runningScope.run(queued.run)) ?? undefined };
    } catch (err) {
      const error = toConnectionError(err, queued.record.currentStep?.step, now());
      const cancelled = isCancellation(err) || error.type === ErrorType.cancelled;
      return { succeeded: false, error, saga: sagaDetailsOf(err), cancelled };
    } finally {
      this.runningScope = undefined;
    }
  }
}

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
  const connection = new Connection(input);
  connection.registerHandlers();
  await connection.run();
}
