import type { RunningEmulator } from '../src';
import {
  assertion,
  connect,
  createEca,
  createIntegrationUser,
  failure,
  jwtToken,
  makeCertificate,
  newOrg,
  provisionUser,
  pslId,
  start,
  unique,
} from './helpers';

let emu: RunningEmulator;
beforeAll(async () => {
  emu = await start();
});
afterAll(async () => {
  await emu.close();
});

describe('PermissionSet', () => {
  test('API names: letters/digits/underscores, start with a letter, no trailing or double underscore, ≤80', async () => {
    const { conn } = await newOrg(emu);
    for (const bad of ['1abc', 'has space', 'trailing_', 'double__under', 'x'.repeat(81), 'dash-name']) {
      const e = await failure(conn.sobject('PermissionSet').create({ Name: bad, Label: 'L' }));
      expect([bad, e.errorCode]).toEqual([bad, expect.stringMatching(/FIELD_INTEGRITY_EXCEPTION|STRING_TOO_LONG/)]);
    }
    await conn
      .sobject('PermissionSet')
      .create({ Name: 'Copilot_for_Sales_permission_set', Label: 'Copilot for Sales permission set' });
  });

  test('duplicate API name (case-insensitive): DUPLICATE_DEVELOPER_NAME', async () => {
    const { conn } = await newOrg(emu);
    await conn.sobject('PermissionSet').create({ Name: 'Agent_PS', Label: 'Agent PS' });
    expect((await failure(conn.sobject('PermissionSet').create({ Name: 'agent_ps', Label: 'Other' }))).errorCode).toBe(
      'DUPLICATE_DEVELOPER_NAME',
    );
  });

  test('Label is required and at most 80 characters', async () => {
    const { conn } = await newOrg(emu);
    expect((await failure(conn.sobject('PermissionSet').create({ Name: 'NoLabel' }))).errorCode).toBe(
      'REQUIRED_FIELD_MISSING',
    );
    expect(
      (await failure(conn.sobject('PermissionSet').create({ Name: 'LongLabel', Label: 'l'.repeat(81) }))).errorCode,
    ).toBe('STRING_TOO_LONG');
  });

  test('a permission set cannot be deleted while assigned (DELETE_FAILED); deleting it cascades its children', async () => {
    const { conn } = await newOrg(emu);
    const p = await provisionUser(conn);
    expect((await failure(conn.sobject('PermissionSet').destroy(p.psId))).errorCode).toBe('DELETE_FAILED');
    const psa = await conn.query<{ Id: string }>(
      `SELECT Id FROM PermissionSetAssignment WHERE PermissionSetId = '${p.psId}'`,
    );
    await conn.sobject('PermissionSetAssignment').destroy(psa.records[0]!.Id);
    await conn.sobject('PermissionSet').destroy(p.psId);
    const children = await conn.query(`SELECT Id FROM ObjectPermissions WHERE ParentId = '${p.psId}'`);
    expect(children.totalSize).toBe(0);
    const fps = await conn.query(`SELECT Id FROM FieldPermissions WHERE ParentId = '${p.psId}'`);
    expect(fps.totalSize).toBe(0);
  });

  test('profile-owned permission sets exist (IsOwnedByProfile) and their assignment cannot be removed', async () => {
    const { conn } = await newOrg(emu);
    const u = await createIntegrationUser(conn);
    const psas = await conn.query<{ Id: string; PermissionSet: { IsOwnedByProfile: boolean } }>(
      `SELECT Id, PermissionSet.IsOwnedByProfile FROM PermissionSetAssignment WHERE AssigneeId = '${u.id}'`,
    );
    expect(psas.totalSize).toBe(1);
    expect(psas.records[0]!.PermissionSet.IsOwnedByProfile).toBe(true);
    expect((await failure(conn.sobject('PermissionSetAssignment').destroy(psas.records[0]!.Id))).errorCode).toBe(
      'DELETE_FAILED',
    );
  });
});

describe('ObjectPermissions and FieldPermissions', () => {
  test('object permission dependencies (Edit needs Read, Delete needs Read+Edit, ModifyAll needs all): FIELD_INTEGRITY_EXCEPTION', async () => {
    const { conn } = await newOrg(emu);
    const ps = await conn.sobject('PermissionSet').create({ Name: unique('P'), Label: 'p' });
    expect(
      (
        await failure(
          conn.sobject('ObjectPermissions').create({ ParentId: ps.id, SobjectType: 'Account', PermissionsEdit: true }),
        )
      ).errorCode,
    ).toBe('FIELD_INTEGRITY_EXCEPTION');
    expect(
      (
        await failure(
          conn
            .sobject('ObjectPermissions')
            .create({ ParentId: ps.id, SobjectType: 'Account', PermissionsRead: true, PermissionsDelete: true }),
        )
      ).errorCode,
    ).toBe('FIELD_INTEGRITY_EXCEPTION');
    await conn
      .sobject('ObjectPermissions')
      .create({ ParentId: ps.id, SobjectType: 'Account', PermissionsRead: true, PermissionsEdit: true });
  });

  test('SobjectType must be a grantable object: INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST; duplicates: DUPLICATE_VALUE', async () => {
    const { conn } = await newOrg(emu);
    const ps = await conn.sobject('PermissionSet').create({ Name: unique('P'), Label: 'p' });
    expect(
      (
        await failure(
          conn
            .sobject('ObjectPermissions')
            .create({ ParentId: ps.id, SobjectType: 'Widget__c', PermissionsRead: true }),
        )
      ).errorCode,
    ).toBe('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
    await conn.sobject('ObjectPermissions').create({ ParentId: ps.id, SobjectType: 'Contact', PermissionsRead: true });
    expect(
      (
        await failure(
          conn.sobject('ObjectPermissions').create({ ParentId: ps.id, SobjectType: 'Contact', PermissionsRead: true }),
        )
      ).errorCode,
    ).toBe('DUPLICATE_VALUE');
  });

  test('FieldPermissions.Field must be Obj.Field of an existing permissionable field, else INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', async () => {
    const { conn } = await newOrg(emu);
    const ps = await conn.sobject('PermissionSet').create({ Name: unique('P'), Label: 'p' });
    const fp = (Field: string, SobjectType = 'Account') =>
      conn.sobject('FieldPermissions').create({ ParentId: ps.id, SobjectType, Field, PermissionsRead: true });
    expect((await failure(fp('Account.Bogus__c'))).errorCode).toBe('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
    expect((await failure(fp('Account.Name'))).errorCode).toBe('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
    expect((await failure(fp('Account.Id'))).errorCode).toBe('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
    expect((await failure(fp('Contact.Email'))).errorCode).toBe('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
    await fp('Account.Industry');
    expect((await failure(fp('Account.Industry'))).errorCode).toBe('DUPLICATE_VALUE');
  });

  test('lookup fields may be named without the Id suffix; queries return the Id form', async () => {
    const { conn } = await newOrg(emu);
    const ps = await conn.sobject('PermissionSet').create({ Name: unique('P'), Label: 'p' });
    await conn
      .sobject('FieldPermissions')
      .create({ ParentId: ps.id, SobjectType: 'Contact', Field: 'Contact.Account', PermissionsRead: true });
    const q = await conn.query<{ Field: string }>(`SELECT Field FROM FieldPermissions WHERE ParentId = '${ps.id}'`);
    expect(q.records[0]!.Field).toBe('Contact.AccountId');
  });

  test('Edit needs Read on FieldPermissions; a row with PermissionsRead=false is removed', async () => {
    const { conn } = await newOrg(emu);
    const ps = await conn.sobject('PermissionSet').create({ Name: unique('P'), Label: 'p' });
    expect(
      (
        await failure(
          conn
            .sobject('FieldPermissions')
            .create({ ParentId: ps.id, SobjectType: 'Account', Field: 'Account.Phone', PermissionsEdit: true }),
        )
      ).errorCode,
    ).toBe('FIELD_INTEGRITY_EXCEPTION');
    const r = await conn
      .sobject('FieldPermissions')
      .create({ ParentId: ps.id, SobjectType: 'Account', Field: 'Account.Phone', PermissionsRead: true });
    await conn.sobject('FieldPermissions').update({ Id: r.id!, PermissionsRead: false });
    const q = await conn.query(`SELECT Id FROM FieldPermissions WHERE ParentId = '${ps.id}'`);
    expect(q.totalSize).toBe(0);
  });
});

describe('Assignments and licenses', () => {
  test('the PSL must be assigned before a permission set granting object access: FIELD_INTEGRITY_EXCEPTION "The user license doesn\'t allow the permission: Read Account"', async () => {
    const { conn } = await newOrg(emu);
    const ps = await conn.sobject('PermissionSet').create({ Name: unique('P'), Label: 'p' });
    await conn.sobject('ObjectPermissions').create({ ParentId: ps.id, SobjectType: 'Account', PermissionsRead: true });
    const u = await createIntegrationUser(conn);
    const e = await failure(
      conn.sobject('PermissionSetAssignment').create({ AssigneeId: u.id, PermissionSetId: ps.id }),
    );
    expect(e.errorCode).toBe('FIELD_INTEGRITY_EXCEPTION');
    expect(e.message).toBe("The user license doesn't allow the permission: Read Account");
    await conn
      .sobject('PermissionSetLicenseAssign')
      .create({ AssigneeId: u.id, PermissionSetLicenseId: await pslId(conn) });
    await conn.sobject('PermissionSetAssignment').create({ AssigneeId: u.id, PermissionSetId: ps.id });
  });

  test('duplicate assignment: DUPLICATE_VALUE (PermissionSetAssignment and PermissionSetLicenseAssign)', async () => {
    const { conn } = await newOrg(emu);
    const p = await provisionUser(conn);
    expect(
      (await failure(conn.sobject('PermissionSetAssignment').create({ AssigneeId: p.userId, PermissionSetId: p.psId })))
        .errorCode,
    ).toBe('DUPLICATE_VALUE');
    expect(
      (
        await failure(
          conn
            .sobject('PermissionSetLicenseAssign')
            .create({ AssigneeId: p.userId, PermissionSetLicenseId: await pslId(conn) }),
        )
      ).errorCode,
    ).toBe('DUPLICATE_VALUE');
  });

  test('assignments reference existing records: INVALID_CROSS_REFERENCE_KEY', async () => {
    const { conn, org } = await newOrg(emu);
    const e = await failure(
      conn
        .sobject('PermissionSetAssignment')
        .create({ AssigneeId: org.adminUserId, PermissionSetId: '0PS5g0000000001' }),
    );
    expect(e.errorCode).toBe('INVALID_CROSS_REFERENCE_KEY');
  });

  test('SetupEntityAccess supports no update: INVALID_TYPE_FOR_OPERATION', async () => {
    const { conn } = await newOrg(emu);
    const p = await provisionUser(conn);
    const key = makeCertificate();
    await createEca(conn, unique('Sea_'), key.certificatePem, p.psName);
    const app = await conn.query<{ Id: string }>('SELECT Id FROM ConnectedApplication');
    const sea = await conn.sobject('SetupEntityAccess').create({ ParentId: p.psId, SetupEntityId: app.records[0]!.Id });
    const row = await conn.query<{ SetupEntityType: string }>(
      `SELECT SetupEntityType FROM SetupEntityAccess WHERE Id = '${sea.id}'`,
    );
    expect(row.records[0]!.SetupEntityType).toBe('ConnectedApplication');
    expect((await failure(conn.sobject('SetupEntityAccess').update({ Id: sea.id!, ParentId: p.psId }))).errorCode).toBe(
      'INVALID_TYPE_FOR_OPERATION',
    );
    expect(
      (await failure(conn.sobject('SetupEntityAccess').create({ ParentId: p.psId, SetupEntityId: app.records[0]!.Id })))
        .errorCode,
    ).toBe('DUPLICATE_VALUE');
  });

  test('without View Setup, SetupEntityAccess is not visible: INVALID_TYPE', async () => {
    const { conn } = await newOrg(emu, { adminPermissions: { PermissionsViewSetup: false } });
    expect((await failure(conn.query('SELECT Id FROM SetupEntityAccess'))).errorCode).toBe('INVALID_TYPE');
  });

  test('the integration user sees only what its permission set grants (object and field-level security)', async () => {
    const { org, conn } = await newOrg(emu);
    const p = await provisionUser(conn);
    const key = makeCertificate();
    const ck = await createEca(conn, unique('Fls_'), key.certificatePem, p.psName);
    const tok = await jwtToken(emu.loginUrl, assertion(key, ck, p.username, emu.loginUrl));
    const agent = connect({ instanceUrl: org.instanceUrl, accessToken: tok.access_token });
    const q = await agent.query<{ Name: string; Industry: string }>('SELECT Id, Name, Industry FROM Account');
    expect(q.totalSize).toBeGreaterThan(0);
    expect((await failure(agent.query('SELECT Id, Phone FROM Account'))).errorCode).toBe('INVALID_FIELD');
    expect((await failure(agent.query('SELECT Id FROM Contact'))).errorCode).toBe('INVALID_TYPE');
    expect((await failure(agent.sobject('Account').create({ Name: 'nope' }))).errorCode).toBe(
      'INSUFFICIENT_ACCESS_OR_READONLY',
    );
    expect((await failure(agent.query('SELECT Id FROM PermissionSet'))).errorCode).toBe('INVALID_TYPE');
  });

  test('describe as the integration user leaves out the fields and objects it cannot see; the admin still sees them all', async () => {
    const { org, conn } = await newOrg(emu);
    const p = await provisionUser(conn); // Read on Account, Read on Account.Industry
    await conn.sobject('FieldPermissions').create({
      ParentId: p.psId,
      SobjectType: 'Account',
      Field: 'Account.Website',
      PermissionsRead: true,
      PermissionsEdit: true,
    });
    const key = makeCertificate();
    const ck = await createEca(conn, unique('Desc_'), key.certificatePem, p.psName);
    const tok = await jwtToken(emu.loginUrl, assertion(key, ck, p.username, emu.loginUrl));
    const agent = connect({ instanceUrl: org.instanceUrl, accessToken: tok.access_token });

    const account = await agent.describe('Account');
    const fields = new Map(account.fields.map((f) => [f.name, f]));
    // Granted fields and the fields without field-level security (Id, required Name, owner, audit) are described.
    for (const name of ['Id', 'Name', 'OwnerId', 'CreatedDate', 'Industry', 'Website'])
      expect(fields.has(name)).toBe(true);
    for (const name of ['Phone', 'AnnualRevenue', 'Description', 'Type']) expect(fields.has(name)).toBe(false);
    expect(fields.get('Industry')).toMatchObject({ createable: false, updateable: false });
    expect(fields.get('Website')).toMatchObject({ createable: true, updateable: true });
    expect(account).toMatchObject({ createable: false, updateable: false, deletable: false });
    const basic = await agent.requestGet<{ objectDescribe: { createable: boolean } }>('/sobjects/Account');
    expect(basic.objectDescribe.createable).toBe(false);

    const global = (await agent.describeGlobal()).sobjects.map((o) => o.name);
    expect(global).toContain('Account');
    for (const name of ['Contact', 'Opportunity', 'PermissionSet']) expect(global).not.toContain(name);
    expect((await failure(agent.describe('Contact'))).errorCode).toBe('NOT_FOUND');

    const asAdmin = await conn.describe('Account');
    expect(asAdmin.fields.map((f) => f.name)).toEqual(expect.arrayContaining(['Phone', 'AnnualRevenue', 'Industry']));
    expect(asAdmin).toMatchObject({ createable: true, updateable: true, deletable: true });
    expect(asAdmin.fields.find((f) => f.name === 'Industry')).toMatchObject({ createable: true, updateable: true });
    expect((await conn.describeGlobal()).sobjects.map((o) => o.name)).toEqual(
      expect.arrayContaining(['Contact', 'Opportunity', 'PermissionSet']),
    );
  });
});
