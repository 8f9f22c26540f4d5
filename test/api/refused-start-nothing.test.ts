import type { ApiClient, Connection } from '@agent-connections/api-client';
import type { CreatedOrg } from '@agent-connections/salesforce-emulator';
import type { connectionWorkflow } from '../../workflows/connection';
import { connectionWorkflowId } from '../../workflows/definitions';
import { recordHistory } from '../support/harness';
import { listRunsUntil } from '../support/visibility';
import type { ApiStack } from './api-stack';
import { AGENT_CONFIGURATION, ok, salesforceOf, startApiStack, uniqueTenant, waitForConnection } from './api-stack';
import { pollUntil } from '../support/poll';

const CONNECTION = '/v1/tenants/{tenantId}/connections/{crm}';

/**
 * Refused or pointless requests start nothing, and a connection workflow that holds nothing ends by itself: on the
 * real stack, with the API's own admission check in front of update-with-start.
 */
describe('refused requests start nothing', () => {
  let stack: ApiStack;
  let org: CreatedOrg;
  let admin: ApiClient;
  let reader: ApiClient;

  beforeAll(async () => {
    stack = await startApiStack();
    org = await stack.emulator.control.createOrg({ key: 'refused' });
    admin = stack.client(stack.keys.admin);
    reader = stack.client(stack.keys.read);
  });

  afterAll(async () => {
    await stack?.close();
  });

  /** The status of the tenant's connection workflow's last run, or 'none' when it was never started. */
  const workflowStatus = (tenant: string): Promise<string> =>
    stack.env.client.workflow
      .getHandle(connectionWorkflowId(tenant, 'salesforce'))
      .describe()
      .then(
        (d) => d.status.name,
        (err: Error) => (err.name === 'WorkflowNotFoundError' ? 'none' : Promise.reject(err)),
      );

  /**
   * Running workflows of the tenant, as the Web UI lists them (visibility, which can lag a run that just ended: read
   * until none is listed or the deadline passes; `workflowStatus` above is the immediate check).
   */
  const runningWorkflows = async (tenant: string): Promise<string[]> =>
    (
      await listRunsUntil(
        stack.env.client,
        `TenantId = "${tenant}" AND ExecutionStatus = "Running"`,
        (runs) => runs.length === 0,
      )
    ).map((run) => run.workflowId);

  const readConnection = (tenant: string) => async (): Promise<Connection> =>
    ok(await reader.GET(CONNECTION, { params: { path: salesforceOf(tenant) } }));

  it('answers 409 to a rotation, a reconnect or an update of access of a connection never enabled, and starts nothing', async () => {
    const tenant = uniqueTenant('refused');
    const path = salesforceOf(tenant);
    const refusals = [
      await admin.POST(`${CONNECTION}/rotate-certificate`, { params: { path }, body: {} }),
      await admin.POST(`${CONNECTION}/reconnect`, { params: { path } }),
      // A reconnect naming an org, with no configuration anywhere: refused (422, as an enable with nothing to read), and
      // the tokens it brought are not kept.
      await admin.POST(`${CONNECTION}/reconnect`, {
        params: { path },
        body: { loginUrl: org.loginUrl, adminCredentials: { accessToken: 'token-that-must-not-stay' } },
      }),
      await admin.POST(`${CONNECTION}/update-access`, {
        params: { path },
        body: { agentConfiguration: AGENT_CONFIGURATION },
      }),
    ];
    expect(refusals.map((refused) => refused.response.status)).toEqual([409, 409, 422, 409]);
    for (const refused of refusals) {
      expect(refused.response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(refused.error?.detail).toMatch(/never enabled|not established|Choose at least one object/);
      expect(await workflowStatus(tenant)).toBe('none');
    }
    expect(await runningWorkflows(tenant)).toEqual([]);
    expect((await stack.secrets.refs()).filter((ref) => ref.includes(tenant))).toEqual([]);
  });

  it('answers 200 “already off” to a disable of a connection never enabled, with nothing started or stored', async () => {
    const tenant = uniqueTenant('nothing-to-disable');
    const path = salesforceOf(tenant);
    const disabled = await admin.POST(`${CONNECTION}/disable`, {
      params: { path, header: { 'Idempotency-Key': 'off-1' } },
      body: { adminCredentials: { accessToken: 'token-that-must-not-stay' } },
    });
    expect(disabled.response.status).toBe(200);
    expect(ok(disabled)).toMatchObject({ tenantId: tenant, status: 'disabled' });
    expect(disabled.response.headers.get('location')).toBeNull();
    expect(await workflowStatus(tenant)).toBe('none');
    expect(await runningWorkflows(tenant)).toEqual([]);
    expect((await stack.secrets.refs()).filter((ref) => ref.includes(tenant))).toEqual([]);
    const { operations } = ok(await reader.GET(`${CONNECTION}/operations`, { params: { path } }));
    expect(operations).toEqual([]);
  });

  it('ends a connection workflow that holds nothing by itself', async () => {
    const tenant = uniqueTenant('idle');
    const handle = await stack.env.client.workflow.start<typeof connectionWorkflow>('connectionWorkflow', {
      workflowId: connectionWorkflowId(tenant, 'salesforce'),
      taskQueue: stack.taskQueue,
      args: [{ tenantId: tenant, crm: 'salesforce', idleTimeout: '1 second' }],
    });
    await handle.result();
    expect(await workflowStatus(tenant)).toBe('COMPLETED');
    await recordHistory('connection-idle-ends', handle);
  });

  it('enables then disables as before; the workflow ends once empty, and the next request continues its history', async () => {
    const tenant = uniqueTenant('ends');
    const path = salesforceOf(tenant);
    const body = {
      loginUrl: org.loginUrl,
      instanceUrl: org.instanceUrl,
      adminCredentials: { accessToken: org.accessToken, refreshToken: org.refreshToken },
      agentConfiguration: AGENT_CONFIGURATION,
    };
    const enabled = await admin.POST(`${CONNECTION}/enable`, {
      params: { path, header: { 'Idempotency-Key': 'on-1' } },
      body,
    });
    expect(enabled.response.status).toBe(202);
    const first = ok(enabled);
    if (!('operationId' in first)) throw new Error('a Salesforce enable answers the operation');
    await waitForConnection(readConnection(tenant), (c) => c.status === 'enabled');
    expect(await workflowStatus(tenant)).toBe('RUNNING');

    const disabled = await admin.POST(`${CONNECTION}/disable`, { params: { path } });
    expect(disabled.response.status).toBe(202);
    const off = await waitForConnection(readConnection(tenant), (c) => c.status === 'disabled' && !c.currentOperation);
    expect(off.agentConfiguration).toEqual(AGENT_CONFIGURATION);
    const ended = await pollUntil(
      () => workflowStatus(tenant),
      (status) => status === 'COMPLETED',
      { what: 'the connection workflow to complete', intervalMs: 200, onTimeout: 'return' },
    );
    expect(ended).toBe('COMPLETED');
    expect(await runningWorkflows(tenant)).toEqual([]);
    await recordHistory(
      'connection-ends-when-empty',
      stack.env.client.workflow.getHandle(connectionWorkflowId(tenant, 'salesforce')),
    );

    // Read from the ended run; a second disable has nothing to do; the first enable's key still names its operation.
    expect(ok(await reader.GET(`${CONNECTION}/operations`, { params: { path } })).operations).toHaveLength(2);
    expect((await admin.POST(`${CONNECTION}/disable`, { params: { path } })).response.status).toBe(200);
    const again = await admin.POST(`${CONNECTION}/enable`, {
      params: { path, header: { 'Idempotency-Key': 'on-1' } },
      body,
    });
    expect(again.response.status).toBe(202);
    expect(ok(again)).toMatchObject({ operationId: first.operationId });
    expect(await workflowStatus(tenant)).toBe('COMPLETED');

    // A new enable starts a new run that carries the configuration and the history on.
    const { agentConfiguration: _configuration, ...withoutConfiguration } = body;
    const reenabled = await admin.POST(`${CONNECTION}/enable`, {
      params: { path, header: { 'Idempotency-Key': 'on-2' } },
      body: withoutConfiguration,
    });
    expect(reenabled.response.status).toBe(202);
    const on = await waitForConnection(readConnection(tenant), (c) => c.status === 'enabled');
    expect(on.agentConfiguration).toEqual(AGENT_CONFIGURATION);
    expect(ok(await reader.GET(`${CONNECTION}/operations`, { params: { path } })).operations).toHaveLength(3);
    ok(await admin.POST(`${CONNECTION}/disable`, { params: { path } }));
    await waitForConnection(readConnection(tenant), (c) => c.status === 'disabled' && !c.currentOperation);
  });
});
