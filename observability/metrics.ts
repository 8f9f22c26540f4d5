import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every series the product exports starts with this; the SDK's own start with `temporal_`. */
const METRIC_PREFIX = 'agent_connections_';

const STEP_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const WAIT_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 900, 1800];
const OPERATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

/**
 * The worker's own series (prom-client). Labels are bounded: operation kinds, activity names, normalized Salesforce
 * endpoints, HTTP status codes, and the Salesforce instance host for the API allowance (one per connected org).
 * Never a tenant id, a user name or anything secret.
 */
export class WorkerMetrics {
  readonly registry = new Registry();

  readonly operationsStarted = new Counter({
    name: `${METRIC_PREFIX}operations_started_total`,
    help: 'Operations (enable, disable, reconnect sagas) that started running on a worker, by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly operationsFinished = new Counter({
    name: `${METRIC_PREFIX}operations_finished_total`,
    help:
      'Operations that ended, by kind and outcome: succeeded, failed (nothing to undo), compensated (failed and ' +
      'rolled back), rollback_incomplete (an undo could not finish), cancelled.',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly operationDuration = new Histogram({
    name: `${METRIC_PREFIX}operation_duration_seconds`,
    help: 'Wall-clock time from the start of an operation to its end, by kind and outcome.',
    labelNames: ['kind', 'outcome'] as const,
    buckets: OPERATION_BUCKETS,
    registers: [this.registry],
  });

  readonly stepDuration = new Histogram({
    name: `${METRIC_PREFIX}step_duration_seconds`,
    help: 'Duration of one attempt of a saga step (an activity), by step and result (ok, retryable, failed).',
    labelNames: ['step', 'result'] as const,
    buckets: STEP_BUCKETS,
    registers: [this.registry],
  });

  readonly salesforceCalls = new Counter({
    name: `${METRIC_PREFIX}salesforce_calls_total`,
    help: 'HTTP calls to Salesforce, by normalized endpoint, method and result code (HTTP status or network_error).',
    labelNames: ['endpoint', 'method', 'code'] as const,
    registers: [this.registry],
  });

  readonly salesforceCallDuration = new Histogram({
    name: `${METRIC_PREFIX}salesforce_call_duration_seconds`,
    help: 'Duration of HTTP calls to Salesforce, by normalized endpoint.',
    labelNames: ['endpoint'] as const,
    buckets: STEP_BUCKETS,
    registers: [this.registry],
  });

  readonly salesforceApiRemaining = new Gauge({
    name: `${METRIC_PREFIX}salesforce_api_remaining`,
    help: 'API requests left in the org’s rolling 24-hour allowance, from the last Sforce-Limit-Info header seen.',
    labelNames: ['instance'] as const,
    registers: [this.registry],
  });

  readonly salesforceApiLimit = new Gauge({
    name: `${METRIC_PREFIX}salesforce_api_limit`,
    help: 'The org’s 24-hour API allowance, from the last Sforce-Limit-Info header seen.',
    labelNames: ['instance'] as const,
    registers: [this.registry],
  });

  readonly readinessChecks = new Counter({
    name: `${METRIC_PREFIX}readiness_checks_total`,
    help: 'Readiness attempts on a new app (JWT sign-in + query, probed until usable or the attempt window ends), by result: ready, not_ready (still propagating), failed.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly readinessWait = new Histogram({
    name: `${METRIC_PREFIX}readiness_wait_seconds`,
    help: 'How long Salesforce took to make a new app usable: from the first readiness probe to the successful one.',
    buckets: WAIT_BUCKETS,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: `${METRIC_PREFIX}worker_` });
  }
}

/** The API's series: requests by route template and status, operations it started. */
export class ApiMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: `${METRIC_PREFIX}api_requests_total`,
    help: 'HTTP requests to the API, by method, route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly requestDuration = new Histogram({
    name: `${METRIC_PREFIX}api_request_duration_seconds`,
    help: 'Duration of HTTP requests to the API, by method and route template.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly operationsRequested = new Counter({
    name: `${METRIC_PREFIX}api_operations_started_total`,
    help: 'Operations the API started (answered 202), by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: `${METRIC_PREFIX}api_` });
  }
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/** Splits `host:port` (IPv6 in brackets). */
function parseHostPort(address: string): { host: string; port: number } {
  const separator = address.lastIndexOf(':');
  return { host: address.slice(0, separator).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(separator + 1)) };
}

/** The address of the SDK's exporter when none is given: loopback, the port after the worker's metrics port. */
export function defaultSdkMetricsAddress(workerMetricsAddress: string): string {
  return `127.0.0.1:${parseHostPort(workerMetricsAddress).port + 1}`;
}

async function sdkSeries(sdkMetricsUrl: string | undefined): Promise<string> {
  if (!sdkMetricsUrl) return '';
  try {
    const response = await fetch(sdkMetricsUrl, { signal: AbortSignal.timeout(2000) });
    return response.ok ? await response.text() : '';
  } catch {
    return '';
  }
}

/**
 * The worker's metrics port: `/metrics` serves the product's series followed by the SDK's (Rust core's Prometheus
 * exporter on a loopback port), so that one scrape target covers a worker; `/healthz` answers while it runs.
 */
export async function startMetricsServer(options: {
  address: string;
  registry: Registry;
  sdkMetricsUrl?: string;
  isHealthy?: () => boolean;
}): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      const healthy = options.isHealthy?.() ?? true;
      res.writeHead(healthy ? 200 : 503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ status: healthy ? 'ok' : 'stopping' }));
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    void Promise.all([options.registry.metrics(), sdkSeries(options.sdkMetricsUrl)]).then(
      ([own, sdk]) => {
        res.writeHead(200, { 'Content-Type': options.registry.contentType });
        res.end(sdk ? `${own}\n${sdk}` : own);
      },
      () => {
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  const { host, port } = parseHostPort(options.address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
