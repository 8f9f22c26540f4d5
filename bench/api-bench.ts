/**
 * API benchmark (`npm run bench:api`): latency of `POST /v1/tenants/{t}/connections/salesforce/enable` with 50
 * concurrent clients, over loopback, on the real stack (an in-memory Temporal dev server, a worker of the service,
 * the Salesforce emulator, the API on a real socket). Each request is a new tenant, so every one is accepted and its
 * saga really runs, in an org of its own, while the load goes on. Bounded by request count and wall time. Prints p50/p99 and writes
 * reports/api-bench.json (BENCH_REPORT_DIR).
 *
 * Env: BENCH_REQUESTS (default 500), BENCH_CONCURRENCY (default 50), BENCH_SECONDS (default 60).
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { createApp } from '../api/app';
import { generateApiKey, hashApiKey } from '../api/auth';
import { createApiClient } from '@agent-connections/api-client';
import type { CreatedOrg } from '@agent-connections/salesforce-emulator';
import { enableBody, percentile, runMain, startBenchStack, writeBenchReport } from './support';

const TOTAL = Number(process.env.BENCH_REQUESTS ?? 500);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const WARMUP = 20;

async function main(): Promise<void> {
  const stack = await startBenchStack('api-bench');
  const { emulator } = stack;
  const { client, secrets, taskQueue } = await stack.startInProcessWorker();
  // One org per tenant: the service refuses to link one org to two tenants.
  const orgs: CreatedOrg[] = [];
  for (let i = 0; i < TOTAL + WARMUP; i += 25) {
    const batch = Array.from({ length: Math.min(25, TOTAL + WARMUP - i) }, () =>
      emulator.control.createOrg({ apiDailyLimit: 100_000_000 }),
    );
    orgs.push(...(await Promise.all(batch)));
  }
  const apiKey = generateApiKey();
  const app = createApp({
    client,
    secrets,
    apiKeys: [{ id: 'bench', sha256: hashApiKey(apiKey), scopes: ['admin'] }],
    config: {
      TASK_QUEUE: taskQueue,
      API_TENANTS: undefined,
      API_RATE_LIMIT_PER_MINUTE: 1_000_000,
      API_UPDATE_TIMEOUT_MS: 30_000,
      API_MAX_BODY_BYTES: 65_536,
      AGENT_TOKEN_TTL_SECONDS: 900,
      SALESFORCE_API_VERSION: '66.0',
    },
  });
  const server = await new Promise<http.Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;
  const api = createApiClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey });
  const run = randomUUID().slice(0, 8);

  const enable = async (index: number): Promise<{ status: number; ms: number }> => {
    const org = orgs[index + WARMUP] as CreatedOrg;
    const started = process.hrtime.bigint();
    const { response } = await api.POST('/v1/tenants/{tenantId}/connections/{crm}/enable', {
      params: {
        path: { tenantId: `bench-${run}-${index}`, crm: 'salesforce' },
        header: { 'Idempotency-Key': `bench-${index}` },
      },
      body: enableBody(org),
    });
    return { status: response.status, ms: Number(process.hrtime.bigint() - started) / 1e6 };
  };

  for (let i = 0; i < WARMUP; i += 1) await enable(-1 - i);

  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const deadline = Date.now() + SECONDS * 1000;
  let next = 0;
  const startedAt = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < TOTAL && Date.now() < deadline) {
        const index = next;
        next += 1;
        const { status, ms } = await enable(index);
        latencies.push(ms);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  const elapsedSeconds = (Date.now() - startedAt) / 1000;
  latencies.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  const report = {
    endpoint: 'POST /v1/tenants/{tenantId}/connections/salesforce/enable',
    concurrency: CONCURRENCY,
    requests: latencies.length,
    statuses,
    seconds: round(elapsedSeconds),
    requestsPerSecond: round(latencies.length / elapsedSeconds),
    latencyMs: {
      p50: round(percentile(latencies, 50)),
      p90: round(percentile(latencies, 90)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies[latencies.length - 1] ?? Number.NaN),
      mean: round(latencies.reduce((a, b) => a + b, 0) / latencies.length),
    },
    environment: { node: process.version, cpus: os.cpus().length, platform: `${os.platform()} ${os.release()}` },
    at: new Date().toISOString(),
  };
  console.log(
    `POST .../enable, ${CONCURRENCY} concurrent clients, ${report.requests} requests in ${report.seconds} s ` +
      `(${report.requestsPerSecond}/s): p50 ${report.latencyMs.p50} ms, p99 ${report.latencyMs.p99} ms, ` +
      `max ${report.latencyMs.max} ms; statuses ${JSON.stringify(statuses)}`,
  );
  writeBenchReport('api-bench', report);

  // The sagas started by the load are still running; stopping does not wait for them beyond a bound.
  server.closeAllConnections();
  server.close();
  await stack.stop();
}

void runMain(main);
