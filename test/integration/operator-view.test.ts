import { randomUUID } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Payload } from '@temporalio/common';
import { publishedState } from '../../api/published-state';
import { EncryptionCodec } from '../../codec/encryption-codec';
import { connectionWorkflow } from '../../workflows';
import { stateForNewRun } from '../../workflows/connection-state';
import type { ConnectionState } from '../../workflows/definitions';
import { STATE_MEMO_KEY, connectionWorkflowId } from '../../workflows/definitions';
import { Connections } from '../support/connections';
import { TEST_PAYLOAD_KEY } from '../support/harness';
import { useSagaSuite } from '../support/saga-suite';
import { listRunsUntil } from '../support/visibility';
import { createTestOrg, enableRequest } from '../support/salesforce';
import { pollUntil } from '../support/poll';

/** Every payload anywhere in a history (inputs, results, memos, failures, signals, updates). */
function collectPayloads(node: unknown, out: Payload[] = []): Payload[] {
  if (Array.isArray(node)) node.forEach((n) => collectPayloads(n, out));
  else if (node && typeof node === 'object') {
    const value = node as Record<string, unknown>;
    if (value.metadata && typeof value.metadata === 'object' && 'data' in value) out.push(value);
    else Object.values(value).forEach((v) => collectPayloads(v, out));
  }
  return out;
}

/** What an operator with the codec key would read in the Web UI: every payload decrypted and decoded. */
async function readableHistory(history: unknown): Promise<string> {
  const decoded = await new EncryptionCodec([TEST_PAYLOAD_KEY]).decode(collectPayloads(history));
  return decoded
    .map((p) => {
      try {
        return JSON.stringify(defaultPayloadConverter.fromPayload(p));
      } catch {
        return Buffer.from(p.data ?? new Uint8Array()).toString('utf8');
      }
    })
    .join('\n');
}

describe('what operators see: state across continue-as-new, search attributes, no secrets in histories', () => {
  const suite = useSagaSuite();

  it('the connection continues as new when its history grows, carrying its state and operations', async () => {
    const s = suite();
    const connections = new Connections(s.env.client, s.taskQueue, 40);
    const { target } = await createTestOrg(s.emulator, s.secrets);
    const tenantId = `t-${randomUUID()}`;
    const handle = s.env.client.workflow.getHandle(connectionWorkflowId(tenantId, 'salesforce'));
    const ops: string[] = [];
    for (const kind of ['enable', 'disable', 'enable'] as const) {
      const operationId = randomUUID();
      ops.push(operationId);
      if (kind === 'enable') await connections.enableAndSettle(tenantId, enableRequest(target, { operationId }));
      else await connections.disableAndSettle(tenantId, { operationId });
    }
    const runs = await listRunsUntil(
      s.env.client,
      `WorkflowId = '${handle.workflowId}'`,
      (listed) => listed.length > 1 && listed.filter((r) => r.status.name === 'RUNNING').length === 1,
    );
    expect(runs.length).toBeGreaterThan(1);
    expect(runs.filter((r) => r.status.name === 'RUNNING')).toHaveLength(1);
    expect(runs.some((r) => r.status.name === 'CONTINUED_AS_NEW')).toBe(true);
    const state = await connections.state(tenantId);
    expect(state.status).toBe('enabled');
    expect(state.operations.map((o) => o.id)).toEqual([...ops].reverse());
  });

  it('a run that has just continued as new reads whole before its first workflow task publishes its state', async () => {
    const s = suite();
    const { target } = await createTestOrg(s.emulator, s.secrets);
    const enabled = await s.connections.enableAndSettle(`t-${randomUUID()}`, enableRequest(target));
    expect(enabled.agentConfiguration?.objects.length).toBeGreaterThan(0);
    // A run as continue-as-new leaves it, on a queue no worker polls: its first workflow task never runs.
    const tenantId = `t-${randomUUID()}`;
    const full = { ...enabled, tenantId };
    const started = await s.env.client.workflow.start(connectionWorkflow, {
      workflowId: connectionWorkflowId(tenantId, 'salesforce'),
      taskQueue: `no-worker-${randomUUID()}`,
      args: [{ tenantId, crm: 'salesforce', state: full }],
      memo: { [STATE_MEMO_KEY]: stateForNewRun(full) },
    });
    try {
      const description = await started.describe();
      const memo = description.memo?.[STATE_MEMO_KEY] as ConnectionState;
      expect(memo.abridged).toBe(true);
      expect(memo.agentConfiguration).toBeUndefined();
      expect(await publishedState(s.env.client, description)).toEqual(full);
    } finally {
      await started.terminate('test: a run no worker runs');
    }
  });

  it('operators find a tenant’s runs by search attributes, and no history holds the admin token or the private key', async () => {
    const s = suite();
    const { org, target } = await createTestOrg(s.emulator, s.secrets);
    const tenantId = `t-${randomUUID()}`;
    const state = await s.connections.enableAndSettle(tenantId, enableRequest(target));
    expect(state.status).toBe('enabled');

    const found = await pollUntil(
      async () => {
        const runs: { workflowId: string; type: string; status: string }[] = [];
        for await (const run of s.env.client.workflow.list({ query: `TenantId = '${tenantId}'` })) {
          runs.push({
            workflowId: run.workflowId,
            type: run.type,
            status: String(run.searchAttributes.ConnectionStatus ?? ''),
          });
        }
        return runs;
      },
      (runs) => runs.length >= 2 && runs.some((f) => f.status === 'enabled'),
      { what: 'the tenant’s runs', timeoutMs: 20_000, onTimeout: 'return' },
    );
    expect(found.map((f) => f.type).sort()).toEqual(['connectionWorkflow', 'enableConnection']);
    const enabled = [];
    for await (const run of s.env.client.workflow.list({
      query: `TenantId = '${tenantId}' AND ConnectionStatus = 'enabled'`,
    }))
      enabled.push(run.workflowId);
    expect(enabled).toEqual([connectionWorkflowId(tenantId, 'salesforce')]);

    const privateKeyPem = (JSON.parse((await s.secrets.get(state.details!.privateKey))!) as { privateKeyPem: string })
      .privateKeyPem;
    const keyBody = privateKeyPem.split('\n')[1]!;
    const readable = [
      await readableHistory(
        await s.env.client.workflow.getHandle(connectionWorkflowId(tenantId, 'salesforce')).fetchHistory(),
      ),
      await readableHistory(await s.env.client.workflow.getHandle(state.operations[0]!.workflowId).fetchHistory()),
    ].join('\n');
    // The decoded histories are real: they carry the references and the public certificate...
    expect(readable).toContain(state.details!.privateKey.secretRef);
    expect(readable).toContain('BEGIN CERTIFICATE');
    // ...and never the secrets themselves.
    expect(readable).not.toContain(org.accessToken);
    expect(readable).not.toContain(org.refreshToken);
    expect(readable).not.toContain(keyBody);
    expect(readable).not.toContain('PRIVATE KEY');
  });
});
