/**
 * `npm run schemathesis`: the API's contract test. Starts the real stack on free loopback ports (a Temporal dev
 * server of its own unless TEMPORAL_ADDRESS names one, the Salesforce emulator, the worker and the API, with an API
 * key of the admin, agent and fleet scopes), then runs schemathesis against the API's own /openapi.json with every check,
 * positive and negative data, every phase (examples, coverage, fuzzing, stateful through the document's links),
 * bounded in examples per operation and in time. Exits with schemathesis's code after stopping everything it started.
 * Generated requests name any tenant ("acme" of the examples too): a server named by TEMPORAL_ADDRESS gets connection
 * workflows for them, so give it none that other clients share.
 *
 * The worker and the API run with an outbound allowlist (scripts/outbound-allowlist.cjs): generated org URLs name
 * any host, and the only one they may reach is the emulator.
 *
 * Bounds: SCHEMATHESIS_MAX_EXAMPLES (per operation and phase, default 25), SCHEMATHESIS_MAX_TIME (seconds for the
 * whole run, default 120); SCHEMATHESIS_SEED replays a run; SCHEMATHESIS_ARGS adds arguments.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmulator } from '@agent-connections/salesforce-emulator';
import { generateApiKey, hashApiKey } from '../api/auth';
import {
  freePort,
  globalDeadline,
  killAllServices,
  runMain,
  serviceEnvironment,
  serviceKeys,
  startApi,
  startWorker,
  stopAllServices,
  WORKER_SETTINGS,
} from '../bench/support';
import { SEARCH_ATTRIBUTE_TYPES } from '../workflows/definitions';
import { ensureSchemathesis } from './schemathesis-tool.cjs';
import { ensureTool } from './temporal-tools.cjs';
import { startDevServer } from './temporal-dev-server';
import type { RunningDevServer } from './temporal-dev-server';

const ROOT = path.resolve(__dirname, '..');
const MAX_EXAMPLES = Number(process.env.SCHEMATHESIS_MAX_EXAMPLES ?? 25);
const MAX_TIME = Number(process.env.SCHEMATHESIS_MAX_TIME ?? 120);
const GUARD = path.join(ROOT, 'scripts', 'outbound-allowlist.cjs');

function say(line: string) {
  process.stdout.write(`[schemathesis] ${line}\n`);
}

/** Runs schemathesis in `cwd` (where it keeps its files), its output going to ours; resolves with its exit code. */
function runSchemathesis(binary: string, args: string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main() {
  const binary = ensureSchemathesis();
  // Start-up, the run itself and shutting down; past this, everything is killed.
  globalDeadline((MAX_TIME + 240) * 1000, 'npm run schemathesis');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-connections-schemathesis-'));
  let devServer: RunningDevServer | undefined;
  const emulator = await startEmulator({ port: 0, controlPort: 0 });
  try {
    let temporalAddress = process.env.TEMPORAL_ADDRESS;
    if (!temporalAddress) {
      devServer = await startDevServer({
        binary: ensureTool('cli'),
        port: await freePort(),
        searchAttributes: SEARCH_ATTRIBUTE_TYPES,
      });
      temporalAddress = devServer.address;
    }
    const key = generateApiKey();
    const emulatorHost = new URL(emulator.loginUrl).host;
    const env = {
      ...serviceEnvironment({
        temporalAddress,
        taskQueue: `schemathesis-${Date.now()}`,
        dataDir,
        keys: serviceKeys(),
      }),
      API_KEYS: `schemathesis:admin+agent+fleet:${hashApiKey(key)}`,
      OUTBOUND_ALLOW: [emulatorHost, emulatorHost.replace('127.0.0.1', 'localhost')].join(','),
      LOG_LEVEL: 'error',
    };
    say(`starting the worker and the API (Temporal at ${temporalAddress}, emulator at ${emulator.loginUrl})`);
    await startWorker({ ...env, NODE_OPTIONS: `${WORKER_SETTINGS.NODE_OPTIONS} --require ${GUARD}` });
    const { baseUrl, process: api } = await startApi({ ...env, NODE_OPTIONS: `--require ${GUARD}` });
    const args = [
      '--config-file',
      path.join(ROOT, 'test', 'contract', 'schemathesis.toml'),
      '--no-color',
      'run',
      `${baseUrl}/openapi.json`,
      '--checks',
      'all',
      '--mode',
      'all',
      '--phases',
      'examples,coverage,fuzzing,stateful',
      '--max-examples',
      String(MAX_EXAMPLES),
      '--max-time',
      String(MAX_TIME),
      // One worker: schemathesis's threads trip a CPython 3.11 bug in ast.parse ("AST constructor recursion depth").
      '--workers',
      '1',
      '--request-timeout',
      '30',
      '--header',
      `Authorization: Bearer ${key}`,
      ...(process.env.SCHEMATHESIS_SEED ? ['--seed', process.env.SCHEMATHESIS_SEED] : []),
      ...(process.env.SCHEMATHESIS_ARGS ?? '').split(' ').filter(Boolean),
    ];
    say(`schemathesis ${args.filter((a) => !a.startsWith('Authorization')).join(' ')}`);
    const workDir = path.join(dataDir, 'schemathesis');
    fs.mkdirSync(workDir);
    const code = await runSchemathesis(binary, args, workDir);
    if (code !== 0) say(`the API's last lines:\n${api.output()}`);
    process.exitCode = code;
  } finally {
    await stopAllServices().catch(() => killAllServices());
    await emulator.close();
    await devServer?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

void runMain(main);
