import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { OAuth2 } from 'jsforce';
import request from 'supertest';
import type { ApiClient } from '@agent-connections/api-client';
import { createApiClient } from '@agent-connections/api-client';
import type { CreatedOrg } from '@agent-connections/salesforce-emulator';
import { SERVICE_OAUTH_CLIENT } from '@agent-connections/salesforce-emulator';
import { SIGN_IN_STATE_TTL_MS } from '../../api/sign-in';
import type { AuditStore } from '../../audit/audit-store';
import { openEmbeddedAuditStore } from '../../audit/open-audit-store';
import { temporaryDir } from '../support/temp-dirs';
import type { ApiStack } from './api-stack';
import { AGENT_CONFIGURATION, ok, salesforceOf, startApiStack, uniqueTenant, waitForConnection } from './api-stack';
import { pollUntil } from '../support/poll';

const SIGN_IN = '/v1/tenants/{tenantId}/connections/salesforce/sign-in';
const CONNECTION = '/v1/tenants/{tenantId}/connections/{crm}';
const PROBLEM = /^application\/problem\+json/;

/**
 * Sign in with Salesforce on the real stack: the API, the worker, and the emulator's sign-in page, driven by HTTP as
 * a browser drives it (follow the authorize URL, post the form, follow the redirect to the callback, and back).
 */
describe('Sign in with Salesforce', () => {
  let stack: ApiStack;
  let server: http.Server;
  let baseUrl: string;
  let admin: ApiClient;
  let org: CreatedOrg;
  /** Moves the API's clock (states expire); the emulator's has its own. */
  let clockOffsetMs = 0;
  /** The audit trail names the admin who signed in, next to the API key. */
  let audit: AuditStore;

  beforeAll(async () => {
    audit = await openEmbeddedAuditStore(path.join(await temporaryDir('sign-in-audit-'), 'audit'));
    stack = await startApiStack({ audit });
    server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const callbackUrl = `${baseUrl}/v1/oauth/salesforce/callback`;
    server.on(
      'request',
      stack.appWith({
        salesforceOAuthClient: SERVICE_OAUTH_CLIENT,
        signInCallbackUrl: callbackUrl,
        now: () => Date.now() + clockOffsetMs,
      }),
    );
    await stack.emulator.control.setServiceCallbackUrls([callbackUrl]);
    org = await stack.emulator.control.createOrg({});
    admin = createApiClient({ baseUrl, apiKey: stack.keys.admin });
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await stack?.close();
    await audit?.close();
  });

  const start = async (tenant: string) =>
    ok(await admin.POST(SIGN_IN, { params: { path: { tenantId: tenant } }, body: { loginUrl: org.loginUrl } }));
  const status = async (tenant: string) => ok(await admin.GET(SIGN_IN, { params: { path: { tenantId: tenant } } }));

  /** The emulator's page, filled in and submitted as the admin would: answers where Salesforce sends the browser. */
  async function submitSignIn(authorizeUrl: string, action: 'allow' | 'deny'): Promise<URL> {
    const page = await fetch(authorizeUrl);
    expect(page.status).toBe(200);
    const html = await page.text();
    const form = new URLSearchParams();
    for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
      form.set(name ?? '', (value ?? '').replace(/&amp;/g, '&').replace(/&quot;/g, '"'));
    }
    form.set('username', org.adminUsername);
    form.set('password', org.adminPassword);
    form.set('action', action);
    const answer = await fetch(new URL(authorizeUrl).origin + new URL(authorizeUrl).pathname, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      redirect: 'manual',
    });
    expect(answer.status).toBe(302);
    return new URL(answer.headers.get('location') ?? '');
  }

  /** The browser arriving at the callback: answers the status and where the API sends it next. */
  async function arrive(callback: URL | string): Promise<{ status: number; location: string | null; body: unknown }> {
    const url = typeof callback === 'string' ? callback : `${callback.pathname}${callback.search}`;
    const res = await fetch(`${baseUrl}${url}`, { redirect: 'manual' });
    const text = await res.text();
    return {
      status: res.status,
      location: res.headers.get('location'),
      body: res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as unknown) : text,
    };
  }

  /** Polls a condition the workflow makes true after it answers (forgetting credentials follows an operation). */
  async function waitFor(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    await pollUntil(condition, (holds) => holds, { what: 'the condition', timeoutMs, intervalMs: 200 });
  }

  it('signs in through the sign-in page, stores the tokens under a reference; enable, then reconnect after another sign-in, succeed with it', async () => {
    const tenant = uniqueTenant('signin');
    expect(await status(tenant)).toEqual({ signedIn: false });
    const started = await start(tenant);
    const authorize = new URL(started.authorizeUrl);
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${org.loginUrl}/services/oauth2/authorize`);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('state')).toMatch(new RegExp(`^${tenant}\\.[A-Za-z0-9_-]{43}$`));
    expect(authorize.searchParams.get('client_id')).toBe(SERVICE_OAUTH_CLIENT.clientId);

    const callback = await submitSignIn(started.authorizeUrl, 'allow');
    expect(`${callback.origin}${callback.pathname}`).toBe(`${baseUrl}/v1/oauth/salesforce/callback`);
    const back = await arrive(callback);
    expect(back.status).toBe(303);
    expect(back.location).toBe(`/admin/?tenant=${tenant}&signIn=ok`);

    const signedIn = await status(tenant);
    expect(signedIn).toMatchObject({
      signedIn: true,
      username: org.adminUsername,
      orgId: org.orgId,
      userId: org.adminUserId,
      instanceUrl: org.instanceUrl,
      loginUrl: org.loginUrl,
    });
    const secretRef = signedIn.adminCredentials?.secretRef ?? '';
    expect(secretRef).toMatch(new RegExp(`^tenants/${tenant}/admin/sign-in-`));
    // The page sees who signed in and the reference; the tokens are in the store only.
    expect(Object.keys(signedIn)).not.toEqual(expect.arrayContaining(['accessToken']));
    const stored = JSON.parse((await stack.secrets.get({ secretRef })) ?? '{}') as Record<string, string>;
    expect(stored.accessToken).toMatch(/^00D/);
    expect(stored.refreshToken).toMatch(/^5Aep/);
    expect(JSON.stringify(signedIn)).not.toContain(stored.accessToken);

    // The same callback again: the state is used up, nothing changes.
    const replay = await arrive(callback);
    expect(replay.status).toBe(400);
    expect(replay.body).toMatchObject({
      type: expect.stringMatching(/sign-in-state-unknown$/),
      errors: [{ field: 'query.state' }],
    });
    expect(await status(tenant)).toEqual(signedIn);

    // The sign-in's own record is not credentials.
    const wrongRef = await admin.POST(`${CONNECTION}/enable`, {
      params: { path: salesforceOf(tenant) },
      body: {
        loginUrl: org.loginUrl,
        adminCredentials: { secretRef: `tenants/${tenant}/sign-in/current` },
        agentConfiguration: AGENT_CONFIGURATION,
      },
    });
    expect(wrongRef.response.status).toBe(422);

    const enabled = await admin.POST(`${CONNECTION}/enable`, {
      params: { path: salesforceOf(tenant) },
      body: {
        loginUrl: signedIn.loginUrl ?? '',
        instanceUrl: signedIn.instanceUrl ?? '',
        adminCredentials: { secretRef },
        agentConfiguration: AGENT_CONFIGURATION,
      },
    });
    expect(enabled.response.status).toBe(202);
    const connection = await waitForConnection(
      async () => ok(await admin.GET(CONNECTION, { params: { path: salesforceOf(tenant) } })),
      (c) => c.status === 'enabled' || c.status === 'error',
    );
    expect(connection.status).toBe('enabled');
    expect(connection.details?.orgId).toBe(org.orgId);
    const enableId = enabled.data && 'operationId' in enabled.data ? enabled.data.operationId : undefined;
    expect(enableId).toBeDefined();
    await waitFor(async () =>
      (await audit.list(tenant, { limit: 10 })).events.some((e) => e.operation.id === enableId),
    );
    expect((await audit.list(tenant, { limit: 10 })).events.find((e) => e.operation.id === enableId)?.actor).toEqual({
      apiKeyId: 'backend',
      salesforceUsername: org.adminUsername,
    });

    // Sign in with another admin (here the same one again), then reconnect with the new reference.
    const again = await arrive(await submitSignIn((await start(tenant)).authorizeUrl, 'allow'));
    expect(again.location).toBe(`/admin/?tenant=${tenant}&signIn=ok`);
    const newer = await status(tenant);
    expect(newer.adminCredentials?.secretRef).not.toBe(secretRef);
    const reconnected = await admin.POST(`${CONNECTION}/reconnect`, {
      params: { path: salesforceOf(tenant) },
      body: {
        loginUrl: newer.loginUrl ?? '',
        instanceUrl: newer.instanceUrl ?? '',
        adminCredentials: { secretRef: newer.adminCredentials?.secretRef ?? '' },
      },
    });
    expect(reconnected.response.status).toBe(202);
    const after = await waitForConnection(
      async () => ok(await admin.GET(CONNECTION, { params: { path: salesforceOf(tenant) } })),
      (c) => !c.currentOperation && (c.status === 'enabled' || c.status === 'error'),
    );
    expect(after.status).toBe('enabled');
    expect(after.details?.createdAt).not.toBe(connection.details?.createdAt);

    // The service stored both sign-ins' tokens, so it forgets them: the superseded set once the reconnect used the
    // newer one, and the newer set when access is turned off (nobody is signed in any more).
    await waitFor(async () => (await stack.secrets.get({ secretRef })) === undefined);
    const disabled = await admin.POST(`${CONNECTION}/disable`, { params: { path: salesforceOf(tenant) }, body: {} });
    expect(disabled.response.status).toBe(202);
    await waitForConnection(
      async () => ok(await admin.GET(CONNECTION, { params: { path: salesforceOf(tenant) } })),
      (c) => !c.currentOperation && c.status === 'disabled',
    );
    await waitFor(
      async () => (await stack.secrets.get({ secretRef: newer.adminCredentials?.secretRef ?? '' })) === undefined,
    );
    expect(await status(tenant)).toEqual({ signedIn: false });
  });

  it('answers a state it did not give, or one that expired, with a 400 naming query.state, and stores nothing', async () => {
    const tenant = uniqueTenant('signin');
    const storedBefore = await stack.secrets.refs();
    const unknown = await arrive(`/v1/oauth/salesforce/callback?state=${tenant}.${'A'.repeat(43)}&code=aPrx123`);
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ errors: [{ field: 'query.state' }] });
    const malformed = await request(server).get('/v1/oauth/salesforce/callback?state=nope&code=x').expect(400);
    expect(malformed.headers['content-type']).toMatch(PROBLEM);
    expect(malformed.body.errors).toEqual([expect.objectContaining({ field: 'query.state' })]);
    await request(server).get('/v1/oauth/salesforce/callback?code=x').expect(400);
    expect(await stack.secrets.refs()).toEqual(storedBefore);

    const started = await start(tenant);
    const callback = await submitSignIn(started.authorizeUrl, 'allow');
    clockOffsetMs = SIGN_IN_STATE_TTL_MS + 1000;
    try {
      const expired = await arrive(callback);
      expect(expired.status).toBe(400);
      expect(expired.body).toMatchObject({ type: expect.stringMatching(/sign-in-state-unknown$/) });
    } finally {
      clockOffsetMs = 0;
    }
    expect(await status(tenant)).toEqual({ signedIn: false });
    // The expired state went with its callback; no token was stored.
    expect((await stack.secrets.refs()).filter((ref) => ref.startsWith(`tenants/${tenant}/`))).toEqual([]);
  });

  it('sends the admin back to the page with access_denied when the admin denies, storing nothing', async () => {
    const tenant = uniqueTenant('signin');
    const started = await start(tenant);
    const callback = await submitSignIn(started.authorizeUrl, 'deny');
    expect(callback.searchParams.get('error')).toBe('access_denied');
    const back = await arrive(callback);
    expect(back.status).toBe(303);
    expect(back.location).toBe(`/admin/?tenant=${tenant}&signInError=access_denied`);
    expect(await status(tenant)).toEqual({ signedIn: false });
  });

  it('cannot use a code without the verifier: the emulator refuses another verifier, and the spent code is refused', async () => {
    const tenant = uniqueTenant('signin');
    const started = await start(tenant);
    const callback = await submitSignIn(started.authorizeUrl, 'allow');
    const code = callback.searchParams.get('code') ?? '';
    // Someone who intercepted the code, without the verifier the service kept.
    const thief = new OAuth2({
      loginUrl: org.loginUrl,
      clientId: SERVICE_OAUTH_CLIENT.clientId,
      clientSecret: SERVICE_OAUTH_CLIENT.clientSecret,
      redirectUri: `${baseUrl}/v1/oauth/salesforce/callback`,
    });
    await expect(thief.requestToken(code, { code_verifier: 'x'.repeat(64) })).rejects.toMatchObject({
      name: 'invalid_grant',
      message: 'invalid code verifier',
    });
    // The code is spent: the real callback ends on the page with Salesforce's error, and nothing is stored.
    const back = await arrive(callback);
    expect(back.status).toBe(303);
    expect(back.location).toBe(`/admin/?tenant=${tenant}&signInError=invalid_grant`);
    expect(await status(tenant)).toEqual({ signedIn: false });
  });

  it('validates the start: an https login URL (http on loopback), the admin scope, a configured client', async () => {
    const tenant = uniqueTenant('signin');
    const path = `/v1/tenants/${tenant}/connections/salesforce/sign-in`;
    const bad = await request(server)
      .post(path)
      .set('Authorization', `Bearer ${stack.keys.admin}`)
      .send({ loginUrl: 'http://login.salesforce.com' })
      .expect(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'body.loginUrl' })]);
    await request(server)
      .post(path)
      .set('Authorization', `Bearer ${stack.keys.read}`)
      .send({ loginUrl: org.loginUrl })
      .expect(403);
    await request(server).get(path).set('Authorization', `Bearer ${stack.keys.read}`).expect(200, { signedIn: false });
    await request(server).post(path).send({ loginUrl: org.loginUrl }).expect(401);
    const unconfigured = await request(stack.app)
      .post(path)
      .set('Authorization', `Bearer ${stack.keys.admin}`)
      .send({ loginUrl: org.loginUrl })
      .expect(409);
    expect(unconfigured.body.type).toMatch(/sign-in-unavailable$/);
    const started = await request(server)
      .post(path)
      .set('Authorization', `Bearer ${stack.keys.admin}`)
      .send({ loginUrl: 'https://login.salesforce.com' })
      .expect(200);
    expect(started.headers['cache-control']).toBe('no-store');
    expect(started.body.authorizeUrl).toMatch(/^https:\/\/login\.salesforce\.com\/services\/oauth2\/authorize\?/);
  });
});
