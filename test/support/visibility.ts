import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { pollUntil } from './poll';

/**
 * The runs a visibility query lists, read again until `enough` holds or the deadline passes. Visibility is
 * eventually consistent: a run that just closed or continued as new can be missing from a list for a moment,
 * longer on a loaded server, so a test that counts runs waits for them the way an operator's refresh would.
 */
export async function listRunsUntil(
  client: Client,
  query: string,
  enough: (runs: WorkflowExecutionInfo[]) => boolean,
  timeoutMs = 20_000,
): Promise<WorkflowExecutionInfo[]> {
  // A list that never gets there is returned as it is: the caller's assertion on it says what is missing.
  return pollUntil(
    async () => {
      const runs: WorkflowExecutionInfo[] = [];
      for await (const run of client.workflow.list({ query })) runs.push(run);
      return runs;
    },
    enough,
    { what: `the runs of ${query}`, timeoutMs, onTimeout: 'return' },
  );
}
