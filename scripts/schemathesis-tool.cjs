'use strict';
/**
 * Finds or installs schemathesis, the property-based API tester that `npm run schemathesis` (and `npm test`) runs
 * against the OpenAPI document. Like the Temporal binaries it lives outside the clone, in a virtualenv of the cache
 * keyed by version (`$AGENT_CONNECTIONS_CACHE/schemathesis/<version>/`), installed from PyPI with the machine's
 * python3. SCHEMATHESIS_PATH names an existing binary instead. Plain CommonJS: it runs before `npm ci`.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { cacheRoot } = require('./temporal-tools.cjs');

const SCHEMATHESIS_VERSION = '4.32.5';

function log(message) {
  process.stderr.write(`[schemathesis-tool] ${message}\n`);
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function run(command, args) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (result.error) return { ok: false, output: String(result.error.message) };
  return { ok: result.status === 0, output: `${result.stdout || ''}${result.stderr || ''}` };
}

/** The schemathesis binary, installed into the cache when needed; throws naming what to install otherwise. */
function ensureSchemathesis() {
  const explicit = process.env.SCHEMATHESIS_PATH;
  if (explicit) {
    if (!isExecutable(explicit)) throw new Error(`SCHEMATHESIS_PATH=${explicit} is not an executable file`);
    return explicit;
  }
  const dir = path.join(cacheRoot(), 'schemathesis', SCHEMATHESIS_VERSION);
  const binary = path.join(dir, 'venv', 'bin', 'schemathesis');
  // The marker is written last: a half-finished install is redone, never used.
  const marker = path.join(dir, 'installed');
  if (isExecutable(binary) && fs.existsSync(marker)) return binary;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const python = ['python3', 'python'].find((candidate) => run(candidate, ['--version']).ok);
  if (!python) throw new Error('Could not install schemathesis: python3 (with venv and pip) is not installed.');
  log(`installing schemathesis==${SCHEMATHESIS_VERSION} from PyPI into ${dir}`);
  const venv = run(python, ['-m', 'venv', path.join(dir, 'venv')]);
  if (!venv.ok) throw new Error(`Could not create a virtualenv for schemathesis: ${venv.output.trim()}`);
  const pip = run(path.join(dir, 'venv', 'bin', 'python'), [
    '-m',
    'pip',
    'install',
    '--disable-pip-version-check',
    '--quiet',
    `schemathesis==${SCHEMATHESIS_VERSION}`,
  ]);
  if (!pip.ok || !isExecutable(binary)) {
    throw new Error(`pip install schemathesis==${SCHEMATHESIS_VERSION} failed: ${pip.output.trim().split('\n').pop()}`);
  }
  fs.writeFileSync(marker, `${SCHEMATHESIS_VERSION}\n`);
  log(`installed ${binary}`);
  return binary;
}

module.exports = { ensureSchemathesis, SCHEMATHESIS_VERSION };

if (require.main === module) {
  try {
    process.stdout.write(`${ensureSchemathesis()}\n`);
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}
