import express from 'express';
import type { Request, RequestHandler, Response } from 'express';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import type { AppConfig } from '../../config';
import type { ApiKey } from '../auth';
import { authenticate, principalOf } from '../auth';
import { isLoopbackHost } from '../loopback';
import { HttpProblem, problems } from '../problem';
import { parseInput, requireJsonBody } from '../requests';

/**
 * Who may use the codec endpoint.
 * - `key`: a bearer API key with the `codec` scope (the CLI: `--codec-auth "Bearer <key>"`).
 * - `key-or-local-ui`: the same, plus the Web UI of a developer's machine without a key. The UI sends Authorization
 *   only to an https endpoint, so over http it cannot present a key; this allowance holds only while the API itself
 *   listens on loopback, the request comes from loopback and its Origin is an allowed loopback UI origin.
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
  maxBodyBytes: number;
}

const CORS_ALLOWED_HEADERS = 'Authorization, Content-Type, X-Namespace';
const MAX_PAYLOADS = 10_000;

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const payloadSchema = z.object({
  metadata: z.record(z.string().min(1).max(256), base64).optional(),
  data: base64.optional(),
});
const bodySchema = z.object({ payloads: z.array(payloadSchema).max(MAX_PAYLOADS) });
type JsonPayload = z.infer<typeof payloadSchema>;

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
 * The codec server the Temporal Web UI and CLI speak to: `POST /encode` and `POST /decode` with
 * `{ payloads: [{ metadata: { key: base64 }, data: base64 }] }`, the namespace in `X-Namespace`. Mounted by the API
 * under `/codec`. Decoded payloads are answered to the caller and never logged.
 */
export function codecRouter(options: CodecServerOptions): express.Router {
  const origins = new Set(options.allowedOrigins);
  const checkKey = authenticate(options.apiKeys);
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

  const authorize: RequestHandler = (req, res, next) => {
    if (options.auth === 'none') {
      next();
      return;
    }
    if (req.get('authorization') === undefined && options.auth === 'key-or-local-ui') {
      const origin = req.get('origin');
      if (
        options.apiOnLoopback &&
        origin !== undefined &&
        isLoopbackOrigin(origin) &&
        isLoopbackAddress(req.socket.remoteAddress)
      ) {
        next();
        return;
      }
    }
    checkKey(req, res, () => {
      if (!principalOf(res).scopes.includes('codec')) {
        throw problems.forbidden('This API key may not use the codec endpoint: it needs the "codec" scope.');
      }
      next();
    });
  };

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

  const run =
    (direction: 'encode' | 'decode') =>
    async (req: Request, res: Response): Promise<void> => {
      const { payloads } = parseInput(bodySchema, req.body ?? {}, 'body');
      const output: Payload[] = [];
      for (const [index, payload] of payloads.entries()) {
        try {
          const [converted] = await options.codec[direction]([fromJson(payload)]);
          if (!converted) throw new Error('the codec returned nothing');
          output.push(converted);
        } catch (err) {
          const why = /unknown key/.test(String(err))
            ? (err as Error).message
            : 'wrong key, altered data or not a payload';
          throw problems.unprocessable(`${direction}-failed`, `payloads[${index}] cannot be ${direction}d: ${why}.`, {
            errors: [{ field: `body.payloads[${index}]`, message: `cannot be ${direction}d` }],
          });
        }
      }
      res.set('Cache-Control', 'no-store').json({ payloads: output.map(toJson) });
    };

  router.use(cors);
  router.post(
    ['/encode', '/decode'],
    authorize,
    checkNamespace,
    requireJsonBody,
    express.json({ limit: options.maxBodyBytes, type: ['application/json'] }),
  );
  router.post('/encode', run('encode'));
  router.post('/decode', run('decode'));
  router.all(['/encode', '/decode'], (req) => {
    throw new HttpProblem(405, 'method-not-allowed', `Use POST for ${req.path}.`, {}, { Allow: 'POST, OPTIONS' });
  });
  return router;
}
