import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import type { ConnectionState, ConnectionWorkflowInput } from '../workflows/definitions';
import { STATE_MEMO_KEY } from '../workflows/definitions';

/**
 * The connection's state as its workflow published it in the memo, which needs no worker to read. A run that has just
 * continued as new shows, until its first workflow task publishes, the abridged state it was started with (its lists
 * left out so that the memo stays small): its full state is then the run's input, read from the first event of its
 * history (no worker either).
 */
export async function publishedState(
  client: Client,
  description: WorkflowExecutionDescription,
): Promise<ConnectionState | undefined> {
  const state = description.memo?.[STATE_MEMO_KEY] as ConnectionState | undefined;
  if (!state?.abridged) return state;
  return (await startedWith(client, description)) ?? state;
}

/** The state the run was started with (by continue-as-new), from its WorkflowExecutionStarted event. */
async function startedWith(
  client: Client,
  description: WorkflowExecutionDescription,
): Promise<ConnectionState | undefined> {
  const { history } = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId: description.workflowId, runId: description.runId },
    maximumPageSize: 1,
  });
  const started = history?.events?.[0]?.workflowExecutionStartedEventAttributes;
  if (!started?.input?.payloads?.length) return undefined;
  const input = await decodeFromPayloadsAtIndex<ConnectionWorkflowInput>(
    client.options.loadedDataConverter,
    0,
    started.input.payloads,
  );
  return input.state;
}
