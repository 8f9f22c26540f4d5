/** The Salesforce-surface HTTP server: routing, auth, API limits, faults, counters, persistence. */
import { promises as fsp, readFileSync, existsSync } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import type { Socket } from 'node:net';
import pino from 'pino';
import { SfError, defaultMessage, sessionError, statusForCode } from './errors';
import { userPerms, type Ctx } from './engine';
import { Counters, Faults, type CallInfo, type FaultAction } from './faults';
import {
  SoapFault,
  checkDeployStatus,
  metadataCall,
  metadataObjects,
  metadataOperationName,
  parseEnvelope,
  sessionFault,
  soapFault,
  soapResponse,
  startDeploy,
  type SoapCall,
} from './metadata';
import { authorizeEndpoint } from './authorize';
import { identity, tokenEndpoint } from './oauth';
import { MAX_VERSION, MIN_VERSION, classifyRest, dispatch, parseJsonBody, versionsList, type SfResponse } from './rest';
import { World, deserializeWorld, serializeWorld, type Org, type Session } from './state';

export interface CoreOptions {
  host: string;
  stateFile?: string;
  propagationDelayMs: number;
  sessionTimeoutMs: number;
  log: boolean;
  /** Callback URLs registered for the service's OAuth client (the control API can replace them). */
  serviceCallbackUrls: string[];
}

const MAX_BODY = 64 * 1024 * 1024;

class Dropped extends Error {}

export class EmulatorCore {
  world: World;
  faults = new Faults();
  counters = new Counters();
  loginUrl = '';
  private held = new Set<{ timer: NodeJS.Timeout; socket: Socket; resolve: () => void }>();
  private saveTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private pendingDeploys = 0;
  private closed = false;
  private logger: pino.Logger | undefined;

  constructor(public readonly opts: CoreOptions) {
    this.world = new World();
    if (opts.stateFile && existsSync(opts.stateFile)) {
      this.world = deserializeWorld(
        JSON.parse(readFileSync(opts.stateFile, 'utf8')) as Parameters<typeof deserializeWorld>[0],
      );
    }
    this.world.serviceCallbackUrls = [...opts.serviceCallbackUrls];
    if (opts.log) this.logger = pino({ name: 'sf-emulator' });
  }

  // ---------------------------------------------------------------- persistence

  markDirty(): void {
    if (!this.opts.stateFile || this.closed) return;
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.flush();
    }, 100);
  }

  async flush(): Promise<void> {
    const file = this.opts.stateFile;
    if (!file) return;
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
    }
    this.world.pruneSessions();
    const data = JSON.stringify(serializeWorld(this.world));
    // The state holds the orgs' OAuth tokens and sessions: readable by this user only (0600, its folder 0700 when
    // the emulator makes it). The rename replaces a former file whatever its mode.
    this.saving = this.saving.then(async () => {
      await fsp.mkdir(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      await fsp.writeFile(tmp, data, { mode: 0o600 });
      await fsp.chmod(tmp, 0o600);
      await fsp.rename(tmp, file);
    });
    await this.saving;
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    for (const h of this.held) {
      clearTimeout(h.timer);
      h.socket.destroy();
      h.resolve();
    }
    this.held.clear();
    for (let i = 0; i < 50 && this.pendingDeploys > 0; i++) await new Promise((r) => setTimeout(r, 20));
    if (this.opts.stateFile) await this.flush();
  }

  // ---------------------------------------------------------------- HTTP plumbing

  private wait(ms: number, socket: Socket): Promise<void> {
    return new Promise((resolve) => {
      const h = {
        timer: setTimeout(() => {
          this.held.delete(h);
          resolve();
        }, ms),
        socket,
        resolve,
      };
      this.held.add(h);
    });
  }

  readonly handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const started = Date.now();
    this.handle(req, res)
      .catch((e: unknown) => {
        if (e instanceof Dropped) return;
        this.logger?.error({ err: e }, 'emulator internal error');
        if (!res.headersSent && !res.destroyed) {
          send(res, {
            status: 500,
            body: [
              {
                errorCode: 'UNKNOWN_EXCEPTION',
                message:
                  'An unexpected error occurred. Please include this ErrorId if you contact support: 0000000-00000 (emulator)',
              },
            ],
          });
        }
      })
      .finally(() => {
        this.logger?.info(
          { method: req.method, url: req.url, status: res.statusCode, ms: Date.now() - started },
          'request',
        );
      });
  };

  private async readBody(req: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      const b = c as Buffer;
      size += b.length;
      if (size > MAX_BODY) throw new SfError('REQUEST_ENTITY_TOO_LARGE', 'Request body too large', [], 413);
      chunks.push(b);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = (req.method ?? 'GET').toUpperCase();
    let raw: string;
    try {
      raw = await this.readBody(req);
    } catch (e) {
      if (e instanceof SfError) return send(res, { status: e.httpStatus, body: [e.toRest()] });
      throw e;
    }
    let p = url.pathname;
    let org: Org | undefined;
    const om = /^\/orgs\/([^/]+)(\/.*)?$/.exec(p);
    if (om) {
      org = this.world.orgs.get(decodeURIComponent(om[1]!));
      if (!org)
        return send(res, {
          status: 404,
          body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }],
        });
      p = om[2] ?? '/';
    }
    const orgKey = org?.key;

    // The web server flow's sign-in page (login URL and each instance URL, like My Domain)
    if (p === '/services/oauth2/authorize') {
      const call: CallInfo = { ...(orgKey ? { org: orgKey } : {}), method, operation: 'oauth.authorize', objects: [] };
      return this.run(call, res, req, 'oauth', () =>
        authorizeEndpoint({ world: this.world, ...(org ? { org } : {}) }, method, url.pathname, raw, url.searchParams),
      );
    }
    // OAuth token endpoint (login URL and each instance URL, like My Domain)
    if (p === '/services/oauth2/token') {
      const call: CallInfo = { ...(orgKey ? { org: orgKey } : {}), method, operation: 'oauth.token', objects: [] };
      return this.run(call, res, req, 'oauth', () =>
        tokenEndpoint(
          {
            world: this.world,
            loginUrl: this.loginUrl,
            sessionTimeoutMs: this.opts.sessionTimeoutMs,
            propagationDelayMs: this.opts.propagationDelayMs,
          },
          method,
          raw,
          url.searchParams,
          org,
        ),
      );
    }
    const idm = /^\/id\/([A-Za-z0-9]{15,18})\/([A-Za-z0-9]{15,18})\/?$/.exec(p);
    if (idm && !org) {
      const call: CallInfo = { method, operation: 'oauth.identity', objects: [] };
      return this.run(call, res, req, 'oauth', () =>
        identity(this.world, this.loginUrl, idm[1]!, idm[2]!, bearer(req)),
      );
    }
    if (p === '/services/data' || p === '/services/data/') {
      const call: CallInfo = { ...(orgKey ? { org: orgKey } : {}), method, operation: 'rest.versions', objects: [] };
      return this.run(call, res, req, 'rest', () => ({ status: 200, body: versionsList() }));
    }
    const rm = /^\/services\/data\/v(\d+\.\d+)(?:\/(.*))?$/.exec(p);
    if (rm && org)
      return this.rest(
        org,
        rm[1]!,
        (rm[2] ?? '').split('/').filter(Boolean).map(decodeURIComponent),
        method,
        url,
        raw,
        req,
        res,
      );
    const sm = /^\/services\/Soap\/m\/(\d+\.\d+)\/?$/.exec(p);
    if (sm && org) return this.soap(org, sm[1]!, method, raw, req, res);
    return send(res, {
      status: 404,
      body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }],
    });
  }

  /** Applies counters and faults around a handler, then writes (or drops) the response. */
  private async run(
    call: CallInfo,
    res: http.ServerResponse,
    req: http.IncomingMessage,
    surface: 'rest' | 'oauth' | 'soap',
    fn: () => SfResponse | Promise<SfResponse>,
    faultResponse?: (a: Extract<FaultAction, { kind: 'error' }>) => SfResponse,
  ): Promise<void> {
    this.counters.count(call);
    const fault = this.faults.take(call);
    const socket = req.socket;
    if (fault) {
      switch (fault.kind) {
        case 'latency':
          await this.wait(fault.ms, socket);
          break;
        case 'timeout':
          await this.wait(fault.ms ?? 30_000, socket);
          this.counters.status(call.org, 'dropped');
          socket.destroy();
          throw new Dropped();
        case 'dropBeforeCommit':
          this.counters.status(call.org, 'dropped');
          socket.destroy();
          throw new Dropped();
        case 'error': {
          const r = faultResponse ? faultResponse(fault) : defaultFaultResponse(surface, fault);
          this.counters.status(call.org, r.status);
          return send(res, r);
        }
        case 'commitThenDrop':
          break;
      }
      if (this.closed) {
        socket.destroy();
        throw new Dropped();
      }
    }
    const r = await fn();
    if (fault?.kind === 'commitThenDrop') {
      this.counters.status(call.org, 'dropped');
      socket.destroy();
      throw new Dropped();
    }
    this.counters.status(call.org, r.status);
    send(res, r);
  }

  /**
   * Checks the bearer token (the request is activity on its session) and the API requests of the last 24 hours;
   * returns the session or an error.
   */
  private authorize(org: Org, tokenValue: string | undefined): Session | SfError {
    const s = this.world.liveSession(tokenValue);
    if (!s || s.orgKey !== org.key) return sessionError();
    const user = org.table('User').get(s.userId);
    if (!user?.IsActive) return sessionError();
    if (!userPerms(org, s.userId).PermissionsApiEnabled) {
      return new SfError('API_CURRENTLY_DISABLED', 'API is disabled for this User', [], 403);
    }
    this.world.useSession(s);
    const now = this.world.clock.now();
    if (org.apiUsage.count(now) >= org.settings.apiDailyLimit) {
      return new SfError('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.', [], 403);
    }
    org.apiUsage.record(now);
    return s;
  }

  private apiUsed(org: Org): number {
    return org.apiUsage.count(this.world.clock.now());
  }

  private limitHeader(org: Org): Record<string, string> {
    return { 'Sforce-Limit-Info': `api-usage=${this.apiUsed(org)}/${org.settings.apiDailyLimit}` };
  }

  private ctx(org: Org, s: Session, version: string): Ctx {
    return {
      world: this.world,
      org,
      userId: s.userId,
      version,
      opts: {
        loginUrl: this.loginUrl,
        propagationDelayMs: this.opts.propagationDelayMs,
        sessionTimeoutMs: this.opts.sessionTimeoutMs,
      },
      subrequestFault: (call) => {
        const f = this.faults.takeSubrequest({ org: org.key, ...call });
        if (!f) return undefined;
        return new SfError(
          f.errorCode,
          f.message ?? defaultMessage(f.errorCode),
          [],
          f.status ?? statusForCode(f.errorCode),
        );
      },
    };
  }

  private async rest(
    org: Org,
    version: string,
    sub: string[],
    method: string,
    url: URL,
    raw: string,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    let body: unknown;
    let parseError: SfError | undefined;
    try {
      body = parseJsonBody(raw);
    } catch (e) {
      if (!(e instanceof SfError)) throw e;
      parseError = e;
    }
    const cls = classifyRest(method, sub, body, url.searchParams);
    const call: CallInfo = { org: org.key, method, operation: cls.op, objects: cls.objects };
    const withLimit = (r: SfResponse): SfResponse => ({
      ...r,
      headers: { ...(r.headers ?? {}), ...this.limitHeader(org) },
    });
    return this.run(
      call,
      res,
      req,
      'rest',
      () => {
        const v = Number(version);
        if (!/^\d+\.0$/.test(version) || v < MIN_VERSION || v > MAX_VERSION) {
          return { status: 404, body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }] };
        }
        const auth = this.authorize(org, bearer(req));
        if (auth instanceof SfError) return withLimit({ status: auth.httpStatus, body: [auth.toRest()] });
        if (auth.scopes && !auth.scopes.includes('api') && !auth.scopes.includes('full')) {
          return withLimit({
            status: 401,
            body: [{ message: 'This session is not valid for use with the REST API', errorCode: 'INVALID_SESSION_ID' }],
          });
        }
        if (parseError) return withLimit({ status: parseError.httpStatus, body: [parseError.toRest()] });
        org.journal = [];
        try {
          return withLimit(dispatch(this.ctx(org, auth, version), method, sub, url.searchParams, body));
        } finally {
          org.journal = [];
          if (method !== 'GET') this.markDirty();
        }
      },
      (f) => withLimit(restFaultResponse(f)),
    );
  }

  private async soap(
    org: Org,
    version: string,
    method: string,
    raw: string,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    let call: SoapCall | undefined;
    let parseFault: SoapFault | undefined;
    try {
      call = parseEnvelope(raw);
    } catch (e) {
      if (!(e instanceof SoapFault)) throw e;
      parseFault = e;
    }
    const info: CallInfo = {
      org: org.key,
      method,
      operation: call ? metadataOperationName(call.method) : 'metadata.invalid',
      objects: call ? metadataObjects(call) : [],
    };
    const faultXml = (f: SoapFault, status = 500): SfResponse => ({
      status,
      raw: { contentType: 'text/xml;charset=UTF-8', text: soapFault(f) },
    });
    return this.run(
      info,
      res,
      req,
      'soap',
      () => {
        const v = Number(version);
        if (method !== 'POST') return faultXml(new SoapFault('soapenv:Client', 'SOAP requests must use HTTP POST'));
        if (!/^\d+\.0$/.test(version) || v < MIN_VERSION || v > MAX_VERSION) {
          return faultXml(
            new SoapFault(
              'sf:UNSUPPORTED_API_VERSION',
              `UNSUPPORTED_API_VERSION: Invalid Api version specified on URL: ${version}`,
            ),
          );
        }
        if (parseFault || !call) return faultXml(parseFault ?? new SoapFault('soapenv:Client', 'Bad envelope'));
        const auth = this.authorize(org, call.sessionId);
        if (auth instanceof SfError) {
          if (auth.errorCode === 'INVALID_SESSION_ID') return faultXml(sessionFault());
          return faultXml(new SoapFault(`sf:${auth.errorCode}`, `${auth.errorCode}: ${auth.message}`));
        }
        const ctx = this.ctx(org, auth, version);
        const limit = { current: this.apiUsed(org), limit: org.settings.apiDailyLimit };
        org.journal = [];
        try {
          let result: unknown;
          if (call.method === 'deploy') {
            this.pendingDeploys++;
            result = startDeploy(ctx, call.args, () => {
              this.pendingDeploys--;
              this.markDirty();
            });
          } else if (call.method === 'checkDeployStatus') result = checkDeployStatus(ctx, call.args);
          else result = metadataCall(ctx, call);
          return {
            status: 200,
            raw: { contentType: 'text/xml;charset=UTF-8', text: soapResponse(call.method, result, limit) },
          };
        } catch (e) {
          if (e instanceof SoapFault) return faultXml(e);
          throw e;
        } finally {
          org.journal = [];
          if (!['readMetadata', 'checkDeployStatus'].includes(call.method)) this.markDirty();
        }
      },
      (f) => {
        const code = f.errorCode;
        const message = f.message ?? defaultMessage(code);
        const business =
          ![
            'INVALID_SESSION_ID',
            'SERVER_UNAVAILABLE',
            'UNKNOWN_EXCEPTION',
            'REQUEST_LIMIT_EXCEEDED',
            'INVALID_TYPE',
            'INSUFFICIENT_ACCESS',
          ].includes(code) &&
          (f.status === undefined || f.status < 500);
        const crud =
          call && ['createMetadata', 'updateMetadata', 'deleteMetadata', 'upsertMetadata'].includes(call.method);
        if (business && crud && call) {
          // Business error: HTTP 200 with one failed SaveResult per component.
          const names =
            call.method === 'deleteMetadata'
              ? [call.args.fullNames].flat()
              : [call.args.metadata]
                  .flat()
                  .map((m) => (m && typeof m === 'object' ? (m as Record<string, unknown>).fullName : ''));
          const results = names.map((n) => ({
            errors: { fields: [], message, statusCode: code },
            fullName: typeof n === 'string' ? n : '',
            success: false,
          }));
          const result = results.length === 1 ? results[0] : results;
          return {
            status: 200,
            raw: { contentType: 'text/xml;charset=UTF-8', text: soapResponse(call.method, result) },
          };
        }
        const fault =
          code === 'INVALID_SESSION_ID' && !f.message
            ? sessionFault()
            : new SoapFault(`sf:${code}`, `${code}: ${message}`);
        return faultXml(fault, f.status ?? 500);
      },
    );
  }
}

function bearer(req: http.IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(h.trim());
  return m?.[1];
}

function restFaultResponse(f: Extract<FaultAction, { kind: 'error' }>): SfResponse {
  return {
    status: f.status ?? statusForCode(f.errorCode),
    body: [{ message: f.message ?? defaultMessage(f.errorCode), errorCode: f.errorCode }],
  };
}

function defaultFaultResponse(
  surface: 'rest' | 'oauth' | 'soap',
  f: Extract<FaultAction, { kind: 'error' }>,
): SfResponse {
  if (surface === 'oauth') {
    return {
      status: f.status ?? 400,
      body: { error: f.errorCode, error_description: f.message ?? defaultMessage(f.errorCode) },
    };
  }
  return restFaultResponse(f);
}

export function send(res: http.ServerResponse, r: SfResponse): void {
  if (res.destroyed) return;
  const headers: Record<string, string> = { ...(r.headers ?? {}) };
  let payload: string | undefined;
  if (r.raw) {
    headers['Content-Type'] = r.raw.contentType;
    payload = r.raw.text;
  } else if (r.status !== 204 && r.body !== undefined) {
    headers['Content-Type'] = 'application/json;charset=UTF-8';
    payload = JSON.stringify(r.body);
  }
  if (payload !== undefined) headers['Content-Length'] = String(Buffer.byteLength(payload));
  res.writeHead(r.status, headers);
  res.end(payload);
}
