/**
 * SOQL subset: SELECT field list (incl. relationship paths) FROM object [WHERE cond] [ORDER BY ...] [LIMIT n] [OFFSET n].
 * WHERE: =, !=, <>, <, <=, >, >=, LIKE, IN (...), NOT IN (...), AND, OR, NOT, parentheses; string/number/boolean/null
 * literals. Anything else (sub-queries, aggregates, date literals, GROUP BY, ...) → MALFORMED_QUERY.
 */
import { SfError, invalidType } from './errors';
import { normalizeId } from './ids';
import type { FieldDef, ObjectDef } from './schema';
import {
  activeUsersOnLicense,
  canSeeObject,
  isVisible,
  licenseTotal,
  pslTotal,
  userPerms,
  visibleFields,
  type Ctx,
} from './engine';
import type { Org, Rec } from './state';

type Lit = string | number | boolean | null;
type Tok = { t: 'id' | 'str' | 'num' | 'op' | 'punct'; v: string; pos: number };
type Expr =
  | { kind: 'and' | 'or'; l: Expr; r: Expr }
  | { kind: 'not'; e: Expr }
  | { kind: 'cmp'; path: Resolved; op: string; value: Lit; pos: number }
  | { kind: 'in'; path: Resolved; neg: boolean; values: Lit[]; pos: number };

/** A resolved field path: relationship fields then the final field. */
interface Resolved {
  rels: FieldDef[];
  field: FieldDef;
  /** output keys (canonical relationship names + field name) */
  keys: string[];
}

export interface ParsedQuery {
  object: ObjectDef;
  fields: Resolved[];
  where?: Expr;
  orderBy: { path: Resolved; desc: boolean; nullsLast: boolean }[];
  limit?: number;
  offset?: number;
}

const KEYWORDS = new Set([
  'select',
  'from',
  'where',
  'and',
  'or',
  'not',
  'in',
  'like',
  'limit',
  'offset',
  'order',
  'by',
  'asc',
  'desc',
  'nulls',
  'first',
  'last',
  'true',
  'false',
  'null',
  'group',
  'having',
  'with',
  'for',
  'using',
  'includes',
  'excludes',
  'typeof',
]);

function malformed(q: string, pos: number, msg: string): SfError {
  return new SfError(
    'MALFORMED_QUERY',
    `\n${q}\n${' '.repeat(Math.max(0, pos))}^\nERROR at Row:1:Column:${pos + 1}\n${msg}`,
  );
}

function tokenize(q: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'") {
      let s = '';
      let j = i + 1;
      for (;;) {
        if (j >= q.length) throw malformed(q, i, 'unexpected end of string literal');
        const d = q[j]!;
        if (d === '\\') {
          const e = q[j + 1];
          const map: Record<string, string> = {
            n: '\n',
            t: '\t',
            r: '\r',
            "'": "'",
            '"': '"',
            '\\': '\\',
            _: '\\_',
            '%': '\\%',
          };
          if (e === undefined || !(e in map)) throw malformed(q, j, 'Invalid string literal: illegal escape sequence');
          s += map[e];
          j += 2;
          continue;
        }
        if (d === "'") break;
        s += d;
        j++;
      }
      out.push({ t: 'str', v: s, pos: i });
      i = j + 1;
      continue;
    }
    const two = q.slice(i, i + 2);
    if (['!=', '<>', '<=', '>='].includes(two)) {
      out.push({ t: 'op', v: two === '<>' ? '!=' : two, pos: i });
      i += 2;
      continue;
    }
    if ('=<>'.includes(c)) {
      out.push({ t: 'op', v: c, pos: i });
      i++;
      continue;
    }
    if ('(),'.includes(c)) {
      out.push({ t: 'punct', v: c, pos: i });
      i++;
      continue;
    }
    const num = /^-?\d+(\.\d+)?(?![\w-])/.exec(q.slice(i));
    if (num) {
      out.push({ t: 'num', v: num[0], pos: i });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(q.slice(i));
    if (id) {
      out.push({ t: 'id', v: id[0], pos: i });
      i += id[0].length;
      continue;
    }
    throw malformed(q, i, `unexpected token: '${c}'`);
  }
  return out;
}

class Parser {
  i = 0;
  constructor(
    private q: string,
    private toks: Tok[],
    private ctx: Ctx,
  ) {}

  peek(): Tok | undefined {
    return this.toks[this.i];
  }
  kw(word: string): boolean {
    const t = this.peek();
    if (t?.t === 'id' && t.v.toLowerCase() === word) {
      this.i++;
      return true;
    }
    return false;
  }
  expectKw(word: string): void {
    if (!this.kw(word)) this.fail(`unexpected token: '${this.peek()?.v ?? '<EOF>'}'`);
  }
  punct(p: string): boolean {
    const t = this.peek();
    if (t?.t === 'punct' && t.v === p) {
      this.i++;
      return true;
    }
    return false;
  }
  fail(msg: string): never {
    throw malformed(this.q, this.peek()?.pos ?? this.q.length, msg);
  }

  parse(): ParsedQuery {
    this.expectKw('select');
    const rawFields: Tok[] = [];
    do {
      const t = this.peek();
      if (!t || t.t !== 'id' || KEYWORDS.has(t.v.toLowerCase())) this.fail(`unexpected token: '${t?.v ?? '<EOF>'}'`);
      const next = this.toks[this.i + 1];
      if (next?.t === 'punct' && next.v === '(') this.fail(`unexpected token: '('`);
      rawFields.push(t);
      this.i++;
    } while (this.punct(','));
    this.expectKw('from');
    const objTok = this.peek();
    if (!objTok || objTok.t !== 'id') this.fail(`unexpected token: '${objTok?.v ?? '<EOF>'}'`);
    this.i++;
    const object = this.ctx.org.schema.get(objTok.v);
    if (!object || !object.queryable || !canSeeObject(this.ctx, object)) {
      const e = invalidType(objTok.v);
      throw new SfError(
        'INVALID_TYPE',
        `\n${this.q}\n${' '.repeat(objTok.pos)}^\nERROR at Row:1:Column:${objTok.pos + 1}\n${e.message}`,
      );
    }
    const fields: Resolved[] = [];
    const seen = new Set<string>();
    for (const t of rawFields) {
      const r = this.resolve(object, t);
      const k = r.keys.join('.').toLowerCase();
      if (seen.has(k)) throw malformed(this.q, t.pos, `duplicate field selected: ${t.v}`);
      seen.add(k);
      fields.push(r);
    }
    const pq: ParsedQuery = { object, fields, orderBy: [] };
    if (this.kw('where')) pq.where = this.parseOr(object);
    if (this.kw('order')) {
      this.expectKw('by');
      do {
        const t = this.peek();
        if (!t || t.t !== 'id') this.fail(`unexpected token: '${t?.v ?? '<EOF>'}'`);
        this.i++;
        const path = this.resolve(object, t);
        const desc = this.kw('desc') ? true : (this.kw('asc'), false);
        let nullsLast = desc;
        if (this.kw('nulls')) {
          if (this.kw('last')) nullsLast = true;
          else if (this.kw('first')) nullsLast = false;
          else this.fail(`unexpected token: '${this.peek()?.v ?? '<EOF>'}'`);
        }
        pq.orderBy.push({ path, desc, nullsLast });
      } while (this.punct(','));
    }
    if (this.kw('limit')) pq.limit = this.intLit();
    if (this.kw('offset')) {
      pq.offset = this.intLit();
      if (pq.offset > 2000) this.fail('Maximum SOQL offset allowed is 2000');
    }
    if (this.peek()) this.fail(`unexpected token: '${this.peek()!.v}'`);
    return pq;
  }

  intLit(): number {
    const t = this.peek();
    if (!t || t.t !== 'num' || !/^\d+$/.test(t.v)) this.fail(`unexpected token: '${t?.v ?? '<EOF>'}'`);
    this.i++;
    return Number(t.v);
  }

  resolve(object: ObjectDef, t: Tok): Resolved {
    const parts = t.v.split('.');
    if (parts.some((p) => p === '')) throw malformed(this.q, t.pos, `unexpected token: '${t.v}'`);
    let objs: ObjectDef[] = [object];
    const rels: FieldDef[] = [];
    const keys: string[] = [];
    // Leading object-name qualifier (SELECT Account.Name FROM Account) is allowed by SOQL.
    if (
      parts.length > 1 &&
      parts[0]!.toLowerCase() === object.name.toLowerCase() &&
      !object.relMap.has(parts[0]!.toLowerCase())
    ) {
      parts.shift();
    }
    for (let k = 0; k < parts.length; k++) {
      const name = parts[k]!;
      const last = k === parts.length - 1;
      if (!last) {
        const rel = objs.map((o) => o.relMap.get(name.toLowerCase())).find(Boolean);
        if (!rel) {
          throw new SfError(
            'INVALID_FIELD',
            `\n${this.q}\n${' '.repeat(t.pos)}^\nERROR at Row:1:Column:${t.pos + 1}\nDidn't understand relationship '${name}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
          );
        }
        rels.push(rel);
        keys.push(rel.relationshipName!);
        objs = rel.referenceTo
          .map((n) => this.ctx.org.schema.get(n))
          .filter((o): o is ObjectDef => !!o && canSeeObject(this.ctx, o));
        continue;
      }
      let fd: FieldDef | undefined;
      let owner: ObjectDef | undefined;
      for (const o of objs) {
        const cand = o.fieldMap.get(name.toLowerCase());
        if (cand) {
          fd = cand;
          owner = o;
          break;
        }
      }
      const fls = owner ? visibleFields(this.ctx, owner) : undefined;
      if (!fd || !owner || (fls && !fls.read.has(fd.name))) {
        throw new SfError(
          'INVALID_FIELD',
          `\n${this.q}\n${' '.repeat(t.pos)}^\nERROR at Row:1:Column:${t.pos + 1}\nNo such column '${name}' on entity '${objs[0]?.name ?? object.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
        );
      }
      keys.push(fd.name);
      return { rels, field: fd, keys };
    }
    throw malformed(this.q, t.pos, `unexpected token: '${t.v}'`);
  }

  parseOr(o: ObjectDef): Expr {
    let l = this.parseAnd(o);
    while (this.kw('or')) l = { kind: 'or', l, r: this.parseAnd(o) };
    return l;
  }
  parseAnd(o: ObjectDef): Expr {
    let l = this.parseUnary(o);
    while (this.kw('and')) l = { kind: 'and', l, r: this.parseUnary(o) };
    return l;
  }
  parseUnary(o: ObjectDef): Expr {
    if (this.kw('not')) return { kind: 'not', e: this.parseUnary(o) };
    if (this.punct('(')) {
      const e = this.parseOr(o);
      if (!this.punct(')')) this.fail(`unexpected token: '${this.peek()?.v ?? '<EOF>'}'`);
      return e;
    }
    const t = this.peek();
    if (!t || t.t !== 'id' || KEYWORDS.has(t.v.toLowerCase())) this.fail(`unexpected token: '${t?.v ?? '<EOF>'}'`);
    this.i++;
    const path = this.resolve(o, t);
    const opTok = this.peek();
    if (opTok?.t === 'op') {
      this.i++;
      const value = this.literal(path);
      return { kind: 'cmp', path, op: opTok.v, value, pos: t.pos };
    }
    if (this.kw('like')) {
      const value = this.literal(path);
      if (typeof value !== 'string') this.fail('LIKE requires a string literal');
      return { kind: 'cmp', path, op: 'like', value, pos: t.pos };
    }
    let neg = false;
    if (this.kw('not')) {
      neg = true;
      if (!this.kw('in')) this.fail(`unexpected token: '${this.peek()?.v ?? '<EOF>'}'`);
    } else if (!this.kw('in')) this.fail(`unexpected token: '${this.peek()?.v ?? '<EOF>'}'`);
    if (!this.punct('(')) this.fail(`unexpected token: '${this.peek()?.v ?? '<EOF>'}'`);
    const values: Lit[] = [];
    do values.push(this.literal(path));
    while (this.punct(','));
    if (!this.punct(')')) this.fail(`unexpected token: '${this.peek()?.v ?? '<EOF>'}'`);
    return { kind: 'in', path, neg, values, pos: t.pos };
  }

  literal(path: Resolved): Lit {
    const t = this.peek();
    if (!t) this.fail('unexpected token: <EOF>');
    this.i++;
    const fd = path.field;
    let v: Lit;
    if (t.t === 'str') v = t.v;
    else if (t.t === 'num') v = Number(t.v);
    else if (t.t === 'id' && ['true', 'false'].includes(t.v.toLowerCase())) v = t.v.toLowerCase() === 'true';
    else if (t.t === 'id' && t.v.toLowerCase() === 'null') v = null;
    else throw malformed(this.q, t.pos, `unexpected token: '${t.v}'`);
    if (v === null) return v;
    const numeric = ['int', 'double', 'currency', 'percent'].includes(fd.type);
    const bad = (what: string): never => {
      throw new SfError(
        'INVALID_FIELD',
        `\n${this.q}\n${' '.repeat(t.pos)}^\nERROR at Row:1:Column:${t.pos + 1}\nvalue of filter criterion for field '${fd.name}' must be of type ${what}`,
      );
    };
    if (fd.type === 'boolean' && typeof v !== 'boolean') bad('boolean and should not be enclosed in quotes');
    if (numeric && typeof v !== 'number')
      bad(`${fd.type === 'int' ? 'integer' : 'double'} and should not be enclosed in quotes`);
    if (!numeric && fd.type !== 'boolean' && typeof v !== 'string') bad('string and should be enclosed in quotes');
    if ((fd.type === 'id' || fd.type === 'reference') && typeof v === 'string') {
      const id = normalizeId(v);
      if (!id) {
        throw new SfError(
          'INVALID_QUERY_FILTER_OPERATOR',
          `\n${this.q}\n${' '.repeat(t.pos)}^\nERROR at Row:1:Column:${t.pos + 1}\ninvalid ID field: ${v}`,
        );
      }
      return id;
    }
    return v;
  }
}

export function parseSoql(ctx: Ctx, q: string): ParsedQuery {
  if (typeof q !== 'string' || !q.trim()) throw new SfError('MALFORMED_QUERY', 'SOQL statement cannot be empty');
  return new Parser(q, tokenize(q), ctx).parse();
}

// ------------------------------------------------------------------ evaluation

/** Adds computed fields to a stored row (license usage). */
export function materialize(org: Org, objName: string, rec: Rec): Rec {
  if (objName === 'UserLicense') {
    return { ...rec, TotalLicenses: licenseTotal(org, rec), UsedLicenses: activeUsersOnLicense(org, rec.Id as string) };
  }
  if (objName === 'PermissionSetLicense') {
    let used = 0;
    for (const a of org.rows('PermissionSetLicenseAssign')) if (a.PermissionSetLicenseId === rec.Id) used++;
    return { ...rec, TotalLicenses: pslTotal(org, rec), UsedLicenses: used };
  }
  return rec;
}

function follow(ctx: Ctx, rec: Rec, rels: FieldDef[]): Rec | null {
  let cur: Rec | null = rec;
  for (const rel of rels) {
    if (!cur) return null;
    const id = cur[rel.name];
    if (typeof id !== 'string') return null;
    const hit = ctx.org.find(id);
    if (!hit || !isVisible(ctx, hit.rec)) return null;
    cur = materialize(ctx.org, hit.obj, hit.rec);
    cur = { ...cur, attributes: { type: hit.obj } };
  }
  return cur;
}

function valueOf(ctx: Ctx, rec: Rec, p: Resolved): unknown {
  const target = p.rels.length ? follow(ctx, rec, p.rels) : rec;
  return target ? (target[p.field.name] ?? null) : null;
}

function like(v: string, pattern: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else if (c === '%') re += '.*';
    else if (c === '_') re += '.';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'is').test(v);
}

function cmp(a: unknown, b: Lit): number {
  if (typeof a === 'string' && typeof b === 'string') {
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return a === b ? 0 : NaN;
}

function evalExpr(ctx: Ctx, rec: Rec, e: Expr): boolean {
  switch (e.kind) {
    case 'and':
      return evalExpr(ctx, rec, e.l) && evalExpr(ctx, rec, e.r);
    case 'or':
      return evalExpr(ctx, rec, e.l) || evalExpr(ctx, rec, e.r);
    case 'not':
      return !evalExpr(ctx, rec, e.e);
    case 'in': {
      const v = valueOf(ctx, rec, e.path);
      const hit = e.values.some((x) => (x === null ? v === null : v !== null && cmp(v, x) === 0));
      return e.neg ? !hit : hit;
    }
    case 'cmp': {
      const v = valueOf(ctx, rec, e.path);
      if (e.op === '=') return e.value === null ? v === null : v !== null && cmp(v, e.value) === 0;
      if (e.op === '!=') return e.value === null ? v !== null : v === null || cmp(v, e.value) !== 0;
      if (v === null || e.value === null) return false;
      if (e.op === 'like') return typeof v === 'string' && like(v, e.value as string);
      const c = cmp(v, e.value);
      if (Number.isNaN(c)) return false;
      return e.op === '<' ? c < 0 : e.op === '<=' ? c <= 0 : e.op === '>' ? c > 0 : c >= 0;
    }
  }
}

function attributes(ctx: Ctx, type: string, id: unknown): Rec {
  return typeof id === 'string' ? { type, url: `/services/data/v${ctx.version}/sobjects/${type}/${id}` } : { type };
}

function project(ctx: Ctx, pq: ParsedQuery, rec: Rec): Rec {
  const out: Rec = { attributes: attributes(ctx, pq.object.name, rec.Id) };
  for (const p of pq.fields) {
    let node = out;
    let src: Rec | null = rec;
    for (const rel of p.rels) {
      const key = rel.relationshipName!;
      const next: Rec | null = src ? follow(ctx, src, [rel]) : null;
      if (!next) {
        if (!(key in node)) node[key] = null;
        src = null;
        break;
      }
      let child = node[key] as Rec | null | undefined;
      if (!child) {
        const type = (next.attributes as Rec).type as string;
        child = { attributes: attributes(ctx, type, next.Id) };
        node[key] = child;
      }
      node = child;
      src = next;
    }
    if (src) node[p.field.name] = src[p.field.name] ?? null;
  }
  return out;
}

function sourceRows(ctx: Ctx, pq: ParsedQuery): Rec[] {
  const o = pq.object;
  if (o.name === 'UserPermissionAccess') {
    return [{ ...userPerms(ctx.org, ctx.userId) }].map((p) => {
      const row: Rec = { Id: null };
      for (const fd of o.fields) if (fd.name.startsWith('Permissions')) row[fd.name] = p[fd.name] === true;
      return row;
    });
  }
  // Fast path: WHERE Id = '...'
  const w = pq.where;
  if (
    w?.kind === 'cmp' &&
    w.op === '=' &&
    !w.path.rels.length &&
    w.path.field.name === 'Id' &&
    typeof w.value === 'string'
  ) {
    const rec = ctx.org.table(o.name).get(w.value);
    return rec && isVisible(ctx, rec) ? [materialize(ctx.org, o.name, rec)] : [];
  }
  const out: Rec[] = [];
  const canStop = !pq.orderBy.length && pq.limit !== undefined;
  const need = (pq.limit ?? 0) + (pq.offset ?? 0);
  for (const rec of ctx.org.rows(o.name)) {
    if (!isVisible(ctx, rec)) continue;
    const row = materialize(ctx.org, o.name, rec);
    if (pq.where && !evalExpr(ctx, row, pq.where)) continue;
    out.push(row);
    if (canStop && out.length >= need) break;
  }
  return out;
}

/** Runs a query; returns the projected rows (paging is done by the caller). */
export function runSoql(ctx: Ctx, q: string): Rec[] {
  const pq = parseSoql(ctx, q);
  let rows = sourceRows(ctx, pq);
  if (pq.orderBy.length) {
    rows = rows.slice().sort((a, b) => {
      for (const ob of pq.orderBy) {
        const x = valueOf(ctx, a, ob.path);
        const y = valueOf(ctx, b, ob.path);
        if (x === null || y === null) {
          if (x === y) continue;
          return (x === null) === ob.nullsLast ? 1 : -1;
        }
        const c = cmp(x, y as Lit);
        if (c) return ob.desc ? -c : c;
      }
      return 0;
    });
  }
  if (pq.offset) rows = rows.slice(pq.offset);
  if (pq.limit !== undefined) rows = rows.slice(0, pq.limit);
  return rows.map((r) => project(ctx, pq, r));
}

/** Serialises a stored record for GET /sobjects/{type}/{id} (optionally a field subset). */
export function recordJson(ctx: Ctx, o: ObjectDef, rec: Rec, fields?: string[]): Rec {
  const full = materialize(ctx.org, o.name, rec);
  const out: Rec = { attributes: attributes(ctx, o.name, rec.Id) };
  const fls = visibleFields(ctx, o);
  const list = fields ?? o.fields.map((f) => f.name);
  for (const name of list) {
    const fd = o.fieldMap.get(name.toLowerCase());
    if (!fd || (fls && !fls.read.has(fd.name))) {
      throw new SfError(
        'INVALID_FIELD',
        `No such column '${name}' on entity '${o.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    }
    out[fd.name] = full[fd.name] ?? null;
  }
  return out;
}
