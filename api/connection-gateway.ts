import type { Client } from '@temporalio/client';
import { WithStartWorkflowOperation } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { connectionWorkflow } from '../workflows/connection';
import type {
  AgentConfiguration,
  ConnectionState,
  Crm,
  OperationAccepted,
  OperationKind,
  OperationRecord,
  OperationRequests,
} from '../workflows/definitions';
import {
  ErrorType,
  OPERATION_UPDATES,
  SEARCH_ATTRIBUTES,
  STATE_MEMO_KEY,
  cancelOperationUpdate,
  configureAgentUpdate,
  connectionWorkflowId,
} from '../workflows/definitions';
import { withLiveProgress } from './live-progress';
import { HttpProblem, problems } from './problem';

/** The workflow type, by name: the API imports workflow code for its types only. */
const CONNECTION_WORKFLOW_TYPE = 'connectionWorkflow';

/** Seconds a client should wait before retrying when Temporal or the worker does not answer. */
export const RETRY_AFTER_SECONDS = 5;

/** An operation to submit: its kind and a request of that kind. */
export type OperationRequest<K extends OperationKind = OperationKind> = {
  [P in K]: { kind: P; request: OperationRequests[P] };
}[K];

interface FailureLike {
  name?: string;
  type?: string;
  message?: string;
  details?: unknown[];
  code?: number;
  cause?: FailureLike;
}

/** gRPC status codes that mean "Temporal is not answering", as opposed to "Temporal said no". */
const GRPC_UNAVAILABLE = new Set([4 /* DEADLINE_EXCEEDED */, 14 /* UNAVAILABLE */, 1 /* CANCELLED */]);

function isTemporalUnreachable(err: FailureLike): boolean {
  for (let e: FailureLike | undefined = err; e; e = e.cause) {
    if (e.name === 'WorkflowUpdateRPCTimeoutOrCancelledError' || e.name === 'TransportError') return true;
    if (typeof e.code === 'number' && GRPC_UNAVAILABLE.has(e.code)) return true;
    if (e.name === 'ServiceError' && /deadline|unavailable|connect/i.test(e.message ?? '')) return true;
  }
  return false;
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
  constructor(
    private readonly client: Client,
    private readonly options: { taskQueue: string; timeoutMs: number },
  ) {}

  /**
   * The connection's state, or undefined when its workflow was never started. Needs no worker. `withProgress` also
   * reads the running operation's progress from its saga (what an admin watching it needs; the token broker doesn't).
   */
  async readState(
    tenantId: string,
    crm: Crm,
    options: { withProgress?: boolean } = {},
  ): Promise<ConnectionState | undefined> {
    try {
      const description = await this.bounded(() =>
        this.client.workflow.getHandle(connectionWorkflowId(tenantId, crm)).describe(),
      );
      const state = description.memo?.[STATE_MEMO_KEY] as ConnectionState | undefined;
      return state && options.withProgress ? await withLiveProgress(this.client, state, (c) => this.bounded(c)) : state;
    } catch (err) {
      if (isNotFound(err as FailureLike)) return undefined;
      throw this.translate(err);
    }
  }

  async submit(tenantId: string, crm: Crm, operation: OperationRequest): Promise<OperationAccepted> {
    const { operationId, requestHash } = operation.request;
    // The same operation sent again (a retry after a 503) attaches to the first update; another body is a new
    // update, which the validator refuses as IdempotencyKeyReused.
    const updateId = `${operation.kind}:${operationId}:${(requestHash ?? '').slice(0, 16)}`;
    try {
      return await this.sendOperation(tenantId, crm, operation, updateId);
    } catch (err) {
      throw await this.nameRunningOperation(err, tenantId, crm);
    }
  }

  /** Sends an operation through its kind's update; generic in the kind, so that the compiler pairs the two. */
  private sendOperation<K extends OperationKind>(
    tenantId: string,
    crm: Crm,
    operation: OperationRequest<K>,
    updateId: string,
  ): Promise<OperationAccepted> {
    return this.updateWithStart(tenantId, crm, OPERATION_UPDATES[operation.kind], operation.request, updateId);
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
    return this.updateWithStart(tenantId, 'salesforce', configureAgentUpdate, configuration);
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

  private async updateWithStart<Ret, Arg>(
    tenantId: string,
    crm: Crm,
    update: UpdateDefinition<Ret, [Arg]>,
    argument: Arg,
    updateId?: string,
  ): Promise<Ret> {
    const startWorkflowOperation = new WithStartWorkflowOperation<typeof connectionWorkflow>(CONNECTION_WORKFLOW_TYPE, {
      workflowId: connectionWorkflowId(tenantId, crm),
      taskQueue: this.options.taskQueue,
      args: [{ tenantId, crm }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTES.tenantId, value: tenantId },
        { key: SEARCH_ATTRIBUTES.crm, value: crm },
      ],
    });
    try {
      return await this.bounded(() =>
        this.client.workflow.executeUpdateWithStart(update, {
          args: [argument],
          startWorkflowOperation,
          ...(updateId ? { updateId } : {}),
        }),
      );
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
      const message = cause.message ?? 'The operation was refused.';
      switch (cause.type) {
        case ErrorType.operationInProgress: {
          const running = runningOperationOf(cause);
          return problems.conflict('operation-in-progress', message, running ? { runningOperation: running } : {});
        }
        case ErrorType.idempotencyKeyReused:
          return problems.unprocessable('idempotency-key-reused', message, {
            originalOperation: runningOperationOf(cause),
          });
        case ErrorType.operationRejected:
        case ErrorType.invalidConfiguration:
          return problems.conflict('operation-rejected', message);
      }
    }
    if (isTemporalUnreachable(failure)) {
      return problems.unavailable(
        'The workflow service did not answer in time. Retry later, with the same Idempotency-Key.',
        RETRY_AFTER_SECONDS,
      );
    }
    return err;
  }
}
