import type { Client, WorkflowExecutionInfo } from '@temporalio/client';

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
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const runs: WorkflowExecutionInfo[] = [];
    for await (const run of client.workflow.list({ query })) runs.push(run);
    if (enough(runs) || Date.now() > deadline) return runs;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
