import fs from 'node:fs';
import path from 'node:path';
import { runTool } from './run-tool';
import { temporaryDirSync } from '../support/temp-dirs';

/**
 * The short version of `npm run chaos`: 30 operations across 6 tenants, one worker SIGKILL, one Temporal server
 * restart, 500 malformed requests; the same audit, which must pass.
 */
describe('npm run chaos, short', () => {
  const dir = temporaryDirSync('proof-chaos-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('ends with nothing lost, orphaned or duplicated, and refuses every malformed request', async () => {
    const { code, output } = await runTool('bench/chaos.ts', {
      CHAOS_OPERATIONS: '30',
      CHAOS_TENANTS: '6',
      CHAOS_WORKER_KILLS: '1',
      CHAOS_SERVER_RESTARTS: '1',
      CHAOS_BAD_REQUESTS: '500',
      CHAOS_REPORT_DIR: dir,
      CHAOS_DEADLINE_SECONDS: '540',
    });
    expect({ code, tail: code === 0 ? '' : output.slice(-4000) }).toEqual({ code: 0, tail: '' });
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'chaos.json'), 'utf8'));
    expect(report.passed).toBe(true);
    expect(Object.values(report.audit)).toEqual(Object.values(report.audit).map(() => 0));
    expect(report.operations).toHaveLength(30);
    expect(report.events.filter((e: { what: string }) => /SIGKILL worker/.test(e.what))).toHaveLength(1);
    expect(report.events.filter((e: { what: string }) => /server restarted/.test(e.what))).toHaveLength(1);
    expect(report.badInput.requests).toBeGreaterThanOrEqual(500);
    expect(fs.readFileSync(path.join(dir, 'chaos.md'), 'utf8')).toMatch(/Verdict: \*\*PASS\*\*/);
  }, 600_000);
});
