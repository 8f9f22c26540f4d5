/**
 * Org controls that can stop an integration user: Transaction Security policies (TransactionSecurityPolicy records, the
 * "Exempt from Transaction Security" permission) and API Access Control (the org setting, the "Use Any API Client"
 * permission that exists only with it, and the allowlist rule on the JWT bearer grant).
 */
import type { Connection } from 'jsforce';
import type { RunningEmulator } from '../src';
import {
  assertion,
  connect,
  createEca,
  failure,
  jwtToken,
  makeCertificate,
  mdApi,
  newOrg,
  provisionUser,
  start,
  unique,
  type KeyPair,
} from './helpers';

let emu: RunningEmulator;
let key: KeyPair;
beforeAll(async () => {
  emu = await start();
  key = makeCertificate();
});
afterAll(async () => {
  await emu.close();
});

/** An org with an integration user signed in through an External Client App (JWT bearer). */
async function orgWithIntegrationUser(input: Parameters<RunningEmulator['control']['createOrg']>[0] = {}) {
  const { org, conn } = await newOrg(emu, input);
  const user = await provisionUser(conn);
  const app = unique('Ctl_');
  const consumerKey = await createEca(conn, app, key.certificatePem, user.psName);
  const token = () => jwtToken(emu.loginUrl, assertion(key, consumerKey, user.username, emu.loginUrl));
  const signIn = async (): Promise<Connection> =>
    connect({ instanceUrl: org.instanceUrl, accessToken: (await token()).access_token });
  return { org, conn, user, app, consumerKey, token, signIn };
}

const policy = (over: Record<string, unknown> = {}) => ({
  DeveloperName: unique('Block_Api_'),
  MasterLabel: 'Block API queries',
  EventName: 'ApiEvent',
  State: 'Enabled',
  Type: 'CustomConditionBuilderPolicy',
  ActionConfig: JSON.stringify({ block: true, notifications: [] }),
  ...over,
});

describe('Transaction Security policies', () => {
  test('are records the admin creates and queries; ActionConfig must be a JSON action, State a known value', async () => {
    const { conn } = await newOrg(emu, { adminPermissions: { PermissionsTransactionSecurityExempt: true } });
    const created = await conn.sobject('TransactionSecurityPolicy').create(policy({ BlockMessage: 'No bulk reads.' }));
    const rows = await conn.query<{ DeveloperName: string; State: string; EventName: string; ActionConfig: string }>(
      "SELECT Id, DeveloperName, State, EventName, ActionConfig, BlockMessage FROM TransactionSecurityPolicy WHERE State = 'Enabled'",
    );
    expect(rows.records.map((r) => r.EventName)).toEqual(['ApiEvent']);
    expect(JSON.parse(rows.records[0]!.ActionConfig)).toEqual({ block: true, notifications: [] });
    expect(
      (await failure(conn.sobject('TransactionSecurityPolicy').create(policy({ ActionConfig: 'block' })))).errorCode,
    ).toBe('FIELD_INTEGRITY_EXCEPTION');
    expect(
      (await failure(conn.sobject('TransactionSecurityPolicy').create(policy({ State: 'Active' })))).errorCode,
    ).toBe('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
    await conn.sobject('TransactionSecurityPolicy').update({ Id: created.id!, State: 'Disabled' });
    expect((await conn.query("SELECT Id FROM TransactionSecurityPolicy WHERE State = 'Enabled'")).totalSize).toBe(0);
  });

  test('an enabled blocking ApiEvent policy refuses queries with 403 TXN_SECURITY_NO_ACCESS and its block message; other calls pass', async () => {
    const { org, conn, signIn } = await orgWithIntegrationUser({
      adminPermissions: { PermissionsTransactionSecurityExempt: true },
    });
    await conn.sobject('TransactionSecurityPolicy').create(policy({ BlockMessage: 'Ask the security team.' }));
    const asUser = await signIn();
    const e = await failure(asUser.query('SELECT Id FROM Account LIMIT 1'));
    expect(e.errorCode).toBe('TXN_SECURITY_NO_ACCESS');
    expect(e.message).toBe('Ask the security team.');
    await asUser.describe('Account');
    const rows = await conn.query<{ Id: string }>('SELECT Id FROM Account LIMIT 1');
    await asUser.sobject('Account').retrieve(rows.records[0]!.Id, { fields: ['Id', 'Industry'] });
    // Inside a Composite Batch each query subrequest is refused on its own.
    const batch = await asUser.requestPost<{ results: { statusCode: number; result: { errorCode: string }[] }[] }>(
      '/composite/batch',
      {
        batchRequests: [
          { method: 'GET', url: `v66.0/query?q=${encodeURIComponent('SELECT Id FROM Account')}` },
          { method: 'GET', url: 'v66.0/sobjects/Account/describe' },
        ],
      },
    );
    expect(batch.results.map((r) => r.statusCode)).toEqual([403, 200]);
    expect(batch.results[0]!.result[0]!.errorCode).toBe('TXN_SECURITY_NO_ACCESS');
    // The admin is exempt here; an admin without the permission is blocked as well.
    await emu.control.updateSettings(org.key, { adminPermissions: { PermissionsTransactionSecurityExempt: false } });
    expect((await failure(conn.query('SELECT Id FROM Organization'))).errorCode).toBe('TXN_SECURITY_NO_ACCESS');
  });

  test('"Exempt from Transaction Security" on the user\'s permission set lets its queries through', async () => {
    const { conn, user, signIn } = await orgWithIntegrationUser({
      adminPermissions: { PermissionsTransactionSecurityExempt: true },
    });
    await conn.sobject('TransactionSecurityPolicy').create(policy());
    const asUser = await signIn();
    expect((await failure(asUser.query('SELECT Id FROM Account LIMIT 1'))).errorCode).toBe('TXN_SECURITY_NO_ACCESS');
    await conn.sobject('PermissionSet').update({ Id: user.psId, PermissionsTransactionSecurityExempt: true });
    expect((await asUser.query('SELECT Id FROM Account LIMIT 1')).records).toHaveLength(1);
    const access = await asUser.query<{ PermissionsTransactionSecurityExempt: boolean }>(
      'SELECT PermissionsTransactionSecurityExempt FROM UserPermissionAccess',
    );
    expect(access.records[0]!.PermissionsTransactionSecurityExempt).toBe(true);
  });

  test('notification-only, disabled and non-API policies do not block; a two-factor action blocks API calls', async () => {
    const { conn, signIn } = await orgWithIntegrationUser({
      adminPermissions: { PermissionsTransactionSecurityExempt: true },
    });
    await conn
      .sobject('TransactionSecurityPolicy')
      .create(policy({ ActionConfig: '{"block":false,"notifications":[]}' }));
    await conn.sobject('TransactionSecurityPolicy').create(policy({ State: 'Disabled' }));
    await conn.sobject('TransactionSecurityPolicy').create(policy({ EventName: 'ReportEvent' }));
    const asUser = await signIn();
    await asUser.query('SELECT Id FROM Account LIMIT 1');
    await conn
      .sobject('TransactionSecurityPolicy')
      .create(policy({ ActionConfig: '{"twoFactorAuthentication":true}' }));
    expect((await failure(asUser.query('SELECT Id FROM Account LIMIT 1'))).errorCode).toBe('TXN_SECURITY_NO_ACCESS');
  });

  test('only users with View All Data see the policies; only Customize Application changes them', async () => {
    const { signIn } = await orgWithIntegrationUser();
    const asUser = await signIn();
    expect((await failure(asUser.query('SELECT Id FROM TransactionSecurityPolicy'))).errorCode).toBe('INVALID_TYPE');
    const { conn: admin } = await newOrg(emu, {
      adminPermissions: { PermissionsCustomizeApplication: false },
    });
    expect((await failure(admin.sobject('TransactionSecurityPolicy').create(policy()))).errorCode).toBe(
      'INSUFFICIENT_ACCESS_OR_READONLY',
    );
  });
});

describe('API Access Control', () => {
  test('the Use Any API Client permission exists only once Support has enabled API Access Control', async () => {
    const { org, conn } = await newOrg(emu);
    const q = 'SELECT PermissionsUseAnyApiClient FROM UserPermissionAccess';
    expect((await failure(conn.query(q))).errorCode).toBe('INVALID_FIELD');
    expect(
      (
        await failure(
          conn.sobject('PermissionSet').create({ Name: unique('P_'), Label: 'p', PermissionsUseAnyApiClient: true }),
        )
      ).errorCode,
    ).toBe('INVALID_FIELD');
    const summary = await emu.control.updateSettings(org.key, { apiAccessControl: 'enabled' });
    expect(summary.settings.apiAccessControl).toBe('enabled');
    expect((await conn.query<{ PermissionsUseAnyApiClient: boolean }>(q)).records[0]!.PermissionsUseAnyApiClient).toBe(
      false,
    );
    await emu.control.updateSettings(org.key, { adminPermissions: { PermissionsUseAnyApiClient: true } });
    expect((await conn.query<{ PermissionsUseAnyApiClient: boolean }>(q)).records[0]!.PermissionsUseAnyApiClient).toBe(
      true,
    );
    const fields = (await conn.describe('PermissionSet')).fields.map((f) => f.name);
    expect(fields).toContain('PermissionsUseAnyApiClient');
    await emu.control.updateSettings(org.key, { apiAccessControl: 'off' });
    expect((await failure(conn.query(q))).errorCode).toBe('INVALID_FIELD');
  });

  test('with "limit API access to only allowlisted connected apps", a pre-authorized user of an admin-approved app signs in', async () => {
    const { token } = await orgWithIntegrationUser({ apiAccessControl: 'adminApprovedAppsOnly' });
    const res = await token();
    expect(res.access_token).toBeTruthy();
  });

  test('an app that is not admin-approved is refused: invalid_app_access under API Access Control, "not approved" without it', async () => {
    const { org, conn, app, token } = await orgWithIntegrationUser();
    await mdApi(conn).update('ExtlClntAppOauthConfigurablePolicies', {
      fullName: `${app}_plcy`,
      externalClientApplication: app,
      label: 'p',
      permittedUsersPolicyType: 'AllSelfAuthorized',
    });
    expect((await failure(token())).message).toBe("user hasn't approved this consumer");
    await emu.control.updateSettings(org.key, { apiAccessControl: 'adminApprovedAppsOnly' });
    const e = await failure(token());
    expect(e.name).toBe('invalid_app_access');
    expect(e.message).toBe('user is not admin approved to access this app');
  });

  test('a user with Use Any API Client reaches any app, admin-approved or not', async () => {
    const { conn, user, app, token } = await orgWithIntegrationUser({ apiAccessControl: 'adminApprovedAppsOnly' });
    await mdApi(conn).update('ExtlClntAppOauthConfigurablePolicies', {
      fullName: `${app}_plcy`,
      externalClientApplication: app,
      label: 'p',
      permittedUsersPolicyType: 'AllSelfAuthorized',
    });
    expect((await failure(token())).name).toBe('invalid_app_access');
    await conn.sobject('PermissionSet').update({ Id: user.psId, PermissionsUseAnyApiClient: true });
    await token();
  });
});
