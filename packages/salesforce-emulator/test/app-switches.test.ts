/**
 * ExtlClntAppConfigurablePolicies (`.ecaPlcy`, API 60+): the switches of an External Client App and of its plugins.
 * An app whose OAuth plugin is off (isOauthPluginEnabled or isEnabled false) issues no JWT bearer token.
 */
import JSZip from 'jszip';
import type { RunningEmulator } from '../src';
import {
  assertion,
  connect,
  createEca,
  expectOk,
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

type Save = { success: boolean; errors?: { statusCode: string } | { statusCode: string }[] };
const codeOf = (r: unknown): string | undefined => {
  const e = (r as Save).errors;
  return (Array.isArray(e) ? e[0] : e)?.statusCode;
};

async function appWithSwitches(switches: Record<string, unknown> = { isEnabled: true, isOauthPluginEnabled: true }) {
  const { org, conn } = await newOrg(emu);
  const user = await provisionUser(conn);
  const app = unique('Sw_');
  const consumerKey = await createEca(conn, app, key.certificatePem, user.psName);
  expectOk(
    await mdApi(conn).create('ExtlClntAppConfigurablePolicies', {
      fullName: `${app}_appPlcy`,
      externalClientApplication: app,
      label: `${app} switches`,
      ...switches,
    }),
  );
  const token = () => jwtToken(emu.loginUrl, assertion(key, consumerKey, user.username, emu.loginUrl));
  return { org, conn, user, app, consumerKey, token };
}

const setSwitches = async (
  conn: Parameters<typeof mdApi>[0],
  app: string,
  values: { isEnabled: boolean; isOauthPluginEnabled?: boolean },
) =>
  expectOk(
    await mdApi(conn).update('ExtlClntAppConfigurablePolicies', {
      fullName: `${app}_appPlcy`,
      externalClientApplication: app,
      label: 'switches',
      ...values,
    }),
  );

describe('ExtlClntAppConfigurablePolicies: Metadata API CRUD', () => {
  test('created for an existing app; readMetadata returns it with the documented default isOauthPluginEnabled=true', async () => {
    const { conn, app } = await appWithSwitches({ isEnabled: true });
    const read = (await mdApi(conn).read('ExtlClntAppConfigurablePolicies', `${app}_appPlcy`)) as Record<
      string,
      unknown
    >;
    expect(read).toMatchObject({
      fullName: `${app}_appPlcy`,
      externalClientApplication: app,
      isEnabled: 'true',
      isOauthPluginEnabled: 'true',
    });
  });

  test('refused without isEnabled (required), for an unknown app, and a second one for the same app', async () => {
    const { conn, app } = await appWithSwitches();
    const base = { externalClientApplication: app, label: 'x' };
    expect(codeOf(await mdApi(conn).create('ExtlClntAppConfigurablePolicies', { fullName: 'No_Flag', ...base }))).toBe(
      'REQUIRED_FIELD_MISSING',
    );
    expect(
      codeOf(
        await mdApi(conn).create('ExtlClntAppConfigurablePolicies', {
          fullName: 'No_App',
          externalClientApplication: 'Nope_App',
          isEnabled: true,
          label: 'x',
        }),
      ),
    ).toBe('INVALID_CROSS_REFERENCE_KEY');
    expect(
      codeOf(
        await mdApi(conn).create('ExtlClntAppConfigurablePolicies', { fullName: 'Second', ...base, isEnabled: true }),
      ),
    ).toBe('DUPLICATE_VALUE');
  });

  test('the app header cannot be deleted while its switches exist; deleting them first works', async () => {
    const { conn, app } = await appWithSwitches();
    for (const [type, name] of [
      ['ExtlClntAppOauthConfigurablePolicies', `${app}_plcy`],
      ['ExtlClntAppGlobalOauthSettings', `${app}_glbloauth`],
      ['ExtlClntAppOauthSettings', `${app}_oauth`],
    ] as const) {
      expectOk(await mdApi(conn).delete(type, name));
    }
    expect(codeOf(await mdApi(conn).delete('ExternalClientApplication', app))).toBe('DELETE_FAILED');
    expectOk(await mdApi(conn).delete('ExtlClntAppConfigurablePolicies', `${app}_appPlcy`));
    expectOk(await mdApi(conn).delete('ExternalClientApplication', app));
  });
});

describe('ExtlClntAppConfigurablePolicies: the OAuth plugin switch and the JWT bearer grant', () => {
  test('an app without switches, or with both on, issues tokens (the documented defaults are on)', async () => {
    const { conn } = await newOrg(emu);
    const user = await provisionUser(conn);
    const app = unique('NoSw_');
    const ck = await createEca(conn, app, key.certificatePem, user.psName);
    await jwtToken(emu.loginUrl, assertion(key, ck, user.username, emu.loginUrl));
    await (await appWithSwitches()).token();
  });

  test('isOauthPluginEnabled=false refuses the grant (invalid_client_id) and revokes issued tokens; back on, it works', async () => {
    const { org, conn, app, token } = await appWithSwitches();
    const issued = await token();
    const asUser = connect({ instanceUrl: org.instanceUrl, accessToken: issued.access_token });
    await asUser.query('SELECT Id FROM Account LIMIT 1');
    await setSwitches(conn, app, { isEnabled: true, isOauthPluginEnabled: false });
    const e = await failure(token());
    expect(e.name).toBe('invalid_client_id');
    expect(e.message).toBe('client identifier invalid');
    expect((await failure(asUser.query('SELECT Id FROM Account LIMIT 1'))).errorCode).toBe('INVALID_SESSION_ID');
    await setSwitches(conn, app, { isEnabled: true, isOauthPluginEnabled: true });
    await token();
  });

  test('isEnabled=false turns every plugin off, whatever isOauthPluginEnabled says', async () => {
    const { conn, app, token } = await appWithSwitches();
    await setSwitches(conn, app, { isEnabled: false, isOauthPluginEnabled: true });
    expect((await failure(token())).name).toBe('invalid_client_id');
  });

  test('switching the plugin back on propagates like any other change of the app', async () => {
    const { org, conn, app, token } = await appWithSwitches();
    await setSwitches(conn, app, { isEnabled: false });
    await emu.control.updateSettings(org.key, { propagationDelayMs: 60_000 });
    await setSwitches(conn, app, { isEnabled: true });
    expect((await failure(token())).name).toBe('invalid_client_id');
    await emu.control.advanceClock(60_000);
    await token();
  });
});

describe('ExtlClntAppConfigurablePolicies: deploy', () => {
  test('deploys from extlClntAppPolicies/<name>.ecaPlcy with the other four parts, and a destructive deploy removes all five', async () => {
    const { org, conn } = await newOrg(emu);
    const p = await provisionUser(conn);
    const n = unique('DepSw_');
    const ns = 'xmlns="http://soap.sforce.com/2006/04/metadata"';
    const manifest = (types: Record<string, string[]>) =>
      `<?xml version="1.0" encoding="UTF-8"?><Package ${ns}>${Object.entries(types)
        .map(([t, m]) => `<types>${m.map((x) => `<members>${x}</members>`).join('')}<name>${t}</name></types>`)
        .join('')}<version>66.0</version></Package>`;
    const types = {
      ExternalClientApplication: [n],
      ExtlClntAppConfigurablePolicies: [`${n}_plcy`],
      ExtlClntAppOauthSettings: [`${n}_oauth`],
      ExtlClntAppGlobalOauthSettings: [`${n}_glbloauth`],
      ExtlClntAppOauthConfigurablePolicies: [`${n}_oauthPlcy`],
    };
    const zip = new JSZip();
    zip.file('package.xml', manifest(types));
    zip.file(
      `externalClientApps/${n}.eca`,
      `<ExternalClientApplication ${ns}><contactEmail>a@example.com</contactEmail><distributionState>Local</distributionState><label>${n}</label></ExternalClientApplication>`,
    );
    zip.file(
      `extlClntAppPolicies/${n}_plcy.ecaPlcy`,
      `<ExtlClntAppConfigurablePolicies ${ns}><externalClientApplication>${n}</externalClientApplication><isEnabled>true</isEnabled><isOauthPluginEnabled>true</isOauthPluginEnabled><label>${n}_plcy</label></ExtlClntAppConfigurablePolicies>`,
    );
    zip.file(
      `extlClntAppOauthSettings/${n}_oauth.ecaOauth`,
      `<ExtlClntAppOauthSettings ${ns}><commaSeparatedOauthScopes>Api,RefreshToken</commaSeparatedOauthScopes><externalClientApplication>${n}</externalClientApplication><label>o</label></ExtlClntAppOauthSettings>`,
    );
    zip.file(
      `extlClntAppGlobalOauthSets/${n}_glbloauth.ecaGlblOauth`,
      `<ExtlClntAppGlobalOauthSettings ${ns}><callbackUrl>https://localhost/cb</callbackUrl><certificate>${key.certificatePem}</certificate><externalClientApplication>${n}</externalClientApplication><label>g</label></ExtlClntAppGlobalOauthSettings>`,
    );
    zip.file(
      `extlClntAppOauthPolicies/${n}_oauthPlcy.ecaOauthPlcy`,
      `<ExtlClntAppOauthConfigurablePolicies ${ns}><commaSeparatedPermissionSet>${p.psName}</commaSeparatedPermissionSet><externalClientApplication>${n}</externalClientApplication><label>p</label><permittedUsersPolicyType>AdminApprovedPreAuthorized</permittedUsersPolicyType></ExtlClntAppOauthConfigurablePolicies>`,
    );
    conn.metadata.pollInterval = 50;
    const res = await conn.metadata.deploy(await zip.generateAsync({ type: 'nodebuffer' }), {}).complete(true);
    expect(res.status).toBe('Succeeded');
    expect(res.details.componentSuccesses.length).toBe(6);
    const kinds = (await emu.control.components(org.key)).map((c) => c.kind);
    expect(kinds).toContain('ExtlClntAppConfigurablePolicies');

    const removal = new JSZip();
    removal.file('package.xml', manifest({}));
    removal.file('destructiveChanges.xml', manifest(types));
    const gone = await conn.metadata.deploy(await removal.generateAsync({ type: 'nodebuffer' }), {}).complete(true);
    expect(gone.status).toBe('Succeeded');
    expect((await emu.control.components(org.key)).filter((c) => c.kind.startsWith('Ext'))).toEqual([]);
  });
});
