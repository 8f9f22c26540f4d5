import { Connection, OAuth2 } from 'jsforce';
import { importPKCS8, SignJWT } from 'jose';
import type { SalesforceTarget, SecretRef, StepId } from '../workflows/definitions';
import type { SecretStore } from '../secrets/secret-store';
import { salesforceFailure } from './errors';

/** What the secret store holds for an admin: the OAuth tokens from the admin's sign-in. */
export interface AdminCredentials {
  accessToken: string;
  refreshToken?: string;
}

export interface SalesforceClientOptions {
  apiVersion: string;
  /** The service's own OAuth client, needed to refresh an admin's expired access token. */
  oauthClient?: { clientId: string; clientSecret: string };
  /** Called on every jsforce Connection and OAuth2 client built here (the worker counts Salesforce calls with it). */
  instrument?: <T extends object>(client: T) => T;
}

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** Salesforce accepts assertions that expire within a few minutes; 3 is what its own examples use. */
const ASSERTION_LIFETIME_SECONDS = 180;

/** Signs the JWT bearer assertion with which the integration user signs in (RS256, as Salesforce requires). */
export async function signJwtAssertion(input: {
  privateKeyPem: string;
  consumerKey: string;
  username: string;
  audience: string;
}): Promise<string> {
  const key = await importPKCS8(input.privateKeyPem, 'RS256');
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(input.consumerKey)
    .setSubject(input.username)
    .setAudience(input.audience)
    .setExpirationTime(Math.floor(Date.now() / 1000) + ASSERTION_LIFETIME_SECONDS)
    .sign(key);
}

export interface AgentTokenResponse {
  access_token: string;
  instance_url: string;
  id: string;
  token_type: string;
  issued_at?: string;
}

/**
 * Builds jsforce connections. Activities get this factory injected and never construct clients themselves, so that
 * tests and the worker share one way to reach Salesforce (or the emulator, which is Salesforce at another URL).
 */
export class SalesforceClients {
  constructor(
    private readonly secrets: SecretStore,
    private readonly options: SalesforceClientOptions,
  ) {}

  get apiVersion(): string {
    return this.options.apiVersion;
  }

  /** A connection as the org's admin; an expired token is refreshed once and the new one stored. */
  async admin(target: SalesforceTarget, step: StepId): Promise<Connection> {
    const credentials = await this.readAdminCredentials(target.adminCredentials, step);
    return this.adminWith(target, credentials, (accessToken) => {
      void this.secrets.put(
        target.adminCredentials.secretRef,
        JSON.stringify({ ...credentials, accessToken } satisfies AdminCredentials),
      );
    });
  }

  /**
   * A connection as the org's admin with credentials in hand (a request's tokens, which are not stored); an expired
   * token is refreshed once, and `onRefresh` hears of the new one.
   */
  adminWith(
    org: { loginUrl: string; instanceUrl: string },
    credentials: AdminCredentials,
    onRefresh?: (accessToken: string) => void,
  ): Connection {
    const oauthClient = this.options.oauthClient;
    const canRefresh = Boolean(credentials.refreshToken && oauthClient);
    const connection = this.instrumented(
      new Connection({
        version: this.options.apiVersion,
        instanceUrl: org.instanceUrl,
        accessToken: credentials.accessToken,
        ...(canRefresh && oauthClient
          ? {
              refreshToken: credentials.refreshToken,
              oauth2: this.instrumented(
                new OAuth2({
                  loginUrl: org.loginUrl,
                  clientId: oauthClient.clientId,
                  clientSecret: oauthClient.clientSecret,
                }),
              ),
            }
          : {}),
      }),
    );
    if (canRefresh && onRefresh) connection.on('refresh', (accessToken: string) => onRefresh(accessToken));
    return connection;
  }

  /** Requests an access token for the integration user by the JWT bearer flow. */
  async requestAgentToken(input: {
    loginUrl: string;
    consumerKey: string;
    username: string;
    privateKey: SecretRef;
    step: StepId;
  }): Promise<AgentTokenResponse> {
    const privateKeyPem = await this.secrets.get(input.privateKey);
    if (!privateKeyPem) {
      throw salesforceFailure(
        'SIGNING_KEY_MISSING',
        'the connection’s private key is not in the secret store',
        input.step,
        {
          transient: false,
        },
      );
    }
    const { privateKeyPem: pem } = JSON.parse(privateKeyPem) as { privateKeyPem: string };
    const assertion = await signJwtAssertion({
      privateKeyPem: pem,
      consumerKey: input.consumerKey,
      username: input.username,
      audience: input.loginUrl,
    });
    const oauth2 = this.instrumented(new OAuth2({ loginUrl: input.loginUrl }));
    return await oauth2.requestToken({ grant_type: JWT_BEARER_GRANT, assertion });
  }

  /** A connection as the integration user, from a token of `requestAgentToken`. */
  agentConnection(token: AgentTokenResponse): Connection {
    return this.instrumented(
      new Connection({
        version: this.options.apiVersion,
        instanceUrl: token.instance_url,
        accessToken: token.access_token,
      }),
    );
  }

  private instrumented<T extends object>(client: T): T {
    return this.options.instrument ? this.options.instrument(client) : client;
  }

  private async readAdminCredentials(ref: SecretRef, step: StepId): Promise<AdminCredentials> {
    const raw = await this.secrets.get(ref);
    if (!raw) {
      throw salesforceFailure(
        'ADMIN_CREDENTIALS_MISSING',
        'the admin’s Salesforce credentials are not in the secret store',
        step,
        {
          transient: false,
        },
      );
    }
    return JSON.parse(raw) as AdminCredentials;
  }
}
