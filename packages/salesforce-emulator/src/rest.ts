/** REST API under {instanceUrl}/services/data/vNN.0/ : sObjects, query, describe, composite, collections, limits. */
import { SfError, notFound } from './errors';
import { normalizeId, str } from './ids';
import { describeObject, globalEntry, type DescribeView, type ObjectDef } from './schema';
import {
  dmlDelete,
  dmlInsert,
  dmlUpdate,
  enforceApiEventPolicies,
  findRecord,
  getObject,
  objectAccess,
  visibleFields,
  type Ctx,
} from './engine';
import { recordJson, runSoql } from './soql';
import { token, type Rec } from './state';

export interface SfResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** raw text body with its content type (SOAP) */
  raw?: { contentType: string; text: string };
}

export const MIN_VERSION = 50;
export const MAX_VERSION = 68;
export const VERSIONS = Array.from({ length: MAX_VERSION - MIN_VERSION + 1 }, (_, i) => `${MIN_VERSION + i}.0`);

export function versionsList(): unknown {
  return VERSIONS.map((v) => ({ label: `API ${v}`, url: `/services/data/v${v}`, version: v }));
}

export function errorResponse(e: unknown): SfResponse {
  if (e instanceof SfError) return { status: e.httpStatus, body: [e.toRest()] };
  throw e;
}

const json = (status: number, body: unknown, headers?: Record<string, string>): SfResponse => ({
  status,
  body,
  ...(headers ? { headers } : {}),
});

export type Operation = { op: string; objects: string[] };

/** Operation name and target objects of a REST call (for faults and counters). */
export function classifyRest(method: string, sub: string[], body: unknown, query: URLSearchParams): Operation {
  const [a, b, c, d] = sub;
  const fromSoql = (q: unknown): string[] => {
    const m = typeof q === 'string' ? /\bfrom\s+([A-Za-z0-9_]+)/i.exec(q) : null;
    return m ? [m[1]!] : [];
  };
  if (a === 'sobjects') {
    if (!b) return { op: 'rest.describeGlobal', objects: [] };
    if (c === 'describe' || (!c && method === 'GET')) return { op: 'rest.describe', objects: [b] };
    if (!c) return { op: method === 'POST' ? 'rest.create' : 'rest.other', objects: [b] };
    if (d) return { op: 'rest.other', objects: [b] };
    const op = { GET: 'rest.read', PATCH: 'rest.update', DELETE: 'rest.delete' }[method] ?? 'rest.other';
    return { op, objects: [b] };
  }
  if (a === 'query' || a === 'queryAll') return { op: 'rest.query', objects: fromSoql(query.get('q')) };
  if (a === 'limits') return { op: 'rest.limits', objects: [] };
  const recTypes = (recs: unknown): string[] =>
    Array.isArray(recs)
      ? recs
          .map((r) => ((r as Rec)?.attributes as Rec | undefined)?.type)
          .filter((t): t is string => typeof t === 'string')
      : [];
  if (a === 'composite' && b === 'sobjects') {
    if (c) return { op: 'rest.collections.retrieve', objects: [c] };
    const op = { POST: 'rest.collections.create', PATCH: 'rest.collections.update', DELETE: 'rest.collections.delete' }[
      method
    ];
    return { op: op ?? 'rest.other', objects: recTypes((body as Rec | undefined)?.records) };
  }
  const subObjects = (url: unknown, sbody: unknown): string[] => {
    if (typeof url !== 'string') return [];
    const m = /\/sobjects\/([A-Za-z0-9_]+)/.exec(url);
    const out = m ? [m[1]!] : [];
    const q = /[?&]q=([^&]*)/.exec(url);
    if (q) out.push(...fromSoql(decodeURIComponent(q[1]!.replace(/\+/g, ' '))));
    out.push(...recTypes((sbody as Rec | undefined)?.records));
    return out;
  };
  if (a === 'composite' && b === 'batch') {
    const reqs = (body as Rec | undefined)?.batchRequests;
    const objs = Array.isArray(reqs) ? reqs.flatMap((r) => subObjects((r as Rec)?.url, (r as Rec)?.richInput)) : [];
    return { op: 'rest.compositeBatch', objects: objs };
  }
  if (a === 'composite' && !b) {
    const reqs = (body as Rec | undefined)?.compositeRequest;
    const objs = Array.isArray(reqs) ? reqs.flatMap((r) => subObjects((r as Rec)?.url, (r as Rec)?.body)) : [];
    return { op: 'rest.composite', objects: objs };
  }
  if (!a) return { op: 'rest.resources', objects: [] };
  return { op: 'rest.other', objects: [] };
}

/** Parses the request body as JSON (Salesforce answers JSON_PARSER_ERROR on malformed input). */
export function parseJsonBody(raw: string): unknown {
  if (!raw.trim()) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new SfError('JSON_PARSER_ERROR', `Unexpected character in JSON input: ${msg} at [line:1, column:1]`);
  }
}

function methodNotAllowed(method: string, allowed: string): SfError {
  return new SfError('METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed. Allowed are ${allowed}`, [], 405);
}

/**
 * Describe as Salesforce answers it to the calling user: fields without read access (field-level security) left out,
 * fields without edit access neither createable nor updateable, object flags from the user's object permissions.
 * Objects the user cannot see at all are not described (getObject: NOT_FOUND, absent from the global describe).
 */
function describeView(ctx: Ctx, o: ObjectDef): DescribeView {
  const fls = visibleFields(ctx, o);
  return {
    ...(fls ? { readable: fls.read, editable: fls.edit } : {}),
    ...(o.grantable ? { access: objectAccess(ctx, o) } : {}),
  };
}

// ------------------------------------------------------------------ dispatch

export function dispatch(
  ctx: Ctx,
  method: string,
  sub: string[],
  query: URLSearchParams,
  body: unknown,
  depth = 0,
): SfResponse {
  try {
    return route(ctx, method, sub, query, body, depth);
  } catch (e) {
    return errorResponse(e);
  }
}

function route(
  ctx: Ctx,
  method: string,
  sub: string[],
  query: URLSearchParams,
  body: unknown,
  depth: number,
): SfResponse {
  const v = ctx.version;
  const [a, b, c, d] = sub;
  if (!a) {
    if (method !== 'GET') throw methodNotAllowed(method, 'GET,HEAD');
    const base = `/services/data/v${v}`;
    return json(200, {
      sobjects: `${base}/sobjects`,
      query: `${base}/query`,
      queryAll: `${base}/queryAll`,
      composite: `${base}/composite`,
      limits: `${base}/limits`,
    });
  }
  if (a === 'sobjects') {
    if (!b) {
      if (method !== 'GET') throw methodNotAllowed(method, 'GET,HEAD');
      const sobjects = [...ctx.org.schema.objects.values()]
        .filter((o) => getObject(ctx, o.name))
        .map((o) => globalEntry(o, v, describeView(ctx, o)));
      return json(200, { encoding: 'UTF-8', maxBatchSize: 200, sobjects });
    }
    const o = getObject(ctx, b);
    if (!o) throw notFound();
    if (c === 'describe' && !d) {
      if (method !== 'GET') throw methodNotAllowed(method, 'GET,HEAD');
      return json(200, describeObject(o, v, describeView(ctx, o)));
    }
    if (!c) {
      if (method === 'GET') {
        const { fields: _f, ...objectDescribe } = describeObject(o, v, describeView(ctx, o));
        return json(200, { objectDescribe, recentItems: [] });
      }
      if (method !== 'POST') throw methodNotAllowed(method, 'GET,HEAD,POST');
      const id = dmlInsert(ctx, o, body);
      return json(
        201,
        { id, success: true, errors: [] },
        { Location: `/services/data/v${v}/sobjects/${o.name}/${id}` },
      );
    }
    if (d) throw notFound();
    if (method === 'GET') {
      const rec = findRecord(ctx, o, c);
      const fields = query.get('fields');
      return json(200, recordJson(ctx, o, rec, fields ? fields.split(',').map((s) => s.trim()) : undefined));
    }
    if (method === 'PATCH') {
      dmlUpdate(ctx, o, c, body);
      return { status: 204 };
    }
    if (method === 'DELETE') {
      dmlDelete(ctx, o, c);
      return { status: 204 };
    }
    throw methodNotAllowed(method, 'GET,HEAD,PATCH,DELETE');
  }
  if (a === 'query' || a === 'queryAll') {
    if (method !== 'GET') throw methodNotAllowed(method, 'GET,HEAD');
    enforceApiEventPolicies(ctx);
    if (b) return queryMore(ctx, b);
    const q = query.get('q');
    if (q === null) throw new SfError('MALFORMED_QUERY', 'A query string has to be specified');
    return json(200, pageRows(ctx, runSoql(ctx, q), 0, undefined));
  }
  if (a === 'limits') {
    if (method !== 'GET') throw methodNotAllowed(method, 'GET,HEAD');
    const used = ctx.org.apiUsage.count(ctx.world.clock.now());
    const max = ctx.org.settings.apiDailyLimit;
    return json(200, {
      DailyApiRequests: { Max: max, Remaining: Math.max(0, max - used) },
      DailyAsyncApexExecutions: { Max: 250000, Remaining: 250000 },
      DataStorageMB: { Max: 5, Remaining: 5 },
      FileStorageMB: { Max: 20, Remaining: 20 },
      SingleEmail: { Max: 5000, Remaining: 5000 },
    });
  }
  if (a === 'composite') {
    if (b === 'sobjects') return collections(ctx, method, c, query, body);
    if (b === 'batch' && !c) {
      if (method !== 'POST') throw methodNotAllowed(method, 'POST');
      return compositeBatch(ctx, body, depth);
    }
    if (!b) {
      if (method !== 'POST') throw methodNotAllowed(method, 'POST');
      return composite(ctx, body, depth);
    }
  }
  throw notFound();
}

const PAGE = 2000;

function pageRows(ctx: Ctx, rows: Rec[], offset: number, cursor: string | undefined): Rec {
  const page = rows.slice(offset, offset + PAGE);
  const done = offset + PAGE >= rows.length;
  const out: Rec = { totalSize: rows.length, done, records: page };
  if (!done) {
    let id = cursor;
    if (!id) {
      id = `01g5g00000${token(8)}`;
      ctx.org.cursors.set(id, { rows, created: ctx.world.clock.now() });
      // Keep the cursor table bounded (Salesforce keeps at most 10 open cursors per user anyway).
      if (ctx.org.cursors.size > 50) ctx.org.cursors.delete(ctx.org.cursors.keys().next().value!);
    }
    out.nextRecordsUrl = `/services/data/v${ctx.version}/query/${id}-${offset + PAGE}`;
  }
  return out;
}

function queryMore(ctx: Ctx, locator: string): SfResponse {
  const m = /^(.+)-(\d+)$/.exec(locator);
  const cur = m ? ctx.org.cursors.get(m[1]!) : undefined;
  if (!m || !cur || ctx.world.clock.now() - cur.created > 15 * 60_000) {
    throw new SfError('INVALID_QUERY_LOCATOR', 'invalid query locator');
  }
  return json(200, pageRows(ctx, cur.rows, Number(m[2]), m[1]));
}

// ------------------------------------------------------------------ composite

const SUB_URL = /^\/services\/data\/v(\d+\.0)\/([^?]*)(?:\?(.*))?$/;

/** True for an sObject Collections create, update or delete (`composite/sobjects`, no type). */
const isCollectionsWrite = (sub: string[]): boolean => sub[0] === 'composite' && sub[1] === 'sobjects' && !sub[2];

function subRequest(
  ctx: Ctx,
  method: string,
  url: string,
  body: unknown,
  depth: number,
  allOrNone = false,
): SfResponse {
  const m = SUB_URL.exec(url);
  if (!m) throw notFound();
  const ver = Number(m[1]);
  if (ver < MIN_VERSION || ver > MAX_VERSION) throw notFound();
  const sub = m[2]!.split('/').filter(Boolean).map(decodeURIComponent);
  if (sub[0] === 'composite' && sub[1] !== 'sobjects') {
    throw new SfError('INVALID_API_INPUT', 'A composite subrequest can not be a composite or batch request.');
  }
  const query = new URLSearchParams(m[3] ?? '');
  let input = body;
  if (allOrNone && isCollectionsWrite(sub)) {
    // Docs (allOrNone in Composite and Collections requests): a composite's allOrNone=true applies to each of its
    // sObject Collections subrequests, overriding their own allOrNone.
    if (method === 'DELETE') query.set('allOrNone', 'true');
    else if (input && typeof input === 'object' && !Array.isArray(input))
      input = { ...(input as Rec), allOrNone: true };
  }
  const cls = classifyRest(method, sub, input, query);
  const fault = ctx.subrequestFault?.({ method, operation: cls.op, objects: cls.objects });
  if (fault) throw fault;
  return dispatch({ ...ctx, version: m[1]! }, method, sub, query, input, depth + 1);
}

/** An sObject Collections answer in which a record failed (the subrequest itself answers 200). */
function hasFailedRecord(res: SfResponse): boolean {
  return (
    Array.isArray(res.body) && res.body.some((r) => r !== null && typeof r === 'object' && (r as Rec).success === false)
  );
}

const REF = /@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}/g;

function resolvePath(body: unknown, path: string): unknown {
  let cur: unknown = body;
  for (const part of path.match(/\.[A-Za-z0-9_]+|\[\d+\]/g) ?? []) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const key = part.startsWith('[') ? Number(part.slice(1, -1)) : part.slice(1);
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return cur;
}

class RefError extends Error {}

function substitute(value: unknown, refs: Map<string, SfResponse>): unknown {
  const sub = (s: string): string =>
    s.replace(REF, (_all, ref: string, path: string) => {
      const r = refs.get(ref);
      const v = r && r.status < 400 ? resolvePath(r.body, path) : undefined;
      if (v === undefined || v === null || typeof v === 'object') {
        throw new RefError(
          `Invalid reference specified. No value for ${ref}${path} found in ${ref}. Provided referenceId ('${ref}') isn't valid`,
        );
      }
      return str(v);
    });
  if (typeof value === 'string') return sub(value);
  if (Array.isArray(value)) return value.map((v) => substitute(v, refs));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, refs)]));
  }
  return value;
}

const HALTED = {
  errorCode: 'PROCESSING_HALTED',
  message: 'The transaction was rolled back since another operation in the same transaction failed.',
};

function composite(ctx: Ctx, body: unknown, depth: number): SfResponse {
  if (depth > 0)
    throw new SfError('INVALID_API_INPUT', 'A composite subrequest can not be a composite or batch request.');
  const b = (body ?? {}) as Rec;
  const reqs = b.compositeRequest;
  if (!Array.isArray(reqs) || reqs.length === 0) {
    throw new SfError('JSON_PARSER_ERROR', 'compositeRequest: a non-empty array of subrequests is required');
  }
  if (reqs.length > 25) throw new SfError('LIMIT_EXCEEDED', 'Composite request can contain at most 25 subrequests');
  if (b.allOrNone !== undefined && typeof b.allOrNone !== 'boolean') {
    throw new SfError(
      'JSON_PARSER_ERROR',
      `Cannot deserialize instance of boolean from ${typeof b.allOrNone} value at [line:1, column:1]`,
    );
  }
  const allOrNone = b.allOrNone === true;
  const ids = new Set<string>();
  let heavy = 0;
  for (const r of reqs as Rec[]) {
    const refId = r?.referenceId;
    if (typeof refId !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(refId)) {
      throw new SfError(
        'INVALID_API_INPUT',
        'referenceId is required and must start with a letter and contain only alphanumeric characters and underscores',
      );
    }
    if (ids.has(refId))
      throw new SfError('INVALID_API_INPUT', `Duplicate referenceId provided in the request: ${refId}`);
    ids.add(refId);
    if (typeof r.url !== 'string' || typeof r.method !== 'string') {
      throw new SfError('INVALID_API_INPUT', `Subrequest ${refId}: method and url are required`);
    }
    if (/\/(query|queryAll)\b|\/composite\/sobjects/.test(r.url)) heavy++;
  }
  if (heavy > 5)
    throw new SfError(
      'LIMIT_EXCEEDED',
      'Composite request can contain at most 5 query or sObject Collections subrequests',
    );
  const sp = ctx.org.savepoint();
  const refs = new Map<string, SfResponse>();
  const results: Rec[] = [];
  let failed = -1;
  for (const [i, r] of (reqs as Rec[]).entries()) {
    const refId = r.referenceId as string;
    let res: SfResponse;
    try {
      const url = substitute(r.url, refs) as string;
      const sbody = substitute(r.body, refs);
      res = subRequest(ctx, String(r.method).toUpperCase(), url, sbody, depth, allOrNone);
    } catch (e) {
      if (e instanceof RefError) res = { status: 400, body: [{ errorCode: 'PROCESSING_HALTED', message: e.message }] };
      else res = errorResponse(e);
    }
    refs.set(refId, res);
    results.push({
      body: res.body ?? null,
      httpHeaders: res.headers ?? {},
      httpStatusCode: res.status,
      referenceId: refId,
    });
    // With allOrNone, a collection in which a record failed fails the whole composite too (docs: both requests are
    // rolled back); that subresponse keeps its 200 and SaveResults, the others get PROCESSING_HALTED.
    if (allOrNone && (res.status >= 400 || hasFailedRecord(res))) {
      failed = i;
      break;
    }
  }
  if (failed >= 0) {
    ctx.org.rollbackTo(sp);
    const out = (reqs as Rec[]).map((r, i) =>
      i === failed ? results[i]! : { body: [HALTED], httpHeaders: {}, httpStatusCode: 400, referenceId: r.referenceId },
    );
    return json(200, { compositeResponse: out });
  }
  return json(200, { compositeResponse: results });
}

function compositeBatch(ctx: Ctx, body: unknown, depth: number): SfResponse {
  if (depth > 0)
    throw new SfError('INVALID_API_INPUT', 'A composite subrequest can not be a composite or batch request.');
  const b = (body ?? {}) as Rec;
  const reqs = b.batchRequests;
  if (!Array.isArray(reqs) || reqs.length === 0) {
    throw new SfError('JSON_PARSER_ERROR', 'batchRequests: a non-empty array of subrequests is required');
  }
  if (reqs.length > 25) throw new SfError('LIMIT_EXCEEDED', 'Batch request can contain at most 25 subrequests');
  const halt = b.haltOnError === true;
  const results: Rec[] = [];
  let halted = false;
  let hasErrors = false;
  for (const r of reqs as Rec[]) {
    if (halted) {
      results.push({
        statusCode: 412,
        result: [{ errorCode: 'BATCH_PROCESSING_HALTED', message: 'Batch processing halted per request' }],
      });
      continue;
    }
    let res: SfResponse;
    try {
      if (typeof r?.url !== 'string' || typeof r.method !== 'string') {
        throw new SfError('INVALID_API_INPUT', 'method and url are required');
      }
      const rawUrl = r.url.startsWith('/services/data/') ? r.url : `/services/data/${r.url.replace(/^\//, '')}`;
      res = subRequest(ctx, r.method.toUpperCase(), rawUrl, r.richInput, depth);
    } catch (e) {
      res = errorResponse(e);
    }
    if (res.status >= 400) {
      hasErrors = true;
      if (halt) halted = true;
    }
    results.push({ statusCode: res.status, result: res.body ?? null });
  }
  return json(200, { hasErrors, results });
}

// ------------------------------------------------------------------ sObject Collections

const ROLLED_BACK = {
  statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
  message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
  fields: [],
};

type SaveResult = { id?: string | null; success: boolean; errors: unknown[] };

function collections(
  ctx: Ctx,
  method: string,
  type: string | undefined,
  query: URLSearchParams,
  body: unknown,
): SfResponse {
  if (type) {
    // retrieve many: GET ?ids=&fields= or POST {ids, fields}
    const o = getObject(ctx, type);
    if (!o) throw notFound();
    let ids: unknown;
    let fields: unknown;
    if (method === 'GET') {
      ids = query.get('ids')?.split(',');
      fields = query.get('fields')?.split(',');
    } else if (method === 'POST') {
      ids = (body as Rec | undefined)?.ids;
      fields = (body as Rec | undefined)?.fields;
    } else throw methodNotAllowed(method, 'GET,POST');
    if (!Array.isArray(ids) || !Array.isArray(fields) || !ids.length || !fields.length) {
      throw new SfError('MISSING_ARGUMENT', 'ids and fields are required');
    }
    if (ids.length > 2000) throw new SfError('EXCEEDED_ID_LIMIT', 'Cannot retrieve more than 2000 records');
    const out = ids.map((raw) => {
      const id = normalizeId(raw);
      const rec = id ? ctx.org.table(o.name).get(id) : undefined;
      return rec ? recordJson(ctx, o, rec, fields as string[]) : null;
    });
    return json(200, out);
  }
  let allOrNone = false;
  let items: { type?: string; id?: string; body?: Rec }[] = [];
  if (method === 'DELETE') {
    allOrNone = query.get('allOrNone') === 'true';
    const raw = query.get('ids');
    if (!raw) throw new SfError('MISSING_ARGUMENT', 'ids parameter is required');
    items = raw.split(',').map((id) => ({ id }));
  } else if (method === 'POST' || method === 'PATCH') {
    const b = body as Rec | undefined;
    if (!b || typeof b !== 'object' || !Array.isArray(b.records)) {
      throw new SfError('JSON_PARSER_ERROR', 'records: an array of sObjects is required');
    }
    if (b.allOrNone !== undefined && typeof b.allOrNone !== 'boolean') {
      throw new SfError(
        'JSON_PARSER_ERROR',
        'Cannot deserialize instance of boolean for allOrNone at [line:1, column:1]',
      );
    }
    allOrNone = b.allOrNone === true;
    items = (b.records as unknown[]).map((r) => {
      if (!r || typeof r !== 'object' || Array.isArray(r)) return {};
      const { attributes, ...rest } = r as Rec;
      // Field names are case-insensitive (jsforce sends `id` in collection updates).
      const idKey = Object.keys(rest).find((k) => k.toLowerCase() === 'id');
      const Id = idKey ? rest[idKey] : undefined;
      if (idKey) delete rest[idKey];
      const t = (attributes as Rec | undefined)?.type;
      return {
        ...(typeof t === 'string' ? { type: t } : {}),
        ...(typeof Id === 'string' ? { id: Id } : {}),
        body: method === 'POST' && Id !== undefined ? { Id, ...rest } : rest,
      };
    });
  } else throw methodNotAllowed(method, 'POST,PATCH,DELETE');
  if (items.length === 0) throw new SfError('MISSING_ARGUMENT', 'no records provided');
  if (items.length > 200) {
    throw new SfError('EXCEEDED_ID_LIMIT', 'record limit reached. cannot submit more than 200 records into this call');
  }

  // Resolve types (for DELETE and PATCH from ids when attributes are missing).
  const types = items.map((it) => {
    if (it.type) return ctx.org.schema.get(it.type)?.name ?? it.type;
    const id = it.id ? normalizeId(it.id) : undefined;
    return id ? ctx.org.schema.objectOfId(id)?.name : undefined;
  });
  const distinct = new Set(types.filter((t): t is string => !!t));
  const anySetup = [...distinct].some((t) => ctx.org.schema.get(t)?.setup);
  if (distinct.size > 1 && anySetup) {
    // Docs: one collections call may not mix several object types when one of them is a setup object.
    const err = {
      statusCode: 'MIXED_DML_OPERATION',
      message: `DML operation on setup object is not permitted together with other object types in the same call: ${[...distinct].join(', ')}`,
      fields: [],
    };
    return json(
      200,
      items.map((it) => ({ id: it.id ?? null, success: false, errors: [err] })),
    );
  }

  const sp = ctx.org.savepoint();
  const results: SaveResult[] = [];
  let anyFailed = false;
  items.forEach((it, i) => {
    const rsp = ctx.org.savepoint();
    try {
      const typeName = types[i];
      if (method !== 'DELETE' && !it.type)
        throw new SfError('INVALID_TYPE', 'Must specify a type in attributes for each record');
      const o = typeName ? getObject(ctx, typeName) : undefined;
      if (method === 'POST') {
        if (!o) throw new SfError('INVALID_TYPE', `sObject type '${String(it.type)}' is not supported.`);
        results.push({ id: dmlInsert(ctx, o, it.body), success: true, errors: [] });
      } else if (method === 'PATCH') {
        if (!it.id) throw new SfError('MISSING_ARGUMENT', 'Id not specified in an update call', ['Id']);
        if (!o) throw new SfError('INVALID_TYPE', `sObject type '${String(it.type)}' is not supported.`);
        dmlUpdate(ctx, o, it.id, it.body);
        results.push({ id: normalizeId(it.id)!, success: true, errors: [] });
      } else {
        const id = normalizeId(it.id);
        if (!id) throw new SfError('MALFORMED_ID', `malformed id ${String(it.id)}`);
        if (ctx.org.deleted.has(id)) throw new SfError('ENTITY_IS_DELETED', 'entity is deleted');
        if (!o || !ctx.org.table(o.name).has(id))
          throw new SfError('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id');
        dmlDelete(ctx, o, id);
        results.push({ id, success: true, errors: [] });
      }
    } catch (e) {
      if (!(e instanceof SfError)) throw e;
      ctx.org.rollbackTo(rsp);
      anyFailed = true;
      const id = method === 'POST' ? null : (normalizeId(it.id) ?? it.id ?? null);
      results.push({ id, success: false, errors: [e.toSave()] });
    }
  });
  if (allOrNone && anyFailed) {
    ctx.org.rollbackTo(sp);
    return json(
      200,
      results.map((r) =>
        r.success ? { id: method === 'POST' ? null : r.id, success: false, errors: [ROLLED_BACK] } : r,
      ),
    );
  }
  return json(200, results);
}
