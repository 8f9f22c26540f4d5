import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import express from 'express';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { PayloadCodec } from '@temporalio/common';
import type { AppConfig } from '../../config';
import type { ApiKey } from '../auth';
import { authenticate, principalOf } from '../auth';
import { CODEC_MAX_JSON_DEPTH, runCodecBatch } from '../codec-batch';
import type { BatchResult, CodecDirection, CodecLimits } from '../codec-batch';
import { CodecWorkersBusy } from '../codec-workers';
import type { CodecWorkers } from '../codec-workers';
import { isLoopbackHost } from '../loopback';
import { HttpProblem, problems } from '../problem';
import { requireJsonBody } from '../requests';

/**
 * Who may use the codec endpoint.
 * - `key`: a bearer API key with the `codec` scope (the CLI: `--codec-auth "Bearer <key>"`).
 * - `key-or-local-ui`: the same, plus the Web UI of a developer's machine without a key. The UI sends Authorization
 *   only to an https endpoint, so over http it cannot present a key; this allowance holds only while the API itself
 *   listens on loopback, the request comes from loopback, is addressed to a loopback host name (no DNS rebinding)
 *   and its Origin is an allowed loopback UI origin. Any process of the machine can send such a request: on a
 *   shared machine use `key`.
 * - `none`: anyone who reaches it from an allowed origin (or without an Origin): for an endpoint behind an
 *   authenticating proxy on a private network only.
 */
export type CodecAuthMode = AppConfig['CODEC_AUTH'];

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** The namespace the service's payloads live in; requests for another are refused. */
  namespace: string;
  /** Web UI origins allowed by CORS (exact `scheme://host[:port]`). */
  allowedOrigins: readonly string[];
  auth: CodecAuthMode;
  apiKeys: ApiKey[];
  /** Whether the API is bound to a loopback address (required for the local-UI allowance). */
  apiOnLoopback: boolean;
  /** Largest body (CODEC_MAX_BODY_BYTES): larger ones get 413 before they are read whole. */
  maxBodyBytes: number;
  /** Payloads per request (CODEC_MAX_PAYLOADS); default 1000. */
  maxPayloads?: number;
  /** Requests per minute per API key, or per client address for keyless callers (CODEC_RATE_LIMIT_PER_MINUTE). */
  rateLimitPerMinute?: number;
  /** Worker threads for large bodies; without them every request runs on the event loop (tests). */
  workers?: CodecWorkers;
}

const CORS_ALLOWED_HEADERS = 'Authorization, Content-Type, X-Namespace';
const DEFAULT_MAX_PAYLOADS = 1000;
const DEFAULT_RATE_LIMIT_PER_MINUTE = 600;
/**
 * Bodies up to this size run on the event loop (at most a few milliseconds: the Web UI's usual request is one
 * payload of a few KB); larger ones go to the worker threads.
 */
export const CODEC_INLINE_MAX_BYTES = 16 * 1024;

const busy = () => problems.unavailable('The codec is busy with other large requests; retry shortly.', 1);

/** Large answers are written to the socket this much at a time. */
const ANSWER_SLICE_BYTES = 64 * 1024;

function* slices(buffer: Buffer, size: number): Generator<Buffer> {
  for (let start = 0; start < buffer.length; start += size) yield buffer.subarray(start, start + size);
}

function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  return isLoopbackHost(address.replace(/^::ffff:/, ''));
}

function isLoopbackOrigin(origin: string): boolean {
  try {
    return isLoopbackHost(new URL(origin).hostname);
  } catch {
    return false;
  }
}

/** The Host header's name without its port (`[::1]:3000` → `[::1]`). */
function hostName(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const bracketed = /^(\[[^\]]+\])(?::\d+)?$/.exec(host);
  if (bracketed) return bracketed[1];
  return host.replace(/:\d+$/, '');
}

/**
 * The codec server the Temporal Web UI and CLI speak to: `POST /encode` and `POST /decode` with
 * `{ payloads: [{ metadata: { key: base64 }, data: base64 }] }`, the namespace in `X-Namespace`. Mounted by the API
 * under `/codec`. Decoded payloads are answered to the caller and never logged.
 *
 * What one request may cost is bounded: its body (CODEC_MAX_BODY_BYTES, 413), its nesting and its number of JSON
 * values, checked before it is parsed (400, 413), its payloads (CODEC_MAX_PAYLOADS, 422); requests per minute per key
 * or client address (CODEC_RATE_LIMIT_PER_MINUTE, 429). Bodies over 16 KiB run in worker threads (503 when all are
 * busy and their queue is full), so that no request stalls the API's event loop.
 */
export function codecRouter(options: CodecServerOptions): express.Router {
  const origins = new Set(options.allowedOrigins);
  const checkKey = authenticate(options.apiKeys);
  const rateLimitPerMinute = options.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE;
  const limits: CodecLimits = {
    maxDepth: CODEC_MAX_JSON_DEPTH,
    maxPayloads: options.maxPayloads ?? DEFAULT_MAX_PAYLOADS,
  };
  const router = express.Router();

  // CORS first, so that even a refusal can be read by the UI; credentials are allowed, hence an exact origin.
  const cors: RequestHandler = (req, res, next) => {
    const origin = req.get('origin');
    if (origin === undefined) {
      next();
      return;
    }
    if (!origins.has(origin)) {
      throw new HttpProblem(403, 'origin-not-allowed', 'This origin may not use the codec endpoint.');
    }
    res.set({
      'Access-Control-Allow-Origin': origin,
      'Access-Control-Allow-Credentials': 'true',
      Vary: 'Origin',
    });
    if (req.method === 'OPTIONS') {
      res
        .set({
          'Access-Control-Allow-Methods': 'POST, OPTIONS',
          'Access-Control-Allow-Headers': CORS_ALLOWED_HEADERS,
          'Access-Control-Max-Age': '600',
        })
        .status(204)
        .end();
      return;
    }
    next();
  };

  // The loopback Web UI without a key: every condition must hold, none is enough alone (a script can forge Origin).
  const isLocalUi = (req: Request): boolean => {
    const origin = req.get('origin');
    const host = hostName(req.get('host'));
    return (
      options.apiOnLoopback &&
      isLoopbackAddress(req.socket.remoteAddress) &&
      host !== undefined &&
      isLoopbackHost(host) &&
      origin !== undefined &&
      origins.has(origin) &&
      isLoopbackOrigin(origin)
    );
  };

  const authorize: RequestHandler = (req, res, next) => {
    if (options.auth === 'none') {
      next();
      return;
    }
    if (req.get('authorization') === undefined && options.auth === 'key-or-local-ui' && isLocalUi(req)) {
      next();
      return;
    }
    checkKey(req, res, () => {
      if (!principalOf(res).scopes.includes('codec')) {
        throw problems.forbidden('This API key may not use the codec endpoint: it needs the "codec" scope.');
      }
      next();
    });
  };

  // Per key; keyless callers (the local UI, CODEC_AUTH=none) per client address.
  const limit = rateLimit({
    windowMs: 60_000,
    limit: rateLimitPerMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (req, res) => {
      const principal = res.locals.principal as { keyId: string } | undefined;
      return principal ? `key:${principal.keyId}` : `address:${ipKeyGenerator(req.socket.remoteAddress ?? '')}`;
    },
    handler: (_req, _res, next) => {
      next(
        new HttpProblem(
          429,
          'rate-limited',
          `Too many codec requests (CODEC_RATE_LIMIT_PER_MINUTE=${rateLimitPerMinute}); retry after the delay given.`,
        ),
      );
    },
  });

  const checkNamespace: RequestHandler = (req, _res, next) => {
    const namespace = req.get('x-namespace');
    if (namespace !== undefined && namespace !== options.namespace) {
      throw new HttpProblem(
        403,
        'namespace-not-served',
        `This codec serves the namespace "${options.namespace}" only.`,
      );
    }
    next();
  };

  const bodyParser = express.raw({
    type: ['application/json', 'application/*+json'],
    limit: options.maxBodyBytes,
    inflate: false,
  });
  // The body as bytes, within CODEC_MAX_BODY_BYTES: a larger Content-Length is refused before a byte is read, a
  // longer chunked body as soon as it passes the limit.
  const readBody: RequestHandler = (req, res, next) => {
    bodyParser(req, res, (err?: unknown) => {
      if ((err as { type?: string } | undefined)?.type === 'entity.too.large') {
        next(
          new HttpProblem(
            413,
            'body-too-large',
            `The request body exceeds CODEC_MAX_BODY_BYTES (${options.maxBodyBytes} bytes).`,
            { limit: options.maxBodyBytes },
          ),
        );
        return;
      }
      next(err);
    });
  };

  // Large bodies in progress (being read, queued or running in a thread) are at most the pool's capacity: one more is
  // refused before it is read, so that the event loop never reads more than capacity × CODEC_MAX_BODY_BYTES at once.
  let largeInProgress = 0;
  const admit: RequestHandler = (req, res, next) => {
    const workers = options.workers;
    const declared = Number(req.get('content-length') ?? 0);
    if (!workers || !(declared > CODEC_INLINE_MAX_BYTES || req.get('transfer-encoding') !== undefined)) {
      next();
      return;
    }
    if (workers.saturated || largeInProgress >= workers.capacity) throw busy();
    largeInProgress += 1;
    res.once('close', () => (largeInProgress -= 1));
    next();
  };

  const run =
    (direction: CodecDirection) =>
    async (req: Request, res: Response): Promise<void> => {
      const body: Uint8Array = Buffer.isBuffer(req.body) ? req.body : new Uint8Array();
      let result: BatchResult;
      if (!options.workers || body.byteLength <= CODEC_INLINE_MAX_BYTES) {
        result = await runCodecBatch(options.codec, direction, body, limits);
      } else {
        // A client that leaves takes its request out of the queue (or stops its thread).
        const abandoned = new AbortController();
        const onClose = () => {
          if (!res.writableFinished) abandoned.abort();
        };
        res.once('close', onClose);
        try {
          result = await options.workers.run(direction, body, limits, abandoned.signal);
        } catch (err) {
          if (err instanceof CodecWorkersBusy) throw busy();
          if (abandoned.signal.aborted) return;
          throw err;
        } finally {
          res.off('close', onClose);
        }
      }
      if (!result.ok) {
        const { status, slug, detail, extensions } = result.problem;
        throw new HttpProblem(status, slug, detail, extensions ?? {});
      }
      // Not res.send, which would hash a body of megabytes for an ETag on the event loop; and a large answer in
      // slices, each written once the socket has taken the previous one, rather than one long copy into the socket.
      const answer = Buffer.from(result.body.buffer, result.body.byteOffset, result.body.byteLength);
      res.status(200).set({
        'Cache-Control': 'no-store',
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': String(answer.length),
      });
      if (answer.length <= ANSWER_SLICE_BYTES) {
        res.end(answer);
        return;
      }
      await pipeline(Readable.from(slices(answer, ANSWER_SLICE_BYTES), { objectMode: false }), res);
    };

  router.use(cors);
  router.post(['/encode', '/decode'], authorize, limit, checkNamespace, requireJsonBody, admit, readBody);
  router.post('/encode', run('encode'));
  router.post('/decode', run('decode'));
  router.all(['/encode', '/decode'], (req) => {
    throw new HttpProblem(405, 'method-not-allowed', `Use POST for ${req.path}.`, {}, { Allow: 'POST, OPTIONS' });
  });
  // A request answered before its body was read (refused, too large): close the connection rather than read the
  // rest of the body to keep it alive.
  router.use(((err, req, res, next) => {
    if (!req.complete) res.set('Connection', 'close');
    next(err);
  }) as ErrorRequestHandler);
  return router;
}
