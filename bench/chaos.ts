/**
 * `npm run chaos`: the fault drill. Over loopback, on this machine:
 *
 * - a Temporal dev server started here with its SQLite file in a temporary folder, stopped and restarted on the same
 *   port CHAOS_SERVER_RESTARTS times (default 1) with the file kept;
 * - the Salesforce emulator, injecting on every write (POST, PATCH, DELETE: REST, composite, SOAP and OAuth) 10%
 *   transient failures (503 SERVER_UNAVAILABLE) and 2% commit-then-drop-the-response, seeded;
 * - the real worker (`workers/main.ts`) as a child process, SIGKILLed CHAOS_WORKER_KILLS times (default 3) at random
 *   moments and restarted; the real API (`api/main.ts`) as a child process;
 * - CHAOS_OPERATIONS operations (default 300: enable, disable, reconnect mixed) across CHAOS_TENANTS tenants
 *   (default 50), one org each, sent through the API like a client would: retried with the same Idempotency-Key
 *   while the API answers 503 or cannot be reached, each tenant's operations one after the other.
 *
 * Then the audit compares every org with its connection's final state (0 orphaned components, 0 duplicates, 0
 * operations stuck or lost, a token for every enabled connection, a cause for every failed operation), and the
 * bad-input drill sends CHAOS_BAD_REQUESTS (default 5000) malformed requests (0 answered 5xx, 0 workflows started,
 * 0 components created). Prints the tables, writes reports/chaos.{md,json} (CHAOS_REPORT_DIR), exits 1 on any
 * violation. Bounded by CHAOS_DEADLINE_SECONDS (default 1800). CHAOS_SEED (default 7) seeds every random choice.
 *
 * `npm run chaos -- --replicas 2` (or CHAOS_REPLICAS=2): several machines' worth of the service. That many API
 * processes and worker processes, each with a data folder of its own (nothing shared on disk), against the one
 * Temporal dev server and one OpenBao dev server started here: SECRETS_BACKEND=vault for all of them, logging in with
 * an AppRole whose tokens live 30 s and are renewed up to 90 s, so they re-login during the drill. Clients spread
 * their requests over the APIs in turn, as a load balancer would, and retry on another when one does not answer.
 * Besides the worker kills (spread over the replicas), CHAOS_API_KILLS (default 1) APIs are SIGKILLed mid-operation
 * and restarted. The audit adds the signing keys left in OpenBao by no connection (0). Writes
 * reports/chaos-replicas.{md,json}.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createApiClient } from '@agent-connections/api-client';
import { startEmulator } from '@agent-connections/salesforce-emulator';
import type { Component, CreatedOrg, RunningEmulator } from '@agent-connections/salesforce-emulator';
import { startOpenBaoDevServer } from '../scripts/openbao-dev-server';
import type { RunningOpenBao } from '../scripts/openbao-dev-server';
import { ensureTool } from '../scripts/temporal-tools.cjs';
import { startDevServer } from '../scripts/temporal-dev-server';
import type { RunningDevServer } from '../scripts/temporal-dev-server';
import { fuzzedBadRequests } from '../test/support/bad-requests';
import { baoApi, createAppRole } from '../test/support/openbao';
import { leftovers } from '../test/support/salesforce';
import { SEARCH_ATTRIBUTE_TYPES } from '../workflows/definitions';
import type { ServiceProcess } from './support';
import {
  ROOT,
  benchConfiguration,
  benchOrgInput,
  enableBody,
  freePort,
  globalDeadline,
  httpRequest,
  killAllServices,
  machineFacts,
  markdownTable,
  round,
  runMain,
  seededRandom,
  serviceEnvironment,
  serviceKeys,
  sleep,
  startApi,
  startWorker,
  writeBenchReport,
} from './support';

const env = process.env;

/** `--replicas N` (or `--replicas=N`) on the command line, else CHAOS_REPLICAS, else 1. */
function replicasSetting(): number {
  const args = process.argv.slice(2);
  let value = env.CHAOS_REPLICAS ?? '1';
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    if (arg === '--replicas') value = args[(i += 1)] ?? '';
    else if (arg.startsWith('--replicas=')) value = arg.slice('--replicas='.length);
    else {
      console.error(`unknown argument ${arg}; usage: npm run chaos [-- --replicas N]`);
      process.exit(2);
    }
  }
  const replicas = Number(value);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 8) {
    console.error(`--replicas must be a whole number from 1 to 8, not "${value}"`);
    process.exit(2);
  }
  return replicas;
}

const REPLICAS = replicasSetting();
const OPERATIONS = Number(env.CHAOS_OPERATIONS ?? 300);
const TENANTS = Number(env.CHAOS_TENANTS ?? 50);
const KILLS = Number(env.CHAOS_WORKER_KILLS ?? 3);
const API_KILLS = Number(env.CHAOS_API_KILLS ?? (REPLICAS > 1 ? 1 : 0));
/** AppRole token lifetimes of the replicas drill: short, so that processes renew and log in again while it runs. */
const TOKEN_TTL_SECONDS = 30;
const TOKEN_MAX_TTL_SECONDS = 90;
const REPORT_NAME = REPLICAS > 1 ? 'chaos-replicas' : 'chaos';
const RESTARTS = Number(env.CHAOS_SERVER_RESTARTS ?? 1);
const BAD_REQUESTS = Number(env.CHAOS_BAD_REQUESTS ?? 5000);
const SEED = Number(env.CHAOS_SEED ?? 7);
const DEADLINE_MS = Number(env.CHAOS_DEADLINE_SECONDS ?? 1800) * 1000;
/** How long one operation may take to be accepted and to end before it counts as stuck. */
const OPERATION_TIMEOUT_MS = Number(env.CHAOS_OPERATION_TIMEOUT_SECONDS ?? 600) * 1000;
const REPORT_DIR = path.resolve(ROOT, env.CHAOS_REPORT_DIR ?? 'reports');
const TRANSIENT_RATE = 0.1;
const DROP_RATE = 0.02;
const CONFIGURATION = benchConfiguration(3, 5);

type Kind = 'enable' | 'disable' | 'reconnect';

interface OperationOutcome {
  tenant: string;
  kind: Kind;
  operationId?: string;
  /** accepted: 202; rejected: a definitive 4xx; unaccepted: never got an answer other than 503/5xx/network. */
  submission: 'accepted' | 'rejected' | 'unaccepted';
  rejection?: string;
  /** The operation's final status, or running/lost when it never ended or disappeared. */
  status?: string;
  failure?: { type?: string; message?: string };
  submitAttempts: number;
  seconds?: number;
}

interface Event {
  at: string;
  what: string;
}

interface OpenBaoSetup {
  server: RunningOpenBao;
  /** VAULT_PATH_PREFIX of every replica. */
  prefix: string;
}

class Stack {
  readonly workers: ServiceProcess[] = [];
  readonly apis: Array<{ process: ServiceProcess; baseUrl: string }> = [];
  devServer!: RunningDevServer;
  openBao?: OpenBaoSetup;
  readonly events: Event[] = [];
  private readonly started = Date.now();
  private nextApi = 0;

  constructor(
    readonly serviceEnv: NodeJS.ProcessEnv,
    readonly keys: ReturnType<typeof serviceKeys>,
    readonly cli: string,
    readonly port: number,
    readonly dbFile: string,
    readonly work: string,
  ) {}

  /** The first API: the audit and the bad-input drill's. */
  get baseUrl(): string {
    return this.apis[0]!.baseUrl;
  }

  /** Like a load balancer: each request to the next API in turn (a client retries on the next when one fails). */
  pickBaseUrl(): string {
    const api = this.apis[this.nextApi % this.apis.length]!;
    this.nextApi += 1;
    return api.baseUrl;
  }

  /** With replicas, each process has a data folder of its own: nothing is shared on disk, as across machines. */
  envOf(role: 'api' | 'worker', index: number): NodeJS.ProcessEnv {
    if (REPLICAS === 1) return this.serviceEnv;
    return { ...this.serviceEnv, DATA_DIR: path.join(this.work, `${role}-${index + 1}`) };
  }

  log(what: string) {
    const at = `${round((Date.now() - this.started) / 1000, 1)} s`;
    this.events.push({ at, what });
    console.log(`[chaos ${at}] ${what}`);
  }

  async startServer() {
    this.devServer = await startDevServer({
      binary: this.cli,
      port: this.port,
      dbFile: this.dbFile,
      searchAttributes: SEARCH_ATTRIBUTE_TYPES,
    });
  }
}

const sleepJitter = (rng: () => number, min: number, max: number) => sleep(min + rng() * (max - min));

/** The typed client of the API replica `pickBaseUrl` names: one per request, as a load balancer routes them. */
const apiClient = (stack: Stack, apiKey: string) => createApiClient({ baseUrl: stack.pickBaseUrl(), apiKey });

/** Sends one operation as a client would, until accepted or refused; then waits for it to end. */
async function runOperation(stack: Stack, tenant: string, kind: Kind, org: CreatedOrg): Promise<OperationOutcome> {
  const operationId = randomUUID();
  const outcome: OperationOutcome = { tenant, kind, submission: 'unaccepted', submitAttempts: 0 };
  const begin = Date.now();
  const deadline = begin + OPERATION_TIMEOUT_MS;
  // A client per request: each goes to the replica `pickBaseUrl` names.
  const api = () => apiClient(stack, stack.keys.admin);
  const path = { tenantId: tenant, crm: 'salesforce' as const };
  const params = { path, header: { 'Idempotency-Key': operationId } };
  const submit = () => {
    switch (kind) {
      case 'enable':
        return api().POST('/v1/tenants/{tenantId}/connections/{crm}/enable', {
          params,
          body: enableBody(org, CONFIGURATION),
        });
      case 'disable':
        return api().POST('/v1/tenants/{tenantId}/connections/{crm}/disable', { params, body: {} });
      case 'reconnect':
        return api().POST('/v1/tenants/{tenantId}/connections/{crm}/reconnect', { params, body: {} });
    }
  };
  while (Date.now() < deadline) {
    outcome.submitAttempts += 1;
    const answer = await submit().catch(() => undefined);
    const status = answer?.response.status;
    if (status === 202 && answer?.data && 'operationId' in answer.data) {
      outcome.submission = 'accepted';
      outcome.operationId = answer.data.operationId;
      break;
    }
    if (status !== undefined && status < 500 && status !== 429) {
      outcome.submission = 'rejected';
      outcome.rejection = `${status} ${(answer?.error?.detail ?? '').slice(0, 120)}`;
      return outcome;
    }
    await sleep(1000);
  }
  if (outcome.submission !== 'accepted' || !outcome.operationId) return outcome;
  // Wait for it to end, reading the operation as a client would; the API may be unable to answer for a while.
  while (Date.now() < deadline) {
    const last = await apiClient(stack, stack.keys.read)
      .GET('/v1/tenants/{tenantId}/connections/{crm}/operations/{operationId}', {
        params: { path: { ...path, operationId: outcome.operationId } },
      })
      .catch(() => undefined);
    if (last?.data) {
      outcome.status = last.data.status;
      if (last.data.status !== 'running') {
        outcome.failure = last.data.failure;
        outcome.seconds = round((Date.now() - begin) / 1000, 1);
        return outcome;
      }
    } else if (last?.response.status === 404) {
      outcome.status = 'lost';
    }
    await sleep(1000);
  }
  outcome.status ??= 'running';
  return outcome;
}

function nextKind(status: string | undefined, rng: () => number): Kind {
  switch (status) {
    case undefined:
    case 'disabled':
      return 'enable';
    case 'enabled':
    case 'needs_reconnect':
      return rng() < 0.5 ? 'disable' : 'reconnect';
    default:
      // error, rollback_incomplete: what an admin would do
      return rng() < 0.5 ? 'reconnect' : 'disable';
  }
}

async function connectionStatus(stack: Stack, tenant: string): Promise<string | undefined> {
  for (let attempt = 0; attempt < 120; attempt += 1) {
    const answer = await apiClient(stack, stack.keys.read)
      .GET('/v1/tenants/{tenantId}/connections/{crm}', { params: { path: { tenantId: tenant, crm: 'salesforce' } } })
      .catch(() => undefined);
    if (answer?.data) return answer.data.status;
    await sleep(1000);
  }
  return undefined;
}

/** The faults: on every write, first a 2% commit-then-drop, else a 10% transient failure. */
async function injectFaults(emulator: RunningEmulator) {
  let seed = SEED * 1000;
  for (const method of ['POST', 'PATCH', 'DELETE'] as const) {
    await emulator.control.addFault({
      match: { method },
      action: { kind: 'commitThenDrop' },
      probability: DROP_RATE,
      seed: (seed += 1),
      times: 0,
    });
    await emulator.control.addFault({
      match: { method },
      action: { kind: 'error', status: 503, errorCode: 'SERVER_UNAVAILABLE', message: 'chaos: transient failure' },
      probability: TRANSIENT_RATE / (1 - DROP_RATE),
      seed: (seed += 1),
      times: 0,
    });
  }
}

/**
 * Kills and restarts workers (and, with replicas, APIs), and stops and restarts the server, at random moments of the
 * drill. Kills go to the replicas in turn.
 */
async function chaosMonkey(stack: Stack, rng: () => number, progress: () => number): Promise<void> {
  const events = [
    ...Array.from({ length: KILLS }, () => ({ kind: 'kill' as const, at: 0.05 + rng() * 0.75 })),
    ...Array.from({ length: API_KILLS }, () => ({ kind: 'api-kill' as const, at: 0.05 + rng() * 0.75 })),
    ...Array.from({ length: RESTARTS }, () => ({ kind: 'restart' as const, at: 0.1 + rng() * 0.6 })),
  ].sort((a, b) => a.at - b.at);
  let workerKills = 0;
  let apiKills = 0;
  const which = (index: number, of: number) => (of > 1 ? ` ${index + 1} of ${of}` : '');
  for (const event of events) {
    while (progress() < event.at) await sleep(200);
    await sleepJitter(rng, 0, 3000);
    const at = `${Math.round(progress() * 100)}% of operations`;
    if (event.kind === 'kill') {
      const i = workerKills % stack.workers.length;
      workerKills += 1;
      const name = `worker${which(i, stack.workers.length)}`;
      stack.log(`SIGKILL ${name} (pid ${stack.workers[i]!.child.pid}) at ${at}`);
      await stack.workers[i]!.kill();
      await sleepJitter(rng, 500, 3000);
      stack.workers[i] = await startWorker(stack.envOf('worker', i));
      stack.log(`${name} restarted (pid ${stack.workers[i].child.pid})`);
    } else if (event.kind === 'api-kill') {
      const i = apiKills % stack.apis.length;
      apiKills += 1;
      const name = `API${which(i, stack.apis.length)}`;
      stack.log(`SIGKILL ${name} (pid ${stack.apis[i]!.process.child.pid}) at ${at}`);
      await stack.apis[i]!.process.kill();
      await sleepJitter(rng, 500, 3000);
      const api = await startApi(stack.envOf('api', i));
      stack.apis[i] = { process: api.process, baseUrl: api.baseUrl };
      stack.log(`${name} restarted (pid ${api.process.child.pid}, ${api.baseUrl})`);
    } else {
      stack.log(`stopping the Temporal server at ${Math.round(progress() * 100)}% of operations`);
      await stack.devServer.stop();
      await sleepJitter(rng, 1000, 4000);
      await stack.startServer();
      stack.log(`Temporal server restarted on port ${stack.port} with the same SQLite file`);
    }
  }
}

interface TenantAudit {
  tenant: string;
  status: string;
  operations: number;
  orphans: string[];
  duplicates: string[];
  /** ok, n/a (not enabled), or why it failed. */
  token: string;
  stuck: number;
  failedWithoutCause: number;
  /** With OpenBao: signing keys stored for the tenant beyond its connection's own (1 when enabled, else 0). */
  lingeringKeys: number;
}

/** Does a component belong to the connection whose details are these? */
function belongs(c: Component, details: { permissionSetId: string; integrationUserId: string; appApiName: string }) {
  const ids = new Set([details.permissionSetId, details.integrationUserId]);
  if (c.id && ids.has(c.id)) return true;
  if (c.parentId && ids.has(c.parentId)) return true;
  // The app and its parts (ExtlClntAppOauthSettings etc. are named <app>_plcy, <app>_oauth, <app>_glbloauth, <app>_oauthPlcy).
  if (META_KINDS.has(c.kind)) return c.name === details.appApiName || c.name.startsWith(`${details.appApiName}_`);
  return false;
}

const META_KINDS = new Set<string>([
  'ExternalClientApplication',
  'ExtlClntAppConfigurablePolicies',
  'ExtlClntAppOauthSettings',
  'ExtlClntAppGlobalOauthSettings',
  'ExtlClntAppOauthConfigurablePolicies',
  'ConnectedApp',
]);

const TOP_LEVEL = new Set([
  'PermissionSet',
  'User',
  'PermissionSetAssignment',
  'PermissionSetLicenseAssign',
  'ExternalClientApplication',
  'ExtlClntAppConfigurablePolicies',
  'ExtlClntAppOauthSettings',
  'ExtlClntAppGlobalOauthSettings',
  'ExtlClntAppOauthConfigurablePolicies',
  'ConnectedApp',
]);

async function auditTenant(
  stack: Stack,
  emulator: RunningEmulator,
  tenant: string,
  org: CreatedOrg,
  outcomes: OperationOutcome[],
): Promise<TenantAudit> {
  const path = { tenantId: tenant, crm: 'salesforce' as const };
  const read = await createApiClient({ baseUrl: stack.baseUrl, apiKey: stack.keys.read }).GET(
    '/v1/tenants/{tenantId}/connections/{crm}',
    { params: { path } },
  );
  if (!read.data) throw new Error(`the connection of ${tenant} could not be read: ${read.response.status}`);
  const view = read.data;
  const enabled = view.status === 'enabled' || view.status === 'needs_reconnect';
  const remaining = await leftovers(emulator, org.key);
  const mine = enabled && view.details ? remaining.filter((c) => belongs(c, view.details!)) : [];
  const orphans = remaining.filter((c) => !mine.includes(c)).map((c) => `${c.kind} ${c.name}`);
  const counts = new Map<string, number>();
  for (const c of remaining.filter((r) => TOP_LEVEL.has(r.kind))) counts.set(c.kind, (counts.get(c.kind) ?? 0) + 1);
  const duplicates = [...counts.entries()].filter(([, n]) => n > 1).map(([kind, n]) => `${n} × ${kind}`);
  let token = 'n/a';
  if (enabled) {
    const answer = await createApiClient({ baseUrl: stack.baseUrl, apiKey: stack.keys.agent }).POST(
      '/v1/tenants/{tenantId}/connections/{crm}/agent-token',
      { params: { path } },
    );
    token =
      typeof answer.data?.accessToken === 'string'
        ? 'ok'
        : `failed: ${answer.response.status} ${JSON.stringify(answer.error).slice(0, 120)}`;
  }
  const accepted = outcomes.filter((o) => o.submission === 'accepted');
  let lingeringKeys = 0;
  if (stack.openBao) {
    const { server, prefix } = stack.openBao;
    const listed = await baoApi(
      'GET',
      `secret/metadata/${prefix}/tenants/${tenant}/signing-keys?list=true`,
      undefined,
      undefined,
      server,
    );
    const keys = listed.status === 200 ? ((listed.json?.data?.keys as string[] | undefined) ?? []).length : 0;
    lingeringKeys = Math.max(0, keys - (enabled ? 1 : 0));
  }
  return {
    tenant,
    lingeringKeys,
    status: view.status + (view.currentOperation ? ' (operation running)' : ''),
    operations: accepted.length,
    orphans,
    duplicates,
    token,
    stuck:
      accepted.filter((o) => o.status === 'running' || o.status === 'lost').length + (view.currentOperation ? 1 : 0),
    failedWithoutCause: accepted.filter(
      (o) =>
        o.status && !['succeeded', 'running', 'lost'].includes(o.status) && !(o.failure?.type && o.failure.message),
    ).length,
  };
}

/** The bad-input drill: malformed requests against the running API; nothing may start or be created. */
async function badInputDrill(stack: Stack, client: Client, emulator: RunningEmulator) {
  const org = await emulator.control.createOrg({ key: `bad-${SEED}` });
  const componentsBefore = JSON.stringify(await emulator.control.components(org.key));
  const workflowsBefore = (await client.workflow.count()).count;
  await emulator.control.resetCounters();
  const tenant = `bad-input-${randomUUID().slice(0, 8)}`;
  const secret = 'SECRET-TOKEN-THAT-MUST-NOT-ECHO';
  const requests = fuzzedBadRequests(
    {
      keys: stack.keys,
      tenant,
      loginUrl: org.loginUrl,
      instanceUrl: org.instanceUrl,
      secret,
      agentConfiguration: CONFIGURATION,
    },
    BAD_REQUESTS,
    SEED,
  );
  const statuses: Record<string, number> = {};
  const serverErrors: string[] = [];
  const echoes: string[] = [];
  let next = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < requests.length) {
        const c = requests[next]!;
        next += 1;
        const response = await httpRequest(stack.baseUrl, { ...c, agent, timeoutMs: 30_000 }).catch(
          (err: Error) => ({ status: 0, text: err.message }) as const,
        );
        const key = response.status === 0 ? 'no answer' : String(response.status);
        statuses[key] = (statuses[key] ?? 0) + 1;
        if (response.status >= 500) serverErrors.push(`${c.name}: ${response.status} ${response.text.slice(0, 160)}`);
        if (response.text.includes(secret)) echoes.push(c.name);
      }
    }),
  );
  agent.destroy();
  await sleep(2000); // visibility is eventually consistent
  const workflowsStarted = (await client.workflow.count()).count - workflowsBefore;
  const calls = (await emulator.control.counters()).byOperation;
  const writes = Object.entries(calls).filter(([operation]) => /create|update|delete|deploy|upsert/.test(operation));
  const componentsChanged = JSON.stringify(await emulator.control.components(org.key)) !== componentsBefore;
  return {
    requests: requests.length,
    statuses,
    serverErrors,
    echoes,
    noAnswer: statuses['no answer'] ?? 0,
    workflowsStarted,
    salesforceWrites: writes.reduce((n, [, count]) => n + count, 0),
    componentsCreated: componentsChanged || writes.length > 0 ? 'yes' : 0,
  };
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const rng = seededRandom(SEED);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-'));
  const cli = ensureTool('cli');
  const keys = serviceKeys();
  const port = await freePort();
  const taskQueue = `chaos-${randomUUID()}`;
  const run = randomUUID().slice(0, 6);
  let serviceEnv = serviceEnvironment({ temporalAddress: `127.0.0.1:${port}`, taskQueue, dataDir: work, keys });
  let openBao: OpenBaoSetup | undefined;
  let baoVersion: string | undefined;
  if (REPLICAS > 1) {
    // One OpenBao for every replica; an AppRole under the shipped policy, as deploy/openbao/setup.sh makes it.
    const bao = ensureTool('bao');
    baoVersion = /v([\d.]+)/.exec(spawnSync(bao, ['version'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? 'unknown';
    const server = await startOpenBaoDevServer({ binary: bao, port: await freePort() });
    openBao = { server, prefix: `chaos-${run}` };
    const role = await createAppRole(openBao.prefix, {
      tokenTtl: TOKEN_TTL_SECONDS,
      tokenMaxTtl: TOKEN_MAX_TTL_SECONDS,
      server,
    });
    const { SECRETS_DIR: _dir, SECRETS_MASTER_KEYS: _keys, ...rest } = serviceEnv;
    serviceEnv = {
      ...rest,
      SECRETS_BACKEND: 'vault',
      VAULT_ADDR: server.address,
      VAULT_ROLE_ID: role.roleId,
      VAULT_SECRET_ID: role.secretId,
      VAULT_PATH_PREFIX: openBao.prefix,
    };
  }
  const stack = new Stack(serviceEnv, keys, cli, port, path.join(work, 'temporal.db'), work);
  stack.openBao = openBao;
  globalDeadline(DEADLINE_MS, 'npm run chaos', () => {
    void stack.devServer?.stop();
    void openBao?.server.stop();
  });
  await stack.startServer();
  const emulator = await startEmulator({ port: 0, controlPort: 0 });
  const connection = await Connection.connect({ address: stack.devServer.address });
  const client = new Client({ connection });
  try {
    const replicas = Array.from({ length: REPLICAS }, (_, i) => i);
    const [workers, apis] = await Promise.all([
      Promise.all(replicas.map((i) => startWorker(stack.envOf('worker', i)))),
      Promise.all(replicas.map((i) => startApi(stack.envOf('api', i)))),
    ]);
    stack.workers.push(...workers);
    stack.apis.push(...apis);
    const orgs: CreatedOrg[] = [];
    for (let i = 0; i < TENANTS; i += 1) orgs.push(await emulator.control.createOrg(benchOrgInput(3, 5)));
    const tenants = orgs.map((_, i) => `chaos-${run}-${i}`);
    await injectFaults(emulator);
    stack.log(
      `${OPERATIONS} operations across ${TENANTS} tenants; faults on every write: ${TRANSIENT_RATE * 100}% transient, ` +
        `${DROP_RATE * 100}% commit-then-drop (seed ${SEED}); ${KILLS} worker kill(s), ${RESTARTS} server restart(s)` +
        (REPLICAS > 1
          ? `; ${REPLICAS} APIs and ${REPLICAS} workers on OpenBao ${openBao!.server.address}, ${API_KILLS} API kill(s)`
          : ''),
    );

    const outcomes: OperationOutcome[] = [];
    let done = 0;
    const monkey = chaosMonkey(stack, rng, () => done / OPERATIONS);
    const perTenant = tenants.map((_, i) => Math.floor(OPERATIONS / TENANTS) + (i < OPERATIONS % TENANTS ? 1 : 0));
    const tenantRngs = tenants.map((_, i) => seededRandom(SEED * 7919 + i));
    await Promise.all(
      tenants.map(async (tenant, i) => {
        let status: string | undefined;
        for (let j = 0; j < perTenant[i]!; j += 1) {
          const kind = nextKind(status, tenantRngs[i]!);
          const outcome = await runOperation(stack, tenant, kind, orgs[i]!);
          outcomes.push(outcome);
          done += 1;
          if (done % 25 === 0) stack.log(`${done}/${OPERATIONS} operations done`);
          status = await connectionStatus(stack, tenant);
        }
      }),
    );
    // Every event must have happened, even if the operations ended first.
    done = OPERATIONS;
    await monkey;
    stack.log('operations done; clearing faults for the audit');
    await emulator.control.clearFaults();

    const audits: TenantAudit[] = [];
    for (let i = 0; i < TENANTS; i += 1) {
      audits.push(
        await auditTenant(
          stack,
          emulator,
          tenants[i]!,
          orgs[i]!,
          outcomes.filter((o) => o.tenant === tenants[i]),
        ),
      );
    }
    stack.log('audit done; bad-input drill');
    const bad = await badInputDrill(stack, client, emulator);
    stack.log('bad-input drill done');

    const count = (pred: (o: OperationOutcome) => boolean) => outcomes.filter(pred).length;
    const byKind = (['enable', 'disable', 'reconnect'] as const).map((kind) => {
      const of = outcomes.filter((o) => o.kind === kind);
      const accepted = of.filter((o) => o.submission === 'accepted');
      return [
        kind,
        of.length,
        accepted.length,
        of.filter((o) => o.submission === 'rejected').length,
        accepted.filter((o) => o.status === 'succeeded').length,
        accepted.filter((o) => o.status && !['succeeded', 'running', 'lost'].includes(o.status)).length,
        accepted.filter((o) => o.status === 'running' || o.status === 'lost').length,
      ];
    });
    const totals = {
      orphans: audits.reduce((n, a) => n + a.orphans.length, 0),
      duplicates: audits.reduce((n, a) => n + a.duplicates.length, 0),
      stuckOrLost: audits.reduce((n, a) => n + a.stuck, 0),
      unaccepted: count((o) => o.submission === 'unaccepted'),
      tokensFailed: audits.filter((a) => a.token !== 'ok' && a.token !== 'n/a').length,
      failedWithoutCause: audits.reduce((n, a) => n + a.failedWithoutCause, 0),
      lingeringKeys: audits.reduce((n, a) => n + a.lingeringKeys, 0),
    };
    const auditRows: Array<[string, number, string]> = [
      ['orphaned components', totals.orphans, '0'],
      ['duplicate components', totals.duplicates, '0'],
      ['operations stuck or lost', totals.stuckOrLost, '0'],
      ['operations never accepted (API unavailable throughout)', totals.unaccepted, '0'],
      ['enabled connections without a token', totals.tokensFailed, '0'],
      ['failed operations without a cause', totals.failedWithoutCause, '0'],
      ...(openBao
        ? [['signing keys left in OpenBao by no connection', totals.lingeringKeys, '0'] as [string, number, string]]
        : []),
      ['bad input: responses 5xx', bad.serverErrors.length, '0'],
      ['bad input: requests without an answer', bad.noAnswer, '0'],
      ['bad input: secrets echoed', bad.echoes.length, '0'],
      ['bad input: workflows started', bad.workflowsStarted, '0'],
      ['bad input: Salesforce writes / components created', bad.salesforceWrites, '0'],
    ];
    const violations = auditRows.filter(([, value, expected]) => String(value) !== expected);
    const statusCounts = new Map<string, number>();
    for (const a of audits) statusCounts.set(a.status, (statusCounts.get(a.status) ?? 0) + 1);
    const failureCauses = new Map<string, number>();
    for (const o of outcomes.filter((x) => x.failure?.type))
      failureCauses.set(o.failure!.type!, (failureCauses.get(o.failure!.type!) ?? 0) + 1);
    const rejections = new Map<string, number>();
    for (const o of outcomes.filter((x) => x.rejection))
      rejections.set(o.rejection!, (rejections.get(o.rejection!) ?? 0) + 1);
    const durations = outcomes
      .filter((o) => o.seconds !== undefined)
      .map((o) => o.seconds!)
      .sort((a, b) => a - b);
    const machine = machineFacts(cli);
    const seconds = Math.round((Date.now() - startedAt) / 1000);
    const md = [
      `# Chaos drill: agent-connections${REPLICAS > 1 ? `, ${REPLICAS} replicas` : ''}`,
      '',
      `${new Date().toISOString()} · seed ${SEED} · ${seconds} s in all · ${machine.cpus} cores, ${machine.memoryGiB} GiB, ` +
        `Node ${machine.node}, Temporal SDK ${machine.temporalSdk}, Temporal CLI ${machine.temporalCli} (SQLite file)` +
        (baoVersion ? `, OpenBao ${baoVersion} (dev server)` : ''),
      '',
      `${OPERATIONS} operations across ${TENANTS} tenants (one org each, 3 objects × 5 fields), through the API. ` +
        `Emulator faults on every write (POST, PATCH, DELETE): ${TRANSIENT_RATE * 100}% transient 503, ` +
        `${DROP_RATE * 100}% commit-then-drop. ${KILLS} worker SIGKILL(s), ${RESTARTS} Temporal server restart(s).` +
        (REPLICAS > 1
          ? ` ${REPLICAS} API processes and ${REPLICAS} worker processes, each with its own data folder; clients ` +
            `spread over the APIs in turn; ${API_KILLS} API SIGKILL(s). Secrets in one OpenBao (SECRETS_BACKEND=vault, ` +
            `AppRole tokens of ${TOKEN_TTL_SECONDS} s renewed up to ${TOKEN_MAX_TTL_SECONDS} s).`
          : ''),
      '',
      '## Audit',
      '',
      markdownTable(
        ['check', 'found', 'expected', 'verdict'],
        auditRows.map(([check, value, expected]) => [
          check,
          value,
          expected,
          String(value) === expected ? 'ok' : '**VIOLATION**',
        ]),
      ),
      '',
      '## Operations',
      '',
      markdownTable(['kind', 'sent', 'accepted', 'refused (4xx)', 'succeeded', 'failed (with cause)', 'stuck'], byKind),
      '',
      `Operation duration (request → end): p50 ${durations[Math.floor(durations.length / 2)] ?? '-'} s, ` +
        `max ${durations[durations.length - 1] ?? '-'} s. Submissions retried while the API answered 503 or was ` +
        `unreachable: ${outcomes.reduce((n, o) => n + o.submitAttempts - 1, 0)}.`,
      '',
      markdownTable(
        ['final connection status', 'tenants'],
        [...statusCounts.entries()].map(([status, n]) => [status, n]),
      ),
      '',
      ...(failureCauses.size > 0
        ? [markdownTable(['failure cause', 'operations'], [...failureCauses.entries()]), '']
        : []),
      ...(rejections.size > 0 ? [markdownTable(['refusal', 'requests'], [...rejections.entries()]), ''] : []),
      '## Events',
      '',
      markdownTable(
        ['at', 'event'],
        stack.events.map((e) => [e.at, e.what]),
      ),
      '',
      '## Bad-input drill',
      '',
      `${bad.requests} malformed requests; statuses: ${Object.entries(bad.statuses)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([s, n]) => `${s} × ${n}`)
        .join(', ')}.`,
      '',
      ...(violations.length > 0
        ? [
            '## Violations',
            '',
            ...audits
              .filter(
                (a) =>
                  a.orphans.length + a.duplicates.length + a.stuck + a.failedWithoutCause + a.lingeringKeys > 0 ||
                  /failed/.test(a.token),
              )
              .map(
                (a) =>
                  `- ${a.tenant} (${a.status}): orphans [${a.orphans.join('; ')}], duplicates [${a.duplicates.join('; ')}], ` +
                  `stuck ${a.stuck}, without cause ${a.failedWithoutCause}, token ${a.token}, ` +
                  `lingering signing keys ${a.lingeringKeys}`,
              ),
            ...bad.serverErrors.slice(0, 20).map((e) => `- bad input: ${e}`),
            '',
          ]
        : []),
      `Verdict: **${violations.length === 0 ? 'PASS' : `FAIL (${violations.length} violated checks)`}**`,
      '',
    ].join('\n');
    console.log(`\n${md}`);
    writeBenchReport(
      REPORT_NAME,
      {
        drill: 'npm run chaos',
        date: new Date().toISOString(),
        settings: {
          OPERATIONS,
          TENANTS,
          KILLS,
          RESTARTS,
          BAD_REQUESTS,
          SEED,
          TRANSIENT_RATE,
          DROP_RATE,
          REPLICAS,
          API_KILLS,
          ...(openBao ? { TOKEN_TTL_SECONDS, TOKEN_MAX_TTL_SECONDS, openBao: baoVersion } : {}),
        },
        machine,
        seconds,
        passed: violations.length === 0,
        audit: Object.fromEntries(auditRows.map(([check, value]) => [check, value])),
        events: stack.events,
        tenants: audits,
        operations: outcomes,
        badInput: { ...bad, serverErrors: bad.serverErrors.slice(0, 100) },
      },
      { markdown: md, dir: REPORT_DIR },
    );
    process.exitCode = violations.length === 0 ? 0 : 1;
  } finally {
    killAllServices();
    await connection.close().catch(() => undefined);
    await emulator.close();
    await stack.devServer.stop();
    await openBao?.server.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

void runMain(main);
