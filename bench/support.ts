/**
 * Shared parts of the benchmarks and drills: statistics, free ports, agent configurations of a given size, the
 * service's processes (API, worker) as children whose memory and CPU can be read from /proc, a bench's stack (a
 * Temporal dev server, the emulator, the service in this process or as processes, all stopped at once), enabling
 * tenants through the API, a raw HTTP request (for malformed requests and readiness; well-formed ones go through
 * @agent-connections/api-client), machine and version facts, and the report files. Loopback only.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { NativeConnection } from '@temporalio/worker';
import type { ApiClient } from '@agent-connections/api-client';
import type { EncryptedFileSecretStore } from '../secrets/secret-store';
import { hashApiKey, generateApiKey } from '../api/auth';
import { encryptedDataConverter, loadCodecKeys } from '../codec/data-converter';
import { parseCodecKeys } from '../codec/encryption-codec';
import { SERVICE_OAUTH_CLIENT, startEmulator } from '@agent-connections/salesforce-emulator';
import type { CreateOrgInput, CreatedOrg, RunningEmulator } from '@agent-connections/salesforce-emulator';
import { ensureTool } from '../scripts/temporal-tools.cjs';
import { startDevServer } from '../scripts/temporal-dev-server';
import type { RunningDevServer } from '../scripts/temporal-dev-server';
import type { ServiceWorker, ServiceWorkerOptions } from '../workers/service-worker';
import { SEARCH_ATTRIBUTE_TYPES } from '../workflows/definitions';
import type { AgentConfiguration } from '../workflows/definitions';

export const ROOT = path.resolve(__dirname, '..');
/** Where the benches write their reports: BENCH_REPORT_DIR (default reports/), relative to the repository. */
export const REPORT_DIR = path.resolve(ROOT, process.env.BENCH_REPORT_DIR ?? 'reports');

// ---------------------------------------------------------------------------------------------------------------
// Statistics

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

export function median(values: number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = Math.floor(finite.length / 2);
  return finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** mulberry32: a small seeded PRNG, so that a drill's random choices replay for a given seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------------------------
// Ports and agent configurations

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port assigned'));
      });
    });
  });
}

const STANDARD_OBJECTS = ['Account', 'Contact', 'Opportunity'];

/** Object names for a configuration of `objects` objects: the 3 standard ones, then custom objects. */
function benchObjects(objects: number): string[] {
  return Array.from({ length: objects }, (_, i) => STANDARD_OBJECTS[i] ?? `Bench_Object_${i + 1}__c`);
}

const fieldName = (i: number) => `Bench_${i + 1}__c`;

/** The agent reads `fieldsPerObject` custom fields on each of `objects` objects. */
export function benchConfiguration(objects: number, fieldsPerObject: number): AgentConfiguration {
  return {
    objects: benchObjects(objects).map((object) => ({
      object,
      fields: Array.from({ length: fieldsPerObject }, (_, i) => fieldName(i)),
    })),
  };
}

/** An org whose schema has every object and field of `benchConfiguration(objects, fieldsPerObject)`. */
export function benchOrgInput(objects: number, fieldsPerObject: number): CreateOrgInput {
  const fields = Array.from({ length: fieldsPerObject }, (_, i) => ({ name: fieldName(i), type: 'string' }));
  const names = benchObjects(objects);
  return {
    apiDailyLimit: 100_000_000,
    customFields: Object.fromEntries(names.filter((n) => STANDARD_OBJECTS.includes(n)).map((n) => [n, fields])),
    customObjects: names.filter((n) => !STANDARD_OBJECTS.includes(n)).map((name) => ({ name, fields })),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The service's processes

export interface ServiceKeys {
  admin: string;
  read: string;
  agent: string;
  /** An admin key bound to tenant "acme". */
  acmeAdmin: string;
  /** The API_KEYS value for these keys. */
  spec: string;
}

export function serviceKeys(): ServiceKeys {
  const admin = generateApiKey();
  const read = generateApiKey();
  const agent = generateApiKey();
  const acmeAdmin = generateApiKey();
  const spec = [
    `backend:admin+read:${hashApiKey(admin)}`,
    `dashboard:read:${hashApiKey(read)}`,
    `agent:agent:${hashApiKey(agent)}`,
    `acme-backend:admin:${hashApiKey(acmeAdmin)}:acme`,
  ].join(',');
  return { admin, read, agent, acmeAdmin, spec };
}

/** The environment shared by the API and the worker: one Temporal, one task queue, one secret store, one codec. */
export function serviceEnvironment(options: {
  temporalAddress: string;
  taskQueue: string;
  dataDir: string;
  keys: ServiceKeys;
}): NodeJS.ProcessEnv {
  const key = () => `k1:${randomBytes(32).toString('base64')}`;
  return {
    TEMPORAL_ADDRESS: options.temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TASK_QUEUE: options.taskQueue,
    DATA_DIR: options.dataDir,
    SECRETS_DIR: path.join(options.dataDir, 'secrets'),
    SECRETS_MASTER_KEYS: key(),
    PAYLOAD_CODEC_KEYS: key(),
    SALESFORCE_CLIENT_ID: SERVICE_OAUTH_CLIENT.clientId,
    SALESFORCE_CLIENT_SECRET: SERVICE_OAUTH_CLIENT.clientSecret,
    INTEGRATION_USERNAME_DOMAIN: 'bench.agent-connections.app',
    API_HOST: '127.0.0.1',
    API_KEYS: options.keys.spec,
    API_RATE_LIMIT_PER_MINUTE: '1000000',
    LOG_LEVEL: 'warn',
  };
}

export interface ProcessUsage {
  /** Resident set size now, MB. */
  rssMB: number;
  /** Peak resident set size over the process's life (VmHWM), MB. */
  peakRssMB: number;
  /** User + system CPU seconds so far. */
  cpuSeconds: number;
}

const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux

/** Reads /proc/<pid>/status and /proc/<pid>/stat; undefined when the process is gone or /proc is absent. */
export function processUsage(pid: number | undefined): ProcessUsage | undefined {
  if (!pid) return undefined;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15 of stat)
    return { rssMB: kb('VmRSS') / 1024, peakRssMB: kb('VmHWM') / 1024, cpuSeconds: ticks / CLOCK_TICKS };
  } catch {
    return undefined;
  }
}

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  /** The last lines it wrote to stderr/stdout, for error messages. */
  output(): string;
  usage(): ProcessUsage | undefined;
  exited(): boolean;
  /** SIGKILL to the whole process group. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ServiceProcess>();

/**
 * Runs a TypeScript entry point of this repository as `node --import tsx <entry>` in its own process group: one
 * process (no tsx launcher in between), so that /proc/<pid> measures exactly it and SIGKILL takes all of it.
 */
function spawnService(name: string, entry: string, env: NodeJS.ProcessEnv, root = ROOT): ServiceProcess {
  // BENCH_NODE_ARGS adds Node flags to every service (e.g. `--cpu-prof --cpu-prof-dir=reports/profiles` to profile).
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', entry], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let tail: string[] = [];
  const collect = (chunk: Buffer) => {
    tail = [...tail, ...chunk.toString('utf8').split('\n')].slice(-40);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let hasExited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      hasExited = true;
      resolve();
    }),
  );
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
  };
  const service: ServiceProcess = {
    name,
    child,
    output: () => tail.join('\n'),
    usage: () => processUsage(child.pid),
    exited: () => hasExited,
    kill: async () => {
      if (!hasExited) signal('SIGKILL');
      await exit;
      running.delete(service);
    },
    stop: async (graceMs = 10_000) => {
      if (!hasExited) signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
      running.delete(service);
    },
  };
  running.add(service);
  return service;
}

/** Stops every service still running, gracefully (a profiled service writes its profile on the way out). */
export async function stopAllServices(): Promise<void> {
  await Promise.all([...running].map((service) => service.stop()));
}

/** The dev servers of the stacks not stopped yet (`startBenchStack`): killAllServices kills them too. */
const devServers = new Set<RunningDevServer>();

/** Kills every service process still running, and the stacks' dev servers (on exit, on a deadline, on a failure). */
export function killAllServices(): void {
  for (const service of running) {
    try {
      process.kill(-service.child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
  running.clear();
  for (const devServer of devServers) devServer.process.kill('SIGKILL');
  devServers.clear();
}

/**
 * Starts the real API (`api/main.ts`) on a free port and waits until `readyPath` (/readyz: Temporal reachable)
 * answers 200; `root` runs another checkout's API (a bench's "before" figures).
 */
export async function startApi(
  env: NodeJS.ProcessEnv,
  options: { readyPath?: string; root?: string } = {},
): Promise<{ process: ServiceProcess; baseUrl: string }> {
  const port = await freePort();
  const api = spawnService('api', 'api/main.ts', { ...env, API_PORT: String(port) }, options.root);
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (api.exited()) throw new Error(`the API exited during start-up:\n${api.output()}`);
    const ready = await httpRequest(baseUrl, { method: 'GET', path: options.readyPath ?? '/readyz' }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) return { process: api, baseUrl };
    if (Date.now() > deadline) throw new Error(`the API did not become ready:\n${api.output()}`);
    await sleep(250);
  }
}

/**
 * The settings every benchmarked worker runs with (ours and the baseline's), as a deployment on a small machine sets
 * them; each can be overridden from the environment. V8 otherwise lets a busy worker's heaps grow far past their live
 * data before collecting (RSS ~0.8 MB per operation in flight, most of it garbage), and glibc gives each of the
 * worker's many native threads (Temporal core, libuv's pool generating keys) a malloc arena of its own; the workflow
 * cache holds every workflow of 200 operations in flight (a connection and its saga each); 16 activity slots keep
 * 2 cores busy.
 */
export const WORKER_SETTINGS = {
  NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS ?? '--max-old-space-size=192 --max-semi-space-size=4',
  WORKER_MAX_CACHED_WORKFLOWS: process.env.WORKER_MAX_CACHED_WORKFLOWS ?? '400',
  WORKER_MAX_CONCURRENT_ACTIVITIES: process.env.WORKER_MAX_CONCURRENT_ACTIVITIES ?? '16',
  MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
};

/**
 * Starts a worker process (`workers/main.ts` by default) and waits until the server lists it among the pollers of
 * its task queue (its identity starts with its pid), so that readiness does not depend on its log level.
 */
export async function startWorker(env: NodeJS.ProcessEnv, entry = 'workers/main.ts'): Promise<ServiceProcess> {
  const worker = spawnService('worker', entry, { ...WORKER_SETTINGS, ...env });
  const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
  try {
    const deadline = Date.now() + 180_000;
    for (;;) {
      if (worker.exited()) throw new Error(`the worker exited during start-up:\n${worker.output()}`);
      if (Date.now() > deadline) throw new Error(`the worker did not start polling:\n${worker.output()}`);
      const described = await connection.workflowService
        .describeTaskQueue({
          namespace: env.TEMPORAL_NAMESPACE ?? 'default',
          taskQueue: { name: env.TASK_QUEUE! },
          taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        })
        .catch(() => undefined);
      if (described?.pollers?.some((p) => p.identity?.startsWith(`${worker.child.pid}@`))) return worker;
      await sleep(300);
    }
  } finally {
    await connection.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// A worker of the service in this process

export interface InProcessWorker {
  /** Not running yet: the bench runs it (`run()`, `runUntil()`). */
  worker: ServiceWorker;
  /** A client with the worker's data converter, on a connection of its own. */
  client: Client;
  taskQueue: string;
  /** The client's connection; closing it, and the worker's, is the caller's. */
  connection: Connection;
  nativeConnection: NativeConnection;
}

/**
 * A worker of the service (its real workflows and activities, the Salesforce clients logging in with the emulator's
 * OAuth client, secrets in `secrets`) in this process, on a task queue of its own, and a client. Without
 * `workflowBundle`, the worker bundles the workflows itself. The worker's modules are loaded on the first call, so
 * that the benches that only start processes (bench.ts, chaos.ts) do not load them.
 */
export async function createInProcessWorker(options: {
  address: string;
  dataConverter: DataConverter;
  secrets: EncryptedFileSecretStore;
  workflowBundle?: ServiceWorkerOptions['workflowBundle'];
  /** Rotate certificates this many days before expiry (default 30: the 30-day certificates rotate at once). */
  rotateBeforeDays?: number;
}): Promise<InProcessWorker> {
  const [{ NativeConnection }, { createServiceWorker }, { SalesforceClients }] = await Promise.all([
    import('@temporalio/worker'),
    import('../workers/service-worker'),
    import('../salesforce/clients'),
  ]);
  const { address, dataConverter, secrets } = options;
  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, dataConverter });
  const taskQueue = `bench-${randomUUID()}`;
  const worker = await createServiceWorker({
    connection: nativeConnection,
    dataConverter,
    namespace: 'default',
    taskQueue,
    dependencies: {
      clients: new SalesforceClients(secrets, { apiVersion: '66.0', oauthClient: SERVICE_OAUTH_CLIENT }),
      secrets,
      usernameDomain: 'bench.agent-connections.app',
      contactEmail: 'bench@agent-connections.app',
      certificateValidityDays: 30,
      temporal: { client, taskQueue, healthCheckInterval: '1 hour', rotateBeforeDays: options.rotateBeforeDays ?? 30 },
    },
    workflowBundle: options.workflowBundle,
  });
  return { worker, client, taskQueue, connection, nativeConnection };
}

// ---------------------------------------------------------------------------------------------------------------
// A bench's stack

/** Worker and SDK-core logs down to warnings (core: errors), for the worker in this process. Installed once. */
let quietRuntime = false;
async function installQuietRuntime(): Promise<void> {
  if (quietRuntime) return;
  quietRuntime = true;
  const { DefaultLogger, Runtime, makeTelemetryFilterString } = await import('@temporalio/worker');
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
  });
}

/** The service's worker in this process (`BenchStack.startInProcessWorker`), running. */
export interface InProcessService {
  worker: ServiceWorker;
  /** A client with the worker's data converter. */
  client: Client;
  taskQueue: string;
  /** The worker's secrets: a file store in the stack's folder, under a key of its own. */
  secrets: EncryptedFileSecretStore;
}

export interface ServiceOptions {
  /** The API keys (default: new ones). */
  keys?: ServiceKeys;
  /** The task queue's name starts with it (default "bench"). */
  taskQueuePrefix?: string;
  /** Added to `serviceEnvironment`'s (and replacing what it sets). */
  env?: NodeJS.ProcessEnv;
}

/** The service's environment on a stack, before any of its processes starts (`BenchStack.service`). */
export interface ServiceUnderBench {
  keys: ServiceKeys;
  /** What the service's processes run with: `serviceEnvironment` on the stack's Temporal and folder, and `env`. */
  env: NodeJS.ProcessEnv;
  /** A client of the stack's Temporal with the service's data converter (its PAYLOAD_CODEC_KEYS). */
  client: Client;
}

/** The service's worker and API, each a process of its own (`BenchStack.startService`). */
export interface RunningService extends ServiceUnderBench {
  worker: ServiceProcess;
  api: { process: ServiceProcess; baseUrl: string };
}

/** What a bench runs against; `stop()` stops all of it. */
export interface BenchStack {
  /** A temporary folder of the bench's own (data folders, secrets), removed by `stop()`. */
  work: string;
  /** The Temporal CLI the dev server runs (`machineFacts` reads its version from it). */
  cli: string;
  /** An in-memory Temporal dev server on a free port, with the service's search attributes. */
  devServer: RunningDevServer;
  /** The Salesforce emulator, in this process (no latency, no propagation delay). */
  emulator: RunningEmulator;
  /**
   * A worker of the service in this process (`createInProcessWorker`), running, with a codec key and a secret store
   * of its own in the stack's folder; SDK logs down to warnings. `stop()` shuts it down, waiting 15 s at most.
   */
  startInProcessWorker(options?: {
    workflowBundle?: ServiceWorkerOptions['workflowBundle'];
    rotateBeforeDays?: number;
  }): Promise<InProcessService>;
  /** The environment of the service's processes, new API keys and codec keys, and a client that reads them. */
  service(options?: ServiceOptions): Promise<ServiceUnderBench>;
  /** `service()`, and its worker and API started (as deployed: the load meets the API alone). */
  startService(options?: ServiceOptions): Promise<RunningService>;
  /** Stops every service process, the worker in this process, the clients, the emulator and the dev server (once). */
  stop(): Promise<void>;
}

/**
 * Starts a bench's stack: a temporary folder (`<name>-…`), a Temporal dev server (in memory), the Salesforce emulator;
 * the service then runs in this process (`startInProcessWorker`) or as processes (`startService`). Until `stop()`,
 * `killAllServices` (a deadline, a failure in `runMain`) kills the dev server too.
 */
export async function startBenchStack(name: string): Promise<BenchStack> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  const cli = ensureTool('cli');
  const devServer = await startDevServer({
    binary: cli,
    port: await freePort(),
    searchAttributes: SEARCH_ATTRIBUTE_TYPES,
  });
  devServers.add(devServer);
  const emulator = await startEmulator({ port: 0, controlPort: 0 });
  const connections: Array<Connection | NativeConnection> = [];
  const inProcess: Array<{ worker: ServiceWorker; running: Promise<void> }> = [];
  /** Stopping happens once: a bench may stop its stack before its smaller benches run, and again on its way out. */
  let stopping: Promise<void> | undefined;
  const stopStack = async (): Promise<void> => {
    await stopAllServices();
    // Work the load started may still be running: stopping does not wait for it beyond a bound.
    for (const { worker, running } of inProcess) {
      worker.shutdown();
      await Promise.race([running, sleep(15_000)]);
    }
    // A native connection a worker still holds (one that did not stop in time) refuses to close: the exit ends it.
    for (const connection of connections) await connection.close().catch(() => undefined);
    await emulator.close();
    await devServer.stop();
    devServers.delete(devServer);
    fs.rmSync(work, { recursive: true, force: true });
  };

  const service = async (options: ServiceOptions = {}): Promise<ServiceUnderBench> => {
    const keys = options.keys ?? serviceKeys();
    const env = {
      ...serviceEnvironment({
        temporalAddress: devServer.address,
        taskQueue: `${options.taskQueuePrefix ?? 'bench'}-${randomUUID()}`,
        dataDir: work,
        keys,
      }),
      ...options.env,
    };
    const connection = await Connection.connect({ address: devServer.address });
    connections.push(connection);
    const client = new Client({
      connection,
      dataConverter: encryptedDataConverter(parseCodecKeys(env.PAYLOAD_CODEC_KEYS!)),
    });
    return { keys, env, client };
  };

  return {
    work,
    cli,
    devServer,
    emulator,
    async startInProcessWorker(options = {}) {
      await installQuietRuntime();
      const { EncryptedFileSecretStore } = await import('../secrets/secret-store');
      const secrets = new EncryptedFileSecretStore(path.join(work, 'secrets'), [
        { id: 'bench', key: Buffer.from(randomUUID().replace(/-/g, ''), 'utf8') },
      ]);
      const { worker, client, taskQueue, connection, nativeConnection } = await createInProcessWorker({
        address: devServer.address,
        dataConverter: encryptedDataConverter(loadCodecKeys(undefined, work)),
        secrets,
        ...options,
      });
      connections.push(connection, nativeConnection);
      inProcess.push({ worker, running: worker.run() });
      return { worker, client, taskQueue, secrets };
    },
    service,
    async startService(options) {
      const under = await service(options);
      const [worker, api] = await Promise.all([startWorker(under.env), startApi(under.env)]);
      return { ...under, worker, api };
    },
    stop() {
      stopping ??= stopStack();
      return stopping;
    },
  };
}

/** The body of an enable through the API: the org's URLs and admin tokens; the agent reads Account Name and Industry. */
export function enableBody(
  org: CreatedOrg,
  agentConfiguration: AgentConfiguration = { objects: [{ object: 'Account', fields: ['Name', 'Industry'] }] },
) {
  return {
    loginUrl: org.loginUrl,
    instanceUrl: org.instanceUrl,
    adminCredentials: { accessToken: org.accessToken, refreshToken: org.refreshToken },
    agentConfiguration,
  };
}

/**
 * Enables each of `tenants` through the API, 10 at a time, each in an org of its own (the agent reads Account Name
 * and Industry); a 503 (the connection did not answer in time) is retried with the same Idempotency-Key, as clients
 * do. Then waits until every one is `enabled`, and prints how long that took.
 */
export async function enableTenants(admin: ApiClient, emulator: RunningEmulator, tenants: string[]): Promise<void> {
  const started = Date.now();
  const target = (tenantId: string) => ({ path: { tenantId, crm: 'salesforce' as const } });
  for (let i = 0; i < tenants.length; i += 10) {
    await Promise.all(
      tenants.slice(i, i + 10).map(async (tenantId) => {
        const org = await emulator.control.createOrg({ apiDailyLimit: 100_000_000 });
        for (let attempt = 1; ; attempt += 1) {
          const { response } = await admin.POST('/v1/tenants/{tenantId}/connections/{crm}/enable', {
            params: { ...target(tenantId), header: { 'Idempotency-Key': tenantId } },
            body: enableBody(org),
          });
          if (response.status === 202) return;
          if (response.status !== 503 || attempt === 10) {
            throw new Error(`enable of ${tenantId} answered ${response.status}`);
          }
          await sleep(1000);
        }
      }),
    );
  }
  for (const tenantId of tenants) {
    for (;;) {
      const { data } = await admin.GET('/v1/tenants/{tenantId}/connections/{crm}', { params: target(tenantId) });
      if (data?.status === 'enabled') break;
      if (data && data.status !== 'enabling') throw new Error(`${tenantId} ended ${data.status}`);
      await sleep(250);
    }
  }
  console.log(`${tenants.length} connections enabled in ${round((Date.now() - started) / 1000, 1)} s`);
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json<T = unknown>(): T;
}

export interface HttpRequestOptions {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  agent?: http.Agent;
  timeoutMs?: number;
}

/** One request over loopback; rejects on a network error or after `timeoutMs` (default 60 s). */
export function httpRequest(baseUrl: string, options: HttpRequestOptions): Promise<HttpResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: options.method,
        path: options.path,
        agent: options.agent,
        headers: {
          ...(options.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(options.body)) } : {}),
          ...options.headers,
        },
        timeout: options.timeoutMs ?? 60_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: <T>() => JSON.parse(text) as T,
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${options.timeoutMs ?? 60_000} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Machine and versions

function packageVersion(name: string): string {
  try {
    const file = path.join(ROOT, 'node_modules', name, 'package.json');
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function machineFacts(temporalCli?: string) {
  let cli = 'unknown';
  if (temporalCli) {
    const match = /temporal-cli\/([\d.]+)/.exec(temporalCli) ?? /\/([\d.]+)\/temporal/.exec(temporalCli);
    cli = match?.[1] ?? path.basename(temporalCli);
  }
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    temporalSdk: packageVersion('@temporalio/worker'),
    temporalCli: cli,
    jsforce: packageVersion('jsforce'),
    express: packageVersion('express'),
  };
}

/** Exits the process (killing every child) if it is still running after `ms`. */
export function globalDeadline(ms: number, what: string, cleanup: () => void = () => undefined): NodeJS.Timeout {
  const timer = setTimeout(() => {
    console.error(`${what} exceeded its ${Math.round(ms / 1000)} s deadline; stopping everything`);
    cleanup();
    killAllServices();
    process.exit(2);
  }, ms);
  timer.unref();
  return timer;
}

/**
 * Runs a bench's or a drill's `main`, then exits the process: with `process.exitCode` (0 unless set) once it has
 * finished; on an error, with 1, after printing it and killing every service still running.
 */
export async function runMain(main: () => Promise<void>): Promise<never> {
  try {
    await main();
  } catch (err) {
    console.error(err);
    killAllServices();
    process.exit(1);
  }
  process.exit(process.exitCode ?? 0);
}

export function markdownTable(header: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.map((c) => String(c)).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/**
 * Writes a bench's report to `dir` (default REPORT_DIR): `<name>.json`, `<name>.md` when there is `markdown`, and
 * `files` (name → content) beside them; prints where. Returns the JSON file's path.
 */
export function writeBenchReport(
  name: string,
  report: unknown,
  options: { markdown?: string; files?: Record<string, string>; dir?: string } = {},
): string {
  const dir = options.dir ?? REPORT_DIR;
  const files: Record<string, string> = {
    ...(options.markdown === undefined ? {} : { [`${name}.md`]: options.markdown }),
    [`${name}.json`]: `${JSON.stringify(report, null, 2)}\n`,
    ...options.files,
  };
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), content);
  const [first, ...others] = Object.keys(files);
  console.log(`report: ${path.join(dir, first!)}${others.length > 0 ? ` (+ ${others.join(', ')})` : ''}`);
  return path.join(dir, `${name}.json`);
}
