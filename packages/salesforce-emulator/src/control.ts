/** Control API (separate port): orgs, settings, inspection, hand edits, faults, counters; plus its typed client. */
import type http from 'node:http';
import { z } from 'zod';
import { SfError } from './errors';
import { normalizeId, str } from './ids';
import { faultSchema, type FaultInput } from './faults';
import { SERVICE_OAUTH_CLIENT, instanceUrlOf } from './oauth';
import { materialize } from './soql';
import { createOrg, resetOrg, type CreateOrgInput } from './seed';
import {
  ADMIN_PERMISSIONS,
  API_ACCESS_CONTROL,
  type AdminPermission,
  type ApiAccessControl,
  type Org,
  type Rec,
} from './state';
import type { EmulatorCore } from './server';

export type ComponentKind =
  | 'PermissionSet'
  | 'ObjectPermissions'
  | 'FieldPermissions'
  | 'User'
  | 'PermissionSetAssignment'
  | 'PermissionSetLicenseAssign'
  | 'SetupEntityAccess'
  | 'ExternalClientApplication'
  | 'ExtlClntAppConfigurablePolicies'
  | 'ExtlClntAppOauthSettings'
  | 'ExtlClntAppGlobalOauthSettings'
  | 'ExtlClntAppOauthConfigurablePolicies'
  | 'ConnectedApp';

export interface Component {
  kind: ComponentKind;
  id?: string;
  name: string;
  createdAt: string;
  createdById: string;
  active?: boolean;
  parentId?: string;
  details?: Record<string, unknown>;
}

export interface CreatedOrg {
  orgId: string;
  key: string;
  instanceUrl: string;
  loginUrl: string;
  adminUserId: string;
  adminUsername: string;
  /** The admin's password on the sign-in page (`/services/oauth2/authorize`). */
  adminPassword: string;
  accessToken: string;
  refreshToken: string;
}

export interface OrgSummary {
  orgId: string;
  key: string;
  name: string;
  instanceUrl: string;
  loginUrl: string;
  adminUserId: string;
  adminUsername: string;
  /** The admin's password on the sign-in page (`/services/oauth2/authorize`). */
  adminPassword: string;
  createdAt: string;
  apiUsage: { used: number; max: number };
  settings: {
    allowConnectedAppCreation: boolean;
    apiAccessControl: ApiAccessControl;
    apiDailyLimit: number;
    propagationDelayMs: number;
    integrationLicenses: number;
    adminPermissions: Record<AdminPermission, boolean>;
  };
}

export interface OrgSettingsPatch {
  allowConnectedAppCreation?: boolean;
  apiAccessControl?: ApiAccessControl;
  apiDailyLimit?: number;
  propagationDelayMs?: number;
  integrationLicenses?: number;
  adminPermissions?: Partial<Record<AdminPermission, boolean>>;
}

/** The emulated time (ISO 8601) and how far it was moved ahead of the system clock. */
export interface ClockState {
  now: string;
  offsetMs: number;
}

export interface CounterSnapshot {
  total: number;
  byOperation: Record<string, number>;
  byOperationAndObject: Record<string, Record<string, number>>;
  byStatus: Record<string, number>;
}

const RECORD_KINDS: ComponentKind[] = [
  'PermissionSet',
  'ObjectPermissions',
  'FieldPermissions',
  'User',
  'PermissionSetAssignment',
  'PermissionSetLicenseAssign',
  'SetupEntityAccess',
];
const META_KINDS: ComponentKind[] = [
  'ExternalClientApplication',
  'ExtlClntAppConfigurablePolicies',
  'ExtlClntAppOauthSettings',
  'ExtlClntAppGlobalOauthSettings',
  'ExtlClntAppOauthConfigurablePolicies',
  'ConnectedApp',
];

const fieldSpec = z.object({
  name: z.string(),
  type: z.string(),
  nillable: z.boolean().optional(),
  permissionable: z.boolean().optional(),
  label: z.string().optional(),
  length: z.number().int().positive().optional(),
  calculated: z.boolean().optional(),
  referenceTo: z.string().optional(),
  picklistValues: z.array(z.string()).optional(),
});
const permsSchema = z.partialRecord(z.enum(ADMIN_PERMISSIONS), z.boolean());
const createOrgSchema = z
  .object({
    key: z.string().optional(),
    name: z.string().optional(),
    integrationLicenses: z.number().int().min(0).optional(),
    allowConnectedAppCreation: z.boolean().optional(),
    apiAccessControl: z.enum(API_ACCESS_CONTROL).optional(),
    apiDailyLimit: z.number().int().min(0).optional(),
    propagationDelayMs: z.number().int().min(0).optional(),
    customObjects: z
      .array(z.object({ name: z.string(), label: z.string().optional(), fields: z.array(fieldSpec).default([]) }))
      .optional(),
    customFields: z.record(z.string(), z.array(fieldSpec)).optional(),
    adminPermissions: permsSchema.optional(),
  })
  .strict();
const settingsSchema = z
  .object({
    allowConnectedAppCreation: z.boolean().optional(),
    apiAccessControl: z.enum(API_ACCESS_CONTROL).optional(),
    apiDailyLimit: z.number().int().min(0).optional(),
    propagationDelayMs: z.number().int().min(0).optional(),
    integrationLicenses: z.number().int().min(0).optional(),
    adminPermissions: permsSchema.optional(),
  })
  .strict();

const clockSchema = z.object({ advanceMs: z.number().int().min(0) }).strict();
const serviceClientSchema = z.object({ callbackUrls: z.array(z.string().url().max(2048)).max(20) }).strict();

type Reply = { status: number; body?: unknown };

class HttpError extends Error {
  constructor(
    public status: number,
    message: string,
  ) {
    super(message);
  }
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) throw new HttpError(400, r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return r.data;
}

const publicRec = (r: Rec): Rec => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith('_')));

export class ControlApi {
  constructor(private core: EmulatorCore) {}

  private org(key: string): Org {
    const org = this.core.world.orgs.get(key);
    if (!org) throw new HttpError(404, `no org '${key}'`);
    return org;
  }

  private summary(org: Org): OrgSummary {
    return {
      orgId: org.id,
      key: org.key,
      name: org.name,
      instanceUrl: instanceUrlOf(this.core.loginUrl, org),
      loginUrl: this.core.loginUrl,
      adminUserId: org.adminUserId,
      adminUsername: org.adminUsername,
      adminPassword: org.adminPassword,
      createdAt: org.createdAt,
      apiUsage: { used: org.apiUsage.count(this.core.world.clock.now()), max: org.settings.apiDailyLimit },
      settings: {
        allowConnectedAppCreation: org.settings.allowConnectedAppCreation,
        apiAccessControl: org.settings.apiAccessControl ?? 'off',
        apiDailyLimit: org.settings.apiDailyLimit,
        propagationDelayMs: org.propagationDelay(this.core.opts.propagationDelayMs),
        integrationLicenses: org.settings.integrationLicenses,
        adminPermissions: { ...org.settings.adminPermissions },
      },
    };
  }

  createOrg(input: CreateOrgInput): CreatedOrg {
    let org: Org;
    try {
      org = createOrg(this.core.world, input);
    } catch (e) {
      throw new HttpError(
        e instanceof Error && /already exists/.test(e.message) ? 409 : 400,
        e instanceof Error ? e.message : String(e),
      );
    }
    const s = this.core.world.newAccessToken(org, org.adminUserId, this.core.opts.sessionTimeoutMs);
    this.core.markDirty();
    return {
      orgId: org.id,
      key: org.key,
      instanceUrl: instanceUrlOf(this.core.loginUrl, org),
      loginUrl: this.core.loginUrl,
      adminUserId: org.adminUserId,
      adminUsername: org.adminUsername,
      adminPassword: org.adminPassword,
      accessToken: s.token,
      refreshToken: org.refreshToken,
    };
  }

  components(org: Org): Component[] {
    const out: Component[] = [];
    const nameOf = (id: unknown): string => {
      if (typeof id !== 'string') return '';
      const hit = org.find(id);
      return hit ? str(hit.rec.Username ?? hit.rec.Name ?? hit.rec.DeveloperName ?? id) : id;
    };
    for (const kind of RECORD_KINDS) {
      for (const r of org.rows(kind)) {
        if (org.seedIds.has(r.Id as string)) continue;
        let name: string;
        let parentId: unknown;
        switch (kind) {
          case 'User':
            name = String(r.Username);
            break;
          case 'PermissionSet':
            name = String(r.Name);
            break;
          case 'ObjectPermissions':
            name = `${nameOf(r.ParentId)}.${String(r.SobjectType)}`;
            parentId = r.ParentId;
            break;
          case 'FieldPermissions':
            name = `${nameOf(r.ParentId)}.${String(r.Field)}`;
            parentId = r.ParentId;
            break;
          case 'SetupEntityAccess':
            name = `${nameOf(r.ParentId)} -> ${nameOf(r.SetupEntityId)}`;
            parentId = r.ParentId;
            break;
          case 'PermissionSetAssignment':
            name = `${nameOf(r.AssigneeId)} -> ${nameOf(r.PermissionSetId)}`;
            parentId = r.AssigneeId;
            break;
          default:
            name = `${nameOf(r.AssigneeId)} -> ${nameOf(r.PermissionSetLicenseId)}`;
            parentId = r.AssigneeId;
        }
        out.push({
          kind,
          id: r.Id as string,
          name,
          createdAt: String(r.CreatedDate),
          createdById: String(r.CreatedById),
          ...(kind === 'User' ? { active: r.IsActive === true } : {}),
          ...(typeof parentId === 'string' ? { parentId } : {}),
          details: publicRec(r),
        });
      }
    }
    for (const kind of META_KINDS) {
      for (const c of org.meta.get(kind)?.values() ?? []) {
        const header =
          typeof c.data.externalClientApplication === 'string'
            ? org.getMeta('ExternalClientApplication', c.data.externalClientApplication)
            : undefined;
        const { consumerSecret: _s, ...data } = c.data;
        if (kind === 'ConnectedApp' && data.oauthConfig) {
          const { consumerSecret: _cs, ...oc } = data.oauthConfig as Rec;
          data.oauthConfig = oc;
        }
        out.push({
          kind,
          id: c.id,
          name: c.fullName,
          createdAt: c.createdAt,
          createdById: c.createdById,
          ...(header ? { parentId: header.id } : {}),
          details: data,
        });
      }
    }
    return out;
  }

  private findRecordByIdOrName(org: Org, kind: string, idOrName: string): Rec | undefined {
    const id = normalizeId(idOrName);
    for (const r of org.rows(kind)) {
      if (id && r.Id === id) return r;
      if (
        [r.Name, r.Username, r.DeveloperName].some(
          (v) => typeof v === 'string' && v.toLowerCase() === idOrName.toLowerCase(),
        )
      )
        return r;
    }
    return undefined;
  }

  deleteComponent(org: Org, kind: string, idOrName: string): void {
    if ((META_KINDS as string[]).includes(kind)) {
      const comp =
        org.getMeta(kind, idOrName) ??
        [...(org.meta.get(kind)?.values() ?? [])].find((c) => c.id === normalizeId(idOrName));
      if (!comp) throw new HttpError(404, `no ${kind} '${idOrName}'`);
      const tag =
        kind === 'ConnectedApp'
          ? `ConnectedApp:${comp.fullName}`
          : kind === 'ExternalClientApplication'
            ? `ECA:${comp.fullName.toLowerCase()}`
            : undefined;
      if (tag) {
        for (const r of [...org.rows('ConnectedApplication')]) {
          if (r._app !== tag) continue;
          for (const sea of [...org.rows('SetupEntityAccess')])
            if (sea.SetupEntityId === r.Id) org.remove('SetupEntityAccess', sea.Id as string);
          org.remove('ConnectedApplication', r.Id as string);
        }
      }
      if (kind === 'ExternalClientApplication') org.remove('ExternalClientApplication', comp.id);
      org.deleteMeta(kind, comp.fullName);
      return;
    }
    if (!org.schema.get(kind)) throw new HttpError(400, `unknown kind ${kind}`);
    const canonical = org.schema.get(kind)!.name;
    const rec = this.findRecordByIdOrName(org, canonical, idOrName);
    if (!rec) throw new HttpError(404, `no ${kind} '${idOrName}'`);
    if (canonical === 'User') throw new HttpError(409, "users can't be deleted (deactivate them instead)");
    if (canonical === 'PermissionSet') {
      for (const child of ['ObjectPermissions', 'FieldPermissions', 'SetupEntityAccess']) {
        for (const r of [...org.rows(child)]) if (r.ParentId === rec.Id) org.remove(child, r.Id as string);
      }
      for (const a of [...org.rows('PermissionSetAssignment')])
        if (a.PermissionSetId === rec.Id) org.remove('PermissionSetAssignment', a.Id as string);
    }
    org.remove(canonical, rec.Id as string);
  }

  patchRecord(org: Org, sobject: string, id: string, changes: unknown): Rec {
    const o = org.schema.get(sobject);
    if (!o) throw new HttpError(404, `unknown sObject ${sobject}`);
    const nid = normalizeId(id);
    const rec = nid ? org.table(o.name).get(nid) : undefined;
    if (!rec) throw new HttpError(404, `no ${o.name} ${id}`);
    if (!changes || typeof changes !== 'object' || Array.isArray(changes))
      throw new HttpError(400, 'body must be an object of field values');
    const canonical: Rec = {};
    for (const [k, v] of Object.entries(changes as Rec)) {
      const fd = o.fieldMap.get(k.toLowerCase());
      if (!fd || fd.name === 'Id') throw new HttpError(400, `unknown or immutable field ${k} on ${o.name}`);
      canonical[fd.name] = v;
    }
    if (o.name === 'User' && typeof canonical.Username === 'string') {
      const hit = this.core.world.findUsername(canonical.Username);
      if (hit && hit.rec.Id !== rec.Id) throw new HttpError(409, 'username already exists');
    }
    org.patch(o.name, rec.Id as string, canonical);
    return publicRec(rec);
  }

  /** Routes a control request; returns status and JSON body. */
  handle(method: string, url: URL, body: unknown): Reply {
    const [a, b, ...rest] = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    let out: Reply | undefined;
    if (a === 'orgs') out = b ? this.orgRoute(method, this.org(b), rest, body) : this.orgsRoute(method, body);
    else if (a === 'faults' && !rest.length) out = this.faultsRoute(method, b, body);
    else if (a === 'counters' && !b) out = this.countersRoute(method, url.searchParams.get('org') ?? undefined);
    else if (a === 'clock' && !b) out = this.clockRoute(method, body);
    else if (a === 'service-client' && !b) out = this.serviceClientRoute(method, body);
    else if (a === 'health' && method === 'GET')
      out = { status: 200, body: { ok: true, loginUrl: this.core.loginUrl } };
    if (!out) throw new HttpError(404, `no route ${method} ${url.pathname}`);
    return out;
  }

  private orgsRoute(method: string, body: unknown): Reply | undefined {
    if (method === 'POST') return { status: 201, body: this.createOrg(parse(createOrgSchema, body)) };
    if (method === 'GET') return { status: 200, body: [...this.core.world.orgs.values()].map((o) => this.summary(o)) };
    return undefined;
  }

  /** /orgs/:key[/c/d/e] */
  private orgRoute(method: string, org: Org, [c, d, e]: string[], body: unknown): Reply | undefined {
    const core = this.core;
    if (!c) {
      if (method === 'GET') return { status: 200, body: this.summary(org) };
      if (method === 'DELETE') {
        core.world.orgs.delete(org.key);
        core.world.expireOrgSessions(org.key);
        for (const [t, v] of core.world.refreshTokens) if (v.orgKey === org.key) core.world.refreshTokens.delete(t);
        core.markDirty();
        return { status: 204 };
      }
      return undefined;
    }
    const route = `${method} ${c}${d ? '/:d' : ''}${e ? '/:e' : ''}`;
    switch (route) {
      case 'POST reset':
        resetOrg(core.world, org);
        core.markDirty();
        return { status: 200, body: this.summary(org) };
      case 'PATCH settings':
        this.patchSettings(org, parse(settingsSchema, body));
        core.markDirty();
        return { status: 200, body: this.summary(org) };
      case 'POST admin-token': {
        const s = core.world.newAccessToken(org, org.adminUserId, core.opts.sessionTimeoutMs);
        return {
          status: 200,
          body: {
            accessToken: s.token,
            refreshToken: org.refreshToken,
            instanceUrl: instanceUrlOf(core.loginUrl, org),
            adminUsername: org.adminUsername,
          },
        };
      }
      case 'POST expire-sessions': {
        const expired = core.world.expireOrgSessions(org.key);
        core.markDirty();
        return { status: 200, body: { expired } };
      }
      case 'GET components':
        return { status: 200, body: this.components(org) };
      case 'DELETE components/:d/:e':
        this.deleteComponent(org, d!, e!);
        org.journal = [];
        core.markDirty();
        return { status: 204 };
      case 'GET records/:d': {
        const o = org.schema.get(d!);
        if (!o) throw new HttpError(404, `unknown sObject ${d}`);
        return { status: 200, body: [...org.rows(o.name)].map((r) => publicRec(materialize(org, o.name, r))) };
      }
      case 'PATCH records/:d/:e': {
        const r = this.patchRecord(org, d!, e!, body);
        org.journal = [];
        core.markDirty();
        return { status: 200, body: r };
      }
      default:
        return undefined;
    }
  }

  private patchSettings(org: Org, p: z.infer<typeof settingsSchema>): void {
    const s = org.settings;
    if (p.allowConnectedAppCreation !== undefined) s.allowConnectedAppCreation = p.allowConnectedAppCreation;
    if (p.apiAccessControl !== undefined) s.apiAccessControl = p.apiAccessControl;
    if (p.apiDailyLimit !== undefined) s.apiDailyLimit = p.apiDailyLimit;
    if (p.propagationDelayMs !== undefined) s.propagationDelayMs = p.propagationDelayMs;
    if (p.integrationLicenses !== undefined) s.integrationLicenses = p.integrationLicenses;
    for (const [k, v] of Object.entries(p.adminPermissions ?? {}))
      if (v !== undefined) s.adminPermissions[k as AdminPermission] = v;
    org.applySettings();
  }

  private faultsRoute(method: string, id: string | undefined, body: unknown): Reply | undefined {
    const core = this.core;
    if (!id && method === 'POST') {
      const spec = parse(faultSchema, body);
      if (spec.org !== undefined && !core.world.orgs.has(spec.org)) throw new HttpError(404, `no org '${spec.org}'`);
      return { status: 201, body: { id: core.faults.add(spec) } };
    }
    if (!id && method === 'GET') return { status: 200, body: core.faults.all() };
    if (!id && method === 'DELETE') {
      core.faults.clear();
      return { status: 204 };
    }
    if (id && method === 'DELETE') {
      if (!core.faults.remove(id)) throw new HttpError(404, `no fault '${id}'`);
      return { status: 204 };
    }
    return undefined;
  }

  private countersRoute(method: string, org: string | undefined): Reply | undefined {
    if (method === 'GET') return { status: 200, body: this.core.counters.get(org) };
    if (method === 'DELETE') {
      this.core.counters.reset(org);
      return { status: 204 };
    }
    return undefined;
  }

  /**
   * GET /service-client; PUT /service-client {callbackUrls}: the callback URLs registered for the service's OAuth
   * client, which the authorize page checks redirect_uri against.
   */
  private serviceClientRoute(method: string, body: unknown): Reply | undefined {
    const world = this.core.world;
    if (method === 'PUT') world.serviceCallbackUrls = parse(serviceClientSchema, body).callbackUrls;
    else if (method !== 'GET') return undefined;
    return {
      status: 200,
      body: { clientId: SERVICE_OAUTH_CLIENT.clientId, callbackUrls: world.serviceCallbackUrls },
    };
  }

  /** GET /clock; POST /clock {advanceMs}: moves the emulated time forward (see clock.ts). */
  private clockRoute(method: string, body: unknown): Reply | undefined {
    const clock = this.core.world.clock;
    if (method === 'POST') {
      clock.advance(parse(clockSchema, body).advanceMs);
      this.core.markDirty();
    } else if (method !== 'GET') return undefined;
    const state: ClockState = { now: new Date(clock.now()).toISOString(), offsetMs: clock.offsetMs };
    return { status: 200, body: state };
  }

  readonly handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let out: Reply;
      try {
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = raw.trim() ? (JSON.parse(raw) as unknown) : undefined;
        } catch {
          throw new HttpError(400, 'malformed JSON body');
        }
        out = this.handle((req.method ?? 'GET').toUpperCase(), new URL(req.url ?? '/', 'http://control'), body);
      } catch (err) {
        if (err instanceof HttpError) out = { status: err.status, body: { error: err.message } };
        else if (err instanceof SfError) out = { status: 400, body: { error: err.message } };
        else out = { status: 500, body: { error: err instanceof Error ? err.message : String(err) } };
      }
      const payload = out.body === undefined ? undefined : JSON.stringify(out.body);
      res.writeHead(out.status, payload === undefined ? {} : { 'Content-Type': 'application/json' });
      res.end(payload);
    });
  };
}

/** Typed client of the control API (works in-process or against a standalone emulator). */
export class EmulatorControl {
  private readonly base: string;
  constructor(controlUrl: string) {
    this.base = controlUrl.replace(/\/$/, '');
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } } : {}),
    });
    const text = await res.text();
    const data: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      const msg = data && typeof data === 'object' && 'error' in data ? String(data.error) : text;
      throw new Error(`emulator control ${method} ${path} → ${res.status}: ${msg}`);
    }
    return data as T;
  }

  createOrg(input: CreateOrgInput = {}): Promise<CreatedOrg> {
    return this.call('POST', '/orgs', input);
  }
  listOrgs(): Promise<OrgSummary[]> {
    return this.call('GET', '/orgs');
  }
  getOrg(key: string): Promise<OrgSummary> {
    return this.call('GET', `/orgs/${encodeURIComponent(key)}`);
  }
  deleteOrg(key: string): Promise<void> {
    return this.call('DELETE', `/orgs/${encodeURIComponent(key)}`);
  }
  resetOrg(key: string): Promise<OrgSummary> {
    return this.call('POST', `/orgs/${encodeURIComponent(key)}/reset`);
  }
  updateSettings(key: string, patch: OrgSettingsPatch): Promise<OrgSummary> {
    return this.call('PATCH', `/orgs/${encodeURIComponent(key)}/settings`, patch);
  }
  /** Extra route: a fresh admin access token plus the admin refresh token (for `npm start` wiring). */
  adminToken(
    key: string,
  ): Promise<{ accessToken: string; refreshToken: string; instanceUrl: string; adminUsername: string }> {
    return this.call('POST', `/orgs/${encodeURIComponent(key)}/admin-token`);
  }
  expireSessions(key: string): Promise<{ expired: number }> {
    return this.call('POST', `/orgs/${encodeURIComponent(key)}/expire-sessions`);
  }
  components(key: string): Promise<Component[]> {
    return this.call('GET', `/orgs/${encodeURIComponent(key)}/components`);
  }
  records(key: string, sobject: string): Promise<Record<string, unknown>[]> {
    return this.call('GET', `/orgs/${encodeURIComponent(key)}/records/${encodeURIComponent(sobject)}`);
  }
  patchRecord(
    key: string,
    sobject: string,
    id: string,
    changes: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    return this.call(
      'PATCH',
      `/orgs/${encodeURIComponent(key)}/records/${encodeURIComponent(sobject)}/${encodeURIComponent(id)}`,
      changes,
    );
  }
  deleteComponent(key: string, kind: string, idOrName: string): Promise<void> {
    return this.call(
      'DELETE',
      `/orgs/${encodeURIComponent(key)}/components/${encodeURIComponent(kind)}/${encodeURIComponent(idOrName)}`,
    );
  }
  addFault(spec: FaultInput): Promise<{ id: string }> {
    return this.call('POST', '/faults', spec);
  }
  listFaults(): Promise<unknown[]> {
    return this.call('GET', '/faults');
  }
  removeFault(id: string): Promise<void> {
    return this.call('DELETE', `/faults/${encodeURIComponent(id)}`);
  }
  clearFaults(): Promise<void> {
    return this.call('DELETE', '/faults');
  }
  counters(org?: string): Promise<CounterSnapshot> {
    return this.call('GET', `/counters${org ? `?org=${encodeURIComponent(org)}` : ''}`);
  }
  resetCounters(org?: string): Promise<void> {
    return this.call('DELETE', `/counters${org ? `?org=${encodeURIComponent(org)}` : ''}`);
  }
  /** Registers the callback URLs of the service's OAuth client (replacing the former ones). */
  setServiceCallbackUrls(callbackUrls: string[]): Promise<{ clientId: string; callbackUrls: string[] }> {
    return this.call('PUT', '/service-client', { callbackUrls });
  }
  clock(): Promise<ClockState> {
    return this.call('GET', '/clock');
  }
  /** Moves the emulator's time forward: sessions time out, API usage ages, apps propagate, as if `ms` had passed. */
  advanceClock(ms: number): Promise<ClockState> {
    return this.call('POST', '/clock', { advanceMs: ms });
  }
}
