/**
 * `/services/oauth2/authorize`: the web server flow's sign-in and consent page (help "OAuth 2.0 Web Server Flow for
 * Web App Integration"). GET shows the page; its form posts back here with the org admin's username and password and
 * the admin's choice, Allow or Deny. Allow redirects to the client's callback with a single-use `code` (and the
 * `state` as sent); Deny with `error=access_denied`. A client or callback URL the emulator does not know is an error
 * page, never a redirect (help "OAuth 2.0 Authorization Errors"; RFC 6749 §4.1.2.1).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { SERVICE_OAUTH_CLIENT } from './oauth';
import type { SfResponse } from './rest';
import { token, type Org, type World } from './state';

/** How long an authorization code can be exchanged (Salesforce: 15 minutes). */
export const AUTHORIZATION_CODE_TTL_MS = 15 * 60_000;

/** RFC 7636 §4.2: BASE64URL(SHA256(verifier)), 43 characters. */
const CHALLENGE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface AuthorizeEnv {
  world: World;
  /** The org of the URL (`/orgs/<key>/…`, My Domain): only its users can sign in there. */
  org?: Org;
}

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

function page(status: number, title: string, body: string): SfResponse {
  const html =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>` +
    '<meta name="viewport" content="width=device-width, initial-scale=1"></head>' +
    `<body style="font-family:sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem">${body}</body></html>`;
  return {
    status,
    headers: { 'Cache-Control': 'no-store', 'X-Frame-Options': 'DENY' },
    raw: { contentType: 'text/html;charset=UTF-8', text: html },
  };
}

/** An error shown on the page itself: the client or the callback URL is not one the request may be sent back to. */
function errorPage(error: string, description: string): SfResponse {
  return page(
    400,
    'Authorization error',
    `<h1>Authorization error</h1><p id="error" data-error="${escape(error)}">error=${escape(error)}</p>` +
      `<p id="error-description">${escape(description)}</p>`,
  );
}

function redirect(redirectUri: string, params: Record<string, string | undefined>): SfResponse {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return { status: 302, headers: { Location: url.toString(), 'Cache-Control': 'no-store' }, body: undefined };
}

interface AuthorizeRequest {
  clientId: string;
  redirectUri: string;
  state: string | undefined;
  codeChallenge: string | undefined;
  codeChallengeMethod: string | undefined;
  scope: string;
  responseType: string;
}

function readRequest(params: URLSearchParams): AuthorizeRequest {
  const get = (k: string): string | undefined => params.get(k) ?? undefined;
  return {
    clientId: get('client_id') ?? '',
    redirectUri: get('redirect_uri') ?? '',
    state: get('state'),
    codeChallenge: get('code_challenge'),
    codeChallengeMethod: get('code_challenge_method'),
    scope: get('scope') ?? '',
    responseType: get('response_type') ?? '',
  };
}

/** The checks before any redirect: the client, then its callback URL. Then the request's own parameters. */
function check(env: AuthorizeEnv, r: AuthorizeRequest): SfResponse | undefined {
  if (r.clientId !== SERVICE_OAUTH_CLIENT.clientId) return errorPage('invalid_client_id', 'client identifier invalid');
  if (!r.redirectUri) return errorPage('redirect_uri_mismatch', 'redirect_uri must match configuration');
  if (!env.world.serviceCallbackUrls.includes(r.redirectUri)) {
    return errorPage('redirect_uri_mismatch', 'redirect_uri must match configuration');
  }
  const fail = (error: string, description: string) =>
    redirect(r.redirectUri, { error, error_description: description, state: r.state });
  if (r.responseType !== 'code') return fail('unsupported_response_type', 'response type not supported');
  // Salesforce's code_challenge is the SHA-256 hash of the verifier (S256); "plain" is not offered.
  if (r.codeChallengeMethod !== undefined && r.codeChallengeMethod !== 'S256') {
    return fail('invalid_request', 'code_challenge_method must be S256');
  }
  if (r.codeChallenge !== undefined && !CHALLENGE_PATTERN.test(r.codeChallenge)) {
    return fail('invalid_request', 'invalid code_challenge');
  }
  return undefined;
}

const HIDDEN = [
  'response_type',
  'client_id',
  'redirect_uri',
  'state',
  'code_challenge',
  'code_challenge_method',
  'scope',
];

function signInPage(params: URLSearchParams, action: string, problem?: string): SfResponse {
  const hidden = HIDDEN.filter((k) => params.get(k) !== null)
    .map((k) => `<input type="hidden" name="${k}" value="${escape(params.get(k) ?? '')}">`)
    .join('');
  return page(
    200,
    'Log In | Salesforce (emulator)',
    '<h1>Salesforce emulator</h1>' +
      '<p>Sign in as the org’s admin to let <strong>agent-connections</strong> access the org ' +
      `(${escape(params.get('scope') || 'api refresh_token')}).</p>` +
      (problem ? `<p id="login-error" role="alert" style="color:#b00">${escape(problem)}</p>` : '') +
      `<form method="post" action="${escape(action)}">${hidden}` +
      '<p><label for="username">Username</label><br><input id="username" name="username" autocomplete="username" required></p>' +
      '<p><label for="password">Password</label><br><input id="password" name="password" type="password" autocomplete="current-password" required></p>' +
      '<p><button id="allow" name="action" value="allow" type="submit">Allow</button> ' +
      '<button id="deny" name="action" value="deny" type="submit" formnovalidate>Deny</button></p>' +
      '</form>',
  );
}

function passwordMatches(expected: string, given: string): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return expected !== '' && timingSafeEqual(a, b);
}

/** GET shows the sign-in page; POST (the page's form) signs in and redirects with a code, or with access_denied. */
export function authorizeEndpoint(
  env: AuthorizeEnv,
  method: string,
  path: string,
  rawBody: string,
  query: URLSearchParams,
): SfResponse {
  if (method === 'GET' || method === 'HEAD') {
    const r = readRequest(query);
    return check(env, r) ?? signInPage(query, path);
  }
  if (method !== 'POST') return errorPage('invalid_request', 'must use HTTP GET or POST');
  const form = new URLSearchParams(rawBody);
  const r = readRequest(form);
  const refused = check(env, r);
  if (refused) return refused;
  if (form.get('action') === 'deny') {
    return redirect(r.redirectUri, {
      error: 'access_denied',
      error_description: 'end-user denied authorization',
      state: r.state,
    });
  }
  const username = form.get('username') ?? '';
  const hit = env.world.findUsername(username);
  const org = hit?.org;
  const signedIn =
    hit &&
    org &&
    (!env.org || env.org === org) &&
    hit.rec.Id === org.adminUserId &&
    hit.rec.IsActive === true &&
    passwordMatches(org.adminPassword, form.get('password') ?? '');
  if (!signedIn || !org) {
    return signInPage(
      form,
      path,
      'Please check your username and password. If you still can’t log in, contact your Salesforce administrator.',
    );
  }
  const code = `aPrx${token(80)}`;
  env.world.authorizationCodes.set(code, {
    orgKey: org.key,
    userId: org.adminUserId,
    clientId: r.clientId,
    redirectUri: r.redirectUri,
    ...(r.codeChallenge ? { codeChallenge: r.codeChallenge } : {}),
    scope: r.scope,
    expiresAt: env.world.clock.now() + AUTHORIZATION_CODE_TTL_MS,
  });
  return redirect(r.redirectUri, { code, state: r.state });
}
