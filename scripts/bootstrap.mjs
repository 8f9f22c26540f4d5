/**
 * Entry of `npm start` and `npm test` on any machine, fresh or not: installs what is missing (npm dependencies,
 * the Temporal binaries, OpenBao's `bao` for the tests), then runs the command. No dependencies of its own, since it runs before `npm ci`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { ensureTool } = require('./temporal-tools.cjs');
const { ensureSchemathesis } = require('./schemathesis-tool.cjs');

function lockHash() {
  return createHash('sha256')
    .update(fs.readFileSync(path.join(root, 'package-lock.json')))
    .digest('hex');
}

/** Runs `npm ci` when node_modules is absent or was installed from another package-lock.json. */
function ensureDependencies() {
  const marker = path.join(root, 'node_modules', '.agent-connections-lock');
  const wanted = lockHash();
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === wanted) return;
  process.stderr.write('[bootstrap] installing npm dependencies (npm ci)\n');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write('[bootstrap] npm ci failed; see the output above\n');
    process.exit(result.status ?? 1);
  }
  fs.writeFileSync(marker, wanted);
}

function bin(name) {
  return path.join(root, 'node_modules', '.bin', name);
}

function run(command, args, env) {
  const child = spawn(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  // The child handles Ctrl-C itself (it gets the same SIGINT from the terminal); we only wait for it.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

const [command, ...args] = process.argv.slice(2);
try {
  ensureDependencies();
  if (command === 'start') {
    ensureTool('cli');
    run(bin('tsx'), ['scripts/dev-stack.ts', ...args]);
  } else if (command === 'setup') {
    // Everything `npm start` and `npm test` need, installed ahead (CI): dependencies, both Temporal servers, the
    // OpenBao server the secret-store tests run against, and schemathesis (the API's contract test).
    ensureTool('cli');
    ensureTool('testServer');
    ensureTool('bao');
    ensureSchemathesis();
  } else if (command === 'test') {
    ensureTool('cli');
    ensureTool('testServer');
    ensureTool('bao');
    ensureSchemathesis();
    // PGlite (the embedded audit store) loads Node's modules with import(), which Jest's VM allows only with this.
    const nodeOptions = [process.env.NODE_OPTIONS, '--experimental-vm-modules'].filter(Boolean).join(' ');
    run(bin('jest'), args, { NODE_OPTIONS: nodeOptions });
  } else {
    process.stderr.write('usage: node scripts/bootstrap.mjs start|test|setup [args...]\n');
    process.exit(2);
  }
} catch (err) {
  process.stderr.write(`[bootstrap] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
