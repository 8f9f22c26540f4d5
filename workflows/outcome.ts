import {
  isCancellation,
  patched,
  setCurrentDetails,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ComponentRef, ConnectionError, SagaProgress } from './definitions';
import { ErrorType, PROGRESS_MEMO_KEY, SEARCH_ATTRIBUTES } from './definitions';
import { sagaDetailsOf } from './failures';
import type { FinalOutcome } from './readable';
import { describeSagaEnd } from './readable';
import type { StepDefinition } from './steps';

/** Operations that ended before this patch replay without their final memo and OperationOutcome. */
export const OPERATION_OUTCOME_PATCH = 'operation-outcome';

/**
 * Runs an operation's workflow and, however it ends, leaves it readable: the `OperationOutcome` search attribute
 * (`succeeded`, `failed`, `rollback_incomplete`, `cancelled`: `TenantId = "acme" AND OperationOutcome = "failed"`
 * finds it), a final memo with no current step that lists what was done, undone and what remains, and current
 * details saying so in plain words.
 */
export async function withOperationOutcome<T>(
  operation: { name: string; operationId: string; steps: StepDefinition[] },
  run: () => Promise<T>,
): Promise<T> {
  try {
    const result = await run();
    end(
      operation,
      'succeeded',
      operation.steps.map((s) => s.id),
      [],
      [],
    );
    return result;
  } catch (err) {
    const saga = sagaDetailsOf(err);
    const remaining = saga?.remaining ?? [];
    const cancelled = isCancellation(err) || saga?.error.type === ErrorType.cancelled;
    const outcome: FinalOutcome = remaining.length > 0 ? 'rollback_incomplete' : cancelled ? 'cancelled' : 'failed';
    end(operation, outcome, saga?.stepsDone ?? [], saga?.stepsCompensated ?? [], remaining, saga?.error);
    throw err;
  }
}

function end(
  operation: { name: string; operationId: string; steps: StepDefinition[] },
  outcome: FinalOutcome,
  stepsDone: string[],
  stepsCompensated: string[],
  remaining: ComponentRef[],
  error?: ConnectionError,
): void {
  setCurrentDetails(
    describeSagaEnd(operation.name, operation.steps, { outcome, stepsDone, stepsCompensated, remaining, error }),
  );
  if (!patched(OPERATION_OUTCOME_PATCH)) return;
  const progress: SagaProgress = {
    operationId: operation.operationId,
    stepsDone,
    stepsCompensated,
    outcome,
    remaining,
  };
  upsertMemo({ [PROGRESS_MEMO_KEY]: progress });
  // Operations the connection starts carry its search attributes (TenantId…); one started by hand (a test on the
  // time-skipping server, which knows no custom attribute) carries none and gets none.
  if (workflowInfo().typedSearchAttributes.get(SEARCH_ATTRIBUTES.tenantId) !== undefined) {
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.operationOutcome, value: outcome }]);
  }
}
