import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  ChildWorkflowFailure,
  TimeoutFailure,
  isCancellation,
} from '@temporalio/workflow';
import type { ComponentRef, ConnectionError, SagaFailureDetails } from './definitions';
import { ErrorType } from './definitions';

interface ActivityFailureDetails {
  salesforceCode?: string;
  salesforceMessage?: string;
  message?: string;
  fix?: string;
  step?: string;
}

/** The innermost failure: activity and child-workflow wrappers only say where it happened. */
function rootCause(err: unknown): unknown {
  let current = err;
  while (current instanceof ActivityFailure || current instanceof ChildWorkflowFailure) {
    if (!current.cause) break;
    current = current.cause;
  }
  return current;
}

/** Reads the saga details a failed child workflow carries (what it undid and what remains). */
export function sagaDetailsOf(err: unknown): SagaFailureDetails | undefined {
  const cause = rootCause(err);
  if (cause instanceof ApplicationFailure) {
    const details = cause.details?.[0] as SagaFailureDetails | undefined;
    if (details && typeof details === 'object' && 'error' in details && 'remaining' in details) return details;
  }
  return undefined;
}

/** Turns whatever ended a step into what an admin reads: the cause, the Salesforce code, and the fix. */
export function toConnectionError(err: unknown, step: string | undefined, now: string): ConnectionError {
  const saga = sagaDetailsOf(err);
  if (saga) return saga.error;
  const cause = rootCause(err);
  if (isCancellation(err) || cause instanceof CancelledFailure) {
    return {
      type: ErrorType.cancelled,
      message: 'The operation was cancelled; everything it had created was removed.',
      fix: 'Enable access again when you are ready.',
      step,
      at: now,
    };
  }
  // When the readiness wait runs out, Temporal ends the activity with its last failure ("not ready yet").
  const readinessExhausted = cause instanceof ApplicationFailure && cause.type === ErrorType.notReady;
  if (cause instanceof TimeoutFailure || readinessExhausted) {
    return {
      type: step === 'readiness' ? ErrorType.readinessTimeout : ErrorType.salesforceTransient,
      message:
        step === 'readiness'
          ? 'Salesforce did not make the new app usable in time: the integration user still cannot sign in.'
          : `The step "${step ?? 'unknown'}" timed out.`,
      fix: 'Select Reconnect. If it keeps happening, check in Salesforce Setup that the app and the integration user exist and are active.',
      step,
      at: now,
    };
  }
  if (cause instanceof ApplicationFailure) {
    const details = (cause.details?.[0] ?? {}) as ActivityFailureDetails;
    return {
      type: cause.type ?? 'Error',
      salesforceCode: details.salesforceCode,
      // Our sentence and Salesforce's own words apart, so that a page can label them (and never show one twice).
      message: details.message ?? cause.message,
      ...(details.message && details.salesforceMessage && details.salesforceMessage !== details.message
        ? { salesforceMessage: details.salesforceMessage }
        : {}),
      fix: details.fix ?? 'Select Reconnect.',
      step: details.step ?? step,
      at: now,
    };
  }
  return {
    type: 'Error',
    message: err instanceof Error ? err.message : String(err),
    fix: 'Select Reconnect.',
    step,
    at: now,
  };
}

/** The failure a saga ends with: the original cause, plus what was undone and what remains. */
export function sagaFailure(
  error: ConnectionError,
  stepsDone: string[],
  stepsCompensated: string[],
  remaining: ComponentRef[],
  flags: Pick<SagaFailureDetails, 'orgUnchanged' | 'connectionKept'> = {},
): ApplicationFailure {
  const details: SagaFailureDetails = {
    error,
    stepsDone,
    stepsCompensated,
    remaining,
    ...(flags.orgUnchanged ? { orgUnchanged: true } : {}),
    ...(flags.connectionKept ? { connectionKept: true } : {}),
  };
  if (remaining.length > 0) {
    return ApplicationFailure.create({
      type: ErrorType.rollbackIncomplete,
      message: `${error.message} Rollback incomplete: ${remaining.map((c) => `${c.kind} ${c.name}`).join(', ')} remain.`,
      nonRetryable: true,
      details: [details],
    });
  }
  return ApplicationFailure.create({
    type: error.type,
    message: error.message,
    nonRetryable: true,
    details: [details],
  });
}

/** The failure of an operation that stopped before its first change to the org (a failed check). */
export function orgUnchangedFailure(err: unknown, step: string): ApplicationFailure {
  return sagaFailure(toConnectionError(err, step, new Date().toISOString()), [], [], [], { orgUnchanged: true });
}
