import JSZip from 'jszip';
import type { RunningEmulator } from '../src';
import {
  mdApi,
  createEca,
  failure,
  makeCertificate,
  newOrg,
  provisionUser,
  rawFetch,
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

type Save = {
  success: boolean;
  fullName: string;
  errors?: { statusCode: string; message: string } | { statusCode: string; message: string }[];
};
const errOf = (r: unknown): { statusCode: string; message: string } => {
  const e = (r as Save).errors;
  return (Array.isArray(e) ? e[0] : e)!;
};

const connectedApp = (fullName: string, extra: Record<string, unknown> = {}) => ({
  fullName,
  contactEmail: 'admin@example.com',
  label: 'Copilot for Sales connected app',
  oauthConfig: {
    callbackUrl: 'https://localhost/cb',
    certificate: key.certificatePem,
    isAdminApproved: true,
    scopes: ['Api', 'RefreshToken'],
  },
  ...extra,
});

describe('Metadata API CRUD: External Client Apps', () => {
  test('the four ECA components are created; the consumer key is generated and returned by readMetadata', async () => {
    const { conn } = await newOrg(emu);
    const p = await provisionUser(conn);
    const name = unique('Eca_');
    const ck = await createEca(conn, name, key.certificatePem, p.psName);
    expect(ck).toMatch(/^3MVG9[A-Za-z0-9]+$/);
    const header = (await mdApi(conn).read('ExternalClientApplication', name)) as Record<string, unknown>;
    expect(header.fullName).toBe(name);
    expect(header.distributionState).toBe('Local');
    const app = await conn.query<{ Name: string }>('SELECT Id, Name FROM ConnectedApplication');
    expect(app.records.map((r) => r.Name)).toContain(`${name} label`);
  });

  test('sub-components require their externalClientApplication: INVALID_CROSS_REFERENCE_KEY in the SaveResult', async () => {
    const { conn } = await newOrg(emu);
    const r = await mdApi(conn).create('ExtlClntAppOauthSettings', {
      fullName: 'Orphan_oauth',
      commaSeparatedOauthScopes: 'Api',
      externalClientApplication: 'Missing_App',
      label: 'orphan',
    });
    expect((r as Save).success).toBe(false);
    expect(errOf(r).statusCode).toBe('INVALID_CROSS_REFERENCE_KEY');
  });

  test('the consumer key can only be set at creation', async () => {
    const { conn } = await newOrg(emu);
    const p = await provisionUser(conn);
    const name = unique('Ck_');
    await createEca(conn, name, key.certificatePem, p.psName);
    const r = await mdApi(conn).update('ExtlClntAppGlobalOauthSettings', {
      fullName: `${name}_glbloauth`,
      callbackUrl: 'https://localhost/callback',
      consumerKey: 'ChangedKey12345',
      externalClientApplication: name,
      label: 'g',
    });
    expect(errOf(r).statusCode).toBe('FIELD_INTEGRITY_EXCEPTION');
  });

  test('a consumer key already taken (in any org) is refused: DUPLICATE_VALUE', async () => {
    const a = await newOrg(emu);
    const b = await newOrg(emu);
    const pa = await provisionUser(a.conn);
    const pb = await provisionUser(b.conn);
    const ck = `Fixed${unique('k').replace(/[^A-Za-z0-9]/g, '')}`;
    await createEca(a.conn, unique('A_'), key.certificatePem, pa.psName, ck);
    await expect(createEca(b.conn, unique('B_'), key.certificatePem, pb.psName, ck)).rejects.toThrow(/DUPLICATE_VALUE/);
  });

  test('an invalid certificate is refused in the SaveResult', async () => {
    const { conn } = await newOrg(emu);
    const name = unique('Cert_');
    await mdApi(conn).create('ExternalClientApplication', {
      fullName: name,
      contactEmail: 'a@example.com',
      label: 'x',
    });
    await mdApi(conn).create('ExtlClntAppOauthSettings', {
      fullName: `${name}_o`,
      commaSeparatedOauthScopes: 'Api',
      externalClientApplication: name,
      label: 'o',
    });
    const r = await mdApi(conn).create('ExtlClntAppGlobalOauthSettings', {
      fullName: `${name}_g`,
      callbackUrl: 'https://localhost/cb',
      certificate: 'not a certificate',
      externalClientApplication: name,
      label: 'g',
    });
    expect(errOf(r).statusCode).toBe('FIELD_INTEGRITY_EXCEPTION');
  });

  test('deleting the ECA header while its children exist fails; children first, then the header', async () => {
    const { conn } = await newOrg(emu);
    const p = await provisionUser(conn);
    const name = unique('Del_');
    await createEca(conn, name, key.certificatePem, p.psName);
    const r = await mdApi(conn).delete('ExternalClientApplication', name);
    expect(errOf(r).statusCode).toBe('DELETE_FAILED');
    await mdApi(conn).delete('ExtlClntAppOauthConfigurablePolicies', `${name}_plcy`);
    await mdApi(conn).delete('ExtlClntAppGlobalOauthSettings', `${name}_glbloauth`);
    await mdApi(conn).delete('ExtlClntAppOauthSettings', `${name}_oauth`);
    const ok = await mdApi(conn).delete('ExternalClientApplication', name);
    expect((ok as Save).success).toBe(true);
    expect((await conn.query('SELECT Id FROM ConnectedApplication')).totalSize).toBe(0);
  });

  test('readMetadata of an unknown name returns an empty record (no fullName)', async () => {
    const { conn } = await newOrg(emu);
    const r = (await mdApi(conn).read('ConnectedApp', 'Does_Not_Exist')) as Record<string, unknown>;
    expect(r.fullName).toBeUndefined();
  });

  test('deleteMetadata of an unknown name: success=false with INVALID_CROSS_REFERENCE_KEY', async () => {
    const { conn } = await newOrg(emu);
    const r = await mdApi(conn).delete('ConnectedApp', 'Does_Not_Exist');
    expect((r as Save).success).toBe(false);
    expect(errOf(r).statusCode).toBe('INVALID_CROSS_REFERENCE_KEY');
  });

  test('more than 10 components per call is a SOAP fault', async () => {
    const { conn } = await newOrg(emu);
    const many = Array.from({ length: 11 }, (_, i) => ({
      fullName: `Many_${i}`,
      contactEmail: 'a@example.com',
      label: `m${i}`,
    }));
    const e = await failure(mdApi(conn).create('ExternalClientApplication', many));
    expect(e.errorCode).toBe('sf:LIMIT_EXCEEDED');
  });
});

describe("Metadata API: ConnectedApp (Spring '26 restriction)", () => {
  test('creating a connected app is refused by default: SaveResult FIELD_INTEGRITY_EXCEPTION telling to use an External Client App', async () => {
    const { conn } = await newOrg(emu);
    const r = await mdApi(conn).create('ConnectedApp', connectedApp(unique('CA_')));
    expect((r as Save).success).toBe(false);
    expect(errOf(r).statusCode).toBe('FIELD_INTEGRITY_EXCEPTION');
    expect(errOf(r).message).toMatch(/External Client App/);
  });

  test('with the org setting on, connected apps can be created, read (consumerKey) and deleted; callbackUrl is required', async () => {
    const { conn } = await newOrg(emu, { allowConnectedAppCreation: true });
    const name = unique('CA_');
    expect(((await mdApi(conn).create('ConnectedApp', connectedApp(name))) as Save).success).toBe(true);
    const read = (await mdApi(conn).read('ConnectedApp', name)) as {
      fullName: string;
      oauthConfig: { consumerKey: string; isAdminApproved: boolean };
    };
    expect(read.fullName).toBe(name);
    expect(read.oauthConfig.consumerKey).toMatch(/^3MVG9/);
    expect(read.oauthConfig.isAdminApproved).toBe(true);
    const bad = await mdApi(conn).create('ConnectedApp', {
      ...connectedApp(unique('CA_')),
      oauthConfig: { certificate: key.certificatePem },
    });
    expect(errOf(bad).statusCode).toBe('REQUIRED_FIELD_MISSING');
    expect(((await mdApi(conn).delete('ConnectedApp', name)) as Save).success).toBe(true);
  });

  test('permissionSetName requires isAdminApproved and existing permission sets', async () => {
    const { conn } = await newOrg(emu, { allowConnectedAppCreation: true });
    const r = await mdApi(conn).create(
      'ConnectedApp',
      connectedApp(unique('CA_'), { permissionSetName: ['Missing_PS'] }),
    );
    expect(errOf(r).statusCode).toBe('INVALID_CROSS_REFERENCE_KEY');
  });

  test('existing connected apps can still be updated after creation is disabled', async () => {
    const { org, conn } = await newOrg(emu, { allowConnectedAppCreation: true });
    const name = unique('CA_');
    await mdApi(conn).create('ConnectedApp', connectedApp(name));
    await emu.control.updateSettings(org.key, { allowConnectedAppCreation: false });
    const r = await mdApi(conn).update('ConnectedApp', connectedApp(name, { description: 'updated' }));
    expect((r as Save).success).toBe(true);
  });
});

describe('Metadata API: SOAP faults', () => {
  test('an invalid session is a SOAP fault sf:INVALID_SESSION_ID (HTTP 500)', async () => {
    const { org, conn } = await newOrg(emu);
    await emu.control.expireSessions(org.key);
    const e = await failure(mdApi(conn).read('ConnectedApp', 'X'));
    expect(e.errorCode).toBe('sf:INVALID_SESSION_ID');
  });

  test('an unknown metadata type is a SOAP fault sf:INVALID_TYPE', async () => {
    const { conn } = await newOrg(emu);
    const e = await failure(mdApi(conn).read('NoSuchType', 'X'));
    expect(e.errorCode).toBe('sf:INVALID_TYPE');
  });

  test('a malformed envelope is a SOAP client fault, never a crash', async () => {
    const { org } = await newOrg(emu);
    for (const body of ['<not-xml', '<?xml version="1.0"?><foo/>', '']) {
      const r = await rawFetch(`${org.instanceUrl}/services/Soap/m/66.0`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/xml', SOAPAction: '""' },
        body,
      });
      expect(r.status).toBe(500);
      expect(r.text).toContain('<faultcode>soapenv:Client</faultcode>');
    }
  });

  test('unknown elements in a component are refused like the schema validation does', async () => {
    const { conn } = await newOrg(emu);
    const e = await failure(
      mdApi(conn).create('ExternalClientApplication', {
        fullName: 'Bad_El',
        label: 'x',
        contactEmail: 'a@example.com',
        isAdminApproved: true,
      }),
    );
    expect(e.errorCode).toBe('soapenv:Client');
  });
});

async function zipOf(files: Record<string, string>): Promise<Buffer> {
  const z = new JSZip();
  for (const [p, c] of Object.entries(files)) z.file(p, c);
  return z.generateAsync({ type: 'nodebuffer' });
}

const pkg = (types: Record<string, string[]>) =>
  `<?xml version="1.0" encoding="UTF-8"?><Package xmlns="http://soap.sforce.com/2006/04/metadata">${Object.entries(
    types,
  )
    .map(([n, m]) => `<types>${m.map((x) => `<members>${x}</members>`).join('')}<name>${n}</name></types>`)
    .join('')}<version>66.0</version></Package>`;

describe('Metadata API: deploy + checkDeployStatus', () => {
  test('deploys an ECA zip (package.xml + 4 files); the status goes to Succeeded with component successes', async () => {
    const { conn } = await newOrg(emu);
    const p = await provisionUser(conn);
    const n = unique('Dep_');
    const zip = await zipOf({
      'package.xml': pkg({
        ExternalClientApplication: [n],
        ExtlClntAppOauthSettings: [`${n}_oauth`],
        ExtlClntAppGlobalOauthSettings: [`${n}_glbl`],
        ExtlClntAppOauthConfigurablePolicies: [`${n}_plcy`],
      }),
      [`externalClientApps/${n}.eca`]: `<?xml version="1.0"?><ExternalClientApplication xmlns="http://soap.sforce.com/2006/04/metadata"><contactEmail>a@example.com</contactEmail><distributionState>Local</distributionState><label>${n}</label></ExternalClientApplication>`,
      [`extlClntAppOauthSettings/${n}_oauth.ecaOauth`]: `<ExtlClntAppOauthSettings xmlns="http://soap.sforce.com/2006/04/metadata"><commaSeparatedOauthScopes>Api,RefreshToken</commaSeparatedOauthScopes><externalClientApplication>${n}</externalClientApplication><label>o</label></ExtlClntAppOauthSettings>`,
      [`extlClntAppGlobalOauthSets/${n}_glbl.ecaGlblOauth`]: `<ExtlClntAppGlobalOauthSettings xmlns="http://soap.sforce.com/2006/04/metadata"><callbackUrl>https://localhost/cb</callbackUrl><certificate>${key.certificatePem}</certificate><externalClientApplication>${n}</externalClientApplication><label>g</label></ExtlClntAppGlobalOauthSettings>`,
      [`extlClntAppOauthPolicies/${n}_plcy.ecaOauthPlcy`]: `<ExtlClntAppOauthConfigurablePolicies xmlns="http://soap.sforce.com/2006/04/metadata"><commaSeparatedPermissionSet>${p.psName}</commaSeparatedPermissionSet><externalClientApplication>${n}</externalClientApplication><label>p</label><permittedUsersPolicyType>AdminApprovedPreAuthorized</permittedUsersPolicyType></ExtlClntAppOauthConfigurablePolicies>`,
    });
    conn.metadata.pollInterval = 50;
    const res = await conn.metadata.deploy(zip, { rollbackOnError: true }).complete(true);
    expect(res.status).toBe('Succeeded');
    expect(res.success).toBe(true);
    expect(res.details.componentSuccesses.length).toBe(5);
    const g = (await mdApi(conn).read('ExtlClntAppGlobalOauthSettings', `${n}_glbl`)) as {
      consumerKey: string;
    };
    expect(g.consumerKey).toMatch(/^3MVG9/);
  });

  test('a ConnectedApp in a deploy is refused when creation is disabled, also with checkOnly; componentFailures explain it', async () => {
    const { conn } = await newOrg(emu);
    const n = unique('DepCA_');
    const zip = await zipOf({
      'package.xml': pkg({ ConnectedApp: [n] }),
      [`connectedApps/${n}.connectedApp`]: `<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata"><contactEmail>a@example.com</contactEmail><label>x</label><oauthConfig><callbackUrl>https://localhost/cb</callbackUrl><scopes>Api</scopes></oauthConfig></ConnectedApp>`,
    });
    conn.metadata.pollInterval = 50;
    for (const checkOnly of [false, true]) {
      const res = await conn.metadata.deploy(zip, { checkOnly }).complete(true);
      expect(res.status).toBe('Failed');
      expect(res.numberComponentErrors).toBe(1);
      const f = res.details.componentFailures as unknown as { problem: string } | { problem: string }[];
      expect((Array.isArray(f) ? f[0]! : f).problem).toMatch(/External Client App/);
    }
  });

  test('checkOnly validates without saving; a missing file fails the deploy and nothing is saved (rollback)', async () => {
    const { conn } = await newOrg(emu);
    const n = unique('Chk_');
    const eca = `<ExternalClientApplication xmlns="http://soap.sforce.com/2006/04/metadata"><contactEmail>a@example.com</contactEmail><label>${n}</label></ExternalClientApplication>`;
    conn.metadata.pollInterval = 50;
    const ok = await conn.metadata
      .deploy(
        await zipOf({ 'package.xml': pkg({ ExternalClientApplication: [n] }), [`externalClientApps/${n}.eca`]: eca }),
        { checkOnly: true },
      )
      .complete();
    expect(ok.status).toBe('Succeeded');
    expect(
      ((await mdApi(conn).read('ExternalClientApplication', n)) as Record<string, unknown>).fullName,
    ).toBeUndefined();
    const bad = await conn.metadata
      .deploy(
        await zipOf({
          'package.xml': pkg({ ExternalClientApplication: [n, `${n}_missing`] }),
          [`externalClientApps/${n}.eca`]: eca,
        }),
      )
      .complete(true);
    expect(bad.status).toBe('Failed');
    expect(
      ((await mdApi(conn).read('ExternalClientApplication', n)) as Record<string, unknown>).fullName,
    ).toBeUndefined();
  });

  test('checkDeployStatus reports Pending before the deployment has run', async () => {
    const { conn } = await newOrg(emu);
    const zip = await zipOf({ 'package.xml': pkg({}) });
    const async = await conn.metadata.deploy(zip, {});
    const st = await conn.metadata.checkDeployStatus(async.id);
    expect(['Pending', 'Succeeded']).toContain(st.status);
    expect(async.done).toBe(false);
  });
});
