/**
 * DML engine: field validation/coercion and the business rules of the setup objects.
 * Error codes follow /work/shared/docs/salesforce.md; where Salesforce's exact code is unknown the stricter behaviour
 * is chosen and marked "(choice)".
 */
import { SfError } from './errors';
import { normalizeId, str } from './ids';
import { TIME_ZONES, type FieldDef, type ObjectDef } from './schema';
import { INTEGRATION_LICENSE, INTEGRATION_PSL } from './seed';
import { nowIso, type Org, type Rec, type World } from './state';

export interface EngineOptions {
  loginUrl: string;
  propagationDelayMs: number;
  sessionTimeoutMs: number;
}

export interface Ctx {
  world: World;
  org: Org;
  userId: string;
  version: string;
  opts: EngineOptions;
  /** An injected error for a subrequest of a composite or batch call (see faults.ts), if a fault names it. */
  subrequestFault?: (call: { method: string; operation: string; objects: string[] }) => SfError | undefined;
}

const INSUFFICIENT = (): SfError =>
  new SfError(
    'INSUFFICIENT_ACCESS_OR_READONLY',
    'You do not have the level of access necessary to perform the operation you requested. Please contact the owner of the record or your administrator if access is necessary.',
  );

// ------------------------------------------------------------------ permissions

export type Perms = Record<string, boolean>;

/** Ids of the permission sets that apply to a user: profile-owned + active assignments. */
export function userPermissionSetIds(org: Org, userId: string): Set<string> {
  const out = new Set<string>();
  const user = org.table('User').get(userId);
  if (user) {
    for (const ps of org.rows('PermissionSet')) if (ps.ProfileId === user.ProfileId) out.add(ps.Id as string);
  }
  for (const psa of org.rows('PermissionSetAssignment'))
    if (psa.AssigneeId === userId) out.add(psa.PermissionSetId as string);
  return out;
}

export function userPerms(org: Org, userId: string): Perms {
  if (userId === org.adminUserId) return { ...org.settings.adminPermissions, PermissionsViewAllData: true };
  const perms: Perms = {};
  const psIds = userPermissionSetIds(org, userId);
  for (const id of psIds) {
    const ps = org.table('PermissionSet').get(id);
    if (!ps) continue;
    for (const [k, v] of Object.entries(ps)) if (k.startsWith('Permissions') && v === true) perms[k] = true;
  }
  return perms;
}

export function requirePerm(ctx: Ctx, ...anyOf: string[]): void {
  const p = userPerms(ctx.org, ctx.userId);
  if (!anyOf.some((x) => p[x])) throw INSUFFICIENT();
}

export interface ObjAccess {
  read: boolean;
  create: boolean;
  edit: boolean;
  del: boolean;
}

/** Object access of a (non-admin) user on a data object, from ObjectPermissions of its permission sets. */
export function objectAccess(ctx: Ctx, o: ObjectDef): ObjAccess {
  if (!o.grantable || ctx.userId === ctx.org.adminUserId) return { read: true, create: true, edit: true, del: true };
  const p = userPerms(ctx.org, ctx.userId);
  if (p.PermissionsModifyAllData) return { read: true, create: true, edit: true, del: true };
  const acc: ObjAccess = { read: !!p.PermissionsViewAllData, create: false, edit: false, del: false };
  const psIds = userPermissionSetIds(ctx.org, ctx.userId);
  for (const op of ctx.org.rows('ObjectPermissions')) {
    if (!psIds.has(op.ParentId as string) || op.SobjectType !== o.name) continue;
    acc.read ||= op.PermissionsRead === true;
    acc.create ||= op.PermissionsCreate === true;
    acc.edit ||= op.PermissionsEdit === true;
    acc.del ||= op.PermissionsDelete === true;
  }
  return acc;
}

/** Field-level security: visible fields of a data object for a non-admin user (undefined = all). */
export function visibleFields(ctx: Ctx, o: ObjectDef): { read: Set<string>; edit: Set<string> } | undefined {
  if (!o.grantable || ctx.userId === ctx.org.adminUserId) return undefined;
  const p = userPerms(ctx.org, ctx.userId);
  if (p.PermissionsModifyAllData || p.PermissionsViewAllData) return undefined;
  const read = new Set<string>();
  const edit = new Set<string>();
  for (const fd of o.fields) if (!fd.permissionable) read.add(fd.name);
  const psIds = userPermissionSetIds(ctx.org, ctx.userId);
  for (const fp of ctx.org.rows('FieldPermissions')) {
    if (!psIds.has(fp.ParentId as string) || fp.SobjectType !== o.name) continue;
    const fname = String(fp.Field).split('.')[1] ?? '';
    if (fp.PermissionsRead) read.add(fname);
    if (fp.PermissionsEdit) edit.add(fname);
  }
  return { read, edit };
}

/** Setup objects whose query/retrieve needs "View Setup and Configuration" (docs 1.1). */
const VIEW_SETUP_OBJECTS = new Set(['SetupEntityAccess', 'PermissionSetLicenseAssign', 'FieldPermissions']);

/** Objects a user may see at all; Salesforce answers INVALID_TYPE for objects the user can't access. */
export function canSeeObject(ctx: Ctx, o: ObjectDef): boolean {
  if (o.grantable) return objectAccess(ctx, o).read;
  if (o.name === 'TransactionSecurityPolicy') {
    // "To view transaction security policies: View All Data" (help "Create a Transaction Security Policy That Uses Apex").
    const p = userPerms(ctx.org, ctx.userId);
    return !!(p.PermissionsViewAllData || p.PermissionsModifyAllData);
  }
  if (VIEW_SETUP_OBJECTS.has(o.name)) return !!userPerms(ctx.org, ctx.userId).PermissionsViewSetup;
  if (ctx.userId === ctx.org.adminUserId) return true;
  // Non-admin users (e.g. the integration user) see only their own identity-related objects without View Setup.
  if (['User', 'Organization', 'UserPermissionAccess', 'UserLicense', 'Profile'].includes(o.name)) return true;
  return !!userPerms(ctx.org, ctx.userId).PermissionsViewSetup;
}

// ------------------------------------------------------------------ Transaction Security

/**
 * What a Transaction Security policy does when it triggers. The format of TransactionSecurityPolicy.ActionConfig is not
 * documented; (choice) the emulator takes a JSON object with the fields of the Metadata API's TransactionSecurityAction
 * (block, endSession, freezeUser, twoFactorAuthentication, notifications).
 */
export function policyAction(actionConfig: unknown): Rec | undefined {
  try {
    const v = JSON.parse(String(actionConfig)) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : undefined;
  } catch {
    return undefined;
  }
}

const TXN_BLOCKED =
  "The operation you requested isn't allowed due to a security policy in your organization. Contact your administrator for more information about security policies.";

/**
 * Enforces the enabled ApiEvent policies on a query (ApiEvent "tracks these user-initiated read-only API calls:
 * query(), queryMore(), and count()", Object Reference, TransactionSecurityPolicy.EventName). A policy that blocks, or
 * asks for two-factor authentication (which API calls cannot give, so Salesforce blocks them: help "Create a
 * Transaction Security Policy That Uses Apex"), refuses the query unless the user has "Exempt from Transaction
 * Security" (help "Exempt Users from Transaction Security Policies"). (choice) Policy conditions (Apex or Condition
 * Builder) are not evaluated: every enabled policy matches every user. The error is TXN_SECURITY_NO_ACCESS with HTTP
 * 403 and the policy's block message (code and status as seen by API clients; not in Salesforce's REST docs).
 */
export function enforceApiEventPolicies(ctx: Ctx): void {
  const blocking = [...ctx.org.rows('TransactionSecurityPolicy')].find((p) => {
    if (p.State !== 'Enabled' || p.EventName !== 'ApiEvent') return false;
    const action = policyAction(p.ActionConfig);
    return action?.block === true || action?.twoFactorAuthentication === true;
  });
  if (!blocking || userPerms(ctx.org, ctx.userId).PermissionsTransactionSecurityExempt) return;
  const message =
    typeof blocking.BlockMessage === 'string' && blocking.BlockMessage ? blocking.BlockMessage : TXN_BLOCKED;
  throw new SfError('TXN_SECURITY_NO_ACCESS', message, [], 403);
}

// ------------------------------------------------------------------ value coercion

const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
export const isEmail = (v: string): boolean => EMAIL.test(v) && v.length <= 80;

function jsonType(v: unknown): string {
  if (typeof v === 'string') return 'VALUE_STRING';
  if (typeof v === 'number') return Number.isInteger(v) ? 'VALUE_NUMBER_INT' : 'VALUE_NUMBER_FLOAT';
  if (typeof v === 'boolean') return v ? 'VALUE_TRUE' : 'VALUE_FALSE';
  if (Array.isArray(v)) return 'START_ARRAY';
  return 'START_OBJECT';
}

function parserError(javaType: string, v: unknown): SfError {
  const shown = typeof v === 'object' ? '' : ` value ${str(v)}`;
  return new SfError(
    'JSON_PARSER_ERROR',
    `Cannot deserialize instance of ${javaType} from ${jsonType(v)}${shown} or request may be missing a required field at [line:1, column:1]`,
  );
}

function isValidDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
}

export function coerceValue(ctx: Ctx, o: ObjectDef, fd: FieldDef, v: unknown): unknown {
  if (v === null) {
    if (fd.type === 'boolean') return false;
    if (!fd.nillable) {
      throw new SfError('REQUIRED_FIELD_MISSING', `Required fields are missing: [${fd.name}]`, [fd.name]);
    }
    return null;
  }
  switch (fd.type) {
    case 'boolean':
      if (typeof v !== 'boolean') throw parserError('boolean', v);
      return v;
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v)) throw parserError('int', v);
      return v;
    case 'double':
    case 'currency':
    case 'percent':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw parserError('double', v);
      return v;
    case 'date':
      if (typeof v !== 'string') throw parserError('date', v);
      if (!isValidDate(v)) throw parserError('date', v);
      return v;
    case 'datetime': {
      if (typeof v !== 'string') throw parserError('datetime', v);
      const t = Date.parse(v.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
      if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(t)) throw parserError('datetime', v);
      return nowIso(t);
    }
    case 'reference': {
      if (typeof v !== 'string') throw parserError('id', v);
      const id = normalizeId(v);
      if (!id) throw new SfError('MALFORMED_ID', `${fd.label}: id value of incorrect type: ${v}`, [fd.name]);
      const target = ctx.org.find(id);
      if (!target || !fd.referenceTo.includes(target.obj) || !isVisible(ctx, target.rec)) {
        throw new SfError('INVALID_CROSS_REFERENCE_KEY', `${fd.label}: invalid cross reference id`, [fd.name]);
      }
      return id;
    }
    default: {
      if (typeof v !== 'string') throw parserError('String', v);
      if (v.length > fd.length) {
        throw new SfError(
          'STRING_TOO_LONG',
          `${fd.label}: data value too large: ${v.slice(0, 40)} (max length=${fd.length})`,
          [fd.name],
        );
      }
      if (fd.type === 'email' && !isEmail(v)) {
        throw new SfError('INVALID_EMAIL_ADDRESS', `${fd.label}: invalid email address: ${v}`, [fd.name]);
      }
      if (fd.type === 'picklist' && fd.restrictedPicklist) {
        const ok = fd.name === 'TimeZoneSidKey' ? TIME_ZONES.has(v) : (fd.picklistValues ?? [v]).includes(v);
        if (!ok) throw restrictedPicklist(fd, v);
      }
      return v;
    }
  }
}

export const restrictedPicklist = (fd: { label: string; name: string }, v: unknown): SfError =>
  new SfError(
    'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
    `${fd.label}: bad value for restricted picklist field: ${String(v)}`,
    [fd.name],
  );

/** Runtime rows (ConnectedApplication) become visible only once the app has propagated. */
export function isVisible(ctx: Ctx, rec: Rec): boolean {
  const at = rec._visibleAt;
  return typeof at !== 'number' || at <= ctx.world.clock.now();
}

/** Validates a JSON body against the object's fields; returns canonical-name → value. */
export function mapBody(ctx: Ctx, o: ObjectDef, body: unknown, mode: 'insert' | 'update'): Rec {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw parserError(`${o.name}`, body);
  }
  const out: Rec = {};
  const fls = visibleFields(ctx, o);
  for (const [k, v] of Object.entries(body as Rec)) {
    if (k === 'attributes') continue;
    const fd = o.fieldMap.get(k.toLowerCase());
    if (!fd || (fls && !fls.read.has(fd.name) && fd.name !== 'Id')) {
      throw new SfError('INVALID_FIELD', `No such column '${k}' on sobject of type ${o.name}`, [k]);
    }
    if (fd.name === 'Id') {
      throw new SfError(
        'INVALID_FIELD_FOR_INSERT_UPDATE',
        mode === 'insert'
          ? 'Record ID: cannot specify Id in an insert call'
          : 'Record ID: cannot specify Id in an update call',
        ['Id'],
      );
    }
    const allowed = mode === 'insert' ? fd.createable : fd.updateable;
    if (!allowed || (fls && fd.permissionable && !fls.edit.has(fd.name))) {
      throw new SfError(
        'INVALID_FIELD_FOR_INSERT_UPDATE',
        `Unable to create/update fields: ${fd.name}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
        [fd.name],
      );
    }
    out[fd.name] = coerceValue(ctx, o, fd, v);
  }
  return out;
}

// ------------------------------------------------------------------ DML

export interface Rules {
  insert?(ctx: Ctx, rec: Rec): void;
  afterInsert?(ctx: Ctx, rec: Rec): void;
  /** return false to drop the record after validation (FieldPermissions with Read=false) */
  keep?(rec: Rec): boolean;
  update?(ctx: Ctx, old: Rec, changes: Rec): void;
  remove?(ctx: Ctx, rec: Rec): void;
}

function typeOp(o: ObjectDef, what: 'inserted' | 'updated' | 'deleted'): SfError {
  return new SfError('INVALID_TYPE_FOR_OPERATION', `entity type cannot be ${what}: ${o.label}`);
}

export function getObject(ctx: Ctx, name: string): ObjectDef | undefined {
  const o = ctx.org.schema.get(name);
  if (!o || !canSeeObject(ctx, o)) return undefined;
  return o;
}

const DEFAULT_TRUE = new Set(['User.IsActive', 'PermissionSetAssignment.IsActive']);

export function dmlInsert(ctx: Ctx, o: ObjectDef, body: unknown): string {
  if (!o.createable) throw typeOp(o, 'inserted');
  if (o.grantable && !objectAccess(ctx, o).create) throw INSUFFICIENT();
  const values = mapBody(ctx, o, body, 'insert');
  const missing = o.fields.filter((fd) => fd.required && (values[fd.name] === undefined || values[fd.name] === null));
  if (missing.length) {
    const names = missing.map((fd) => fd.name);
    throw new SfError('REQUIRED_FIELD_MISSING', `Required fields are missing: [${names.join(', ')}]`, names);
  }
  const rec: Rec = {};
  for (const fd of o.fields) rec[fd.name] = fd.type === 'boolean' ? DEFAULT_TRUE.has(`${o.name}.${fd.name}`) : null;
  Object.assign(rec, values);
  if (o.fieldMap.has('isdeleted')) rec.IsDeleted = false;
  if (o.fieldMap.has('ownerid') && !rec.OwnerId) rec.OwnerId = ctx.userId;
  RULES[o.name]?.insert?.(ctx, rec);
  const t = ctx.world.clock.iso();
  rec.Id = ctx.world.ids.next(o.keyPrefix!);
  Object.assign(rec, {
    CreatedDate: t,
    CreatedById: ctx.userId,
    LastModifiedDate: t,
    LastModifiedById: ctx.userId,
    SystemModstamp: t,
  });
  const rules = RULES[o.name];
  if (rules?.keep && !rules.keep(rec)) return rec.Id as string;
  ctx.org.insert(o.name, rec);
  rules?.afterInsert?.(ctx, rec);
  return rec.Id as string;
}

export function findRecord(ctx: Ctx, o: ObjectDef, rawId: string): Rec {
  const id = normalizeId(rawId);
  if (!id) throw new SfError('MALFORMED_ID', `${o.label} ID: id value of incorrect type: ${rawId}`, ['Id']);
  if (ctx.org.deleted.has(id)) throw new SfError('ENTITY_IS_DELETED', 'entity is deleted', [], 404);
  const rec = ctx.org.table(o.name).get(id);
  if (!rec || !isVisible(ctx, rec)) throw new SfError('NOT_FOUND', 'The requested resource does not exist', [], 404);
  return rec;
}

export function dmlUpdate(ctx: Ctx, o: ObjectDef, rawId: string, body: unknown): void {
  const rec = findRecord(ctx, o, rawId);
  if (!o.updateable) throw typeOp(o, 'updated');
  if (o.grantable && !objectAccess(ctx, o).edit) throw INSUFFICIENT();
  const changes = mapBody(ctx, o, body, 'update');
  RULES[o.name]?.update?.(ctx, rec, changes);
  const t = ctx.world.clock.iso();
  Object.assign(changes, { LastModifiedDate: t, LastModifiedById: ctx.userId, SystemModstamp: t });
  ctx.org.patch(o.name, rec.Id as string, changes);
  const rules = RULES[o.name];
  if (rules?.keep && !rules.keep(rec)) ctx.org.remove(o.name, rec.Id as string);
}

export function dmlDelete(ctx: Ctx, o: ObjectDef, rawId: string): void {
  const rec = findRecord(ctx, o, rawId);
  if (!o.deletable) throw typeOp(o, 'deleted');
  if (o.grantable && !objectAccess(ctx, o).del) throw INSUFFICIENT();
  RULES[o.name]?.remove?.(ctx, rec);
  ctx.org.remove(o.name, rec.Id as string);
}

// ------------------------------------------------------------------ helpers for rules

const API_NAME = /^[A-Za-z](?!.*__)[A-Za-z0-9_]*[A-Za-z0-9]$|^[A-Za-z]$/;
export function isApiName(v: string): boolean {
  return v.length <= 80 && API_NAME.test(v);
}
export const API_NAME_MESSAGE =
  'The API Name can only contain underscores and alphanumeric characters. It must be unique, begin with a letter, not include spaces, not end with an underscore, and not contain two consecutive underscores.';

function licenseOfUser(org: Org, user: Rec): Rec | undefined {
  const profile = org.table('Profile').get(user.ProfileId as string);
  return profile ? org.table('UserLicense').get(profile.UserLicenseId as string) : undefined;
}

export function licenseTotal(org: Org, lic: Rec): number {
  return lic.Name === INTEGRATION_LICENSE ? org.settings.integrationLicenses : (lic.TotalLicenses as number);
}

export function activeUsersOnLicense(org: Org, licenseId: string, exceptUserId?: string): number {
  let n = 0;
  for (const u of org.rows('User')) {
    if (!u.IsActive || u.Id === exceptUserId) continue;
    const p = org.table('Profile').get(u.ProfileId as string);
    if (p?.UserLicenseId === licenseId) n++;
  }
  return n;
}

function integrationPsl(org: Org): Rec | undefined {
  for (const p of org.rows('PermissionSetLicense')) if (p.DeveloperName === INTEGRATION_PSL) return p;
  return undefined;
}

function hasPsl(org: Org, userId: string, pslId: string): boolean {
  for (const a of org.rows('PermissionSetLicenseAssign')) {
    if (a.AssigneeId === userId && a.PermissionSetLicenseId === pslId) return true;
  }
  return false;
}

/** First object permission a permission set grants, e.g. "Read Account" (for the PSL rule). */
function firstObjectGrant(org: Org, psId: string, extra?: Rec): string | undefined {
  const rows = [...org.rows('ObjectPermissions')].filter((r) => r.ParentId === psId);
  if (extra) rows.push(extra);
  for (const r of rows) {
    for (const [k, label] of [
      ['PermissionsRead', 'Read'],
      ['PermissionsCreate', 'Create'],
      ['PermissionsEdit', 'Edit'],
      ['PermissionsDelete', 'Delete'],
      ['PermissionsViewAllRecords', 'View All'],
      ['PermissionsModifyAllRecords', 'Modify All'],
    ] as const) {
      if (r[k] === true) return `${label} ${String(r.SobjectType)}`;
    }
  }
  return undefined;
}

/**
 * The PSL rule (docs 1.4): a user on the Salesforce Integration license needs a PermissionSetLicenseAssign for
 * SalesforceAPIIntegrationPsl before holding a permission set that grants object access.
 */
function checkLicenseAllows(org: Org, user: Rec, psId: string, extra?: Rec): void {
  const lic = licenseOfUser(org, user);
  if (lic?.Name !== INTEGRATION_LICENSE) return;
  const psl = integrationPsl(org);
  if (psl && hasPsl(org, user.Id as string, psl.Id as string)) return;
  const grant = firstObjectGrant(org, psId, extra);
  if (grant) {
    throw new SfError('FIELD_INTEGRITY_EXCEPTION', `The user license doesn't allow the permission: ${grant}`, []);
  }
}

function dup(existingId: unknown, what = '<unknown>'): SfError {
  return new SfError(
    'DUPLICATE_VALUE',
    `duplicate value found: ${what} duplicates value on record with id: ${String(existingId)}`,
  );
}

const OBJ_DEPS: [string, string[]][] = [
  ['PermissionsCreate', ['PermissionsRead']],
  ['PermissionsEdit', ['PermissionsRead']],
  ['PermissionsDelete', ['PermissionsRead', 'PermissionsEdit']],
  ['PermissionsViewAllRecords', ['PermissionsRead']],
  ['PermissionsViewAllFields', ['PermissionsRead']],
  [
    'PermissionsModifyAllRecords',
    ['PermissionsRead', 'PermissionsEdit', 'PermissionsDelete', 'PermissionsViewAllRecords'],
  ],
];
const permLabel = (p: string): string => p.replace('Permissions', '').replace(/([a-z])([A-Z])/g, '$1 $2');

function grantableObject(org: Org, name: unknown, field: string): ObjectDef {
  const o = typeof name === 'string' ? org.schema.get(name) : undefined;
  if (!o || !o.grantable)
    throw restrictedPicklist({ label: field === 'SobjectType' ? 'Sobject Type Name' : field, name: field }, name);
  return o;
}

/** Applies assignments of a permission set to every assignee of it (for the PSL rule on later grants). */
function assigneesOf(org: Org, psId: string): Rec[] {
  const out: Rec[] = [];
  for (const a of org.rows('PermissionSetAssignment')) {
    if (a.PermissionSetId !== psId) continue;
    const u = org.table('User').get(a.AssigneeId as string);
    if (u) out.push(u);
  }
  return out;
}

function checkUsername(ctx: Ctx, username: string, selfId?: string): void {
  if (!isEmail(username)) {
    // (choice) Salesforce's exact code for a non-email username is unconfirmed; INVALID_EMAIL_ADDRESS is used.
    throw new SfError('INVALID_EMAIL_ADDRESS', `Username: invalid email address: ${username}`, ['Username']);
  }
  const hit = ctx.world.findUsername(username);
  if (hit && hit.rec.Id !== selfId) {
    throw new SfError(
      'DUPLICATE_USERNAME',
      "Duplicate Username.<br>The username already exists in this or another Salesforce organization. Usernames must be unique across all Salesforce organizations. To resolve, use a different username (it doesn't need to match the user's email address).",
      ['Username'],
    );
  }
}

function checkSeat(ctx: Ctx, profileId: string, selfId?: string): void {
  const org = ctx.org;
  const profile = org.table('Profile').get(profileId);
  const lic = profile ? org.table('UserLicense').get(profile.UserLicenseId as string) : undefined;
  if (!lic) return;
  if (activeUsersOnLicense(org, lic.Id as string, selfId) >= licenseTotal(org, lic)) {
    throw new SfError('LICENSE_LIMIT_EXCEEDED', `License Limit Exceeded: ${String(lic.Name)}`);
  }
}

// ------------------------------------------------------------------ rules per object

export const RULES: Record<string, Rules> = {
  User: {
    insert(ctx, rec) {
      requirePerm(ctx, 'PermissionsManageUsers');
      checkUsername(ctx, rec.Username as string);
      if (rec.IsActive) checkSeat(ctx, rec.ProfileId as string);
      const nick =
        (rec.CommunityNickname as string | null) ??
        `${String(rec.Username).split('@')[0]!.slice(0, 30)}${Math.floor(Math.random() * 1e6)}`;
      for (const u of ctx.org.rows('User')) {
        if (String(u.CommunityNickname).toLowerCase() === nick.toLowerCase()) {
          throw new SfError('DUPLICATE_COMMUNITY_NICKNAME', 'The nickname you entered has already been taken.', [
            'CommunityNickname',
          ]);
        }
      }
      rec.CommunityNickname = nick;
      rec.UserType = 'Standard';
      rec.Name = [rec.FirstName, rec.LastName].filter(Boolean).join(' ');
    },
    afterInsert(ctx, rec) {
      // The profile-owned permission set is assigned implicitly, as in real orgs.
      const ps = [...ctx.org.rows('PermissionSet')].find((p) => p.ProfileId === rec.ProfileId);
      if (!ps) return;
      const t = ctx.world.clock.iso();
      ctx.org.insert('PermissionSetAssignment', {
        Id: ctx.world.ids.next('0Pa'),
        AssigneeId: rec.Id,
        PermissionSetId: ps.Id,
        PermissionSetGroupId: null,
        IsActive: true,
        ExpirationDate: null,
        CreatedDate: t,
        CreatedById: ctx.userId,
        LastModifiedDate: t,
        LastModifiedById: ctx.userId,
        SystemModstamp: t,
      });
    },
    update(ctx, old, ch) {
      requirePerm(ctx, 'PermissionsManageUsers');
      if (typeof ch.Username === 'string') checkUsername(ctx, ch.Username, old.Id as string);
      const active = (ch.IsActive ?? old.IsActive) as boolean;
      const profileId = (ch.ProfileId ?? old.ProfileId) as string;
      if (active && (!old.IsActive || profileId !== old.ProfileId)) checkSeat(ctx, profileId, old.Id as string);
      if (old.Id === ctx.userId && ch.IsActive === false) {
        throw new SfError('FIELD_INTEGRITY_EXCEPTION', 'You cannot deactivate yourself.', ['IsActive']);
      }
      if ('FirstName' in ch || 'LastName' in ch) {
        ch.Name = [ch.FirstName ?? old.FirstName, ch.LastName ?? old.LastName].filter(Boolean).join(' ');
      }
    },
  },

  PermissionSet: {
    insert(ctx, rec) {
      requirePerm(ctx, 'PermissionsManageProfilesPermissionsets');
      checkPsName(ctx, rec.Name as string);
      Object.assign(rec, { IsOwnedByProfile: false, IsCustom: true, Type: 'Regular', ProfileId: null });
    },
    update(ctx, old, ch) {
      requirePerm(ctx, 'PermissionsManageProfilesPermissionsets');
      if (old.IsOwnedByProfile && ('Name' in ch || 'Label' in ch)) throw INSUFFICIENT();
      if (typeof ch.Name === 'string') checkPsName(ctx, ch.Name, old.Id as string);
    },
    remove(ctx, rec) {
      requirePerm(ctx, 'PermissionsManageProfilesPermissionsets');
      if (rec.IsOwnedByProfile) {
        throw new SfError('DELETE_FAILED', 'You can’t delete a permission set that is owned by a profile.');
      }
      const assigned = assigneesOf(ctx.org, rec.Id as string);
      if (assigned.length) {
        // (choice) exact API code unconfirmed (docs 2); DELETE_FAILED chosen, refusing even for inactive assignees.
        throw new SfError(
          'DELETE_FAILED',
          `Your attempt to delete ${String(rec.Label)} could not be completed because it is associated with the following permission set assignments: ${assigned.map((u) => String(u.Username)).join(', ')}`,
        );
      }
      for (const child of ['ObjectPermissions', 'FieldPermissions', 'SetupEntityAccess']) {
        for (const r of [...ctx.org.rows(child)]) if (r.ParentId === rec.Id) ctx.org.remove(child, r.Id as string);
      }
    },
  },

  ObjectPermissions: {
    insert(ctx, rec) {
      requirePerm(ctx, 'PermissionsManageProfilesPermissionsets');
      const o = grantableObject(ctx.org, rec.SobjectType, 'SobjectType');
      rec.SobjectType = o.name;
      for (const r of ctx.org.rows('ObjectPermissions')) {
        if (r.ParentId === rec.ParentId && r.SobjectType === o.name) throw dup(r.Id);
      }
      checkObjDeps(rec);
      for (const u of assigneesOf(ctx.org, rec.ParentId as string))
        checkLicenseAllows(ctx.org, u, rec.ParentId as string, rec);
    },
    update(ctx, old, ch) {
      requirePerm(ctx, 'PermissionsManageProfilesPermissionsets');
      const merged = { ...old, ...ch };
      checkObjDeps(merged);
      for (const u of assigneesOf(ctx.org, old.ParentId as string))
        checkLicenseAllows(ctx.org, u, old.ParentId as string, merged);
    },
    remove(ctx) {
      requirePerm(ctx, 'PermissionsManageProfilesPermissionsets');
    },
  },

  FieldPermissions: {
    insert(ctx, rec) {
      requirePerm(ctx, 'PermissionsManageProfilesPermissionsets');
      const o = grantableObject(ctx.org, rec.SobjectType, 'SobjectType');
      rec.SobjectType = o.name;
      const [objPart, fieldPart, ...rest] = String(rec.Field).split('.');
      let fd = fieldPart ? o.fieldMap.get(fieldPart.toLowerCase()) : undefined;
      // API 50+: lookups may be named without the Id suffix (Contact.Account ≡ Contact.AccountId).
      if (!fd && fieldPart) {
        const withId = o.fieldMap.get(`${fieldPart.toLowerCase()}id`);
        if (withId?.type === 'reference') fd = withId;
      }
      // (choice) a non-existent or non-permissionable field fails as a restricted-picklist value (docs 1.5).
      if (!fd || rest.length || objPart?.toLowerCase() !== o.name.toLowerCase() || !fd.permissionable) {
        throw restrictedPicklist({ label: 'Field Name', name: 'Field' }, rec.Field);
      }
      rec.Field = `${o.name}.${fd.name}`;
      for (const r of ctx.org.rows('FieldPermissions')) {
        if (r.ParentId === rec.ParentId && r.Field === rec.Field) throw dup(r.Id);
      }
      checkFieldDeps(rec, fd);
    },
    keep: (rec) => rec.PermissionsRead === true,
    update(ctx, old, ch) {
      requirePerm(ctx, 'PermissionsManageProfilesPermissionsets');
      const o = ctx.org.schema.get(old.SobjectType as string)!;
      const fd = o.fieldMap.get(String(old.Field).split('.')[1]!.toLowerCase())!;
      checkFieldDeps({ ...old, ...ch }, fd);
    },
    remove(ctx) {
      requirePerm(ctx, 'PermissionsManageProfilesPermissionsets');
    },
  },

  PermissionSetAssignment: {
    insert(ctx, rec) {
      requirePerm(ctx, 'PermissionsAssignPermissionSets', 'PermissionsManageUsers');
      if (rec.PermissionSetGroupId) {
        throw new SfError('INVALID_CROSS_REFERENCE_KEY', 'Permission Set Group ID: invalid cross reference id', [
          'PermissionSetGroupId',
        ]);
      }
      const org = ctx.org;
      const ps = org.table('PermissionSet').get(rec.PermissionSetId as string)!;
      const user = org.table('User').get(rec.AssigneeId as string)!;
      if (ps.IsOwnedByProfile) {
        throw new SfError('INVALID_CROSS_REFERENCE_KEY', 'Permission Set ID: invalid cross reference id', [
          'PermissionSetId',
        ]);
      }
      for (const a of org.rows('PermissionSetAssignment')) {
        if (a.AssigneeId === rec.AssigneeId && a.PermissionSetId === rec.PermissionSetId) {
          throw new SfError(
            'DUPLICATE_VALUE',
            `Duplicate PermissionSetAssignment. Assignment already exists: ${String(a.Id)}`,
          );
        }
      }
      const licId = ps.LicenseId as string | null;
      if (licId) {
        const userLic = licenseOfUser(org, user);
        if (licId.startsWith('100') && userLic?.Id !== licId) {
          throw new SfError(
            'FIELD_INTEGRITY_EXCEPTION',
            `The user license doesn't match the permission set license (${String(ps.Name)})`,
          );
        }
        if (licId.startsWith('0PL') && !hasPsl(org, user.Id as string, licId)) {
          throw new SfError(
            'FIELD_INTEGRITY_EXCEPTION',
            `The user doesn't have the permission set license required by ${String(ps.Name)}`,
          );
        }
      }
      checkLicenseAllows(org, user, ps.Id as string);
      rec.IsActive = true;
    },
    remove(ctx, rec) {
      requirePerm(ctx, 'PermissionsAssignPermissionSets', 'PermissionsManageUsers');
      const ps = ctx.org.table('PermissionSet').get(rec.PermissionSetId as string);
      if (ps?.IsOwnedByProfile) {
        // (choice) code unconfirmed; the profile-owned assignment can't be removed.
        throw new SfError('DELETE_FAILED', 'You can’t delete the permission set assignment of the user’s profile.');
      }
    },
  },

  PermissionSetLicenseAssign: {
    insert(ctx, rec) {
      requirePerm(ctx, 'PermissionsAssignPermissionSets', 'PermissionsManageUsers');
      const org = ctx.org;
      for (const a of org.rows('PermissionSetLicenseAssign')) {
        if (a.AssigneeId === rec.AssigneeId && a.PermissionSetLicenseId === rec.PermissionSetLicenseId) {
          throw dup(a.Id);
        }
      }
      const psl = org.table('PermissionSetLicense').get(rec.PermissionSetLicenseId as string)!;
      const user = org.table('User').get(rec.AssigneeId as string)!;
      if (psl.DeveloperName === INTEGRATION_PSL && licenseOfUser(org, user)?.Name !== INTEGRATION_LICENSE) {
        // (choice) stricter: the API Integration PSL only goes with the Salesforce Integration user license.
        throw new SfError(
          'FIELD_INTEGRITY_EXCEPTION',
          `The permission set license ${String(psl.MasterLabel)} isn't compatible with the user's license.`,
        );
      }
      const used = [...org.rows('PermissionSetLicenseAssign')].filter(
        (a) => a.PermissionSetLicenseId === psl.Id,
      ).length;
      if (used >= pslTotal(org, psl)) {
        throw new SfError('LICENSE_LIMIT_EXCEEDED', `License Limit Exceeded: ${String(psl.MasterLabel)}`);
      }
    },
    remove(ctx, rec) {
      requirePerm(ctx, 'PermissionsAssignPermissionSets', 'PermissionsManageUsers');
      // (choice) stricter: refuse while the user still holds a permission set that needs this license.
      const org = ctx.org;
      const psl = org.table('PermissionSetLicense').get(rec.PermissionSetLicenseId as string);
      const user = org.table('User').get(rec.AssigneeId as string);
      if (!psl || !user || psl.DeveloperName !== INTEGRATION_PSL) return;
      for (const a of org.rows('PermissionSetAssignment')) {
        if (a.AssigneeId !== user.Id) continue;
        const ps = org.table('PermissionSet').get(a.PermissionSetId as string);
        if (ps && !ps.IsOwnedByProfile && firstObjectGrant(org, ps.Id as string)) {
          throw new SfError(
            'FIELD_INTEGRITY_EXCEPTION',
            `Can't remove the permission set license: the user is assigned permission set ${String(ps.Name)}, which requires it.`,
          );
        }
      }
    },
  },

  SetupEntityAccess: {
    insert(ctx, rec) {
      requirePerm(ctx, 'PermissionsManageProfilesPermissionsets');
      for (const r of ctx.org.rows('SetupEntityAccess')) {
        if (r.ParentId === rec.ParentId && r.SetupEntityId === rec.SetupEntityId) throw dup(r.Id);
      }
      rec.SetupEntityType = ctx.org.find(rec.SetupEntityId as string)!.obj;
    },
    remove(ctx) {
      requirePerm(ctx, 'PermissionsManageProfilesPermissionsets');
    },
  },

  TransactionSecurityPolicy: {
    // "To create, edit, and manage transaction security policies: Customize Application".
    insert(ctx, rec) {
      requirePerm(ctx, 'PermissionsCustomizeApplication');
      checkPolicy(ctx, rec);
    },
    update(ctx, old, ch) {
      requirePerm(ctx, 'PermissionsCustomizeApplication');
      checkPolicy(ctx, { ...old, ...ch });
    },
    remove(ctx) {
      requirePerm(ctx, 'PermissionsCustomizeApplication');
    },
  },

  Contact: {
    insert: (_ctx, rec) => void (rec.Name = [rec.FirstName, rec.LastName].filter(Boolean).join(' ')),
    update: (_ctx, old, ch) =>
      void (ch.Name = [ch.FirstName ?? old.FirstName, ch.LastName ?? old.LastName].filter(Boolean).join(' ')),
  },
  Lead: {
    insert: (_ctx, rec) => {
      rec.Name = [rec.FirstName, rec.LastName].filter(Boolean).join(' ');
      rec.Status ??= 'Open - Not Contacted';
    },
    update: (_ctx, old, ch) =>
      void (ch.Name = [ch.FirstName ?? old.FirstName, ch.LastName ?? old.LastName].filter(Boolean).join(' ')),
  },
  Opportunity: {
    insert: (_ctx, rec) => oppStage(rec),
    update: (_ctx, old, ch) => {
      if ('StageName' in ch || 'Amount' in ch) {
        const m = { ...old, ...ch };
        oppStage(m);
        Object.assign(ch, { IsClosed: m.IsClosed, IsWon: m.IsWon, ExpectedRevenue: m.ExpectedRevenue });
      }
    },
  },
};

function oppStage(rec: Rec): void {
  rec.IsClosed = String(rec.StageName).startsWith('Closed');
  rec.IsWon = rec.StageName === 'Closed Won';
  rec.ExpectedRevenue = typeof rec.Amount === 'number' ? rec.Amount * ((Number(rec.Probability) || 0) / 100) : null;
}

export function pslTotal(org: Org, psl: Rec): number {
  return psl.DeveloperName === INTEGRATION_PSL ? org.settings.integrationLicenses : (psl.TotalLicenses as number);
}

function checkPolicy(ctx: Ctx, rec: Rec): void {
  if (!isApiName(String(rec.DeveloperName)))
    throw new SfError('FIELD_INTEGRITY_EXCEPTION', API_NAME_MESSAGE, ['DeveloperName']);
  for (const p of ctx.org.rows('TransactionSecurityPolicy')) {
    if (p.Id !== rec.Id && String(p.DeveloperName).toLowerCase() === String(rec.DeveloperName).toLowerCase())
      throw new SfError('DUPLICATE_DEVELOPER_NAME', `The name ${String(rec.DeveloperName)} is already in use.`, [
        'DeveloperName',
      ]);
  }
  if (!policyAction(rec.ActionConfig)) {
    throw new SfError(
      'FIELD_INTEGRITY_EXCEPTION',
      'ActionConfig: expected a JSON object such as {"block":true,"notifications":[]}',
      ['ActionConfig'],
    );
  }
}

function checkPsName(ctx: Ctx, name: string, selfId?: string): void {
  if (!isApiName(name)) throw new SfError('FIELD_INTEGRITY_EXCEPTION', API_NAME_MESSAGE, ['Name']);
  for (const ps of ctx.org.rows('PermissionSet')) {
    if (ps.Id !== selfId && String(ps.Name).toLowerCase() === name.toLowerCase()) {
      throw new SfError(
        'DUPLICATE_DEVELOPER_NAME',
        `The API name "${name}" is already in use by another permission set.`,
        ['Name'],
      );
    }
  }
}

function checkObjDeps(rec: Rec): void {
  for (const [perm, needs] of OBJ_DEPS) {
    if (rec[perm] !== true) continue;
    const missing = needs.filter((n) => rec[n] !== true);
    if (missing.length) {
      // (choice) Salesforce may auto-enable dependencies in the UI; the API refuses here (stricter).
      throw new SfError(
        'FIELD_INTEGRITY_EXCEPTION',
        `Permission ${permLabel(perm)} ${String(rec.SobjectType)} depends on permission(s): ${missing.map((m) => `${permLabel(m)} ${String(rec.SobjectType)}`).join(', ')}`,
        [perm],
      );
    }
  }
}

function checkFieldDeps(rec: Rec, fd: FieldDef): void {
  if (rec.PermissionsEdit === true && rec.PermissionsRead !== true) {
    throw new SfError(
      'FIELD_INTEGRITY_EXCEPTION',
      `Permission Edit ${String(rec.Field)} depends on permission(s): Read ${String(rec.Field)}`,
      ['PermissionsEdit'],
    );
  }
  if (rec.PermissionsEdit === true && (!fd.updateable || fd.calculated)) {
    throw new SfError(
      'FIELD_INTEGRITY_EXCEPTION',
      `Field ${String(rec.Field)} is not editable; only Read can be granted.`,
      ['PermissionsEdit'],
    );
  }
}
