import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { ZodError } from 'zod';

/** Where the problem types are documented; the slugs below are stable identifiers clients may switch on. */
const PROBLEM_BASE = 'https://agent-connections.app/problems/';

const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface FieldError {
  /** Where the problem is: `body.objects[0].fields[1]`, `path.tenantId`, `header.idempotency-key`, `query.limit`. */
  field: string;
  message: string;
}

/** RFC 9457 problem details; extension members carry what a client needs to act (fields, the running operation). */
export interface ProblemBody {
  type: string;
  /** The slug of `type`: a stable code clients switch on and translate (the admin page does). */
  code: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Invalid request',
  401: 'Authentication required',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Request body too large',
  415: 'Unsupported media type',
  422: 'Unprocessable request',
  429: 'Too many requests',
  502: 'Salesforce refused',
  503: 'Service unavailable',
  500: 'Internal error',
};

/** An error that is meant for the client: the error handler turns it into problem+json, as is. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }
}

export const problems = {
  invalid: (errors: FieldError[]) =>
    new HttpProblem(400, 'invalid-request', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors }),
  unauthenticated: (detail: string) =>
    new HttpProblem(401, 'unauthenticated', detail, {}, { 'WWW-Authenticate': 'Bearer realm="agent-connections"' }),
  forbidden: (detail: string) => new HttpProblem(403, 'forbidden', detail),
  notFound: (detail: string) => new HttpProblem(404, 'not-found', detail),
  conflict: (slug: string, detail: string, extensions: Record<string, unknown> = {}) =>
    new HttpProblem(409, slug, detail, extensions),
  unprocessable: (slug: string, detail: string, extensions: Record<string, unknown> = {}) =>
    new HttpProblem(422, slug, detail, extensions),
  unavailable: (detail: string, retryAfterSeconds: number) =>
    new HttpProblem(503, 'unavailable', detail, {}, { 'Retry-After': String(retryAfterSeconds) }),
};

/** `body.objects[0].fields[1]`: a location and a path inside it, as the `errors` of a problem name them. */
export function fieldName(location: string, path: readonly PropertyKey[]): string {
  return path
    .map(String)
    .reduce((name, part) => (/^\d+$/.test(part) ? `${name}[${part}]` : `${name}.${part}`), location);
}

/** One entry per failing field; an unknown key is reported at its own path, so that a client sees which one. */
export function fieldErrorsOf(error: ZodError, location: 'body' | 'path' | 'query' | 'header'): FieldError[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ field: fieldName(location, [...issue.path, key]), message: 'is not a known field' }))
      : [{ field: fieldName(location, issue.path), message: issue.message }],
  );
}

function sendProblem(
  req: Request,
  res: Response,
  status: number,
  slug: string,
  detail: string,
  extensions: Record<string, unknown> = {},
): void {
  const body: ProblemBody = {
    type: `${PROBLEM_BASE}${slug}`,
    code: slug,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    instance: req.originalUrl.split('?')[0],
    ...extensions,
  };
  res.status(status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}

/** Express' body-parser errors carry a `type` and a status; these are the client's fault, never a 500. */
interface BodyParserError {
  type?: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
}

function bodyParserProblem(err: BodyParserError): { status: number; slug: string; detail: string } | undefined {
  switch (err.type) {
    case 'entity.too.large':
      return { status: 413, slug: 'body-too-large', detail: 'The request body exceeds the size this API accepts.' };
    case 'entity.parse.failed':
      return { status: 400, slug: 'invalid-json', detail: 'The request body is not valid JSON.' };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { status: 415, slug: 'unsupported-media-type', detail: 'Send the body as UTF-8 JSON.' };
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return { status: 400, slug: 'invalid-request', detail: 'The request body could not be read.' };
    default:
      return undefined;
  }
}

/**
 * The id of the payload codec key a failure could not find (codec/encryption-codec.ts), wherever the SDK wrapped it:
 * Temporal's client decodes memos and results with the API's PAYLOAD_CODEC_KEYS.
 */
export function missingPayloadKeyOf(err: unknown): string | undefined {
  const seen = new Set<unknown>();
  for (let e = err as { name?: string; message?: string; keyId?: unknown; cause?: unknown } | undefined; e;) {
    if (seen.has(e)) break;
    seen.add(e);
    if (e.name === 'UnknownPayloadKeyError' && typeof e.keyId === 'string') return e.keyId;
    const named = /payload is encrypted with unknown key "([^"]*)"/.exec(e.message ?? '');
    if (named) return named[1];
    e = e.cause as typeof e;
  }
  return undefined;
}

/** A missing payload key needs an operator: clients may retry, but not soon. */
const PAYLOAD_KEY_RETRY_AFTER_SECONDS = 300;

export const notFoundHandler: RequestHandler = (req, res) => {
  sendProblem(req, res, 404, 'not-found', `No resource at ${req.path}.`);
};

/**
 * The last middleware: every error becomes problem+json. Unknown errors are logged by the caller-supplied logger
 * and answered with a generic 500 that reveals nothing (no message, no stack).
 */
export function errorHandler(
  logUnexpected: (err: unknown, req: Request) => void,
  logMissingPayloadKey: (keyId: string, req: Request) => void = (_keyId, req) => logUnexpected(undefined, req),
): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    if (err instanceof HttpProblem) {
      res.set(err.headers);
      sendProblem(req, res, err.status, err.slug, err.message, err.extensions);
      return;
    }
    if (err instanceof URIError) {
      sendProblem(req, res, 400, 'invalid-request', 'The path is not valid percent-encoding.', {
        errors: [{ field: 'path', message: 'is not valid percent-encoding' }],
      });
      return;
    }
    const parserProblem = bodyParserProblem(err as BodyParserError);
    if (parserProblem) {
      sendProblem(req, res, parserProblem.status, parserProblem.slug, parserProblem.detail);
      return;
    }
    const status = (err as BodyParserError).status ?? (err as BodyParserError).statusCode;
    if ((err as BodyParserError).expose && typeof status === 'number' && status >= 400 && status < 500) {
      // Other client errors raised by Express itself (a malformed URI, for one): the status is right, the message safe.
      sendProblem(req, res, status, 'invalid-request', 'The request could not be understood.');
      return;
    }
    const keyId = missingPayloadKeyOf(err);
    if (keyId !== undefined) {
      // The tenant's data is sealed with a key this API was not given: the operator's configuration, not the client's
      // request nor a bug. The key's id is no secret; the keys themselves never appear.
      logMissingPayloadKey(keyId, req);
      res.set('Retry-After', String(PAYLOAD_KEY_RETRY_AFTER_SECONDS));
      sendProblem(
        req,
        res,
        503,
        'payload-key-missing',
        `This tenant's data is encrypted with payload key "${keyId}", which this API is not configured with. ` +
          'An operator must add that key to PAYLOAD_CODEC_KEYS (keys are removed only once nothing sealed with them ' +
          'is kept).',
        { keyId },
      );
      return;
    }
    logUnexpected(err, req);
    sendProblem(req, res, 500, 'internal', 'An unexpected error occurred. It has been logged.');
  };
}
