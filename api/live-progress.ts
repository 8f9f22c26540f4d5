import type { Client } from '@temporalio/client';
import type {
  ConnectionState,
  OperationKind,
  OperationRecord,
  SagaProgress,
  StepProgress,
} from '../workflows/definitions';
import { PROGRESS_MEMO_KEY, progressWorkflowIds } from '../workflows/definitions';
import { dropOldest } from './bounded-cache';
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

/** An operation whose sagas' progress can be read: its kind and its (first) saga's workflow id. */
type ProgressSource = Pick<OperationRecord, 'kind' | 'workflowId'>;

/**
 * What the sagas of an operation published of their progress in their own memo (workflows/progress.ts), in the order
 * of progressWorkflowIds: one describe per saga, concurrently. Progress is informative: a saga that cannot be described
 * yet (not started, or Temporal slow to answer) reads as undefined.
 */
export function readSagaProgress(
  client: Client,
  operation: ProgressSource,
  bounded: <T>(call: () => Promise<T>) => Promise<T> = (call) => call(),
): Promise<(SagaProgress | undefined)[]> {
  return Promise.all(
    progressWorkflowIds(operation).map((workflowId) =>
      bounded(() => client.workflow.getHandle(workflowId).describe()).then(
        (description) => description.memo?.[PROGRESS_MEMO_KEY] as SagaProgress | undefined,
        () => undefined,
      ),
    ),
  );
}

/**
 * The connection's state with its running operation's progress filled in from what its sagas published; the state as
 * the connection published it when nothing runs or no saga has published for this operation.
 */
export function applyProgress(state: ConnectionState, published: (SagaProgress | undefined)[]): ConnectionState {
  const record = state.currentOperation;
  if (!record) return state;
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

/** The connection's state with its running operation's progress filled in (a describe per saga, none when idle). */
export async function withLiveProgress(
  client: Client,
  state: ConnectionState,
  bounded: <T>(call: () => Promise<T>) => Promise<T> = (call) => call(),
): Promise<ConnectionState> {
  const record = state.currentOperation;
  if (!record) return state;
  return applyProgress(state, await readSagaProgress(client, record, bounded));
}

/**
 * Showing a busy connection takes its own describe and then one of its saga's: twice the wait for Temporal, which
 * under load is most of what a read waits for. This remembers, per connection, the operation this API process last
 * saw running (or accepted), so that the next read describes its saga beside the connection rather than after it;
 * when the connection turns out to run another operation (or none), that read is dropped and the right one made.
 */
export class ProgressPrefetch {
  /** The operation each connection last showed running, by connection key (CACHED_ENTRIES at most). */
  private readonly running = new Map<string, ProgressSource & { id: string }>();

  constructor(
    private readonly client: Client,
    private readonly bounded: <T>(call: () => Promise<T>) => Promise<T> = (call) => call(),
  ) {}

  /** Starts reading the progress of the operation `key` last showed running, if any. */
  start(key: string): { operationId: string; published: Promise<(SagaProgress | undefined)[]> } | undefined {
    const operation = this.running.get(key);
    if (!operation) return undefined;
    return { operationId: operation.id, published: readSagaProgress(this.client, operation, this.bounded) };
  }

  /** Remembers the operation a connection runs (accepted by this process, or read), or that it runs none. */
  remember(key: string, operation: (ProgressSource & { id: string }) | undefined): void {
    this.running.delete(key);
    if (!operation) return;
    this.running.set(key, { id: operation.id, kind: operation.kind, workflowId: operation.workflowId });
    dropOldest(this.running);
  }

  /** The state with its running operation's progress: the prefetched read when it is that operation's, else a new one. */
  async apply(
    key: string,
    state: ConnectionState,
    prefetched: ReturnType<ProgressPrefetch['start']>,
  ): Promise<ConnectionState> {
    const record = state.currentOperation;
    this.remember(key, record);
    if (!record) return state;
    const published =
      prefetched?.operationId === record.id
        ? await prefetched.published
        : await readSagaProgress(this.client, record, this.bounded);
    return applyProgress(state, published);
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
