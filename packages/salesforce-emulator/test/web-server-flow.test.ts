/**
 * The web server flow with PKCE (help "OAuth 2.0 Web Server Flow for Web App Integration", "Proof Key for Code
 * Exchange (PKCE) Extension", "OAuth 2.0 Authorization Errors"), driven as a browser and jsforce's OAuth2 drive it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { OAuth2 } from 'jsforce';
import { AUTHORIZATION_CODE_TTL_MS, SERVICE_OAUTH_CLIENT, type CreatedOrg, type RunningEmulator } from '../src';
import { connect, failure, rawFetch, start } from './helpers';

const CALLBACK = 'https://service.example/v1/oauth/salesforce/callback';

let emu: RunningEmulator;
let org: CreatedOrg;
beforeAll(async () => {
  emu = await start({ serviceCallbackUrls: [CALLBACK] });
  org = await emu.control.createOrg({});
});
afterAll(async () => {
  await emu.close();
});

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeParams(challenge: string, extra: Record<string, string> = {}): URLSearchParams {
  return new URLSearchParams({
    response_type: 'code',
    client_id: SERVICE_OAUTH_CLIENT.clientId,
    redirect_uri: CALLBACK,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'state-123',
    scope: 'api refresh_token',
    ...extra,
  });
}

/** Posts the sign-in page's form as a browser does; answers the redirect's query, or the page. */
async function submit(
  params: URLSearchParams,
  form: { username?: string; password?: string; action: 'allow' | 'deny' },
): Promise<{ status: number; location?: URL; text: string }> {
  const body = new URLSearchParams(params);
  if (form.username !== undefined) body.set('username', form.username);
  if (form.password !== undefined) body.set('password', form.password);
  body.set('action', form.action);
  const res = await fetch(`${emu.loginUrl}/services/oauth2/authorize`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: body.toString(),
    redirect: 'manual',
  });
  const location = res.headers.get('location');
  return { status: res.status, text: await res.text(), ...(location ? { location: new URL(location) } : {}) };
}

async function codeFor(challenge: string): Promise<string> {
  const answer = await submit(authorizeParams(challenge), {
    username: org.adminUsername,
    password: org.adminPassword,
    action: 'allow',
  });
  expect(answer.status).toBe(302);
  return answer.location?.searchParams.get('code') ?? '';
}

function client(): OAuth2 {
  return new OAuth2({
    loginUrl: emu.loginUrl,
    clientId: SERVICE_OAUTH_CLIENT.clientId,
    clientSecret: SERVICE_OAUTH_CLIENT.clientSecret,
    redirectUri: CALLBACK,
  });
}

describe('the sign-in page', () => {
  it('shows a form with username, password, Allow and Deny for the registered callback', async () => {
    const res = await rawFetch(
      `${emu.loginUrl}/services/oauth2/authorize?${authorizeParams(pkce().challenge).toString()}`,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.text).toMatch(/name="username"/);
    expect(res.text).toMatch(/type="password"/);
    expect(res.text).toMatch(/value="allow"/);
    expect(res.text).toMatch(/value="deny"/);
    expect(res.text).toContain('value="state-123"');
  });

  it('shows redirect_uri_mismatch on the page, never redirecting, for a callback not registered', async () => {
    const params = authorizeParams(pkce().challenge, { redirect_uri: 'https://attacker.example/cb' });
    const res = await fetch(`${emu.loginUrl}/services/oauth2/authorize?${params.toString()}`, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('error=redirect_uri_mismatch');
  });

  it('shows invalid_client_id for an unknown client', async () => {
    const params = authorizeParams(pkce().challenge, { client_id: '3MVG9Unknown' });
    const res = await rawFetch(`${emu.loginUrl}/services/oauth2/authorize?${params.toString()}`);
    expect(res.status).toBe(400);
    expect(res.text).toContain('error=invalid_client_id');
  });

  it('redirects with error=invalid_request for a plain code challenge', async () => {
    const params = authorizeParams(pkce().verifier, { code_challenge_method: 'plain' });
    const res = await fetch(`${emu.loginUrl}/services/oauth2/authorize?${params.toString()}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') ?? '');
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('state')).toBe('state-123');
  });

  it('keeps the page, with a message, for a wrong password', async () => {
    const answer = await submit(authorizeParams(pkce().challenge), {
      username: org.adminUsername,
      password: 'wrong',
      action: 'allow',
    });
    expect(answer.status).toBe(200);
    expect(answer.location).toBeUndefined();
    expect(answer.text).toContain('Please check your username and password');
  });

  it('redirects with error=access_denied and the state when the admin denies', async () => {
    const answer = await submit(authorizeParams(pkce().challenge), { action: 'deny' });
    expect(answer.status).toBe(302);
    expect(`${answer.location?.origin}${answer.location?.pathname}`).toBe(CALLBACK);
    expect(answer.location?.searchParams.get('error')).toBe('access_denied');
    expect(answer.location?.searchParams.get('state')).toBe('state-123');
    expect(answer.location?.searchParams.get('code')).toBeNull();
  });
});

describe('the code exchange', () => {
  it('issues access and refresh tokens for a code and its verifier; the tokens work', async () => {
    const { verifier, challenge } = pkce();
    const code = await codeFor(challenge);
    const tokens = (await client().requestToken(code, { code_verifier: verifier })) as {
      access_token: string;
      refresh_token?: string;
      instance_url: string;
      id: string;
    };
    expect(tokens.instance_url).toBe(org.instanceUrl);
    expect(tokens.id).toBe(`${emu.loginUrl}/id/${org.orgId}/${org.adminUserId}`);
    expect(tokens.refresh_token).toMatch(/^5Aep861/);
    const result = await connect({ instanceUrl: tokens.instance_url, accessToken: tokens.access_token }).query(
      'SELECT Id FROM Account',
    );
    expect(result.totalSize).toBeGreaterThan(0);
    const refreshed = await client().refreshToken(tokens.refresh_token ?? '');
    expect(refreshed.access_token).toBeTruthy();
  });

  it('refuses a replayed code with invalid_grant', async () => {
    const { verifier, challenge } = pkce();
    const code = await codeFor(challenge);
    await client().requestToken(code, { code_verifier: verifier });
    const replay = await failure(client().requestToken(code, { code_verifier: verifier }));
    expect(replay.name).toBe('invalid_grant');
    expect(replay.message).toBe('invalid authorization code');
  });

  it('refuses a verifier that does not match the challenge, and a missing one', async () => {
    const first = await codeFor(pkce().challenge);
    const wrong = await failure(client().requestToken(first, { code_verifier: pkce().verifier }));
    expect(wrong).toMatchObject({ name: 'invalid_grant', message: 'invalid code verifier' });
    const second = await codeFor(pkce().challenge);
    const missing = await failure(client().requestToken(second));
    expect(missing).toMatchObject({ name: 'invalid_grant', message: 'invalid code verifier' });
  });

  it('refuses a code past its lifetime', async () => {
    const { verifier, challenge } = pkce();
    const code = await codeFor(challenge);
    await emu.control.advanceClock(AUTHORIZATION_CODE_TTL_MS + 1000);
    const expired = await failure(client().requestToken(code, { code_verifier: verifier }));
    expect(expired).toMatchObject({ name: 'invalid_grant', message: 'expired authorization code' });
  });

  it('refuses another redirect_uri and a wrong client secret', async () => {
    const { verifier, challenge } = pkce();
    const code = await codeFor(challenge);
    const other = new OAuth2({
      loginUrl: emu.loginUrl,
      clientId: SERVICE_OAUTH_CLIENT.clientId,
      clientSecret: SERVICE_OAUTH_CLIENT.clientSecret,
      redirectUri: 'https://service.example/other',
    });
    expect(await failure(other.requestToken(code, { code_verifier: verifier }))).toMatchObject({
      name: 'redirect_uri_mismatch',
    });
    const badSecret = new OAuth2({
      loginUrl: emu.loginUrl,
      clientId: SERVICE_OAUTH_CLIENT.clientId,
      clientSecret: 'nope',
      redirectUri: CALLBACK,
    });
    const code2 = await codeFor(challenge);
    expect(await failure(badSecret.requestToken(code2, { code_verifier: verifier }))).toMatchObject({
      name: 'invalid_client',
    });
  });

  it('takes the registered callbacks from the control API', async () => {
    const other = 'http://127.0.0.1:9/v1/oauth/salesforce/callback';
    await emu.control.setServiceCallbackUrls([CALLBACK, other]);
    const res = await rawFetch(
      `${emu.loginUrl}/services/oauth2/authorize?${authorizeParams(pkce().challenge, { redirect_uri: other }).toString()}`,
    );
    expect(res.status).toBe(200);
    await emu.control.setServiceCallbackUrls([CALLBACK]);
  });
});
