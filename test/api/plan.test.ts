import { Connection } from 'jsforce';
import request from 'supertest';
import type { PlanView } from '../../api/schemas';
import type { ApiStack } from './api-stack';
import { AGENT_CONFIGURATION, startApiStack, uniqueTenant, waitForConnection } from './api-stack';
import type { ConnectionView } from '../../api/schemas';

/** Salesforce operations that write (the emulator's counter names). */
const WRITES = /create|update|delete|upsert|deploy|composite$|collections/;

/**
 * A plan says what an operation would do, from the org itself, and writes nothing: security reviewers read it
 * before they let an operation run.
 */
describe('plans', () => {
  let stack: ApiStack;

  beforeAll(async () => {
    stack = await startApiStack();
  });

  afterAll(async () => {
    await stack?.close();
  });

  const post = (path: string, body: object, key = stack.keys.admin) =>
    request(stack.app).post(path).set('Authorization', `Bearer ${key}`).send(body);

  const writes = async () =>
    Object.entries((await stack.emulator.control.counters()).byOperation).filter(([op]) => WRITES.test(op));

  it('plans an enable with no write, and the enable then makes exactly the calls it listed', async () => {
    const tenant = uniqueTenant('plan');
    const org = await stack.emulator.control.createOrg({ key: tenant });
    const base = `/v1/tenants/${tenant}/connections/salesforce`;
    const body = {
      loginUrl: org.loginUrl,
      instanceUrl: org.instanceUrl,
      adminCredentials: { accessToken: org.accessToken, refreshToken: org.refreshToken },
      agentConfiguration: AGENT_CONFIGURATION,
    };
    await stack.emulator.control.resetCounters();
    const response = await post(`${base}/plan`, body).expect(200);
    const plan = response.body as PlanView;
    expect(await writes()).toEqual([]);
    expect(plan).toMatchObject({ operation: 'enable', feasible: true, problems: [], change: [], remove: [] });
    expect(plan.create.map((c) => c.kind).sort()).toEqual(
      ['client_app', 'integration_user', 'permission_set', 'signing_key', 'user_access'].sort(),
    );
    expect(plan.grants).toEqual([
      { object: 'Account', fields: ['Name', 'Industry'], fieldPermissions: ['Account.Industry'] },
      { object: 'Contact', fields: ['Email'], fieldPermissions: ['Contact.Email'] },
    ]);
    expect(plan.licenses.map((l) => l.needed)).toEqual([1, 1]);
    expect(JSON.stringify(plan)).not.toContain(org.accessToken);
    // Nothing was started or saved either.
    const connection = (await request(stack.app).get(base).set('Authorization', `Bearer ${stack.keys.read}`))
      .body as ConnectionView;
    expect(connection.status).toBe('disabled');

    await stack.emulator.control.resetCounters();
    await request(stack.app)
      .post(`${base}/enable`)
      .set('Authorization', `Bearer ${stack.keys.admin}`)
      .set('Idempotency-Key', `enable-${tenant}`)
      .send(body)
      .expect(202);
    const read = async () =>
      (await request(stack.app).get(base).set('Authorization', `Bearer ${stack.keys.read}`)).body as ConnectionView;
    expect((await waitForConnection(read, (c) => c.status !== 'enabling')).status).toBe('enabled');
    const counted = Object.values((await stack.emulator.control.counters()).byOperation).reduce((a, b) => a + b, 0);
    expect(counted).toBe(plan.salesforceCalls.total);
    const created = plan.create.find((c) => c.kind === 'permission_set')!;
    expect(connection.details).toBeUndefined();
    expect((await read()).details?.permissionSetName).toBe(created.name);
  });

  it('plans an update of access: the grants it adds and revokes, 4 calls, no write', async () => {
    const tenant = uniqueTenant('plan-update');
    const org = await stack.emulator.control.createOrg({ key: tenant });
    const base = `/v1/tenants/${tenant}/connections/salesforce`;
    await request(stack.app)
      .post(`${base}/enable`)
      .set('Authorization', `Bearer ${stack.keys.admin}`)
      .set('Idempotency-Key', `enable-${tenant}`)
      .send({
        loginUrl: org.loginUrl,
        instanceUrl: org.instanceUrl,
        adminCredentials: { accessToken: org.accessToken, refreshToken: org.refreshToken },
        agentConfiguration: AGENT_CONFIGURATION,
      })
      .expect(202);
    const read = async () =>
      (await request(stack.app).get(base).set('Authorization', `Bearer ${stack.keys.read}`)).body as ConnectionView;
    await waitForConnection(read, (c) => c.status === 'enabled' && !c.currentOperation);

    await stack.emulator.control.resetCounters();
    const plan = (
      await post(`${base}/plan`, {
        operation: 'update_access',
        agentConfiguration: { objects: [{ object: 'Account', fields: ['Name', 'AnnualRevenue'] }] },
      }).expect(200)
    ).body as PlanView;
    expect(await writes()).toEqual([]);
    expect(plan.change).toEqual([
      expect.objectContaining({
        kind: 'permission_set',
        grant: [{ object: 'Account', fields: ['AnnualRevenue'], fieldPermissions: ['Account.AnnualRevenue'] }],
        revoke: [
          { object: 'Account', fields: ['Industry'], fieldPermissions: ['Account.Industry'] },
          { object: 'Contact', fields: ['Email'], fieldPermissions: ['Contact.Email'] },
        ],
      }),
    ]);
    expect(plan.salesforceCalls.total).toBe(4);

    const reconnect = (await post(`${base}/plan`, { operation: 'reconnect' }).expect(200)).body as PlanView;
    expect(reconnect.remove.map((c) => c.kind)).toEqual([
      'client_app',
      'user_access',
      'integration_user',
      'permission_set',
      'signing_key',
    ]);
    expect(reconnect.feasible).toBe(true);
    expect(await writes()).toEqual([]);
  });

  it('warns of org controls that may get in the way: a blocking Transaction Security policy on API calls', async () => {
    const tenant = uniqueTenant('plan-controls');
    const org = await stack.emulator.control.createOrg({
      key: tenant,
      adminPermissions: { PermissionsTransactionSecurityExempt: true },
    });
    const admin = new Connection({ instanceUrl: org.instanceUrl, accessToken: org.accessToken, version: '66.0' });
    await admin.sobject('TransactionSecurityPolicy').create({
      DeveloperName: 'Block_Exports',
      MasterLabel: 'Block exports',
      EventName: 'ApiEvent',
      State: 'Enabled',
      ActionConfig: '{"block":true}',
    });
    const plan = (
      await post(`/v1/tenants/${tenant}/connections/salesforce/plan`, {
        loginUrl: org.loginUrl,
        instanceUrl: org.instanceUrl,
        adminCredentials: { accessToken: org.accessToken },
        agentConfiguration: AGENT_CONFIGURATION,
      }).expect(200)
    ).body as PlanView;
    expect(plan.feasible).toBe(true);
    expect(plan.warnings).toEqual([expect.objectContaining({ code: 'TRANSACTION_SECURITY_API_POLICY' })]);
    expect(plan.warnings[0]!.message).toContain('Block exports');
  });

  it('names the problems of a plan that would fail, and refuses bad input clearly', async () => {
    const tenant = uniqueTenant('plan-bad');
    const org = await stack.emulator.control.createOrg({ key: tenant });
    const base = `/v1/tenants/${tenant}/connections/salesforce`;
    const plan = (
      await post(`${base}/plan`, {
        loginUrl: org.loginUrl,
        instanceUrl: org.instanceUrl,
        adminCredentials: { accessToken: org.accessToken },
        agentConfiguration: { objects: [{ object: 'Account', fields: ['Industy'] }] },
      }).expect(200)
    ).body as PlanView;
    expect(plan.feasible).toBe(false);
    expect(plan.problems).toEqual([expect.objectContaining({ code: 'INVALID_FIELD' })]);
    expect(plan.problems[0]!.message).toContain('Account.Industy');

    // Well-formed, but the connection has no credentials to read the org with: the connection's state, a 409.
    const noCredentials = await post(`${base}/plan`, { agentConfiguration: AGENT_CONFIGURATION }).expect(409);
    expect(noCredentials.body.type).toContain('no-admin-credentials');
    // Another tenant's stored credentials are not this tenant's to read an org with.
    const foreign = await post(`${base}/plan`, {
      loginUrl: 'https://acme.my.salesforce.com',
      adminCredentials: { secretRef: 'tenants/someone-else/admin/oauth' },
      agentConfiguration: AGENT_CONFIGURATION,
    }).expect(422);
    expect(foreign.body.type).toContain('secret-ref-unusable');
    await post(`${base}/plan`, { operation: 'update_access', agentConfiguration: AGENT_CONFIGURATION }).expect(409);
    await post(`${base}/plan`, { operation: 'recreate' }).expect(400);
    await post(`${base}/plan`, {}, stack.keys.read).expect(403);
    await post('/v1/tenants/x/connections/dynamics365/plan', {}).expect(409);
  });
});
