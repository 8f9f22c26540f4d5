/**
 * Salesforce org emulator: a real HTTP server that jsforce talks to as it talks to Salesforce (OAuth token endpoint,
 * REST data API, Metadata SOAP API), with several orgs, a control API on a separate port, fault injection and
 * counters. Self-contained: imports nothing from the rest of the repository.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ControlApi, EmulatorControl } from './control';
import { EmulatorCore } from './server';

export { EmulatorControl } from './control';
export type {
  ClockState,
  Component,
  ComponentKind,
  CounterSnapshot,
  CreatedOrg,
  OrgSettingsPatch,
  OrgSummary,
} from './control';
export type { FaultInput, FaultSpec } from './faults';
export type { CreateOrgInput } from './seed';
export type { AdminPermission, ApiAccessControl } from './state';
export { SERVICE_OAUTH_CLIENT, JWT_GRANT } from './oauth';
export { AUTHORIZATION_CODE_TTL_MS } from './authorize';
export { FAULT_OPERATIONS } from './operations';

/** The callback of the API `npm start` runs (API_PORT 3000), by both of its loopback names. */
export const DEFAULT_SERVICE_CALLBACK_URLS = [
  'http://127.0.0.1:3000/v1/oauth/salesforce/callback',
  'http://localhost:3000/v1/oauth/salesforce/callback',
];

export interface EmulatorOptions {
  /** Salesforce-surface port (0 = any free port). */
  port?: number;
  /** Control API port (0 = any free port). */
  controlPort?: number;
  /** Bind address, default 127.0.0.1. */
  host?: string;
  /** JSON file to load orgs from at start and to persist them to (debounced) on change. */
  stateFile?: string;
  /** Default app propagation delay for orgs that don't set their own (default 0). */
  propagationDelayMs?: number;
  /**
   * Session Settings' timeout (default 2 h): an access token expires after this long without use. As in Salesforce,
   * activity restarts it only once half of it has passed since it last restarted.
   */
  sessionTimeoutMs?: number;
  /**
   * Callback URLs registered for the service's OAuth client, which the sign-in page checks redirect_uri against
   * (default: the API of `npm start`, DEFAULT_SERVICE_CALLBACK_URLS).
   */
  serviceCallbackUrls?: string[];
  /** Log each request with pino (default false). */
  log?: boolean;
}

export interface RunningEmulator {
  /** e.g. http://127.0.0.1:PORT — plays login.salesforce.com; a JWT `aud` must equal it. */
  loginUrl: string;
  /** Control API base URL (separate port). */
  controlUrl: string;
  control: EmulatorControl;
  close(): Promise<void>;
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  const host = opts.host ?? '127.0.0.1';
  const core = new EmulatorCore({
    host,
    ...(opts.stateFile ? { stateFile: opts.stateFile } : {}),
    propagationDelayMs: opts.propagationDelayMs ?? 0,
    sessionTimeoutMs: opts.sessionTimeoutMs ?? 2 * 3600_000,
    log: opts.log ?? false,
    serviceCallbackUrls: opts.serviceCallbackUrls ?? DEFAULT_SERVICE_CALLBACK_URLS,
  });
  const sf = http.createServer({ keepAliveTimeout: 30_000 }, core.handler);
  const controlApi = new ControlApi(core);
  const ctl = http.createServer(controlApi.handler);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const port = await listen(sf, opts.port ?? 0, host);
  let controlPort: number;
  try {
    controlPort = await listen(ctl, opts.controlPort ?? 0, host);
  } catch (e) {
    await closeServer(sf);
    throw e;
  }
  core.loginUrl = `http://${urlHost}:${port}`;
  const controlUrl = `http://${urlHost}:${controlPort}`;
  let closing: Promise<void> | undefined;
  return {
    loginUrl: core.loginUrl,
    controlUrl,
    control: new EmulatorControl(controlUrl),
    close: () => {
      closing ??= (async () => {
        await core.shutdown();
        await Promise.all([closeServer(sf), closeServer(ctl)]);
      })();
      return closing;
    },
  };
}
