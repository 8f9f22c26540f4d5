/**
 * Fleet benchmark (`npm run bench:fleet`): one fleet `update_access` over BENCH_FLEET_TENANTS enabled tenants (default
 * 200, each in an org of its own) through the real API and worker processes (an in-memory Temporal dev server, the
 * emulator in this process). Reports the fleet's duration from the POST to `completed`, its failures (goal 0) and
 * each tenant's update_access duration (p50, p99, from its operation record). Writes reports/fleet-bench.json.
 *
 * `fleetBench()` is exported for the main bench's Goals table.
 *
 * Env: BENCH_FLEET_TENANTS (default 200), BENCH_FLEET_CONCURRENCY (the request's maxConcurrency, default 10).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ApiClient } from '@agent-connections/api-client';
import { createApiClient } from '@agent-connections/api-client';
import type { RunningEmulator } from '@agent-connections/salesforce-emulator';
import { startEmulator } from '@agent-connections/salesforce-emulator';
import { generateApiKey, hashApiKey } from '../api/auth';
import { ensureTool } from '../scripts/temporal-tools.cjs';
import { startDevServer } from '../scripts/temporal-dev-server';
import { SEARCH_ATTRIBUTE_TYPES } from '../workflows/definitions';
import {
  freePort,
  globalDeadline,
  killAllServices,
  percentile,
  round,
  runMain,
  serviceEnvironment,
  serviceKeys,
  sleep,
  startApi,
  startWorker,
} from './support';

export interface FleetBenchResult {
  tenants: number;
  maxConcurrency: number;
  /** From the POST to the fleet operation's `completed`. */
  durationSeconds: number;
  done: number;
  /** Goal: 0. */
  failed: number;
  /** Each tenant's update_access, from its operation record (accepted to ended). */
  perTenantMs: { p50: number; p99: number };
  tenantsPerSecond: number;
}

const CONNECTION = '/v1/tenants/{tenantId}/connections/{crm}';
const path_ = (tenantId: string) => ({ path: { tenantId, crm: 'salesforce' as const } });

async function enableAll(admin: ApiClient, emulator: RunningEmulator, tenants: string[]): Promise<void> {
  for (let i = 0; i < tenants.length; i += 10) {
    await Promise.all(
      tenants.slice(i, i + 10).map(async (tenantId) => {
        const org = await emulator.control.createOrg({ apiDailyLimit: 100_000_000 });
        for (let attempt = 1; ; attempt += 1) {
          const { response } = await admin.POST(`${CONNECTION}/enable`, {
            params: { ...path_(tenantId), header: { 'Idempotency-Key': tenantId } },
            body: {
              loginUrl: org.loginUrl,
              instanceUrl: org.instanceUrl,
              adminCredentials: { accessToken: org.accessToken, refreshToken: org.refreshToken },
              agentConfiguration: { objects: [{ object: 'Account', fields: ['Name', 'Industry'] }] },
            },
          });
          if (response.status === 202) return;
          if (response.status !== 503 || attempt === 10) throw new Error(`enable of ${tenantId}: ${response.status}`);
          await sleep(1000);
        }
      }),
    );
  }
  for (const tenantId of tenants) {
    for (;;) {
      const { data } = await admin.GET(CONNECTION, { params: path_(tenantId) });
      if (data?.status === 'enabled') break;
      if (data && data.status !== 'enabling') throw new Error(`${tenantId} ended ${data.status}`);
      await sleep(250);
    }
  }
}

/** Each tenant's update_access duration (ms), from its connection's operation records. */
async function perTenantDurations(admin: ApiClient, tenants: string[]): Promise<number[]> {
  const durations: number[] = [];
  for (const tenantId of tenants) {
    const { data } = await admin.GET(`${CONNECTION}/operations`, { params: { ...path_(tenantId), query: {} } });
    const op = data?.operations.find((o) => o.kind === 'update_access' && o.endedAt);
    if (op?.endedAt) durations.push(Date.parse(op.endedAt) - Date.parse(op.startedAt));
  }
  return durations.sort((a, b) => a - b);
}

/** Starts the stack, enables `tenants` tenants, runs one fleet update_access over them, and stops everything. */
export async function fleetBench(options: { tenants: number; maxConcurrency?: number }): Promise<FleetBenchResult> {
  const maxConcurrency = options.maxConcurrency ?? 10;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-bench-'));
  const devServer = await startDevServer({
    binary: ensureTool('cli'),
    port: await freePort(),
    searchAttributes: SEARCH_ATTRIBUTE_TYPES,
  });
  const emulator = await startEmulator({ port: 0, controlPort: 0 });
  const keys = serviceKeys();
  const fleetKey = generateApiKey();
  const base = serviceEnvironment({
    temporalAddress: devServer.address,
    taskQueue: `bench-${randomUUID()}`,
    dataDir: work,
    keys,
  });
  const env = { ...base, API_KEYS: `${keys.spec},fleet:fleet:${hashApiKey(fleetKey)}` };
  const worker = await startWorker(env);
  const api = await startApi(env);
  try {
    const admin = createApiClient({ baseUrl: api.baseUrl, apiKey: keys.admin });
    const fleet = createApiClient({ baseUrl: api.baseUrl, apiKey: fleetKey });
    const run = randomUUID().slice(0, 8);
    const tenants = Array.from({ length: options.tenants }, (_, i) => `fleet-${run}-${i}`);
    const enableStarted = Date.now();
    await enableAll(admin, emulator, tenants);
    console.log(`${tenants.length} connections enabled in ${round((Date.now() - enableStarted) / 1000, 1)} s`);

    const startedAt = Date.now();
    const { data: accepted, response } = await fleet.POST('/v1/fleet-operations', {
      body: { kind: 'update_access', tenantIds: tenants, maxConcurrency },
    });
    if (!accepted || response.status !== 202) throw new Error(`the fleet operation answered ${response.status}`);
    let progress = accepted;
    while (progress.status !== 'completed' || progress.endedAt === undefined) {
      await sleep(500);
      const { data } = await fleet.GET('/v1/fleet-operations/{fleetOperationId}', {
        params: { path: { fleetOperationId: accepted.id } },
      });
      if (data) progress = data;
    }
    const durationSeconds = (Date.now() - startedAt) / 1000;
    const durations = await perTenantDurations(admin, tenants);
    if (progress.failures.length > 0) console.log(`failures: ${JSON.stringify(progress.failures.slice(0, 5))}`);
    return {
      tenants: tenants.length,
      maxConcurrency,
      durationSeconds: round(durationSeconds, 1),
      done: progress.done,
      failed: progress.failed,
      perTenantMs: { p50: round(percentile(durations, 50), 0), p99: round(percentile(durations, 99), 0) },
      tenantsPerSecond: round(tenants.length / durationSeconds, 2),
    };
  } finally {
    await api.process.stop();
    await worker.stop();
    await emulator.close();
    await devServer.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  globalDeadline(30 * 60_000, 'the fleet bench', killAllServices);
  const result = await fleetBench({
    tenants: Number(process.env.BENCH_FLEET_TENANTS ?? 200),
    maxConcurrency: Number(process.env.BENCH_FLEET_CONCURRENCY ?? 10),
  });
  const report = {
    ...result,
    goal: { failures: 0, met: result.failed === 0 },
    environment: { node: process.version, cpus: os.cpus().length, loadAverage: os.loadavg().map((l) => round(l, 1)) },
    at: new Date().toISOString(),
  };
  const reportFile = path.resolve(__dirname, '..', process.env.BENCH_REPORT_DIR ?? 'reports', 'fleet-bench.json');
  fs.mkdirSync(path.dirname(reportFile), { recursive: true });
  fs.writeFileSync(reportFile, `${JSON.stringify(report, null, 2)}\n`);
  console.log(
    `fleet update_access over ${result.tenants} tenants (${result.maxConcurrency} at once): ` +
      `${result.durationSeconds} s, ${result.done} done, ${result.failed} failed (goal 0: ` +
      `${report.goal.met ? 'met' : 'not met'}); per tenant p50 ${result.perTenantMs.p50} ms, p99 ` +
      `${result.perTenantMs.p99} ms`,
  );
  console.log(`report: ${reportFile}`);
}

if (require.main === module) void runMain(main);
