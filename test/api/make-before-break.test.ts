import request from 'supertest';
import { recordHistory } from '../support/harness';
import { componentCounts } from '../support/salesforce';
import type { ApiStack } from './api-stack';
import { startApiStack } from './api-stack';
import { workingConnections } from './working-connection';

/**
 * A reconnect of a working connection makes before it breaks: the new app, user and permission set exist and work
 * before the agent is switched to them and the old ones are removed. When the org has no license for the overlap,
 * the admin must confirm break before make.
 */
describe('reconnect: make before break', () => {
  let stack: ApiStack;

  beforeAll(async () => {
    stack = await startApiStack();
  });

  afterAll(async () => {
    await stack?.close();
  });

  const { post, enabledConnection, finished, agentQuery, agentProbe, stateOf, componentIds } = workingConnections(
    () => stack,
  );

  it('recreates a working connection without downtime: new app, key and user first, the old ones removed after', async () => {
    const { tenant, org, base, read } = await enabledConnection('mbb');
    const before = (await stateOf(tenant)).details!;
    const probe = agentProbe(base);
    const accepted = await post(`${base}/reconnect`, 'mbb-1', {}).expect(202);
    const operation = await finished(base, accepted.body.operationId as string);
    const { failures, probes } = await probe.stop();
    expect(operation.status).toBe('succeeded');
    await recordHistory('reconnect-make-before-break', stack.env.client.workflow.getHandle(operation.workflowId));
    expect(failures).toEqual([]);
    expect(probes).toBeGreaterThan(3);
    expect(operation.stepsDone).toEqual(expect.arrayContaining(['readiness', 'switch_access', 'remove_previous']));
    expect(operation.stepsDone).not.toContain('remove_client_app');

    const after = await stateOf(tenant);
    expect((await read()).status).toBe('enabled');
    expect(after.details?.consumerKey).not.toBe(before.consumerKey);
    expect(after.details?.integrationUsername).not.toBe(before.integrationUsername);
    expect(after.details?.appApiName).not.toBe(before.appApiName);
    expect(after.details?.permissionSetName).not.toBe(before.permissionSetName);
    expect(after.leftovers ?? []).toEqual([]);
    // Exactly one connection remains; the old user is deactivated, its app and permission set are gone.
    expect(await componentCounts(stack.emulator, org.key)).toMatchObject({
      PermissionSet: 1,
      User: 1,
      'User (inactive)': 1,
      PermissionSetAssignment: 1,
      ExternalClientApplication: 1,
    });
    const names = (await stack.emulator.control.components(org.key)).map((c) => c.name);
    expect(names).not.toContain(before.appApiName);
    expect(names).not.toContain(before.permissionSetName);
    expect((await agentQuery(base, 'SELECT Id FROM Account LIMIT 1')).status).toBe(200);
  });

  it('a failed creation is undone and the old connection keeps working, untouched', async () => {
    const { org, base, read, connection } = await enabledConnection('mbb-fail');
    const before = await componentIds(org);
    await stack.emulator.control.addFault({
      org: org.key,
      match: { operation: 'rest.create', object: 'User' },
      action: { kind: 'error', status: 400, errorCode: 'INVALID_CROSS_REFERENCE_KEY', message: 'Profile not usable' },
      times: 1,
    });
    const probe = agentProbe(base);
    const accepted = await post(`${base}/reconnect`, 'mbb-fail-1', {}).expect(202);
    const operation = await finished(base, accepted.body.operationId as string);
    const { failures } = await probe.stop();
    expect(operation.status).toBe('failed');
    await recordHistory(
      'reconnect-make-before-break-compensated',
      stack.env.client.workflow.getHandle(operation.workflowId),
    );
    expect(failures).toEqual([]);
    expect(operation.stepsCompensated).toEqual(expect.arrayContaining(['permission_set', 'signing_key']));
    const after = await read();
    expect(after.status).toBe('enabled');
    expect(after.details).toEqual(connection.details);
    expect(after.lastError?.salesforceCode).toBe('INVALID_CROSS_REFERENCE_KEY');
    expect(await componentIds(org)).toEqual(before);
    expect((await agentQuery(base, 'SELECT Id FROM Account LIMIT 1')).status).toBe(200);
  });

  it('without a spare license it says so before starting, refuses without confirmation and breaks before making with it', async () => {
    const { tenant, org, base, read } = await enabledConnection('mbb-short', { integrationLicenses: 1 });
    const before = await componentIds(org);
    const oldKey = (await stateOf(tenant)).details!.consumerKey;

    const plan = await request(stack.app)
      .post(`${base}/plan`)
      .set('Authorization', `Bearer ${stack.keys.admin}`)
      .send({ operation: 'reconnect' })
      .expect(200);
    expect(plan.body.makeBeforeBreak).toEqual({ possible: false, reason: expect.stringContaining('All 1 Salesforce') });
    expect(plan.body.feasible).toBe(true);
    expect(plan.body.warnings.map((w: { code: string }) => w.code)).toContain('LICENSE_LIMIT_EXCEEDED');

    const refused = await post(`${base}/reconnect`, 'short-1', {}).expect(409);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(refused.body.type).toMatch(/break-before-make-required$/);
    expect(refused.body.detail).toMatch(/All 1 Salesforce Integration user licenses are in use/);
    expect(refused.body.errors).toEqual([{ field: 'body.breakBeforeMake', message: expect.any(String) }]);
    expect((await read()).status).toBe('enabled');
    expect(await componentIds(org)).toEqual(before);

    const accepted = await post(`${base}/reconnect`, 'short-2', { breakBeforeMake: true }).expect(202);
    const operation = await finished(base, accepted.body.operationId as string);
    expect(operation.status).toBe('succeeded');
    expect(operation.stepsDone).toEqual(expect.arrayContaining(['preflight', 'remove_client_app', 'readiness']));
    expect((await read()).status).toBe('enabled');
    expect((await stateOf(tenant)).details?.consumerKey).not.toBe(oldKey);
    expect((await agentQuery(base, 'SELECT Id FROM Account LIMIT 1')).status).toBe(200);
  });

  it('plans a reconnect of a working connection with a spare license as make before break', async () => {
    const { base } = await enabledConnection('mbb-plan');
    const plan = await request(stack.app)
      .post(`${base}/plan`)
      .set('Authorization', `Bearer ${stack.keys.admin}`)
      .send({ operation: 'reconnect' })
      .expect(200);
    expect(plan.body.makeBeforeBreak).toEqual({ possible: true });
  });
});
