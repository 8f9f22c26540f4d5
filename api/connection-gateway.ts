import type { Client } from '@temporalio/client';
import { WithStartWorkflowOperation } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Refusal } from '../workflows/admission';
import { admissionRefusal, isRefusal, previouslyAccepted } from '../workflows/admission';
import { initialConnectionState } from '../workflows/connection-state';
import type {
  AgentConfiguration,
  ConnectionState,
  ConnectionWorkflowInput,
  Crm,
  OperationAccepted,
  OperationKind,
  OperationRecord,
  OperationRequests,
} from '../workflows/definitions';
import {
  ErrorType,
  OPERATION_UPDATES,
  PRIORITY,
  SEARCH_ATTRIBUTES,
  cancelOperationUpdate,
  configureAgentUpdate,
  connectionTaskQueue,
  connectionWorkflowId,
} from '../workflows/definitions';
import { LastHealthChecks } from './last-health-check';
import { ProgressPrefetch } from './live-progress';
import { publishedState } from './published-state';
import { HttpProblem, problems } from './problem';

/** The workflow type, by name: the API imports workflow code for its types only. */
const CONNECTION_WORKFLOW_TYPE = 'connectionWorkflow';
/**
 * The connection workflow's signature (workflows/connection.ts), spelled here so that the gateway, which the fleet's
 * activities use too, imports no workflow module (the workflows import the activities' types).
 */
type ConnectionWorkflow = (input: ConnectionWorkflowInput) => Promise<void>;

/** What operators read first on a connection's workflow in the Web UI. */
const CONNECTION_STATIC_DETAILS = [
  'Holds the connection and runs its operations one at a time, each as a child workflow.',
  '',
  '- **Current details** (below): the status, the running or last operation and what it left in the org.',
  '- **Memo** `state`: the status, the last error with its fix, the last operations.',
  '- The operations: `TenantId = "<tenant>" AND OperationOutcome = "failed"` in the workflow list.',
].join('\n');

/** Seconds a client should wait before retrying when Temporal or the worker does not answer. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * What a submitted operation came to: accepted (now, or by an earlier request with the same Idempotency-Key), or
 * nothing to do (a disable of a connection that holds nothing), with the connection as it is. Refusals are thrown.
 */
export type Submission = { accepted: OperationAccepted } | { nothingToDo: ConnectionState };

/** The last run of a connection's workflow as describe() sees it: its published state, and whether it still runs. */
interface LastRun {
  state: ConnectionState | undefined;
  running: boolean;
  /** The run ended by itself (it held nothing): the next run continues from its state. */
  completed: boolean;
}

/** An operation to submit: its kind and a request of that kind. */
export type OperationRequest<K extends OperationKind = OperationKind> = {
  [P in K]: { kind: P; request: OperationRequests[P] };
}[K];

export interface FailureLike {
  name?: string;
  type?: string;
  message?: string;
  details?: unknown[];
  code?: number;
  cause?: FailureLike;
}

/** gRPC status codes that mean "Temporal is not answering", as opposed to "Temporal said no". */
const GRPC_UNAVAILABLE = new Set([4 /* DEADLINE_EXCEEDED */, 14 /* UNAVAILABLE */, 1 /* CANCELLED */]);

export function isTemporalUnreachable(err: FailureLike): boolean {
  for (let e: FailureLike | undefined = err; e; e = e.cause) {
    if (e.name === 'WorkflowUpdateRPCTimeoutOrCancelledError' || e.name === 'TransportError') return true;
    if (typeof e.code === 'number' && GRPC_UNAVAILABLE.has(e.code)) return true;
    if (e.name === 'ServiceError' && /deadline|unavailable|connect/i.test(e.message ?? '')) return true;
  }
  return false;
}

/** A disable the workflow refused because the connection holds nothing: the API answers with the connection. */
class NothingToDisable extends Error {
  override readonly name = 'NothingToDisable';
}

/** The run ended before it took the update in (it held nothing): the update may go to the next run. */
export function isWorkflowCompleted(err: FailureLike): boolean {
  for (let e: FailureLike | undefined = err; e; e = e.cause) {
    if (/workflow execution already completed/i.test(e.message ?? '')) return true;
  }
  return false;
}

/**
 * The state a new run of the connection starts from: the one a run that ended by itself (it held nothing) left, and
 * also an idle running run's, which may end by itself between this read and the update-with-start that follows (a
 * running workflow ignores it). A run with an operation under way never ends by itself: nothing is carried for it.
 */
export function stateForNextRun(last: { state?: ConnectionState; running: boolean; completed: boolean } | undefined) {
  if (!last?.state) return undefined;
  if (last.completed) return last.state;
  return last.running && !last.state.currentOperation ? last.state : undefined;
}

function isNotFound(err: FailureLike): boolean {
  return err.name === 'WorkflowNotFoundError' || err.code === 5; /* NOT_FOUND */
}

/** The operation named by a validator's rejection (`details[0]`), when it names one. */
function runningOperationOf(failure: FailureLike): OperationAccepted | undefined {
  const detail = failure.details?.[0] as Partial<OperationAccepted> | undefined;
  return detail?.operationId && detail.kind
    ? { operationId: detail.operationId, kind: detail.kind, workflowId: detail.workflowId ?? '' }
    : undefined;
}

/**
 * The API's only door to Temporal: reads the connection's state from its memo, and sends operations to the connection
 * workflow with update-with-start. Every call is bounded, so that a missing worker or an unreachable Temporal becomes
 * a 503 with Retry-After rather than a hung request; a validator's refusal becomes the matching 409 or 422.
 */
export class ConnectionGateway {
  private readonly lastHealthChecks: LastHealthChecks;
  private readonly progress: ProgressPrefetch;

  constructor(
    private readonly client: Client,
    private readonly options: {
      taskQueue: string;
      timeoutMs: number;
      /** How long a connection's latest health check read from its Schedule is shown (default LAST_CHECK_FRESH_MS). */
      lastCheckFreshMs?: number;
    },
  ) {
    this.lastHealthChecks = new LastHealthChecks(client, (call) => this.bounded(call), options.lastCheckFreshMs);
    this.progress = new ProgressPrefetch(client, (call) => this.bounded(call));
  }

  /**
   * The connection's state, or undefined when its workflow was never started. Needs no worker. `withProgress` also
   * reads the running operation's progress from its saga (what an admin watching it needs; the token broker doesn't);
   * `withLastCheck` the time of the latest health check, which a check that changed nothing keeps in its own result.
   */
  async readState(
    tenantId: string,
    crm: Crm,
    options: { withProgress?: boolean; withLastCheck?: boolean } = {},
  ): Promise<ConnectionState | undefined> {
    const key = connectionWorkflowId(tenantId, crm);
    // The saga of the operation last seen running is read beside the connection, not after it.
    const prefetched = options.withProgress ? this.progress.start(key) : undefined;
    try {
      const description = await this.bounded(() => this.client.workflow.getHandle(key).describe());
      const state = await this.bounded(() => publishedState(this.client, description));
      if (!state) return state;
      // Only a connection checked before can show a later check (and a new or busy one, most under load, is not):
      // read beside the running operation's progress, so that showing it waits for the slower of the two.
      const lastCheck = options.withLastCheck && state.health ? this.lastHealthChecks.latest(tenantId, crm) : undefined;
      const shown = options.withProgress ? await this.progress.apply(key, state, prefetched) : state;
      return lastCheck ? await this.lastHealthChecks.apply(shown, lastCheck) : shown;
    } catch (err) {
      if (isNotFound(err as FailureLike)) return undefined;
      throw this.translate(err);
    }
  }

  /**
   * Runs the connection's admission rules on its published state first, so that a refused or pointless request starts
   * no workflow and records nothing; then sends the operation with update-with-start, whose validator stays the
   * authority (two requests racing are still refused there). A connection whose workflow ended because it held
   * nothing continues in a new run that starts from the ended run's state (configuration, operations).
   */
  async submit(tenantId: string, crm: Crm, operation: OperationRequest): Promise<Submission> {
    const { operationId, requestHash } = operation.request;
    // The same operation sent again (a retry after a 503) attaches to the first update; another body is a new
    // update, which the validator refuses as IdempotencyKeyReused.
    const updateId = `${operation.kind}:${operationId}:${(requestHash ?? '').slice(0, 16)}`;
    const last = await this.lastRun(tenantId, crm);
    const state = this.continuedState(tenantId, crm, last);
    const again = previouslyAccepted(state, operation.kind, operation.request);
    if (again && !isRefusal(again)) return { accepted: again };
    const refusal = again ?? admissionRefusal(state, operation.kind, operation.request);
    if (refusal?.type === ErrorType.nothingToDisable) return { nothingToDo: state };
    if (refusal) throw await this.nameRunningOperation(this.refusalProblem(refusal), tenantId, crm);
    const carried = stateForNextRun(last);
    try {
      const accepted = await this.sendOperation(tenantId, crm, operation, updateId, carried);
      // The admin's page reads the connection next: its saga is then read beside it.
      this.progress.remember(connectionWorkflowId(tenantId, crm), {
        id: accepted.operationId,
        kind: accepted.kind,
        workflowId: accepted.workflowId,
      });
      return { accepted };
    } catch (err) {
      if (err instanceof NothingToDisable) {
        return { nothingToDo: (await this.readState(tenantId, crm)) ?? state };
      }
      throw await this.nameRunningOperation(err, tenantId, crm);
    }
  }

  /**
   * The state the next operation meets: the running workflow's, the state an ended run (it held nothing) left for
   * the next one, or a fresh connection's (never started, or a run an operator terminated: it starts afresh).
   */
  private continuedState(tenantId: string, crm: Crm, last: LastRun | undefined): ConnectionState {
    const state = last && (last.running || last.completed) ? last.state : undefined;
    return state ?? initialConnectionState(tenantId, crm, new Date().toISOString());
  }

  /** The connection workflow's last run, or undefined when it was never started (or is past retention). */
  private async lastRun(tenantId: string, crm: Crm): Promise<LastRun | undefined> {
    try {
      const description = await this.bounded(() =>
        this.client.workflow.getHandle(connectionWorkflowId(tenantId, crm)).describe(),
      );
      const status = description.status.name;
      return {
        state: await this.bounded(() => publishedState(this.client, description)),
        running: status === 'RUNNING',
        completed: status === 'COMPLETED',
      };
    } catch (err) {
      if (isNotFound(err as FailureLike)) return undefined;
      throw this.translate(err);
    }
  }

  /** Sends an operation through its kind's update; generic in the kind, so that the compiler pairs the two. */
  private sendOperation<K extends OperationKind>(
    tenantId: string,
    crm: Crm,
    operation: OperationRequest<K>,
    updateId: string,
    carried: ConnectionState | undefined,
  ): Promise<OperationAccepted> {
    return this.updateWithStart(tenantId, crm, OPERATION_UPDATES[operation.kind], operation.request, {
      updateId,
      carried,
    });
  }

  /**
   * A refusal that does not name the operation in the way gets it from the connection's state, so that a 409 always
   * tells the client which operation to wait for or cancel.
   */
  private async nameRunningOperation(err: unknown, tenantId: string, crm: Crm): Promise<unknown> {
    if (!(err instanceof HttpProblem) || err.status !== 409 || err.extensions.runningOperation) return err;
    const running = (await this.readState(tenantId, crm).catch(() => undefined))?.currentOperation;
    if (!running) return err;
    return problems.conflict('operation-in-progress', err.message, {
      runningOperation: { operationId: running.id, kind: running.kind, workflowId: running.workflowId },
    });
  }

  /** Agent configuration lives on the Salesforce connection, created on first use. */
  async configureAgent(tenantId: string, configuration: AgentConfiguration): Promise<ConnectionState> {
    const last = await this.lastRun(tenantId, 'salesforce');
    return this.updateWithStart(tenantId, 'salesforce', configureAgentUpdate, configuration, {
      carried: stateForNextRun(last),
    });
  }

  async cancel(tenantId: string, crm: Crm, operationId: string): Promise<OperationRecord> {
    try {
      return await this.bounded(() =>
        this.client.workflow
          .getHandle(connectionWorkflowId(tenantId, crm))
          .executeUpdate(cancelOperationUpdate, { args: [{ operationId }] }),
      );
    } catch (err) {
      if (isNotFound(err as FailureLike)) throw problems.notFound(`No operation ${operationId}.`);
      throw this.translate(err);
    }
  }

  /** Whether Temporal answers; `/readyz` uses it. */
  async ping(): Promise<void> {
    await this.bounded(() => this.client.connection.workflowService.getSystemInfo({}));
  }

  /**
   * Update-with-start of the connection workflow. `carried` is the state an ended run left: a new run starts from it
   * (a running workflow ignores it). An update that meets a run as it ends is sent once more, to the next run.
   */
  private async updateWithStart<Ret, Arg>(
    tenantId: string,
    crm: Crm,
    update: UpdateDefinition<Ret, [Arg]>,
    argument: Arg,
    options: { updateId?: string; carried?: ConnectionState } = {},
  ): Promise<Ret> {
    const send = () => {
      const startWorkflowOperation = new WithStartWorkflowOperation<ConnectionWorkflow>(CONNECTION_WORKFLOW_TYPE, {
        workflowId: connectionWorkflowId(tenantId, crm),
        taskQueue: connectionTaskQueue(this.options.taskQueue),
        priority: { priorityKey: PRIORITY.admission },
        args: [{ tenantId, crm, ...(options.carried ? { state: options.carried } : {}) }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        staticSummary: `The ${crm} connection of tenant ${tenantId}`,
        staticDetails: CONNECTION_STATIC_DETAILS,
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.tenantId, value: tenantId },
          { key: SEARCH_ATTRIBUTES.crm, value: crm },
        ],
      });
      return this.bounded(() =>
        this.client.workflow.executeUpdateWithStart(update, {
          args: [argument],
          startWorkflowOperation,
          ...(options.updateId ? { updateId: options.updateId } : {}),
        }),
      );
    };
    try {
      try {
        return await send();
      } catch (err) {
        if (!isWorkflowCompleted(err as FailureLike)) throw err;
        const last = await this.lastRun(tenantId, crm);
        options.carried = stateForNextRun(last);
        return await send();
      }
    } catch (err) {
      throw this.translate(err);
    }
  }

  private bounded<T>(call: () => Promise<T>): Promise<T> {
    return this.client.withDeadline(Date.now() + this.options.timeoutMs, call);
  }

  /** Temporal's answer in HTTP terms. Anything unrecognised is rethrown as is: the error handler logs it. */
  private translate(err: unknown): unknown {
    const failure = err as FailureLike;
    if (failure.name === 'WorkflowUpdateFailedError' && failure.cause) {
      const cause = failure.cause;
      const problem = this.refusalProblem({
        type: cause.type ?? '',
        message: cause.message ?? 'The operation was refused.',
        details: cause.details?.[0] as Record<string, unknown> | undefined,
      });
      if (problem) return problem;
    }
    if (isTemporalUnreachable(failure)) {
      return problems.unavailable(
        'The workflow service did not answer in time. Retry later, with the same Idempotency-Key.',
        RETRY_AFTER_SECONDS,
      );
    }
    return err;
  }

  /** An admission rule's refusal (from the API's own check or from the workflow's validator) as its problem. */
  private refusalProblem(refusal: Refusal): HttpProblem | NothingToDisable | undefined {
    const named = refusal.details ? runningOperationOf({ details: [refusal.details] }) : undefined;
    switch (refusal.type) {
      case ErrorType.operationInProgress:
        return problems.conflict('operation-in-progress', refusal.message, named ? { runningOperation: named } : {});
      case ErrorType.idempotencyKeyReused:
        return problems.unprocessable('idempotency-key-reused', refusal.message, { originalOperation: named });
      case ErrorType.operationRejected:
      case ErrorType.invalidConfiguration:
        return problems.conflict('operation-rejected', refusal.message);
      case ErrorType.nothingToDisable:
        return new NothingToDisable(refusal.message);
      default:
        return undefined;
    }
  }
}
