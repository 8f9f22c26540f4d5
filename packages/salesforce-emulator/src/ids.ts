/**
 * Salesforce record ids: 3-char key prefix + 2-char instance + 1 reserved + 9-char base62 counter = 15 chars,
 * plus a 3-char case-safe checksum suffix = 18 chars. Input accepts both forms; output is always 18.
 */
const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SUFFIX = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const ID_CHARS = /^[a-zA-Z0-9]+$/;

export function checksumSuffix(id15: string): string {
  let out = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charCodeAt(chunk * 5 + i);
      if (c >= 65 && c <= 90) bits |= 1 << i;
    }
    out += SUFFIX[bits];
  }
  return out;
}

export function to18(id15: string): string {
  return id15 + checksumSuffix(id15);
}

/**
 * Returns the canonical 18-char id, or undefined when the value is not a well-formed id.
 * Stricter than Salesforce in one respect: an 18-char id whose suffix does not match its first 15 chars is refused.
 */
export function normalizeId(value: unknown): string | undefined {
  if (typeof value !== 'string' || !ID_CHARS.test(value)) return undefined;
  if (value.length === 15) return to18(value);
  if (value.length === 18) {
    const head = value.slice(0, 15);
    return checksumSuffix(head) === value.slice(15) ? value : undefined;
  }
  return undefined;
}

export function keyPrefixOf(id: string): string {
  return id.slice(0, 3);
}

function base62(n: number, width: number): string {
  let s = '';
  let v = n;
  while (v > 0) {
    s = B62[v % 62]! + s;
    v = Math.floor(v / 62);
  }
  return s.padStart(width, '0');
}

/** Monotonic id generator; the counter is persisted with the state so ids never repeat across restarts. */
export class IdGenerator {
  constructor(public counter = 1) {}
  next(prefix: string): string {
    const n = this.counter++;
    return to18(`${prefix}5g0${base62(n, 9)}`);
  }
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export function randomAlnum(len: number, bytes: (n: number) => Buffer): string {
  const buf = bytes(len);
  let out = '';
  for (let i = 0; i < len; i++) out += ALNUM[buf[i]! % ALNUM.length];
  return out;
}

/** Text form of a scalar value (objects are JSON-encoded rather than "[object Object]"). */
export function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return v.toString();
  if (v === null || v === undefined) return '';
  return JSON.stringify(v) ?? '';
}
