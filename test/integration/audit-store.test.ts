import path from 'node:path';
import type { AuditEvent, AuditStore } from '../../audit/audit-store';
import { InvalidCursorError } from '../../audit/audit-store';
import {
  connectEmbeddedAuditStore,
  openEmbeddedAuditStore,
  openPostgresAuditStore,
  serveEmbeddedAuditStore,
} from '../../audit/open-audit-store';
import { startPostgres } from '../support/postgres';
import type { RunningPostgres } from '../support/postgres';
import { temporaryDir } from '../support/temp-dirs';

function event(id: string, tenantId = 'acme'): AuditEvent {
  return {
    id,
    tenantId,
    crm: 'salesforce',
    occurredAt: new Date(Date.UTC(2026, 0, 1)).toISOString(),
    actor: { apiKeyId: 'ops-key' },
    operation: { kind: 'enable', id: `op-${id}`, startedAt: new Date(Date.UTC(2026, 0, 1)).toISOString() },
    outcome: 'succeeded',
    components: [{ kind: 'permission_set', name: 'Agent_Access', salesforceId: '0PS000000000001', change: 'created' }],
  };
}

/** The same contract for both stores: the embedded one (PGlite) and PostgreSQL itself. */
interface Backend {
  /** A store over the same data each time it is called. */
  open(): Promise<AuditStore>;
}

const backends: [string, () => Promise<Backend & { stop(): Promise<void> }>][] = [
  [
    'embedded (PGlite)',
    async () => {
      const dir = path.join(await temporaryDir('audit-'), 'audit');
      return { open: () => openEmbeddedAuditStore(dir), stop: () => Promise.resolve() };
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const server: RunningPostgres = await startPostgres();
      return { open: () => openPostgresAuditStore(server.url), stop: () => server.stop() };
    },
  ],
];

describe.each(backends)('audit store: %s', (_name, makeBackend) => {
  let backend: Backend & { stop(): Promise<void> };
  let store: AuditStore;

  beforeAll(async () => {
    backend = await makeBackend();
    store = await backend.open();
  });

  afterAll(async () => {
    await store?.close();
    await backend?.stop();
  });

  it('stores an event once however often it is written, and gives it back as written', async () => {
    await store.record(event('once'));
    await store.record(event('once'));
    const page = await store.list('acme', { limit: 10 });
    expect(page.events.filter((e) => e.id === 'once')).toEqual([event('once')]);
  });

  it('pages most recent first with an opaque cursor, and only the tenant asked for', async () => {
    for (const id of ['p1', 'p2', 'p3']) await store.record(event(id, 'paged'));
    await store.record(event('other-tenant', 'globex'));
    const first = await store.list('paged', { limit: 2 });
    expect(first.events.map((e) => e.id)).toEqual(['p3', 'p2']);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await store.list('paged', { limit: 2, cursor: first.nextCursor });
    expect(second.events.map((e) => e.id)).toEqual(['p1']);
    expect(second.nextCursor).toBeUndefined();
    expect((await store.list('globex', { limit: 10 })).events.map((e) => e.id)).toEqual(['other-tenant']);
  });

  it('refuses a cursor it did not give', async () => {
    for (const cursor of ['nope', Buffer.from('{"s":"-1"}').toString('base64url'), '']) {
      await expect(store.list('acme', { limit: 1, cursor })).rejects.toBeInstanceOf(InvalidCursorError);
    }
  });

  it('keeps its events across a restart: a new store over the same data', async () => {
    await store.record(event('before-restart', 'restart'));
    await store.close();
    store = await backend.open();
    expect((await store.list('restart', { limit: 10 })).events.map((e) => e.id)).toEqual(['before-restart']);
  });
});

describe('the embedded store of `npm start`: the API owns it, the worker reaches it through its socket', () => {
  it('stores what the worker writes where the API reads it, once, across a restart of the API', async () => {
    const dir = path.join(await temporaryDir('audit-served-'), 'audit');
    let api = await serveEmbeddedAuditStore(dir);
    const worker = await connectEmbeddedAuditStore(dir);
    try {
      await worker.record(event('from-worker', 'served'));
      await worker.record(event('from-worker', 'served'));
      expect((await api.list('served', { limit: 10 })).events).toEqual([event('from-worker', 'served')]);
      await api.close();
      api = await serveEmbeddedAuditStore(dir);
      await worker.record(event('after-restart', 'served'));
      expect((await api.list('served', { limit: 10 })).events.map((e) => e.id)).toEqual([
        'after-restart',
        'from-worker',
      ]);
    } finally {
      await worker.close();
      await api.close();
    }
  });

  it('tells a worker with no API serving the store that it is absent (ENOENT), not to retry', async () => {
    const worker = await connectEmbeddedAuditStore(path.join(await temporaryDir('audit-absent-'), 'audit'));
    try {
      await expect(worker.record(event('nowhere'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await worker.close();
    }
  });
});
