import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { Connection } from '@temporalio/client';
import { superviseUntilReady } from './child-server';
import type { SearchAttributeType } from '@temporalio/common';

export interface DevServerOptions {
  binary: string;
  port: number;
  /** Omit for a headless server. */
  uiPort?: number;
  /** SQLite file; omit for an in-memory server that forgets everything on exit. */
  dbFile?: string;
  searchAttributes: Record<string, SearchAttributeType>;
  codecEndpoint?: string;
  log?: (line: string) => void;
}

export interface RunningDevServer {
  address: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

const CLI_TYPE_NAMES: Record<string, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/** Dynamic configuration every dev server of the product starts with (tests, `npm start`, benches, drills). */
export const DEV_SERVER_DYNAMIC_CONFIG = [
  'matching.enableFairness=true',
  'matching.numTaskqueueReadPartitions=1',
  'matching.numTaskqueueWritePartitions=1',
];

/** Waits until a Temporal frontend answers GetSystemInfo, or throws after `timeoutMs`. */
async function waitForTemporal(address: string, timeoutMs: number, isAlive: () => boolean = () => true) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`Temporal server for ${address} exited during start-up`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`Temporal at ${address} did not answer within ${timeoutMs} ms: ${String(lastError)}`);
}

/** True when something already answers as a Temporal frontend at `address`. */
export async function isTemporalUp(address: string): Promise<boolean> {
  try {
    await waitForTemporal(address, 1500);
    return true;
  } catch {
    return false;
  }
}

/** The dev server's SQLite files (the database, its WAL, shared-memory and journal files): 0600. */
export function restrictDatabaseFiles(dbFile: string): void {
  for (const file of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`, `${dbFile}-journal`]) {
    try {
      fs.chmodSync(file, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

/**
 * Starts `temporal server start-dev` as a child process and waits until it serves. With `dbFile`, the database files
 * are created 0600 (and made so if they already existed).
 */
export async function startDevServer(options: DevServerOptions): Promise<RunningDevServer> {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--log-level', 'warn'];
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  if (options.codecEndpoint) args.push('--ui-codec-endpoint', options.codecEndpoint);
  // Fairness keys (the org of each connection's work) do nothing unless matching is told to use them; priorities
  // are on by default from server 1.31 (this CLI embeds 1.32).
  for (const value of DEV_SERVER_DYNAMIC_CONFIG) args.push('--dynamic-config-value', value);
  for (const [name, type] of Object.entries(options.searchAttributes)) {
    args.push('--search-attribute', `${name}=${CLI_TYPE_NAMES[type] ?? type}`);
  }
  // The server creates its SQLite database (and the journal files beside it) itself, with the process's umask; an
  // empty file made ahead is taken for a database without tables. So it starts with umask 077: the files it creates
  // are 0600. Node has no per-child umask, and spawn forks synchronously: the parent's is set around it.
  const previousUmask = options.dbFile ? process.umask(0o077) : undefined;
  let child: ChildProcess;
  try {
    child = spawn(options.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } finally {
    if (previousUmask !== undefined) process.umask(previousUmask);
  }
  const forward = (chunk: Buffer) => options.log?.(chunk.toString('utf8').trimEnd());
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  const address = `127.0.0.1:${options.port}`;
  const { stop } = await superviseUntilReady(child, (isAlive) => waitForTemporal(address, 60_000, isAlive));
  // A database of an earlier run, made before this rule, may be readable by others: no longer.
  if (options.dbFile) restrictDatabaseFiles(options.dbFile);
  return { address, process: child, stop };
}
