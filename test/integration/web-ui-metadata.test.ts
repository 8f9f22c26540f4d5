import { randomUUID } from 'node:crypto';
import { Runtime } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import type { SagaProgress } from '../../workflows/definitions';
import { PROGRESS_MEMO_KEY, connectionWorkflowId } from '../../workflows/definitions';
import { Connections } from '../support/connections';
import { recordHistory } from '../support/harness';
import { useSagaSuite } from '../support/saga-suite';
import type { SagaSuite } from '../support/saga-suite';
import { createTestOrg, enableRequest } from '../support/salesforce';
import { listRunsUntil } from '../support/visibility';
import { pollUntil } from '../support/poll';

/** What the Web UI shows on a workflow: its user metadata (static summary and details, current details). */
async function userMetadata(s: SagaSuite, workflowId: string) {
  const handle = s.env.client.workflow.getHandle(workflowId);
  const description = await handle.describe();
  const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return {
    staticSummary: await description.staticSummary(),
    staticDetails: await description.staticDetails(),
    currentDetails: metadata.currentDetails ?? '',
    memo: description.memo ?? {},
  };
}

/** What the SDK checks against its 2 KB memo warning: the memo a run started or continued as new with, encoded. */
async function startMemoSizes(s: SagaSuite, workflowId: string, runId: string): Promise<number[]> {
  const history = await s.env.client.workflow.getHandle(workflowId, runId).fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const memo =
      e.workflowExecutionStartedEventAttributes?.memo ?? e.workflowExecutionContinuedAsNewEventAttributes?.memo;
    return memo?.fields && Object.keys(memo.fields).length > 0
      ? [temporal.api.common.v1.Memo.encode(memo).finish().length]
      : [];
  });
}

async function findByQuery(s: SagaSuite, query: string, expected: number): Promise<string[]> {
  return (await listRunsUntil(s.env.client, query, (runs) => runs.length >= expected)).map((run) => run.workflowId);
}

describe('a readable Web UI: user metadata, a consistent saga memo, OperationOutcome, a small memo', () => {
  const suite = useSagaSuite();
  const warnings: string[] = [];
  let restore: (() => void) | undefined;
  beforeAll(() => {
    // Keep any TMPRL1103 (payload or memo over the warning limit) that reaches the runtime's logger; core may also
    // print it straight to stderr, so the test measures the memos themselves as core does (encoded size vs 2 KB).
    const logger = Runtime.instance().logger;
    const log = logger.log.bind(logger);
    logger.log = (level, message, meta) => {
      if (message.includes('TMPRL1103')) warnings.push(message);
      log(level, message, meta);
    };
    restore = () => {
      logger.log = log;
    };
  });
  afterAll(() => restore?.());

  it('an enable: summary and details in plain words, a final memo with no current step, OperationOutcome', async () => {
    const s = suite();
    const { target } = await createTestOrg(s.emulator, s.secrets);
    const tenantId = `t-${randomUUID()}`;
    const state = await s.connections.enableAndSettle(tenantId, enableRequest(target));
    const record = state.operations[0]!;
    expect(record.status).toBe('succeeded');

    const saga = await userMetadata(s, record.workflowId);
    expect(saga.staticSummary).toBe(`Enable Salesforce access for tenant ${tenantId}`);
    expect(saga.staticDetails).toContain('1. Checking the org');
    expect(saga.staticDetails).toContain('7. Waiting for Salesforce to activate the app');
    expect(saga.currentDetails).toContain('**Enable access succeeded**');
    expect(saga.currentDetails).toContain('Nothing it created is left in the org.');
    const progress = saga.memo[PROGRESS_MEMO_KEY] as SagaProgress;
    expect(progress.currentStep).toBeUndefined();
    expect(progress).toMatchObject({ outcome: 'succeeded', stepsCompensated: [], remaining: [] });
    expect(progress.stepsDone).toHaveLength(7);
    expect(await findByQuery(s, `TenantId = '${tenantId}' AND OperationOutcome = 'succeeded'`, 1)).toEqual([
      record.workflowId,
    ]);

    await recordHistory('enable-succeeded-outcome', s.env.client.workflow.getHandle(record.workflowId));

    const connection = await userMetadata(s, connectionWorkflowId(tenantId, 'salesforce'));
    expect(connection.currentDetails).toContain(`**${tenantId} / salesforce: enabled**`);
    expect(connection.currentDetails).toContain('Last operation: Enable access succeeded');
  });

  it('a failed enable: undone only what existed, what remains, found by OperationOutcome = "failed"', async () => {
    const s = suite();
    const { org, target } = await createTestOrg(s.emulator, s.secrets);
    const tenantId = `t-${randomUUID()}`;
    // The integration user cannot be created: the org has no integration license left.
    await s.emulator.control.addFault({
      org: org.key,
      match: { operation: 'rest.create', object: 'User' },
      action: { kind: 'error', errorCode: 'LICENSE_LIMIT_EXCEEDED', status: 400 },
      times: 0,
    });
    const state = await s.connections.enableAndSettle(tenantId, enableRequest(target));
    const record = state.operations[0]!;
    expect(record.status).toBe('failed');
    // The permission set and the key existed and were removed; the user never existed, so it was not "undone".
    expect(record.stepsCompensated).toEqual(['permission_set', 'signing_key']);

    const saga = await userMetadata(s, record.workflowId);
    const progress = saga.memo[PROGRESS_MEMO_KEY] as SagaProgress;
    expect(progress.currentStep).toBeUndefined();
    expect(progress).toMatchObject({
      outcome: 'failed',
      stepsDone: ['preflight', 'signing_key', 'permission_set'],
      stepsCompensated: ['permission_set', 'signing_key'],
      remaining: [],
    });
    expect(saga.currentDetails).toContain('at “Creating the integration user”');
    expect(saga.currentDetails).toContain('- Undone: Creating the permission set; Generating the signing certificate');
    expect(saga.currentDetails).toContain('Nothing it created is left in the org.');
    expect(await findByQuery(s, `TenantId = '${tenantId}' AND OperationOutcome = 'failed'`, 1)).toEqual([
      record.workflowId,
    ]);

    const connection = await userMetadata(s, connectionWorkflowId(tenantId, 'salesforce'));
    expect(connection.currentDetails).toContain(`**${tenantId} / salesforce: error**`);
    expect(connection.currentDetails).toContain('Last operation: Enable access failed');
    await recordHistory('enable-failed-outcome', s.env.client.workflow.getHandle(record.workflowId));
  });

  it('continues as new with a memo under the SDK’s 2 KB warning: no TMPRL1103 warning is logged', async () => {
    const s = suite();
    // A connection that continues as new every few operations.
    const connections = new Connections(s.env.client, s.taskQueue, 40);
    const { target } = await createTestOrg(s.emulator, s.secrets);
    const tenantId = `t-${randomUUID()}`;
    // Reconnects of a working connection (make before break): the connection never holds nothing, so its runs end
    // only by continuing as new (an emptied run would end, and the next start with a fresh memo).
    await connections.enableAndSettle(tenantId, enableRequest(target));
    for (let i = 0; i < 3; i++) await connections.reconnectAndSettle(tenantId);
    // A new run republishes its whole state at its first task (its start memo carries only the last operation).
    const state = await pollUntil(
      () => connections.state(tenantId),
      (current) => current.operations.length >= 4,
      { what: 'the republished operations', intervalMs: 200, onTimeout: 'return' },
    );
    expect(state.status).toBe('enabled');
    expect(state.operations).toHaveLength(4);
    // The SDK checks the memo a run starts or continues as new with against 2 KB (the memos it upserts count
    // against the 512 KB payload limit): each one, as sent (encrypted), of every run of the connection.
    const runs = (
      await listRunsUntil(
        s.env.client,
        `WorkflowId = '${connectionWorkflowId(tenantId, 'salesforce')}'`,
        (listed) => listed.length > 1,
      )
    ).map((run) => run.runId);
    expect(runs.length).toBeGreaterThan(1);
    const sizes = (
      await Promise.all(runs.map((runId) => startMemoSizes(s, connectionWorkflowId(tenantId, 'salesforce'), runId)))
    ).flat();
    expect(sizes.length).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThan(2048);
    expect(warnings).toEqual([]);
  });
});
