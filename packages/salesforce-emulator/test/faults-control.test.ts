import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import jsforce from 'jsforce';
import { SERVICE_OAUTH_CLIENT, type RunningEmulator } from '../src';
import {
  mdApi,
  connect,
  createEca,
  failure,
  makeCertificate,
  newOrg,
  provisionUser,
  rawFetch,
  start,
  unique,
} from './helpers';

const HOUR = 3_600_000;

let emu: RunningEmulator;
beforeAll(async () => {
  emu = await start();
});
afterAll(async () => {
  await emu.close();
});
afterEach(async () => {
  await emu.control.clearFaults();
});

describe('Fault injection', () => {
  test('error fault: the next call fails with the Salesforce REST error shape and natural status; the one after succeeds', async () => {
    const { org, conn } = await newOrg(emu);
    await emu.control.addFault({
      org: org.key,
      match: { operation: 'rest.create', object: 'Account' },
      action: { kind: 'error', errorCode: 'UNABLE_TO_LOCK_ROW' },
    });
    const e = await failure(conn.sobject('Account').create({ Name: 'Locked' }));
    expect(e.errorCode).toBe('UNABLE_TO_LOCK_ROW');
    await conn.sobject('Account').create({ Name: 'Fine' });
    await emu.control.addFault({
      org: org.key,
      match: { operation: 'rest.query' },
      action: { kind: 'error', errorCode: 'SERVER_UNAVAILABLE' },
    });
    const raw = await rawFetch(`${org.instanceUrl}/services/data/v66.0/query?q=SELECT+Id+FROM+Account`, {
      headers: { Authorization: `Bearer ${org.accessToken}` },
    });
    expect(raw.status).toBe(503);
    expect(raw.json()).toEqual([{ message: expect.any(String), errorCode: 'SERVER_UNAVAILABLE' }]);
  });

  test('error faults can expire sessions (401 INVALID_SESSION_ID) and exceed limits (403 REQUEST_LIMIT_EXCEEDED)', async () => {
    const { org, conn } = await newOrg(emu);
    await emu.control.addFault({
      org: org.key,
      match: { operation: 'rest.query' },
      action: { kind: 'error', errorCode: 'REQUEST_LIMIT_EXCEEDED' },
    });
    expect((await failure(conn.query('SELECT Id FROM Account'))).errorCode).toBe('REQUEST_LIMIT_EXCEEDED');
    await emu.control.addFault({
      org: org.key,
      match: { operation: 'rest.read' },
      action: { kind: 'error', errorCode: 'INVALID_SESSION_ID' },
    });
    const raw = await rawFetch(`${org.instanceUrl}/services/data/v66.0/sobjects/User/${org.adminUserId}`, {
      headers: { Authorization: `Bearer ${org.accessToken}` },
    });
    expect(raw.status).toBe(401);
  });

  test('times=N fails the next N matching calls; times=0 is unlimited until removed', async () => {
    const { org, conn } = await newOrg(emu);
    await emu.control.addFault({
      org: org.key,
      match: { operation: 'rest.limits' },
      action: { kind: 'error', errorCode: 'UNKNOWN_EXCEPTION' },
      times: 2,
    });
    expect((await failure(conn.requestGet('/limits', { retry: { maxRetries: 0 } }))).errorCode).toBe(
      'UNKNOWN_EXCEPTION',
    );
    expect((await failure(conn.requestGet('/limits', { retry: { maxRetries: 0 } }))).errorCode).toBe(
      'UNKNOWN_EXCEPTION',
    );
    await conn.limits();
    const { id } = await emu.control.addFault({
      org: org.key,
      match: { operation: 'rest.describe' },
      action: { kind: 'error', errorCode: 'NOT_FOUND' },
      times: 0,
    });
    for (let i = 0; i < 3; i++)
      expect((await failure(conn.requestGet('/sobjects/Account/describe'))).errorCode).toBe('NOT_FOUND');
    await emu.control.removeFault(id);
    await conn.requestGet('/sobjects/Account/describe');
  });

  test('probability faults are deterministic for a given seed', async () => {
    const { org, conn } = await newOrg(emu);
    const run = async (): Promise<boolean[]> => {
      await emu.control.addFault({
        org: org.key,
        match: { operation: 'rest.read' },
        action: { kind: 'error', errorCode: 'UNABLE_TO_LOCK_ROW' },
        probability: 0.5,
        seed: 42,
        times: 0,
      });
      const out: boolean[] = [];
      for (let i = 0; i < 16; i++)
        out.push(
          await conn
            .sobject('User')
            .retrieve(org.adminUserId)
            .then(
              () => true,
              () => false,
            ),
        );
      await emu.control.clearFaults();
      return out;
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(a.some((x) => x)).toBe(true);
    expect(a.some((x) => !x)).toBe(true);
  });

  test('latency delays the response', async () => {
    const { org, conn } = await newOrg(emu);
    await emu.control.addFault({
      org: org.key,
      match: { operation: 'rest.query' },
      action: { kind: 'latency', ms: 200 },
    });
    const t = Date.now();
    await conn.query('SELECT Id FROM Account');
    expect(Date.now() - t).toBeGreaterThanOrEqual(190);
  });

  test('timeout holds the request (bounded) then drops the connection: the client sees a network error', async () => {
    const { org, conn } = await newOrg(emu);
    await emu.control.addFault({
      org: org.key,
      match: { method: 'POST', operation: 'rest.create' },
      action: { kind: 'timeout', ms: 150 },
    });
    const t = Date.now();
    const e = await failure(conn.sobject('Account').create({ Name: 'Timeout Co' }));
    expect(Date.now() - t).toBeGreaterThanOrEqual(140);
    expect(e.errorCode).toBeUndefined();
    expect((await conn.query("SELECT Id FROM Account WHERE Name = 'Timeout Co'")).totalSize).toBe(0);
  });

  test('commitThenDrop: the record exists although the client saw a network error (the duplicate-maker)', async () => {
    const { org, conn } = await newOrg(emu);
    await emu.control.addFault({
      org: org.key,
      match: { operation: 'rest.create', object: 'PermissionSet' },
      action: { kind: 'commitThenDrop' },
    });
    const e = await failure(conn.sobject('PermissionSet').create({ Name: 'Dropped_PS', Label: 'Dropped' }));
    expect(e.errorCode).toBeUndefined();
    expect((await conn.query("SELECT Id FROM PermissionSet WHERE Name = 'Dropped_PS'")).totalSize).toBe(1);
    expect(
      (await failure(conn.sobject('PermissionSet').create({ Name: 'Dropped_PS', Label: 'Dropped' }))).errorCode,
    ).toBe('DUPLICATE_DEVELOPER_NAME');
  });

  test('dropBeforeCommit: the connection drops and nothing is written', async () => {
    const { org, conn } = await newOrg(emu);
    await emu.control.addFault({
      org: org.key,
      match: { operation: 'rest.create' },
      action: { kind: 'dropBeforeCommit' },
    });
    await failure(conn.sobject('Account').create({ Name: 'Never Written' }));
    expect((await conn.query("SELECT Id FROM Account WHERE Name = 'Never Written'")).totalSize).toBe(0);
  });

  test('a fault matched by object applies to a composite containing that object', async () => {
    const { org, conn } = await newOrg(emu);
    await emu.control.addFault({
      org: org.key,
      match: { operation: 'rest.composite', object: 'User' },
      action: { kind: 'error', errorCode: 'UNKNOWN_EXCEPTION' },
    });
    const ok = await conn.requestPost('/composite', {
      compositeRequest: [{ method: 'GET', url: '/services/data/v66.0/sobjects/Account/describe', referenceId: 'a' }],
    });
    expect(ok).toBeDefined();
    const e = await failure(
      conn.requestPost('/composite', {
        compositeRequest: [
          { method: 'GET', url: `/services/data/v66.0/sobjects/User/${org.adminUserId}`, referenceId: 'u' },
        ],
      }),
    );
    expect(e.errorCode).toBe('UNKNOWN_EXCEPTION');
  });

  test('metadata faults: session/server errors are SOAP faults, business errors come back in the SaveResult', async () => {
    const { org, conn } = await newOrg(emu);
    await emu.control.addFault({
      org: org.key,
      match: { operation: 'metadata.create' },
      action: { kind: 'error', errorCode: 'SERVER_UNAVAILABLE' },
    });
    const f = await failure(
      mdApi(conn).create('ExternalClientApplication', { fullName: 'F1', contactEmail: 'a@example.com', label: 'f' }),
    );
    expect(f.errorCode).toBe('sf:SERVER_UNAVAILABLE');
    await emu.control.addFault({
      org: org.key,
      match: { operation: 'metadata.create', object: 'ExternalClientApplication' },
      action: { kind: 'error', errorCode: 'UNABLE_TO_LOCK_ROW' },
    });
    const r = (await mdApi(conn).create('ExternalClientApplication', {
      fullName: 'F2',
      contactEmail: 'a@example.com',
      label: 'f',
    })) as {
      success: boolean;
      errors: { statusCode: string }[];
    };
    expect(r.success).toBe(false);
    expect(r.errors[0]!.statusCode).toBe('UNABLE_TO_LOCK_ROW');
  });

  test('oauth.token faults answer with the OAuth error shape', async () => {
    const { org } = await newOrg(emu);
    await emu.control.addFault({
      match: { operation: 'oauth.token' },
      action: { kind: 'error', errorCode: 'invalid_grant', message: 'authentication failure' },
    });
    const o2 = new jsforce.OAuth2({
      loginUrl: emu.loginUrl,
      clientId: SERVICE_OAUTH_CLIENT.clientId,
      clientSecret: SERVICE_OAUTH_CLIENT.clientSecret,
    });
    const e = await failure(o2.refreshToken(org.refreshToken));
    expect(e.name).toBe('invalid_grant');
    expect(e.message).toBe('authentication failure');
  });

  test('fault specs are validated by the control API', async () => {
    await expect(emu.control.addFault({ action: { kind: 'explode' } } as never)).rejects.toThrow(/400/);
  });
});

describe('Counters', () => {
  test('every Salesforce-surface request is counted per operation, object and status; one composite is one call', async () => {
    const { org, conn } = await newOrg(emu);
    await emu.control.resetCounters(org.key);
    await conn.sobject('Account').create({ Name: 'Counted' });
    await conn.query('SELECT Id FROM Account');
    await failure(conn.sobject('Account').create({ Bogus: 1 }));
    await conn.requestPost('/composite', {
      compositeRequest: [
        { method: 'POST', url: '/services/data/v66.0/sobjects/Account', referenceId: 'a', body: { Name: 'C' } },
        { method: 'GET', url: '/services/data/v66.0/sobjects/Account/@{a.id}', referenceId: 'b' },
      ],
    });
    const c = await emu.control.counters(org.key);
    expect(c.total).toBe(4);
    expect(c.byOperation).toEqual({ 'rest.create': 2, 'rest.query': 1, 'rest.composite': 1 });
    expect(c.byOperationAndObject['rest.create']).toEqual({ Account: 2 });
    expect(c.byStatus).toMatchObject({ '201': 1, '200': 2, '400': 1 });
    const { conn: c2 } = await newOrg(emu);
    await c2.query('SELECT Id FROM Account');
    expect((await emu.control.counters(org.key)).total).toBe(4);
  });
});

describe('Control API', () => {
  test('components lists what is not part of the seed, with creator and time; users never disappear', async () => {
    const { org, conn } = await newOrg(emu);
    expect(await emu.control.components(org.key)).toEqual([]);
    const p = await provisionUser(conn);
    const key = makeCertificate();
    const app = unique('Cmp_');
    await createEca(conn, app, key.certificatePem, p.psName);
    const comps = await emu.control.components(org.key);
    const kinds = comps.map((c) => c.kind);
    for (const k of [
      'PermissionSet',
      'ObjectPermissions',
      'FieldPermissions',
      'User',
      'PermissionSetAssignment',
      'PermissionSetLicenseAssign',
      'ExternalClientApplication',
      'ExtlClntAppOauthSettings',
      'ExtlClntAppGlobalOauthSettings',
      'ExtlClntAppOauthConfigurablePolicies',
    ]) {
      expect(kinds).toContain(k);
    }
    const user = comps.find((c) => c.kind === 'User')!;
    expect(user).toMatchObject({ name: p.username, active: true, createdById: org.adminUserId });
    await conn.sobject('User').update({ Id: p.userId, IsActive: false });
    expect((await emu.control.components(org.key)).find((c) => c.kind === 'User')).toMatchObject({ active: false });
  });

  test('hand edits for drift tests: PATCH a record and DELETE a component bypass the rules (but users cannot be deleted)', async () => {
    const { org, conn } = await newOrg(emu);
    const p = await provisionUser(conn);
    const op = await conn.query<{ Id: string }>(`SELECT Id FROM ObjectPermissions WHERE ParentId = '${p.psId}'`);
    await emu.control.patchRecord(org.key, 'ObjectPermissions', op.records[0]!.Id, {
      PermissionsModifyAllRecords: true,
    });
    const after = await conn.query<{ PermissionsModifyAllRecords: boolean }>(
      `SELECT PermissionsModifyAllRecords FROM ObjectPermissions WHERE Id = '${op.records[0]!.Id}'`,
    );
    expect(after.records[0]!.PermissionsModifyAllRecords).toBe(true);
    await emu.control.deleteComponent(org.key, 'PermissionSet', p.psName);
    expect((await conn.query(`SELECT Id FROM PermissionSet WHERE Name = '${p.psName}'`)).totalSize).toBe(0);
    await expect(emu.control.deleteComponent(org.key, 'User', p.username)).rejects.toThrow(/409/);
    const raw = await emu.control.records(org.key, 'User');
    expect(raw.some((u) => u.Username === p.username)).toBe(true);
  });

  test('several orgs at once, each with its own instance URL; reset returns an org to its seed; delete removes it', async () => {
    const a = await newOrg(emu, { key: unique('tenantA') });
    const b = await newOrg(emu, { key: unique('tenantB') });
    expect(a.org.instanceUrl).toBe(`${emu.loginUrl}/orgs/${a.org.key}`);
    expect(a.org.orgId).toMatch(/^00D[A-Za-z0-9]{15}$/);
    await a.conn.sobject('PermissionSet').create({ Name: 'Only_In_A', Label: 'A' });
    expect((await b.conn.query("SELECT Id FROM PermissionSet WHERE Name = 'Only_In_A'")).totalSize).toBe(0);
    await emu.control.resetOrg(a.org.key);
    expect((await a.conn.query("SELECT Id FROM PermissionSet WHERE Name = 'Only_In_A'")).totalSize).toBe(0);
    const summary = await emu.control.getOrg(a.org.key);
    expect(summary.settings.integrationLicenses).toBe(5);
    expect(summary.settings.allowConnectedAppCreation).toBe(false);
    await emu.control.deleteOrg(b.org.key);
    expect((await failure(b.conn.query('SELECT Id FROM Account'))).errorCode).toBe('NOT_FOUND');
  });

  test('the clock only moves forward; what is created afterwards carries the emulated time', async () => {
    const own = await start();
    try {
      const { org } = await newOrg(own);
      const before = await own.control.clock();
      expect(before.offsetMs).toBe(0);
      const after = await own.control.advanceClock(36 * HOUR);
      expect(after.offsetMs).toBe(36 * HOUR);
      expect(Date.parse(after.now) - Date.parse(before.now)).toBeGreaterThanOrEqual(36 * HOUR);
      await expect(own.control.advanceClock(-1)).rejects.toThrow(/400/);
      // The org's first token timed out 36 hours ago (2-hour default): a fresh one.
      const conn = connect({
        instanceUrl: org.instanceUrl,
        accessToken: (await own.control.adminToken(org.key)).accessToken,
      });
      const { id } = await conn.sobject('PermissionSet').create({ Name: 'Made_Later', Label: 'Made later' });
      const row = (await own.control.records(org.key, 'PermissionSet')).find((r) => r.Id === id)!;
      expect(Date.parse(String(row.CreatedDate).replace('+0000', 'Z'))).toBeGreaterThanOrEqual(Date.now() + 35 * HOUR);
    } finally {
      await own.close();
    }
  });

  test('bad input to the Salesforce surface never crashes the server', async () => {
    const { org } = await newOrg(emu);
    const auth = { Authorization: `Bearer ${org.accessToken}`, 'Content-Type': 'application/json' };
    const cases: [string, RequestInit][] = [
      ['/services/data/v66.0/sobjects/Account', { method: 'POST', headers: auth, body: '[1,2]' }],
      ['/services/data/v66.0/sobjects/Account', { method: 'POST', headers: auth, body: 'null' }],
      ['/services/data/v66.0/composite', { method: 'POST', headers: auth, body: '{"compositeRequest": "x"}' }],
      ['/services/data/v66.0/composite/sobjects', { method: 'POST', headers: auth, body: '{"records": [null, 3]}' }],
      ['/services/data/v66.0/query?q=', { headers: auth }],
      ['/services/data/v66.0/sobjects/Account/001/extra', { headers: auth }],
      ['/services/data/v66.0/sobjects/Account', { method: 'PUT', headers: auth, body: '{}' }],
    ];
    for (const [p, init] of cases) {
      const r = await rawFetch(`${org.instanceUrl}${p}`, init);
      expect([p, r.status < 500]).toEqual([p, true]);
      const body = r.json();
      if (Array.isArray(body) && body[0] && typeof body[0] === 'object' && 'errorCode' in body[0])
        expect(typeof body[0].errorCode).toBe('string');
    }
    const tok = await rawFetch(`${emu.loginUrl}/services/oauth2/token`, {
      method: 'POST',
      body: 'grant_type=refresh_token&refresh_token=x',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expect(tok.status).toBe(400);
    expect(tok.json()).toMatchObject({ error: expect.any(String), error_description: expect.any(String) });
  });
});

describe('Persistence', () => {
  test('API usage, sessions and the clock survive a restart; a state file of the former format still loads', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'emu-state-'));
    const stateFile = path.join(dir, 'state.json');
    try {
      const first = await start({ stateFile, sessionTimeoutMs: 10 * HOUR });
      const { org, conn } = await newOrg(first, { key: 'usage', apiDailyLimit: 100 });
      await conn.query('SELECT Id FROM Account');
      await conn.query('SELECT Id FROM Account');
      await first.control.advanceClock(HOUR);
      await first.close();
      // The state holds tokens: only its owner reads it, and a former file readable by others is replaced.
      expect(statSync(stateFile).mode & 0o777).toBe(0o600);
      chmodSync(stateFile, 0o644);
      const second = await start({ stateFile });
      try {
        expect((await second.control.clock()).offsetMs).toBe(HOUR);
        expect((await second.control.getOrg('usage')).apiUsage.used).toBe(2);
        const c2 = connect({ instanceUrl: `${second.loginUrl}/orgs/usage`, accessToken: org.accessToken });
        await c2.query('SELECT Id FROM Account');
        expect(c2.limitInfo.apiUsage?.used).toBe(3);
      } finally {
        await second.close();
      }
      expect(statSync(stateFile).mode & 0o777).toBe(0o600);
      // The former format: usage as { used, windowStart }, sessions with a fixed expiry, no clock offset.
      const json = JSON.parse(readFileSync(stateFile, 'utf8'));
      delete json.clockOffsetMs;
      json.orgs[0].apiUsage = { used: 7, windowStart: Date.now() - HOUR };
      for (const s of json.sessions) {
        delete s.lastActiveAt;
        delete s.timeoutMs;
        s.issuedAt = Date.now();
        s.expiresAt = Date.now() + HOUR;
      }
      writeFileSync(stateFile, JSON.stringify(json));
      const third = await start({ stateFile });
      try {
        const c3 = connect({ instanceUrl: `${third.loginUrl}/orgs/usage`, accessToken: org.accessToken });
        await c3.query('SELECT Id FROM Account');
        expect(c3.limitInfo.apiUsage?.used).toBe(8);
        await third.control.advanceClock(HOUR + 60_000);
        expect((await failure(c3.query('SELECT Id FROM Account'))).errorCode).toBe('INVALID_SESSION_ID');
      } finally {
        await third.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('orgs, records, metadata and tokens survive a restart with the same state file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'emu-state-'));
    const stateFile = path.join(dir, 'state.json');
    try {
      const first = await start({ stateFile });
      const { org, conn } = await newOrg(first, { key: 'persisted' });
      await conn.sobject('PermissionSet').create({ Name: 'Persisted_PS', Label: 'Persisted' });
      await mdApi(conn).create('ExternalClientApplication', {
        fullName: 'Persisted_App',
        contactEmail: 'a@example.com',
        label: 'p',
      });
      await first.close();
      expect(JSON.parse(readFileSync(stateFile, 'utf8')).format).toBe('sf-emulator/1');
      const second = await start({ stateFile });
      try {
        const orgs = await second.control.listOrgs();
        expect(orgs.map((o) => o.key)).toEqual(['persisted']);
        const c2 = connect({ instanceUrl: `${second.loginUrl}/orgs/persisted`, accessToken: org.accessToken });
        expect((await c2.query("SELECT Id FROM PermissionSet WHERE Name = 'Persisted_PS'")).totalSize).toBe(1);
        const app = (await mdApi(c2).read('ExternalClientApplication', 'Persisted_App')) as {
          fullName: string;
        };
        expect(app.fullName).toBe('Persisted_App');
        const { id } = await c2.sobject('Account').create({ Name: 'After restart' });
        expect(id).toMatch(/^001/);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
