import type { WorkerMetrics } from './metrics';

/** The part of jsforce's transport (Connection#_transport, OAuth2#_transport) that every HTTP call goes through. */
interface HttpTransport {
  httpRequest(
    req: { method?: string; url?: string },
    options?: unknown,
  ): Promise<{ statusCode?: number; headers?: Record<string, unknown> }>;
}

const SALESFORCE_ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

/**
 * A low-cardinality name for a Salesforce URL: the API family and resource, version and record ids removed (anything
 * before `/services/`, such as the emulator's `/orgs/<key>`, is ignored).
 * `/services/data/v66.0/sobjects/User/005xx…` → `sobjects/User/:id`; `/services/oauth2/token` → `oauth2/token`;
 * `/services/Soap/m/66.0` → `soap/metadata`.
 */
export function salesforceEndpoint(url: string | undefined): string {
  let pathname: string;
  try {
    pathname = new URL(url ?? '', 'http://unknown').pathname;
  } catch {
    return 'other';
  }
  const oauth = /\/services\/oauth2\/([a-z_]+)/i.exec(pathname);
  if (oauth?.[1]) return `oauth2/${oauth[1].toLowerCase()}`;
  const soap = /\/services\/Soap\/([a-z])\//i.exec(pathname);
  if (soap?.[1]) {
    const kind = { m: 'metadata', u: 'partner', c: 'enterprise', t: 'tooling' }[soap[1].toLowerCase()] ?? 'other';
    return `soap/${kind}`;
  }
  if (/\/id\/00D/.test(pathname)) return 'identity';
  const rest = /\/services\/data\/v\d+\.\d+\/?(.*)$/.exec(pathname);
  if (rest) {
    const segments = (rest[1] ?? '')
      .split('/')
      .filter(Boolean)
      .slice(0, 4)
      .map((segment) => (SALESFORCE_ID.test(segment) && /\d/.test(segment) ? ':id' : segment));
    return segments.length > 0 ? segments.join('/') : 'versions';
  }
  if (/\/services\/data\/?$/.test(pathname)) return 'versions';
  return 'other';
}

/** `api-usage=25/15000` (Sforce-Limit-Info) → used and limit. */
export function parseLimitInfo(header: unknown): { used: number; limit: number } | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /api-usage=(\d+)\/(\d+)/.exec(header);
  if (!match) return undefined;
  return { used: Number(match[1]), limit: Number(match[2]) };
}

/**
 * Counts every HTTP call a jsforce Connection or OAuth2 client makes, by wrapping its transport: REST, SOQL,
 * composite, Metadata SOAP and OAuth token requests alike, with their status code and duration, and records the API
 * allowance from `Sforce-Limit-Info` (what jsforce parses into `conn.limitInfo.apiUsage`). Nothing of the request or
 * the response body is kept.
 */
export function instrumentSalesforceClient<T extends object>(client: T, metrics: WorkerMetrics): T {
  const holder = client as unknown as { _transport?: HttpTransport };
  const transport = holder._transport;
  if (!transport || typeof transport.httpRequest !== 'function') return client;
  const original = transport.httpRequest.bind(transport);
  const httpRequest: HttpTransport['httpRequest'] = (req, options) => {
    const endpoint = salesforceEndpoint(req.url);
    const method = (req.method ?? 'GET').toUpperCase();
    const stop = metrics.salesforceCallDuration.startTimer({ endpoint });
    const pending = original(req, options);
    pending.then(
      (response) => {
        stop();
        metrics.salesforceCalls.inc({ endpoint, method, code: String(response?.statusCode ?? 'none') });
        const limits = parseLimitInfo(response?.headers?.['sforce-limit-info']);
        if (limits) {
          const instance = hostOf(req.url);
          metrics.salesforceApiRemaining.set({ instance }, Math.max(0, limits.limit - limits.used));
          metrics.salesforceApiLimit.set({ instance }, limits.limit);
        }
      },
      () => {
        stop();
        metrics.salesforceCalls.inc({ endpoint, method, code: 'network_error' });
      },
    );
    // jsforce's stream-returning promise is handed back untouched.
    return pending;
  };
  Object.defineProperty(transport, 'httpRequest', { value: httpRequest, configurable: true, writable: true });
  return client;
}

function hostOf(url: string | undefined): string {
  try {
    return new URL(url ?? '').host || 'unknown';
  } catch {
    return 'unknown';
  }
}
