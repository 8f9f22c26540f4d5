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
 * BENCH_ONLY=update_access measures the update-access row alone and prints it (no report files).
 * Every figure is the median of BENCH_RUNS runs (default 3). Bounded by BENCH_DEADLINE_SECONDS (default 1800).
 * BENCH_REPORT_DIR (default reports/) says where the report goes.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { encryptedDataConverter } from '../codec/data-converter';
import { parseCodecKeys } from '../codec/encryption-codec';
import { createApiClient } from '@agent-connections/api-client';
import { startEmulator } from '@agent-connections/salesforce-emulator';
import type { CreatedOrg, RunningEmulator } from '@agent-connections/salesforce-emulator';
import { ensureTool } from '../scripts/temporal-tools.cjs';
import { startDevServer } from '../scripts/temporal-dev-server';
import { SEARCH_ATTRIBUTE_TYPES } from '../workflows/definitions';
import type { baselineWorkflow } from './baseline-workflow';
import { benchChart } from './chart';
import type { ServiceProcess } from './support';
import {
  ROOT,
  benchConfiguration,
  benchOrgInput,
  freePort,
  globalDeadline,
  machineFacts,
  markdownTable,
  median,
  percentile,
  round,
  serviceEnvironment,
  serviceKeys,
  sleep,
  startApi,
  processUsage,
  runMain,
  startWorker,
  stopAllServices,
  WORKER_SETTINGS,
} from './support';

const env = process.env;
const N = Number(env.BENCH_N ?? 500);
const RUNS = Number(env.BENCH_RUNS ?? 3);
const CLIENTS = Number(env.BENCH_CLIENTS ?? 50);
const CALLS_N = Number(env.BENCH_CALLS_N ?? 10);
const UPDATE_N = Number(env.BENCH_UPDATE_N ?? 3);
const DEADLINE_MS = Number(env.BENCH_DEADLINE_SECONDS ?? 1800) * 1000;
const REPORT_DIR = path.resolve(ROOT, env.BENCH_REPORT_DIR ?? 'reports');
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
/** Goals of issue 7, and of issue 12 (update access). */
const GOALS = { ratio: 0.8, callsPerEnable: 12, workerRssMB: 400, inFlight: 200, callsPerUpdate: 4 };

interface Stack {
  client: Client;
  emulator: RunningEmulator;
  baseUrl: string;
  keys: ReturnType<typeof serviceKeys>;
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
  postRetries: number;
  workerPeakRssMB: number;
  /** Peak worker RSS while the load rose to GOALS.inFlight operations in flight (NaN if it never got there). */
  workerRssToGoalInFlightMB: number;
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
function rssUpToInFlight(samples: Sample[], inFlight: number): number {
  const beyond = samples.findIndex((s) => s.inFlight > inFlight);
  if (beyond < 0 && !samples.some((s) => s.inFlight >= inFlight)) return NaN;
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
  const timer = setInterval(() => {
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
  await Promise.all(
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
  await Promise.all(pending);
  clearInterval(timer);
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

/** N enables through the API; the stack's worker runs them. */
async function runOurs(
  stack: Stack,
  count: number,
  objects: number,
  fields: number,
  service: ServiceUnderTest = stack,
): Promise<OursResult> {
  const orgs = await createOrgs(stack.emulator, count, objects, fields);
  const configuration = benchConfiguration(objects, fields);
  const run = randomUUID().slice(0, 8);
  const api = createApiClient({ baseUrl: service.baseUrl, apiKey: stack.keys.admin });
  const postMs: number[] = [];
  let postRetries = 0;
  await stack.emulator.control.resetCounters();
  const workerBefore = service.worker.usage();
  const apiBefore = service.api.usage();
  const deadline = Date.now() + DEADLINE_MS;
  const result = await load(
    count,
    async (index) => {
      const org = orgs[index]!;
      const body = {
        loginUrl: org.loginUrl,
        instanceUrl: org.instanceUrl,
        adminCredentials: { accessToken: org.accessToken, refreshToken: org.refreshToken },
        agentConfiguration: configuration,
      };
      for (let attempt = 0; attempt < 50; attempt += 1) {
        const begin = process.hrtime.bigint();
        const answer = await api
          .POST('/v1/tenants/{tenantId}/connections/{crm}/enable', {
            params: {
              path: { tenantId: `bench-${run}-${index}`, crm: 'salesforce' },
              header: { 'Idempotency-Key': `bench-${run}-${index}` },
            },
            body,
          })
          .catch(() => undefined);
        postMs.push(Number(process.hrtime.bigint() - begin) / 1e6);
        const status = answer?.response.status;
        if (answer?.data && 'workflowId' in answer.data && status === 202) {
          return { accepted: true, done: closed(stack.client, answer.data.workflowId, deadline) };
        }
        if (status !== undefined && status !== 503 && status !== 429 && status < 500) {
          return { accepted: false, done: Promise.resolve(`${status} ${JSON.stringify(answer?.error).slice(0, 200)}`) };
        }
        postRetries += 1;
        await sleep(200);
      }
      return { accepted: false, done: Promise.resolve('never accepted') };
    },
    { worker: service.worker, api: service.api },
    cpuMetersOf(stack, { worker: service.worker, API: service.api }),
  );
  const workerAfter = service.worker.usage();
  const apiAfter = service.api.usage();
  const counters = await stack.emulator.control.counters();
  const sortedPost = [...postMs].sort((a, b) => a - b);
  const perEnable = (n: number) => round(n / Math.max(1, result.succeeded), 2);
  return {
    ...result,
    postMs: { p50: round(percentile(sortedPost, 50), 1), p99: round(percentile(sortedPost, 99), 1) },
    postRetries,
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
        body: {
          loginUrl: org.loginUrl,
          instanceUrl: org.instanceUrl,
          adminCredentials: { accessToken: org.accessToken, refreshToken: org.refreshToken },
          agentConfiguration: benchConfiguration(1, 1),
        },
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
  const counters = await stack.emulator.control.counters();
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
async function runBaseline(stack: Stack, count: number): Promise<LoadResult> {
  const run = randomUUID().slice(0, 8);
  const deadline = Date.now() + DEADLINE_MS;
  return load(
    count,
    async (index) => {
      const handle = await stack.client.workflow.start<typeof baselineWorkflow>('baselineWorkflow', {
        taskQueue: stack.baselineQueue,
        workflowId: `baseline-${run}-${index}`,
        args: [`${run}-${index}`],
      });
      return { accepted: true, done: closed(stack.client, handle.workflowId, deadline) };
    },
    { worker: stack.baselineWorker },
    cpuMetersOf(stack, { worker: stack.baselineWorker }),
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

function summarize(runs: Run[], updateAccess: UpdateAccessResult[]) {
  const ours = runs.map((r) => r.ours);
  const orchestration = runs.map((r) => r.orchestration);
  const baseline = runs.map((r) => r.baseline);
  const endpoints = [...new Set(runs.flatMap((r) => r.calls.flatMap((c) => Object.keys(c.callsByEndpoint))))].sort();
  return {
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
      workerRssToGoalInFlightMB: medianOf(ours, (o) => o.workerRssToGoalInFlightMB),
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
    },
  };
}

type Summary = ReturnType<typeof summarize>;

function verdicts(s: Summary) {
  const callsFlat =
    s.salesforceCalls.every((c) => c.callsPerEnable <= GOALS.callsPerEnable) &&
    new Set(s.salesforceCalls.map((c) => c.callsPerEnable)).size === 1;
  const measuredWithLoad = s.resources.inFlightAtPeak >= GOALS.inFlight;
  return [
    {
      goal: `ours / baseline ≥ ${GOALS.ratio}`,
      measured: String(s.ratio),
      met: s.ratio >= GOALS.ratio,
    },
    {
      goal: `≤ ${GOALS.callsPerEnable} Salesforce calls per enable, flat in fields`,
      measured: s.salesforceCalls.map((c) => `${c.size}: ${c.callsPerEnable}`).join('; '),
      met: callsFlat,
    },
    {
      goal: `worker RSS < ${GOALS.workerRssMB} MB with ${GOALS.inFlight} operations in flight`,
      measured:
        `${s.resources.workerRssToGoalInFlightMB} MB peak while rising to ${GOALS.inFlight} in flight ` +
        `(${s.resources.workerPeakRssMB} MB over the whole load, up to ${s.resources.inFlightAtPeak} in flight)`,
      met: s.resources.workerRssToGoalInFlightMB < GOALS.workerRssMB && measuredWithLoad,
    },
    { goal: 'every enable succeeds', measured: `${s.throughput.failed} failed`, met: s.throughput.failed === 0 },
    updateAccessVerdict(s.updateAccess),
  ];
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
      `MALLOC_ARENA_MAX=${WORKER_SETTINGS.MALLOC_ARENA_MAX}.`,
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
    `Ratio ours / baseline: **${s.ratio}** (goal ≥ ${GOALS.ratio}). Orchestration only / baseline: ` +
      `**${s.orchestrationOnly.ratio}** — what the design costs beyond Temporal's own work, without Salesforce's.`,
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
    `Most operations in flight at once: ${s.resources.inFlightAtPeak}. Worker peak RSS while the load rose to ` +
      `${GOALS.inFlight} in flight: ${s.resources.workerRssToGoalInFlightMB} MB.`,
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
    '## API',
    '',
    markdownTable(
      ['request', 'concurrent clients', 'p50 ms', 'p99 ms', 'retried (503/429)'],
      [['POST …/enable', CLIENTS, s.api.postEnableMs.p50, s.api.postEnableMs.p99, s.api.retriedPosts]],
    ),
    '',
    '## Goals',
    '',
    markdownTable(
      ['goal', 'measured', 'met'],
      verdicts(s).map((v) => [v.goal, v.measured, v.met ? 'yes' : '**no**']),
    ),
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

async function main(): Promise<void> {
  const startedAt = Date.now();
  let stopDevServer: () => Promise<void> = () => Promise.resolve();
  globalDeadline(DEADLINE_MS, 'npm run bench', () => void stopDevServer());
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-'));
  const cli = ensureTool('cli');
  const devServer = await startDevServer({
    binary: cli,
    port: await freePort(),
    searchAttributes: SEARCH_ATTRIBUTE_TYPES,
  });
  stopDevServer = () => devServer.stop();
  const emulator = await startEmulator({ port: 0, controlPort: 0 });
  const keys = serviceKeys();
  const taskQueue = `bench-${randomUUID()}`;
  const serviceEnv = serviceEnvironment({ temporalAddress: devServer.address, taskQueue, dataDir: work, keys });
  const baselineQueue = `baseline-${randomUUID()}`;
  const connection = await Connection.connect({ address: devServer.address });
  const client = new Client({
    connection,
    dataConverter: encryptedDataConverter(parseCodecKeys(serviceEnv.PAYLOAD_CODEC_KEYS!)),
  });
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
    if (env.BENCH_ONLY === 'update_access') {
      const updates: UpdateAccessResult[] = [];
      for (const [objects, fields] of UPDATE_SIZES)
        updates.push(await runUpdateAccess(stack, UPDATE_N, objects, fields));
      console.log(JSON.stringify(updates, null, 2));
      console.log(
        markdownTable(['goal', 'measured', 'met'], [Object.values(updateAccessVerdict(updates)).map(String)]),
      );
      return;
    }
    RSA_KEYGEN_MS = measureRsaKeyGeneration();
    console.log(`bench: ${N} enables × ${RUNS} runs, ${CLIENTS} clients; warming up`);
    await runOurs(stack, Math.min(10, N), OBJECTS, FIELDS);
    await runBaseline(stack, Math.min(10, N));
    await runOurs(stack, Math.min(10, N), OBJECTS, FIELDS, stack.orchestration);
    const runs: Run[] = [];
    for (let r = 0; r < RUNS; r += 1) {
      const ours = await runOurs(stack, N, OBJECTS, FIELDS);
      console.log(
        `run ${r + 1}: ours ${ours.perSecond}/s (p50 ${ours.latencySeconds.p50} s, p99 ${ours.latencySeconds.p99} s, ` +
          `worker ${ours.workerPeakRssMB} MB, ${ours.maxInFlight} in flight, ${ours.failures.length} failed)`,
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
    const updateAccess: UpdateAccessResult[] = [];
    for (const [objects, fields] of UPDATE_SIZES) {
      updateAccess.push(await runUpdateAccess(stack, UPDATE_N, objects, fields));
    }
    console.log(`update access: ${updateAccess.map((u) => `${u.size} ${u.callsPerUpdate} calls`).join(' / ')}`);
    const summary = summarize(runs, updateAccess);
    const machine = machineFacts(cli);
    const seconds = (Date.now() - startedAt) / 1000;
    const middle = runs[Math.floor(runs.length / 2)]!;
    fs.mkdirSync(REPORT_DIR, { recursive: true });
    fs.writeFileSync(
      path.join(REPORT_DIR, 'bench.json'),
      `${JSON.stringify(
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
        null,
        2,
      )}\n`,
    );
    fs.writeFileSync(
      path.join(REPORT_DIR, 'bench.svg'),
      benchChart({
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
      }),
    );
    const report = markdown(summary, machine, seconds);
    fs.writeFileSync(path.join(REPORT_DIR, 'bench.md'), report);
    console.log(`\n${report}`);
    console.log(`report: ${path.join(REPORT_DIR, 'bench.md')} (+ bench.json, bench.svg)`);
    if (summary.throughput.failed + summary.baseline.failed + summary.orchestrationOnly.failed > 0)
      process.exitCode = 1;
  } finally {
    await stopAllServices();
    await connection.close();
    await emulator.close();
    await devServer.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

void runMain(main);
