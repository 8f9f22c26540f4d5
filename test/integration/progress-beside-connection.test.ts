import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import { ConnectionGateway } from '../../api/connection-gateway';
import { connectionWorkflowId } from '../../workflows/definitions';
import { useSagaSuite } from '../support/saga-suite';
import { createTestOrg, enableRequest } from '../support/salesforce';

/** Each describe the client makes, as `start <workflowId>` when sent and `end <workflowId>` when answered. */
function describesLoggedIn(log: string[]): WorkflowClientInterceptor {
  return {
    async describe(input, next) {
      log.push(`start ${input.workflowExecution.workflowId}`);
      try {
        return await next(input);
      } finally {
        log.push(`end ${input.workflowExecution.workflowId}`);
      }
    },
  };
}

/**
 * Showing a busy connection takes its own describe and its saga's. An API process remembers the operation it last saw
 * running (or accepted) for a connection and describes that saga beside the connection, not after its answer: under
 * load, one wait for Temporal instead of two. When the connection has moved on, the read it shows is the right one.
 */
describe('a busy connection is shown with its saga read beside it (dev server + emulator)', () => {
  const suite = useSagaSuite();

  it('reads the saga of the operation it accepted beside the connection; once it ends, the connection alone', async () => {
    const s = suite();
    const log: string[] = [];
    const client = new Client({
      connection: s.env.client.connection,
      namespace: s.env.client.options.namespace,
      dataConverter: s.env.client.options.dataConverter,
      interceptors: { workflow: [describesLoggedIn(log)] },
    });
    const gateway = new ConnectionGateway(client, { taskQueue: s.taskQueue, timeoutMs: 10_000 });
    const key = `beside-${randomUUID()}`;
    const { target } = await createTestOrg(s.emulator, s.secrets, { key });
    // Salesforce answers slowly: the enable is still running while the connection is shown.
    await s.emulator.control.addFault({ org: key, action: { kind: 'latency', ms: 1000 } });
    const tenantId = `t-${randomUUID()}`;
    const connection = connectionWorkflowId(tenantId, 'salesforce');

    const submission = await gateway.submit(tenantId, 'salesforce', { kind: 'enable', request: enableRequest(target) });
    if (!('accepted' in submission)) throw new Error('the enable was not accepted');
    const saga = submission.accepted.workflowId;

    log.length = 0;
    const busy = await gateway.readState(tenantId, 'salesforce', { withProgress: true });
    expect(busy?.currentOperation?.id).toBe(submission.accepted.operationId);
    expect(log).toContain(`start ${saga}`);
    // The saga's describe was sent before the connection's was answered.
    expect(log.indexOf(`start ${saga}`)).toBeLessThan(log.indexOf(`end ${connection}`));

    // Another API process (nothing remembered) reads the connection first, then the saga it names.
    const elsewhere: string[] = [];
    const other = new ConnectionGateway(
      new Client({
        connection: s.env.client.connection,
        namespace: s.env.client.options.namespace,
        dataConverter: s.env.client.options.dataConverter,
        interceptors: { workflow: [describesLoggedIn(elsewhere)] },
      }),
      { taskQueue: s.taskQueue, timeoutMs: 10_000 },
    );
    const seenElsewhere = await other.readState(tenantId, 'salesforce', { withProgress: true });
    expect(seenElsewhere?.currentOperation?.id).toBe(submission.accepted.operationId);
    expect(elsewhere).toEqual([`start ${connection}`, `end ${connection}`, `start ${saga}`, `end ${saga}`]);

    await s.emulator.control.clearFaults();
    await s.connections.settled(tenantId, submission.accepted.operationId);
    // The first read after the end still tries the saga it remembered; it shows the connection as it now is.
    const ended = await gateway.readState(tenantId, 'salesforce', { withProgress: true });
    expect(ended?.currentOperation).toBeUndefined();
    expect(ended?.status).toBe('enabled');
    log.length = 0;
    await gateway.readState(tenantId, 'salesforce', { withProgress: true });
    // What this read sent (the previous read's saga describe, which it no longer needed, may answer meanwhile).
    expect(log.filter((entry) => entry.startsWith('start '))).toEqual([`start ${connection}`]);
  });
});
