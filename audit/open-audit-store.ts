import fs from 'node:fs';
import path from 'node:path';
import type { PoolConfig } from 'pg';
import type { AuditStore } from './audit-store';
import { SqlAuditStore } from './audit-store';

/** PostgreSQL through `pg`: every API and worker machine points at the same database. */
export async function openPostgresAuditStore(
  connection: string | PoolConfig,
  options: { createSchema?: boolean } = {},
): Promise<AuditStore> {
  const { Pool } = await import('pg');
  const pool = new Pool(typeof connection === 'string' ? { connectionString: connection, max: 4 } : connection);
  // An idle connection the server closed (a restart, a failover) is dropped from the pool; the next query opens one.
  pool.on('error', () => undefined);
  if (options.createSchema === false) return SqlAuditStore.over(pool, () => pool.end());
  const client = await pool.connect();
  try {
    // The schema in one transaction on one connection; events then go through the pool.
    await SqlAuditStore.open(client, () => Promise.resolve());
  } finally {
    client.release();
  }
  return SqlAuditStore.over(pool, () => pool.end());
}

/** PGlite: Postgres in WASM, in-process, its data in `dataDir` (made 0700). */
export async function openEmbeddedAuditStore(dataDir: string): Promise<AuditStore> {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(dataDir);
  return SqlAuditStore.open(db, () => db.close());
}

/** The Unix socket of the embedded store, in its folder: where the API serves it and the worker finds it. */
const EMBEDDED_PORT = 5432;
const embeddedSocket = (dir: string) => path.join(dir, `.s.PGSQL.${EMBEDDED_PORT}`);

/**
 * The embedded store of a process that owns it (the API): PGlite under `dir`/data, also served on a Unix socket in
 * `dir` (`@electric-sql/pglite-socket`, queries queued one at a time), so that the worker process of `npm start`
 * writes into the same database through `pg`.
 */
export async function serveEmbeddedAuditStore(dir: string): Promise<AuditStore> {
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create(dataDir);
  // A socket left by a process that died would refuse the bind.
  fs.rmSync(embeddedSocket(dir), { force: true });
  const server = new PGLiteSocketServer({ db, path: embeddedSocket(dir), maxConnections: 8 });
  await server.start();
  fs.chmodSync(embeddedSocket(dir), 0o600);
  return SqlAuditStore.open(db, async () => {
    await server.stop();
    await db.close();
  });
}

/** The embedded store as another process of the same DATA_DIR reaches it (the worker): through its socket. */
export function connectEmbeddedAuditStore(dir: string): Promise<AuditStore> {
  return openPostgresAuditStore(
    { host: path.resolve(dir), port: EMBEDDED_PORT, user: 'postgres', database: 'postgres', max: 1 },
    { createSchema: false },
  );
}

export interface AuditStoreSettings {
  AUDIT_STORE: 'embedded' | 'postgres';
  AUDIT_DATABASE_URL?: string;
  DATA_DIR: string;
}

/**
 * The configured store. Embedded: the API owns PGlite under DATA_DIR/audit and serves it on a Unix socket there; the
 * worker connects to that socket (one DATA_DIR, one machine: `npm start`).
 */
export function auditStoreOf(settings: AuditStoreSettings, role: 'api' | 'worker'): Promise<AuditStore> {
  if (settings.AUDIT_STORE === 'postgres') {
    if (!settings.AUDIT_DATABASE_URL) throw new Error('AUDIT_DATABASE_URL is required with AUDIT_STORE=postgres');
    return openPostgresAuditStore(settings.AUDIT_DATABASE_URL);
  }
  const dir = path.join(settings.DATA_DIR, 'audit');
  return role === 'api' ? serveEmbeddedAuditStore(dir) : connectEmbeddedAuditStore(dir);
}
