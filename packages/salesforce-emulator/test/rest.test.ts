import type { RunningEmulator } from '../src';
import { connect, createIntegrationUser, failure, newOrg, rawFetch, start, unique } from './helpers';

let emu: RunningEmulator;
beforeAll(async () => {
  emu = await start();
});
afterAll(async () => {
  await emu.close();
});

const userBody = (profileId: string, username = `${unique('u')}@example.com`): Record<string, unknown> => ({
  Username: username,
  LastName: 'Tester',
  Alias: 'tester',
  Email: 'tester@example.com',
  ProfileId: profileId,
  TimeZoneSidKey: 'Europe/Paris',
  LocaleSidKey: 'fr_FR',
  LanguageLocaleKey: 'fr',
  EmailEncodingKey: 'UTF-8',
});

async function integrationProfile(conn: ReturnType<typeof connect>): Promise<string> {
  const r = await conn.query<{ Id: string }>(
    "SELECT Id FROM Profile WHERE UserLicense.Name = 'Salesforce Integration'",
  );
  return r.records[0]!.Id;
}

describe('sObject CRUD', () => {
  test('create returns a real 18-char id with the key prefix; read accepts the 15-char form', async () => {
    const { conn } = await newOrg(emu);
    const r = await conn.sobject('Account').create({ Name: 'Ids Inc', Industry: 'Banking', NumberOfEmployees: 12 });
    expect(r.id).toMatch(/^001[A-Za-z0-9]{15}$/);
    const rec = (await conn.sobject('Account').retrieve(r.id!.slice(0, 15))) as Record<string, unknown>;
    expect(rec.Id).toBe(r.id);
    expect(rec.Name).toBe('Ids Inc');
    expect((rec.attributes as { type: string }).type).toBe('Account');
  });

  test('update (PATCH) and delete; reading a deleted or unknown id gives NOT_FOUND / ENTITY_IS_DELETED', async () => {
    const { conn } = await newOrg(emu);
    const { id } = await conn.sobject('Contact').create({ LastName: 'Doe', FirstName: 'Jane' });
    await conn.sobject('Contact').update({ Id: id!, Title: 'CTO' });
    const rec = (await conn.sobject('Contact').retrieve(id!)) as Record<string, unknown>;
    expect(rec.Title).toBe('CTO');
    expect(rec.Name).toBe('Jane Doe');
    await conn.sobject('Contact').destroy(id!);
    expect((await failure(conn.sobject('Contact').retrieve(id!))).errorCode).toBe('ENTITY_IS_DELETED');
    expect((await failure(conn.sobject('Contact').retrieve('003000000000000AAA'))).errorCode).toBe('NOT_FOUND');
  });

  test('malformed ids: MALFORMED_ID', async () => {
    const { conn } = await newOrg(emu);
    expect((await failure(conn.sobject('Account').retrieve('001xyz'))).errorCode).toBe('MALFORMED_ID');
    expect((await failure(conn.sobject('Contact').create({ LastName: 'X', AccountId: 'nope' }))).errorCode).toBe(
      'MALFORMED_ID',
    );
  });

  test('unknown field on create/update: INVALID_FIELD; read-only field: INVALID_FIELD_FOR_INSERT_UPDATE', async () => {
    const { conn } = await newOrg(emu);
    expect((await failure(conn.sobject('Account').create({ Name: 'A', Foo__c: 1 }))).errorCode).toBe('INVALID_FIELD');
    expect(
      (await failure(conn.sobject('Account').create({ Name: 'A', CreatedDate: '2020-01-01T00:00:00Z' }))).errorCode,
    ).toBe('INVALID_FIELD_FOR_INSERT_UPDATE');
  });

  test('wrong JSON types: JSON_PARSER_ERROR; malformed JSON: JSON_PARSER_ERROR', async () => {
    const { org, conn } = await newOrg(emu);
    expect((await failure(conn.sobject('Account').create({ Name: 'A', NumberOfEmployees: 'many' }))).errorCode).toBe(
      'JSON_PARSER_ERROR',
    );
    expect((await failure(conn.sobject('Account').create({ Name: { nested: true } }))).errorCode).toBe(
      'JSON_PARSER_ERROR',
    );
    const raw = await rawFetch(`${org.instanceUrl}/services/data/v66.0/sobjects/Account`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${org.accessToken}`, 'Content-Type': 'application/json' },
      body: '{"Name": "unterminated',
    });
    expect(raw.status).toBe(400);
    expect((raw.json() as { errorCode: string }[])[0]!.errorCode).toBe('JSON_PARSER_ERROR');
  });

  test('missing required fields: REQUIRED_FIELD_MISSING listing them', async () => {
    const { conn } = await newOrg(emu);
    const e = await failure(conn.sobject('Opportunity').create({ Name: 'No stage' }));
    expect(e.errorCode).toBe('REQUIRED_FIELD_MISSING');
    expect((e.data as { fields: string[] }).fields).toEqual(expect.arrayContaining(['StageName', 'CloseDate']));
  });

  test('unknown sObject type: NOT_FOUND on /sobjects, INVALID_TYPE in SOQL', async () => {
    const { conn } = await newOrg(emu);
    expect((await failure(conn.sobject('Nope__c').create({ Name: 'x' }))).errorCode).toBe('NOT_FOUND');
    expect((await failure(conn.query('SELECT Id FROM Nope__c'))).errorCode).toBe('INVALID_TYPE');
  });

  test('describe exposes permissionable=false for Id, required Name and audit fields, true for optional fields', async () => {
    const { conn } = await newOrg(emu);
    const d = await conn.describe('Account');
    const f = (n: string) => d.fields.find((x) => x.name === n)!;
    expect(f('Id').permissionable).toBe(false);
    expect(f('Name').permissionable).toBe(false);
    expect(f('CreatedDate').permissionable).toBe(false);
    expect(f('Industry').permissionable).toBe(true);
    expect(f('Industry').updateable).toBe(true);
    expect(f('ParentId').referenceTo).toEqual(['Account']);
    expect(d.keyPrefix).toBe('001');
    const g = await conn.describeGlobal();
    expect(g.sobjects.map((s) => s.name)).toEqual(
      expect.arrayContaining(['Account', 'User', 'PermissionSet', 'SetupEntityAccess']),
    );
  });

  test('custom objects and custom fields configured per org are real, permissionable and queryable', async () => {
    const { conn } = await newOrg(emu, {
      customObjects: [
        {
          name: 'Project__c',
          fields: [
            { name: 'Budget__c', type: 'currency' },
            { name: 'Code__c', type: 'string', nillable: false },
          ],
        },
      ],
      customFields: { Account: [{ name: 'Tier__c', type: 'string' }] },
    });
    const d = await conn.describe('Project__c');
    expect(d.fields.find((x) => x.name === 'Budget__c')!.permissionable).toBe(true);
    expect(d.fields.find((x) => x.name === 'Code__c')!.permissionable).toBe(false);
    const { id } = await conn.sobject('Project__c').create({ Name: 'P1', Code__c: 'X', Budget__c: 10 });
    expect(id).toMatch(/^a00/);
    await conn.sobject('Account').create({ Name: 'Tiered', Tier__c: 'Gold' });
    const q = await conn.query("SELECT Name, Tier__c FROM Account WHERE Tier__c = 'Gold'");
    expect(q.records[0]!.Name).toBe('Tiered');
  });

  test('every REST response carries Sforce-Limit-Info; /limits reports DailyApiRequests', async () => {
    const { conn } = await newOrg(emu, { apiDailyLimit: 500 });
    await conn.query('SELECT Id FROM Account');
    expect(conn.limitInfo.apiUsage?.limit).toBe(500);
    expect(conn.limitInfo.apiUsage?.used).toBeGreaterThan(0);
    const l = (await conn.limits()) as unknown as { DailyApiRequests: { Max: number; Remaining: number } };
    expect(l.DailyApiRequests.Max).toBe(500);
    expect(l.DailyApiRequests.Remaining).toBeLessThan(500);
  });

  test('beyond the daily API limit: 403 REQUEST_LIMIT_EXCEEDED "TotalRequests Limit exceeded."', async () => {
    const { org, conn } = await newOrg(emu, { apiDailyLimit: 2 });
    await conn.query('SELECT Id FROM Account');
    await conn.query('SELECT Id FROM Account');
    const e = await failure(conn.query('SELECT Id FROM Account'));
    expect(e.errorCode).toBe('REQUEST_LIMIT_EXCEEDED');
    expect(e.message).toBe('TotalRequests Limit exceeded.');
    const raw = await rawFetch(`${org.instanceUrl}/services/data/v66.0/limits`, {
      headers: { Authorization: `Bearer ${org.accessToken}` },
    });
    expect(raw.status).toBe(403);
    await emu.control.updateSettings(org.key, { apiDailyLimit: 100 });
    await conn.query('SELECT Id FROM Account');
  });

  test('API usage counts the requests of the last 24 hours (a rolling window), not since a daily reset', async () => {
    const HOUR = 3_600_000;
    const own = await start({ sessionTimeoutMs: 3 * 24 * HOUR });
    try {
      const { org, conn } = await newOrg(own, { apiDailyLimit: 3 });
      const query = () => conn.query('SELECT Id FROM Account');
      await query();
      await query();
      await own.control.advanceClock(12 * HOUR);
      await query();
      expect(conn.limitInfo.apiUsage).toEqual({ used: 3, limit: 3 });
      expect((await failure(query())).errorCode).toBe('REQUEST_LIMIT_EXCEEDED');
      // 23 h 58 min after the first two requests they still count.
      await own.control.advanceClock(11 * HOUR + 58 * 60_000);
      expect((await failure(query())).errorCode).toBe('REQUEST_LIMIT_EXCEEDED');
      // 24 h 1 min after: they no longer do; the one made 12 hours later still does.
      await own.control.advanceClock(3 * 60_000);
      await query();
      expect(conn.limitInfo.apiUsage).toEqual({ used: 2, limit: 3 });
      const l = (await conn.limits()) as unknown as { DailyApiRequests: { Max: number; Remaining: number } };
      expect(l.DailyApiRequests).toEqual({ Max: 3, Remaining: 0 });
      expect((await own.control.getOrg(org.key)).apiUsage).toEqual({ used: 3, max: 3 });
      // 36 h 1 min after the start, only the last two requests (at 24 h 1 min) are left.
      await own.control.advanceClock(12 * HOUR);
      await query();
      expect(conn.limitInfo.apiUsage).toEqual({ used: 3, limit: 3 });
    } finally {
      await own.close();
    }
  });

  test('API versions 50.0–68.0 are served; GET /services/data/ lists them; others are 404', async () => {
    const { org } = await newOrg(emu);
    const list = (await rawFetch(`${emu.loginUrl}/services/data/`)).json() as { version: string }[];
    expect(list.map((v) => v.version)).toEqual(expect.arrayContaining(['50.0', '66.0', '68.0']));
    const c50 = connect(org, '50.0');
    await c50.query('SELECT Id FROM Account');
    const c49 = connect(org, '49.0');
    expect((await failure(c49.query('SELECT Id FROM Account'))).errorCode).toBe('NOT_FOUND');
  });
});

describe('User rules', () => {
  test('users are created with the required fields; missing ones: REQUIRED_FIELD_MISSING', async () => {
    const { conn } = await newOrg(emu);
    const body = userBody(await integrationProfile(conn));
    delete body.TimeZoneSidKey;
    const e = await failure(conn.sobject('User').create(body));
    expect(e.errorCode).toBe('REQUIRED_FIELD_MISSING');
  });

  test('Alias is at most 8 characters: STRING_TOO_LONG; bad restricted picklist value: INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', async () => {
    const { conn } = await newOrg(emu);
    const p = await integrationProfile(conn);
    expect((await failure(conn.sobject('User').create({ ...userBody(p), Alias: 'toolongalias' }))).errorCode).toBe(
      'STRING_TOO_LONG',
    );
    expect(
      (await failure(conn.sobject('User').create({ ...userBody(p), TimeZoneSidKey: 'Mars/Olympus' }))).errorCode,
    ).toBe('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
  });

  test('usernames must be email-formatted', async () => {
    const { conn } = await newOrg(emu);
    const e = await failure(conn.sobject('User').create(userBody(await integrationProfile(conn), 'not-an-email')));
    expect(e.errorCode).toBe('INVALID_EMAIL_ADDRESS');
  });

  test('usernames are unique across all orgs, case-insensitively: DUPLICATE_USERNAME', async () => {
    const a = await newOrg(emu);
    const b = await newOrg(emu);
    const name = `${unique('dup')}@example.com`;
    await a.conn.sobject('User').create(userBody(await integrationProfile(a.conn), name));
    const e = await failure(
      b.conn.sobject('User').create(userBody(await integrationProfile(b.conn), name.toUpperCase())),
    );
    expect(e.errorCode).toBe('DUPLICATE_USERNAME');
  });

  test('users cannot be deleted, only deactivated', async () => {
    const { conn } = await newOrg(emu);
    const u = await createIntegrationUser(conn);
    const e = await failure(conn.sobject('User').destroy(u.id));
    expect(e.errorCode).toBe('INVALID_TYPE_FOR_OPERATION');
    await conn.sobject('User').update({ Id: u.id, IsActive: false });
    const q = await conn.query<{ IsActive: boolean }>(`SELECT IsActive FROM User WHERE Id = '${u.id}'`);
    expect(q.records[0]!.IsActive).toBe(false);
  });

  test('integration licenses are limited (LICENSE_LIMIT_EXCEEDED) and deactivation frees the seat', async () => {
    const { conn } = await newOrg(emu, { integrationLicenses: 2 });
    const u1 = await createIntegrationUser(conn);
    await createIntegrationUser(conn);
    const lic = await conn.query<{ TotalLicenses: number; UsedLicenses: number }>(
      "SELECT TotalLicenses, UsedLicenses FROM UserLicense WHERE Name = 'Salesforce Integration'",
    );
    expect(lic.records[0]).toMatchObject({ TotalLicenses: 2, UsedLicenses: 2 });
    expect((await failure(createIntegrationUser(conn))).errorCode).toBe('LICENSE_LIMIT_EXCEEDED');
    await conn.sobject('User').update({ Id: u1.id, IsActive: false });
    await createIntegrationUser(conn);
    expect((await failure(conn.sobject('User').update({ Id: u1.id, IsActive: true }))).errorCode).toBe(
      'LICENSE_LIMIT_EXCEEDED',
    );
  });

  test('the control API changes the integration license count (bought or removed seats), read back by SOQL', async () => {
    const { org, conn } = await newOrg(emu, { integrationLicenses: 1 });
    await createIntegrationUser(conn);
    const counts = async () => ({
      user: (
        await conn.query<{ TotalLicenses: number; UsedLicenses: number }>(
          "SELECT TotalLicenses, UsedLicenses FROM UserLicense WHERE Name = 'Salesforce Integration'",
        )
      ).records[0],
      psl: (
        await conn.query<{ TotalLicenses: number }>(
          "SELECT TotalLicenses FROM PermissionSetLicense WHERE DeveloperName = 'SalesforceAPIIntegrationPsl'",
        )
      ).records[0],
    });
    expect(await counts()).toMatchObject({ user: { TotalLicenses: 1, UsedLicenses: 1 }, psl: { TotalLicenses: 1 } });
    expect((await failure(createIntegrationUser(conn))).errorCode).toBe('LICENSE_LIMIT_EXCEEDED');
    expect((await emu.control.updateSettings(org.key, { integrationLicenses: 2 })).settings).toMatchObject({
      integrationLicenses: 2,
    });
    expect(await counts()).toMatchObject({ user: { TotalLicenses: 2, UsedLicenses: 1 }, psl: { TotalLicenses: 2 } });
    await createIntegrationUser(conn);
    expect((await counts()).user).toMatchObject({ TotalLicenses: 2, UsedLicenses: 2 });
  });

  test('an admin without Manage Users cannot create users: INSUFFICIENT_ACCESS_OR_READONLY', async () => {
    const { conn } = await newOrg(emu, { adminPermissions: { PermissionsManageUsers: false } });
    const e = await failure(createIntegrationUser(conn));
    expect(e.errorCode).toBe('INSUFFICIENT_ACCESS_OR_READONLY');
    const upa = await conn.query<{ PermissionsManageUsers: boolean; PermissionsModifyAllData: boolean }>(
      'SELECT PermissionsManageUsers, PermissionsModifyAllData FROM UserPermissionAccess',
    );
    expect(upa.records[0]).toMatchObject({ PermissionsManageUsers: false, PermissionsModifyAllData: true });
  });

  test('an admin without API Enabled is refused on every REST call', async () => {
    const { conn } = await newOrg(emu, { adminPermissions: { PermissionsApiEnabled: false } });
    expect((await failure(conn.query('SELECT Id FROM Account'))).errorCode).toBe('API_CURRENTLY_DISABLED');
  });
});
