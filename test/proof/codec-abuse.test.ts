import fs from 'node:fs';
import path from 'node:path';
import { runTool } from './run-tool';
import { temporaryDirSync } from '../support/temp-dirs';

/**
 * The short version of `npm run bench:codec-abuse`: the same program for 2 s per phase. It checks that the benchmark
 * works, that the API answers every abuse with a status of its own (never a 500, never a dropped /healthz) and that it
 * writes its report; the latency is what the benchmark measures, never asserted here.
 */
describe('npm run bench:codec-abuse, short', () => {
  const dir = temporaryDirSync('proof-codec-abuse-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('abuses /codec in both phases while /healthz answers, and writes the report', async () => {
    const { code, output } = await runTool('bench/codec-abuse-bench.ts', {
      BENCH_SECONDS: '2',
      BENCH_IDLE_SECONDS: '1',
      BENCH_REPORT_DIR: dir,
    });
    expect({ code, tail: code === 0 ? '' : output.slice(-3000) }).toEqual({ code: 0, tail: '' });
    for (const file of ['codec-abuse-bench.md', 'codec-abuse-bench.json']) {
      expect(fs.existsSync(path.join(dir, file))).toBe(true);
    }
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'codec-abuse-bench.json'), 'utf8'));
    expect(report.phases.map((p: { name: string }) => p.name)).toEqual(['defaults', 'rate limit lifted']);
    for (const phase of report.phases) {
      expect(phase.healthz.abused.samples).toBeGreaterThan(0);
      expect(phase.healthz.abused.failed).toBe(0);
      expect(phase.healthz.abused.p50).toBeLessThanOrEqual(phase.healthz.abused.p99);
      expect(phase.senders.map((s: { kind: string }) => s.kind)).toEqual(['max-size', 'nested', 'many-payloads']);
      for (const sender of phase.senders as { requests: number; statuses: Record<string, number> }[]) {
        expect(sender.requests).toBeGreaterThan(0);
        expect(Object.keys(sender.statuses).filter((s) => /^5/.test(s) && s !== '503')).toEqual([]);
      }
    }
    expect(typeof report.goal.met).toBe('boolean');
    expect(fs.readFileSync(path.join(dir, 'codec-abuse-bench.md'), 'utf8')).toContain(
      '/healthz p99 < 100 ms while /codec is abused',
    );
  });
});
