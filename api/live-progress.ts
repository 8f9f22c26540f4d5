import type { Client } from '@temporalio/client';
import type {
  ConnectionState,
  OperationKind,
  OperationRecord,
  SagaProgress,
  StepProgress,
} from '../workflows/definitions';
import { PROGRESS_MEMO_KEY, progressWorkflowIds } from '../workflows/definitions';
import { DISABLE_STEPS, ENABLE_STEPS, RECONNECT_CHECK_STEPS, STEPS_OF } from '../workflows/steps';

/**
 * The steps of each saga of an operation, in the order of progressWorkflowIds: a reconnect checks, then disables,
 * then enables, and its steps are counted across the three.
 */
function phaseSteps(kind: OperationKind): string[][] {
  if (kind === 'reconnect') {
    return [RECONNECT_CHECK_STEPS, DISABLE_STEPS, ENABLE_STEPS].map((steps) => steps.map((s) => s.id));
  }
  return [STEPS_OF[kind]];
}

/** Every step of an operation in the order it runs, over all its sagas. */
export function operationSteps(kind: OperationKind): string[] {
  return phaseSteps(kind).flat();
}

function phaseStepCounts(record: Pick<OperationRecord, 'kind'>): number[] {
  return phaseSteps(record.kind).map((steps) => steps.length);
}

/**
 * The operation's position over all its sagas: the current saga's step, shifted by the steps of the sagas before it,
 * out of the steps of them all. One saga: its own numbers.
 */
export function overallProgress(
  record: Pick<OperationRecord, 'kind'>,
  published: (SagaProgress | undefined)[],
): { currentStep?: StepProgress; stepsDone: string[] } {
  let phases = published;
  // A reconnect that makes before it breaks, or repairs in place, runs all its steps in its own saga.
  const root = phases[0]?.currentStep;
  const alone = record.kind === 'reconnect' && root !== undefined && root.total !== RECONNECT_CHECK_STEPS.length;
  if (alone) phases = phases.slice(0, 1);
  const counts = (alone ? [root.total] : phaseStepCounts(record)).map(
    (fallback, i) => phases[i]?.currentStep?.total ?? fallback,
  );
  const total = counts.reduce((sum, n) => sum + n, 0);
  let currentStep: StepProgress | undefined;
  phases.forEach((phase, i) => {
    if (!phase?.currentStep) return;
    const offset = counts.slice(0, i).reduce((sum, n) => sum + n, 0);
    currentStep = { ...phase.currentStep, index: offset + phase.currentStep.index, total };
  });
  // Each saga's steps in the order they ran; a step two sagas run (a reconnect's check, then its enable's) twice.
  return { currentStep, stepsDone: phases.flatMap((p) => p?.stepsDone ?? []) };
}

/**
 * The connection's state with its running operation's progress filled in. Sagas publish their progress in their own
 * memo (workflows/progress.ts) rather than signalling the connection, so it is read from there: one describe per saga
 * of the operation, none when nothing runs. Progress is informative: a saga that cannot be described yet (not
 * started, or Temporal slow to answer) leaves the state as the connection published it.
 */
export async function withLiveProgress(
  client: Client,
  state: ConnectionState,
  bounded: <T>(call: () => Promise<T>) => Promise<T> = (call) => call(),
): Promise<ConnectionState> {
  const record = state.currentOperation;
  if (!record) return state;
  const published = await Promise.all(
    progressWorkflowIds(record).map((workflowId) =>
      bounded(() => client.workflow.getHandle(workflowId).describe()).then(
        (description) => description.memo?.[PROGRESS_MEMO_KEY] as SagaProgress | undefined,
        () => undefined,
      ),
    ),
  );
  const phases = published.map((p) => (p?.operationId === record.id ? p : undefined));
  if (phases.every((p) => p === undefined)) return state;
  const overall = overallProgress(record, phases);
  return {
    ...state,
    currentOperation: {
      ...record,
      currentStep: overall.currentStep ?? record.currentStep,
      stepsDone: overall.stepsDone.length >= record.stepsDone.length ? overall.stepsDone : record.stepsDone,
      stepsCompensated: unique([...record.stepsCompensated, ...phases.flatMap((p) => p?.stepsCompensated ?? [])]),
    },
  };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
