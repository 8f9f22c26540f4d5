/**
 * `npm run bench`: the full benchmark, with a report (Markdown, JSON, SVG) under reports/.
 *
 * On this machine, over loopback: a real Temporal dev server (in memory), the Salesforce emulator (no latency, no
 * propagation delay, in this process), and the real worker (`workers/main.ts`) and API (`api/main.ts`) as child
 * processes whose memory and CPU are read from /proc. Each run measures:
 *
 * - throughput: N enables (BENCH_N, default 500; one tenant and one org each, since a tenant runs one operation at a
 *   time) of 3 objects × 20 fields, POSTed through the API by BENCH_CLIENTS (50) concurrent clients as fast as it
 *   accepts them; enables/s and p50/p95/p99 seconds from request to enabled; POST latency p50/p99;
 * - the baseline: N runs of a workflow with as many no-op activities as an enable (bench/baseline-workflow.ts), on a
 *   worker process with the same settings, started as fast as the server accepts them; the ratio ours / baseline;
 * - Salesforce calls per enable by endpoint (emulator counters) for 3 × 10, 3 × 60 and 10 × 100 fields;
 * - worker and API peak RSS and CPU seconds per enable, and the most operations in flight at once;
 * - update access: BENCH_UPDATE_N (default 3) updates of enabled connections, one at a time, to 3 fields and to 30
 *   fields: seconds from request to done and Salesforce calls per update (measured once, after the runs).
 *
 * - while the enables run, BENCH_READERS (default 4) clients GET random connections already accepted (enabled or in
 *   progress), each pausing BENCH_READER_PAUSE_MS (default 250) between reads, as a few dashboards polling would: GET p50/p99 under the load;
 * - while the enables run, an admin of another tenant clicks Save: one enable of a fresh tenant every
 *   BENCH_PROBE_INTERVAL_MS (default 1000; 0: no probe), from a client of its own; its POST p50/p99 while the clients still submit
 *   (the burst) and once every enable is accepted and only their work runs (the background), in a run of N enables
 *   of its own after the throughput runs (its enables would weigh on their figures);
 * - after the runs, the goals measured by the smaller benches, each in a process of its own (a dev server of its own,
 *   the machine otherwise idle): Temporal Actions per enable and per health check (bench/cost-bench.ts), agent-token
 *   p99 at 200 requests/s over 100 tenants (bench/agent-token-bench.ts; BENCH_AGENT_TOKEN_TENANTS, _RATE, _SECONDS
 *   size it), and the health checks' peak minute over mean minute for 1,000 connections, computed from the Schedules'
 *   spec (activities/health-schedule-spec.ts).
 *
 * BENCH_ONLY=<part>[,<part>…] measures only those parts and prints their Goals rows (no report files): `latency` (one
 * run of N enables through the API with the readers: POST and GET latency, 503s, worker RSS), `update_access`,
 * `design` (the baseline and its variants, each adding one thing the design asks of Temporal, then orchestration only:
 * a table, no goal), `cost`, `agent_token`, `health_spread`, `fleet`.
 * Every figure is the median of BENCH_RUNS runs (default 3). Bounded by BENCH_DEADLINE_SECONDS (default 1800).
 * BENCH_REPORT_DIR (default reports/) says where the report goes.
 */
import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { WithStartWorkflowOperation, WorkflowFailedError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { createApiClient } from '@agent-connections/api-client';
import type { CreatedOrg, RunningEmulator } from '@agent-connections/salesforce-emulator';
import { healthCadence, peakToMeanMinute } from '../activities/health-schedule-spec';
import type { baselineAdmitted } from './baseline-workflow';
import { operateUpdate } from './baseline-workflow';
import { benchChart } from './chart';
import type { ServiceKeys, ServiceProcess } from './support';
import {
  REPORT_DIR,
  ROOT,
  benchConfiguration,
  benchOrgInput,
  enableBody,
  globalDeadline,
  machineFacts,
  markdownTable,
  median,
  percentile,
  round,
  sleep,
  startApi,
  processUsage,
  runMain,
  startBenchStack,
  startWorker,
  WORKER_SETTINGS,
  writeBenchReport,
} from './support';

const env = process.env;
const N = Number(env.BENCH_N ?? 500);
const RUNS = Number(env.BENCH_RUNS ?? 3);
const CLIENTS = Number(env.BENCH_CLIENTS ?? 50);
const CALLS_N = Number(env.BENCH_CALLS_N ?? 10);
const UPDATE_N = Number(env.BENCH_UPDATE_N ?? 3);
const DEADLINE_MS = Number(env.BENCH_DEADLINE_SECONDS ?? 1800) * 1000;
const OBJECTS = 3;
const FIELDS = 20;
const CALL_SIZES: Array<[number, number]> = [
  [3, 10],
  [3, 60],
  [10, 100],
];
/** Update access from one field to each of these configurations (objects × fields): 3 and 30 fields. */
const UPDATE_SIZES: Array<[number, number]> = [
  [1, 3],
  [3, 10],
];
const READERS = Number(env.BENCH_READERS ?? 4);
const READER_PAUSE_MS = Number(env.BENCH_READER_PAUSE_MS ?? 250);
const PROBE_INTERVAL_MS = Number(env.BENCH_PROBE_INTERVAL_MS ?? 1000);
/** The admin-click probe stops after this many enables (each needs an org of its own). */
const PROBE_MAX = 150;
/** Goals of issue 7, issue 12 (update access) and issue 13 (a fleet). */
const GOALS = {
  callsPerEnable: 12,
  workerRssMB: 400,
  inFlight: 200,
  callsPerUpdate: 4,
  postP99Ms: 250,
  postP99StretchMs: 100,
  getP99Ms: 100,
  orchestrationRatio: 0.6,
  oursRatio: 0.35,
  actionsPerEnable: 20,
  actionsPerHealthCheck: 4,
  healthPeakToMean: 2,
  healthSpreadConnections: 1000,
  agentTokenP99Ms: 20,
  fleetTenants: 200,
};
/** The parts BENCH_ONLY may name. */
const PARTS = ['latency', 'update_access', 'design', 'cost', 'agent_token', 'health_spread', 'fleet'] as const;
type Part = (typeof PARTS)[number];

interface Stack {
  client: Client;
  emulator: RunningEmulator;
  baseUrl: string;
  keys: ServiceKeys;
  worker: ServiceProcess;
  api: ServiceProcess;
  baselineWorker: ServiceProcess;
  baselineQueue: string;
  devServerPid: number | undefined;
  /** An API and a worker of their own, the worker with the Salesforce work answered at once (orchestration only). */
  orchestration: ServiceUnderTest;
}

/** An API and the worker behind it. */
interface ServiceUnderTest {
  baseUrl: string;
  worker: ServiceProcess;
  api: ServiceProcess;
}

interface Sample {
  t: number;
  completed: number;
  inFlight: number;
  workerRssMB: number;
  apiRssMB: number;
}

interface LoadResult {
  count: number;
  succeeded: number;
  failures: string[];
  elapsedSeconds: number;
  perSecond: number;
  latencySeconds: { p50: number; p95: number; p99: number };
  /** Completion times, seconds since the first request. */
  completions: number[];
  samples: Sample[];
  maxInFlight: number;
  /** CPU seconds per completed item, by process, over the load. */
  cpuPerItem: Record<string, number>;
}

interface OursResult extends LoadResult {
  postMs: { p50: number; p99: number };
  /** Every POST answered other than 202 and retried (503, 429, other 5xx, no answer). */
  postRetries: number;
  /** POSTs answered 503 (the connection workflow did not answer in time). */
  post503: number;
  /** GET of a connection by the concurrent readers while the enables ran (none when the run had no readers). */
  getMs: { p50: number; p99: number; reads: number; failed: number };
  /** An admin's enable of another tenant, once a PROBE_INTERVAL_MS, during the burst and once it was accepted. */
  probeMs: ProbeLatency;
  workerPeakRssMB: number;
  /** Peak worker RSS while the load rose to GOALS.inFlight operations in flight (null if it never got there). */
  workerRssToGoalInFlightMB: number | null;
  apiPeakRssMB: number;
  workerCpuSecondsPerEnable: number;
  apiCpuSecondsPerEnable: number;
  callsPerEnable: number;
  callsByEndpoint: Record<string, number>;
}

function latencyStats(latencies: number[]) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    p50: round(percentile(sorted, 50), 3),
    p95: round(percentile(sorted, 95), 3),
    p99: round(percentile(sorted, 99), 3),
  };
}

/**
 * The worker's peak RSS from the start of a load until the first moment more than `inFlight` operations were in
 * flight: its memory "with that many in flight". Later samples carry what a larger crowd left in the heap.
 */
function rssUpToInFlight(samples: Sample[], inFlight: number): number | null {
  const beyond = samples.findIndex((s) => s.inFlight > inFlight);
  if (beyond < 0 && !samples.some((s) => s.inFlight >= inFlight)) return null;
  const upTo = beyond < 0 ? samples : samples.slice(0, beyond);
  return round(Math.max(0, ...upTo.map((s) => s.workerRssMB)), 1);
}

/** CPU seconds so far of each process that works for a load, by name. */
type CpuMeters = Record<string, () => number | undefined>;

function readCpu(meters: CpuMeters): Record<string, number | undefined> {
  return Object.fromEntries(Object.entries(meters).map(([name, read]) => [name, read()]));
}

/** The processes a load costs CPU in: the Temporal server, this process (emulator and clients), and the workers. */
function cpuMetersOf(stack: Stack, services: Record<string, ServiceProcess>): CpuMeters {
  return {
    'Temporal server': () => processUsage(stack.devServerPid)?.cpuSeconds,
    'bench process (emulator, clients)': () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1e6;
    },
    ...Object.fromEntries(Object.entries(services).map(([name, service]) => [name, () => service.usage()?.cpuSeconds])),
  };
}

/** Waits for a workflow to close; the workflow may not exist yet when the API answered (its start is queued). */
async function closed(client: Client, workflowId: string, deadline: number): Promise<string | undefined> {
  for (;;) {
    try {
      await client.workflow.getHandle(workflowId).result();
      return undefined;
    } catch (err) {
      if (err instanceof WorkflowFailedError) return `${workflowId}: ${String(err.cause?.message ?? err.message)}`;
      if (!(err instanceof WorkflowNotFoundError) || Date.now() > deadline) return `${workflowId}: ${String(err)}`;
      await sleep(100);
    }
  }
}

/**
 * Drives `count` items through `submit` with CLIENTS concurrent submitters (each waits only for acceptance), and
 * waits for every accepted item to finish. Samples progress and the processes' memory every 250 ms.
 */
async function load(
  count: number,
  submit: (index: number) => Promise<{ accepted: boolean; done: Promise<string | undefined> }>,
  processes: { worker?: ServiceProcess; api?: ServiceProcess },
  cpuMeters: CpuMeters,
): Promise<LoadResult> {
  const cpuBefore = readCpu(cpuMeters);
  const started = Date.now();
  const latencies: number[] = [];
  const completions: number[] = [];
  const failures: string[] = [];
  const pending: Array<Promise<void>> = [];
  let accepted = 0;
  let finished = 0;
  let maxInFlight = 0;
  const samples: Sample[] = [];
  // A service that dies mid-load would leave its operations waiting until the bench's deadline: stop at once instead,
  // with what it last wrote (the cause, such as V8's heap limit).
  let serviceLost: (err: Error) => void = () => undefined;
  const lost = new Promise<never>((_, reject) => (serviceLost = reject));
  const timer = setInterval(() => {
    const gone = [processes.worker, processes.api].find((service) => service?.exited());
    if (gone) serviceLost(new Error(`the ${gone.name} exited during the load:\n${gone.output()}`));
    const inFlight = accepted - finished;
    maxInFlight = Math.max(maxInFlight, inFlight);
    samples.push({
      t: (Date.now() - started) / 1000,
      completed: completions.length,
      inFlight,
      workerRssMB: round(processes.worker?.usage()?.rssMB ?? 0, 1),
      apiRssMB: round(processes.api?.usage()?.rssMB ?? 0, 1),
    });
  }, 250);
  let next = 0;
  const submitters = Promise.all(
    Array.from({ length: Math.min(CLIENTS, count) }, async () => {
      while (next < count) {
        const index = next;
        next += 1;
        const begin = Date.now();
        const submitted = await submit(index);
        if (!submitted.accepted) {
          failures.push(`item ${index} not accepted`);
          continue;
        }
        accepted += 1;
        pending.push(
          submitted.done.then((failure) => {
            finished += 1;
            if (failure) failures.push(failure);
            else {
              latencies.push((Date.now() - begin) / 1000);
              completions.push((Date.now() - started) / 1000);
            }
          }),
        );
      }
    }),
  );
  try {
    await Promise.race([submitters.then(() => Promise.all(pending)), lost]);
  } finally {
    clearInterval(timer);
  }
  const cpuAfter = readCpu(cpuMeters);
  const elapsedSeconds = Math.max(...completions, 0.001);
  return {
    cpuPerItem: Object.fromEntries(
      Object.keys(cpuMeters).map((name) => [
        name,
        round(((cpuAfter[name] ?? NaN) - (cpuBefore[name] ?? NaN)) / Math.max(1, latencies.length), 4),
      ]),
    ),
    count,
    succeeded: latencies.length,
    failures,
    elapsedSeconds: round(elapsedSeconds),
    perSecond: round(latencies.length / elapsedSeconds),
    latencySeconds: latencyStats(latencies),
    completions,
    samples,
    maxInFlight,
  };
}

/**
 * The Salesforce calls the run's own orgs received since the counters were reset: the health checks of connections
 * enabled by earlier runs (each at its own offset in the hour) call their orgs meanwhile, and are not the run's.
 */
async function callsOf(emulator: RunningEmulator, orgs: CreatedOrg[]) {
  const byOperation: Record<string, number> = {};
  let total = 0;
  for (let i = 0; i < orgs.length; i += 25) {
    const snapshots = await Promise.all(orgs.slice(i, i + 25).map((org) => emulator.control.counters(org.key)));
    for (const snapshot of snapshots) {
      total += snapshot.total;
      for (const [operation, n] of Object.entries(snapshot.byOperation))
        byOperation[operation] = (byOperation[operation] ?? 0) + n;
    }
  }
  return { total, byOperation };
}

async function createOrgs(emulator: RunningEmulator, count: number, objects: number, fields: number) {
  const orgs: CreatedOrg[] = [];
  for (let i = 0; i < count; i += 25) {
    const batch = Array.from({ length: Math.min(25, count - i) }, () =>
      emulator.control.createOrg(benchOrgInput(objects, fields)),
    );
    orgs.push(...(await Promise.all(batch)));
  }
  return orgs;
}

/**
 * `readers` clients that GET a random connection among `tenants` (those whose enable was accepted so far: enabled or
 * in progress) in a loop, pausing READER_PAUSE_MS between reads, until stopped: the latency of a dashboard reading
 * connections while the enables run.
 */
function readConnections(baseUrl: string, apiKey: string, readers: number, tenants: string[]) {
  const latencies: number[] = [];
  let failed = 0;
  let reading = true;
  const loops = Array.from({ length: readers }, async () => {
    const api = createApiClient({ baseUrl, apiKey });
    while (reading) {
      const tenantId = tenants[Math.floor(Math.random() * tenants.length)];
      if (tenantId === undefined) {
        await sleep(20);
        continue;
      }
      const begin = process.hrtime.bigint();
      const answer = await api
        .GET('/v1/tenants/{tenantId}/connections/{crm}', { params: { path: { tenantId, crm: 'salesforce' } } })
        .catch(() => undefined);
      latencies.push(Number(process.hrtime.bigint() - begin) / 1e6);
      if (answer?.response.status !== 200) failed += 1;
      await sleep(READER_PAUSE_MS);
    }
  });
  return {
    async stop() {
      reading = false;
      await Promise.all(loops);
      const sorted = [...latencies].sort((a, b) => a - b);
      return {
        p50: round(percentile(sorted, 50), 1),
        p99: round(percentile(sorted, 99), 1),
        reads: latencies.length,
        failed,
      };
    },
  };
}

/** One enable of a tenant through the API (its tenant id is its Idempotency-Key): the answer, and how long it took. */
async function postEnable(
  api: ReturnType<typeof createApiClient>,
  tenantId: string,
  body: ReturnType<typeof enableBody>,
) {
  const begin = process.hrtime.bigint();
  const answer = await api
    .POST('/v1/tenants/{tenantId}/connections/{crm}/enable', {
      params: { path: { tenantId, crm: 'salesforce' }, header: { 'Idempotency-Key': tenantId } },
      body,
    })
    .catch(() => undefined);
  return { ms: Number(process.hrtime.bigint() - begin) / 1e6, answer };
}

/** The operation's workflow, when an enable's answer is an accepted operation. */
function acceptedWorkflowId(answer: Awaited<ReturnType<typeof postEnable>>['answer']): string | undefined {
  return answer?.data && 'workflowId' in answer.data ? answer.data.workflowId : undefined;
}

/** POST latency of the admin-click probe in one phase of a load. */
interface PhaseLatency {
  p50: number;
  p99: number;
  clicks: number;
  /** Clicks answered other than 202 (a 503 when the connection workflow did not answer in time). */
  failed: number;
}

interface ProbeLatency {
  /** While the load's clients were still submitting. */
  burst: PhaseLatency;
  /** Once every enable of the load was accepted: only their sagas, readiness waits and health checks ran. */
  background: PhaseLatency;
}

/**
 * An admin of another tenant clicking Save while a load runs: one enable of a fresh tenant (an org of its own) every
 * PROBE_INTERVAL_MS, each waiting only for its answer, tagged with the phase of the load it was sent in. Until
 * stopped, or PROBE_MAX clicks; `stop()` also waits for the probe's enables to end, so that they weigh on no later run.
 */
async function probeAdmissions(stack: Stack, service: ServiceUnderTest, inBurst: () => boolean) {
  const orgs = await createOrgs(stack.emulator, PROBE_MAX, OBJECTS, FIELDS);
  const configuration = benchConfiguration(OBJECTS, FIELDS);
  const api = createApiClient({ baseUrl: service.baseUrl, apiKey: stack.keys.admin });
  const run = randomUUID().slice(0, 8);
  const clicks: Array<{ burst: boolean; ms: number; ok: boolean }> = [];
  const enables: Array<Promise<string | undefined>> = [];
  let probing = true;
  const loop = (async () => {
    for (let i = 0; probing && i < orgs.length; i += 1) {
      const next = sleep(PROBE_INTERVAL_MS);
      const burst = inBurst();
      const { ms, answer } = await postEnable(api, `probe-${run}-${i}`, enableBody(orgs[i]!, configuration));
      const workflowId = answer?.response.status === 202 ? acceptedWorkflowId(answer) : undefined;
      clicks.push({ burst, ms, ok: workflowId !== undefined });
      if (workflowId) enables.push(closed(stack.client, workflowId, Date.now() + DEADLINE_MS));
      await next;
    }
  })();
  const phase = (burst: boolean): PhaseLatency => {
    const inPhase = clicks.filter((c) => c.burst === burst);
    const sorted = inPhase.map((c) => c.ms).sort((a, b) => a - b);
    return {
      p50: sorted.length ? round(percentile(sorted, 50), 1) : 0,
      p99: sorted.length ? round(percentile(sorted, 99), 1) : 0,
      clicks: inPhase.length,
      failed: inPhase.filter((c) => !c.ok).length,
    };
  };
  return {
    async stop(): Promise<ProbeLatency> {
      probing = false;
      await loop;
      await Promise.all(enables);
      return { burst: phase(true), background: phase(false) };
    },
  };
}

/** N enables through the API; the stack's worker runs them (`readers` clients GET connections meanwhile). */
async function runOurs(
  stack: Stack,
  count: number,
  objects: number,
  fields: number,
  service: ServiceUnderTest = stack,
  readers = 0,
  probe = false,
): Promise<OursResult> {
  const orgs = await createOrgs(stack.emulator, count, objects, fields);
  const configuration = benchConfiguration(objects, fields);
  const run = randomUUID().slice(0, 8);
  const api = createApiClient({ baseUrl: service.baseUrl, apiKey: stack.keys.admin });
  const postMs: number[] = [];
  let postRetries = 0;
  let post503 = 0;
  const accepted: string[] = [];
  const reading = readConnections(service.baseUrl, stack.keys.read, readers, accepted);
  // Its enables add to the load's work: a run with the probe is a run of its own, kept out of the throughput figures.
  const probing =
    probe && PROBE_INTERVAL_MS > 0 ? await probeAdmissions(stack, service, () => accepted.length < count) : undefined;
  await stack.emulator.control.resetCounters();
  const workerBefore = service.worker.usage();
  const apiBefore = service.api.usage();
  const deadline = Date.now() + DEADLINE_MS;
  const result = await load(
    count,
    async (index) => {
      const org = orgs[index]!;
      const body = enableBody(org, configuration);
      for (let attempt = 0; attempt < 50; attempt += 1) {
        const { ms, answer } = await postEnable(api, `bench-${run}-${index}`, body);
        postMs.push(ms);
        const status = answer?.response.status;
        const workflowId = status === 202 ? acceptedWorkflowId(answer) : undefined;
        if (workflowId) {
          accepted.push(`bench-${run}-${index}`);
          return { accepted: true, done: closed(stack.client, workflowId, deadline) };
        }
        if (status !== undefined && status !== 503 && status !== 429 && status < 500) {
          return { accepted: false, done: Promise.resolve(`${status} ${JSON.stringify(answer?.error).slice(0, 200)}`) };
        }
        if (status === 503) post503 += 1;
        postRetries += 1;
        await sleep(200);
      }
      return { accepted: false, done: Promise.resolve('never accepted') };
    },
    { worker: service.worker, api: service.api },
    cpuMetersOf(stack, { worker: service.worker, API: service.api }),
  );
  const getMs = await reading.stop();
  const none = { p50: 0, p99: 0, clicks: 0, failed: 0 };
  const probeMs = probing ? await probing.stop() : { burst: none, background: none };
  const workerAfter = service.worker.usage();
  const apiAfter = service.api.usage();
  const counters = await callsOf(stack.emulator, orgs);
  const sortedPost = [...postMs].sort((a, b) => a - b);
  const perEnable = (n: number) => round(n / Math.max(1, result.succeeded), 2);
  return {
    ...result,
    postMs: { p50: round(percentile(sortedPost, 50), 1), p99: round(percentile(sortedPost, 99), 1) },
    postRetries,
    post503,
    getMs,
    probeMs,
    workerPeakRssMB: round(Math.max(0, ...result.samples.map((s) => s.workerRssMB)), 1),
    workerRssToGoalInFlightMB: rssUpToInFlight(result.samples, GOALS.inFlight),
    apiPeakRssMB: round(Math.max(0, ...result.samples.map((s) => s.apiRssMB)), 1),
    workerCpuSecondsPerEnable: round(
      ((workerAfter?.cpuSeconds ?? NaN) - (workerBefore?.cpuSeconds ?? NaN)) / result.succeeded,
      4,
    ),
    apiCpuSecondsPerEnable: round(
      ((apiAfter?.cpuSeconds ?? NaN) - (apiBefore?.cpuSeconds ?? NaN)) / result.succeeded,
      4,
    ),
    callsPerEnable: perEnable(counters.total),
    callsByEndpoint: Object.fromEntries(
      Object.entries(counters.byOperation)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([operation, n]) => [operation, perEnable(n)]),
    ),
  };
}

interface UpdateAccessResult {
  size: string;
  fields: number;
  updates: number;
  failed: number;
  failures: string[];
  seconds: { p50: number; max: number };
  callsPerUpdate: number;
  byEndpoint: Record<string, number>;
}

/**
 * `count` connections enabled with one field, then each updated in place, one at a time, to `objects × fields`:
 * seconds from the request to the end of the operation, and Salesforce calls per update (emulator counters, which
 * count only these updates: nothing else runs meanwhile).
 */
async function runUpdateAccess(stack: Stack, count: number, objects: number, fields: number) {
  const orgs = await createOrgs(stack.emulator, count, 3, 10);
  const run = randomUUID().slice(0, 8);
  const api = createApiClient({ baseUrl: stack.baseUrl, apiKey: stack.keys.admin });
  const deadline = Date.now() + DEADLINE_MS;
  const failures: string[] = [];
  const tenant = (i: number) => ({ tenantId: `bench-update-${run}-${i}`, crm: 'salesforce' as const });
  const enabled = await Promise.all(
    orgs.map(async (org, i) => {
      const answer = await api.POST('/v1/tenants/{tenantId}/connections/{crm}/enable', {
        params: { path: tenant(i), header: { 'Idempotency-Key': `enable-${run}-${i}` } },
        body: enableBody(org, benchConfiguration(1, 1)),
      });
      return answer.data && 'workflowId' in answer.data
        ? closed(stack.client, answer.data.workflowId, deadline)
        : 'enable refused';
    }),
  );
  failures.push(...enabled.filter((f): f is string => f !== undefined));
  await stack.emulator.control.resetCounters();
  const seconds: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const begin = Date.now();
    // The connection takes in its enable's outcome just after the enable closes: until then it answers 409.
    let answer;
    for (let attempt = 0; attempt < 50; attempt += 1) {
      answer = await api.POST('/v1/tenants/{tenantId}/connections/{crm}/update-access', {
        params: { path: tenant(i), header: { 'Idempotency-Key': `update-${run}-${i}` } },
        body: { agentConfiguration: benchConfiguration(objects, fields) },
      });
      if (answer.response.status !== 409) break;
      await sleep(100);
    }
    const failure =
      answer?.data && 'workflowId' in answer.data
        ? await closed(stack.client, answer.data.workflowId, deadline)
        : `update refused: ${answer?.response.status}`;
    if (failure) failures.push(failure);
    else seconds.push((Date.now() - begin) / 1000);
  }
  const counters = await callsOf(stack.emulator, orgs);
  const perUpdate = (n: number) => round(n / Math.max(1, seconds.length), 2);
  const sorted = [...seconds].sort((a, b) => a - b);
  return {
    size: `${objects * fields} fields`,
    fields: objects * fields,
    updates: seconds.length,
    failed: failures.length,
    failures: failures.slice(0, 3),
    seconds: { p50: round(percentile(sorted, 50), 3), max: round(Math.max(0, ...sorted), 3) },
    callsPerUpdate: perUpdate(counters.total),
    byEndpoint: Object.fromEntries(
      Object.entries(counters.byOperation)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([operation, n]) => [operation, perUpdate(n)]),
    ),
  } satisfies UpdateAccessResult;
}

/** The update-access rows: calls per update for each size, flat in fields and within the goal. */
function updateAccessVerdict(results: UpdateAccessResult[]) {
  const met =
    results.length > 0 &&
    results.every((r) => r.failed === 0 && r.updates > 0 && r.callsPerUpdate <= GOALS.callsPerUpdate) &&
    new Set(results.map((r) => r.callsPerUpdate)).size === 1;
  return {
    goal: `update access: ≤ ${GOALS.callsPerUpdate} Salesforce calls per update, flat in fields; seconds, not minutes`,
    measured: results
      .map((r) => `${r.size}: ${r.callsPerUpdate} calls, p50 ${r.seconds.p50} s (max ${r.seconds.max} s)`)
      .join('; '),
    met,
  };
}

/** N baseline workflows, started directly on the server (there is no API in front of Temporal's own cost). */
function runBaseline(stack: Stack, count: number): Promise<LoadResult> {
  return runBaselineVariant(stack, count, 'baselineWorkflow');
}

/** The baseline and its variants (bench/baseline-workflow.ts), each adding one thing the design asks of Temporal. */
const DESIGN_VARIANTS = [
  { workflowType: 'baselineWorkflow', what: 'baseline: 7 no-op activities in one workflow' },
  {
    workflowType: 'baselineInChild',
    what: '+ the operation in a child workflow of the tenant’s (per-operation workflows)',
  },
  {
    workflowType: 'baselinePublishingInChild',
    what: '+ what readers are shown: progress per step (memo), state and outcome (memo, search attributes)',
  },
  {
    workflowType: 'baselineAdmitted',
    what: '+ admitted by update-with-start, validated and recorded before the answer',
  },
  { workflowType: 'baselineScheduled', what: '+ an hourly Schedule per connection (the health checks)' },
] as const;

/** N runs of a baseline variant, started directly on the server (the admitted ones by update-with-start, as the API). */
async function runBaselineVariant(
  stack: Stack,
  count: number,
  workflowType: (typeof DESIGN_VARIANTS)[number]['workflowType'],
): Promise<LoadResult> {
  const run = randomUUID().slice(0, 8);
  const deadline = Date.now() + DEADLINE_MS;
  const workflowIdOf = (index: number) => `${workflowType}-${run}-${index}`;
  const start = async (index: number) => {
    if (workflowType !== 'baselineAdmitted' && workflowType !== 'baselineScheduled') {
      await stack.client.workflow.start(workflowType, {
        taskQueue: stack.baselineQueue,
        workflowId: workflowIdOf(index),
        args: [`${run}-${index}`],
      });
      return;
    }
    await stack.client.workflow.executeUpdateWithStart(operateUpdate, {
      args: [`${run}-${index}`],
      startWorkflowOperation: new WithStartWorkflowOperation<typeof baselineAdmitted>(workflowType, {
        taskQueue: stack.baselineQueue,
        workflowId: workflowIdOf(index),
        args: [],
        workflowIdConflictPolicy: 'USE_EXISTING',
      }),
    });
  };
  return load(
    count,
    async (index) => {
      await start(index);
      return { accepted: true, done: closed(stack.client, workflowIdOf(index), deadline) };
    },
    { worker: stack.baselineWorker },
    cpuMetersOf(stack, { worker: stack.baselineWorker }),
  );
}

interface DesignCostRow {
  what: string;
  perSecond: number;
  /** Throughput over the baseline's, in the same sitting. */
  ratio: number;
  serverCpuMs: number;
  workerCpuMs: number;
  failed: number;
}

/**
 * What Temporal charges for the design, one part at a time: the baseline and its variants, one after the other, N
 * each; then our orchestration only (the same API and workflows, Salesforce answered at once), measured by the runs.
 */
async function runDesignCost(stack: Stack, count: number): Promise<DesignCostRow[]> {
  const rows: DesignCostRow[] = [];
  let baselinePerSecond = NaN;
  for (const variant of DESIGN_VARIANTS) {
    const result = await runBaselineVariant(stack, count, variant.workflowType);
    if (variant.workflowType === 'baselineWorkflow') baselinePerSecond = result.perSecond;
    rows.push({
      what: variant.what,
      perSecond: result.perSecond,
      ratio: round(result.perSecond / baselinePerSecond, 3),
      serverCpuMs: round((result.cpuPerItem['Temporal server'] ?? NaN) * 1000, 1),
      workerCpuMs: round((result.cpuPerItem.worker ?? NaN) * 1000, 1),
      failed: result.failures.length,
    });
    console.log(`design: ${variant.workflowType} ${result.perSecond}/s, ${result.failures.length} failed`);
  }
  return rows;
}

/**
 * The design's rows, then ours: orchestration only, its ratio to `baselinePerSecond`, measured in the same sitting (the
 * dev server slows as the runs fill it, so a ratio only holds between loads run one after the other).
 */
function designCostTable(
  rows: DesignCostRow[],
  orchestration?: { result: OursResult; baselinePerSecond: number; sitting: string },
): string {
  const ours = orchestration
    ? [
        [
          `ours, orchestration only (the API, connection workflow and sagas; Salesforce answered at once; ${orchestration.sitting})`,
          orchestration.result.perSecond,
          round(orchestration.result.perSecond / orchestration.baselinePerSecond, 3),
          round((orchestration.result.cpuPerItem['Temporal server'] ?? NaN) * 1000, 1),
          round((orchestration.result.cpuPerItem.worker ?? NaN) * 1000, 1),
          orchestration.result.failures.length,
        ],
      ]
    : [];
  return markdownTable(
    ['workflows', 'per second', 'ratio to the baseline', 'server CPU ms per operation', 'worker CPU ms', 'failed'],
    [...rows.map((r) => [r.what, r.perSecond, r.ratio, r.serverCpuMs, r.workerCpuMs, r.failed]), ...ours],
  );
}

const medianOf = <T>(items: T[], pick: (item: T) => number) => round(median(items.map(pick)), 3);

/** The median latencies of several runs of one load, and the failures of all of them. */
function medianOutcome(results: LoadResult[]) {
  return {
    latencySeconds: {
      p50: medianOf(results, (r) => r.latencySeconds.p50),
      p95: medianOf(results, (r) => r.latencySeconds.p95),
      p99: medianOf(results, (r) => r.latencySeconds.p99),
    },
    failed: results.reduce((n, r) => n + r.failures.length, 0),
  };
}

/** A row of the throughput table. */
function throughputRow(
  label: string,
  completed: number,
  perSecond: number,
  outcome: ReturnType<typeof medianOutcome>,
): Array<string | number> {
  const { p50, p95, p99 } = outcome.latencySeconds;
  return [label, completed, perSecond, p50, p95, p99, outcome.failed];
}

function medianByKey(items: Array<Record<string, number>>): Record<string, number> {
  const keys = [...new Set(items.flatMap((item) => Object.keys(item)))];
  return Object.fromEntries(keys.map((key) => [key, medianOf(items, (item) => item[key] ?? NaN)]));
}

/** CPU milliseconds of one RSA-2048 key generation on this machine (one per enable: the signing certificate). */
let RSA_KEYGEN_MS = NaN;
function measureRsaKeyGeneration(): number {
  const samples = 10;
  const begin = process.cpuUsage();
  for (let i = 0; i < samples; i += 1) generateKeyPairSync('rsa', { modulusLength: 2048 });
  const used = process.cpuUsage(begin);
  return round((used.user + used.system) / 1000 / samples, 1);
}

interface Run {
  ours: OursResult;
  baseline: LoadResult;
  orchestration: OursResult;
  calls: OursResult[];
}

function summarize(
  runs: Run[],
  updateAccess: UpdateAccessResult[],
  others: { verdicts: Verdict[]; errors: string[] },
  adminClick: ProbeLatency,
  designCost: string,
) {
  const ours = runs.map((r) => r.ours);
  const orchestration = runs.map((r) => r.orchestration);
  const baseline = runs.map((r) => r.baseline);
  const endpoints = [...new Set(runs.flatMap((r) => r.calls.flatMap((c) => Object.keys(c.callsByEndpoint))))].sort();
  return {
    designCost,
    throughput: {
      enables: N,
      tenants: N,
      configuration: `${OBJECTS} objects × ${FIELDS} fields`,
      enablesPerSecond: medianOf(ours, (o) => o.perSecond),
      ...medianOutcome(ours),
      maxInFlight: medianOf(ours, (o) => o.maxInFlight),
    },
    baseline: {
      workflows: N,
      activitiesPerWorkflow: 7,
      workflowsPerSecond: medianOf(baseline, (b) => b.perSecond),
      ...medianOutcome(baseline),
    },
    ratio: medianOf(runs, (r) => r.ours.perSecond / r.baseline.perSecond),
    orchestrationOnly: {
      enablesPerSecond: medianOf(orchestration, (o) => o.perSecond),
      ...medianOutcome(orchestration),
      ratio: medianOf(runs, (r) => r.orchestration.perSecond / r.baseline.perSecond),
    },
    salesforceCalls: CALL_SIZES.map(([objects, fields], i) => ({
      size: `${objects} × ${fields}`,
      enables: CALLS_N,
      callsPerEnable: medianOf(runs, (r) => r.calls[i]!.callsPerEnable),
      byEndpoint: Object.fromEntries(
        endpoints.map((e) => [e, medianOf(runs, (r) => r.calls[i]!.callsByEndpoint[e] ?? 0)]),
      ),
    })),
    cpuPerOperation: {
      ours: medianByKey(ours.map((o) => o.cpuPerItem)),
      orchestrationOnly: medianByKey(orchestration.map((o) => o.cpuPerItem)),
      baseline: medianByKey(baseline.map((b) => b.cpuPerItem)),
    },
    rsaKeyGenerationMs: RSA_KEYGEN_MS,
    resources: {
      workerPeakRssMB: medianOf(ours, (o) => o.workerPeakRssMB),
      // The first run's: RSS is a high-water mark, and the later runs' worker starts where the previous 500 left it.
      workerRssToGoalInFlightMB: ours[0]?.workerRssToGoalInFlightMB ?? null,
      workerRssToGoalInFlightLaterRunsMB: ours.slice(1).map((o) => o.workerRssToGoalInFlightMB),
      apiPeakRssMB: medianOf(ours, (o) => o.apiPeakRssMB),
      workerCpuSecondsPerEnable: medianOf(ours, (o) => o.workerCpuSecondsPerEnable),
      apiCpuSecondsPerEnable: medianOf(ours, (o) => o.apiCpuSecondsPerEnable),
      inFlightAtPeak: medianOf(ours, (o) => o.maxInFlight),
    },
    updateAccess,
    api: {
      concurrentClients: CLIENTS,
      postEnableMs: { p50: medianOf(ours, (o) => o.postMs.p50), p99: medianOf(ours, (o) => o.postMs.p99) },
      retriedPosts: ours.reduce((n, o) => n + o.postRetries, 0),
      posts503: ours.reduce((n, o) => n + o.post503, 0),
      readers: READERS,
      getConnectionMs: {
        p50: medianOf(ours, (o) => o.getMs.p50),
        p99: medianOf(ours, (o) => o.getMs.p99),
        reads: ours.reduce((n, o) => n + o.getMs.reads, 0),
        failed: ours.reduce((n, o) => n + o.getMs.failed, 0),
      },
      adminClickMs: adminClick,
    },
    /** Of what ours spends beyond the baseline, key generation's part (CPU per operation, every process). */
    keyGeneration: keyGenerationShare(ours, baseline, runs),
    otherBenches: others,
  };
}

type Summary = ReturnType<typeof summarize>;

/** A row of the Goals table; `met` null: not measured (or, for a goal that needs a load, the load never got there). */
interface Verdict {
  goal: string;
  measured: string;
  met: boolean | null;
}

function latencyVerdicts(api: {
  postEnableMs: { p99: number };
  posts503: number;
  getConnectionMs: { p99: number; reads: number; failed: number };
  adminClickMs: ProbeLatency;
}): Verdict[] {
  const post = api.postEnableMs.p99;
  const get = api.getConnectionMs;
  const { burst, background } = api.adminClickMs;
  const clicks = (phase: PhaseLatency, what: string) =>
    phase.clicks === 0
      ? `no click ${what}`
      : `p99 ${phase.p99} ms (p50 ${phase.p50}) over ${phase.clicks} clicks ${what}, ${phase.failed} not 202`;
  return [
    {
      goal:
        `POST enable p99 ≤ ${GOALS.postP99Ms} ms at ${CLIENTS} clients while the ${N} enables run, zero 503 ` +
        `(stretch: ${GOALS.postP99StretchMs} ms)`,
      measured:
        `p99 ${post} ms, ${api.posts503} answered 503 (stretch ` +
        `${post <= GOALS.postP99StretchMs ? 'met' : 'not met'})`,
      met: post <= GOALS.postP99Ms && api.posts503 === 0,
    },
    {
      goal: `GET connection p99 ≤ ${GOALS.getP99Ms} ms under the same load`,
      measured: `p99 ${get.p99} ms over ${get.reads} reads by ${READERS} readers, ${get.failed} not 200`,
      met: get.reads > 0 && get.p99 <= GOALS.getP99Ms && get.failed === 0,
    },
    {
      goal:
        `an admin's Save (enable of another tenant, one a ${PROBE_INTERVAL_MS} ms) once the ${N} enables are ` +
        `accepted and run: POST p99 ≤ ${GOALS.postP99Ms} ms, none refused`,
      measured: `${clicks(background, 'once accepted')}; ${clicks(burst, 'during the burst')}`,
      met: background.clicks === 0 ? null : background.p99 <= GOALS.postP99Ms && background.failed === 0,
    },
  ];
}

function rssVerdict(resources: {
  workerRssToGoalInFlightMB: number | null;
  /** Runs after the first, whose worker had already held a whole load (not the goal's figure). */
  workerRssToGoalInFlightLaterRunsMB?: Array<number | null>;
  workerPeakRssMB: number;
  inFlightAtPeak: number;
}): Verdict {
  const rss = resources.workerRssToGoalInFlightMB;
  const goal = `worker RSS < ${GOALS.workerRssMB} MB with ${GOALS.inFlight} operations in flight`;
  if (rss === null) {
    return {
      goal,
      measured:
        `not reached (${resources.inFlightAtPeak} in flight at most; ${resources.workerPeakRssMB} MB peak over ` +
        'the whole load)',
      met: null,
    };
  }
  const later = resources.workerRssToGoalInFlightLaterRunsMB ?? [];
  return {
    goal,
    measured:
      `${rss} MB peak while rising to ${GOALS.inFlight} in flight ` +
      `(${resources.workerPeakRssMB} MB over the whole load, up to ${resources.inFlightAtPeak} in flight)` +
      (later.length > 0
        ? `; first run: the later runs' worker had already held ${N} (${later.join(' and ')} MB at ${GOALS.inFlight})`
        : ''),
    met: rss < GOALS.workerRssMB,
  };
}

function ratioVerdicts(s: Summary): Verdict[] {
  const k = s.keyGeneration;
  return [
    {
      goal: `orchestration only / baseline ≥ ${GOALS.orchestrationRatio}`,
      measured: String(s.orchestrationOnly.ratio),
      met: s.orchestrationOnly.ratio >= GOALS.orchestrationRatio,
    },
    {
      goal: `ours / baseline ≥ ${GOALS.oursRatio} (key generation's share of the gap stated)`,
      measured:
        `${s.ratio}; ours spends ${k.cpuGapMs} ms of CPU per enable beyond the baseline's workflow, ` +
        `${k.keyGenerationMs} ms of it (${k.sharePercent}%) one RSA-2048 key generation; without it, about ` +
        `${k.ratioWithoutKeyGeneration} (CPU-bound estimate)`,
      met: s.ratio >= GOALS.oursRatio,
    },
  ];
}

function verdicts(s: Summary): Verdict[] {
  const callsFlat =
    s.salesforceCalls.every((c) => c.callsPerEnable <= GOALS.callsPerEnable) &&
    new Set(s.salesforceCalls.map((c) => c.callsPerEnable)).size === 1;
  return [
    ...latencyVerdicts(s.api),
    ...ratioVerdicts(s),
    ...s.otherBenches.verdicts,
    {
      goal: `≤ ${GOALS.callsPerEnable} Salesforce calls per enable, flat in fields`,
      measured: s.salesforceCalls.map((c) => `${c.size}: ${c.callsPerEnable}`).join('; '),
      met: callsFlat,
    },
    rssVerdict(s.resources),
    { goal: 'every enable succeeds', measured: `${s.throughput.failed} failed`, met: s.throughput.failed === 0 },
    updateAccessVerdict(s.updateAccess),
  ];
}

const metCell = (v: Verdict) => (v.met === null ? 'not measured' : v.met ? 'yes' : '**no**');

function goalsTable(rows: Verdict[]): string {
  return markdownTable(
    ['goal', 'measured', 'met'],
    rows.map((v) => [v.goal, v.measured, metCell(v)]),
  );
}

/**
 * Of the CPU ours spends per enable beyond the baseline (every process: Temporal server, worker, API, the emulator
 * and the clients), the part one RSA-2048 key generation takes; and the ratio ours / baseline without it, estimated
 * as if throughput were bound by CPU (2 busy cores here): ratio × CPU per enable / (CPU per enable − key generation).
 */
function keyGenerationShare(ours: OursResult[], baseline: LoadResult[], runs: Run[]) {
  const total = (cpu: Record<string, number>) =>
    Object.values(cpu).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const oursCpuMs = median(ours.map((o) => total(o.cpuPerItem))) * 1000;
  const baselineCpuMs = median(baseline.map((b) => total(b.cpuPerItem))) * 1000;
  const ratio = median(runs.map((r) => r.ours.perSecond / r.baseline.perSecond));
  const gap = oursCpuMs - baselineCpuMs;
  return {
    oursCpuMsPerEnable: round(oursCpuMs, 1),
    baselineCpuMsPerWorkflow: round(baselineCpuMs, 1),
    cpuGapMs: round(gap, 1),
    keyGenerationMs: RSA_KEYGEN_MS,
    sharePercent: round((100 * RSA_KEYGEN_MS) / gap, 1),
    ratioWithoutKeyGeneration: round((ratio * oursCpuMs) / Math.max(1, oursCpuMs - RSA_KEYGEN_MS), 2),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The goals measured by the smaller benches

/** Runs a bench/ program in a process of its own, with its report in `reportDir`; resolves with its JSON report. */
async function runSubBench<T>(
  entry: string,
  reportFile: string,
  reportDir: string,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { ...process.env, ...extraEnv, BENCH_REPORT_DIR: reportDir, BENCH_ONLY: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  // Its own dev server and processes go with it if this bench stops first.
  const killIt = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  };
  process.once('exit', killIt);
  let tail = '';
  const collect = (chunk: Buffer) => (tail = (tail + chunk.toString('utf8')).slice(-3000));
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  process.removeListener('exit', killIt);
  if (code !== 0) throw new Error(`${entry} exited ${code}:\n${tail}`);
  return JSON.parse(fs.readFileSync(path.join(reportDir, reportFile), 'utf8')) as T;
}

/** What bench/cost-bench.ts reports (the part read here). */
interface CostReport {
  goals: { enable: { measured: number }; healthCheck: { measured: number } };
}

async function measureCost(reportDir: string): Promise<Verdict[]> {
  const cost = await runSubBench<CostReport>('bench/cost-bench.ts', 'cost-bench.json', reportDir);
  const enable = cost.goals.enable.measured;
  const check = cost.goals.healthCheck.measured;
  return [
    {
      goal: `Temporal Actions per enable ≤ ${GOALS.actionsPerEnable}`,
      measured: `${enable} (app usable after 5 minutes; npm run bench:cost)`,
      met: enable <= GOALS.actionsPerEnable,
    },
    {
      goal: `Temporal Actions per health check ≤ ${GOALS.actionsPerHealthCheck}`,
      measured: `${check} (npm run bench:cost)`,
      met: check <= GOALS.actionsPerHealthCheck,
    },
  ];
}

/** What bench/agent-token-bench.ts reports (the part read here). */
interface AgentTokenReport {
  tenants: number;
  achievedRate: number;
  requests: number;
  statuses: Record<string, number>;
  salesforceSignInsDuringLoad: number;
  latencyMs: { p50: number; p99: number };
}

async function measureAgentToken(reportDir: string): Promise<Verdict[]> {
  const r = await runSubBench<AgentTokenReport>('bench/agent-token-bench.ts', 'agent-token-bench.json', reportDir, {
    BENCH_TENANTS: env.BENCH_AGENT_TOKEN_TENANTS ?? '100',
    BENCH_RATE: env.BENCH_AGENT_TOKEN_RATE ?? '200',
    BENCH_SECONDS: env.BENCH_AGENT_TOKEN_SECONDS ?? '20',
  });
  const ok = r.statuses['200'] ?? 0;
  return [
    {
      goal: `agent-token p99 ≤ ${GOALS.agentTokenP99Ms} ms at 200 requests/s over 100 tenants (cached)`,
      measured:
        `p99 ${r.latencyMs.p99} ms (p50 ${r.latencyMs.p50} ms) at ${r.achievedRate} requests/s over ${r.tenants} ` +
        `tenants, ${r.requests - ok} not 200, ${r.salesforceSignInsDuringLoad} Salesforce sign-ins during the load`,
      met: r.latencyMs.p99 <= GOALS.agentTokenP99Ms && ok === r.requests,
    },
  ];
}

/**
 * Health checks' peak minute over mean minute for 1,000 connections over one interval, from the offsets the
 * Schedules get (activities/health-schedule-spec.ts, as the unit test computes them): the worst of sequential and
 * opaque tenant ids, hourly and every 12 minutes. Jitter (not counted) only flattens it further.
 */
function measureHealthSpread(): Verdict[] {
  const ids: Record<string, (i: number) => string> = {
    sequential: (i) => `tenant-${i}`,
    opaque: (i) => createHash('sha1').update(String(i)).digest('hex'),
  };
  const cases = Object.entries(ids).flatMap(([kind, idOf]) =>
    ['1 hour', '12 minutes'].map((interval) => {
      const cadences = Array.from({ length: GOALS.healthSpreadConnections }, (_, i) =>
        healthCadence(idOf(i), 'salesforce', interval),
      );
      const peak = peakToMeanMinute(
        cadences.map((c) => c.offsetMs),
        cadences[0]!.everyMs,
      );
      return { label: `${kind} ids, ${interval}`, peak: round(peak, 2) };
    }),
  );
  const worst = Math.max(...cases.map((c) => c.peak));
  return [
    {
      goal: `health checks: peak minute / mean minute ≤ ${GOALS.healthPeakToMean} over an interval, ${GOALS.healthSpreadConnections} connections`,
      measured: cases.map((c) => `${c.label}: ${c.peak}`).join('; '),
      met: worst <= GOALS.healthPeakToMean,
    },
  ];
}

/** What bench/fleet-bench.ts reports (the part read here). */
interface FleetReport {
  tenants: number;
  durationSeconds: number;
  done: number;
  failed: number;
  perTenantMs: { p50: number; p99: number };
}

/** One `update_access` fleet operation over BENCH_FLEET_TENANTS enabled tenants, in a process of its own. */
async function measureFleet(
  reportDir: string,
): Promise<{ tenants: number; seconds: number; failed: number; p50Ms: number }> {
  const r = await runSubBench<FleetReport>('bench/fleet-bench.ts', 'fleet-bench.json', reportDir, {
    BENCH_FLEET_TENANTS: env.BENCH_FLEET_TENANTS ?? String(GOALS.fleetTenants),
  });
  return { tenants: r.tenants, seconds: r.durationSeconds, failed: r.failed, p50Ms: r.perTenantMs.p50 };
}

async function fleetVerdicts(reportDir: string): Promise<Verdict[]> {
  const fleet = await measureFleet(reportDir);
  const goal = `fleet update_access over ${GOALS.fleetTenants} tenants: duration, failures 0`;
  return [
    {
      goal,
      measured:
        `${fleet.seconds} s for ${fleet.tenants} tenants (per tenant p50 ${fleet.p50Ms} ms), ` +
        `${fleet.failed} failed (npm run bench:fleet)`,
      met: fleet.failed === 0 && fleet.tenants >= GOALS.fleetTenants,
    },
  ];
}

/** The goals of the smaller benches; a bench that fails to run gives its rows as not measured, with its error. */
async function otherBenches(parts: Set<Part>, reportDir: string) {
  const verdicts: Verdict[] = [];
  const errors: string[] = [];
  const attempt = async (part: Part, goal: string, measure: () => Promise<Verdict[]> | Verdict[]) => {
    if (!parts.has(part)) return;
    try {
      verdicts.push(...(await measure()));
    } catch (err) {
      const message = String(err instanceof Error ? err.message : err);
      errors.push(`${part}: ${message}`);
      verdicts.push({ goal, measured: `not measured: ${message.split('\n')[0]}`, met: null });
    }
  };
  await attempt('health_spread', 'health checks: peak minute / mean minute', measureHealthSpread);
  await attempt('cost', 'Temporal Actions per enable and per health check', () => measureCost(reportDir));
  await attempt('agent_token', 'agent-token p99 at 200 requests/s', () => measureAgentToken(reportDir));
  await attempt('fleet', 'fleet update_access', () => fleetVerdicts(reportDir));
  return { verdicts, errors };
}

function markdown(summary: Summary, machine: ReturnType<typeof machineFacts>, seconds: number): string {
  const s = summary;
  const lines = [
    '# Benchmark: agent-connections',
    '',
    `${new Date().toISOString()} · ${RUNS} run(s), every figure the median of the runs · ${Math.round(seconds)} s in all`,
    '',
    `Machine: ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.platform}. ` +
      `Node ${machine.node}, Temporal SDK ${machine.temporalSdk}, Temporal CLI (dev server, in memory) ` +
      `${machine.temporalCli}, jsforce ${machine.jsforce}, Express ${machine.express}.`,
    '',
    `Set-up: the real API and worker as child processes, the emulator with no latency or propagation delay, ` +
      `loopback only. ${N} enables, one tenant and one org each (a tenant runs one operation at a time), ` +
      `${s.throughput.configuration}, POSTed by ${CLIENTS} concurrent clients as fast as the API accepts them. ` +
      `Both workers (ours and the baseline's) run with NODE_OPTIONS="${WORKER_SETTINGS.NODE_OPTIONS}", ` +
      `WORKER_MAX_CACHED_WORKFLOWS=${WORKER_SETTINGS.WORKER_MAX_CACHED_WORKFLOWS}, ` +
      `WORKER_MAX_CONCURRENT_ACTIVITIES=${WORKER_SETTINGS.WORKER_MAX_CONCURRENT_ACTIVITIES}, ` +
      `MALLOC_ARENA_MAX=${WORKER_SETTINGS.MALLOC_ARENA_MAX}, and WORKER_TARGET_CPU_USAGE=` +
      `${env.WORKER_TARGET_CPU_USAGE ?? 'the default'}.`,
    '',
    '## Throughput and latency',
    '',
    markdownTable(
      ['', 'completed', 'per second', 'p50 s', 'p95 s', 'p99 s', 'failed'],
      [
        throughputRow(
          'enable (ours, through the API)',
          s.throughput.enables,
          s.throughput.enablesPerSecond,
          s.throughput,
        ),
        throughputRow(
          `baseline (${s.baseline.activitiesPerWorkflow} no-op activities)`,
          s.baseline.workflows,
          s.baseline.workflowsPerSecond,
          s.baseline,
        ),
        throughputRow(
          'enable, orchestration only (the same API and workflows; Salesforce work and key generation answered at once)',
          N,
          s.orchestrationOnly.enablesPerSecond,
          s.orchestrationOnly,
        ),
      ],
    ),
    '',
    `Ratio ours / baseline: **${s.ratio}** (goal ≥ ${GOALS.oursRatio}). Orchestration only / baseline: ` +
      `**${s.orchestrationOnly.ratio}** (goal ≥ ${GOALS.orchestrationRatio}) — what the design costs beyond ` +
      "Temporal's own work, without Salesforce's.",
    '',
    '## Salesforce calls per enable (emulator counters)',
    '',
    markdownTable(
      ['endpoint', ...s.salesforceCalls.map((c) => c.size)],
      [
        ...Object.keys(s.salesforceCalls[0]?.byEndpoint ?? {}).map((e) => [
          e,
          ...s.salesforceCalls.map((c) => c.byEndpoint[e] ?? 0),
        ]),
        ['**total**', ...s.salesforceCalls.map((c) => `**${c.callsPerEnable}**`)],
      ],
    ),
    '',
    `## Update access in place (${UPDATE_N} updates per size, one at a time, from 1 field)`,
    '',
    markdownTable(
      ['configuration', 'updates', 'p50 s', 'max s', 'Salesforce calls per update', 'by endpoint'],
      s.updateAccess.map((u) => [
        u.size,
        u.updates,
        u.seconds.p50,
        u.seconds.max,
        u.callsPerUpdate,
        Object.entries(u.byEndpoint)
          .map(([e, n]) => `${e} ${n}`)
          .join(', '),
      ]),
    ),
    '',
    '## Resources',
    '',
    markdownTable(
      ['process', 'peak RSS MB (during the load)', 'CPU seconds per enable'],
      [
        ['worker', s.resources.workerPeakRssMB, s.resources.workerCpuSecondsPerEnable],
        ['API', s.resources.apiPeakRssMB, s.resources.apiCpuSecondsPerEnable],
      ],
    ),
    '',
    `Most operations in flight at once: ${s.resources.inFlightAtPeak}. ` +
      (s.resources.workerRssToGoalInFlightMB === null
        ? `The load never reached ${GOALS.inFlight} in flight.`
        : `Worker peak RSS while the load rose to ${GOALS.inFlight} in flight: ` +
          `${s.resources.workerRssToGoalInFlightMB} MB (the first run; later runs start from the high-water mark ` +
          `the previous run left: ${s.resources.workerRssToGoalInFlightLaterRunsMB.join(', ') || '—'} MB).`),
    '',
    '## Where the CPU goes',
    '',
    'CPU seconds per operation (an enable, or a baseline workflow), by process, over the same load:',
    '',
    markdownTable(
      ['process', 'enable (ours)', 'enable, orchestration only', 'baseline workflow'],
      [...new Set(Object.values(s.cpuPerOperation).flatMap((side) => Object.keys(side)))].map((name) => [
        name,
        s.cpuPerOperation.ours[name] ?? '—',
        s.cpuPerOperation.orchestrationOnly[name] ?? '—',
        s.cpuPerOperation.baseline[name] ?? '—',
      ]),
    ),
    '',
    `One RSA-2048 key generation (each enable makes one for its certificate) costs ${s.rsaKeyGenerationMs} ms of ` +
      'CPU on this machine.',
    '',
    '## What the design costs in Temporal',
    '',
    `The baseline with, one at a time, what the service's design asks of Temporal (bench/baseline-workflow.ts), ${N} ` +
      'of each after the runs, started by the clients directly; then our orchestration only, with its ratio to the ' +
      'baseline of its own run (the dev server slows as the runs fill it: ratios hold between loads run in a row):',
    '',
    s.designCost,
    '',
    '## API',
    '',
    markdownTable(
      ['request', 'concurrent clients', 'requests', 'p50 ms', 'p99 ms', 'answered 503', 'retried (503/429/5xx)'],
      [
        [
          'POST …/enable',
          CLIENTS,
          `${N} × ${RUNS}`,
          s.api.postEnableMs.p50,
          s.api.postEnableMs.p99,
          s.api.posts503,
          s.api.retriedPosts,
        ],
        [
          `POST …/enable, an admin's Save once the burst is accepted (one a ${PROBE_INTERVAL_MS} ms; a run of its own)`,
          1,
          s.api.adminClickMs.background.clicks,
          s.api.adminClickMs.background.p50,
          s.api.adminClickMs.background.p99,
          '—',
          `${s.api.adminClickMs.background.failed} not 202`,
        ],
        [
          `GET …/connections/salesforce (a random accepted tenant; ${READER_PAUSE_MS} ms between reads)`,
          s.api.readers,
          s.api.getConnectionMs.reads,
          s.api.getConnectionMs.p50,
          s.api.getConnectionMs.p99,
          '—',
          `${s.api.getConnectionMs.failed} not 200`,
        ],
      ],
    ),
    '',
    `Key generation: ours spends ${s.keyGeneration.oursCpuMsPerEnable} ms of CPU per enable (every process), the ` +
      `baseline ${s.keyGeneration.baselineCpuMsPerWorkflow} ms per workflow; of the ${s.keyGeneration.cpuGapMs} ms ` +
      `between them, one RSA-2048 key generation is ${s.keyGeneration.keyGenerationMs} ms ` +
      `(${s.keyGeneration.sharePercent}%).`,
    '',
    '## Goals',
    '',
    goalsTable(verdicts(s)),
    '',
    'Actions: `npm run bench:cost`; agent-token: `npm run bench:agent-token` (each run by this bench in a process ' +
      'of its own after the runs, with a dev server of its own); health-check spread: the Schedules’ offsets ' +
      '(activities/health-schedule-spec.ts) for 1,000 connections.',
    '',
    '![throughput and latency](bench.svg)',
    '',
  ];
  return lines.join('\n');
}

function perSecond(completions: number[]): Array<[number, number]> {
  const buckets = new Map<number, number>();
  for (const t of completions) buckets.set(Math.floor(t), (buckets.get(Math.floor(t)) ?? 0) + 1);
  const last = Math.max(0, ...buckets.keys());
  return Array.from({ length: last + 1 }, (_, s) => [s + 0.5, buckets.get(s) ?? 0] as [number, number]);
}

/** The parts BENCH_ONLY names, or undefined for the whole bench. */
function onlyParts(): Set<Part> | undefined {
  if (!env.BENCH_ONLY) return undefined;
  const names = env.BENCH_ONLY.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(PARTS as readonly string[]).includes(name));
  if (unknown.length > 0)
    throw new Error(`BENCH_ONLY: unknown part ${unknown.join(', ')} (parts: ${PARTS.join(', ')})`);
  return new Set(names as Part[]);
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const only = onlyParts();
  if (only && !only.has('latency') && !only.has('update_access') && !only.has('design')) {
    // These parts need no stack of this bench's own.
    globalDeadline(DEADLINE_MS, 'npm run bench');
    fs.mkdirSync(REPORT_DIR, { recursive: true });
    const others = await otherBenches(only, REPORT_DIR);
    for (const error of others.errors) console.log(`not measured: ${error}`);
    console.log(goalsTable(others.verdicts));
    if (others.errors.length > 0) process.exitCode = 1;
    return;
  }
  globalDeadline(DEADLINE_MS, 'npm run bench');
  // A stack of its own; the processes of ours, the baseline's and orchestration only start below.
  const setup = await startBenchStack('bench');
  const { work, devServer, emulator } = setup;
  const { keys, env: serviceEnv, client } = await setup.service();
  const baselineQueue = `baseline-${randomUUID()}`;
  try {
    // A data folder of its own (the secrets stay shared through SECRETS_DIR): each API owns the embedded audit store of
    // its DATA_DIR, and its worker writes to that one.
    const orchestrationEnv = {
      ...serviceEnv,
      TASK_QUEUE: `orchestration-${randomUUID()}`,
      DATA_DIR: path.join(work, 'orchestration'),
    };
    const [worker, api, baselineWorker, orchestrationWorker, orchestrationApi] = await Promise.all([
      startWorker(serviceEnv),
      startApi(serviceEnv),
      startWorker({ ...serviceEnv, TASK_QUEUE: baselineQueue }, 'bench/baseline-worker.ts'),
      startWorker(orchestrationEnv, 'bench/orchestration-worker.ts'),
      startApi(orchestrationEnv),
    ]);
    const stack: Stack = {
      client,
      emulator,
      baseUrl: api.baseUrl,
      keys,
      worker,
      api: api.process,
      baselineWorker,
      baselineQueue,
      devServerPid: devServer.process.pid,
      orchestration: { baseUrl: orchestrationApi.baseUrl, worker: orchestrationWorker, api: orchestrationApi.process },
    };
    if (only) {
      const rows: Verdict[] = [];
      if (only.has('latency')) {
        await runOurs(stack, Math.min(10, N), OBJECTS, FIELDS);
        const ours = await runOurs(stack, N, OBJECTS, FIELDS, stack, READERS, true);
        const { completions: _completions, samples: _samples, ...figures } = ours;
        console.log(JSON.stringify(figures, null, 2));
        rows.push(
          ...latencyVerdicts({
            postEnableMs: ours.postMs,
            posts503: ours.post503,
            getConnectionMs: ours.getMs,
            adminClickMs: ours.probeMs,
          }),
          rssVerdict({
            workerRssToGoalInFlightMB: ours.workerRssToGoalInFlightMB,
            workerPeakRssMB: ours.workerPeakRssMB,
            inFlightAtPeak: ours.maxInFlight,
          }),
          { goal: 'every enable succeeds', measured: `${ours.failures.length} failed`, met: !ours.failures.length },
        );
      }
      if (only.has('design')) {
        const design = await runDesignCost(stack, N);
        const orchestration = await runOurs(stack, N, OBJECTS, FIELDS, stack.orchestration);
        const baselinePerSecond = design[0]?.perSecond ?? NaN;
        console.log(designCostTable(design, { result: orchestration, baselinePerSecond, sitting: 'right after them' }));
      }
      if (only.has('update_access')) {
        const updates: UpdateAccessResult[] = [];
        for (const [objects, fields] of UPDATE_SIZES)
          updates.push(await runUpdateAccess(stack, UPDATE_N, objects, fields));
        console.log(JSON.stringify(updates, null, 2));
        rows.push(updateAccessVerdict(updates));
      }
      await setup.stop();
      rows.push(...(await otherBenches(only, REPORT_DIR)).verdicts);
      console.log(goalsTable(rows));
      return;
    }
    RSA_KEYGEN_MS = measureRsaKeyGeneration();
    console.log(`bench: ${N} enables × ${RUNS} runs, ${CLIENTS} clients; warming up`);
    await runOurs(stack, Math.min(10, N), OBJECTS, FIELDS);
    await runBaseline(stack, Math.min(10, N));
    await runOurs(stack, Math.min(10, N), OBJECTS, FIELDS, stack.orchestration);
    const runs: Run[] = [];
    for (let r = 0; r < RUNS; r += 1) {
      const ours = await runOurs(stack, N, OBJECTS, FIELDS, stack, READERS);
      console.log(
        `run ${r + 1}: ours ${ours.perSecond}/s (p50 ${ours.latencySeconds.p50} s, p99 ${ours.latencySeconds.p99} s, ` +
          `worker ${ours.workerPeakRssMB} MB, ${ours.maxInFlight} in flight, ${ours.failures.length} failed; ` +
          `POST p99 ${ours.postMs.p99} ms, ${ours.post503} × 503; GET p99 ${ours.getMs.p99} ms)`,
      );
      const baseline = await runBaseline(stack, N);
      console.log(`run ${r + 1}: baseline ${baseline.perSecond}/s (p50 ${baseline.latencySeconds.p50} s)`);
      const orchestration = await runOurs(stack, N, OBJECTS, FIELDS, stack.orchestration);
      console.log(
        `run ${r + 1}: orchestration only ${orchestration.perSecond}/s (p50 ${orchestration.latencySeconds.p50} s)`,
      );
      const calls: OursResult[] = [];
      for (const [objects, fields] of CALL_SIZES) calls.push(await runOurs(stack, CALLS_N, objects, fields));
      console.log(`run ${r + 1}: calls per enable ${calls.map((c) => c.callsPerEnable).join(' / ')}`);
      runs.push({ ours, baseline, orchestration, calls });
      for (const failure of [...ours.failures, ...baseline.failures, ...orchestration.failures].slice(0, 5))
        console.log(`  failure: ${failure}`);
    }
    const clicked = await runOurs(stack, N, OBJECTS, FIELDS, stack, READERS, true);
    console.log(
      `admin's Save during ${N} enables: p99 ${clicked.probeMs.background.p99} ms once accepted, ` +
        `${clicked.probeMs.burst.p99} ms during the burst`,
    );
    const middle = runs[Math.floor(runs.length / 2)]!;
    const designCost = designCostTable(await runDesignCost(stack, N), {
      result: middle.orchestration,
      baselinePerSecond: middle.baseline.perSecond,
      sitting: 'the middle run, against its own baseline',
    });
    const updateAccess: UpdateAccessResult[] = [];
    for (const [objects, fields] of UPDATE_SIZES) {
      updateAccess.push(await runUpdateAccess(stack, UPDATE_N, objects, fields));
    }
    console.log(`update access: ${updateAccess.map((u) => `${u.size} ${u.callsPerUpdate} calls`).join(' / ')}`);
    // The smaller benches run alone, each with a dev server of its own: this bench's stack stops first (its dev server
    // holds the runs' thousands of connections, whose health-check Schedules would keep firing meanwhile).
    await setup.stop();
    const others = await otherBenches(new Set(PARTS), REPORT_DIR);
    for (const error of others.errors) console.log(`  not measured: ${error.slice(0, 2000)}`);
    const summary = summarize(runs, updateAccess, others, clicked.probeMs, designCost);
    const machine = machineFacts(setup.cli);
    const seconds = (Date.now() - startedAt) / 1000;
    const report = markdown(summary, machine, seconds);
    console.log(`\n${report}`);
    const chart = benchChart({
      title: `${N} enables (${summary.throughput.configuration}) vs ${N} baseline workflows — ${machine.cpus} cores, middle run`,
      throughput: [
        { name: 'enables completed / s (ours)', color: '#1f77b4', points: perSecond(middle.ours.completions) },
        { name: 'baseline completed / s', color: '#aaaaaa', points: perSecond(middle.baseline.completions) },
        {
          name: 'enables in flight (÷10)',
          color: '#ff7f0e',
          points: middle.ours.samples.map((s) => [s.t, s.inFlight / 10] as [number, number]),
        },
      ],
      latency: (['p50', 'p95', 'p99'] as const).map((p) => ({
        label: p,
        bars: [
          { name: 'enable (ours)', color: '#1f77b4', value: summary.throughput.latencySeconds[p] },
          { name: 'baseline', color: '#aaaaaa', value: summary.baseline.latencySeconds[p] },
          { name: 'orchestration only', color: '#ff7f0e', value: summary.orchestrationOnly.latencySeconds[p] },
        ],
      })),
    });
    writeBenchReport(
      'bench',
      {
        benchmark: 'npm run bench',
        date: new Date().toISOString(),
        settings: { N, RUNS, CLIENTS, CALLS_N, UPDATE_N, objects: OBJECTS, fieldsPerObject: FIELDS },
        machine,
        summary,
        goals: verdicts(summary),
        runs: runs.map((r) => ({
          ours: { ...r.ours, completions: undefined },
          baseline: { ...r.baseline, completions: undefined, samples: undefined },
          calls: r.calls.map((c) => ({
            size: `${c.count}`,
            callsPerEnable: c.callsPerEnable,
            byEndpoint: c.callsByEndpoint,
          })),
        })),
      },
      {
        markdown: report,
        files: {
          'bench.svg': chart,
        },
      },
    );
    if (
      summary.throughput.failed + summary.baseline.failed + summary.orchestrationOnly.failed > 0 ||
      others.errors.length > 0
    )
      process.exitCode = 1;
  } finally {
    await setup.stop();
  }
}

void runMain(main);
