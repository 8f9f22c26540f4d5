import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { superviseUntilReady } from './child-server';

/**
 * An OpenBao dev server (`bao server -dev`) as a child process: in memory, unsealed, KV v2 mounted at `secret/`,
 * loopback only, with a root token chosen here. For the tests and the drills only; production runs a real OpenBao
 * (README, "Operating it").
 */
export interface OpenBaoDevServerOptions {
  binary: string;
  port: number;
  /** Defaults to a random one. */
  rootToken?: string;
  log?: (line: string) => void;
}

export interface RunningOpenBao {
  /** `http://127.0.0.1:<port>`, what VAULT_ADDR takes. */
  address: string;
  rootToken: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Waits until `/v1/sys/health` answers 200 (initialized, unsealed, active), or throws after `timeoutMs`. */
async function waitForOpenBao(address: string, timeoutMs: number, isAlive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`OpenBao for ${address} exited during start-up`);
    try {
      const response = await fetch(`${address}/v1/sys/health`, { signal: AbortSignal.timeout(1000) });
      if (response.status === 200) return;
      last = `HTTP ${response.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`OpenBao at ${address} did not become ready within ${timeoutMs} ms (${last})`);
}

export async function startOpenBaoDevServer(options: OpenBaoDevServerOptions): Promise<RunningOpenBao> {
  const rootToken = options.rootToken ?? `dev-root-${randomUUID()}`;
  const child = spawn(
    options.binary,
    [
      'server',
      '-dev',
      `-dev-root-token-id=${rootToken}`,
      `-dev-listen-address=127.0.0.1:${options.port}`,
      '-log-level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Dev mode prints the unseal key and the root token on stdout: forward stderr only (warnings and errors).
  child.stdout?.resume();
  child.stderr?.on('data', (chunk: Buffer) => options.log?.(chunk.toString('utf8').trimEnd()));
  const address = `http://127.0.0.1:${options.port}`;
  const { stop } = await superviseUntilReady(child, (isAlive) => waitForOpenBao(address, 30_000, isAlive));
  return { address, rootToken, process: child, stop };
}
