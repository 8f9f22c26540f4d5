/**
 * Workflow interceptor module (runs inside the workflow sandbox: imports @temporalio/workflow only). It tells the
 * worker, through a sink, when an operation starts and how it ends; the worker turns that into metrics and a log
 * line. Sinks are not called during replay, so a run is counted once, and nothing here adds a command to history.
 */
import { ApplicationFailure, ContinueAsNew, isCancellation, proxySinks, workflowInfo } from '@temporalio/workflow';
import type { OperationKind } from '../workflows/definitions';
import { ErrorType, StepId } from '../workflows/definitions';
import type {
  Next,
  Sinks,
  WorkflowExecuteInput,
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptorsFactory,
} from '@temporalio/workflow';

export type OperationOutcomeName = 'succeeded' | 'failed' | 'compensated' | 'rollback_incomplete' | 'cancelled';

export interface OperationSinks extends Sinks {
  operations: {
    started(kind: string): void;
    finished(kind: string, outcome: OperationOutcomeName, durationMs: number, errorType?: string): void;
  };
}

/** The long-lived per-connection workflow and webhook deliveries are not operations; every other workflow type is. */
const NOT_OPERATIONS = new Set(['connectionWorkflow', 'deliverWebhooks']);
/** The kind each workflow type counts as: its operation kind, or the health check's step for the scheduled check. */
const KINDS: Record<string, OperationKind | typeof StepId.healthCheck> = {
  enableConnection: 'enable',
  disableConnection: 'disable',
  reconnectConnection: 'reconnect',
  rotateCertificate: 'rotate_certificate',
  updateAccess: 'update_access',
  connectionHealthCheck: StepId.healthCheck,
};

const { operations } = proxySinks<OperationSinks>();

interface SagaDetails {
  stepsCompensated?: unknown[];
  remaining?: unknown[];
}

function outcomeOf(err: unknown): { outcome: OperationOutcomeName; errorType?: string } {
  if (isCancellation(err)) return { outcome: 'cancelled' };
  if (err instanceof ApplicationFailure) {
    const details = err.details?.[0] as SagaDetails | undefined;
    if (details && typeof details === 'object' && Array.isArray(details.remaining)) {
      if (details.remaining.length > 0) return { outcome: 'rollback_incomplete', errorType: err.type ?? undefined };
      if (err.type === ErrorType.cancelled) return { outcome: 'cancelled', errorType: err.type };
      if ((details.stepsCompensated ?? []).length > 0)
        return { outcome: 'compensated', errorType: err.type ?? undefined };
    }
    return { outcome: 'failed', errorType: err.type ?? undefined };
  }
  return { outcome: 'failed', errorType: err instanceof Error ? err.name : undefined };
}

class OperationMetricsInterceptor implements WorkflowInboundCallsInterceptor {
  constructor(private readonly kind: string) {}

  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const startedAt = workflowInfo().runStartTime.getTime();
    operations.started(this.kind);
    try {
      const result = await next(input);
      operations.finished(this.kind, 'succeeded', Date.now() - startedAt);
      return result;
    } catch (err) {
      if (!(err instanceof ContinueAsNew)) {
        const { outcome, errorType } = outcomeOf(err);
        operations.finished(this.kind, outcome, Date.now() - startedAt, errorType);
      }
      throw err;
    }
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => {
  const type = workflowInfo().workflowType;
  if (NOT_OPERATIONS.has(type)) return {};
  return { inbound: [new OperationMetricsInterceptor(KINDS[type] ?? type)] };
};
