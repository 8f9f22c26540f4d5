import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { fieldErrorsOf } from './problem';

/**
 * One codec request's body, from bytes to the answer's bytes, with no HTTP in it: the codec endpoint runs it on the
 * event loop for small bodies and in a worker thread for large ones (codec-workers.ts). Client errors come back as
 * problems (status, slug, detail), never as exceptions, so that they cross a thread boundary as plain data.
 */
export type CodecDirection = 'encode' | 'decode';

/** What one request may cost. A legitimate body nests 4 levels: `{ payloads: [ { metadata: { … } } ] }`. */
export interface CodecLimits {
  /** Nesting of objects and arrays. */
  maxDepth: number;
  /** Payloads per request (CODEC_MAX_PAYLOADS). */
  maxPayloads: number;
}

/** Nesting allowed: the 4 levels of a codec request, with room for fields a newer Web UI may add to a payload. */
export const CODEC_MAX_JSON_DEPTH = 8;

/**
 * JSON values allowed per payload, on average: a payload is an object, its metadata (a few entries) and its data.
 * JSON.parse's cost grows with the number of values more than with the bytes: 4 MB of `{}` or `[]` take 0.5 to 1 s
 * to parse, 4 MB of payloads of the real shape 10 ms. Counting them before parsing keeps any body under ~30 ms.
 */
export const JSON_VALUES_PER_PAYLOAD = 64;

export interface BatchProblem {
  status: number;
  slug: string;
  detail: string;
  extensions?: Record<string, unknown>;
}

export type BatchResult =
  | {
      ok: true;
      /** The answer, JSON in UTF-8, in a buffer of its own (a worker thread hands it over uncopied). */
      body: Uint8Array;
    }
  | { ok: false; problem: BatchProblem };

/** `text` in UTF-8, in an ArrayBuffer of its own (never a slice of Node's shared pool), so it can be transferred. */
function ownedUtf8(text: string): Uint8Array {
  const bytes = new Uint8Array(Buffer.byteLength(text, 'utf8'));
  Buffer.from(bytes.buffer).write(text, 'utf8');
  return bytes;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;

/**
 * Checks the structure of a JSON text before it is parsed: how deep it nests and how many values it holds (each
 * object or array, and each `,` or `:` separating members). One pass over the bytes, strings skipped with indexOf;
 * it validates nothing else (JSON.parse does, afterwards, on a text known to be cheap to parse).
 */
export function checkJsonStructure(bytes: Uint8Array, limits: CodecLimits): BatchProblem | undefined {
  const maxValues = limits.maxPayloads * JSON_VALUES_PER_PAYLOAD + JSON_VALUES_PER_PAYLOAD;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let depth = 0;
  let values = 0;
  for (let i = 0; i < buffer.length; i += 1) {
    const byte = buffer[i];
    if (byte === QUOTE) {
      // Skip the string: its end is the next quote not escaped by an odd number of backslashes.
      let end = buffer.indexOf(QUOTE, i + 1);
      while (end !== -1) {
        let backslashes = 0;
        while (buffer[end - 1 - backslashes] === BACKSLASH) backslashes += 1;
        if (backslashes % 2 === 0) break;
        end = buffer.indexOf(QUOTE, end + 1);
      }
      if (end === -1) return undefined; // Unterminated: JSON.parse refuses it at once.
      i = end;
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      depth += 1;
      values += 1;
      if (depth > limits.maxDepth) {
        return {
          status: 400,
          slug: 'json-too-deep',
          detail: `The body nests objects and arrays deeper than ${limits.maxDepth} levels; a codec request nests 4.`,
        };
      }
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      depth -= 1;
    } else if (byte === COMMA || byte === COLON) {
      values += 1;
    } else {
      continue;
    }
    if (values > maxValues) {
      return {
        status: 413,
        slug: 'too-many-values',
        detail:
          `The body holds more than ${maxValues} JSON values (${JSON_VALUES_PER_PAYLOAD} per payload for ` +
          `CODEC_MAX_PAYLOADS=${limits.maxPayloads}); send fewer payloads per request.`,
      };
    }
  }
  return undefined;
}

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const payloadSchema = z.object({
  metadata: z.record(z.string().min(1).max(256), base64).optional(),
  data: base64.optional(),
});
const bodySchema = z.object({ payloads: z.array(payloadSchema) });
type JsonPayload = z.infer<typeof payloadSchema>;

function fromJson(payload: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
    ),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function toJson(payload: Payload): Required<JsonPayload> {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [
        key,
        Buffer.from(value ?? new Uint8Array()).toString('base64'),
      ]),
    ),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}

/**
 * Parses, validates and runs one request body (`{ payloads: [{ metadata: { key: base64 }, data: base64 }] }`)
 * through the codec, within the limits. An empty body is an empty object (and fails validation).
 */
export async function runCodecBatch(
  codec: PayloadCodec,
  direction: CodecDirection,
  bytes: Uint8Array,
  limits: CodecLimits,
): Promise<BatchResult> {
  const tooComplex = checkJsonStructure(bytes, limits);
  if (tooComplex) return { ok: false, problem: tooComplex };
  let body: unknown = {};
  if (bytes.byteLength > 0) {
    try {
      body = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
    } catch {
      return {
        ok: false,
        problem: { status: 400, slug: 'invalid-json', detail: 'The request body is not valid JSON.' },
      };
    }
  }
  // Counted before validation, which would otherwise look at every element of an oversized list.
  const listed = (body as { payloads?: unknown } | null)?.payloads;
  if (Array.isArray(listed) && listed.length > limits.maxPayloads) {
    return {
      ok: false,
      problem: {
        status: 422,
        slug: 'too-many-payloads',
        detail: `The body holds ${listed.length} payloads; at most ${limits.maxPayloads} (CODEC_MAX_PAYLOADS) per request.`,
        extensions: {
          errors: [{ field: 'body.payloads', message: `must hold at most ${limits.maxPayloads} payloads` }],
        },
      },
    };
  }
  const parsed = bodySchema.safeParse(body);
  if (!parsed.success) {
    const errors = fieldErrorsOf(parsed.error, 'body');
    return {
      ok: false,
      problem: {
        status: 400,
        slug: 'invalid-request',
        detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '),
        extensions: { errors },
      },
    };
  }
  const output: Payload[] = [];
  for (const [index, payload] of parsed.data.payloads.entries()) {
    try {
      const [converted] = await codec[direction]([fromJson(payload)]);
      if (!converted) throw new Error('the codec returned nothing');
      output.push(converted);
    } catch (err) {
      const why = /unknown key/.test(String(err)) ? (err as Error).message : 'wrong key, altered data or not a payload';
      return {
        ok: false,
        problem: {
          status: 422,
          slug: `${direction}-failed`,
          detail: `payloads[${index}] cannot be ${direction}d: ${why}.`,
          extensions: { errors: [{ field: `body.payloads[${index}]`, message: `cannot be ${direction}d` }] },
        },
      };
    }
  }
  return { ok: true, body: ownedUtf8(JSON.stringify({ payloads: output.map(toJson) })) };
}
