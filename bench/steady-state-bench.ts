/**
 * `npm run bench:steady`: the steady state of a fleet. BENCH_STEADY_CONNECTIONS (default 2,000) connections are
 * enabled through the real API (BENCH_STEADY_CLIENTS concurrent clients, default 20; the emulator with no latency and
 * no propagation delay, one org each), then the service is left alone for BENCH_STEADY_MINUTES (default 24) with a
 * health check of every connection each BENCH_STEADY_INTERVAL (default "12 minutes", the worker's
 * HEALTH_CHECK_INTERVAL: 2,000 connections every 12 minutes are the load of 10,000 checked hourly). Over that window:
 *
 * - CPU seconds per connection-hour of the Temporal dev server (in memory), the worker and the API (/proc/<pid>/stat);
 * - RSS of each, at the start and the end of the window and its peak (sampled every 5 s);
 * - health checks completed against those expected (connections × window / interval), the checks that failed, the
 *   connections not `enabled` at the end;
 * - history growth per connection per month: events and bytes the connection workflow, the health-check workflows
 *   and the Schedule (its internal scheduler workflow, when the server lets it be described) gain per check, from
 *   the server's own history length and size, extrapolated to a month at the bench's interval and at the hourly
 *   default.
 *
 * Loopback only; bounded: it stops by itself after BENCH_STEADY_DEADLINE_SECONDS (default: 5 minutes + 2 s per
 * connection for seeding + the window + 5 minutes), killing what it started. Writes
 * reports/steady-state-bench.{json,md} (BENCH_REPORT_DIR).
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { msToNumber } from '@temporalio/common/lib/time';
import type { Duration } from '@temporalio/common';
import { createApiClient } from '@agent-connections/api-client';
import type { CreatedOrg } from '@agent-connections/salesforce-emulator';
import { connectionWorkflowId, healthScheduleId } from '../workflows/definitions';
import {
  enableBody,
  globalDeadline,
  killAllServices,
  machineFacts,
  markdownTable,
  processUsage,
  round,
  runMain,
  sleep,
  startBenchStack,
  writeBenchReport,
} from './support';

const env = process.env;
const CONNECTIONS = Number(env.BENCH_STEADY_CONNECTIONS ?? 2000);
const CLIENTS = Number(env.BENCH_STEADY_CLIENTS ?? 20);
const MINUTES = Number(env.BENCH_STEADY_MINUTES ?? 24);
const INTERVAL = env.BENCH_STEADY_INTERVAL ?? '12 minutes';
const INTERVAL_MS = msToNumber(INTERVAL as Duration);
const DEADLINE_SECONDS = Number(env.BENCH_STEADY_DEADLINE_SECONDS ?? 300 + 2 * CONNECTIONS + MINUTES * 60 + 300);
/** Connections whose workflow and Schedule histories are read before and after the window. */
const SAMPLE = Math.min(CONNECTIONS, Number(env.BENCH_STEADY_SAMPLE ?? 50));
/** After the window, how long checks started in it may take to finish before they are counted. */
const GRACE_MS = 60_000;
const HOUR_MS = 3_600_000;
const MONTH_MS = 30 * 24 * HOUR_MS;

interface Usage {
  cpuSeconds: number;
  rssMB: number;
}

/** A process the bench meters: its pid's CPU and RSS. */
interface Metered {
  name: string;
  pid: number | undefined;
}

/** Events and bytes of one workflow's history, as the server counts them (its current run). */
interface HistoryFigures {
  runId: string;
  events: number;
  bytes: number;
}

async function historyOf(client: Client, workflowId: string): Promise<HistoryFigures | undefined> {
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    return { runId: d.runId, events: d.historyLength, bytes: d.historySize ?? Number.NaN };
  } catch {
    return undefined;
  }
}

/** The Schedule's own scheduler workflow (server-internal; some servers do not let it be described). */
const schedulerWorkflowId = (scheduleId: string) => `temporal-sys-scheduler:${scheduleId}`;

async function listAll(client: Client, query: string): Promise<WorkflowExecutionInfo[]> {
  const found: WorkflowExecutionInfo[] = [];
  for await (const info of client.workflow.list({ query })) found.push(info);
  return found;
}

/** Growth of the sampled histories between two readings, per check of that connection (runs that changed are left out). */
function growthPerCheck(
  before: Array<HistoryFigures | undefined>,
  after: Array<HistoryFigures | undefined>,
  checks: number[],
) {
  let events = 0;
  let bytes = 0;
  let counted = 0;
  let continued = 0;
  for (let i = 0; i < before.length; i += 1) {
    const b = before[i];
    const a = after[i];
    const n = checks[i] ?? 0;
    if (!b || !a || n === 0) continue;
    if (a.runId !== b.runId) {
      continued += 1;
      continue;
    }
    events += (a.events - b.events) / n;
    bytes += (a.bytes - b.bytes) / n;
    counted += 1;
  }
  return {
    connections: counted,
    continuedAsNew: continued,
    eventsPerCheck: counted ? round(events / counted, 2) : null,
    bytesPerCheck: counted ? round(bytes / counted, 0) : null,
  };
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  globalDeadline(DEADLINE_SECONDS * 1000, 'npm run bench:steady');
  if (!(INTERVAL_MS >= 60_000)) throw new Error(`BENCH_STEADY_INTERVAL must be a duration of 1 minute or more`);
  const stack = await startBenchStack('steady-bench');
  const { devServer, emulator } = stack;
  try {
    const { keys, client, worker, api } = await stack.startService({
      taskQueuePrefix: 'steady',
      env: { HEALTH_CHECK_INTERVAL: INTERVAL },
    });
    const metered: Metered[] = [
      { name: 'Temporal dev server', pid: devServer.process.pid },
      { name: 'worker', pid: worker.child.pid },
      { name: 'API', pid: api.process.child.pid },
    ];
    const admin = createApiClient({ baseUrl: api.baseUrl, apiKey: keys.admin });
    const run = randomUUID().slice(0, 8);
    const tenants = Array.from({ length: CONNECTIONS }, (_, i) => `steady-${run}-${i}`);
    const target = (tenantId: string) => ({ path: { tenantId, crm: 'salesforce' as const } });

    // Seeding: every connection enabled through the API, CLIENTS at a time.
    console.log(`steady state: seeding ${CONNECTIONS} connections with ${CLIENTS} clients`);
    const seedStarted = Date.now();
    let next = 0;
    let retried503 = 0;
    await Promise.all(
      Array.from({ length: Math.min(CLIENTS, CONNECTIONS) }, async () => {
        while (next < CONNECTIONS) {
          const tenantId = tenants[next]!;
          next += 1;
          const org: CreatedOrg = await emulator.control.createOrg({ apiDailyLimit: 100_000_000 });
          for (let attempt = 1; ; attempt += 1) {
            const answer = await admin
              .POST('/v1/tenants/{tenantId}/connections/{crm}/enable', {
                params: { ...target(tenantId), header: { 'Idempotency-Key': tenantId } },
                body: enableBody(org),
              })
              .catch(() => undefined);
            const status = answer?.response.status;
            if (status === 202) break;
            if ((status !== undefined && status !== 503 && status < 500) || attempt === 20) {
              throw new Error(`enable of ${tenantId} answered ${status}`);
            }
            retried503 += 1;
            await sleep(500);
          }
        }
      }),
    );
    const accepted = Date.now();
    let pending = [...tenants];
    while (pending.length > 0) {
      const still: string[] = [];
      for (let i = 0; i < pending.length; i += 20) {
        await Promise.all(
          pending.slice(i, i + 20).map(async (tenantId) => {
            const { data } = await admin.GET('/v1/tenants/{tenantId}/connections/{crm}', { params: target(tenantId) });
            if (data?.status === 'enabled') return;
            if (data && data.status !== 'enabling' && data.status !== 'disabled') {
              throw new Error(`${tenantId} ended ${data.status}`);
            }
            still.push(tenantId);
          }),
        );
      }
      pending = still;
      if (pending.length > 0) await sleep(1000);
    }
    const seeded = Date.now();
    const seeding = {
      seconds: round((seeded - seedStarted) / 1000, 1),
      acceptedSeconds: round((accepted - seedStarted) / 1000, 1),
      enablesPerSecond: round(CONNECTIONS / ((seeded - seedStarted) / 1000), 2),
      retried503,
    };
    console.log(`seeded in ${seeding.seconds} s (${seeding.enablesPerSecond} enables/s); window of ${MINUTES} minutes`);

    // The window: nothing but health checks.
    const sample = tenants.filter((_, i) => i % Math.max(1, Math.floor(CONNECTIONS / SAMPLE)) === 0).slice(0, SAMPLE);
    const readSample = () =>
      Promise.all(
        sample.map(async (tenantId) => ({
          connection: await historyOf(client, connectionWorkflowId(tenantId, 'salesforce')),
          schedule: await historyOf(client, schedulerWorkflowId(healthScheduleId(tenantId, 'salesforce'))),
        })),
      );
    const historiesBefore = await readSample();
    const windowStart = new Date();
    const usage = (): Array<Usage | undefined> => metered.map((m) => processUsage(m.pid));
    const usageBefore = usage();
    const peakRss = metered.map(() => 0);
    const sampler = setInterval(() => {
      usage().forEach((u, i) => (peakRss[i] = Math.max(peakRss[i]!, u?.rssMB ?? 0)));
    }, 5000);
    const windowMs = MINUTES * 60_000;
    for (let waited = 0; waited < windowMs; waited += 60_000) {
      await sleep(Math.min(60_000, windowMs - waited));
      console.log(`  ${Math.round((waited + 60_000) / 60_000)} of ${MINUTES} minutes`);
    }
    const windowEnd = new Date();
    const usageAfter = usage();
    clearInterval(sampler);
    const historiesAfter = await readSample();
    const connectionHours = (CONNECTIONS * windowMs) / HOUR_MS;

    // Checks started in the window, once those still running have had time to finish.
    await sleep(GRACE_MS);
    const checks = await listAll(
      client,
      `WorkflowType = 'connectionHealthCheck' AND StartTime >= '${windowStart.toISOString()}' AND StartTime < '${windowEnd.toISOString()}'`,
    );
    const byStatus: Record<string, number> = {};
    for (const c of checks) byStatus[c.status.name] = (byStatus[c.status.name] ?? 0) + 1;
    const checksOf = (tenantId: string) =>
      checks.filter((c) => c.workflowId.startsWith(`health-check:${tenantId}:salesforce`)).length;
    const sampleChecks = sample.map(checksOf);
    const expected = round((CONNECTIONS * windowMs) / INTERVAL_MS, 1);
    const completed = byStatus.COMPLETED ?? 0;
    const checkHistories = checks.filter((c) => c.status.name === 'COMPLETED');
    const perCheckWorkflow = {
      events: round(checkHistories.reduce((n, c) => n + c.historyLength, 0) / Math.max(1, checkHistories.length), 2),
      bytes: round(
        checkHistories.reduce((n, c) => n + (c.historySize ?? Number.NaN), 0) / Math.max(1, checkHistories.length),
        0,
      ),
    };

    // Connections not enabled at the end (a check that found one broken twice puts it in error).
    let notEnabled = 0;
    for (let i = 0; i < tenants.length; i += 20) {
      const states = await Promise.all(
        tenants
          .slice(i, i + 20)
          .map((tenantId) =>
            admin.GET('/v1/tenants/{tenantId}/connections/{crm}', { params: target(tenantId) }).then((r) => r.data),
          ),
      );
      notEnabled += states.filter((s) => s?.status !== 'enabled').length;
    }

    const connectionGrowth = growthPerCheck(
      historiesBefore.map((h) => h.connection),
      historiesAfter.map((h) => h.connection),
      sampleChecks,
    );
    const scheduleGrowth = growthPerCheck(
      historiesBefore.map((h) => h.schedule),
      historiesAfter.map((h) => h.schedule),
      sampleChecks,
    );
    const perCheck = {
      events: (connectionGrowth.eventsPerCheck ?? 0) + perCheckWorkflow.events + (scheduleGrowth.eventsPerCheck ?? 0),
      bytes: (connectionGrowth.bytesPerCheck ?? 0) + perCheckWorkflow.bytes + (scheduleGrowth.bytesPerCheck ?? 0),
    };
    const perMonth = (everyMs: number) => {
      const checksPerMonth = MONTH_MS / everyMs;
      return {
        checks: round(checksPerMonth, 0),
        events: round(perCheck.events * checksPerMonth, 0),
        megabytes: round((perCheck.bytes * checksPerMonth) / 1e6, 2),
      };
    };
    const processes = metered.map((m, i) => {
      const before = usageBefore[i];
      const after = usageAfter[i];
      const cpu = (after?.cpuSeconds ?? Number.NaN) - (before?.cpuSeconds ?? Number.NaN);
      return {
        process: m.name,
        cpuSeconds: round(cpu, 1),
        cpuSecondsPerConnectionHour: round(cpu / connectionHours, 4),
        cpuMsPerCheck: round((cpu * 1000) / Math.max(1, completed), 1),
        rssMB: { windowStart: round(before?.rssMB ?? Number.NaN, 1), windowEnd: round(after?.rssMB ?? Number.NaN, 1) },
        peakRssMB: round(peakRss[i]!, 1),
      };
    });
    const machine = machineFacts(stack.cli);
    const report = {
      benchmark: 'npm run bench:steady',
      date: new Date().toISOString(),
      settings: { connections: CONNECTIONS, clients: CLIENTS, minutes: MINUTES, interval: INTERVAL, sample: SAMPLE },
      machine: { ...machine, loadAverage: os.loadavg().map((l) => round(l, 1)) },
      seeding,
      window: {
        start: windowStart.toISOString(),
        end: windowEnd.toISOString(),
        connectionHours: round(connectionHours),
      },
      processes,
      healthChecks: {
        expected,
        started: checks.length,
        completed,
        byStatus,
        failed: checks.length - completed - (byStatus.RUNNING ?? 0),
        stillRunning: byStatus.RUNNING ?? 0,
        connectionsNotEnabledAtEnd: notEnabled,
      },
      history: {
        perCheck: {
          connectionWorkflow: connectionGrowth,
          healthCheckWorkflow: { workflows: checkHistories.length, ...perCheckWorkflow },
          schedule:
            scheduleGrowth.connections > 0
              ? scheduleGrowth
              : { ...scheduleGrowth, note: 'the scheduler workflow could not be described on this server' },
          total: { events: round(perCheck.events, 2), bytes: round(perCheck.bytes, 0) },
        },
        perConnectionMonth: {
          [`at ${INTERVAL}`]: perMonth(INTERVAL_MS),
          'at 1 hour (default)': perMonth(HOUR_MS),
        },
        note:
          'Written to history, before retention: each health-check workflow is its own execution, deleted after the ' +
          "namespace's retention; the connection workflow continues as new past 2,000 events, carrying its state. " +
          "The connection's part is averaged over the window's checks: a check sends it a report only when the " +
          'result changes what the connection shows (the first after an enable does; later healthy ones do not).',
      },
      seconds: round((Date.now() - startedAt) / 1000, 0),
    };
    const md = [
      '# Steady state: enabled connections with health checks',
      '',
      `${report.date} · ${CONNECTIONS} connections, health check every ${INTERVAL}, a window of ${MINUTES} minutes ` +
        `(${report.window.connectionHours} connection-hours) after seeding · ${report.seconds} s in all`,
      '',
      `Machine: ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, load average at the end ` +
        `${report.machine.loadAverage.join(' / ')}. Temporal dev server ${machine.temporalCli} (in memory), ` +
        `SDK ${machine.temporalSdk}, Node ${machine.node}.`,
      '',
      `Seeding: ${CONNECTIONS} enables through the API by ${CLIENTS} clients in ${seeding.seconds} s ` +
        `(${seeding.enablesPerSecond}/s), ${seeding.retried503} answers retried.`,
      '',
      markdownTable(
        [
          'process',
          'CPU s in the window',
          'CPU s per connection-hour',
          'CPU ms per check',
          'RSS MB start → end',
          'peak RSS MB',
        ],
        processes.map((p) => [
          p.process,
          p.cpuSeconds,
          p.cpuSecondsPerConnectionHour,
          p.cpuMsPerCheck,
          `${p.rssMB.windowStart} → ${p.rssMB.windowEnd}`,
          p.peakRssMB,
        ]),
      ),
      '',
      `Health checks started in the window: ${checks.length} (expected ${expected}); completed ${completed}, failed ` +
        `${report.healthChecks.failed}, still running ${report.healthChecks.stillRunning}; connections not enabled ` +
        `at the end: ${notEnabled}.`,
      '',
      `History per check (${SAMPLE} sampled connections; the check workflows all):`,
      '',
      markdownTable(
        ['history', 'events per check', 'bytes per check'],
        [
          ['connection workflow', connectionGrowth.eventsPerCheck ?? '—', connectionGrowth.bytesPerCheck ?? '—'],
          ['health-check workflow', perCheckWorkflow.events, perCheckWorkflow.bytes],
          ['Schedule (scheduler workflow)', scheduleGrowth.eventsPerCheck ?? '—', scheduleGrowth.bytesPerCheck ?? '—'],
          ['**total**', report.history.perCheck.total.events, report.history.perCheck.total.bytes],
        ],
      ),
      '',
      markdownTable(
        ['per connection-month', 'checks', 'history events', 'history MB'],
        Object.entries(report.history.perConnectionMonth).map(([k, v]) => [k, v.checks, v.events, v.megabytes]),
      ),
      '',
      report.history.note,
      '',
    ].join('\n');
    console.log(`\n${md}`);
    writeBenchReport('steady-state-bench', report, { markdown: md });
    if (report.healthChecks.failed > 0 || notEnabled > 0) process.exitCode = 1;
  } finally {
    await stack.stop();
  }
}

process.once('SIGINT', () => {
  killAllServices();
  process.exit(130);
});
void runMain(main);
