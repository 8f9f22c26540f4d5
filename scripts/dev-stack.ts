/**
 * `npm start`: the whole product on one machine. Starts (or reuses) the Temporal dev server with its Web UI and a
 * SQLite file under the data folder, the Salesforce emulator when no org is configured, the worker and the API;
 * waits until each is healthy, prints the URLs, and on Ctrl-C stops every child it started.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { LOCAL_ADMIN_KEY_FILE } from '../api/auth';
import { openSecretStore } from '../secrets';
import { loadConfig, signInCallbackUrl } from '../config';
import { EmulatorControl, SERVICE_OAUTH_CLIENT } from '@agent-connections/salesforce-emulator';
import { SEARCH_ATTRIBUTE_TYPES } from '../workflows/definitions';
import { ensureTool } from './temporal-tools.cjs';
import { isTemporalUp, startDevServer } from './temporal-dev-server';
import type { RunningDevServer } from './temporal-dev-server';

const root = path.resolve(__dirname, '..');
const config = loadConfig();
const dataDir = path.resolve(root, config.DATA_DIR);
const temporalAddress = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
const emulatorPort = Number(process.env.EMULATOR_PORT ?? 4410);
const emulatorControlPort = Number(process.env.EMULATOR_CONTROL_PORT ?? 4411);
const useEmulator = !process.env.SALESFORCE_LOGIN_URL;
/** The API's codec endpoint: the dev server's Web UI decodes payloads through it; `temporal workflow show` does not. */
const codecEndpoint = `http://${config.API_HOST}:${config.API_PORT}/codec`;

interface Child {
  name: string;
  process: ChildProcess;
}

const children: Child[] = [];
let devServer: RunningDevServer | undefined;
let stopping = false;

function say(line: string) {
  process.stdout.write(`[start] ${line}\n`);
}

/** Each child leads its own process group, so that stopping it also stops what it spawned (tsx runs node). */
function startChild(name: string, script: string, env: NodeJS.ProcessEnv): Child {
  const child = spawn(path.join(root, 'node_modules', '.bin', 'tsx'), [script], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .forEach((line) => process.stdout.write(`[${name}] ${line}\n`));
  child.stdout?.on('data', prefix);
  child.stderr?.on('data', prefix);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      say(`${name} exited (${signal ?? code}); stopping everything`);
      void stopAll(1);
    }
  });
  const entry = { name, process: child };
  children.push(entry);
  return entry;
}

async function stopChild(child: Child) {
  const { pid } = child.process;
  if (pid === undefined || child.process.exitCode !== null || child.process.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.process.once('exit', () => resolve()));
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  };
  kill('SIGTERM');
  const timer = setTimeout(() => kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function stopAll(code: number): Promise<never> {
  stopping = true;
  for (const child of [...children].reverse()) await stopChild(child);
  await devServer?.stop();
  process.exit(code);
}

async function waitFor(description: string, check: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopping) return;
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${description} did not become healthy within ${timeoutMs / 1000} s`);
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url);
  return response.ok;
}

async function main() {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (!stopping) say(`${signal}: stopping`);
      void stopAll(0);
    });
  }
  // The data folder holds the dev server's database, the keys, the secrets and the emulator's tokens: this user's
  // only (0700), also when an earlier run made it readable by others.
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dataDir, 0o700);

  if (await isTemporalUp(temporalAddress)) {
    say(`using the Temporal server already running at ${temporalAddress}`);
  } else {
    const port = Number(temporalAddress.split(':').pop());
    say(`starting the Temporal dev server on ${temporalAddress} (data: ${path.join(dataDir, 'temporal.db')})`);
    devServer = await startDevServer({
      binary: ensureTool('cli'),
      port,
      uiPort,
      dbFile: path.join(dataDir, 'temporal.db'),
      searchAttributes: SEARCH_ATTRIBUTE_TYPES,
      codecEndpoint,
      log: (line) => process.stdout.write(`[temporal] ${line}\n`),
    });
    await waitFor('Temporal Web UI', () => httpOk(`http://127.0.0.1:${uiPort}/`));
  }
  // Against the emulator, the service's OAuth client is the emulator's own (unless one is configured): admins sign in
  // with Salesforce through it, and expired admin tokens are refreshed with it.
  const oauthClient =
    useEmulator && !process.env.SALESFORCE_CLIENT_ID
      ? {
          SALESFORCE_CLIENT_ID: SERVICE_OAUTH_CLIENT.clientId,
          SALESFORCE_CLIENT_SECRET: SERVICE_OAUTH_CLIENT.clientSecret,
        }
      : {};
  const shared = { TEMPORAL_ADDRESS: temporalAddress, DATA_DIR: dataDir, ...oauthClient };

  if (useEmulator) {
    startChild('emulator', require.resolve('@agent-connections/salesforce-emulator/main'), {
      EMULATOR_PORT: String(emulatorPort),
      EMULATOR_CONTROL_PORT: String(emulatorControlPort),
      EMULATOR_STATE_FILE: path.join(dataDir, 'emulator-state.json'),
      EMULATOR_PROPAGATION_DELAY_MS: process.env.EMULATOR_PROPAGATION_DELAY_MS ?? '120000',
      // The API's Sign in with Salesforce callback, registered on the emulator's service client.
      EMULATOR_SERVICE_CALLBACK_URLS: signInCallbackUrl(config),
    });
    await waitFor('Salesforce emulator', () => portOpen(emulatorPort));
  }
  startChild('worker', 'workers/main.ts', shared);
  startChild('api', 'api/main.ts', {
    ...shared,
    CODEC_CORS_ORIGINS: process.env.CODEC_CORS_ORIGINS ?? `http://localhost:${uiPort},http://127.0.0.1:${uiPort}`,
  });
  const apiUrl = `http://${config.API_HOST}:${config.API_PORT}`;
  await waitFor('API', () => httpOk(`${apiUrl}/healthz`));

  say('agent-connections is up:');
  say(`  API                 ${apiUrl}  (health: ${apiUrl}/healthz)`);
  say(`  Temporal Web UI     http://127.0.0.1:${uiPort}  (payloads decoded through ${codecEndpoint})`);
  say(`  Temporal frontend   ${temporalAddress}`);
  if (useEmulator) {
    say(`  Salesforce emulator http://127.0.0.1:${emulatorPort}  (control: http://127.0.0.1:${emulatorControlPort})`);
  }
  await printAdminPage(apiUrl);
  say('Press Ctrl-C to stop.');
}

/**
 * The admin page's address, ready to use. With the emulator: a demo org (created once, kept in the emulator's state
 * file) whose admin credentials go straight into the service's secret store, so the page only carries a reference.
 * No secret is printed: the local admin API key stays in its file under DATA_DIR.
 */
async function printAdminPage(apiUrl: string) {
  const fragment = new URLSearchParams({ tenant: 'demo' });
  if (useEmulator) {
    const control = new EmulatorControl(`http://127.0.0.1:${emulatorControlPort}`);
    if (!(await control.listOrgs()).some((org) => org.key === 'demo')) {
      await control.createOrg({ key: 'demo', name: 'Demo org' });
    }
    const admin = await control.adminToken('demo');
    const org = await control.getOrg('demo');
    // The store the API and the worker use: files under the data folder by default, OpenBao/Vault when configured.
    const secrets = await openSecretStore({
      ...config,
      secretsDir: config.SECRETS_DIR ? path.resolve(root, config.SECRETS_DIR) : path.join(dataDir, 'secrets'),
      DATA_DIR: dataDir,
    });
    const ref = await secrets.put(
      'tenants/demo/admin/emulator-demo-org',
      JSON.stringify({ accessToken: admin.accessToken, refreshToken: admin.refreshToken }),
    );
    await secrets.close?.();
    fragment.set('loginUrl', org.loginUrl);
    fragment.set('instanceUrl', admin.instanceUrl);
    fragment.set('adminCredentialsRef', ref.secretRef);
  }
  say(`  Admin page          ${apiUrl}/admin/#${fragment.toString()}`);
  say(`  API docs            ${apiUrl}/docs  (OpenAPI: ${apiUrl}/openapi.json)`);
  const keyFile = path.join(dataDir, LOCAL_ADMIN_KEY_FILE);
  if (!config.API_KEYS && !config.API_KEYS_FILE && fs.existsSync(keyFile)) {
    say(`  API key for the page: the local admin key in ${keyFile} (cat it; it is never printed)`);
  } else {
    say('  Enter one of the configured API keys (API_KEYS / API_KEYS_FILE) on the admin page.');
  }
}

main().catch(async (err: unknown) => {
  say(`failed: ${err instanceof Error ? err.message : String(err)}`);
  await stopAll(1);
});
