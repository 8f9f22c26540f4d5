import { performance } from 'node:perf_hooks';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { ErrorType, tenantOfWorkflowId } from '../workflows/definitions';
import type { WorkerMetrics } from './metrics';

/**
 * The readiness activities (a failure of type ErrorType.notReady means "Salesforce is still propagating"):
 * `awaitReadiness` probes until the app is usable or its window ends; `checkReadiness`, one probe per attempt, serves
 * operations started before it.
 */
const READINESS_ACTIVITIES: ReadonlySet<string> = new Set(['awaitReadiness', 'checkReadiness']);

type StepResult = 'ok' | 'retryable' | 'failed' | 'cancelled';

function resultOf(err: unknown): StepResult {
  if (err instanceof CancelledFailure) return 'cancelled';
  if (err instanceof ApplicationFailure && err.nonRetryable) return 'failed';
  return 'retryable';
}

/**
 * Per activity attempt: the step's duration by result, readiness probes and waits, and one log line. Every log line
 * an activity writes (Context.log) also gets the tenant and the step, next to the ids the SDK attaches (workflow id,
 * run id, activity type, attempt).
 */
export function activityObservability(metrics?: WorkerMetrics): ActivityInterceptorsFactory {
  return (ctx) => {
    const step = ctx.info.activityType;
    const tenantId = tenantOfWorkflowId(ctx.info.workflowExecution?.workflowId);
    return {
      inbound: {
        async execute(input, next) {
          const started = performance.now();
          const seconds = () => (performance.now() - started) / 1000;
          try {
            const result = await next(input);
            metrics?.stepDuration.observe({ step, result: 'ok' }, seconds());
            if (READINESS_ACTIVITIES.has(step)) {
              metrics?.readinessChecks.inc({ result: 'ready' });
              metrics?.readinessWait.observe(Math.max(0, Date.now() - ctx.info.scheduledTimestampMs) / 1000);
            }
            ctx.log.info('step attempt succeeded', { durationMs: Math.round(seconds() * 1000) });
            return result;
          } catch (err) {
            const result = resultOf(err);
            metrics?.stepDuration.observe({ step, result }, seconds());
            const errorType = err instanceof ApplicationFailure ? (err.type ?? undefined) : (err as Error)?.name;
            if (READINESS_ACTIVITIES.has(step)) {
              metrics?.readinessChecks.inc({ result: errorType === ErrorType.notReady ? 'not_ready' : 'failed' });
            }
            ctx.log[result === 'failed' ? 'warn' : 'info']('step attempt failed', {
              durationMs: Math.round(seconds() * 1000),
              result,
              errorType,
              error: err instanceof Error ? err.message : String(err),
            });
            throw err;
          }
        },
      },
      outbound: {
        getLogAttributes(input, next) {
          return next({ ...input, ...(tenantId ? { tenantId } : {}), step });
        },
      },
    };
  };
}
