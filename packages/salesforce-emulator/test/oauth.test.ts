import jsforce from 'jsforce';
import { SERVICE_OAUTH_CLIENT, type RunningEmulator } from '../src';
import { emulatorOptionsFromEnv } from '../src/env';
import {
  mdApi,
  JWT_GRANT,
  assertion,
  connect,
  createEca,
  failure,
  jwtToken,
  makeCertificate,
  newOrg,
  oauth,
  provisionUser,
  rawFetch,
  signJwt,
  start,
  unique,
  type KeyPair,
} from './helpers';

let emu: RunningEmulator;
let key: KeyPair;
beforeAll(async () => {
  emu = await start({ sessionTimeoutMs: 60_000 });
  key = makeCertificate();
});
afterAll(async () => {
  await emu.close();
});

async function appSetup(input: Parameters<RunningEmulator['control']['createOrg']>[0] = {}) {
  const { org, conn } = await newOrg(emu, input);
  const user = await provisionUser(conn);
  const appName = unique('App_');
  const consumerKey = await createEca(conn, appName, key.certificatePem, user.psName);
  return { org, conn, user, appName, consumerKey };
}

describe('OAuth refresh_token grant (service client)', () => {
  test('refresh_token grant with the service client returns an access token, instance_url and identity URL', async () => {
    const { org } = await newOrg(emu);
    const o2 = new jsforce.OAuth2({
      loginUrl: emu.loginUrl,
      clientId: SERVICE_OAUTH_CLIENT.clientId,
      clientSecret: SERVICE_OAUTH_CLIENT.clientSecret,
    });
    const res = await o2.refreshToken(org.refreshToken);
    expect(res.instance_url).toBe(org.instanceUrl);
    expect(res.id).toBe(`${emu.loginUrl}/id/${org.orgId}/${org.adminUserId}`);
    expect((res as unknown as { token_type: string }).token_type).toBe('Bearer');
    const conn = connect({ instanceUrl: res.instance_url, accessToken: res.access_token });
    const q = await conn.query('SELECT Id FROM Organization');
    expect(q.records[0]!.Id).toBe(org.orgId);
  });

  test('a wrong client secret is refused with invalid_client', async () => {
    const { org } = await newOrg(emu);
    const o2 = new jsforce.OAuth2({
      loginUrl: emu.loginUrl,
      clientId: SERVICE_OAUTH_CLIENT.clientId,
      clientSecret: 'nope',
    });
    const e = await failure(o2.refreshToken(org.refreshToken));
    expect(e.name).toBe('invalid_client');
  });

  test('an unknown refresh token is refused: invalid_grant "expired access/refresh token"', async () => {
    const o2 = new jsforce.OAuth2({
      loginUrl: emu.loginUrl,
      clientId: SERVICE_OAUTH_CLIENT.clientId,
      clientSecret: SERVICE_OAUTH_CLIENT.clientSecret,
    });
    const e = await failure(o2.refreshToken('5Aep861bogus'));
    expect(e.name).toBe('invalid_grant');
    expect(e.message).toBe('expired access/refresh token');
  });

  test('expired sessions give 401 INVALID_SESSION_ID and jsforce recovers through the refresh token', async () => {
    const { org } = await newOrg(emu);
    const conn = new jsforce.Connection({
      oauth2: {
        loginUrl: emu.loginUrl,
        clientId: SERVICE_OAUTH_CLIENT.clientId,
        clientSecret: SERVICE_OAUTH_CLIENT.clientSecret,
      },
      instanceUrl: org.instanceUrl,
      accessToken: org.accessToken,
      refreshToken: org.refreshToken,
      version: '66.0',
    });
    await conn.query('SELECT Id FROM Account');
    await emu.control.expireSessions(org.key);
    const plain = connect(org);
    const e = await failure(plain.query('SELECT Id FROM Account'));
    expect(e.errorCode).toBe('INVALID_SESSION_ID');
    let refreshed = false;
    conn.on('refresh', () => (refreshed = true));
    const q = await conn.query('SELECT Id FROM Account');
    expect(q.totalSize).toBeGreaterThan(0);
    expect(refreshed).toBe(true);
  });

  test('an idle access token expires after the session timeout (real time): INVALID_SESSION_ID', async () => {
    const short = await start({ sessionTimeoutMs: 150 });
    try {
      const { conn } = await newOrg(short);
      await conn.query('SELECT Id FROM Account');
      await new Promise((r) => setTimeout(r, 250));
      const e = await failure(conn.query('SELECT Id FROM Account'));
      expect(e.errorCode).toBe('INVALID_SESSION_ID');
    } finally {
      await short.close();
    }
  });

  test("an access token only works on its own org's instance URL", async () => {
    const a = await newOrg(emu);
    const b = await newOrg(emu);
    const cross = connect({ instanceUrl: b.org.instanceUrl, accessToken: a.org.accessToken });
    const e = await failure(cross.query('SELECT Id FROM Account'));
    expect(e.errorCode).toBe('INVALID_SESSION_ID');
  });

  test('unsupported grant types are refused: unsupported_grant_type', async () => {
    const e = await failure(oauth(emu.loginUrl).requestToken({ grant_type: 'password', username: 'x', password: 'y' }));
    expect(e.name).toBe('unsupported_grant_type');
  });
});

describe('Session timeout: inactivity, as Session Settings define it', () => {
  const MINUTE = 60_000;
  let timed: RunningEmulator;
  beforeEach(async () => {
    timed = await start({ sessionTimeoutMs: 10 * MINUTE });
  });
  afterEach(async () => {
    await timed.close();
  });

  const query = (conn: ReturnType<typeof connect>) => conn.query('SELECT Id FROM Account');

  test('a token used regularly keeps working well past the timeout; an idle one gets 401 INVALID_SESSION_ID', async () => {
    const { org, conn: busy } = await newOrg(timed);
    const idleToken = (await timed.control.adminToken(org.key)).accessToken;
    const idle = connect({ instanceUrl: org.instanceUrl, accessToken: idleToken });
    await query(idle);
    for (let i = 0; i < 5; i++) {
      await timed.control.advanceClock(6 * MINUTE);
      await query(busy);
    }
    // 30 minutes after issue with a 10-minute timeout: the busy token still works, the idle one does not.
    await query(busy);
    expect((await failure(query(idle))).errorCode).toBe('INVALID_SESSION_ID');
    const raw = await rawFetch(`${org.instanceUrl}/services/data/v66.0/limits`, {
      headers: { Authorization: `Bearer ${idleToken}` },
    });
    expect(raw.status).toBe(401);
    expect((raw.json() as unknown[])[0]).toMatchObject({ errorCode: 'INVALID_SESSION_ID' });
  });

  test('activity in the first half of the timeout does not restart it (Salesforce updates the session from halfway)', async () => {
    const { conn } = await newOrg(timed);
    await timed.control.advanceClock(4 * MINUTE);
    await query(conn);
    await timed.control.advanceClock(6 * MINUTE + 1000);
    expect((await failure(query(conn))).errorCode).toBe('INVALID_SESSION_ID');
  });

  test('Metadata SOAP calls and identity URL requests are activity too', async () => {
    const { org, conn } = await newOrg(timed);
    for (let i = 0; i < 3; i++) {
      await timed.control.advanceClock(6 * MINUTE);
      await mdApi(conn).read('ExternalClientApplication', 'Nothing_Here');
    }
    const id = `${timed.loginUrl}/id/${org.orgId}/${org.adminUserId}`;
    for (let i = 0; i < 3; i++) {
      await timed.control.advanceClock(6 * MINUTE);
      expect((await rawFetch(id, { headers: { Authorization: `Bearer ${org.accessToken}` } })).status).toBe(200);
    }
    await query(conn);
  });

  test('the standalone emulator takes its timeout from EMULATOR_SESSION_TIMEOUT_MS (default: 2 hours)', () => {
    expect(emulatorOptionsFromEnv({ EMULATOR_SESSION_TIMEOUT_MS: '900000' }).sessionTimeoutMs).toBe(900_000);
    expect(emulatorOptionsFromEnv({}).sessionTimeoutMs).toBeUndefined();
    expect(() => emulatorOptionsFromEnv({ EMULATOR_SESSION_TIMEOUT_MS: '0' })).toThrow(/EMULATOR_SESSION_TIMEOUT_MS/);
  });
});

describe('OAuth JWT bearer grant', () => {
  test('a pre-authorized active user gets an access token for its org (no refresh token)', async () => {
    const { org, user, consumerKey } = await appSetup();
    const res = await jwtToken(emu.loginUrl, assertion(key, consumerKey, user.username, emu.loginUrl));
    expect(res.instance_url).toBe(org.instanceUrl);
    expect(res.id).toBe(`${emu.loginUrl}/id/${org.orgId}/${user.userId}`);
    expect((res as Record<string, unknown>).refresh_token).toBeUndefined();
    expect(res.scope).toContain('api');
    const agent = connect({ instanceUrl: res.instance_url, accessToken: res.access_token });
    const q = await agent.query('SELECT Id, Industry FROM Account');
    expect(q.totalSize).toBeGreaterThan(0);
  });

  test('the token endpoint is also served under the instance URL (My Domain) and aud may be the instance URL', async () => {
    const { org, user, consumerKey } = await appSetup();
    const res = await jwtToken(org.instanceUrl, assertion(key, consumerKey, user.username, org.instanceUrl));
    expect(res.instance_url).toBe(org.instanceUrl);
  });

  test('unknown consumer key (iss): invalid_client_id "client identifier invalid"', async () => {
    const { user } = await appSetup();
    const e = await failure(jwtToken(emu.loginUrl, assertion(key, '3MVG9unknownKey123', user.username, emu.loginUrl)));
    expect(e.name).toBe('invalid_client_id');
    expect(e.message).toBe('client identifier invalid');
  });

  test('an app is unusable during its propagation delay (invalid_client_id), then works', async () => {
    const { org, user, consumerKey } = await appSetup({ propagationDelayMs: 400 });
    const e = await failure(jwtToken(emu.loginUrl, assertion(key, consumerKey, user.username, emu.loginUrl)));
    expect(e.name).toBe('invalid_client_id');
    await new Promise((r) => setTimeout(r, 450));
    const res = await jwtToken(emu.loginUrl, assertion(key, consumerKey, user.username, emu.loginUrl));
    expect(res.instance_url).toBe(org.instanceUrl);
  });

  test('changing the certificate restarts propagation and the old key stops verifying', async () => {
    const { org, conn, user, appName, consumerKey } = await appSetup();
    await emu.control.updateSettings(org.key, { propagationDelayMs: 300 });
    const other = makeCertificate('rotated');
    const r = await mdApi(conn).update('ExtlClntAppGlobalOauthSettings', {
      fullName: `${appName}_glbloauth`,
      callbackUrl: 'https://localhost/callback',
      certificate: other.certificatePem,
      externalClientApplication: appName,
      label: 'global',
    });
    expect((r as { success: boolean }).success).toBe(true);
    const e = await failure(jwtToken(emu.loginUrl, assertion(other, consumerKey, user.username, emu.loginUrl)));
    expect(e.name).toBe('invalid_client_id');
    await new Promise((res) => setTimeout(res, 350));
    const old = await failure(jwtToken(emu.loginUrl, assertion(key, consumerKey, user.username, emu.loginUrl)));
    expect(old.message).toBe('invalid assertion');
    await jwtToken(emu.loginUrl, assertion(other, consumerKey, user.username, emu.loginUrl));
  });

  test('a bad signature is refused: invalid_grant "invalid assertion"', async () => {
    const { user, consumerKey } = await appSetup();
    const stranger = makeCertificate('stranger');
    const e = await failure(jwtToken(emu.loginUrl, assertion(stranger, consumerKey, user.username, emu.loginUrl)));
    expect(e.name).toBe('invalid_grant');
    expect(e.message).toBe('invalid assertion');
  });

  test('malformed assertions and non-RS256 algorithms are refused: invalid assertion', async () => {
    const { user, consumerKey } = await appSetup();
    expect((await failure(jwtToken(emu.loginUrl, 'not.a.jwt!'))).message).toBe('invalid assertion');
    const hs = signJwt(
      key.privateKeyPem,
      { iss: consumerKey, sub: user.username, aud: emu.loginUrl, exp: Math.floor(Date.now() / 1000) + 100 },
      { alg: 'RS384' },
    );
    expect((await failure(jwtToken(emu.loginUrl, hs))).message).toBe('invalid assertion');
  });

  test('a wrong audience is refused: invalid_grant "audience is invalid"', async () => {
    const { user, consumerKey } = await appSetup();
    const e = await failure(
      jwtToken(emu.loginUrl, assertion(key, consumerKey, user.username, 'https://login.salesforce.com')),
    );
    expect(e.name).toBe('invalid_grant');
    expect(e.message).toBe('audience is invalid');
  });

  test('an expired exp is refused: "expired authorization code"; exp too far ahead or missing: invalid assertion', async () => {
    const { user, consumerKey } = await appSetup();
    expect(
      (await failure(jwtToken(emu.loginUrl, assertion(key, consumerKey, user.username, emu.loginUrl, -10)))).message,
    ).toBe('expired authorization code');
    expect(
      (await failure(jwtToken(emu.loginUrl, assertion(key, consumerKey, user.username, emu.loginUrl, 3600)))).message,
    ).toBe('invalid assertion');
    const noExp = signJwt(key.privateKeyPem, { iss: consumerKey, sub: user.username, aud: emu.loginUrl });
    expect((await failure(jwtToken(emu.loginUrl, noExp))).message).toBe('invalid assertion');
  });

  test('a user not linked to the app through a permission set: invalid_grant "user hasn\'t approved this consumer"', async () => {
    const { conn, consumerKey } = await appSetup();
    const other = await provisionUser(conn);
    const e = await failure(jwtToken(emu.loginUrl, assertion(key, consumerKey, other.username, emu.loginUrl)));
    expect(e.name).toBe('invalid_grant');
    expect(e.message).toBe("user hasn't approved this consumer");
  });

  test('an inactive user is refused: invalid_grant "inactive user"', async () => {
    const { conn, user, consumerKey } = await appSetup();
    await conn.sobject('User').update({ Id: user.userId, IsActive: false });
    const e = await failure(jwtToken(emu.loginUrl, assertion(key, consumerKey, user.username, emu.loginUrl)));
    expect(e.message).toBe('inactive user');
  });

  test('AllSelfAuthorized policies do not pre-authorize anyone', async () => {
    const { conn, user, appName, consumerKey } = await appSetup();
    await mdApi(conn).update('ExtlClntAppOauthConfigurablePolicies', {
      fullName: `${appName}_plcy`,
      externalClientApplication: appName,
      label: 'p',
      permittedUsersPolicyType: 'AllSelfAuthorized',
    });
    const e = await failure(jwtToken(emu.loginUrl, assertion(key, consumerKey, user.username, emu.loginUrl)));
    expect(e.message).toBe("user hasn't approved this consumer");
  });

  test('commaSeparatedPermissionSet accepts permission set ids as well as API names', async () => {
    const { conn, user, appName, consumerKey } = await appSetup();
    await mdApi(conn).update('ExtlClntAppOauthConfigurablePolicies', {
      fullName: `${appName}_plcy`,
      commaSeparatedPermissionSet: user.psId,
      externalClientApplication: appName,
      label: 'p',
      permittedUsersPolicyType: 'AdminApprovedPreAuthorized',
    });
    await jwtToken(emu.loginUrl, assertion(key, consumerKey, user.username, emu.loginUrl));
  });

  test('SetupEntityAccess linking the permission set to the ConnectedApplication pre-authorizes the user', async () => {
    const { conn, user, appName, consumerKey } = await appSetup();
    await mdApi(conn).update('ExtlClntAppOauthConfigurablePolicies', {
      fullName: `${appName}_plcy`,
      externalClientApplication: appName,
      label: 'p',
      permittedUsersPolicyType: 'AdminApprovedPreAuthorized',
    });
    expect((await failure(jwtToken(emu.loginUrl, assertion(key, consumerKey, user.username, emu.loginUrl)))).name).toBe(
      'invalid_grant',
    );
    const app = await conn.query<{ Id: string }>(
      `SELECT Id, Name FROM ConnectedApplication WHERE Name = '${appName} label'`,
    );
    expect(app.totalSize).toBe(1);
    await conn.sobject('SetupEntityAccess').create({ ParentId: user.psId, SetupEntityId: app.records[0]!.Id });
    await jwtToken(emu.loginUrl, assertion(key, consumerKey, user.username, emu.loginUrl));
  });

  test('legacy ConnectedApp (when allowed): permissionSetName + isAdminApproved pre-authorize; chosen consumerKey is used', async () => {
    const { org, conn } = await newOrg(emu, { allowConnectedAppCreation: true });
    const user = await provisionUser(conn);
    const ck = unique('CK').replace(/[^A-Za-z0-9]/g, '') + 'abcdefgh';
    const r = await mdApi(conn).create('ConnectedApp', {
      fullName: unique('CA_'),
      contactEmail: 'admin@example.com',
      label: 'Copilot for Sales connected app',
      oauthConfig: {
        callbackUrl: 'https://localhost/cb',
        certificate: key.certificatePem,
        consumerKey: ck,
        isAdminApproved: true,
        scopes: ['Api', 'RefreshToken'],
      },
      permissionSetName: [user.psName],
    });
    expect((r as { success: boolean }).success).toBe(true);
    const res = await jwtToken(emu.loginUrl, assertion(key, ck, user.username, emu.loginUrl));
    expect(res.instance_url).toBe(org.instanceUrl);
  });

  test('JWT-issued tokens work with jsforce Connection.authorize and a refreshFn', async () => {
    const { user, consumerKey } = await appSetup();
    const conn = new jsforce.Connection({
      oauth2: new jsforce.OAuth2({ loginUrl: emu.loginUrl }),
      version: '66.0',
      refreshFn: (c, cb) => {
        c.oauth2
          .requestToken({ grant_type: JWT_GRANT, assertion: assertion(key, consumerKey, user.username, emu.loginUrl) })
          .then(
            (r) => {
              cb(null, r.access_token, r);
            },
            (err: Error) => {
              cb(err);
            },
          );
      },
    });
    await conn.authorize({
      grant_type: JWT_GRANT,
      assertion: assertion(key, consumerKey, user.username, emu.loginUrl),
    });
    expect(conn.userInfo?.id).toBe(user.userId);
    const q = await conn.query('SELECT Id FROM Account LIMIT 1');
    expect(q.records).toHaveLength(1);
  });
});
