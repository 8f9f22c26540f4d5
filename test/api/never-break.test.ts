import request from 'supertest';
import { connectionWorkflowId } from '../../workflows/definitions';
import { publishedState } from '../../api/published-state';
import { recordHistory } from '../support/harness';
import type { ApiStack } from './api-stack';
import { AGENT_CONFIGURATION, startApiStack, waitForConnection } from './api-stack';
import { workingConnections } from './working-connection';

/**
 * A connection that works never loses access because of something the service does: a typo is refused before it
 * is saved, a reconnect that cannot succeed changes nothing, and more fields are granted in place while the agent
 * keeps reading.
 */
describe('never break a working connection', () => {
  let stack: ApiStack;

  beforeAll(async () => {
    stack = await startApiStack();
  });

  afterAll(async () => {
    await stack?.close();
  });

  const { post, enabledConnection, finished, agentQuery, agentProbe, componentIds } = workingConnections(() => stack);

  it('refuses a configuration with a typo before saving it (422 naming the field), and changes nothing', async () => {
    const { tenant, read } = await enabledConnection('typo');
    const response = await request(stack.app)
      .put(`/v1/tenants/${tenant}/agent-configuration`)
      .set('Authorization', `Bearer ${stack.keys.admin}`)
      .send({ objects: [{ object: 'Account', fields: ['Name', 'Industy'] }] })
      .expect(422);
    expect(response.body.detail).toContain('Account.Industy');
    expect(response.body.errors).toEqual([
      { field: 'body.objects[0].fields[1]', message: 'Field Account.Industy does not exist in this org.' },
    ]);
    const saved = await request(stack.app)
      .get(`/v1/tenants/${tenant}/agent-configuration`)
      .set('Authorization', `Bearer ${stack.keys.read}`)
      .expect(200);
    expect(saved.body.objects).toEqual(AGENT_CONFIGURATION.objects);
    expect((await read()).status).toBe('enabled');
  });

  it('a reconnect whose checks fail removes nothing: the old connection keeps working', async () => {
    const { org, base, read, connection } = await enabledConnection('recheck');
    const before = await componentIds(org);
    const accepted = await post(`${base}/reconnect`, 'reconnect-typo', {
      agentConfiguration: { objects: [{ object: 'Account', fields: ['Name', 'Industy'] }] },
    }).expect(202);
    const operation = await finished(base, accepted.body.operationId as string);
    expect(operation.status).toBe('failed');
    await recordHistory('reconnect-checks-failed', stack.env.client.workflow.getHandle(operation.workflowId));
    expect(operation.failure?.message).toContain('Account.Industy');
    expect(operation.stepsCompensated).toEqual([]);
    const after = await read();
    expect(after.status).toBe('enabled');
    expect(after.details).toEqual(connection.details);
    expect(await componentIds(org)).toEqual(before);
    expect((await agentQuery(base, 'SELECT Id FROM Account LIMIT 1')).status).toBe(200);
  });

  it('updates access in place: same app, user and key; the new field readable, the removed one not; no downtime', async () => {
    const { tenant, org, base, read, connection } = await enabledConnection('update');
    expect((await agentQuery(base, 'SELECT Industry FROM Account LIMIT 1')).status).toBe(200);
    await stack.emulator.control.resetCounters(org.key);
    const probe = agentProbe(base);
    const configuration = {
      objects: [
        { object: 'Account', fields: ['Name', 'AnnualRevenue'] },
        { object: 'Contact', fields: ['Email'] },
      ],
    };
    const accepted = await post(`${base}/update-access`, 'update-1', { agentConfiguration: configuration }).expect(202);
    expect(accepted.body).toMatchObject({ kind: 'update_access' });
    const operation = await finished(base, accepted.body.operationId as string);
    const { failures, probes } = await probe.stop();
    expect(operation.status).toBe('succeeded');
    await recordHistory('update-access-succeeded', stack.env.client.workflow.getHandle(operation.workflowId));
    expect(failures).toEqual([]);
    expect(probes).toBeGreaterThan(0);

    const after = await read();
    expect(after.status).toBe('enabled');
    expect(after.details).toMatchObject({
      appApiName: connection.details?.appApiName,
      integrationUserId: connection.details?.integrationUserId,
      permissionSetId: connection.details?.permissionSetId,
      certificateExpiresAt: connection.details?.certificateExpiresAt,
    });
    const state = (await publishedState(
      stack.env.client,
      await stack.env.client.workflow.getHandle(connectionWorkflowId(tenant, 'salesforce')).describe(),
    ))!;
    expect(after.grantedObjects).toEqual(configuration.objects);
    expect(state.agentConfiguration).toEqual(configuration);
    expect((await agentQuery(base, 'SELECT AnnualRevenue FROM Account LIMIT 1')).status).toBe(200);
    const removed = await agentQuery(base, 'SELECT Industry FROM Account LIMIT 1');
    expect(removed.status).toBe(400);
    expect(await removed.text()).toContain('INVALID_FIELD');

    // Without the agent's own traffic: what one update costs, whatever the number of fields.
    const wider = {
      objects: [
        { object: 'Account', fields: ['Name', 'Industry', 'AnnualRevenue', 'Phone', 'Website'] },
        { object: 'Contact', fields: ['Email', 'Title', 'Phone'] },
        { object: 'Opportunity', fields: ['StageName', 'Amount', 'CloseDate'] },
      ],
    };
    await stack.emulator.control.resetCounters();
    const second = await post(`${base}/update-access`, 'update-2', { agentConfiguration: wider }).expect(202);
    expect((await finished(base, second.body.operationId as string)).status).toBe('succeeded');
    const calls = (await stack.emulator.control.counters()).byOperation;
    expect(calls).toEqual({ 'rest.compositeBatch': 1, 'rest.composite': 1, 'oauth.token': 1, 'rest.query': 1 });
  });

  it('disable forgets the admin credentials it stored, and the ones a newer set replaced', async () => {
    const { tenant, org, base, read } = await enabledConnection('forget');
    const stateOf = async () =>
      (await publishedState(
        stack.env.client,
        await stack.env.client.workflow.getHandle(connectionWorkflowId(tenant, 'salesforce')).describe(),
      ))!;
    const first = (await stateOf()).target!.adminCredentials;
    expect(await stack.secrets.get(first)).toBeDefined();
    const fresh = await stack.emulator.control.createOrg({ key: `${tenant}-other-admin` });
    const accepted = await post(`${base}/disable`, 'disable-1', {
      adminCredentials: { accessToken: org.accessToken, refreshToken: fresh.refreshToken },
    }).expect(202);
    const operationId = accepted.body.operationId as string;
    expect((await finished(base, operationId)).status).toBe('succeeded');
    // Where the API stored the disable's credentials (tenants/<t>/admin/<operation>-<request hash>).
    const record = (await stateOf()).operations.find((o) => o.id === operationId)!;
    const second = { secretRef: `tenants/${tenant}/admin/${operationId}-${record.requestHash!.slice(0, 12)}` };
    expect(second.secretRef).not.toBe(first.secretRef);
    await waitForConnection(read, (c) => c.status === 'disabled' && !c.currentOperation);
    expect(await stack.secrets.get(first)).toBeUndefined();
    expect(await stack.secrets.get(second)).toBeUndefined();
    expect((await stateOf()).target).toBeUndefined();
    await recordHistory(
      'connection-forget-credentials',
      stack.env.client.workflow.getHandle(connectionWorkflowId(tenant, 'salesforce')),
    );
  });
});
