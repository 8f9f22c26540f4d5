/** The metadata types the emulator knows: their WSDL shape, deploy layout and dependency order. */
import type { MetaComponent, Rec } from '../state';
import { MD_NS, SoapFault, asArray } from './soap';

type Kind = 's' | 'b' | 'i' | 'l' | 'o' | Record<string, unknown>;
export type TypeDef = Record<string, Kind>;

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

export const TYPES: Record<string, TypeDef> = {
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
  // ExtlClntAppConfigurablePolicies (API 60+): the switches of the app and of each plugin. Fields as listed in the
  // Metadata API Developer Guide, "ExtlClntAppConfigurablePolicies"
  // (https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/meta_extlclntappconfigurablepolicies.htm);
  // startPage/startUrl appear in files Salesforce generates (seen in retrieved apps), so they are accepted too.
  ExtlClntAppConfigurablePolicies: {
    fullName: 's',
    externalClientApplication: 's',
    isCanvasPluginEnabled: 'b',
    isEnabled: 'b',
    isMobilePluginEnabled: 'b',
    isNotificationPluginEnabled: 'b',
    isOauthPluginEnabled: 'b',
    isPushPluginEnabled: 'b',
    isSamlPluginEnabled: 'b',
    label: 's',
    startPage: 's',
    startUrl: 's',
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
  ExtlClntAppConfigurablePolicies: { folder: 'extlClntAppPolicies', suffix: 'ecaPlcy' },
  ExtlClntAppOauthSettings: { folder: 'extlClntAppOauthSettings', suffix: 'ecaOauth' },
  ExtlClntAppGlobalOauthSettings: { folder: 'extlClntAppGlobalOauthSets', suffix: 'ecaGlblOauth' },
  ExtlClntAppOauthConfigurablePolicies: { folder: 'extlClntAppOauthPolicies', suffix: 'ecaOauthPlcy' },
};
/** Dependency order for creation; deletion goes in reverse. */
export const ORDER = [
  'ExternalClientApplication',
  'ExtlClntAppConfigurablePolicies',
  'ExtlClntAppOauthSettings',
  'ExtlClntAppGlobalOauthSettings',
  'ExtlClntAppOauthConfigurablePolicies',
  'ConnectedApp',
];

/** Converts parsed XML into typed values; unknown elements are refused like Salesforce's schema validation. */
export function typed(type: string, def: TypeDef, raw: unknown, path = type): Rec {
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

/** Data in WSDL (alphabetical) order, secrets removed, fullName first. */
export function serializeData(type: string, comp: MetaComponent): Rec {
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
