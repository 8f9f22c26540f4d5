/** Shared helpers for the emulator conformance suite: start/stop, jsforce connections, certificates, JWTs. */
import { execFileSync } from 'node:child_process';
import { createSign, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Connection, OAuth2 } from 'jsforce';
import {
  startEmulator,
  type CreateOrgInput,
  type CreatedOrg,
  type EmulatorOptions,
  type RunningEmulator,
} from '../src';

export const VERSION = '66.0';
export const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export async function start(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  return startEmulator({ port: 0, controlPort: 0, ...opts });
}

export function connect(org: { instanceUrl: string; accessToken: string }, version = VERSION): Connection {
  return new Connection({ instanceUrl: org.instanceUrl, accessToken: org.accessToken, version });
}

export async function newOrg(
  emu: RunningEmulator,
  input: CreateOrgInput = {},
): Promise<{ org: CreatedOrg; conn: Connection }> {
  const org = await emu.control.createOrg(input);
  return { org, conn: connect(org) };
}

/** Captures the rejection of a promise (jsforce throws HttpApiError / Error). */
export async function failure(
  p: PromiseLike<unknown>,
): Promise<{ errorCode?: string; name?: string; message: string; data?: unknown }> {
  try {
    await p;
  } catch (e) {
    return e as { errorCode?: string; name?: string; message: string };
  }
  throw new Error('expected the call to fail');
}

/** jsforce's metadata typings only know API 47 types; the calls are the same, so type them loosely here. */
export interface LooseMetadata {
  create(type: string, metadata: object | object[]): Promise<unknown>;
  read(type: string, fullNames: string | string[]): Promise<unknown>;
  update(type: string, metadata: object | object[]): Promise<unknown>;
  delete(type: string, fullNames: string | string[]): Promise<unknown>;
}
export const mdApi = (conn: Connection): LooseMetadata => conn.metadata;

export interface KeyPair {
  privateKeyPem: string;
  certificatePem: string;
}

let opensslOk: boolean | undefined;
/** A self-signed RSA-2048 certificate made with openssl (on PATH) for the app's JWT bearer flow. */
export function makeCertificate(cn = 'agent-connections-test'): KeyPair {
  opensslOk ??= (() => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  if (!opensslOk) throw new Error('openssl is required on PATH for the certificate tests');
  const dir = mkdtempSync(path.join(tmpdir(), 'emu-cert-'));
  try {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    writeFileSync(keyFile, privateKeyPem);
    execFileSync('openssl', ['req', '-x509', '-key', keyFile, '-out', certFile, '-days', '30', '-subj', `/CN=${cn}`], {
      stdio: 'ignore',
    });
    return { privateKeyPem, certificatePem: readFileSync(certFile, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const b64u = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export function signJwt(
  privateKeyPem: string,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = { alg: 'RS256' },
): string {
  const h = b64u(JSON.stringify(header));
  const c = b64u(JSON.stringify(claims));
  const sig = createSign('RSA-SHA256').update(`${h}.${c}`).sign(privateKeyPem);
  return `${h}.${c}.${b64u(sig)}`;
}

export function assertion(key: KeyPair, iss: string, sub: string, aud: string, expInS = 170): string {
  return signJwt(key.privateKeyPem, { iss, sub, aud, exp: Math.floor(Date.now() / 1000) + expInS });
}

export function oauth(loginUrl: string): OAuth2 {
  return new OAuth2({ loginUrl });
}

export function jwtToken(
  loginUrl: string,
  jwt: string,
): Promise<{ access_token: string; instance_url: string; id: string; scope?: string }> {
  return oauth(loginUrl).requestToken({ grant_type: JWT_GRANT, assertion: jwt });
}

let seq = 0;
export const unique = (prefix: string): string => `${prefix}${Date.now().toString(36)}${(seq++).toString(36)}`;

/** Creates an integration user on the Salesforce Integration license. */
export async function createIntegrationUser(
  conn: Connection,
  username = `${unique('int')}@example.com`,
): Promise<{ id: string; username: string }> {
  const profile = await conn.query<{ Id: string }>(
    "SELECT Id FROM Profile WHERE UserLicense.Name = 'Salesforce Integration'",
  );
  const r = await conn.sobject('User').create({
    Username: username,
    LastName: 'Integration',
    Alias: 'integ',
    Email: 'integration@example.com',
    ProfileId: profile.records[0]!.Id,
    TimeZoneSidKey: 'America/Los_Angeles',
    LocaleSidKey: 'en_US',
    LanguageLocaleKey: 'en_US',
    EmailEncodingKey: 'UTF-8',
  });
  return { id: r.id!, username };
}

export async function pslId(conn: Connection): Promise<string> {
  const r = await conn.query<{ Id: string }>(
    "SELECT Id FROM PermissionSetLicense WHERE DeveloperName = 'SalesforceAPIIntegrationPsl'",
  );
  return r.records[0]!.Id;
}

/** Full least-privilege setup: perm set with Read Account (+ Industry FLS), user with PSL and assignment. */
export async function provisionUser(
  conn: Connection,
  psName = unique('PS_'),
): Promise<{ psId: string; psName: string; userId: string; username: string }> {
  const ps = await conn.sobject('PermissionSet').create({ Name: psName, Label: psName });
  await conn.sobject('ObjectPermissions').create({ ParentId: ps.id, SobjectType: 'Account', PermissionsRead: true });
  await conn
    .sobject('FieldPermissions')
    .create({ ParentId: ps.id, SobjectType: 'Account', Field: 'Account.Industry', PermissionsRead: true });
  const user = await createIntegrationUser(conn);
  await conn
    .sobject('PermissionSetLicenseAssign')
    .create({ AssigneeId: user.id, PermissionSetLicenseId: await pslId(conn) });
  await conn.sobject('PermissionSetAssignment').create({ AssigneeId: user.id, PermissionSetId: ps.id });
  return { psId: ps.id!, psName, userId: user.id, username: user.username };
}

/** Creates an External Client App (4 components) pre-authorizing `psName`, with the given certificate. */
export async function createEca(
  conn: Connection,
  name: string,
  certificatePem: string,
  psName: string,
  consumerKey?: string,
): Promise<string> {
  const results = await mdApi(conn).create('ExternalClientApplication', {
    fullName: name,
    contactEmail: 'admin@example.com',
    distributionState: 'Local',
    label: `${name} label`,
  });
  expectOk(results);
  expectOk(
    await mdApi(conn).create('ExtlClntAppOauthSettings', {
      fullName: `${name}_oauth`,
      commaSeparatedOauthScopes: 'Api,RefreshToken',
      externalClientApplication: name,
      label: `${name} oauth`,
    }),
  );
  expectOk(
    await mdApi(conn).create('ExtlClntAppGlobalOauthSettings', {
      fullName: `${name}_glbloauth`,
      callbackUrl: 'https://localhost/callback',
      certificate: certificatePem,
      ...(consumerKey ? { consumerKey } : {}),
      externalClientApplication: name,
      label: `${name} global`,
    }),
  );
  expectOk(
    await mdApi(conn).create('ExtlClntAppOauthConfigurablePolicies', {
      fullName: `${name}_plcy`,
      commaSeparatedPermissionSet: psName,
      externalClientApplication: name,
      ipRelaxationPolicyType: 'Enforce',
      label: `${name} policies`,
      permittedUsersPolicyType: 'AdminApprovedPreAuthorized',
    }),
  );
  const read = (await mdApi(conn).read('ExtlClntAppGlobalOauthSettings', `${name}_glbloauth`)) as {
    consumerKey: string;
  };
  return read.consumerKey;
}

export function expectOk(r: unknown): void {
  const list = Array.isArray(r) ? r : [r];
  for (const x of list as { success: boolean; errors?: unknown }[]) {
    if (!x.success) throw new Error(`metadata call failed: ${JSON.stringify(x)}`);
  }
}

export async function rawFetch(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; text: string; json: () => unknown; headers: Headers }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) as unknown, headers: res.headers };
}
