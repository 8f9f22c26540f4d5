import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import request from 'supertest';
import type { Express } from 'express';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { RunningEmulator } from '@agent-connections/salesforce-emulator';
import type { EncryptedFileSecretStore } from '../../secrets/secret-store';
import { createApp } from '../../api/app';
import type { ApiConfig } from '../../api/app';
import { generateApiKey, hashApiKey } from '../../api/auth';
import { createLogger } from '../../observability/logger';
import { ApiMetrics } from '../../observability/metrics';
import { connectionWorkflowId } from '../../workflows/definitions';
import type { ConnectionState } from '../../workflows/definitions';
import { AGENT_CONFIGURATION, uniqueTenant } from '../api/api-stack';
import { Connections } from '../support/connections';
import { freePort } from '../support/free-port';
import { TEST_PAYLOAD_KEY, devServerEnvironment, temporarySecretStore } from '../support/harness';
import { SERVICE_OAUTH_CLIENT, startTestEmulator } from '../support/salesforce';
import { temporaryDir } from '../support/temp-dirs';
import { pollUntil } from '../support/poll';

const root = path.resolve(__dirname, '..', '..');

interface LogLine {
  level?: string;
  msg?: string;
  service?: string;
  workflowId?: string;
  runId?: string;
  tenantId?: string;
  step?: string;
  [key: string]: unknown;
}

/** The first value `probe` finds (neither undefined nor an error); a probe that fails only means "not yet". */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const found = await pollUntil(
    () => probe().catch(() => undefined),
    (value) => value !== undefined,
    { what, timeoutMs },
  );
  return found as T;
}

/** The value of one series (all label sets given must match), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(' ').pop());
  }
  return undefined;
}

/**
 * The real worker process (workers/main.ts, as deployed) against the dev server and the emulator, with its metrics
 * port and JSON logs, and the API in front: after a real enable, both `/metrics` expose the product's and the SDK's
 * series, the logs carry tenant, workflow id, run id and step, neither logs nor histories hold a secret, traces reach an
 * OTLP collector, and SIGTERM drains.
 */
describe('observability of a real enable: metrics, logs, traces, graceful drain', () => {
  let env: TestWorkflowEnvironment;
  let emulator: RunningEmulator;
  let secrets: EncryptedFileSecretStore;
  let secretsDir: string;
  let dataDir: string;
  let worker: ChildProcess;
  let workerExit: Promise<number | null>;
  const workerLines: string[] = [];
  const apiLines: string[] = [];
  let metricsUrl: string;
  let app: Express;
  const taskQueue = `observability-${process.pid}-${Date.now()}`;
  /** What the worker exported over OTLP/HTTP (tracing is on for this worker, as OTEL_ENABLED=true turns it on). */
  const exportedTraces: string[] = [];
  let collector: http.Server;
  const adminKey = generateApiKey();
  const metricsKey = generateApiKey();

  beforeAll(async () => {
    env = await devServerEnvironment();
    emulator = await startTestEmulator();
    const store = await temporarySecretStore();
    secrets = store.store;
    secretsDir = store.dir;
    dataDir = await temporaryDir('agent-connections-data-');
    collector = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.url === '/v1/traces') exportedTraces.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}`;
    worker = spawn(path.join(root, 'node_modules', '.bin', 'tsx'), ['workers/main.ts'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
        TEMPORAL_NAMESPACE: 'default',
        TASK_QUEUE: taskQueue,
        DATA_DIR: dataDir,
        SECRETS_DIR: secretsDir,
        SECRETS_MASTER_KEYS: store.masterKeys,
        PAYLOAD_CODEC_KEYS: `${TEST_PAYLOAD_KEY.id}:${TEST_PAYLOAD_KEY.key.toString('base64')}`,
        SALESFORCE_CLIENT_ID: SERVICE_OAUTH_CLIENT.clientId,
        SALESFORCE_CLIENT_SECRET: SERVICE_OAUTH_CLIENT.clientSecret,
        WORKER_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
        TEMPORAL_SDK_METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
        WORKER_SHUTDOWN_GRACE_TIME: '5 seconds',
        WORKER_MAX_CONCURRENT_ACTIVITIES: '20',
        LOG_LEVEL: 'debug',
        OTEL_ENABLED: 'true',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: collectorUrl,
      },
    });
    let partial = '';
    worker.stdout?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      workerLines.push(...lines.filter(Boolean));
    });
    worker.stderr?.on('data', (chunk: Buffer) => workerLines.push(chunk.toString('utf8')));
    workerExit = new Promise((resolve) => worker.once('exit', (code) => resolve(code)));
    await eventually(
      'the worker to poll',
      () => Promise.resolve(workerLines.some((l) => l.includes('"worker polling"')) ? true : undefined),
      120_000,
    );

    const config: ApiConfig = {
      TASK_QUEUE: taskQueue,
      API_TENANTS: undefined,
      API_RATE_LIMIT_PER_MINUTE: 100_000,
      API_UPDATE_TIMEOUT_MS: 10_000,
      API_MAX_BODY_BYTES: 65_536,
      AGENT_TOKEN_TTL_SECONDS: 900,
      SALESFORCE_API_VERSION: '66.0',
    };
    const capture = new Writable({
      write(chunk: Buffer, _encoding, done) {
        apiLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    app = createApp({
      client: env.client,
      secrets,
      config,
      apiKeys: [
        { id: 'backend', sha256: hashApiKey(adminKey), scopes: ['admin'] },
        { id: 'prometheus', sha256: hashApiKey(metricsKey), scopes: ['metrics'] },
      ],
      log: createLogger({ level: 'debug', service: 'api', destination: capture }),
      metrics: { registry: new ApiMetrics(), public: false },
    });
  }, 180_000);

  afterAll(async () => {
    if (worker && worker.exitCode === null) worker.kill('SIGKILL');
    await emulator?.close();
    collector?.close();
    await env?.teardown();
    await fs.rm(secretsDir, { recursive: true, force: true });
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  async function enable(tenant: string, org: { loginUrl: string; instanceUrl: string; accessToken: string }) {
    await request(app)
      .post(`/v1/tenants/${tenant}/connections/salesforce/enable`)
      .set('Authorization', `Bearer ${adminKey}`)
      .send({
        loginUrl: org.loginUrl,
        instanceUrl: org.instanceUrl,
        adminCredentials: { accessToken: org.accessToken },
        agentConfiguration: AGENT_CONFIGURATION,
      })
      .expect(202);
    const connections = new Connections(env.client, taskQueue);
    return eventually(`the enable of ${tenant} to settle`, async () => {
      const state: ConnectionState = await connections.state(tenant);
      return state.status !== 'enabling' && !state.currentOperation ? state : undefined;
    });
  }

  it('exposes the named series on the worker and the API, and logs ids and never a secret', async () => {
    const org = await emulator.control.createOrg({});
    const tenant = uniqueTenant('obs');
    const state = await enable(tenant, org);
    expect(state.status).toBe('enabled');

    // A second tenant whose enable fails after creating the permission set: compensated.
    const failing = await emulator.control.createOrg({});
    await emulator.control.addFault({
      org: failing.key,
      match: { operation: 'rest.create', object: 'User' },
      action: { kind: 'error', errorCode: 'LICENSE_LIMIT_EXCEEDED', status: 400 },
      times: 0,
    });
    const failedTenant = uniqueTenant('obs-fail');
    const failedState = await enable(failedTenant, failing);
    expect(failedState.status).not.toBe('enabled');

    const text = await eventually('the operation outcomes in the worker metrics', async () => {
      const body = await (await fetch(`${metricsUrl}/metrics`)).text();
      return sample(body, 'agent_connections_operations_finished_total', { kind: 'enable', outcome: 'compensated' })
        ? body
        : undefined;
    });
    expect(sample(text, 'agent_connections_operations_started_total', { kind: 'enable' })).toBe(2);
    expect(sample(text, 'agent_connections_operations_finished_total', { kind: 'enable', outcome: 'succeeded' })).toBe(
      1,
    );
    expect(sample(text, 'agent_connections_operation_duration_seconds_count', { kind: 'enable' })).toBeGreaterThan(0);
    expect(
      sample(text, 'agent_connections_step_duration_seconds_count', { step: 'awaitReadiness', result: 'ok' }),
    ).toBeGreaterThan(0);
    expect(sample(text, 'agent_connections_salesforce_calls_total', { endpoint: 'oauth2/token' })).toBeGreaterThan(0);
    expect(sample(text, 'agent_connections_salesforce_calls_total', { code: '400' })).toBeGreaterThan(0);
    expect(sample(text, 'agent_connections_salesforce_calls_total', { endpoint: 'sobjects/User' })).toBeGreaterThan(0);
    expect(text).not.toContain('endpoint="other"');
    expect(sample(text, 'agent_connections_salesforce_call_duration_seconds_count')).toBeGreaterThan(0);
    const instance = new URL(org.instanceUrl).host;
    expect(sample(text, 'agent_connections_salesforce_api_remaining', { instance })).toBeGreaterThan(0);
    expect(sample(text, 'agent_connections_salesforce_api_limit', { instance })).toBeGreaterThan(0);
    expect(sample(text, 'agent_connections_readiness_checks_total', { result: 'ready' })).toBe(1);
    expect(sample(text, 'agent_connections_readiness_wait_seconds_count')).toBe(1);
    // The SDK's own series (Rust core's Prometheus exporter), served on the same port.
    expect(text).toMatch(/^temporal_[a-z_]+/m);
    expect(text).toMatch(/^temporal_activity_execution_latency/m);
    // No tenant id in any label.
    expect(text).not.toContain(tenant);

    // The API: its own series behind a metrics-scoped key.
    await request(app).get('/metrics').expect(401);
    await request(app).get('/metrics').set('Authorization', `Bearer ${adminKey}`).expect(403);
    const api = await request(app).get('/metrics').set('Authorization', `Bearer ${metricsKey}`).expect(200);
    expect(api.headers['content-type']).toMatch(/^text\/plain/);
    expect(sample(api.text, 'agent_connections_api_operations_started_total', { kind: 'enable' })).toBe(2);
    expect(
      sample(api.text, 'agent_connections_api_requests_total', {
        route: '/v1/tenants/:tenantId/connections/:crm/enable',
        status: '202',
      }),
    ).toBe(2);
    expect(api.text).not.toContain(tenant);

    // Logs: JSON lines with tenant, workflow id, run id and step.
    const logs = workerLines.flatMap((line) => {
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return [];
      }
    });
    const stepLines = logs.filter((l) => l.tenantId === tenant && l.step !== undefined);
    expect(stepLines.length).toBeGreaterThan(3);
    for (const line of stepLines) {
      expect(line).toMatchObject({ service: 'worker', workflowId: expect.stringContaining(tenant) });
      expect(line.runId).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(stepLines.map((l) => l.step)).toEqual(expect.arrayContaining(['awaitReadiness']));
    const finished = logs.find((l) => l.msg === 'operation finished' && l.tenantId === tenant);
    expect(finished).toMatchObject({
      kind: 'enable',
      outcome: 'succeeded',
      workflowId: expect.stringMatching(/^enable:/),
      runId: expect.any(String),
    });
    expect(logs.find((l) => l.msg === 'operation finished' && l.tenantId === failedTenant)).toMatchObject({
      outcome: 'compensated',
    });

    // Never a secret: not the admin tokens, not the private key.
    const privateKeyPem = (
      JSON.parse((await secrets.get(state.details!.privateKey))!) as {
        privateKeyPem: string;
      }
    ).privateKeyPem;
    const keyBody = privateKeyPem.split('\n')[1]!;
    const everything = [...workerLines, ...apiLines].join('\n');
    expect(everything.length).toBeGreaterThan(1000);
    for (const secret of [org.accessToken, org.refreshToken, failing.accessToken, keyBody, adminKey, metricsKey]) {
      expect(everything).not.toContain(secret);
    }
    expect(everything).not.toContain('PRIVATE KEY');
    // The connection's history is encrypted end to end.
    const history = JSON.stringify(
      await env.client.workflow.getHandle(connectionWorkflowId(tenant, 'salesforce')).fetchHistory(),
    );
    expect(history).not.toContain(org.accessToken);
  });

  it('drains on SIGTERM: the metrics port reports it, then the process exits cleanly', async () => {
    expect((await fetch(`${metricsUrl}/healthz`)).status).toBe(200);
    worker.kill('SIGTERM');
    expect(await workerExit).toBe(0);
    const logs = workerLines.join('\n');
    expect(logs).toContain('"draining: no new tasks; in-flight activities may finish"');
    expect(logs).toContain('"worker stopped"');
    // The spans buffered by OpenTelemetry were flushed on the way out: workflow and activity spans of the run.
    const traces = exportedTraces.join('\n');
    expect(traces).toContain('RunWorkflow:enableConnection');
    expect(traces).toContain('RunActivity:awaitReadiness');
  });
});
