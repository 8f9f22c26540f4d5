/** Fault injection (by org, method, operation, object) and request counters. */
import { z } from 'zod';

export const faultSchema = z.object({
  org: z.string().optional(),
  match: z
    .object({
      method: z.enum(['GET', 'POST', 'PATCH', 'DELETE', 'PUT']).optional(),
      operation: z.string().optional(),
      object: z.string().optional(),
    })
    .default({}),
  action: z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('error'),
      status: z.number().int().min(200).max(599).optional(),
      errorCode: z.string().min(1),
      message: z.string().optional(),
    }),
    z.object({ kind: z.literal('latency'), ms: z.number().int().min(0).max(600_000) }),
    z.object({ kind: z.literal('timeout'), ms: z.number().int().min(0).max(600_000).optional() }),
    z.object({ kind: z.literal('commitThenDrop') }),
    z.object({ kind: z.literal('dropBeforeCommit') }),
  ]),
  times: z.number().int().min(0).optional(),
  probability: z.number().min(0).max(1).optional(),
  seed: z.number().int().optional(),
});
export type FaultSpec = z.infer<typeof faultSchema>;
/** What callers send (match may be omitted). */
export type FaultInput = z.input<typeof faultSchema>;
export type FaultAction = FaultSpec['action'];

interface Fault extends FaultSpec {
  id: string;
  remaining: number | null;
  fired: number;
  rng: () => number;
}

/** mulberry32: small deterministic PRNG so probabilistic faults replay identically for a given seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface CallInfo {
  org?: string;
  method: string;
  operation: string;
  objects: string[];
}

export class Faults {
  private list: Fault[] = [];
  private seq = 1;

  add(spec: FaultSpec): string {
    const id = `fault-${this.seq++}`;
    const times = spec.times ?? 1;
    this.list.push({
      ...spec,
      id,
      remaining: times === 0 ? null : times,
      fired: 0,
      rng: mulberry32(spec.seed ?? this.seq * 7919),
    });
    return id;
  }

  remove(id: string): boolean {
    const n = this.list.length;
    this.list = this.list.filter((f) => f.id !== id);
    return this.list.length !== n;
  }

  clear(): void {
    this.list = [];
  }

  /**
   * The error fault that fires for a subrequest of a composite or composite/batch call, if any: only faults whose
   * `match.operation` names the subrequest's own operation (e.g. `rest.collections.create`) and whose action is an
   * error. The call itself is matched (and counted) by its own operation; latency, timeouts and drops apply to
   * whole HTTP calls only.
   */
  takeSubrequest(call: CallInfo): Extract<FaultAction, { kind: 'error' }> | undefined {
    const action = this.take(call, (f) => f.action.kind === 'error' && f.match.operation !== undefined);
    return action?.kind === 'error' ? action : undefined;
  }

  all(): unknown[] {
    return this.list.map(({ rng: _r, ...f }) => f);
  }

  /** First matching fault that fires for this call (consumes one of its `times`). */
  take(call: CallInfo, eligible: (f: FaultSpec) => boolean = () => true): FaultAction | undefined {
    for (const f of this.list) {
      if (!eligible(f)) continue;
      if (f.org !== undefined && f.org !== call.org) continue;
      const m = f.match;
      if (m.method && m.method !== call.method) continue;
      if (m.operation && m.operation !== call.operation) continue;
      if (m.object && !call.objects.some((o) => o.toLowerCase() === m.object!.toLowerCase())) continue;
      if (f.probability !== undefined && f.rng() >= f.probability) continue;
      f.fired++;
      if (f.remaining !== null) {
        f.remaining--;
        if (f.remaining <= 0) this.list = this.list.filter((x) => x !== f);
      }
      return f.action;
    }
    return undefined;
  }
}

interface CounterSet {
  total: number;
  byOperation: Record<string, number>;
  byOperationAndObject: Record<string, Record<string, number>>;
  byStatus: Record<string, number>;
}

const empty = (): CounterSet => ({ total: 0, byOperation: {}, byOperationAndObject: {}, byStatus: {} });

export class Counters {
  private perOrg = new Map<string, CounterSet>();

  private set(org: string | undefined): CounterSet {
    const k = org ?? '';
    let c = this.perOrg.get(k);
    if (!c) {
      c = empty();
      this.perOrg.set(k, c);
    }
    return c;
  }

  count(call: CallInfo): void {
    const c = this.set(call.org);
    c.total++;
    c.byOperation[call.operation] = (c.byOperation[call.operation] ?? 0) + 1;
    const objs = [...new Set(call.objects)];
    if (objs.length) {
      const m = (c.byOperationAndObject[call.operation] ??= {});
      for (const o of objs) m[o] = (m[o] ?? 0) + 1;
    }
  }

  status(org: string | undefined, status: number | 'dropped'): void {
    const c = this.set(org);
    const k = String(status);
    c.byStatus[k] = (c.byStatus[k] ?? 0) + 1;
  }

  get(org?: string): CounterSet {
    if (org !== undefined) return structuredClone(this.perOrg.get(org) ?? empty());
    const out = empty();
    for (const c of this.perOrg.values()) {
      out.total += c.total;
      for (const [k, v] of Object.entries(c.byOperation)) out.byOperation[k] = (out.byOperation[k] ?? 0) + v;
      for (const [k, v] of Object.entries(c.byStatus)) out.byStatus[k] = (out.byStatus[k] ?? 0) + v;
      for (const [op, m] of Object.entries(c.byOperationAndObject)) {
        const t = (out.byOperationAndObject[op] ??= {});
        for (const [o, v] of Object.entries(m)) t[o] = (t[o] ?? 0) + v;
      }
    }
    return out;
  }

  reset(org?: string): void {
    if (org === undefined) this.perOrg.clear();
    else this.perOrg.delete(org);
  }
}
