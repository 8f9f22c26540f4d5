/**
 * `npm run bench:saga`: N enables (default 50) on a real Temporal dev server against the Salesforce emulator (no
 * latency, no propagation delay), with the real worker in this process. Reports enables per second, p50/p95 seconds
 * from start to enabled, and Salesforce calls per enable by endpoint for three sizes of agent configuration
 * (3 × 10, 3 × 60 and 10 × 100 fields, as `npm run bench`). Loopback only; bounded by N and by a 10-minute deadline.
 * Writes reports/saga-bench.json (BENCH_REPORT_DIR).
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { EncryptedFileSecretStore } from '../secrets/secret-store';
import { FAILURE_CONVERTER_PATH } from '../codec/data-converter';
import type { RunningEmulator } from '@agent-connections/salesforce-emulator';
import { enableConnection } from '../workflows';
import {
  benchConfiguration,
  benchOrgInput,
  globalDeadline,
  percentile,
  runMain,
  startBenchStack,
  writeBenchReport,
} from './support';

const N = Number(process.env.BENCH_N ?? 50);
/** Objects × fields per object of the agent configurations measured. */
const SIZES: [number, number][] = [
  [3, 10],
  [3, 60],
  [10, 100],
];

interface Setup {
  client: Client;
  taskQueue: string;
  emulator: RunningEmulator;
  secrets: EncryptedFileSecretStore;
}

async function runEnables(setup: Setup, count: number, objects: number, fieldsPerObject: number) {
  const orgs = await Promise.all(
    Array.from({ length: count }, async () => {
      const org = await setup.emulator.control.createOrg(benchOrgInput(objects, fieldsPerObject));
      const ref = await setup.secrets.put(
        `bench/admin/${randomUUID()}`,
        JSON.stringify({ accessToken: org.accessToken, refreshToken: org.refreshToken }),
      );
      return { org, target: { loginUrl: org.loginUrl, instanceUrl: org.instanceUrl, adminCredentials: ref } };
    }),
  );
  await setup.emulator.control.resetCounters();
  const started = Date.now();
  const latencies = await Promise.all(
    orgs.map(async ({ target }, i) => {
      const begin = Date.now();
      const operationId = randomUUID();
      await setup.client.workflow.execute(enableConnection, {
        taskQueue: setup.taskQueue,
        workflowId: `bench-enable-${i}-${operationId}`,
        args: [
          {
            tenantId: `bench-${i}`,
            operationId,
            parentWorkflowId: '',
            target,
            appKind: 'external_client_app',
            agentName: 'Copilot for Sales',
            agentConfiguration: benchConfiguration(objects, fieldsPerObject),
          },
        ],
      });
      return (Date.now() - begin) / 1000;
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  const counters = await setup.emulator.control.counters();
  const callsByEndpoint = Object.fromEntries(
    Object.entries(counters.byOperation)
      .map(([op, n]) => [op, Math.round((n / count) * 100) / 100] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    enables: count,
    fieldsPerObject,
    objects,
    elapsedSeconds: Math.round(elapsed * 100) / 100,
    enablesPerSecond: Math.round((count / elapsed) * 100) / 100,
    p50Seconds: Math.round(percentile(sorted, 50) * 1000) / 1000,
    p95Seconds: Math.round(percentile(sorted, 95) * 1000) / 1000,
    salesforceCallsPerEnable: Math.round((counters.total / count) * 100) / 100,
    callsByEndpoint,
  };
}

async function main() {
  globalDeadline(10 * 60_000, 'npm run bench:saga');
  const stack = await startBenchStack('saga-bench');
  const { client, taskQueue, secrets } = await stack.startInProcessWorker({
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: require.resolve('../workflows'),
      failureConverterPath: FAILURE_CONVERTER_PATH,
    }),
  });
  const setup = { client, taskQueue, emulator: stack.emulator, secrets };
  await runEnables(setup, 2, 3, 10); // warm-up: JIT, connection pools, workflow cache
  const results = [];
  for (const [objects, fields] of SIZES) results.push(await runEnables(setup, N, objects, fields));
  const report = {
    benchmark: 'bench:saga',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    results,
  };
  console.log(`machine: ${report.machine.cpus} cores, ${report.machine.memoryGiB} GiB, node ${report.machine.node}`);
  console.log('| objects × fields | enables | enables/s | p50 s | p95 s | Salesforce calls/enable |');
  console.log('|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.objects} × ${r.fieldsPerObject} | ${r.enables} | ${r.enablesPerSecond} | ${r.p50Seconds} | ${r.p95Seconds} | ${r.salesforceCallsPerEnable} |`,
    );
  }
  for (const r of results)
    console.log(`calls per enable by endpoint (${r.objects} × ${r.fieldsPerObject}):`, r.callsByEndpoint);
  writeBenchReport('saga-bench', report);
  await stack.stop();
}

void runMain(main);
