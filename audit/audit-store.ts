import type { ComponentRef, Crm, OperationKind, OperationStatus } from '../workflows/definitions';

/**
 * The audit trail: one event per finished operation, written by an activity when the connection workflow closes it
 * (activities/audit.ts), read by `GET /v1/tenants/{t}/audit-events`. It lives in SQL, not in workflow histories, so
 * it outlives restarts and Temporal's retention.
 *
 * Two stores (open-audit-store.ts) behind the same SQL: PostgreSQL through `pg` (AUDIT_STORE=postgres, AUDIT_DATABASE_URL) for several
 * API and worker machines, and PGlite (Postgres compiled to WASM, in-process, its data under DATA_DIR/audit) as the
 * embedded default for `npm start`: PGlite is single-process, so the API owns it and serves it on a Unix socket in
 * DATA_DIR/audit, where the worker process writes to it through `pg` (see auditStoreOf).
 */

/** Who asked for an operation: the API key's id (never the key), and the admin who signed in with Salesforce. */
export interface AuditActor {
  apiKeyId?: string;
  /** The Salesforce username of the admin whose signed-in credentials the operation used. */
  salesforceUsername?: string;
}

export type ComponentChange = 'created' | 'changed' | 'removed' | 'undone' | 'remaining';

export interface AuditComponent {
  kind: ComponentRef['kind'];
  /** Its Salesforce name (API name, username). */
  name: string;
  /** Its Salesforce id, when it has one. */
  salesforceId?: string;
  change: ComponentChange;
}

export interface AuditEvent {
  /** Derived from the operation in the workflow: a retried write stores it once. */
  id: string;
  tenantId: string;
  crm: Crm;
  /** ISO 8601: when the operation ended. */
  occurredAt: string;
  actor: AuditActor;
  operation: { kind: OperationKind; id: string; startedAt: string };
  outcome: OperationStatus;
  failure?: { type: string; message: string };
  components: AuditComponent[];
}

export interface AuditPage {
  events: AuditEvent[];
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  nextCursor?: string;
}

export interface AuditStore {
  /** Stores the event once: writing the same id again changes nothing. */
  record(event: AuditEvent): Promise<void>;
  /** The tenant's events, most recent first. */
  list(tenantId: string, options: { limit: number; cursor?: string }): Promise<AuditPage>;
  close(): Promise<void>;
}

/** A cursor that is not one of ours. */
export class InvalidCursorError extends Error {}

/** What both drivers offer: `pg`'s Pool and PGlite answer `query(text, params)` with `{ rows }`. */
interface SqlClient {
  query<R>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS audit_events (
     seq BIGSERIAL PRIMARY KEY,
     event_id TEXT NOT NULL UNIQUE,
     tenant_id TEXT NOT NULL,
     occurred_at TIMESTAMPTZ NOT NULL,
     event JSONB NOT NULL
   )`,
  'CREATE INDEX IF NOT EXISTS audit_events_tenant_seq ON audit_events (tenant_id, seq DESC)',
];
/** Serialises the schema's creation across machines starting together (CREATE … IF NOT EXISTS races otherwise). */
const SCHEMA_LOCK = 0x61756469;

/** Cursors are opaque: base64url of the last event's sequence number. */
function encodeCursor(seq: string): string {
  return Buffer.from(JSON.stringify({ s: seq })).toString('base64url');
}

function decodeCursor(cursor: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { s?: unknown };
    if (typeof parsed.s === 'string' && /^[1-9]\d{0,18}$/.test(parsed.s)) return parsed.s;
  } catch {
    // Not JSON: falls through.
  }
  throw new InvalidCursorError('is not a cursor this API gave');
}

/** The store over either driver: the same SQL. */
export class SqlAuditStore implements AuditStore {
  private constructor(
    private readonly sql: SqlClient,
    private readonly closeClient: () => Promise<void>,
  ) {}

  /** A store over a database whose schema exists. */
  static over(sql: SqlClient, closeClient: () => Promise<void>): SqlAuditStore {
    return new SqlAuditStore(sql, closeClient);
  }

  static async open(sql: SqlClient, closeClient: () => Promise<void>): Promise<SqlAuditStore> {
    await sql.query('BEGIN');
    try {
      await sql.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
      for (const statement of SCHEMA) await sql.query(statement);
      await sql.query('COMMIT');
    } catch (err) {
      await sql.query('ROLLBACK');
      throw err;
    }
    return new SqlAuditStore(sql, closeClient);
  }

  async record(event: AuditEvent): Promise<void> {
    await this.sql.query(
      `INSERT INTO audit_events (event_id, tenant_id, occurred_at, event) VALUES ($1, $2, $3, $4)
       ON CONFLICT (event_id) DO NOTHING`,
      [event.id, event.tenantId, event.occurredAt, JSON.stringify(event)],
    );
  }

  async list(tenantId: string, options: { limit: number; cursor?: string }): Promise<AuditPage> {
    const before = options.cursor === undefined ? null : decodeCursor(options.cursor);
    const { rows } = await this.sql.query<{ seq: string | number; event: AuditEvent | string }>(
      `SELECT seq::text AS seq, event FROM audit_events
       WHERE tenant_id = $1 AND ($2::bigint IS NULL OR seq < $2::bigint)
       ORDER BY seq DESC LIMIT $3`,
      [tenantId, before, options.limit + 1],
    );
    const page = rows.slice(0, options.limit);
    const events = page.map((row) => (typeof row.event === 'string' ? JSON.parse(row.event) : row.event) as AuditEvent);
    const last = page[page.length - 1];
    return rows.length > options.limit && last ? { events, nextCursor: encodeCursor(String(last.seq)) } : { events };
  }

  close(): Promise<void> {
    return this.closeClient();
  }
}
