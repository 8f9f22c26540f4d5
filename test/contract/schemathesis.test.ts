import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const MAX_TIME_SECONDS = 120;

/**
 * The OpenAPI document is the contract: `npm run schemathesis` (scripts/schemathesis.ts) runs schemathesis against
 * the real stack (a Temporal dev server of its own, the emulator, the worker and the API) with every check, positive
 * and negative data and stateful links, for at most 25 examples per operation and phase and 120 s, and must find
 * nothing.
 */
describe('the API against its OpenAPI document (schemathesis)', () => {
  it('finds no failure: every answer is documented, valid data accepted, invalid data refused', async () => {
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve, reject) => {
      const child = spawn(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/schemathesis.ts'], {
        cwd: ROOT,
        // A Temporal dev server of its own (no TEMPORAL_ADDRESS): generated requests name any tenant, "acme" of the
        // examples included, and their connection workflows must not meet those of the other tests.
        env: {
          ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'TEMPORAL_ADDRESS')),
          SCHEMATHESIS_MAX_TIME: process.env.SCHEMATHESIS_MAX_TIME ?? String(MAX_TIME_SECONDS),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      child.once('error', reject);
      child.once('exit', (exitCode) => resolve({ code: exitCode ?? 1, output: text }));
    });
    // On a failure the whole report is the message: each failure, its reproduction (curl) and the seed.
    expect({ code, output: code === 0 ? 'ok' : output }).toEqual({ code: 0, output: 'ok' });
    expect(output).toMatch(/Test cases:\s+\d+ generated, \d+ passed/);
  }, 420_000);
});
