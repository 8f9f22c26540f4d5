/** ConnectedApp: blocked for creation since Spring '26 unless the org allows it; its ConnectedApplication row. */
import { userPerms, type Ctx } from '../engine';
import { str } from '../ids';
import type { MetaComponent, Rec, World } from '../state';
import {
  checkCertificate,
  checkConsumerKey,
  checkLabelAndContact,
  checkReferences,
  checkScopes,
  newConsumerKey,
  required,
  saveErr,
} from './checks';
import { dropRuntime, insertRuntime, revokeTokens, type ComponentHandler, type Draft } from './component';

export const CONNECTED_APP_BLOCKED =
  "You can't create a connected app. As of Spring '26, new connected apps can no longer be created in this org; create an External Client App instead, or contact Salesforce Support to allow connected app creation.";

function requireCustomizeApplication(ctx: Ctx): void {
  if (!userPerms(ctx.org, ctx.userId).PermissionsCustomizeApplication) {
    throw saveErr(
      'INSUFFICIENT_ACCESS',
      'insufficient access rights: Customize Application is required to manage connected apps',
    );
  }
}

/** oauthConfig: a callback URL, a valid certificate and scopes; the consumer key and secret are set at creation only. */
function checkOauthConfig(world: World, oc: Rec, prevOc: Rec, existing: boolean): void {
  required(oc, 'callbackUrl');
  checkCertificate(oc.certificate);
  checkScopes((oc.scopes as string[] | undefined) ?? [], 'scopes');
  if (existing) {
    if (oc.consumerKey !== undefined && oc.consumerKey !== prevOc.consumerKey) {
      throw saveErr(
        'FIELD_INTEGRITY_EXCEPTION',
        'consumerKey: the consumer key can only be set when the connected app is created.',
        ['consumerKey'],
      );
    }
    if (oc.consumerSecret !== undefined && oc.consumerSecret !== prevOc.consumerSecret) {
      throw saveErr(
        'FIELD_INTEGRITY_EXCEPTION',
        'consumerSecret: the consumer secret can only be set when the connected app is created.',
        ['consumerSecret'],
      );
    }
    oc.consumerKey = prevOc.consumerKey;
    if (prevOc.consumerSecret !== undefined) oc.consumerSecret = prevOc.consumerSecret;
  } else if (oc.consumerKey !== undefined) checkConsumerKey(world, oc.consumerKey, 'consumerKey');
  else oc.consumerKey = newConsumerKey();
  if (oc.consumerSecret !== undefined && !/^[A-Za-z0-9]{8,}$/.test(str(oc.consumerSecret))) {
    throw saveErr('FIELD_INTEGRITY_EXCEPTION', 'consumerSecret: must be at least 8 alphanumeric characters.', [
      'consumerSecret',
    ]);
  }
}

/** The pre-authorized permission sets and profiles (they need admin approval); written back without blanks. */
function checkPreauthorization(ctx: Ctx, data: Rec, oc: Rec | undefined): void {
  const psNames = (data.permissionSetName as string[] | undefined)?.filter((n) => n !== '') ?? [];
  const profNames = (data.profileName as string[] | undefined)?.filter((n) => n !== '') ?? [];
  if ((psNames.length || profNames.length) && oc?.isAdminApproved !== true) {
    throw saveErr(
      'FIELD_INTEGRITY_EXCEPTION',
      'permissionSetName/profileName require oauthConfig.isAdminApproved = true.',
      ['permissionSetName'],
    );
  }
  checkReferences(ctx.org, 'permissionSetName', 'PermissionSet', psNames);
  checkReferences(ctx.org, 'profileName', 'Profile', profNames);
  data.permissionSetName = psNames;
  data.profileName = profNames;
}

/** A change of certificate, admin approval or pre-authorization restarts propagation. */
function propagationChanged(prev: Rec, prevOc: Rec, data: Rec, oc: Rec | undefined): boolean {
  return (
    JSON.stringify(prevOc.certificate) !== JSON.stringify(oc?.certificate) ||
    JSON.stringify(prevOc.isAdminApproved) !== JSON.stringify(oc?.isAdminApproved) ||
    JSON.stringify(prev.permissionSetName) !== JSON.stringify(data.permissionSetName) ||
    JSON.stringify(prev.profileName) !== JSON.stringify(data.profileName)
  );
}

function save(ctx: Ctx, d: Draft): void {
  const { org, world } = ctx;
  const { data, existing } = d;
  requireCustomizeApplication(ctx);
  if (!existing && !org.settings.allowConnectedAppCreation) {
    // (choice) exact code unconfirmed (docs 3, 8.1): FIELD_INTEGRITY_EXCEPTION with an explicit message.
    throw saveErr('FIELD_INTEGRITY_EXCEPTION', CONNECTED_APP_BLOCKED);
  }
  checkLabelAndContact(data);
  const oc = data.oauthConfig as Rec | undefined;
  const prevOc = (existing?.data.oauthConfig ?? {}) as Rec;
  if (oc) checkOauthConfig(world, oc, prevOc, existing !== undefined);
  else if (existing && prevOc.consumerKey) data.oauthConfig = { ...prevOc, certificate: undefined };
  checkPreauthorization(ctx, data, oc);
  const adminApproved = oc?.isAdminApproved === true;
  if (existing) {
    d.changed ||= propagationChanged(existing.data, prevOc, data, oc);
    org.patch('ConnectedApplication', existing.id, {
      Name: data.label,
      OptionsAllowAdminApprovedUsersOnly: adminApproved,
    });
    return;
  }
  d.comp.id = world.ids.next('0H4');
  insertRuntime(ctx, 'ConnectedApplication', {
    Id: d.comp.id,
    Name: data.label,
    OptionsAllowAdminApprovedUsersOnly: adminApproved,
    OptionsRefreshTokenValidityMetric: false,
    StartUrl: null,
    MobileStartUrl: null,
    _visibleAt: d.t + d.delay,
    _app: `ConnectedApp:${d.comp.fullName}`,
  });
}

function remove(ctx: Ctx, comp: MetaComponent): void {
  requireCustomizeApplication(ctx);
  dropRuntime(ctx, `ConnectedApp:${comp.fullName}`);
  revokeTokens(ctx, (comp.data.oauthConfig as Rec | undefined)?.consumerKey);
}

export const connectedApp: ComponentHandler = { save, remove };
