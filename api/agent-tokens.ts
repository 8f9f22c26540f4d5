import type { AgentTokenResponse, SalesforceClients } from '../salesforce/clients';
import type { ConnectionDetails } from '../workflows/definitions';
import { StepId } from '../workflows/definitions';
import { CACHED_ENTRIES } from './bounded-cache';

export type AgentTokenSource = Pick<SalesforceClients, 'requestAgentToken'>;

export interface AgentToken {
  accessToken: string;
  instanceUrl: string;
  expiresAt: number;
}

/** A token is handed out only while it is good for at least this long; past it, a request waits for a new one. */
const RENEWAL_MARGIN_MS = 60_000;

/**
 * How long the broker answers from a connection's state as it last read it (the connection workflow's memo): most
 * token requests then cost no round trip to Temporal. A connection disabled meanwhile stops getting tokens within
 * this time; a token handed out in between is of no use, since disable deactivates the integration user first.
 */
const STATE_TTL_MS = 5_000;

/**
 * Past this age a request still gets the cached state at once and starts its next read in the background (one at a
 * time), which replaces it once read: an agent in steady use never waits for Temporal, and what it is answered from
 * is never older than STATE_TTL_MS. Only states in use are read again: an idle tenant costs no reads.
 */
const STATE_REFRESH_AFTER_MS = 2_500;

interface CachedState {
  /** When its read started: its age counts from then. */
  at: number;
  read: Promise<unknown>;
  /** A background read of its successor is under way. */
  refreshing?: boolean;
}

/** After a refresh ahead failed, the next one is tried no sooner than this (the cached token is still good). */
const REFRESH_RETRY_MS = 10_000;

interface CachedToken {
  token: AgentToken;
  /** From this time on, a request that gets this token also starts its replacement in the background. */
  refreshAt: number;
  /** A background refresh failed: none is tried again before this time. */
  retryAt?: number;
}

export interface AgentTokenBrokerOptions {
  /** How long Salesforce keeps a token valid (AGENT_TOKEN_TTL_SECONDS): the session timeout of the org. */
  ttlMs: number;
  now: () => number;
  /**
   * Refresh ahead once this share of the time a token may be handed out has passed (default 0.75: with 15-minute
   * tokens, handed out for 14 minutes, a request after 10½ minutes gets the cached token and starts the next sign-in;
   * 0 disables it).
   */
  refreshAheadAt?: number;
}

/**
 * Hands the agent short-lived Salesforce tokens for the integration user. The service signs the JWT assertion with the
 * connection's private key, which it reads from the secret store by reference and never returns.
 *
 * - **Cache**: one token per connection (tenant, org, app and user), answered from memory.
 * - **Single flight**: concurrent requests for a connection with no usable token share one sign-in.
 * - **Refresh ahead**: once most of a token's lifetime has passed, the request that sees it still gets it at once and
 *   starts the sign-in for its successor in the background (one at a time); an agent in steady use never waits for
 *   Salesforce. Only tokens in use are refreshed: an idle tenant costs no sign-ins.
 * - **A failed sign-in poisons nothing**: a failed refresh keeps the cached token (still good for at least the renewal
 *   margin) and is tried again after REFRESH_RETRY_MS; a failed sign-in with nothing cached fails the requests that
 *   waited for it, and the next request tries again.
 */
export class AgentTokenBroker {
  private readonly cache = new Map<string, CachedToken>();
  private readonly inFlight = new Map<string, Promise<AgentToken>>();
  private readonly states = new Map<string, CachedState>();

  constructor(
    private readonly source: AgentTokenSource,
    private readonly options: AgentTokenBrokerOptions,
  ) {}

  async token(tenantId: string, details: ConnectionDetails): Promise<AgentToken> {
    const key = [tenantId, details.orgId, details.consumerKey, details.integrationUsername].join('|');
    const now = this.options.now();
    const cached = this.cache.get(key);
    if (cached && cached.token.expiresAt - RENEWAL_MARGIN_MS > now) {
      if (now >= cached.refreshAt && now >= (cached.retryAt ?? 0)) this.refreshAhead(key, tenantId, details, cached);
      return cached.token;
    }
    return this.signIn(key, tenantId, details);
  }

  /**
   * The connection's state for a token request: read at most once per STATE_TTL_MS per connection (concurrent
   * requests share the read), and read again ahead in the background once STATE_REFRESH_AFTER_MS old; a failed read
   * is not kept (a failed background read leaves the cached state, which the next request past the refresh age reads
   * again).
   */
  async connectionState<T>(key: string, read: () => Promise<T>): Promise<T> {
    const now = this.options.now();
    const cached = this.states.get(key);
    if (cached && now - cached.at < STATE_TTL_MS) {
      if (now - cached.at >= STATE_REFRESH_AFTER_MS && !cached.refreshing) this.readStateAhead(key, cached, read, now);
      return cached.read as Promise<T>;
    }
    const entry: CachedState = { at: now, read: read() };
    this.states.set(key, entry);
    entry.read.catch(() => {
      if (this.states.get(key) === entry) this.states.delete(key);
    });
    if (this.states.size > CACHED_ENTRIES) this.dropOldStates(now);
    return entry.read as Promise<T>;
  }

  /** Reads the state anew while `cached` is still answered; the new read replaces it once it succeeds. */
  private readStateAhead(key: string, cached: CachedState, read: () => Promise<unknown>, now: number): void {
    cached.refreshing = true;
    const next: CachedState = { at: now, read: read() };
    next.read.then(
      () => {
        const current = this.states.get(key);
        if (current === cached || current === undefined) this.states.set(key, next);
      },
      () => {
        cached.refreshing = false;
      },
    );
  }

  /** Drops a tenant's tokens, e.g. once its connection is gone or was recreated. */
  forgetTenant(tenantId: string): void {
    for (const key of this.cache.keys()) if (key.startsWith(`${tenantId}|`)) this.cache.delete(key);
  }

  private dropOldStates(now: number): void {
    for (const [key, entry] of this.states) if (now - entry.at >= STATE_TTL_MS) this.states.delete(key);
  }

  /** Resolves once no sign-in is under way (tests and benches wait for background refreshes with it). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  /** The one sign-in of a connection under way, or a new one; its token replaces the tenant's cached ones. */
  private signIn(key: string, tenantId: string, details: ConnectionDetails): Promise<AgentToken> {
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const request = this.requestToken(details)
      .then((token) => {
        this.forgetTenant(tenantId);
        this.cache.set(key, { token, refreshAt: this.refreshTimeOf(token) });
        return token;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, request);
    return request;
  }

  private refreshAhead(key: string, tenantId: string, details: ConnectionDetails, cached: CachedToken): void {
    if (this.inFlight.has(key)) return;
    this.signIn(key, tenantId, details).catch(() => {
      // The cached token stays; another request tries again a little later.
      if (this.cache.get(key) === cached) cached.retryAt = this.options.now() + REFRESH_RETRY_MS;
    });
  }

  private refreshTimeOf(token: AgentToken): number {
    const share = this.options.refreshAheadAt ?? 0.75;
    if (share <= 0) return Number.POSITIVE_INFINITY;
    // A share of the time the token may be handed out (its lifetime less the renewal margin).
    const usableMs = Math.max(0, this.options.ttlMs - RENEWAL_MARGIN_MS);
    return token.expiresAt - this.options.ttlMs + usableMs * share;
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
