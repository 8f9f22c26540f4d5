import fs from 'node:fs';
import path from 'node:path';
import { runTool } from './run-tool';
import { temporaryDirSync } from '../support/temp-dirs';

/**
 * The short version of `npm run bench`: the same program with N = 10 and one run. It checks that the benchmark
 * works and writes a sane report; speed and memory are what the benchmark measures, never asserted here.
 */
describe('npm run bench, short', () => {
  const dir = temporaryDirSync('proof-bench-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs the enables and the baseline, counts Salesforce calls, and writes the report', async () => {
    const { code, output } = await runTool('bench/bench.ts', {
      BENCH_N: '10',
      BENCH_RUNS: '1',
      BENCH_CALLS_N: '2',
      BENCH_UPDATE_N: '1',
      BENCH_REPORT_DIR: dir,
      BENCH_DEADLINE_SECONDS: '540',
      BENCH_AGENT_TOKEN_TENANTS: '5',
      BENCH_AGENT_TOKEN_RATE: '20',
      BENCH_AGENT_TOKEN_SECONDS: '2',
      BENCH_FLEET_TENANTS: '3',
    });
    expect({ code, tail: code === 0 ? '' : output.slice(-3000) }).toEqual({ code: 0, tail: '' });
    for (const file of ['bench.md', 'bench.json', 'bench.svg']) expect(fs.existsSync(path.join(dir, file))).toBe(true);
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'bench.json'), 'utf8'));
    const s = report.summary;
    expect(s.throughput.failed).toBe(0);
    expect(s.baseline.failed).toBe(0);
    expect(s.throughput.enablesPerSecond).toBeGreaterThan(0);
    expect(s.baseline.workflowsPerSecond).toBeGreaterThan(0);
    expect(s.ratio).toBeGreaterThan(0);
    expect(s.orchestrationOnly.failed).toBe(0);
    expect(s.orchestrationOnly.enablesPerSecond).toBeGreaterThan(0);
    expect(s.orchestrationOnly.ratio).toBeGreaterThan(0);
    const { p50, p95, p99 } = s.throughput.latencySeconds;
    expect(p50).toBeGreaterThan(0);
    expect(p50).toBeLessThanOrEqual(p95);
    expect(p95).toBeLessThanOrEqual(p99);
    expect(s.salesforceCalls.map((c: { size: string }) => c.size)).toEqual(['3 × 10', '3 × 60', '10 × 100']);
    for (const c of s.salesforceCalls) expect(c.callsPerEnable).toBeGreaterThan(0);
    expect(s.updateAccess.map((u: { size: string }) => u.size)).toEqual(['3 fields', '30 fields']);
    for (const u of s.updateAccess) expect(u).toMatchObject({ updates: 1, failed: 0 });
    expect(s.resources.workerPeakRssMB).toBeGreaterThan(0);
    expect(s.resources.apiPeakRssMB).toBeGreaterThan(0);
    expect(s.resources.workerCpuSecondsPerEnable).toBeGreaterThan(0);
    // Where the CPU goes: every process that works for a load is metered, for ours and for the baseline.
    for (const side of [s.cpuPerOperation.ours, s.cpuPerOperation.orchestrationOnly, s.cpuPerOperation.baseline]) {
      expect(side['Temporal server']).toBeGreaterThan(0);
      expect(side.worker).toBeGreaterThan(0);
    }
    expect(s.cpuPerOperation.ours.API).toBeGreaterThan(0);
    expect(s.rsaKeyGenerationMs).toBeGreaterThan(0);
    expect(s.api.postEnableMs.p50).toBeGreaterThan(0);
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(fs.readFileSync(path.join(dir, 'bench.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<path d="M/);
    expect(fs.readFileSync(path.join(dir, 'bench.md'), 'utf8')).toMatch(/Ratio ours \/ baseline/);
    // The Goals table: a row for each goal, each measured (a number, never NaN) or said not measured.
    const goals = report.goals as Array<{ goal: string; measured: string; met: boolean | null }>;
    for (const pattern of [
      /^POST enable p99/,
      /^GET connection p99/,
      /^an admin's Save/,
      /^orchestration only \/ baseline/,
      /^ours \/ baseline/,
      /^Temporal Actions per enable/,
      /^Temporal Actions per health check/,
      /^health checks: peak minute/,
      /^agent-token p99/,
      /^fleet update_access/,
      /Salesforce calls per enable/,
      /^worker RSS/,
    ]) {
      expect(goals.filter((g) => pattern.test(g.goal))).toHaveLength(1);
    }
    for (const g of goals) expect(g.measured).not.toMatch(/NaN/);
    expect(s.api.getConnectionMs.reads).toBeGreaterThan(0);
    // The admin's Save probe clicked while the enables ran.
    const { burst, background } = s.api.adminClickMs;
    expect(burst.clicks + background.clicks).toBeGreaterThan(0);
    expect(s.otherBenches.errors).toEqual([]);
    // 10 enables never put 200 in flight: the RSS goal says so instead of failing.
    expect(goals.find((g) => /^worker RSS/.test(g.goal))).toMatchObject({ met: null });
  }, 600_000);
});
