/**
 * Metadata API (SOAP) at {instanceUrl}/services/Soap/m/NN.0: createMetadata, readMetadata, updateMetadata,
 * upsertMetadata, deleteMetadata (≤10 components), deploy + checkDeployStatus, for ConnectedApp and the four
 * External Client App types. Business errors are returned inside HTTP 200 SaveResults; session/type/envelope errors
 * are SOAP faults (HTTP 500).
 */
import { X509Certificate, randomBytes } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import JSZip from 'jszip';
import { SfError } from './errors';
import { normalizeId, randomAlnum, str } from './ids';
import { isApiName, isEmail, requirePerm, userPerms, type Ctx } from './engine';
import { nowIso, type MetaComponent, type Org, type Rec, type World } from './state';

export const MD_NS = 'http://soap.sforce.com/2006/04/metadata';

export class SoapFault extends Error {
  constructor(
    public readonly faultcode: string,
    message: string,
  ) {
    super(message);
  }
}

export const sessionFault = (): SoapFault =>
  new SoapFault(
    'sf:INVALID_SESSION_ID',
    'INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: Illegal Session. Session not found, missing session hash',
  );

// ------------------------------------------------------------------ XML helpers

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

export function toXml(name: string, value: unknown): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => toXml(name, v)).join('');
  if (value === null) return `<${name} xsi:nil="true"/>`;
  if (typeof value === 'object') {
    const { ['@type']: xsiType, ...rest } = value as Rec;
    const attrs = typeof xsiType === 'string' ? ` xsi:type="${esc(xsiType)}"` : '';
    const inner = Object.entries(rest)
      .map(([k, v]) => toXml(k, v))
      .join('');
    return `<${name}${attrs}>${inner}</${name}>`;
  }
  return `<${name}>${esc(str(value))}</${name}>`;
}

const ENVELOPE_OPEN =
  '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ' +
  `xmlns="${MD_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`;

export function soapResponse(method: string, result: unknown, limit?: { current: number; limit: number }): string {
  const header = limit
    ? `<soapenv:Header><LimitInfoHeader><limitInfo><current>${limit.current}</current><limit>${limit.limit}</limit><type>API REQUESTS</type></limitInfo></LimitInfoHeader></soapenv:Header>`
    : '';
  return `${ENVELOPE_OPEN}${header}<soapenv:Body><${method}Response>${toXml('result', result)}</${method}Response></soapenv:Body></soapenv:Envelope>`;
}

export function soapFault(f: SoapFault): string {
  const code = f.faultcode.replace(/^[a-z]+:/, '');
  const detail = f.faultcode.startsWith('sf:')
    ? `<detail><sf:UnexpectedErrorFault xmlns:sf="${MD_NS}" xsi:type="sf:UnexpectedErrorFault"><sf:exceptionCode>${esc(code)}</sf:exceptionCode><sf:exceptionMessage>${esc(f.message)}</sf:exceptionMessage></sf:UnexpectedErrorFault></detail>`
    : '';
  return `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="${MD_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>${esc(f.faultcode)}</faultcode><faultstring>${esc(f.message)}</faultstring>${detail}</soapenv:Fault></soapenv:Body></soapenv:Envelope>`;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  removeNSPrefix: true,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
});

export interface SoapCall {
  method: string;
  sessionId?: string;
  args: Rec;
}

/** Parses a SOAP envelope; malformed input → soapenv:Client fault. */
export function parseEnvelope(raw: string): SoapCall {
  let doc: Rec;
  try {
    doc = parser.parse(raw, true) as Rec;
  } catch (e) {
    throw new SoapFault(
      'soapenv:Client',
      `Bad envelope: ${e instanceof Error ? e.message.split('\n')[0] : 'unparseable XML'}`,
    );
  }
  const env = doc.Envelope as Rec | undefined;
  const body = env && typeof env === 'object' ? (env.Body as Rec | undefined) : undefined;
  if (!body || typeof body !== 'object') {
    throw new SoapFault('soapenv:Client', 'Bad envelope: no SOAP Envelope/Body element');
  }
  const ops = Object.keys(body).filter((k) => !k.startsWith('@_'));
  if (ops.length !== 1)
    throw new SoapFault('soapenv:Client', 'Bad envelope: the Body must contain exactly one operation');
  const method = ops[0]!;
  const args = body[method];
  const header = env!.Header as Rec | undefined;
  const sh = header && typeof header === 'object' ? (header.SessionHeader as Rec | undefined) : undefined;
  const sessionId = sh && typeof sh === 'object' && typeof sh.sessionId === 'string' ? sh.sessionId : undefined;
  return { method, ...(sessionId ? { sessionId } : {}), args: args && typeof args === 'object' ? (args as Rec) : {} };
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined || v === '' ? [] : Array.isArray(v) ? v : [v]);

// ------------------------------------------------------------------ type definitions

type Kind = 's' | 'b' | 'i' | 'l' | 'o' | Record<string, unknown>;
type TypeDef = Record<string, Kind>;

const OAUTH_CONFIG: TypeDef = {
  assetTokenConfig: 'o',
  callbackUrl: 's',
  certificate: 's',
  consumerKey: 's',
  consumerSecret: 's',
  idTokenConfig: 'o',
  isAdminApproved: 'b',
  isClientCredentialEnabled: 'b',
  isCodeCredentialEnabled: 'b',
  isCodeCredentialPostOnly: 'b',
  isConsumerSecretOptional: 'b',
  isIntrospectAllTokens: 'b',
  isNamedUserJwtEnabled: 'b',
  isPkceRequired: 'b',
  isRefreshTokenRotationEnabled: 'b',
  isSecretRequiredForRefreshToken: 'b',
  isTokenExchangeEnabled: 'b',
  oauthClientCredentialUser: 's',
  scopes: 'l',
  singleLogoutUrl: 's',
};

const TYPES: Record<string, TypeDef> = {
  ConnectedApp: {
    fullName: 's',
    attributes: 'o',
    canvasConfig: 'o',
    contactEmail: 's',
    contactPhone: 's',
    description: 's',
    iconUrl: 's',
    infoUrl: 's',
    ipRanges: 'o',
    label: 's',
    logoUrl: 's',
    mobileStartUrl: 's',
    oauthConfig: OAUTH_CONFIG,
    oauthPolicy: { ipRelaxation: 's', isTokenExchangeEnabled: 'b', refreshTokenPolicy: 's', singleLogoutUrl: 's' },
    permissionSetName: 'l',
    profileName: 'l',
    samlConfig: 'o',
    sessionPolicy: 'o',
    startUrl: 's',
  },
  ExternalClientApplication: {
    fullName: 's',
    contactEmail: 's',
    contactPhone: 's',
    description: 's',
    distributionState: 's',
    iconUrl: 's',
    infoUrl: 's',
    isProtected: 'b',
    label: 's',
    logoUrl: 's',
    managedType: 's',
    orgScopedExternalApp: 's',
  },
  ExtlClntAppOauthSettings: {
    fullName: 's',
    commaSeparatedOauthScopes: 's',
    customAttributes: 'o',
    externalClientApplication: 's',
    label: 's',
    mobileStartUrl: 's',
    oauthLink: 's',
    singleLogoutUrl: 's',
    trustedIpRanges: 'o',
  },
  ExtlClntAppGlobalOauthSettings: {
    fullName: 's',
    callbackUrl: 's',
    certificate: 's',
    consumerKey: 's',
    consumerSecret: 's',
    externalClientApplication: 's',
    idTokenConfig: 'o',
    isClientCredentialsFlowEnabled: 'b',
    isCodeCredFlowEnabled: 'b',
    isCodeCredPostOnly: 'b',
    isConsumerSecretOptional: 'b',
    isDeviceFlowEnabled: 'b',
    isIntrospectAllTokens: 'b',
    isNamedUserJwtEnabled: 'b',
    isPkceRequired: 'b',
    isRefreshTokenRotationEnabled: 'b',
    isSecretRequiredForRefreshToken: 'b',
    isTokenExchangeEnabled: 'b',
    label: 's',
    shouldRotateConsumerKey: 'b',
    shouldRotateConsumerSecret: 'b',
  },
  ExtlClntAppOauthConfigurablePolicies: {
    fullName: 's',
    clientCredentialsFlowUser: 's',
    commaSeparatedCustomScopes: 's',
    commaSeparatedPermissionSet: 's',
    commaSeparatedProfile: 's',
    customAttributes: 'o',
    externalClientApplication: 's',
    ipRelaxationPolicyType: 's',
    isClientCredentialsFlowEnabled: 'b',
    isGuestCodeCredFlowEnabled: 'b',
    isTokenExchangeFlowEnabled: 'b',
    label: 's',
    permittedUsersPolicyType: 's',
    policyAction: 's',
    refreshTokenPolicyType: 's',
    refreshTokenValidityPeriod: 'i',
    refreshTokenValidityUnit: 's',
    requiredSessionLevel: 's',
    sessionTimeoutInMinutes: 'i',
    singleLogoutUrl: 's',
  },
};
export const METADATA_TYPES = Object.keys(TYPES);

export const DEPLOY_LAYOUT: Record<string, { folder: string; suffix: string }> = {
  ConnectedApp: { folder: 'connectedApps', suffix: 'connectedApp' },
  ExternalClientApplication: { folder: 'externalClientApps', suffix: 'eca' },
  ExtlClntAppOauthSettings: { folder: 'extlClntAppOauthSettings', suffix: 'ecaOauth' },
  ExtlClntAppGlobalOauthSettings: { folder: 'extlClntAppGlobalOauthSets', suffix: 'ecaGlblOauth' },
  ExtlClntAppOauthConfigurablePolicies: { folder: 'extlClntAppOauthPolicies', suffix: 'ecaOauthPlcy' },
};
/** Dependency order for creation; deletion goes in reverse. */
const ORDER = [
  'ExternalClientApplication',
  'ExtlClntAppOauthSettings',
  'ExtlClntAppGlobalOauthSettings',
  'ExtlClntAppOauthConfigurablePolicies',
  'ConnectedApp',
];

const SCOPES = new Set([
  'Api',
  'Basic',
  'Chatter',
  'CustomApplications',
  'CustomPermissions',
  'Full',
  'OpenID',
  'RefreshToken',
  'Web',
  'Wave',
  'Eclair',
  'Pardot',
  'Lightning',
  'Content',
  'CDPIngest',
  'CDPProfile',
  'CDPQuery',
  'Chatbot',
  'Address',
  'Email',
  'Phone',
  'Profile',
  'VisualforcePages',
  'OfflineAccess',
  'Forcedotcom',
  'InteractionsApi',
  'MCPApi',
  'AgentApi',
]);

/** Converts parsed XML into typed values; unknown elements are refused like Salesforce's schema validation. */
function typed(type: string, def: TypeDef, raw: unknown, path = type): Rec {
  const out: Rec = {};
  if (raw === '' || raw === undefined) return out;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SoapFault('soapenv:Client', `Element ${path} must be a complex type`);
  }
  for (const [k, v] of Object.entries(raw as Rec)) {
    if (k.startsWith('@_')) continue;
    const kind = def[k];
    if (!kind) {
      throw new SoapFault('soapenv:Client', `Element {${MD_NS}}${k} invalid at this location in type ${path}`);
    }
    const one = (x: unknown): unknown => {
      if (x !== null && typeof x === 'object' && (x as Rec)['@_nil'] === 'true') return null;
      if (kind === 'o') return x;
      if (typeof kind === 'object') return typed(type, kind as TypeDef, x, k);
      const s = typeof x === 'object' && x !== null ? (x as Rec)['#text'] : x;
      if (typeof s !== 'string') {
        throw new SoapFault('soapenv:Client', `Element {${MD_NS}}${k} must be a simple value in type ${path}`);
      }
      if (kind === 'b') {
        if (s !== 'true' && s !== 'false')
          throw new SoapFault('soapenv:Client', `'${s}' is not a valid value for the type xsd:boolean`);
        return s === 'true';
      }
      if (kind === 'i') {
        if (!/^-?\d+$/.test(s))
          throw new SoapFault('soapenv:Client', `'${s}' is not a valid value for the type xsd:int`);
        return Number(s);
      }
      return s;
    };
    if (kind === 'l') out[k] = asArray(v).map(one);
    else if (Array.isArray(v)) {
      if (kind !== 'o')
        throw new SoapFault('soapenv:Client', `Element {${MD_NS}}${k} may occur only once in type ${path}`);
      out[k] = v;
    } else out[k] = one(v);
  }
  return out;
}

// ------------------------------------------------------------------ validation

const saveErr = (statusCode: string, message: string, fields: string[] = []): SfError =>
  new SfError(statusCode, message, fields);

export function normalizeCertificate(cert: string): X509Certificate {
  const body = cert.includes('-----BEGIN')
    ? cert
    : `-----BEGIN CERTIFICATE-----\n${cert.replace(/\s+/g, '')}\n-----END CERTIFICATE-----\n`;
  return new X509Certificate(body);
}

function checkCertificate(cert: unknown): void {
  if (cert === undefined || cert === null) return;
  try {
    const x = normalizeCertificate(str(cert));
    const key = x.publicKey;
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    // (choice) RSA ≥ 2048 only (ECDSA not accepted for JWT bearer per docs 3).
    if (key.asymmetricKeyType !== 'rsa' || bits < 2048) throw new Error('not RSA-2048+');
  } catch {
    throw saveErr(
      'FIELD_INTEGRITY_EXCEPTION',
      'certificate: The certificate is not a valid PEM-encoded X.509 RSA (2048 bits or more) certificate.',
      ['certificate'],
    );
  }
}

const CONSUMER_KEY = /^[A-Za-z0-9]{8,256}$/;
const newConsumerKey = (): string => `3MVG9${randomAlnum(80, randomBytes)}`;

function checkConsumerKey(world: World, key: unknown, field: string): void {
  if (typeof key !== 'string' || !CONSUMER_KEY.test(key)) {
    throw saveErr('FIELD_INTEGRITY_EXCEPTION', `${field}: the consumer key must be 8 to 256 alphanumeric characters.`, [
      field,
    ]);
  }
  if (world.findConsumerKey(key)) throw saveErr('DUPLICATE_VALUE', 'The consumer key is already taken.', [field]);
}

function findPermissionSet(org: Org, ref: string): Rec | undefined {
  const id = normalizeId(ref);
  for (const ps of org.rows('PermissionSet')) {
    if (ps.IsOwnedByProfile) continue;
    if ((id && ps.Id === id) || String(ps.Name).toLowerCase() === ref.toLowerCase()) return ps;
  }
  return undefined;
}

function findProfile(org: Org, ref: string): Rec | undefined {
  const id = normalizeId(ref);
  for (const p of org.rows('Profile'))
    if ((id && p.Id === id) || String(p.Name).toLowerCase() === ref.toLowerCase()) return p;
  return undefined;
}

export const CONNECTED_APP_BLOCKED =
  "You can't create a connected app. As of Spring '26, new connected apps can no longer be created in this org; create an External Client App instead, or contact Salesforce Support to allow connected app creation.";

function childrenOf(org: Org, ecaName: string): MetaComponent[] {
  const out: MetaComponent[] = [];
  for (const t of ORDER.slice(1, 4)) {
    for (const c of org.meta.get(t)?.values() ?? []) {
      if (String(c.data.externalClientApplication).toLowerCase() === ecaName.toLowerCase()) out.push(c);
    }
  }
  return out;
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

function siblingOf(org: Org, type: string, ecaName: string, exceptFullName?: string): MetaComponent | undefined {
  for (const c of org.meta.get(type)?.values() ?? []) {
    if (
      String(c.data.externalClientApplication).toLowerCase() === ecaName.toLowerCase() &&
      c.fullName !== exceptFullName
    )
      return c;
  }
  return undefined;
}

const picklistError = (field: string, value: string): SfError =>
  saveErr('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `${field}: bad value for restricted picklist field: ${value}`, [
    field,
  ]);

/** A restricted picklist field: absent, or one of `values`. */
function checkPicklist(data: Rec, field: string, values: string[]): void {
  if (data[field] !== undefined && !values.includes(str(data[field]))) throw picklistError(field, str(data[field]));
}

function checkScopes(list: string[], field: string): void {
  for (const s of list) if (!SCOPES.has(s)) throw picklistError(field, s);
}

/** The names in a comma-separated field (External Client App scopes, permission sets, profiles). */
const commaList = (v: unknown): string[] =>
  str(v)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Every name is a permission set (not a profile's own) or a profile of the org, by name or id. */
function checkReferences(org: Org, field: string, kind: 'PermissionSet' | 'Profile', names: string[]): void {
  const find = kind === 'PermissionSet' ? findPermissionSet : findProfile;
  for (const n of names) {
    if (!find(org, n))
      throw saveErr('INVALID_CROSS_REFERENCE_KEY', `In field: ${field} - no ${kind} named ${n} found`, [field]);
  }
}

function required(data: Rec, ...names: string[]): void {
  for (const n of names) {
    if (data[n] === undefined || data[n] === null || data[n] === '') {
      throw saveErr('REQUIRED_FIELD_MISSING', `Required field is missing: ${n}`, [n]);
    }
  }
}

/** What a connected app and an External Client App both need: a label and a valid contact email. */
function checkLabelAndContact(data: Rec): void {
  required(data, 'label', 'contactEmail');
  if (!isEmail(String(data.contactEmail)))
    throw saveErr('INVALID_EMAIL_ADDRESS', `contactEmail: invalid email address: ${String(data.contactEmail)}`, [
      'contactEmail',
    ]);
}

/** The External Client App settings types, as messages name them. */
const SETTINGS_LABELS: Record<string, string> = {
  ExtlClntAppOauthSettings: 'OAuth settings',
  ExtlClntAppGlobalOauthSettings: 'global OAuth settings',
  ExtlClntAppOauthConfigurablePolicies: 'OAuth policies',
};

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

/** Validates and applies a create (existing=undefined) or an update; returns the stored component. */
function save(ctx: Ctx, type: string, data: Rec, existing: MetaComponent | undefined): void {
  const { org, world } = ctx;
  const fullName = data.fullName as string;
  const t = Date.now();
  let changed = !existing;
  const comp: MetaComponent = existing
    ? { ...existing, data, lastModifiedAt: nowIso(t) }
    : {
        type,
        fullName,
        id: '',
        data,
        createdAt: nowIso(t),
        createdById: ctx.userId,
        lastModifiedAt: nowIso(t),
        changedAt: t,
      };
  const delay = org.propagationDelay(ctx.opts.propagationDelayMs);

  switch (type) {
    case 'ConnectedApp': {
      const perms = userPerms(org, ctx.userId);
      if (!perms.PermissionsCustomizeApplication) {
        throw saveErr(
          'INSUFFICIENT_ACCESS',
          'insufficient access rights: Customize Application is required to manage connected apps',
        );
      }
      if (!existing && !org.settings.allowConnectedAppCreation) {
        // (choice) exact code unconfirmed (docs 3, 8.1): FIELD_INTEGRITY_EXCEPTION with an explicit message.
        throw saveErr('FIELD_INTEGRITY_EXCEPTION', CONNECTED_APP_BLOCKED);
      }
      checkLabelAndContact(data);
      const oc = data.oauthConfig as Rec | undefined;
      const prevOc = (existing?.data.oauthConfig ?? {}) as Rec;
      if (oc) {
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
      } else if (existing && prevOc.consumerKey) {
        data.oauthConfig = { ...prevOc, certificate: undefined };
      }
      const psNames = (data.permissionSetName as string[] | undefined)?.filter((n) => n !== '') ?? [];
      const profNames = (data.profileName as string[] | undefined)?.filter((n) => n !== '') ?? [];
      if ((psNames.length || profNames.length) && oc?.isAdminApproved !== true) {
        throw saveErr(
          'FIELD_INTEGRITY_EXCEPTION',
          'permissionSetName/profileName require oauthConfig.isAdminApproved = true.',
          ['permissionSetName'],
        );
      }
      checkReferences(org, 'permissionSetName', 'PermissionSet', psNames);
      checkReferences(org, 'profileName', 'Profile', profNames);
      data.permissionSetName = psNames;
      data.profileName = profNames;
      if (existing) {
        const prev = existing.data;
        changed ||=
          JSON.stringify(prevOc.certificate) !== JSON.stringify(oc?.certificate) ||
          JSON.stringify(prevOc.isAdminApproved) !== JSON.stringify(oc?.isAdminApproved) ||
          JSON.stringify(prev.permissionSetName) !== JSON.stringify(psNames) ||
          JSON.stringify(prev.profileName) !== JSON.stringify(profNames);
        org.patch('ConnectedApplication', existing.id, {
          Name: data.label,
          OptionsAllowAdminApprovedUsersOnly: oc?.isAdminApproved === true,
        });
      } else {
        comp.id = world.ids.next('0H4');
        insertRuntime(ctx, 'ConnectedApplication', {
          Id: comp.id,
          Name: data.label,
          OptionsAllowAdminApprovedUsersOnly: oc?.isAdminApproved === true,
          OptionsRefreshTokenValidityMetric: false,
          StartUrl: null,
          MobileStartUrl: null,
          _visibleAt: t + delay,
          _app: `ConnectedApp:${fullName}`,
        });
      }
      break;
    }
    case 'ExternalClientApplication': {
      checkLabelAndContact(data);
      data.distributionState ??= 'Local';
      checkPicklist(data, 'distributionState', ['Local', 'Packaged']);
      const scoped = `${org.id.slice(0, 15)}:${fullName}`;
      if (
        data.orgScopedExternalApp !== undefined &&
        data.orgScopedExternalApp !== scoped &&
        data.orgScopedExternalApp !== (existing?.data.orgScopedExternalApp ?? scoped)
      ) {
        throw saveErr('FIELD_INTEGRITY_EXCEPTION', `orgScopedExternalApp: expected ${scoped}`, [
          'orgScopedExternalApp',
        ]);
      }
      data.orgScopedExternalApp = scoped;
      if (existing) {
        org.patch('ExternalClientApplication', existing.id, {
          MasterLabel: data.label,
          DistributionState: data.distributionState,
        });
        const ca = [...org.rows('ConnectedApplication')].find(
          (r) => r._app === `ECA:${existing.fullName.toLowerCase()}`,
        );
        if (ca) org.patch('ConnectedApplication', ca.Id as string, { Name: data.label });
      } else {
        comp.id = world.ids.next('0xI');
        insertRuntime(ctx, 'ExternalClientApplication', {
          Id: comp.id,
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
          _visibleAt: t + delay,
          _app: `ECA:${fullName.toLowerCase()}`,
        });
      }
      break;
    }
    case 'ExtlClntAppOauthSettings': {
      const h = settingsHeader(org, type, data, existing);
      checkScopes(commaList(data.commaSeparatedOauthScopes), 'commaSeparatedOauthScopes');
      const link = `${org.id.slice(0, 15)}:${h.fullName}`;
      if (data.oauthLink !== undefined && data.oauthLink !== link && data.oauthLink !== existing?.data.oauthLink) {
        throw saveErr('FIELD_INTEGRITY_EXCEPTION', 'oauthLink: invalid value; omit it on create (it is generated).', [
          'oauthLink',
        ]);
      }
      data.oauthLink = existing?.data.oauthLink ?? link;
      if (existing) changed ||= existing.data.commaSeparatedOauthScopes !== data.commaSeparatedOauthScopes;
      break;
    }
    case 'ExtlClntAppGlobalOauthSettings': {
      settingsHeader(org, type, data, existing);
      required(data, 'callbackUrl');
      checkCertificate(data.certificate);
      if (existing) {
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
        changed ||= existing.data.certificate !== data.certificate;
      } else if (data.consumerKey !== undefined) checkConsumerKey(world, data.consumerKey, 'consumerKey');
      else data.consumerKey = newConsumerKey();
      break;
    }
    case 'ExtlClntAppOauthConfigurablePolicies': {
      const h = settingsHeader(org, type, data, existing);
      checkPicklist(data, 'permittedUsersPolicyType', ['AdminApprovedPreAuthorized', 'AllSelfAuthorized']);
      checkPicklist(data, 'ipRelaxationPolicyType', ['Enforce', 'Bypass', 'Bypass_2factor', 'Enforce_RelaxRefresh']);
      data.permittedUsersPolicyType ??= 'AllSelfAuthorized';
      checkReferences(org, 'commaSeparatedPermissionSet', 'PermissionSet', commaList(data.commaSeparatedPermissionSet));
      checkReferences(org, 'commaSeparatedProfile', 'Profile', commaList(data.commaSeparatedProfile));
      if (existing) changed ||= JSON.stringify(existing.data) !== JSON.stringify(data);
      const ca = [...org.rows('ConnectedApplication')].find((r) => r._app === `ECA:${h.fullName.toLowerCase()}`);
      if (ca)
        org.patch('ConnectedApplication', ca.Id as string, {
          OptionsAllowAdminApprovedUsersOnly: data.permittedUsersPolicyType === 'AdminApprovedPreAuthorized',
        });
      break;
    }
  }
  if (!comp.id) comp.id = existing?.id ?? world.ids.next('0Ho');
  if (changed) comp.changedAt = t;
  org.putMeta(comp);
}

function insertRuntime(ctx: Ctx, obj: string, rec: Rec): void {
  const t = nowIso();
  ctx.org.insert(obj, {
    ...rec,
    CreatedDate: t,
    CreatedById: ctx.userId,
    LastModifiedDate: t,
    LastModifiedById: ctx.userId,
    SystemModstamp: t,
  });
}

/** Removes a component and what hangs off it (runtime rows, SetupEntityAccess, issued tokens). */
function remove(ctx: Ctx, type: string, comp: MetaComponent): void {
  const { org, world } = ctx;
  const dropRuntime = (tag: string): void => {
    for (const r of [...org.rows('ConnectedApplication')]) {
      if (r._app !== tag) continue;
      for (const sea of [...org.rows('SetupEntityAccess')])
        if (sea.SetupEntityId === r.Id) org.remove('SetupEntityAccess', sea.Id as string);
      org.remove('ConnectedApplication', r.Id as string);
    }
  };
  const revoke = (key: unknown): void => {
    // Assumed (docs 8.9): deleting the app revokes its tokens immediately (stricter).
    for (const [tok, s] of world.sessions) if (s.consumerKey && s.consumerKey === key) world.sessions.delete(tok);
  };
  if (type === 'ConnectedApp') {
    if (!userPerms(org, ctx.userId).PermissionsCustomizeApplication) {
      throw saveErr(
        'INSUFFICIENT_ACCESS',
        'insufficient access rights: Customize Application is required to manage connected apps',
      );
    }
    dropRuntime(`ConnectedApp:${comp.fullName}`);
    revoke((comp.data.oauthConfig as Rec | undefined)?.consumerKey);
  }
  if (type === 'ExternalClientApplication') {
    if (childrenOf(org, comp.fullName).length) {
      // (choice) stricter: the header can't go while its settings/policies exist (unless removed in the same deploy).
      throw saveErr(
        'DELETE_FAILED',
        `Cannot delete external client app ${comp.fullName}: delete its OAuth settings, global OAuth settings and policies first.`,
      );
    }
    dropRuntime(`ECA:${comp.fullName.toLowerCase()}`);
    for (const sea of [...org.rows('SetupEntityAccess')])
      if (sea.SetupEntityId === comp.id) org.remove('SetupEntityAccess', sea.Id as string);
    org.remove('ExternalClientApplication', comp.id);
  }
  if (type === 'ExtlClntAppGlobalOauthSettings') revoke(comp.data.consumerKey);
  org.deleteMeta(type, comp.fullName);
}

// ------------------------------------------------------------------ CRUD calls

interface MetaItem {
  type: string;
  data: Rec;
}

function metadataItems(args: Rec): MetaItem[] {
  const items = asArray(args.metadata);
  if (items.length > 10)
    throw new SoapFault(
      'sf:LIMIT_EXCEEDED',
      'LIMIT_EXCEEDED: You can only create, update or delete up to 10 components per call.',
    );
  if (!items.length) throw new SoapFault('soapenv:Client', 'Bad request: at least one metadata element is required');
  return items.map((raw) => {
    const type = raw && typeof raw === 'object' ? (raw as Rec)['@_type'] : undefined;
    if (typeof type !== 'string') {
      throw new SoapFault(
        'soapenv:Client',
        `Must specify a {http://www.w3.org/2001/XMLSchema-instance}type attribute value for the {${MD_NS}}metadata element`,
      );
    }
    const t = type.replace(/^[A-Za-z0-9]+:/, '');
    const def = TYPES[t];
    if (!def) throw new SoapFault('sf:INVALID_TYPE', `INVALID_TYPE: Unknown type name '${t}' specified in the call`);
    return { type: t, data: typed(t, def, raw) };
  });
}

function typeAndNames(args: Rec): { type: string; names: string[] } {
  const type = typeof args.type === 'string' ? args.type : '';
  if (!TYPES[type])
    throw new SoapFault('sf:INVALID_TYPE', `INVALID_TYPE: Unknown type name '${type}' specified in the call`);
  const names = asArray(args.fullNames).map((n) => (typeof n === 'string' ? n : ''));
  if (names.length > 10)
    throw new SoapFault(
      'sf:LIMIT_EXCEEDED',
      'LIMIT_EXCEEDED: You can only read or delete up to 10 components per call.',
    );
  return { type, names };
}

/** Applies one component's change under a savepoint of its own (undone if it fails): its SaveResult. */
function saveResult(org: Org, fullName: unknown, fn: () => void): Rec {
  const sp = org.savepoint();
  try {
    fn();
    return { fullName: typeof fullName === 'string' ? fullName : '', success: true };
  } catch (e) {
    org.rollbackTo(sp);
    if (!(e instanceof SfError)) throw e;
    const err = e.toSave();
    return {
      errors: { fields: err.fields, message: err.message, statusCode: err.statusCode },
      fullName: typeof fullName === 'string' ? fullName : '',
      success: false,
    };
  }
}

function checkFullName(type: string, data: Rec): string {
  const fullName = data.fullName;
  if (typeof fullName !== 'string' || !fullName)
    throw saveErr('REQUIRED_FIELD_MISSING', 'Required field is missing: fullName', ['fullName']);
  if (!isApiName(fullName))
    throw saveErr(
      'INVALID_NAME',
      `${type} fullName "${fullName}": the name can only contain underscores and alphanumeric characters, must begin with a letter, not include spaces, not end with an underscore, and not contain two consecutive underscores.`,
      ['fullName'],
    );
  return fullName;
}

const noSuch = (type: string, name: string): SfError =>
  saveErr('INVALID_CROSS_REFERENCE_KEY', `In field: fullName - no ${type} named ${name} found`, ['fullName']);

/**
 * createMetadata, updateMetadata and upsertMetadata: each component is saved on its own (one SaveResult each; an
 * upsert's says whether it created the component).
 */
function saveEach(ctx: Ctx, args: Rec, mode: 'create' | 'update' | 'upsert'): Rec[] {
  const { org } = ctx;
  return metadataItems(args).map(({ type, data }) => {
    let created = false;
    const result = saveResult(org, data.fullName, () => {
      const name = checkFullName(type, data);
      const existing = org.getMeta(type, name);
      if (mode === 'create' && existing)
        throw saveErr('DUPLICATE_DEVELOPER_NAME', `There is already a ${type} named ${name}`, ['fullName']);
      if (mode === 'update') {
        if (!existing) throw noSuch(type, name);
        data.fullName = existing.fullName;
      }
      created = !existing;
      save(ctx, type, data, existing);
    });
    return mode === 'upsert' ? { created: result.success === true && created, ...result } : result;
  });
}

export function metadataOperationName(method: string): string {
  const map: Record<string, string> = {
    createMetadata: 'metadata.create',
    readMetadata: 'metadata.read',
    updateMetadata: 'metadata.update',
    upsertMetadata: 'metadata.upsert',
    deleteMetadata: 'metadata.delete',
    deploy: 'metadata.deploy',
    checkDeployStatus: 'metadata.checkDeployStatus',
  };
  return map[method] ?? `metadata.${method}`;
}

/** The metadata type(s) a call targets (for faults/counters), best effort. */
export function metadataObjects(call: SoapCall): string[] {
  if (typeof call.args.type === 'string') return [call.args.type];
  return asArray(call.args.metadata)
    .map((m) => (m && typeof m === 'object' ? str((m as Rec)['@_type']).replace(/^[A-Za-z0-9]+:/, '') : ''))
    .filter(Boolean);
}

/** Executes a Metadata API call; returns the `result` value (single or array) or throws SoapFault. */
export function metadataCall(ctx: Ctx, call: SoapCall): unknown {
  const perms = userPerms(ctx.org, ctx.userId);
  if (!perms.PermissionsModifyMetadata && !perms.PermissionsModifyAllData) {
    throw new SoapFault(
      'sf:INSUFFICIENT_ACCESS',
      'INSUFFICIENT_ACCESS: use of the Metadata API requires a user with the ModifyAllData or ModifyMetadata permissions',
    );
  }
  const { org } = ctx;
  const a = call.args;
  const single = <T>(list: T[]): T | T[] => (list.length === 1 ? list[0]! : list);
  switch (call.method) {
    case 'createMetadata':
      return single(saveEach(ctx, a, 'create'));
    case 'updateMetadata':
      return single(saveEach(ctx, a, 'update'));
    case 'upsertMetadata':
      return single(saveEach(ctx, a, 'upsert'));
    case 'deleteMetadata': {
      const { type, names } = typeAndNames(a);
      if (!names.length) throw new SoapFault('soapenv:Client', 'Bad request: fullNames is required');
      return single(
        names.map((name) =>
          saveResult(org, name, () => {
            // (choice) deleting a missing component fails (success=false, INVALID_CROSS_REFERENCE_KEY): stricter.
            const comp = org.getMeta(type, name);
            if (!comp) throw noSuch(type, name);
            remove(ctx, type, comp);
          }),
        ),
      );
    }
    case 'readMetadata': {
      const { type, names } = typeAndNames(a);
      requirePermRead(ctx);
      return {
        records: names.map((name) => {
          const comp = org.getMeta(type, name);
          // Salesforce returns an empty record (no fullName) for unknown names.
          return comp ? { '@type': type, ...serializeData(type, comp) } : null;
        }),
      };
    }
    default:
      throw new SoapFault(
        'soapenv:Client',
        `No operation available for request {${MD_NS}}${call.method}, please check the WSDL for the service.`,
      );
  }
}

function requirePermRead(ctx: Ctx): void {
  try {
    requirePerm(ctx, 'PermissionsModifyMetadata', 'PermissionsModifyAllData');
  } catch {
    throw new SoapFault('sf:INSUFFICIENT_ACCESS', 'INSUFFICIENT_ACCESS: insufficient access rights');
  }
}

/** Data in WSDL (alphabetical) order, secrets removed, fullName first. */
function serializeData(type: string, comp: MetaComponent): Rec {
  const order = (def: TypeDef, d: Rec): Rec => {
    const out: Rec = {};
    if (d.fullName !== undefined) out.fullName = d.fullName;
    for (const k of Object.keys(def).sort()) {
      if (k === 'fullName' || k === 'consumerSecret') continue;
      const v = d[k];
      if (v === undefined) continue;
      const kind = def[k];
      if (kind && typeof kind === 'object' && v && typeof v === 'object' && !Array.isArray(v))
        out[k] = order(kind as TypeDef, v as Rec);
      else out[k] = v;
    }
    return out;
  };
  return order(TYPES[type]!, { ...comp.data, fullName: comp.fullName });
}

// ------------------------------------------------------------------ deploy

export function startDeploy(ctx: Ctx, args: Rec, onDone: () => void): Rec {
  const perms = userPerms(ctx.org, ctx.userId);
  if (!perms.PermissionsModifyMetadata && !perms.PermissionsModifyAllData) {
    throw new SoapFault(
      'sf:INSUFFICIENT_ACCESS',
      'INSUFFICIENT_ACCESS: use of the Metadata API requires a user with the ModifyAllData or ModifyMetadata permissions',
    );
  }
  const zipB64 = args.ZipFile;
  if (typeof zipB64 !== 'string' || !zipB64) throw new SoapFault('soapenv:Client', 'Bad request: ZipFile is required');
  const opts = (args.DeployOptions && typeof args.DeployOptions === 'object' ? args.DeployOptions : {}) as Rec;
  const checkOnly = opts.checkOnly === 'true';
  const id = ctx.world.ids.next('0Af');
  const rec = { id, createdAt: nowIso(), createdById: ctx.userId, checkOnly, status: 'Pending' as const };
  ctx.org.deploys.set(id, rec);
  const org = ctx.org;
  void runDeploy({ ...ctx }, id, zipB64, opts)
    .then((result) => {
      const d = org.deploys.get(id);
      if (d) {
        d.result = result;
        d.status = result.status as 'Succeeded' | 'Failed';
      }
    })
    .finally(onDone);
  return { done: false, id, state: 'Queued' };
}

interface DeployMsg {
  changed: boolean;
  componentType: string;
  created: boolean;
  createdDate: string;
  deleted: boolean;
  fileName: string;
  fullName: string;
  problem?: string;
  problemType?: string;
  success: boolean;
}

async function runDeploy(ctx: Ctx, id: string, zipB64: string, opts: Rec): Promise<Rec> {
  const started = nowIso();
  const checkOnly = opts.checkOnly === 'true';
  const base = {
    id,
    checkOnly,
    createdBy: ctx.userId.slice(0, 15),
    createdByName: 'Org Admin',
    createdDate: started,
    startDate: started,
    ignoreWarnings: opts.ignoreWarnings === 'true',
    rollbackOnError: true,
    runTestsEnabled: false,
    numberTestErrors: 0,
    numberTestsCompleted: 0,
    numberTestsTotal: 0,
    done: true,
  };
  const fail = (msg: string, code = 'UNKNOWN_EXCEPTION'): Rec => ({
    ...base,
    completedDate: nowIso(),
    lastModifiedDate: nowIso(),
    details: { componentFailures: [], componentSuccesses: [] },
    errorMessage: msg,
    errorStatusCode: code,
    numberComponentErrors: 0,
    numberComponentsDeployed: 0,
    numberComponentsTotal: 0,
    status: 'Failed',
    success: false,
  });
  let zip: JSZip;
  try {
    zip = await JSZip.loadAsync(Buffer.from(zipB64, 'base64'));
  } catch {
    return fail('The deployment zip file is not a valid zip archive.', 'INVALID_ZIP');
  }
  const names = Object.keys(zip.files).filter((n) => !zip.files[n]!.dir);
  const pkgPath = names.find((n) => /^([^/]+\/)?package\.xml$/.test(n));
  if (!pkgPath) return fail('No package.xml found', 'INVALID_PACKAGE');
  const root = pkgPath.slice(0, -'package.xml'.length);
  const text = async (p: string): Promise<string | undefined> => zip.file(root + p)?.async('string');

  const parseManifest = (xml: string, file: string): { types: Map<string, string[]>; error?: string } => {
    const types = new Map<string, string[]>();
    try {
      const doc = parser.parse(xml, true) as Rec;
      const pkg = doc.Package as Rec | undefined;
      if (!pkg || typeof pkg !== 'object') return { types, error: `${file}: root element must be Package` };
      for (const t of asArray(pkg.types as Rec | Rec[] | undefined)) {
        const name = typeof t.name === 'string' ? t.name : '';
        types.set(name, [
          ...(types.get(name) ?? []),
          ...asArray(t.members as string | string[] | undefined).map(String),
        ]);
      }
      return { types };
    } catch (e) {
      return { types, error: `${file}: ${e instanceof Error ? e.message.split('\n')[0] : 'invalid XML'}` };
    }
  };

  const pkg = parseManifest((await text('package.xml'))!, 'package.xml');
  if (pkg.error) return fail(pkg.error, 'INVALID_PACKAGE');
  const destructive: { file: string; types: Map<string, string[]>; post: boolean }[] = [];
  for (const f of ['destructiveChangesPre.xml', 'destructiveChanges.xml', 'destructiveChangesPost.xml']) {
    const x = await text(f);
    if (x === undefined) continue;
    const m = parseManifest(x, f);
    if (m.error) return fail(m.error, 'INVALID_PACKAGE');
    destructive.push({ file: f, types: m.types, post: f === 'destructiveChangesPost.xml' });
  }

  const successes: DeployMsg[] = [];
  const failures: DeployMsg[] = [];
  const msg = (componentType: string, fullName: string, fileName: string, extra: Partial<DeployMsg>): DeployMsg => ({
    changed: false,
    componentType,
    created: false,
    createdDate: nowIso(),
    deleted: false,
    fileName: root + fileName,
    fullName,
    success: true,
    ...extra,
  });
  successes.push(msg('', 'package.xml', 'package.xml', {}));

  // Load component files.
  const toSave: { type: string; name: string; file: string; data?: Rec; problem?: string }[] = [];
  for (const [type, members] of pkg.types) {
    const layout = DEPLOY_LAYOUT[type];
    if (!layout) {
      failures.push(
        msg(type, type, 'package.xml', {
          success: false,
          problemType: 'Error',
          problem: `Unknown type name '${type}' specified in package.xml`,
        }),
      );
      continue;
    }
    let list = members;
    if (members.includes('*')) {
      list = names
        .filter((n) => n.startsWith(`${root}${layout.folder}/`) && n.endsWith(`.${layout.suffix}`))
        .map((n) => n.slice(`${root}${layout.folder}/`.length, -(layout.suffix.length + 1)));
    }
    for (const name of list) {
      const file = `${layout.folder}/${name}.${layout.suffix}`;
      const xml = await text(file);
      if (xml === undefined) {
        toSave.push({
          type,
          name,
          file,
          problem: `An object '${name}' of type ${type} was named in package.xml, but was not found in zipped directory`,
        });
        continue;
      }
      try {
        const doc = parser.parse(xml, true) as Rec;
        const body = doc[type];
        if (body === undefined) throw new SoapFault('soapenv:Client', `root element must be ${type}`);
        toSave.push({ type, name, file, data: { ...typed(type, TYPES[type]!, body), fullName: name } });
      } catch (e) {
        toSave.push({ type, name, file, problem: e instanceof Error ? e.message.split('\n')[0]! : 'invalid XML' });
      }
    }
  }

  // Apply atomically (rollbackOnError is always honoured: stricter than allowing partial deploys).
  const org = ctx.org;
  const sp = org.savepoint();
  const applyDeletes = (types: Map<string, string[]>, file: string): void => {
    for (const type of [...ORDER].reverse()) {
      for (const name of types.get(type) ?? []) {
        const comp = org.getMeta(type, name);
        if (!comp) {
          successes.push(msg(type, name, file, { problemType: 'Warning', problem: `No ${type} named: ${name} found` }));
          continue;
        }
        try {
          remove(ctx, type, comp);
          successes.push(msg(type, name, file, { deleted: true, changed: true }));
        } catch (e) {
          if (!(e instanceof SfError)) throw e;
          failures.push(msg(type, name, file, { success: false, problemType: 'Error', problem: e.message }));
        }
      }
    }
  };
  for (const d of destructive) if (!d.post) applyDeletes(d.types, d.file);
  toSave.sort((x, y) => ORDER.indexOf(x.type) - ORDER.indexOf(y.type));
  for (const item of toSave) {
    if (item.problem || !item.data) {
      failures.push(
        msg(item.type, item.name, item.file, {
          success: false,
          problemType: 'Error',
          problem: item.problem ?? 'invalid component',
        }),
      );
      continue;
    }
    try {
      checkFullName(item.type, item.data);
      const existing = org.getMeta(item.type, item.name);
      save(ctx, item.type, item.data, existing);
      successes.push(msg(item.type, item.name, item.file, { created: !existing, changed: !!existing }));
    } catch (e) {
      if (!(e instanceof SfError)) throw e;
      failures.push(msg(item.type, item.name, item.file, { success: false, problemType: 'Error', problem: e.message }));
    }
  }
  for (const d of destructive) if (d.post) applyDeletes(d.types, d.file);
  const ok = failures.length === 0;
  if (!ok || checkOnly) org.rollbackTo(sp);
  org.journal = [];
  const total = successes.length - 1 + failures.length;
  return {
    ...base,
    completedDate: nowIso(),
    lastModifiedDate: nowIso(),
    details: { componentFailures: failures, componentSuccesses: successes },
    numberComponentErrors: failures.length,
    numberComponentsDeployed: ok ? successes.length - 1 : 0,
    numberComponentsTotal: total,
    status: ok ? 'Succeeded' : 'Failed',
    success: ok,
  };
}

export function checkDeployStatus(ctx: Ctx, args: Rec): Rec {
  const id = normalizeId(args.asyncProcessId);
  const d = id ? ctx.org.deploys.get(id) : undefined;
  if (!d)
    throw new SoapFault('sf:INVALID_ID_FIELD', `INVALID_ID_FIELD: invalid deploy id: ${String(args.asyncProcessId)}`);
  const includeDetails = args.includeDetails === 'true';
  if (!d.result) {
    return {
      checkOnly: d.checkOnly,
      createdBy: d.createdById.slice(0, 15),
      createdByName: 'Org Admin',
      createdDate: d.createdAt,
      done: false,
      id: d.id,
      ignoreWarnings: false,
      numberComponentErrors: 0,
      numberComponentsDeployed: 0,
      numberComponentsTotal: 0,
      numberTestErrors: 0,
      numberTestsCompleted: 0,
      numberTestsTotal: 0,
      rollbackOnError: true,
      runTestsEnabled: false,
      status: d.status,
      success: false,
    };
  }
  const r = { ...d.result };
  if (!includeDetails && r.success === true) delete r.details;
  // Keep WSDL element order roughly alphabetical for readability.
  return Object.fromEntries(
    Object.entries(r)
      .filter(([, v]) => v !== undefined)
      .sort(([x], [y]) => x.localeCompare(y)),
  );
}
