/**
 * Emulator throughput benchmark (`npm run bench:emulator`): a create/query REST mix over loopback with keep-alive.
 * The emulator runs in a child process (its own core); the load generator runs here. Bounded by request count and
 * wall time. Prints requests/s, p50/p99 and writes reports/emulator-bench.json.
 *
 * Env: BENCH_REQUESTS (default 20000), BENCH_SECONDS (default 20), BENCH_CONCURRENCY (default 16),
 *      BENCH_INPROCESS=1 to run the emulator in this process instead (client and server then share one core).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startEmulator, EmulatorControl } from '@agent-connections/salesforce-emulator';

const TOTAL = Number(process.env.BENCH_REQUESTS ?? 20000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const IN_PROCESS = process.env.BENCH_INPROCESS === '1';

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function request(url: string, method: string, token: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: {
          Authorization: `Bearer ${token}`,
          ...(body ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function startChild(): Promise<{ loginUrl: string; controlUrl: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', require.resolve('@agent-connections/salesforce-emulator/main')],
    {
      env: { ...process.env, EMULATOR_PORT: '0', EMULATOR_CONTROL_PORT: '0', EMULATOR_STATE_FILE: '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`emulator did not start: ${out}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const login = /login URL (\S+)/.exec(out);
      const ctl = /Control API:\s+(\S+)/.exec(out);
      if (login && ctl) {
        clearTimeout(timer);
        resolve({ loginUrl: login[1]!, controlUrl: ctl[1]!, child });
      }
    });
    child.on('exit', (code) => reject(new Error(`emulator exited with ${String(code)}: ${out}`)));
  });
}

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  let close: () => Promise<void>;
  let controlUrl: string;
  if (IN_PROCESS) {
    const emu = await startEmulator({ port: 0, controlPort: 0 });
    controlUrl = emu.controlUrl;
    close = () => emu.close();
  } else {
    const c = await startChild();
    controlUrl = c.controlUrl;
    close = async () => {
      c.child.kill('SIGTERM');
      await new Promise((r) => c.child.once('exit', r));
    };
  }
  const control = new EmulatorControl(controlUrl);
  const org = await control.createOrg({ key: 'bench', apiDailyLimit: 10_000_000 });
  const base = `${org.instanceUrl}/services/data/v66.0`;
  const token = org.accessToken;

  // Warm-up and a pool of ids to read back.
  const ids: string[] = [];
  for (let i = 0; i < 50; i++) {
    const r = await request(
      `${base}/sobjects/Account`,
      'POST',
      token,
      JSON.stringify({ Name: `Warm ${i}`, Industry: 'Banking' }),
    );
    ids.push((JSON.parse(r.body) as { id: string }).id);
  }

  const latencies: number[] = [];
  const byKind: Record<string, number> = { create: 0, queryById: 0, queryFilter: 0 };
  let errors = 0;
  let issued = 0;
  const started = process.hrtime.bigint();
  const deadline = Date.now() + SECONDS * 1000;

  async function worker(w: number): Promise<void> {
    while (issued < TOTAL && Date.now() < deadline) {
      const n = issued++;
      const kind = n % 2 === 0 ? 'create' : n % 4 === 1 ? 'queryById' : 'queryFilter';
      const t0 = process.hrtime.bigint();
      let res: { status: number; body: string };
      if (kind === 'create') {
        res = await request(
          `${base}/sobjects/Account`,
          'POST',
          token,
          JSON.stringify({ Name: `Bench ${w}-${n}`, Industry: 'Technology', NumberOfEmployees: n }),
        );
        if (res.status === 201 && ids.length < 5000) ids.push((JSON.parse(res.body) as { id: string }).id);
      } else if (kind === 'queryById') {
        const id = ids[n % ids.length]!;
        res = await request(
          `${base}/query?q=${encodeURIComponent(`SELECT Id, Name, Industry FROM Account WHERE Id = '${id}'`)}`,
          'GET',
          token,
        );
      } else {
        res = await request(
          `${base}/query?q=${encodeURIComponent("SELECT Id, Name FROM Account WHERE Industry = 'Banking' LIMIT 10")}`,
          'GET',
          token,
        );
      }
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      byKind[kind]!++;
      if (res.status >= 400) errors++;
    }
  }

  await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => worker(i)));
  const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const result = {
    date: new Date().toISOString(),
    mode: IN_PROCESS
      ? 'in-process (client and emulator share one core)'
      : 'emulator in a child process (one core), load generator in the parent',
    node: process.version,
    requests: latencies.length,
    errors,
    concurrency: CONCURRENCY,
    seconds: Number(elapsedS.toFixed(2)),
    requestsPerSecond: Math.round(latencies.length / elapsedS),
    latencyMs: {
      p50: Number(pct(latencies, 50).toFixed(2)),
      p99: Number(pct(latencies, 99).toFixed(2)),
      max: Number((latencies.at(-1) ?? 0).toFixed(2)),
    },
    mix: byKind,
  };
  await close();
  agent.destroy();
  const out = path.join(__dirname, '..', 'reports', 'emulator-bench.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(
    `emulator bench: ${result.requests} requests in ${result.seconds}s → ${result.requestsPerSecond} req/s ` +
      `(p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, errors ${errors}, concurrency ${CONCURRENCY}, ${result.mode})`,
  );
  console.log(`written to ${path.relative(process.cwd(), out)}`);
  if (errors) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
