/** In-memory state of the emulator: orgs, their records and metadata, sessions; JSON (de)serialisation. */
import { randomBytes } from 'node:crypto';
import { ApiUsage, type ApiUsageJson } from './api-usage';
import { Clock } from './clock';
import { IdGenerator, randomAlnum } from './ids';
import { Schema, type CustomFieldSpec, type CustomObjectSpec } from './schema';

export type Rec = Record<string, unknown>;

export const ADMIN_PERMISSIONS = [
  'PermissionsApiEnabled',
  'PermissionsModifyAllData',
  'PermissionsManageUsers',
  'PermissionsCustomizeApplication',
  'PermissionsManageProfilesPermissionsets',
  'PermissionsAssignPermissionSets',
  'PermissionsViewSetup',
  'PermissionsModifyMetadata',
  'PermissionsTransactionSecurityExempt',
  'PermissionsUseAnyApiClient',
] as const;
export type AdminPermission = (typeof ADMIN_PERMISSIONS)[number];
/** Admin permissions a new org's admin lacks unless asked for: they exempt from org controls. */
export const ADMIN_PERMISSIONS_OFF_BY_DEFAULT: readonly AdminPermission[] = [
  'PermissionsTransactionSecurityExempt',
  'PermissionsUseAnyApiClient',
];

/**
 * API Access Control (help "Manage API Access", security_api_access_control_about): `off` until Salesforce Support
 * enables the feature; `enabled` once it has (Setup shows API Access Control, the Use Any API Client permission
 * exists); `adminApprovedAppsOnly` when "For admin-approved users, limit API access to only allowlisted connected
 * apps" is selected (Metadata API: ConnectedAppSettings.enableAdminApprovedAppsOnly).
 */
export const API_ACCESS_CONTROL = ['off', 'enabled', 'adminApprovedAppsOnly'] as const;
export type ApiAccessControl = (typeof API_ACCESS_CONTROL)[number];

export interface OrgSettings {
  allowConnectedAppCreation: boolean;
  /** Absent in former state files: off. */
  apiAccessControl?: ApiAccessControl;
  apiDailyLimit: number;
  /** undefined = use the emulator-wide default. */
  propagationDelayMs?: number;
  integrationLicenses: number;
  adminPermissions: Record<AdminPermission, boolean>;
}

export interface OrgConfig {
  name: string;
  customObjects: CustomObjectSpec[];
  customFields: Record<string, CustomFieldSpec[]>;
}

export interface MetaComponent {
  type: string;
  fullName: string;
  id: string;
  data: Record<string, unknown>;
  createdAt: string;
  createdById: string;
  lastModifiedAt: string;
  /** epoch ms of the last change that restarts propagation (creation, certificate, policies). */
  changedAt: number;
}

/**
 * An access token. It expires after `timeoutMs` without use (Session Settings' timeout): Salesforce updates the last
 * active time only once half of the timeout has passed since the last update (see World.useSession).
 */
export interface Session {
  token: string;
  orgKey: string;
  userId: string;
  issuedAt: number;
  /** epoch ms of the last update of the last active time (issue, then activity) */
  lastActiveAt: number;
  /** the inactivity timeout */
  timeoutMs: number;
  /** lastActiveAt + timeoutMs */
  expiresAt: number;
  /** consumer key of the app that minted it (JWT bearer), if any */
  consumerKey?: string;
  scopes?: string[];
}

export interface DeployRecord {
  id: string;
  createdAt: string;
  createdById: string;
  checkOnly: boolean;
  status: 'Pending' | 'InProgress' | 'Succeeded' | 'Failed';
  result?: Record<string, unknown>;
}

export { nowIso } from './clock';
export const token = (n: number): string => randomAlnum(n, randomBytes);
/** A password for an org's admin on the emulator's sign-in page. */
export const newAdminPassword = (): string => `Emu-${token(16)}`;

type Undo = () => void;

export class Org {
  schema: Schema;
  tables = new Map<string, Map<string, Rec>>();
  meta = new Map<string, Map<string, MetaComponent>>();
  seedIds = new Set<string>();
  /** ids deleted through the API (recycle bin): later calls get ENTITY_IS_DELETED */
  deleted = new Set<string>();
  seed: Record<string, Rec[]> = {};
  /** API requests of the last 24 hours. */
  apiUsage = new ApiUsage();
  deploys = new Map<string, DeployRecord>();
  cursors = new Map<string, { rows: Rec[]; created: number }>();
  journal: Undo[] = [];
  adminUserId = '';
  adminUsername = '';
  /** The admin's password for the emulator's sign-in page (web server flow); printed at start, never a token. */
  adminPassword = '';
  refreshToken = '';
  /** Set by createOrg (or from the state file). */
  createdAt = '';

  constructor(
    public key: string,
    public id: string,
    public settings: OrgSettings,
    public config: OrgConfig,
  ) {
    this.schema = new Schema(config.customObjects, config.customFields);
    this.applySettings();
  }

  /** Makes the schema follow the settings that add or remove fields (call after changing them). */
  applySettings(): void {
    this.schema.setApiAccessControl((this.settings.apiAccessControl ?? 'off') !== 'off');
  }

  get name(): string {
    return this.config.name;
  }

  table(objName: string): Map<string, Rec> {
    let t = this.tables.get(objName);
    if (!t) {
      t = new Map();
      this.tables.set(objName, t);
    }
    return t;
  }

  /** Finds a record by (18-char) id in any table. */
  find(id: string): { obj: string; rec: Rec } | undefined {
    const o = this.schema.objectOfId(id);
    if (!o) return undefined;
    const rec = this.tables.get(o.name)?.get(id);
    return rec ? { obj: o.name, rec } : undefined;
  }

  insert(objName: string, rec: Rec): void {
    const t = this.table(objName);
    const id = rec.Id as string;
    t.set(id, rec);
    this.journal.push(() => t.delete(id));
  }

  patch(objName: string, id: string, changes: Rec): void {
    const rec = this.table(objName).get(id);
    if (!rec) return;
    const before: Rec = {};
    for (const k of Object.keys(changes)) before[k] = rec[k];
    Object.assign(rec, changes);
    this.journal.push(() => Object.assign(rec, before));
  }

  remove(objName: string, id: string): void {
    const t = this.table(objName);
    const rec = t.get(id);
    if (!rec) return;
    t.delete(id);
    this.deleted.add(id);
    this.journal.push(() => {
      t.set(id, rec);
      this.deleted.delete(id);
    });
  }

  metaTable(type: string): Map<string, MetaComponent> {
    let t = this.meta.get(type);
    if (!t) {
      t = new Map();
      this.meta.set(type, t);
    }
    return t;
  }

  getMeta(type: string, fullName: string): MetaComponent | undefined {
    return this.meta.get(type)?.get(fullName.toLowerCase());
  }

  putMeta(comp: MetaComponent): void {
    const t = this.metaTable(comp.type);
    const k = comp.fullName.toLowerCase();
    const prev = t.get(k);
    t.set(k, comp);
    this.journal.push(() => (prev ? t.set(k, prev) : t.delete(k)));
  }

  deleteMeta(type: string, fullName: string): void {
    const t = this.metaTable(type);
    const k = fullName.toLowerCase();
    const prev = t.get(k);
    if (!prev) return;
    t.delete(k);
    this.journal.push(() => t.set(k, prev));
  }

  savepoint(): number {
    return this.journal.length;
  }

  rollbackTo(sp: number): void {
    while (this.journal.length > sp) this.journal.pop()!();
  }

  /** The current record list of an object, in insertion order. */
  rows(objName: string): Iterable<Rec> {
    return this.tables.get(objName)?.values() ?? [];
  }

  propagationDelay(defaultMs: number): number {
    return this.settings.propagationDelayMs ?? defaultMs;
  }
}

/** An authorization code issued by the authorize page, until it is exchanged or expires. */
export interface AuthorizationCode {
  orgKey: string;
  userId: string;
  clientId: string;
  redirectUri: string;
  /** The PKCE challenge (S256), when the request had one. */
  codeChallenge?: string;
  scope: string;
  expiresAt: number;
}

export class World {
  clock: Clock;
  orgs = new Map<string, Org>();
  ids: IdGenerator;
  sessions = new Map<string, Session>();
  refreshTokens = new Map<string, { orgKey: string; userId: string }>();
  /** Authorization codes of the web server flow: single use, short-lived, in memory only. */
  authorizationCodes = new Map<string, AuthorizationCode>();
  /** The callback URLs registered for the service's OAuth client (SERVICE_OAUTH_CLIENT). */
  serviceCallbackUrls: string[] = [];

  constructor(counter = 1, clockOffsetMs = 0) {
    this.ids = new IdGenerator(counter);
    this.clock = new Clock(clockOffsetMs);
  }

  orgById(orgId: string): Org | undefined {
    for (const o of this.orgs.values()) if (o.id === orgId || o.id.slice(0, 15) === orgId) return o;
    return undefined;
  }

  /** Global, case-insensitive username lookup across every org. */
  findUsername(username: string): { org: Org; rec: Rec } | undefined {
    const u = username.toLowerCase();
    for (const org of this.orgs.values()) {
      for (const rec of org.rows('User')) if (String(rec.Username).toLowerCase() === u) return { org, rec };
    }
    return undefined;
  }

  /** Global consumer key lookup (ConnectedApp oauthConfig.consumerKey / ExtlClntAppGlobalOauthSettings.consumerKey). */
  findConsumerKey(key: string): { org: Org; comp: MetaComponent } | undefined {
    for (const org of this.orgs.values()) {
      for (const comp of org.meta.get('ConnectedApp')?.values() ?? []) {
        const oc = comp.data.oauthConfig as Rec | undefined;
        if (oc && oc.consumerKey === key) return { org, comp };
      }
      for (const comp of org.meta.get('ExtlClntAppGlobalOauthSettings')?.values() ?? []) {
        if (comp.data.consumerKey === key) return { org, comp };
      }
    }
    return undefined;
  }

  /** A new access token whose session times out after `timeoutMs` without use. */
  newAccessToken(org: Org, userId: string, timeoutMs: number, consumerKey?: string): Session {
    const t = `${org.id.slice(0, 15)}!${token(96)}`;
    const now = this.clock.now();
    const s: Session = {
      token: t,
      orgKey: org.key,
      userId,
      issuedAt: now,
      lastActiveAt: now,
      timeoutMs,
      expiresAt: now + timeoutMs,
      ...(consumerKey ? { consumerKey } : {}),
    };
    this.sessions.set(t, s);
    return s;
  }

  /** The session of an access token, unless unknown or timed out. */
  liveSession(tokenValue: string | undefined): Session | undefined {
    const s = tokenValue ? this.sessions.get(tokenValue) : undefined;
    return s && s.expiresAt >= this.clock.now() ? s : undefined;
  }

  /**
   * Activity on a session: as Salesforce does, the last active time is updated (and the timeout restarts) only once
   * half of the timeout has passed since the last update; earlier activity leaves the expiry where it is.
   */
  useSession(s: Session): void {
    const now = this.clock.now();
    if (now - s.lastActiveAt < s.timeoutMs / 2) return;
    s.lastActiveAt = now;
    s.expiresAt = now + s.timeoutMs;
  }

  expireOrgSessions(orgKey: string): number {
    let n = 0;
    for (const [t, s] of this.sessions) {
      if (s.orgKey === orgKey) {
        this.sessions.delete(t);
        n++;
      }
    }
    return n;
  }

  pruneSessions(): void {
    const now = this.clock.now();
    for (const [t, s] of this.sessions) if (s.expiresAt < now) this.sessions.delete(t);
  }
}

// ---------------------------------------------------------------- persistence

interface SerializedOrg {
  key: string;
  id: string;
  settings: OrgSettings;
  config: OrgConfig;
  createdAt: string;
  tables: Record<string, Rec[]>;
  meta: Record<string, MetaComponent[]>;
  seedIds: string[];
  seed: Record<string, Rec[]>;
  adminUserId: string;
  adminUsername: string;
  adminPassword?: string;
  refreshToken: string;
  /** Former files: `{ used, windowStart }`. */
  apiUsage: ApiUsageJson | { used: number; windowStart: number };
}
export interface SerializedWorld {
  format: 'sf-emulator/1';
  idCounter: number;
  /** How far the control API moved the clock forward (absent in former files). */
  clockOffsetMs?: number;
  orgs: SerializedOrg[];
  sessions: Session[];
  refreshTokens: [string, { orgKey: string; userId: string }][];
}

export function tablesToJson(tables: Map<string, Map<string, Rec>>): Record<string, Rec[]> {
  const out: Record<string, Rec[]> = {};
  for (const [name, t] of tables) out[name] = [...t.values()].map((r) => ({ ...r }));
  return out;
}

export function tablesFromJson(json: Record<string, Rec[]>): Map<string, Map<string, Rec>> {
  const out = new Map<string, Map<string, Rec>>();
  for (const [name, rows] of Object.entries(json)) {
    out.set(name, new Map(rows.map((r) => [r.Id as string, { ...r }])));
  }
  return out;
}

export function serializeWorld(w: World): SerializedWorld {
  return {
    format: 'sf-emulator/1',
    idCounter: w.ids.counter,
    clockOffsetMs: w.clock.offsetMs,
    orgs: [...w.orgs.values()].map((o) => ({
      key: o.key,
      id: o.id,
      settings: o.settings,
      config: o.config,
      createdAt: o.createdAt,
      tables: tablesToJson(o.tables),
      meta: Object.fromEntries([...o.meta].map(([t, m]) => [t, [...m.values()]])),
      seedIds: [...o.seedIds],
      seed: o.seed,
      adminUserId: o.adminUserId,
      adminUsername: o.adminUsername,
      adminPassword: o.adminPassword,
      refreshToken: o.refreshToken,
      apiUsage: o.apiUsage.toJSON(),
    })),
    sessions: [...w.sessions.values()],
    refreshTokens: [...w.refreshTokens],
  };
}

export function deserializeWorld(json: SerializedWorld): World {
  if (json.format !== 'sf-emulator/1') throw new Error('unknown emulator state file format');
  const w = new World(json.idCounter, json.clockOffsetMs ?? 0);
  for (const so of json.orgs) {
    const org = new Org(so.key, so.id, so.settings, so.config);
    org.createdAt = so.createdAt;
    org.tables = tablesFromJson(so.tables);
    for (const [type, comps] of Object.entries(so.meta)) {
      org.meta.set(type, new Map(comps.map((c) => [c.fullName.toLowerCase(), c])));
    }
    org.seedIds = new Set(so.seedIds);
    org.seed = so.seed;
    org.adminUserId = so.adminUserId;
    org.adminUsername = so.adminUsername;
    // Former files have no password: one is made, as createOrg does.
    org.adminPassword = so.adminPassword ?? newAdminPassword();
    org.refreshToken = so.refreshToken;
    org.apiUsage = ApiUsage.fromJSON(so.apiUsage);
    w.orgs.set(org.key, org);
  }
  for (const s of json.sessions) {
    // Former files: sessions with a fixed lifetime from issue.
    s.lastActiveAt ??= s.issuedAt;
    s.timeoutMs ??= s.expiresAt - s.issuedAt;
    w.sessions.set(s.token, s);
  }
  for (const [t, v] of json.refreshTokens) w.refreshTokens.set(t, v);
  return w;
}
