import type { RunningEmulator } from '../src';
import { createIntegrationUser, failure, newOrg, start } from './helpers';

let emu: RunningEmulator;
let conn: Awaited<ReturnType<typeof newOrg>>['conn'];
let org: Awaited<ReturnType<typeof newOrg>>['org'];
beforeAll(async () => {
  emu = await start();
  ({ conn, org } = await newOrg(emu));
});
afterAll(async () => {
  await emu.close();
});

describe('SOQL subset', () => {
  test('field lists return records with attributes and only the selected fields', async () => {
    const q = await conn.query<Record<string, unknown>>("SELECT Id, Name FROM Account WHERE Name = 'Acme Corporation'");
    expect(q.totalSize).toBe(1);
    expect(q.done).toBe(true);
    expect(Object.keys(q.records[0]!).sort()).toEqual(['Id', 'Name', 'attributes']);
  });

  test('relationship fields: UserLicense.Name on Profile and Profile.UserLicense.Name on User', async () => {
    const p = await conn.query<{ Name: string; UserLicense: { Name: string } }>(
      "SELECT Id, Name, UserLicense.Name FROM Profile WHERE UserLicense.Name = 'Salesforce Integration'",
    );
    expect(p.records[0]!.Name).toBe('Minimum Access - API Only Integrations');
    expect(p.records[0]!.UserLicense.Name).toBe('Salesforce Integration');
    const u = await conn.query<{ Profile: { UserLicense: { Name: string } } }>(
      `SELECT Username, Profile.UserLicense.Name FROM User WHERE Id = '${org.adminUserId}'`,
    );
    expect(u.records[0]!.Profile.UserLicense.Name).toBe('Salesforce');
  });

  test('WHERE with =, !=, IN, NOT IN, AND, OR, parentheses, null and boolean literals; LIMIT', async () => {
    const q1 = await conn.query(
      "SELECT Id FROM Account WHERE (Industry = 'Banking' OR Industry = 'Technology') AND Name != 'x'",
    );
    expect(q1.totalSize).toBe(2);
    const q2 = await conn.query("SELECT Id FROM Account WHERE Industry IN ('Banking', 'Manufacturing')");
    expect(q2.totalSize).toBe(2);
    const q3 = await conn.query("SELECT Id FROM Account WHERE Industry NOT IN ('Banking')");
    expect(q3.totalSize).toBe(2);
    const q4 = await conn.query('SELECT Id FROM Account WHERE Description = null LIMIT 2');
    expect(q4.totalSize).toBe(2);
    const q5 = await conn.query('SELECT Id FROM User WHERE IsActive = true');
    expect(q5.totalSize).toBeGreaterThan(0);
    const q6 = await conn.query("SELECT Id FROM Account WHERE name = 'ACME CORPORATION'");
    expect(q6.totalSize).toBe(1);
  });

  test('ids in filters accept 15 and 18 characters; invalid id literals: INVALID_QUERY_FILTER_OPERATOR', async () => {
    const a = await conn.query(`SELECT Id FROM User WHERE Id = '${org.adminUserId.slice(0, 15)}'`);
    expect(a.totalSize).toBe(1);
    expect((await failure(conn.query("SELECT Id FROM User WHERE Id = 'abc'"))).errorCode).toBe(
      'INVALID_QUERY_FILTER_OPERATOR',
    );
  });

  test('unknown column: INVALID_FIELD "No such column"; unknown relationship: INVALID_FIELD', async () => {
    const e = await failure(conn.query('SELECT Id, Bogus FROM Account'));
    expect(e.errorCode).toBe('INVALID_FIELD');
    expect(e.message).toContain("No such column 'Bogus' on entity 'Account'");
    expect((await failure(conn.query('SELECT Nope.Name FROM Account'))).errorCode).toBe('INVALID_FIELD');
  });

  test('unknown object: INVALID_TYPE "sObject type \'X\' is not supported"', async () => {
    const e = await failure(conn.query('SELECT Id FROM Widget__c'));
    expect(e.errorCode).toBe('INVALID_TYPE');
    expect(e.message).toContain("sObject type 'Widget__c' is not supported");
  });

  test('SOQL outside the subset or malformed: MALFORMED_QUERY', async () => {
    for (const q of [
      'SELECT COUNT() FROM Account',
      'SELECT Id FROM Account GROUP BY Name',
      'SELEC Id FROM Account',
      'SELECT Id, (SELECT Id FROM Contacts) FROM Account',
      "SELECT Id FROM Account WHERE Name = 'x",
    ]) {
      const e = await failure(conn.query(q));
      expect(e.errorCode).toBe('MALFORMED_QUERY');
    }
  });

  test('filter literal types must match the field: INVALID_FIELD', async () => {
    expect((await failure(conn.query("SELECT Id FROM User WHERE IsActive = 'true'"))).errorCode).toBe('INVALID_FIELD');
  });

  test('more than 2000 rows are paged with nextRecordsUrl, which jsforce follows', async () => {
    const { conn: c } = await newOrg(emu);
    for (let i = 0; i < 11; i++) {
      const recs = Array.from({ length: 200 }, (_, j) => ({ Name: `Bulk ${i}-${j}` }));
      const res = await c
        .sobject('Lead')
        .create(recs.map((r) => ({ ...r, LastName: r.Name, Company: 'Bulk' })).map(({ Name: _n, ...x }) => x));
      expect(res.every((r) => r.success)).toBe(true);
    }
    const first = await c.query("SELECT Id FROM Lead WHERE Company = 'Bulk'");
    expect(first.totalSize).toBe(2200);
    expect(first.records).toHaveLength(2000);
    expect(first.done).toBe(false);
    expect(first.nextRecordsUrl).toMatch(/\/services\/data\/v66\.0\/query\/01g/);
    const all = await c.query("SELECT Id FROM Lead WHERE Company = 'Bulk'", { autoFetch: true, maxFetch: 5000 });
    expect(all.records).toHaveLength(2200);
  });

  test('UserLicense and PermissionSetLicense report Total/Used computed from users and assignments', async () => {
    const { conn: c } = await newOrg(emu, { integrationLicenses: 3 });
    await createIntegrationUser(c);
    const lic = await c.query<{ TotalLicenses: number; UsedLicenses: number }>(
      "SELECT Name, TotalLicenses, UsedLicenses FROM UserLicense WHERE Name = 'Salesforce Integration'",
    );
    expect(lic.records[0]).toMatchObject({ TotalLicenses: 3, UsedLicenses: 1 });
    const psl = await c.query<{ MasterLabel: string; TotalLicenses: number }>(
      "SELECT Id, MasterLabel, TotalLicenses, UsedLicenses FROM PermissionSetLicense WHERE DeveloperName = 'SalesforceAPIIntegrationPsl'",
    );
    expect(psl.records[0]!.MasterLabel).toBe('Salesforce API Integration');
  });

  test('ORDER BY and OFFSET are supported', async () => {
    const q = await conn.query<{ Name: string }>('SELECT Name FROM Account ORDER BY Name DESC LIMIT 2 OFFSET 1');
    expect(q.records.map((r) => r.Name)).toEqual(['Globex Inc.', 'Acme Corporation']);
  });
});
