/**
 * Org controls that can stop a connection after everything is created: API Access Control and Transaction Security
 * policies. Preflight adds `orgControlSubrequests` to its Composite Batch (two GETs, billed with the rest of the batch as
 * one API request) and hands the matching subresponses, in the same order, to `orgControlProblems`. Each problem has a
 * stable code whose entry in `ORG_CONTROL_GUIDANCE` (also part of the error catalogue in errors.ts) says what it means
 * and what the admin does in Setup.
 *
 * What Salesforce documents, and what the checks make of it:
 *
 * - API Access Control (help "Manage API Access", security_api_access_control_about; "Restrict Access to APIs with
 *   Connected Apps", security_api_access_control_all_users): Salesforce Support enables it; then "For admin-approved
 *   users, limit API access to only allowlisted connected apps" lets users reach the API only through apps that are
 *   installed, set to "Admin approved users are pre-authorized" and granted to them by profile or permission set. Since
 *   December 2025 "Use Any API Client" no longer lets users self-authorize uninstalled connected apps (help 005228838).
 *   The checkbox is readable only through the Metadata API (ConnectedAppSettings.enableAdminApprovedAppsOnly), which a
 *   Composite Batch cannot call. The probe instead selects the "Use Any API Client" permission field: third-party audit
 *   tools observe that it exists only once Support has enabled the feature (Salesforce does not document this). The
 *   service's app is local, admin-approved and pre-authorizes the connection's permission set, i.e. it is allowlisted
 *   by construction; so the finding is a warning that says what must stay true, never a blocker.
 * - Transaction Security (Object Reference "TransactionSecurityPolicy"; help "Exempt Users from Transaction Security
 *   Policies", enhanced_transaction_security_exempt): enabled policies on ApiEvent (queries through REST, SOAP and Bulk
 *   API) can block the agent's queries (TXN_SECURITY_NO_ACCESS); on LoginEvent they can block the integration user's
 *   sign-in, and "Exempt from Transaction Security" does not apply to LoginEvent. A policy's condition (Apex or
 *   Condition Builder) is not readable as data, so whether a policy matches the integration user cannot be known:
 *   blocking (or two-factor, which API calls cannot satisfy, so Salesforce blocks them) policies are warnings. Only a
 *   policy that already refused the admin's own query is a blocker. The format of ActionConfig is not documented; it
 *   is read leniently, and anything unreadable counts as blocking. Policy timeouts are not documented either and are
 *   not checked.
 *
 * The service does not grant "Exempt from Transaction Security" in its permission set: exempting a user from the org's
 * security policies is the security team's decision (Salesforce advises it only "when transaction security policy
 * metering regularly blocks business-critical actions"), the permission exists only in orgs with Shield or Event
 * Monitoring, and Salesforce does not say the Salesforce Integration license allows it.
 */
import type { BatchSubrequest, BatchSubresponse } from './soql';
import { queryUrl, subrequestError } from './soql';

export type OrgControlCode =
  | 'API_ACCESS_CONTROL'
  | 'TRANSACTION_SECURITY_BLOCKS_ADMIN'
  | 'TRANSACTION_SECURITY_API_POLICY'
  | 'TRANSACTION_SECURITY_LOGIN_POLICY'
  | 'ORG_CONTROLS_UNREADABLE';

export interface OrgControlProblem {
  code: OrgControlCode;
  /** `blocking`: enabling would fail; `warning`: it may fail (or fail later), depending on what the org's admins set. */
  severity: 'blocking' | 'warning';
  /** What was found, in plain language, naming the policies involved. */
  message: string;
  /** What the admin does in Setup (the catalogue entry's fix). */
  fix: string;
}

/** The error catalogue entries of the org-control problems: the general meaning and the fix. */
export const ORG_CONTROL_GUIDANCE: Record<OrgControlCode, { message: string; fix: string }> = {
  API_ACCESS_CONTROL: {
    message:
      'API Access Control is enabled in this org: with “limit API access to only allowlisted connected apps”, only apps that pre-authorize a user can reach the API for that user.',
    fix: 'Nothing to do before enabling: the connection’s app is created with “Admin approved users are pre-authorized” and pre-authorizes the connection’s permission set. Keep it so (Setup > External Client App Manager > the app > Edit Policies) and keep the permission set assigned to the integration user; if Salesforce refuses its sign-in (invalid_app_access), check both, then select Reconnect.',
  },
  TRANSACTION_SECURITY_BLOCKS_ADMIN: {
    message: 'A Transaction Security policy blocked the Salesforce admin’s own API queries.',
    fix: 'In Setup > Transaction Security Policies, change the blocking API Event policy so it does not match the admin who connects Salesforce (or give that admin “Exempt from Transaction Security”), then enable again.',
  },
  TRANSACTION_SECURITY_API_POLICY: {
    message:
      'An enabled Transaction Security policy can block API queries; if it matches the integration user, the agent cannot read (TXN_SECURITY_NO_ACCESS).',
    fix: 'In Setup > Transaction Security Policies, make the policy’s condition exclude the integration user (for example its profile “Minimum Access - API Only Integrations”); this survives Reconnect. Alternatively give the connection’s permission set “Exempt from Transaction Security” (Setup > Permission Sets > System Permissions) once it exists; Reconnect recreates that permission set without it.',
  },
  TRANSACTION_SECURITY_LOGIN_POLICY: {
    message:
      'An enabled Transaction Security policy can block logins; if it matches the integration user, its sign-in is refused. “Exempt from Transaction Security” does not apply to login policies.',
    fix: 'In Setup > Transaction Security Policies, make the login policy’s condition exclude the integration user (for example its profile “Minimum Access - API Only Integrations” or the connection’s app).',
  },
  ORG_CONTROLS_UNREADABLE: {
    message: 'The Salesforce admin could not read the org’s Transaction Security policies.',
    fix: 'Sign in with an admin who has View All Data, or check in Setup > Transaction Security Policies that no policy blocks API queries or logins of the integration user.',
  },
};

const USE_ANY_API_CLIENT_PROBE = 'SELECT PermissionsUseAnyApiClient FROM UserPermissionAccess';
const POLICIES_QUERY =
  "SELECT Id, DeveloperName, MasterLabel, EventName, ActionConfig, BlockMessage FROM TransactionSecurityPolicy WHERE State = 'Enabled' AND EventName IN ('ApiEvent', 'LoginEvent') ORDER BY DeveloperName";

/** The two GET subrequests to add to preflight's Composite Batch; pass their subresponses, in order, to `orgControlProblems`. */
export const orgControlSubrequests: readonly BatchSubrequest[] = [
  { method: 'GET', url: queryUrl(USE_ANY_API_CLIENT_PROBE) },
  { method: 'GET', url: queryUrl(POLICIES_QUERY) },
];

interface PolicyRow {
  DeveloperName?: string;
  MasterLabel?: string;
  EventName?: string;
  ActionConfig?: string | null;
  BlockMessage?: string | null;
}

/**
 * Whether a policy's action stops the call: it blocks, or asks for two-factor authentication, which an API call cannot
 * give (Salesforce blocks it instead). ActionConfig's format is undocumented: a JSON object is read key by key (keys
 * such as `block` or `twoFactorAuthentication` set to true); anything else, empty or not JSON, counts as blocking.
 */
export function policyBlocks(actionConfig: string | null | undefined): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(actionConfig ?? '');
  } catch {
    return true;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return true;
  return Object.entries(parsed as Record<string, unknown>).some(
    ([k, v]) => /block|two.?factor|two.?fa|2fa|mfa/i.test(k) && (v === true || v === 'true'),
  );
}

function problem(code: OrgControlCode, severity: OrgControlProblem['severity'], message: string): OrgControlProblem {
  return { code, severity, message, fix: ORG_CONTROL_GUIDANCE[code].fix };
}

const nameOf = (p: PolicyRow): string => `“${p.MasterLabel ?? p.DeveloperName ?? 'unnamed'}”`;

function apiAccessControlProblems(response: BatchSubresponse | undefined): OrgControlProblem[] {
  // The field exists only with API Access Control: INVALID_FIELD (or no answer) means the feature is off.
  if (!response || subrequestError(response)) return [];
  return [problem('API_ACCESS_CONTROL', 'warning', ORG_CONTROL_GUIDANCE.API_ACCESS_CONTROL.message)];
}

function transactionSecurityProblems(response: BatchSubresponse | undefined): OrgControlProblem[] {
  if (!response)
    return [problem('ORG_CONTROLS_UNREADABLE', 'warning', ORG_CONTROL_GUIDANCE.ORG_CONTROLS_UNREADABLE.message)];
  const error = subrequestError(response);
  if (error?.errorCode === 'TXN_SECURITY_NO_ACCESS') {
    return [
      problem(
        'TRANSACTION_SECURITY_BLOCKS_ADMIN',
        'blocking',
        `${ORG_CONTROL_GUIDANCE.TRANSACTION_SECURITY_BLOCKS_ADMIN.message} Salesforce said: ${error.message}`,
      ),
    ];
  }
  // No such object: the org has no Transaction Security (Shield or Event Monitoring), so no policy can block.
  if (error?.errorCode === 'INVALID_TYPE') return [];
  if (error) {
    return [
      problem(
        'ORG_CONTROLS_UNREADABLE',
        'warning',
        `${ORG_CONTROL_GUIDANCE.ORG_CONTROLS_UNREADABLE.message} Salesforce said: ${error.errorCode}: ${error.message}`,
      ),
    ];
  }
  const rows = ((response.result as { records?: PolicyRow[] }).records ?? []).filter((p) =>
    policyBlocks(p.ActionConfig),
  );
  const out: OrgControlProblem[] = [];
  const api = rows.filter((p) => p.EventName === 'ApiEvent');
  if (api.length > 0) {
    const names = api.map((p) => (p.BlockMessage ? `${nameOf(p)} (“${p.BlockMessage}”)` : nameOf(p)));
    out.push(
      problem(
        'TRANSACTION_SECURITY_API_POLICY',
        'warning',
        `Enabled Transaction Security ${api.length === 1 ? 'policy' : 'policies'} on API queries that can block: ${names.join(', ')}. If one matches the integration user, the agent cannot read.`,
      ),
    );
  }
  const login = rows.filter((p) => p.EventName === 'LoginEvent');
  if (login.length > 0) {
    out.push(
      problem(
        'TRANSACTION_SECURITY_LOGIN_POLICY',
        'warning',
        `Enabled Transaction Security ${login.length === 1 ? 'policy' : 'policies'} on logins that can block: ${login.map(nameOf).join(', ')}. If one matches the integration user, its sign-in is refused; the exemption permission does not apply to logins.`,
      ),
    );
  }
  return out;
}

/**
 * Turns the subresponses of `orgControlSubrequests` (same order; a missing one counts as unanswered) into problems,
 * blocking ones first. An empty list means no org control in the way that the API can see.
 */
export function orgControlProblems(responses: readonly (BatchSubresponse | undefined)[]): OrgControlProblem[] {
  const [apiAccess, policies] = responses;
  const all = [...transactionSecurityProblems(policies), ...apiAccessControlProblems(apiAccess)];
  return [...all.filter((p) => p.severity === 'blocking'), ...all.filter((p) => p.severity !== 'blocking')];
}
