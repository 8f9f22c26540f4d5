/**
 * External Client Apps: the header (ExternalClientApplication), its switches (ExtlClntAppConfigurablePolicies: the app
 * and each plugin on or off) and its three OAuth settings types, one of each per app, the OAuth settings first
 * (ExtlClntAppOauthSettings, ExtlClntAppGlobalOauthSettings with the certificate and consumer key,
 * ExtlClntAppOauthConfigurablePolicies with the pre-authorization).
 */
import type { Ctx } from '../engine';
import type { MetaComponent, Org, Rec } from '../state';
import {
  checkCertificate,
  checkConsumerKey,
  checkLabelAndContact,
  checkPicklist,
  checkReferences,
  checkScopes,
  commaList,
  newConsumerKey,
  required,
  saveErr,
} from './checks';
import { dropRuntime, insertRuntime, revokeTokens, runtimeRows, type ComponentHandler, type Draft } from './component';

const SETTINGS_TYPES = [
  'ExtlClntAppConfigurablePolicies',
  'ExtlClntAppOauthSettings',
  'ExtlClntAppGlobalOauthSettings',
  'ExtlClntAppOauthConfigurablePolicies',
] as const;

/** The External Client App settings types, as messages name them. */
const SETTINGS_LABELS: Record<string, string> = {
  ExtlClntAppConfigurablePolicies: 'plugin policies',
  ExtlClntAppOauthSettings: 'OAuth settings',
  ExtlClntAppGlobalOauthSettings: 'global OAuth settings',
  ExtlClntAppOauthConfigurablePolicies: 'OAuth policies',
};

const runtimeTag = (ecaName: string): string => `ECA:${ecaName.toLowerCase()}`;
const belongsTo = (c: MetaComponent, ecaName: string): boolean =>
  String(c.data.externalClientApplication).toLowerCase() === ecaName.toLowerCase();

function childrenOf(org: Org, ecaName: string): MetaComponent[] {
  const out: MetaComponent[] = [];
  for (const t of SETTINGS_TYPES) {
    for (const c of org.meta.get(t)?.values() ?? []) if (belongsTo(c, ecaName)) out.push(c);
  }
  return out;
}

function siblingOf(org: Org, type: string, ecaName: string, exceptFullName?: string): MetaComponent | undefined {
  for (const c of org.meta.get(type)?.values() ?? []) {
    if (belongsTo(c, ecaName) && c.fullName !== exceptFullName) return c;
  }
  return undefined;
}

function requireHeader(org: Org, data: Rec): MetaComponent {
  const name = data.externalClientApplication;
  if (typeof name !== 'string' || !name) {
    throw saveErr('REQUIRED_FIELD_MISSING', 'Required field is missing: externalClientApplication', [
      'externalClientApplication',
    ]);
  }
  const h = org.getMeta('ExternalClientApplication', name);
  if (!h) {
    throw saveErr(
      'INVALID_CROSS_REFERENCE_KEY',
      `In field: externalClientApplication - no ExternalClientApplication named ${name} found`,
      ['externalClientApplication'],
    );
  }
  return h;
}

/**
 * The External Client App that settings of `type` belong to: it must exist and cannot change, holds one component of
 * each settings type, and gets its OAuth settings before the other two. Writes the app's exact name into `data`.
 */
function settingsHeader(org: Org, type: string, data: Rec, existing: MetaComponent | undefined): MetaComponent {
  const h = requireHeader(org, data);
  data.externalClientApplication = h.fullName;
  if (existing && existing.data.externalClientApplication !== h.fullName) {
    throw saveErr('FIELD_INTEGRITY_EXCEPTION', 'externalClientApplication can not be changed', [
      'externalClientApplication',
    ]);
  }
  const label = SETTINGS_LABELS[type]!;
  if (type !== 'ExtlClntAppOauthSettings' && !siblingOf(org, 'ExtlClntAppOauthSettings', h.fullName)) {
    // (choice) stricter: the OAuth settings must exist before the global OAuth settings and the policies (docs 3).
    throw saveErr(
      'FIELD_INTEGRITY_EXCEPTION',
      `Create the OAuth settings (ExtlClntAppOauthSettings) of ${h.fullName} before its ${label}.`,
      ['externalClientApplication'],
    );
  }
  const sib = siblingOf(org, type, h.fullName, existing?.fullName);
  if (sib)
    throw saveErr('DUPLICATE_VALUE', `External client app ${h.fullName} already has ${label}: ${sib.fullName}`, [
      'externalClientApplication',
    ]);
  return h;
}

// ------------------------------------------------------------------ ExternalClientApplication (the header)

function saveHeader(ctx: Ctx, d: Draft): void {
  const { org, world } = ctx;
  const { data, existing } = d;
  const fullName = d.comp.fullName;
  checkLabelAndContact(data);
  data.distributionState ??= 'Local';
  checkPicklist(data, 'distributionState', ['Local', 'Packaged']);
  const scoped = `${org.id.slice(0, 15)}:${fullName}`;
  if (
    data.orgScopedExternalApp !== undefined &&
    data.orgScopedExternalApp !== scoped &&
    data.orgScopedExternalApp !== (existing?.data.orgScopedExternalApp ?? scoped)
  ) {
    throw saveErr('FIELD_INTEGRITY_EXCEPTION', `orgScopedExternalApp: expected ${scoped}`, ['orgScopedExternalApp']);
  }
  data.orgScopedExternalApp = scoped;
  if (existing) {
    org.patch('ExternalClientApplication', existing.id, {
      MasterLabel: data.label,
      DistributionState: data.distributionState,
    });
    const ca = runtimeRows(ctx, runtimeTag(existing.fullName))[0];
    if (ca) org.patch('ConnectedApplication', ca.Id as string, { Name: data.label });
    return;
  }
  d.comp.id = world.ids.next('0xI');
  insertRuntime(ctx, 'ExternalClientApplication', {
    Id: d.comp.id,
    DeveloperName: fullName,
    MasterLabel: data.label,
    DistributionState: data.distributionState,
  });
  insertRuntime(ctx, 'ConnectedApplication', {
    Id: world.ids.next('0H4'),
    Name: data.label,
    OptionsAllowAdminApprovedUsersOnly: false,
    OptionsRefreshTokenValidityMetric: false,
    StartUrl: null,
    MobileStartUrl: null,
    _visibleAt: d.t + d.delay,
    _app: runtimeTag(fullName),
  });
}

function removeHeader(ctx: Ctx, comp: MetaComponent): void {
  const { org } = ctx;
  if (childrenOf(org, comp.fullName).length) {
    // (choice) stricter: the header can't go while its settings/policies exist (unless removed in the same deploy).
    throw saveErr(
      'DELETE_FAILED',
      `Cannot delete external client app ${comp.fullName}: delete its plugin policies, OAuth settings, global OAuth settings and OAuth policies first.`,
    );
  }
  dropRuntime(ctx, runtimeTag(comp.fullName));
  for (const sea of [...org.rows('SetupEntityAccess')])
    if (sea.SetupEntityId === comp.id) org.remove('SetupEntityAccess', sea.Id as string);
  org.remove('ExternalClientApplication', comp.id);
}

export const externalClientApp: ComponentHandler = { save: saveHeader, remove: removeHeader };

// ------------------------------------------------------------------ the settings types

function saveOauthSettings(ctx: Ctx, d: Draft): void {
  const { org } = ctx;
  const { data, existing } = d;
  const h = settingsHeader(org, 'ExtlClntAppOauthSettings', data, existing);
  checkScopes(commaList(data.commaSeparatedOauthScopes), 'commaSeparatedOauthScopes');
  const link = `${org.id.slice(0, 15)}:${h.fullName}`;
  if (data.oauthLink !== undefined && data.oauthLink !== link && data.oauthLink !== existing?.data.oauthLink) {
    throw saveErr('FIELD_INTEGRITY_EXCEPTION', 'oauthLink: invalid value; omit it on create (it is generated).', [
      'oauthLink',
    ]);
  }
  data.oauthLink = existing?.data.oauthLink ?? link;
  if (existing) d.changed ||= existing.data.commaSeparatedOauthScopes !== data.commaSeparatedOauthScopes;
}

export const oauthSettings: ComponentHandler = { save: saveOauthSettings };

function saveGlobalOauthSettings(ctx: Ctx, d: Draft): void {
  const { data, existing } = d;
  settingsHeader(ctx.org, 'ExtlClntAppGlobalOauthSettings', data, existing);
  required(data, 'callbackUrl');
  checkCertificate(data.certificate);
  if (!existing) {
    if (data.consumerKey !== undefined) checkConsumerKey(ctx.world, data.consumerKey, 'consumerKey');
    else data.consumerKey = newConsumerKey();
    return;
  }
  if (data.consumerKey !== undefined && data.consumerKey !== existing.data.consumerKey) {
    throw saveErr(
      'FIELD_INTEGRITY_EXCEPTION',
      'consumerKey: the consumer key can only be set when the app is created.',
      ['consumerKey'],
    );
  }
  data.consumerKey = existing.data.consumerKey;
  if (data.consumerSecret === undefined && existing.data.consumerSecret !== undefined)
    data.consumerSecret = existing.data.consumerSecret;
  d.changed ||= existing.data.certificate !== data.certificate;
}

export const globalOauthSettings: ComponentHandler = {
  save: saveGlobalOauthSettings,
  remove: (ctx, comp) => revokeTokens(ctx, comp.data.consumerKey),
};

function saveOauthPolicies(ctx: Ctx, d: Draft): void {
  const { org } = ctx;
  const { data, existing } = d;
  const h = settingsHeader(org, 'ExtlClntAppOauthConfigurablePolicies', data, existing);
  checkPicklist(data, 'permittedUsersPolicyType', ['AdminApprovedPreAuthorized', 'AllSelfAuthorized']);
  checkPicklist(data, 'ipRelaxationPolicyType', ['Enforce', 'Bypass', 'Bypass_2factor', 'Enforce_RelaxRefresh']);
  data.permittedUsersPolicyType ??= 'AllSelfAuthorized';
  checkReferences(org, 'commaSeparatedPermissionSet', 'PermissionSet', commaList(data.commaSeparatedPermissionSet));
  checkReferences(org, 'commaSeparatedProfile', 'Profile', commaList(data.commaSeparatedProfile));
  if (existing) d.changed ||= JSON.stringify(existing.data) !== JSON.stringify(data);
  const ca = runtimeRows(ctx, runtimeTag(h.fullName))[0];
  if (ca)
    org.patch('ConnectedApplication', ca.Id as string, {
      OptionsAllowAdminApprovedUsersOnly: data.permittedUsersPolicyType === 'AdminApprovedPreAuthorized',
    });
}

export const oauthPolicies: ComponentHandler = { save: saveOauthPolicies };

// ------------------------------------------------------------------ ExtlClntAppConfigurablePolicies (the switches)

/**
 * The app's switches (Metadata API Developer Guide, "ExtlClntAppConfigurablePolicies", API 60+): `isEnabled` (required;
 * false turns every plugin off) and `isOauthPluginEnabled` (default true). An app whose OAuth plugin is off issues no
 * token (oauth.ts). Salesforce documents both defaults as true and the policies as "generated with default values"
 * when an app is deployed; whether an app deployed without this component gets one is not documented, so the emulator
 * generates none and treats a missing component as the documented defaults (both on).
 */
function saveAppPolicies(ctx: Ctx, d: Draft): void {
  const { org } = ctx;
  const { data, existing } = d;
  const h = requireHeader(org, data);
  data.externalClientApplication = h.fullName;
  if (existing && existing.data.externalClientApplication !== h.fullName) {
    throw saveErr('FIELD_INTEGRITY_EXCEPTION', 'externalClientApplication can not be changed', [
      'externalClientApplication',
    ]);
  }
  if (typeof data.isEnabled !== 'boolean') {
    // (choice) the docs mark isEnabled "Required" while giving it a default; a component without it is refused.
    throw saveErr('REQUIRED_FIELD_MISSING', 'Required field is missing: isEnabled', ['isEnabled']);
  }
  data.isOauthPluginEnabled ??= true;
  const sib = siblingOf(org, 'ExtlClntAppConfigurablePolicies', h.fullName, existing?.fullName);
  if (sib) {
    throw saveErr('DUPLICATE_VALUE', `External client app ${h.fullName} already has plugin policies: ${sib.fullName}`, [
      'externalClientApplication',
    ]);
  }
  const on = (r: Rec): boolean => r.isEnabled !== false && r.isOauthPluginEnabled !== false;
  if (existing && on(existing.data) !== on(data)) {
    // Switching the OAuth plugin back on propagates like any other change; switching it off revokes the app's tokens
    // at once ((choice) stricter: Salesforce does not document what happens to issued tokens).
    d.changed = true;
    if (!on(data)) revokeTokens(ctx, siblingOf(org, 'ExtlClntAppGlobalOauthSettings', h.fullName)?.data.consumerKey);
  }
}

export const appPolicies: ComponentHandler = { save: saveAppPolicies };
