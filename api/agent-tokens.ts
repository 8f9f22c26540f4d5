import type { AgentTokenResponse, SalesforceClients } from '../salesforce/clients';
import type { ConnectionDetails } from '../workflows/definitions';
import { StepId } from '../workflows/definitions';

export type AgentTokenSource = Pick<SalesforceClients, 'requestAgentToken'>;

export interface AgentToken {
  accessToken: string;
  instanceUrl: string;
  expiresAt: number;
}

/** Renew this long before the assumed expiry, so that a token handed out is good for at least this long. */
const RENEWAL_MARGIN_MS = 60_000;

/**
 * Hands the agent short-lived Salesforce tokens for the integration user. The service signs the JWT assertion with the
 * connection's private key, which it reads from the secret store by reference and never returns. One token per
 * connection (org, app and user) is cached until shortly before it expires, and concurrent requests share one
 * sign-in, so that a busy agent does not hammer Salesforce's token endpoint.
 */
export class AgentTokenBroker {
  private readonly cache = new Map<string, AgentToken>();
  private readonly inFlight = new Map<string, Promise<AgentToken>>();

  constructor(
    private readonly source: AgentTokenSource,
    private readonly options: { ttlMs: number; now: () => number },
  ) {}

  async token(tenantId: string, details: ConnectionDetails): Promise<AgentToken> {
    const key = [tenantId, details.orgId, details.consumerKey, details.integrationUsername].join('|');
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt - RENEWAL_MARGIN_MS > this.options.now()) return cached;
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const request = this.requestToken(details).then(
      (token) => {
        this.forgetTenant(tenantId);
        this.cache.set(key, token);
        return token;
      },
      (err: unknown) => {
        this.cache.delete(key);
        throw err;
      },
    );
    this.inFlight.set(key, request);
    try {
      return await request;
    } finally {
      this.inFlight.delete(key);
    }
  }

  /** Drops a tenant's tokens, e.g. once its connection is gone or was recreated. */
  forgetTenant(tenantId: string): void {
    for (const key of this.cache.keys()) if (key.startsWith(`${tenantId}|`)) this.cache.delete(key);
  }

  private async requestToken(details: ConnectionDetails): Promise<AgentToken> {
    const issuedAt = this.options.now();
    const signIn = (privateKey: ConnectionDetails['privateKey']) =>
      this.source.requestAgentToken({
        loginUrl: details.loginUrl,
        consumerKey: details.consumerKey,
        username: details.integrationUsername,
        privateKey,
        step: StepId.agentToken,
      });
    let response: AgentTokenResponse;
    try {
      response = await signIn(details.privateKey);
    } catch (err) {
      // Mid-rotation the app may already hold the new certificate: the new key signs in, the old one no longer does.
      if (!details.nextPrivateKey) throw err;
      response = await signIn(details.nextPrivateKey);
    }
    return {
      accessToken: response.access_token,
      instanceUrl: response.instance_url,
      expiresAt: issuedAt + this.options.ttlMs,
    };
  }
}
