/**
 * Codec abuse benchmark (`npm run bench:codec-abuse`): the real API process on loopback, with the settings of
 * `npm start` (CODEC_AUTH=key-or-local-ui, CODEC_MAX_BODY_BYTES 4 MiB), while three senders abuse `/codec` the way
 * any process of the machine can, without a key and with a forged Web UI Origin:
 *
 * - max-size: bodies at CODEC_MAX_BODY_BYTES of real work (one 3 MB payload to encrypt), and some just over it;
 * - nested: 4 MB of nested brackets (JSON.parse alone took a second on it), and 4 MB of empty objects;
 * - many-payloads: CODEC_MAX_PAYLOADS sealed payloads of 3 KB to decrypt (4 MB), and 10,000 tiny ones.
 *
 * Each sender is a process of its own (at nice 10, BENCH_SENDER_NICE: a load generator must not take the CPU from
 * what it measures) keeping 2 requests in flight; this process probes `/healthz` every 20 ms, first idle, then during
 * the abuse, and prints p50/p99 and the goal "`/healthz` p99 < 100 ms while /codec is abused". Two phases: the
 * defaults (the goal), then the rate limit lifted (BENCH_CODEC_RATE_LIMIT, default 1000000), which measures the
 * bounds and the worker threads alone. Bounded by time (BENCH_SECONDS, default 20 s, plus 5 s idle, per phase) and a
 * global deadline. BENCH_API_ROOT runs another checkout's API (for "before" figures). Writes
 * reports/codec-abuse-bench.{json,md} (BENCH_REPORT_DIR); exits 1 when /healthz failed to answer.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Payload } from '@temporalio/common';
import { EncryptionCodec, parseCodecKeys } from '../codec/encryption-codec';
import {
  ROOT,
  globalDeadline,
  httpRequest,
  machineFacts,
  markdownTable,
  percentile,
  round,
  runMain,
  sleep,
  startApi,
  stopAllServices,
  writeBenchReport,
} from './support';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 5);
const PROBE_EVERY_MS = 20;
const IN_FLIGHT = 2;
const MAX_BODY_BYTES = 4_194_304;
const MAX_PAYLOADS = 1000;
const UI_ORIGIN = 'http://localhost:8233';
const GOAL_P99_MS = 100;
/** The senders' niceness (BENCH_SENDER_NICE, 0 to 19): on one machine, lower than the API's and the probe's. */
const SENDER_NICE = Number(process.env.BENCH_SENDER_NICE ?? 10);

type SenderKind = 'max-size' | 'nested' | 'many-payloads';
const SENDERS: SenderKind[] = ['max-size', 'nested', 'many-payloads'];

interface SenderReport {
  kind: SenderKind;
  requests: number;
  megabytesSent: number;
  statuses: Record<string, number>;
}

function toJson(payload: Payload) {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([k, v]) => [
        k,
        Buffer.from(v ?? new Uint8Array()).toString('base64'),
      ]),
    ),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}

/** The bodies a sender alternates between, and where it sends them. */
async function senderBodies(kind: SenderKind, codecKeys: string): Promise<{ path: string; body: Buffer }[]> {
  switch (kind) {
    case 'max-size': {
      // One payload whose JSON body is just under, then just over, the limit.
      const envelope = (data: string) =>
        Buffer.from(JSON.stringify({ payloads: [{ metadata: { encoding: 'anNvbi9wbGFpbg==' }, data }] }));
      const overhead = envelope('').length;
      const dataChars = Math.floor((MAX_BODY_BYTES - overhead) / 4) * 4;
      const atLimit = envelope(randomBytes((dataChars / 4) * 3).toString('base64'));
      const overLimit = envelope(randomBytes((dataChars / 4) * 3 + 3).toString('base64'));
      return [
        { path: '/codec/encode', body: atLimit },
        { path: '/codec/encode', body: atLimit },
        { path: '/codec/encode', body: overLimit },
      ];
    }
    case 'nested': {
      const depth = Math.floor((MAX_BODY_BYTES - 20) / 2);
      const brackets = Buffer.from(`{"payloads":${'['.repeat(depth)}${']'.repeat(depth)}}`);
      const objects = Buffer.from(
        `{"payloads":[${Array(Math.floor((MAX_BODY_BYTES - 20) / 3))
          .fill('{}')
          .join(',')}]}`,
      );
      return [
        { path: '/codec/decode', body: brackets },
        { path: '/codec/decode', body: objects },
      ];
    }
    case 'many-payloads': {
      const codec = new EncryptionCodec(parseCodecKeys(codecKeys));
      const sealed = async (count: number, size: number) =>
        (
          await codec.encode(
            Array.from({ length: count }, (_, i) => defaultPayloadConverter.toPayload({ i, pad: 'x'.repeat(size) })),
          )
        ).map(toJson);
      const atLimit = Buffer.from(JSON.stringify({ payloads: await sealed(MAX_PAYLOADS, 2900) }));
      const tooMany = Buffer.from(JSON.stringify({ payloads: await sealed(10_000, 10) }));
      return [
        { path: '/codec/decode', body: atLimit },
        { path: '/codec/decode', body: atLimit },
        { path: '/codec/decode', body: tooMany },
      ];
    }
  }
}

/** POSTs a body as the forged local UI would (no key); resolves with the status, the answer read and dropped. */
function post(baseUrl: string, requestPath: string, body: Buffer, agent: http.Agent): Promise<number> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: requestPath,
        agent,
        timeout: 30_000,
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': String(body.length),
          Origin: UI_ORIGIN,
          'X-Namespace': 'default',
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** A sender process: sends its bodies in turn, IN_FLIGHT at a time, until `seconds` pass; prints its report. */
async function runSender(kind: SenderKind, baseUrl: string, seconds: number): Promise<void> {
  const bodies = await senderBodies(kind, process.env.PAYLOAD_CODEC_KEYS ?? '');
  process.stdout.write('ready\n');
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const report: SenderReport = { kind, requests: 0, megabytesSent: 0, statuses: {} };
  const until = Date.now() + seconds * 1000;
  let next = 0;
  const loop = async () => {
    while (Date.now() < until) {
      const { path: requestPath, body } = bodies[next++ % bodies.length]!;
      const status = await post(baseUrl, requestPath, body, agent).then(String, (err: unknown) =>
        String(err).includes('timeout') ? 'timeout' : 'network-error',
      );
      report.requests += 1;
      report.megabytesSent += body.length / 2 ** 20;
      report.statuses[status] = (report.statuses[status] ?? 0) + 1;
      if (status === 'network-error') await sleep(20);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, loop));
  agent.destroy();
  process.stdout.write(`report ${JSON.stringify({ ...report, megabytesSent: round(report.megabytesSent, 1) })}\n`);
}

interface Sender {
  ready: Promise<void>;
  done: Promise<SenderReport>;
}

function startSender(kind: SenderKind, baseUrl: string, env: NodeJS.ProcessEnv): Sender {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, '--sender', kind, baseUrl, String(SECONDS)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  // The load generator must not take the CPU from the API it measures, as clients on other machines would not.
  if (child.pid !== undefined) os.setPriority(child.pid, SENDER_NICE);
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.includes('ready\n')) markReady();
  });
  const done = new Promise<SenderReport>((resolve, reject) =>
    child.once('exit', (code) => {
      const line = output.split('\n').find((l) => l.startsWith('report '));
      if (code !== 0 || !line)
        reject(new Error(`sender ${kind} failed (exit ${String(code)}): ${output.slice(-2000)}`));
      else resolve(JSON.parse(line.slice('report '.length)) as SenderReport);
    }),
  );
  return { ready, done };
}

interface Latencies {
  samples: number;
  p50: number;
  p99: number;
  max: number;
  failed: number;
}

/** GET /healthz every PROBE_EVERY_MS (one at a time, keep-alive) for `seconds`; latencies in ms. */
async function probe(baseUrl: string, seconds: number): Promise<Latencies> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  let failed = 0;
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    const started = performance.now();
    const ok = await httpRequest(baseUrl, { method: 'GET', path: '/healthz', agent, timeoutMs: 10_000 }).then(
      (r) => r.status === 200,
      () => false,
    );
    const elapsed = performance.now() - started;
    if (ok) latencies.push(elapsed);
    else failed += 1;
    await sleep(Math.max(0, PROBE_EVERY_MS - elapsed));
  }
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    samples: latencies.length,
    p50: round(percentile(latencies, 50), 1),
    p99: round(percentile(latencies, 99), 1),
    max: round(latencies[latencies.length - 1] ?? Number.NaN, 1),
    failed,
  };
}

/**
 * The API's own event-loop delay (prom-client's, from /metrics) since the previous call, in ms: what the event loop
 * itself was held, apart from the time the machine's scheduler kept any process waiting.
 */
async function eventLoopDelay(baseUrl: string): Promise<{ p99: number; max: number } | undefined> {
  const response = await httpRequest(baseUrl, { method: 'GET', path: '/metrics' }).catch(() => undefined);
  if (response?.status !== 200) return undefined;
  const value = (name: string) => {
    const match = new RegExp(`^agent_connections_api_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(
      response.text,
    );
    return match ? round(Number(match[1]) * 1000, 1) : Number.NaN;
  };
  return { p99: value('p99'), max: value('max') };
}

interface Phase {
  name: string;
  rateLimitPerMinute: number;
  healthz: { idle: Latencies; abused: Latencies };
  apiEventLoopDelayMs: { p99: number; max: number } | undefined;
  senders: SenderReport[];
  apiRssMB: number | null;
  met: boolean;
}

/** One API process, idle then abused; the rate limit is the phase's. */
async function runPhase(name: string, rateLimitPerMinute: number, apiRoot: string | undefined): Promise<Phase> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'codec-abuse-bench-'));
  const codecKeys = `k1:${randomBytes(32).toString('base64')}`;
  const env: NodeJS.ProcessEnv = {
    DATA_DIR: work,
    API_HOST: '127.0.0.1',
    // Nothing here needs Temporal: the API connects lazily, /healthz and /codec never call it.
    TEMPORAL_ADDRESS: '127.0.0.1:1',
    PAYLOAD_CODEC_KEYS: codecKeys,
    CODEC_AUTH: 'key-or-local-ui',
    CODEC_CORS_ORIGINS: UI_ORIGIN,
    CODEC_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    CODEC_RATE_LIMIT_PER_MINUTE: String(rateLimitPerMinute),
    API_METRICS_PUBLIC: 'true',
    LOG_LEVEL: 'warn',
  };
  try {
    const api = await startApi(env, { readyPath: '/healthz', ...(apiRoot ? { root: apiRoot } : {}) });
    console.log(
      `[${name}] API at ${api.baseUrl}${apiRoot ? ` (from ${apiRoot})` : ''}; /healthz idle ${IDLE_SECONDS} s`,
    );
    await probe(api.baseUrl, 1); // warm-up
    const idle = await probe(api.baseUrl, IDLE_SECONDS);
    await eventLoopDelay(api.baseUrl); // resets the API's event-loop delay histogram
    const senders = SENDERS.map((kind) => startSender(kind, api.baseUrl, { PAYLOAD_CODEC_KEYS: codecKeys }));
    await Promise.all(senders.map((sender) => sender.ready));
    console.log(`[${name}] three senders abuse /codec for ${SECONDS} s (${IN_FLIGHT} in flight each)`);
    const abused = await probe(api.baseUrl, SECONDS);
    const loopDelay = await eventLoopDelay(api.baseUrl);
    const reports = await Promise.all(senders.map((sender) => sender.done));
    const rssMB = api.process.usage()?.rssMB ?? null;
    return {
      name,
      rateLimitPerMinute,
      healthz: { idle, abused },
      apiEventLoopDelayMs: loopDelay,
      senders: reports,
      apiRssMB: rssMB,
      met: abused.p99 < GOAL_P99_MS && abused.failed === 0,
    };
  } finally {
    await stopAllServices();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function phaseMarkdown(phase: Phase): string {
  const { idle, abused } = phase.healthz;
  const table = markdownTable(
    ['/healthz', 'samples', 'p50 ms', 'p99 ms', 'max ms', 'failed'],
    [
      ['idle', idle.samples, idle.p50, idle.p99, idle.max, idle.failed],
      ['/codec abused', abused.samples, abused.p50, abused.p99, abused.max, abused.failed],
    ],
  );
  const loop = phase.apiEventLoopDelayMs
    ? `The API's event-loop delay while abused (its own measure, 10 ms resolution): ` +
      `p99 ${phase.apiEventLoopDelayMs.p99} ms, max ${phase.apiEventLoopDelayMs.max} ms.`
    : 'The API did not report its event-loop delay.';
  const senders = markdownTable(
    ['sender', 'requests', 'MB sent', 'answers'],
    phase.senders.map((r) => [
      r.kind,
      r.requests,
      r.megabytesSent,
      Object.entries(r.statuses)
        .map(([status, n]) => `${status}: ${n}`)
        .join(', '),
    ]),
  );
  return `## ${phase.name} (CODEC_RATE_LIMIT_PER_MINUTE=${phase.rateLimitPerMinute})\n\n${table}\n\n${loop}\n\n${senders}`;
}

/**
 * Two phases: the configuration `npm start` runs (CODEC_RATE_LIMIT_PER_MINUTE=600, the goal), then the rate limit
 * lifted, so that the bounds and the worker threads alone are measured. BENCH_CODEC_RATE_LIMIT replaces the second.
 */
async function main(): Promise<void> {
  globalDeadline(2 * (SECONDS + IDLE_SECONDS + 120) * 1000, 'npm run bench:codec-abuse');
  const apiRoot = process.env.BENCH_API_ROOT ? path.resolve(process.env.BENCH_API_ROOT) : undefined;
  const defaults = await runPhase('defaults', 600, apiRoot);
  const lifted = await runPhase('rate limit lifted', Number(process.env.BENCH_CODEC_RATE_LIMIT ?? 1_000_000), apiRoot);
  const goal = `/healthz p99 < ${GOAL_P99_MS} ms while /codec is abused`;
  const measured = (phase: Phase) =>
    `p99 ${phase.healthz.abused.p99} ms (idle ${phase.healthz.idle.p99} ms, max ${phase.healthz.abused.max} ms)`;
  const summary = {
    seconds: SECONDS,
    senderNice: SENDER_NICE,
    apiRoot: apiRoot ?? null,
    phases: [defaults, lifted],
    goal: { what: goal, met: defaults.met },
    machine: { ...machineFacts(), loadAverage1m: round(os.loadavg()[0] ?? Number.NaN, 1) },
  };
  const goals = markdownTable(
    ['Goal', 'Measured', 'Met'],
    [
      [`${goal} (defaults)`, measured(defaults), defaults.met ? 'yes' : 'no'],
      [`${goal} (rate limit lifted, informative)`, measured(lifted), lifted.met ? 'yes' : 'no'],
    ],
  );
  const machine =
    `${summary.machine.cpus} CPUs, load average ${summary.machine.loadAverage1m} at the end (other processes of ` +
    `the machine included); senders at nice ${SENDER_NICE}.`;
  const markdown =
    `# Codec abuse\n\n${machine}\n\n${phaseMarkdown(defaults)}\n\n${phaseMarkdown(lifted)}\n\n` +
    `## Goals\n\n${goals}\n`;
  console.log(`\n${markdown}`);
  writeBenchReport('codec-abuse-bench', summary, { markdown });
  // A missed goal is reported, not an error; a /healthz that failed to answer is one.
  if (defaults.healthz.abused.failed + lifted.healthz.abused.failed > 0) process.exitCode = 1;
}

if (process.argv[2] === '--sender') {
  const [kind, baseUrl, seconds] = process.argv.slice(3);
  void runMain(() => runSender(kind as SenderKind, baseUrl!, Number(seconds)));
} else {
  void runMain(main);
}
