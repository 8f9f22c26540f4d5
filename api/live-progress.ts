import type { Client } from '@temporalio/client';
import type { ConnectionState, SagaProgress } from '../workflows/definitions';
import { PROGRESS_MEMO_KEY, progressWorkflowIds } from '../workflows/definitions';

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
  const progress = published.filter((p): p is SagaProgress => p?.operationId === record.id);
  if (progress.length === 0) return state;
  return {
    ...state,
    currentOperation: {
      ...record,
      currentStep: progress.reduce((step, p) => p.currentStep ?? step, record.currentStep),
      stepsDone: unique([...record.stepsDone, ...progress.flatMap((p) => p.stepsDone)]),
      stepsCompensated: unique([...record.stepsCompensated, ...progress.flatMap((p) => p.stepsCompensated)]),
    },
  };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
