/**
 * OAuth 2.0 token endpoint: refresh_token and authorization_code grants (service client) and JWT bearer grant (apps'
 * certificates).
 */
import { createHash, createHmac, createVerify } from 'node:crypto';
import { userPermissionSetIds, userPerms } from './engine';
import { str } from './ids';
import { normalizeCertificate } from './metadata';
import type { SfResponse } from './rest';
import { token, type MetaComponent, type Org, type Rec, type World } from './state';

export const SERVICE_OAUTH_CLIENT = {
  clientId: '3MVG9EmulatorServiceClient0AgentConnections0RefreshTokenGrant0000000000000000000000001',
  clientSecret: 'EMULATORSERVICECLIENTSECRET0000000000000000000000000000000000000001',
} as const;

export const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Maximum distance of `exp` in the future (Salesforce allows "about 3-5 minutes"; 5 min chosen). */
export const MAX_EXP_AHEAD_S = 300;

export interface OAuthEnv {
  world: World;
  loginUrl: string;
  sessionTimeoutMs: number;
  propagationDelayMs: number;
}

const oauthError = (error: string, description: string, status = 400): SfResponse => ({
  status,
  body: { error, error_description: description },
});

const SCOPE_TOKENS: Record<string, string> = {
  Api: 'api',
  RefreshToken: 'refresh_token',
  OfflineAccess: 'offline_access',
  Web: 'web',
  Full: 'full',
  Basic: 'id',
  OpenID: 'openid',
  Chatter: 'chatter_api',
  CustomPermissions: 'custom_permissions',
  Lightning: 'lightning',
  Content: 'content',
  Wave: 'wave_api',
};

export function instanceUrlOf(loginUrl: string, org: Org): string {
  return `${loginUrl}/orgs/${org.key}`;
}

function success(
  env: OAuthEnv,
  org: Org,
  userId: string,
  scope: string,
  consumerKey?: string,
  secret = SERVICE_OAUTH_CLIENT.clientSecret,
): SfResponse {
  const s = env.world.newAccessToken(org, userId, env.sessionTimeoutMs, consumerKey);
  if (scope) s.scopes = scope.split(' ');
  const id = `${env.loginUrl}/id/${org.id}/${userId}`;
  const issuedAt = String(s.issuedAt);
  return {
    status: 200,
    body: {
      access_token: s.token,
      ...(scope ? { scope } : {}),
      instance_url: instanceUrlOf(env.loginUrl, org),
      id,
      token_type: 'Bearer',
      issued_at: issuedAt,
      signature: createHmac('sha256', secret)
        .update(id + issuedAt)
        .digest('base64'),
    },
  };
}

export function tokenEndpoint(
  env: OAuthEnv,
  method: string,
  rawBody: string,
  query: URLSearchParams,
  instanceOrg?: Org,
): SfResponse {
  if (method !== 'POST') return oauthError('invalid_request', 'must use HTTP POST');
  const form = new URLSearchParams(rawBody);
  for (const [k, v] of query) if (!form.has(k)) form.set(k, v);
  const grant = form.get('grant_type');
  if (!grant) return oauthError('invalid_request', 'grant type not supported');
  if (grant === 'refresh_token') return refreshGrant(env, form);
  if (grant === JWT_GRANT) return jwtGrant(env, form, instanceOrg);
  if (grant === 'authorization_code') return authorizationCodeGrant(env, form, instanceOrg);
  return oauthError('unsupported_grant_type', 'grant type not supported');
}

function refreshGrant(env: OAuthEnv, form: URLSearchParams): SfResponse {
  if (form.get('client_id') !== SERVICE_OAUTH_CLIENT.clientId)
    return oauthError('invalid_client_id', 'client identifier invalid');
  if (form.get('client_secret') !== SERVICE_OAUTH_CLIENT.clientSecret)
    return oauthError('invalid_client', 'invalid client credentials');
  const rt = env.world.refreshTokens.get(form.get('refresh_token') ?? '');
  const org = rt ? env.world.orgs.get(rt.orgKey) : undefined;
  if (!rt || !org) return oauthError('invalid_grant', 'expired access/refresh token');
  const user = org.table('User').get(rt.userId);
  if (!user?.IsActive) return oauthError('invalid_grant', 'inactive user');
  return success(env, org, rt.userId, 'api refresh_token full');
}

/** base64url without padding (RFC 7636 appendix A). */
const base64url = (data: Buffer): string => data.toString('base64url');

/** RFC 7636 §4.1: 43 or more unreserved characters (Salesforce's own example uses 128 random bytes, 171 of them). */
const VERIFIER_PATTERN = /^[A-Za-z0-9._~-]{43,}$/;

/**
 * The web server flow's code exchange: the service client with its secret, a code the authorize page issued for it
 * and not yet used or expired, the same redirect_uri, and the PKCE verifier whose SHA-256 is the code's challenge.
 * A code is gone after its first exchange, whatever the outcome: a replay is `invalid_grant`.
 */
function authorizationCodeGrant(env: OAuthEnv, form: URLSearchParams, instanceOrg?: Org): SfResponse {
  if (form.get('client_id') !== SERVICE_OAUTH_CLIENT.clientId)
    return oauthError('invalid_client_id', 'client identifier invalid');
  if (form.get('client_secret') !== SERVICE_OAUTH_CLIENT.clientSecret)
    return oauthError('invalid_client', 'invalid client credentials');
  const value = form.get('code') ?? '';
  const code = env.world.authorizationCodes.get(value);
  if (!code) return oauthError('invalid_grant', 'invalid authorization code');
  env.world.authorizationCodes.delete(value);
  if (code.expiresAt < env.world.clock.now()) return oauthError('invalid_grant', 'expired authorization code');
  if (code.clientId !== form.get('client_id')) return oauthError('invalid_grant', 'invalid authorization code');
  if (code.redirectUri !== form.get('redirect_uri'))
    return oauthError('redirect_uri_mismatch', 'redirect_uri must match configuration');
  const verifier = form.get('code_verifier');
  if (code.codeChallenge !== undefined || verifier !== null) {
    if (
      verifier === null ||
      !VERIFIER_PATTERN.test(verifier) ||
      code.codeChallenge === undefined ||
      base64url(createHash('sha256').update(verifier).digest()) !== code.codeChallenge
    ) {
      return oauthError('invalid_grant', 'invalid code verifier');
    }
  }
  const org = env.world.orgs.get(code.orgKey);
  if (!org || (instanceOrg && instanceOrg !== org)) return oauthError('invalid_grant', 'invalid authorization code');
  const user = org.table('User').get(code.userId);
  if (!user?.IsActive) return oauthError('invalid_grant', 'inactive user');
  const scopes = code.scope.split(/\s+/).filter(Boolean);
  const scope = scopes.length > 0 ? scopes.join(' ') : 'api refresh_token full';
  const response = success(env, org, code.userId, scope);
  // A refresh token only with the refresh_token (or offline_access) scope, as Salesforce does.
  if (scopes.length === 0 || scopes.includes('refresh_token') || scopes.includes('offline_access')) {
    const refreshToken = `5Aep861${token(80)}`;
    env.world.refreshTokens.set(refreshToken, { orgKey: org.key, userId: code.userId });
    (response.body as Record<string, unknown>).refresh_token = refreshToken;
  }
  return response;
}

interface AppView {
  org: Org;
  consumerKey: string;
  certificate: string | undefined;
  changedAt: number;
  adminApproved: boolean;
  permissionSets: string[];
  profiles: string[];
  runtimeIds: string[];
  scopes: string[];
  /** False when the app's OAuth plugin is switched off (ExtlClntAppConfigurablePolicies). */
  oauthEnabled: boolean;
}

function appFor(world: World, consumerKey: string): AppView | undefined {
  const hit = world.findConsumerKey(consumerKey);
  if (!hit) return undefined;
  const { org, comp } = hit;
  const list = (v: unknown): string[] =>
    str(v)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (comp.type === 'ConnectedApp') {
    const oc = (comp.data.oauthConfig ?? {}) as Rec;
    return {
      org,
      consumerKey,
      certificate: oc.certificate as string | undefined,
      changedAt: comp.changedAt,
      adminApproved: oc.isAdminApproved === true,
      permissionSets: (comp.data.permissionSetName as string[] | undefined) ?? [],
      profiles: (comp.data.profileName as string[] | undefined) ?? [],
      runtimeIds: [comp.id],
      scopes: ((oc.scopes as string[] | undefined) ?? []).map((s) => SCOPE_TOKENS[s] ?? s.toLowerCase()),
      oauthEnabled: true,
    };
  }
  const ecaName = String(comp.data.externalClientApplication);
  const header = org.getMeta('ExternalClientApplication', ecaName);
  const find = (type: string): MetaComponent | undefined =>
    [...(org.meta.get(type)?.values() ?? [])].find(
      (c) => String(c.data.externalClientApplication).toLowerCase() === ecaName.toLowerCase(),
    );
  const settings = find('ExtlClntAppOauthSettings');
  const policies = find('ExtlClntAppOauthConfigurablePolicies');
  const switches = find('ExtlClntAppConfigurablePolicies');
  if (!header || !settings) return undefined;
  const runtime = [...org.rows('ConnectedApplication')]
    .filter((r) => r._app === `ECA:${ecaName.toLowerCase()}`)
    .map((r) => r.Id as string);
  return {
    org,
    consumerKey,
    certificate: comp.data.certificate as string | undefined,
    changedAt: Math.max(
      header.changedAt,
      comp.changedAt,
      settings.changedAt,
      policies?.changedAt ?? 0,
      switches?.changedAt ?? 0,
    ),
    adminApproved: policies?.data.permittedUsersPolicyType === 'AdminApprovedPreAuthorized',
    permissionSets: list(policies?.data.commaSeparatedPermissionSet),
    profiles: list(policies?.data.commaSeparatedProfile),
    runtimeIds: [header.id, ...runtime],
    scopes: list(settings.data.commaSeparatedOauthScopes).map((s) => SCOPE_TOKENS[s] ?? s.toLowerCase()),
    // A missing component means the documented defaults (isEnabled and isOauthPluginEnabled true).
    oauthEnabled: switches?.data.isEnabled !== false && switches?.data.isOauthPluginEnabled !== false,
  };
}

function b64json(part: string): Rec | undefined {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : undefined;
  } catch {
    return undefined;
  }
}

function jwtGrant(env: OAuthEnv, form: URLSearchParams, instanceOrg?: Org): SfResponse {
  const invalid = (): SfResponse => oauthError('invalid_grant', 'invalid assertion');
  const assertion = form.get('assertion') ?? '';
  const parts = assertion.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return invalid();
  const header = b64json(parts[0]!);
  const claims = b64json(parts[1]!);
  if (!header || !claims || header.alg !== 'RS256') return invalid();
  const iss = claims.iss;
  if (typeof iss !== 'string') return invalid();
  const app = appFor(env.world, iss);
  if (!app) return oauthError('invalid_client_id', 'client identifier invalid');
  // (choice) An app whose OAuth plugin is off has no OAuth consumer: the docs give no error for this case, so the
  // answer for an unknown client is used.
  if (!app.oauthEnabled) return oauthError('invalid_client_id', 'client identifier invalid');
  const org = app.org;
  // During propagation (created/changed < delay ago) Salesforce does not know the client yet.
  if (env.world.clock.now() - app.changedAt < org.propagationDelay(env.propagationDelayMs)) {
    return oauthError('invalid_client_id', 'client identifier invalid');
  }
  if (!app.certificate) return invalid();
  try {
    const cert = normalizeCertificate(app.certificate);
    const ok = createVerify('RSA-SHA256')
      .update(`${parts[0]}.${parts[1]}`)
      .verify(cert.publicKey, Buffer.from(parts[2]!, 'base64url'));
    if (!ok) return invalid();
  } catch {
    return invalid();
  }
  const instanceUrl = instanceUrlOf(env.loginUrl, org);
  if (claims.aud !== env.loginUrl && claims.aud !== instanceUrl)
    return oauthError('invalid_grant', 'audience is invalid');
  if (instanceOrg && instanceOrg !== org) return oauthError('invalid_client_id', 'client identifier invalid');
  const exp = claims.exp;
  const now = env.world.clock.now() / 1000;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return invalid();
  if (exp <= now) return oauthError('invalid_grant', 'expired authorization code');
  if (exp > now + MAX_EXP_AHEAD_S + 5) return invalid();
  const sub = claims.sub;
  if (typeof sub !== 'string') return invalid();
  const user = [...org.rows('User')].find((u) => String(u.Username).toLowerCase() === sub.toLowerCase());
  // (choice) unknown username → "invalid assertion" (permanent), not the transient "user hasn't approved".
  if (!user) return invalid();
  if (!user.IsActive) return oauthError('invalid_grant', 'inactive user');
  if (!preAuthorized(org, app, user)) {
    // API Access Control with "limit API access to only allowlisted connected apps" (help "Restrict Access to APIs
    // with Connected Apps", security_api_access_control_all_users): an app reaches the API only for users it
    // pre-authorizes as an admin-approved app. (choice) The refusal is then the admin-approval one of the OAuth errors
    // (help "OAuth 2.0 Authorization Errors"); Salesforce documents no error specific to API Access Control.
    if (org.settings.apiAccessControl === 'adminApprovedAppsOnly')
      return oauthError('invalid_app_access', 'user is not admin approved to access this app');
    return oauthError('invalid_grant', "user hasn't approved this consumer");
  }
  return success(env, org, user.Id as string, app.scopes.join(' '), app.consumerKey);
}

function preAuthorized(org: Org, app: AppView, user: Rec): boolean {
  // "If users have the Use Any API Client permission, they can access any external client app—even if its Permitted
  // Users setting is set to Admin-approved users are preauthorized" (help "Preauthorize User App Access Through
  // External Client App Policies"). The permission exists only with API Access Control.
  if (
    (org.settings.apiAccessControl ?? 'off') !== 'off' &&
    userPerms(org, user.Id as string).PermissionsUseAnyApiClient
  )
    return true;
  if (!app.adminApproved) return false;
  const psIds = userPermissionSetIds(org, user.Id as string);
  for (const psId of psIds) {
    const ps = org.table('PermissionSet').get(psId);
    if (!ps) continue;
    const names = [String(ps.Name).toLowerCase(), psId.toLowerCase(), psId.slice(0, 15).toLowerCase()];
    if (app.permissionSets.some((n) => names.includes(n.toLowerCase()))) return true;
  }
  const profile = org.table('Profile').get(user.ProfileId as string);
  if (
    profile &&
    app.profiles.some((p) =>
      [String(profile.Name).toLowerCase(), String(profile.Id).toLowerCase()].includes(p.toLowerCase()),
    )
  ) {
    return true;
  }
  for (const sea of org.rows('SetupEntityAccess')) {
    if (psIds.has(sea.ParentId as string) && app.runtimeIds.includes(sea.SetupEntityId as string)) return true;
  }
  return false;
}

/** GET {loginUrl}/id/{orgId}/{userId}: identity of the token's user. */
export function identity(
  world: World,
  loginUrl: string,
  orgId: string,
  userId: string,
  bearer: string | undefined,
): SfResponse {
  const s = world.liveSession(bearer);
  const org = s ? world.orgs.get(s.orgKey) : undefined;
  if (!s || !org)
    return { status: 403, body: 'Bad_OAuth_Token', raw: { contentType: 'text/plain', text: 'Bad_OAuth_Token' } };
  if (org.id !== orgId || s.userId !== userId)
    return { status: 403, raw: { contentType: 'text/plain', text: 'Bad_Id' } };
  world.useSession(s);
  const u = org.table('User').get(userId)!;
  return {
    status: 200,
    body: {
      id: `${loginUrl}/id/${org.id}/${userId}`,
      user_id: userId,
      organization_id: org.id,
      username: u.Username,
      display_name: u.Name,
      email: u.Email,
      active: u.IsActive,
      user_type: 'STANDARD',
      language: u.LanguageLocaleKey,
      locale: u.LocaleSidKey,
      timezone: u.TimeZoneSidKey,
      urls: {
        rest: `${instanceUrlOf(loginUrl, org)}/services/data/v{version}/`,
        metadata: `${instanceUrlOf(loginUrl, org)}/services/Soap/m/{version}/`,
      },
    },
  };
}
