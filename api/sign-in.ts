import { randomBytes, randomUUID } from 'node:crypto';
import { Connection, OAuth2 } from 'jsforce';
import type { AdminCredentials } from '../salesforce/clients';
import type { SecretStore } from '../secrets/secret-store';
import type { SecretRef } from '../workflows/definitions';
import type { SignInCallbackQuery, SignInStarted, SignInStatus } from './sign-in-schemas';

/** The path of the callback on the API; its full URL is what to register on the OAuth client in Salesforce. */
export const SIGN_IN_CALLBACK_PATH = '/v1/oauth/salesforce/callback';

/** How long an admin has to sign in once the page started it. */
export const SIGN_IN_STATE_TTL_MS = 10 * 60_000;

/** The scopes the admin grants: the APIs, and a refresh token so that the service keeps access while it works. */
const SCOPES = 'api refresh_token';

export interface SignInOptions {
  /** The service's own OAuth client (SALESFORCE_CLIENT_ID/SECRET). */
  oauthClient: { clientId: string; clientSecret: string };
  /** The callback's full URL, `<API_PUBLIC_URL>/v1/oauth/salesforce/callback`, registered on the client. */
  callbackUrl: string;
  apiVersion: string;
  now: () => number;
}

/** What the store keeps between the start and the callback: the PKCE verifier never leaves the service. */
interface PendingSignIn {
  tenantId: string;
  loginUrl: string;
  codeVerifier: string;
  expiresAt: number;
}

/** Who signed in: the status the page shows, with the reference of the tokens. */
interface SignedIn {
  secretRef: string;
  username: string;
  displayName?: string;
  orgId: string;
  userId: string;
  loginUrl: string;
  instanceUrl: string;
  signedInAt: string;
}

/** How a callback ended, for the redirect back to the admin page. */
export type SignInOutcome =
  | { kind: 'signed-in'; tenantId: string }
  /** Salesforce's error (access_denied…), or the exchange's (invalid_grant…): an OAuth error code. */
  | { kind: 'refused'; tenantId: string; error: string };

/** Why a callback cannot even be tied to a sign-in: a 400 for the caller, nothing stored. */
export class UnknownSignInState extends Error {
  constructor() {
    super('unknown, expired or already used; start the sign-in again from the admin page');
    this.name = 'UnknownSignInState';
  }
}

const stateRef = (tenantId: string, id: string): SecretRef => ({
  secretRef: `tenants/${tenantId}/sign-in/states/${id}`,
});
const signInCredentialsPrefix = (tenantId: string): string => `tenants/${tenantId}/admin/sign-in-`;

/** Tokens stored by a sign-in belong to the service, which forgets them with the connection. */
export const isSignInCredentials = (tenantId: string, secretRef: string): boolean =>
  secretRef.startsWith(signInCredentialsPrefix(tenantId));

const currentRef = (tenantId: string): SecretRef => ({ secretRef: `tenants/${tenantId}/sign-in/current` });

/**
 * The Salesforce username of the admin whose sign-in stored these credentials, if it is the tenant's current sign-in
 * (the audit trail names who acted in Salesforce); never the tokens.
 */
export async function signedInUsername(
  secrets: SecretStore,
  tenantId: string,
  secretRef: string,
): Promise<string | undefined> {
  if (!isSignInCredentials(tenantId, secretRef)) return undefined;
  const raw = await secrets.get(currentRef(tenantId));
  const signedIn = raw ? (JSON.parse(raw) as SignedIn) : undefined;
  return signedIn?.secretRef === secretRef ? signedIn.username : undefined;
}

/** An OAuth error code as it may travel in the admin page's URL. */
function errorCode(value: string | undefined): string {
  return value && /^[A-Za-z0-9_.-]{1,64}$/.test(value) ? value : 'sign_in_failed';
}

interface Identity {
  username: string;
  display_name?: string;
  organization_id: string;
  user_id: string;
}

/**
 * Sign in with Salesforce: the OAuth 2.0 web server flow with PKCE (S256) and `state`, through jsforce's OAuth2 (the
 * library the service uses for every Salesforce call; it makes the verifier and its challenge). The state binds the
 * callback to the tenant and to a verifier kept in the secret store (shared by every API replica; 10 minutes; deleted
 * by the callback that uses it, so a replay finds nothing). The callback stores the tokens under a reference of the
 * tenant and records who signed in; the page gets the reference only.
 */
export class SalesforceSignIn {
  constructor(
    private readonly secrets: SecretStore,
    private readonly options: SignInOptions,
  ) {}

  private oauth2(loginUrl: string, useVerifier: boolean): OAuth2 {
    return new OAuth2({
      loginUrl,
      clientId: this.options.oauthClient.clientId,
      clientSecret: this.options.oauthClient.clientSecret,
      redirectUri: this.options.callbackUrl,
      useVerifier,
    });
  }

  /** The authorize URL for the admin's browser; the verifier stays here, under the state's reference. */
  async start(tenantId: string, loginUrl: string): Promise<SignInStarted> {
    const oauth2 = this.oauth2(loginUrl, true);
    const codeVerifier = oauth2.codeVerifier;
    if (!codeVerifier) throw new Error('jsforce made no PKCE code verifier');
    const id = randomBytes(32).toString('base64url');
    const expiresAt = this.options.now() + SIGN_IN_STATE_TTL_MS;
    const pending: PendingSignIn = { tenantId, loginUrl, codeVerifier, expiresAt };
    await this.secrets.put(stateRef(tenantId, id).secretRef, JSON.stringify(pending));
    const authorizeUrl = oauth2.getAuthorizationUrl({
      scope: SCOPES,
      state: `${tenantId}.${id}`,
      code_challenge_method: 'S256',
      prompt: 'login consent',
    });
    return { authorizeUrl, expiresAt: new Date(expiresAt).toISOString() };
  }

  /**
   * The callback: takes the state (once), then exchanges the code with the verifier and stores the tokens. A state
   * that is not one of ours, expired or already used throws UnknownSignInState before anything is stored.
   */
  async complete(query: SignInCallbackQuery): Promise<SignInOutcome> {
    const pending = await this.take(query.state);
    const { tenantId } = pending;
    if (query.error) return { kind: 'refused', tenantId, error: errorCode(query.error) };
    if (!query.code) return { kind: 'refused', tenantId, error: 'invalid_request' };
    const oauth2 = this.oauth2(pending.loginUrl, false);
    let tokens: Awaited<ReturnType<OAuth2['requestToken']>>;
    try {
      tokens = await oauth2.requestToken(query.code, { code_verifier: pending.codeVerifier });
    } catch (err) {
      // jsforce names the error after Salesforce's code (invalid_grant…); anything else did not reach an answer.
      const name = err instanceof Error ? err.name : '';
      return { kind: 'refused', tenantId, error: /^[a-z_]+$/.test(name) ? name : 'salesforce_unreachable' };
    }
    let identity: Identity;
    try {
      const connection = new Connection({
        version: this.options.apiVersion,
        instanceUrl: tokens.instance_url,
        accessToken: tokens.access_token,
      });
      identity = await connection.request<Identity>(tokens.id);
    } catch {
      return { kind: 'refused', tenantId, error: 'identity_unavailable' };
    }
    const credentials: AdminCredentials = {
      accessToken: tokens.access_token,
      ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
    };
    const ref = await this.secrets.put(
      `${signInCredentialsPrefix(tenantId)}${randomUUID()}`,
      JSON.stringify(credentials),
    );
    const signedIn: SignedIn = {
      secretRef: ref.secretRef,
      username: identity.username,
      ...(identity.display_name ? { displayName: identity.display_name } : {}),
      orgId: identity.organization_id,
      userId: identity.user_id,
      loginUrl: pending.loginUrl,
      instanceUrl: tokens.instance_url,
      signedInAt: new Date(this.options.now()).toISOString(),
    };
    await this.secrets.put(currentRef(tenantId).secretRef, JSON.stringify(signedIn));
    return { kind: 'signed-in', tenantId };
  }

  /** Who signed in last for the tenant, never the tokens. */
  async status(tenantId: string): Promise<SignInStatus> {
    const raw = await this.secrets.get(currentRef(tenantId));
    if (!raw) return { signedIn: false };
    const { secretRef, ...who } = JSON.parse(raw) as SignedIn;
    // Tokens removed since (disable removes the credentials it was given): nobody is signed in any more.
    if ((await this.secrets.get({ secretRef })) === undefined) return { signedIn: false };
    return { signedIn: true, ...who, adminCredentials: { secretRef } };
  }

  /** The pending sign-in of a state, removed on the way: a state works once. */
  private async take(state: string): Promise<PendingSignIn> {
    const dot = state.indexOf('.');
    const ref = stateRef(state.slice(0, dot), state.slice(dot + 1));
    const raw = await this.secrets.get(ref);
    if (!raw) throw new UnknownSignInState();
    await this.secrets.delete(ref);
    const pending = JSON.parse(raw) as PendingSignIn;
    if (pending.expiresAt < this.options.now()) throw new UnknownSignInState();
    return pending;
  }
}
