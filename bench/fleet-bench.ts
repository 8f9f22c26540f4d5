/**
 * Fleet benchmark (`npm run bench:fleet`): one fleet `update_access` over BENCH_FLEET_TENANTS enabled tenants (default
 * 200, each in an org of its own) through the real API and worker processes (an in-memory Temporal dev server, the
 * emulator in this process). Reports the fleet's duration from the POST to `completed`, its failures (goal 0) and
 * each tenant's update_access duration (p50, p99, from its operation record). Writes reports/fleet-bench.json
 * (BENCH_REPORT_DIR); the main bench runs this program in a process of its own and reads it for its Goals table.
 *
 * Env: BENCH_FLEET_TENANTS (default 200), BENCH_FLEET_CONCURRENCY (the request's maxConcurrency, default 10).
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { ApiClient } from '@agent-connections/api-client';
import { createApiClient } from '@agent-connections/api-client';
import { generateApiKey, hashApiKey } from '../api/auth';
import {
  enableTenants,
  globalDeadline,
  percentile,
  round,
  runMain,
  serviceKeys,
  sleep,
  startBenchStack,
  writeBenchReport,
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
  const stack = await startBenchStack('fleet-bench');
  try {
    const keys = serviceKeys();
    const fleetKey = generateApiKey();
    const { api } = await stack.startService({
      keys,
      env: { API_KEYS: `${keys.spec},fleet:fleet:${hashApiKey(fleetKey)}` },
    });
    const admin = createApiClient({ baseUrl: api.baseUrl, apiKey: keys.admin });
    const fleet = createApiClient({ baseUrl: api.baseUrl, apiKey: fleetKey });
    const run = randomUUID().slice(0, 8);
    const tenants = Array.from({ length: options.tenants }, (_, i) => `fleet-${run}-${i}`);
    await enableTenants(admin, stack.emulator, tenants);

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
    await stack.stop();
  }
}

async function main(): Promise<void> {
  globalDeadline(30 * 60_000, 'the fleet bench');
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
  console.log(
    `fleet update_access over ${result.tenants} tenants (${result.maxConcurrency} at once): ` +
      `${result.durationSeconds} s, ${result.done} done, ${result.failed} failed (goal 0: ` +
      `${report.goal.met ? 'met' : 'not met'}); per tenant p50 ${result.perTenantMs.p50} ms, p99 ` +
      `${result.perTenantMs.p99} ms`,
  );
  writeBenchReport('fleet-bench', report);
}

if (require.main === module) void runMain(main);
