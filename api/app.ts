import path from 'node:path';
import express from 'express';
import type { Request, RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Client } from '@temporalio/client';
import { codecRouter } from './routes/codec';
import type { CodecServerOptions } from './routes/codec';
import type { ApiMetrics } from '../observability/metrics';
import { SalesforceClients } from '../salesforce/clients';
import type { SecretStore } from '../secrets/secret-store';
import type { AppConfig } from '../config';
import { DEFAULT_USERNAME_DOMAIN } from '../config';
import type { AgentTokenSource } from './agent-tokens';
import { AgentTokenBroker } from './agent-tokens';
import type { ApiKey } from './auth';
import { authenticate, principalOf, requireScope } from './auth';
import { ConnectionGateway, RETRY_AFTER_SECONDS } from './connection-gateway';
import { openApiDocument } from './openapi';
import { errorHandler, HttpProblem, notFoundHandler } from './problem';
import { requireJsonBody } from './requests';
import { DEFAULT_READINESS_TIMEOUT } from '../workflows/activity-options';
import { agentConfigurationRouter } from './routes/agent-configuration';
import { agentTokenRouter } from './routes/agent-token';
import { connectionsRouter } from './routes/connections';
import { planRouter } from './routes/plan';
import type { RouteContext } from './routes/context';
import { operationsRouter } from './routes/operations';
import { signInCallbackRouter, signInRouter } from './routes/sign-in';
import { SalesforceSignIn, SIGN_IN_CALLBACK_PATH } from './sign-in';
import { orgObjectsRouter } from './routes/org-objects';
import { auditEventsRouter } from './routes/audit-events';
import type { AuditStore } from '../audit/audit-store';
import { FleetGateway } from './fleet-operations';
import { fleetOperationsRouter } from './routes/fleet-operations';

export type ApiConfig = Pick<
  AppConfig,
  | 'TASK_QUEUE'
  | 'API_TENANTS'
  | 'API_RATE_LIMIT_PER_MINUTE'
  | 'API_UPDATE_TIMEOUT_MS'
  | 'API_MAX_BODY_BYTES'
  | 'AGENT_TOKEN_TTL_SECONDS'
  | 'SALESFORCE_API_VERSION'
> &
  Partial<Pick<AppConfig, 'READINESS_TIMEOUT' | 'INTEGRATION_USERNAME_DOMAIN'>>;

export interface ApiLogger {
  error(details: Record<string, unknown>, message: string): void;
}

export interface AppDependencies {
  client: Client;
  secrets: SecretStore;
  /** The audit trail (AUDIT_STORE); `GET …/audit-events` answers 503 without it. */
  audit?: AuditStore;
  config: ApiConfig;
  apiKeys: ApiKey[];
  /** Milliseconds since the epoch; tests move it to expire cached tokens. */
  now?: () => number;
  log?: ApiLogger;
  /** True once shutdown began: `/readyz` fails so that load balancers stop sending traffic. */
  isDraining?: () => boolean;
  /** The service's own OAuth client (SALESFORCE_CLIENT_ID/SECRET), to refresh an admin's expired access token. */
  salesforceOAuthClient?: { clientId: string; clientSecret: string };
  /**
   * The full URL of Sign in with Salesforce's callback (`<API_PUBLIC_URL>/v1/oauth/salesforce/callback`); with the
   * OAuth client above, the admin page can sign in with Salesforce.
   */
  signInCallbackUrl?: string;
  /** Where agent tokens come from; the default signs in to Salesforce with the connection's key. */
  agentTokenSource?: AgentTokenSource;
  /** The codec endpoint for the Web UI and the CLI, under `/codec`; not mounted without it. */
  codec?: Omit<CodecServerOptions, 'apiKeys'>;
  /** `/metrics`; not mounted without it. `public` serves it without a `metrics`-scoped key. */
  metrics?: { registry: ApiMetrics; public: boolean };
}

/** The route template of a request, never its concrete path: tenant ids and operation ids stay out of metrics. */
function routeLabel(req: Request): string {
  const route = req.route as { path?: unknown } | undefined;
  if (route && typeof route.path === 'string') return `${req.baseUrl}${route.path}`;
  // A route declared for several fixed paths (`/codec/encode` and `/codec/decode`): the path is one of them.
  if (route && Array.isArray(route.path)) return `${req.baseUrl}${req.path}`;
  if (req.originalUrl.startsWith('/admin')) return '/admin';
  return 'unmatched';
}

function countRequests(metrics: ApiMetrics): RequestHandler {
  return (req, res, next) => {
    const stop = metrics.requestDuration.startTimer();
    res.once('finish', () => {
      const route = routeLabel(req);
      stop({ method: req.method, route });
      metrics.requests.inc({ method: req.method, route, status: String(res.statusCode) });
      const operation = /\/(enable|disable|reconnect)$/.exec(route);
      if (operation?.[1] && req.method === 'POST' && res.statusCode === 202) {
        metrics.operationsRequested.inc({ kind: operation[1] });
      }
    });
    next();
  };
}

const PUBLIC_DIR = path.join(__dirname, 'public');

/** Swagger UI's prebuilt files, served from node_modules: the docs page needs no CDN and no inline code. */
const SWAGGER_UI_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));
const SWAGGER_UI_FILES = new Set(['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png', 'favicon-16x16.png']);

/** i18next's browser build, served from node_modules like Swagger UI: the admin page's translations need no CDN. */
const I18NEXT_FILE = path.join(path.dirname(require.resolve('i18next/package.json')), 'dist', 'umd', 'i18next.min.js');

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy':
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
      "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  });
  next();
};

/**
 * The HTTP API: validates, authenticates, starts or reads workflows, and maps results. No business logic here: the
 * connection workflow decides what may run, and the API translates its answers into HTTP.
 */
export function createApp(deps: AppDependencies): express.Express {
  const now = deps.now ?? Date.now;
  const gateway = new ConnectionGateway(deps.client, {
    taskQueue: deps.config.TASK_QUEUE,
    timeoutMs: deps.config.API_UPDATE_TIMEOUT_MS,
  });
  const salesforce = new SalesforceClients(deps.secrets, {
    apiVersion: deps.config.SALESFORCE_API_VERSION,
    oauthClient: deps.salesforceOAuthClient,
  });
  const context: RouteContext = {
    gateway,
    secrets: deps.secrets,
    audit: deps.audit,
    salesforce,
    tokens: new AgentTokenBroker(deps.agentTokenSource ?? salesforce, {
      ttlMs: deps.config.AGENT_TOKEN_TTL_SECONDS * 1000,
      now,
    }),
    knownTenants: deps.config.API_TENANTS
      ? new Set(
          deps.config.API_TENANTS.split(',')
            .map((t) => t.trim())
            .filter(Boolean),
        )
      : undefined,
    now,
    readinessTimeout: deps.config.READINESS_TIMEOUT ?? DEFAULT_READINESS_TIMEOUT,
    usernameDomain: deps.config.INTEGRATION_USERNAME_DOMAIN ?? DEFAULT_USERNAME_DOMAIN,
  };
  const logUnexpected = (err: unknown, req: Request) => {
    // The message and stack go to the log only; requests' bodies and headers never do (they carry secrets).
    deps.log?.error(
      {
        err: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
        method: req.method,
        path: req.path,
      },
      'unexpected error',
    );
  };

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(securityHeaders);
  if (deps.metrics) {
    const { registry } = deps.metrics;
    app.use(countRequests(registry));
    const guard: RequestHandler[] = deps.metrics.public ? [] : [authenticate(deps.apiKeys), requireScope('metrics')];
    app.get('/metrics', ...guard, async (_req, res) => {
      res.type(registry.registry.contentType).send(await registry.registry.metrics());
    });
  }
  if (deps.codec) app.use('/codec', codecRouter({ ...deps.codec, apiKeys: deps.apiKeys }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    if (deps.isDraining?.()) {
      res.status(503).set('Retry-After', String(RETRY_AFTER_SECONDS)).json({ status: 'draining' });
      return;
    }
    try {
      await gateway.ping();
      res.json({ status: 'ready', temporal: 'ok' });
    } catch {
      res
        .status(503)
        .set('Retry-After', String(RETRY_AFTER_SECONDS))
        .json({ status: 'unavailable', temporal: 'unreachable' });
    }
  });
  const document = openApiDocument();
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  app.get('/docs', (_req, res) => {
    res.sendFile(path.join(PUBLIC_DIR, 'docs.html'));
  });
  app.get('/docs/swagger-ui/:file', (req, res, next) => {
    const file = req.params.file;
    if (!SWAGGER_UI_FILES.has(file)) {
      next();
      return;
    }
    res.sendFile(path.join(SWAGGER_UI_DIR, file), { maxAge: '1h' });
  });
  app.get('/', (_req, res) => {
    res.redirect(302, '/admin/');
  });
  app.get('/admin/vendor/i18next.min.js', (_req, res) => {
    res.sendFile(I18NEXT_FILE, { maxAge: '1h' });
  });
  app.get('/favicon.ico', (_req, res) => {
    res.type('image/svg+xml').sendFile(path.join(PUBLIC_DIR, 'favicon.svg'), { maxAge: '1d' });
  });
  app.use('/admin', express.static(PUBLIC_DIR, { index: 'index.html', fallthrough: true }));

  const perKeyLimit = rateLimit({
    windowMs: 60_000,
    limit: deps.config.API_RATE_LIMIT_PER_MINUTE,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (_req, res) => principalOf(res).keyId,
    handler: (_req, _res, next) => {
      next(new HttpProblem(429, 'rate-limited', 'Too many requests for this API key; retry after the delay given.'));
    },
  });

  const signIn =
    deps.salesforceOAuthClient && deps.signInCallbackUrl
      ? new SalesforceSignIn(deps.secrets, {
          oauthClient: deps.salesforceOAuthClient,
          callbackUrl: deps.signInCallbackUrl,
          apiVersion: deps.config.SALESFORCE_API_VERSION,
          now,
        })
      : undefined;
  // Salesforce sends the admin's browser here, without an API key: limited per client address instead.
  const perAddressLimit = rateLimit({
    windowMs: 60_000,
    limit: deps.config.API_RATE_LIMIT_PER_MINUTE,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: (_req, _res, next) => {
      next(new HttpProblem(429, 'rate-limited', 'Too many requests from this address; retry after the delay given.'));
    },
  });
  app.use(SIGN_IN_CALLBACK_PATH, perAddressLimit, signInCallbackRouter(signIn));

  const v1 = express.Router();
  v1.use(authenticate(deps.apiKeys), perKeyLimit, requireJsonBody);
  v1.use(express.json({ limit: deps.config.API_MAX_BODY_BYTES, type: ['application/json', 'application/*+json'] }));
  v1.use(connectionsRouter(context));
  v1.use(planRouter(context));
  v1.use(operationsRouter(context));
  v1.use(agentTokenRouter(context));
  v1.use(agentConfigurationRouter(context));
  v1.use(signInRouter(context, signIn));
  v1.use(orgObjectsRouter(context));
  v1.use(auditEventsRouter(context));
  v1.use(
    fleetOperationsRouter(
      context,
      new FleetGateway(deps.client, {
        taskQueue: deps.config.TASK_QUEUE,
        timeoutMs: deps.config.API_UPDATE_TIMEOUT_MS,
      }),
    ),
  );
  app.use('/v1', v1);

  app.use(notFoundHandler);
  // A missing payload key is logged once per key id (every read of the tenant would log it again otherwise).
  const missingKeysLogged = new Set<string>();
  const logMissingPayloadKey = (keyId: string, req: Request) => {
    if (missingKeysLogged.has(keyId)) return;
    missingKeysLogged.add(keyId);
    deps.log?.error(
      { keyId, method: req.method, path: req.path },
      'a payload codec key is missing from PAYLOAD_CODEC_KEYS: data sealed with it cannot be read',
    );
  };
  app.use(errorHandler(logUnexpected, logMissingPayloadKey));
  return app;
}
