/**
 * Everything an enable (or a reconnect, or a plan of either) needs to know of an org before it creates anything, read
 * in one Composite Batch call: the admin's permissions, the org, the integration license, profile and permission set
 * license, each configured object's fields, and any component left by an earlier connection. Reads only.
 */
import type { Connection } from 'jsforce';
import type { AgentConfiguration, ComponentNames, StepId } from '../workflows/definitions';
import { componentNames } from '../workflows/naming';
import { isServiceUsername } from './components';
import type { ConfigurationCheck } from './configuration-check';
import { checkConfiguration, describeRequests } from './configuration-check';
import { salesforceFailure } from './errors';
import { orgControlProblems, orgControlSubrequests } from './org-controls';
import type { OrgControlProblem } from './org-controls';
import { compositeBatch, queryUrl, soqlString, subrequestError } from './soql';
import type { BatchSubresponse } from './soql';

export const INTEGRATION_LICENSE_NAME = 'Salesforce Integration';
export const INTEGRATION_PSL_NAME = 'Salesforce API Integration';
export const INTEGRATION_PSL_DEVELOPER_NAME = 'SalesforceAPIIntegrationPsl';
export const INTEGRATION_PROFILE_NAME = 'Minimum Access - API Only Integrations';

/** The admin permissions an enable needs, with the name Setup shows for each. */
const REQUIRED_ADMIN_PERMISSIONS: Record<string, string> = {
  PermissionsApiEnabled: 'API Enabled',
  PermissionsManageUsers: 'Manage Users',
  PermissionsCustomizeApplication: 'Customize Application',
  PermissionsModifyAllData: 'Modify All Data',
  PermissionsManageProfilesPermissionsets: 'Manage Profiles and Permission Sets',
  PermissionsAssignPermissionSets: 'Assign Permission Sets',
};

export interface LicenseCount {
  id: string;
  total: number;
  used: number;
}

export interface OrgInspection {
  orgId: string;
  names: ComponentNames;
  /** Setup's names of the permissions the admin lacks. */
  missingAdminPermissions: string[];
  integrationLicense?: LicenseCount;
  permissionSetLicense?: LicenseCount;
  integrationProfileId?: string;
  /** Components named like the new connection's: an earlier connection's leftovers, or the current connection's. */
  existingComponents: string[];
  /** Org controls in the way (API Access Control, Transaction Security), blocking ones first. */
  orgControls: OrgControlProblem[];
  configuration: ConfigurationCheck;
}

export interface InspectionInput {
  tenantId: string;
  operationId: string;
  agentName: string;
  agentConfiguration: AgentConfiguration;
  usernameDomain: string;
  /** The suffix of a make-before-break reconnect's new components (see componentNames). */
  generation?: string;
}

function recordsOf<T>(response: BatchSubresponse | undefined, what: string, step: StepId): T[] {
  if (!response) throw salesforceFailure('UNKNOWN_EXCEPTION', `no answer for ${what}`, step);
  const error = subrequestError(response);
  if (error) throw salesforceFailure(error.errorCode, `${what}: ${error.message}`, step);
  return (response.result as { records: T[] }).records;
}

const INTEGRATION_LICENSE_QUERY = queryUrl(
  `SELECT Id, Name, TotalLicenses, UsedLicenses FROM UserLicense WHERE Name = ${soqlString(INTEGRATION_LICENSE_NAME)}`,
);
const INTEGRATION_PSL_QUERY = queryUrl(
  `SELECT Id, TotalLicenses, UsedLicenses FROM PermissionSetLicense WHERE DeveloperName = ${soqlString(INTEGRATION_PSL_DEVELOPER_NAME)}`,
);

function queries(names: ComponentNames): string[] {
  return [
    queryUrl(`SELECT ${Object.keys(REQUIRED_ADMIN_PERMISSIONS).join(', ')} FROM UserPermissionAccess`),
    queryUrl('SELECT Id, Name FROM Organization'),
    INTEGRATION_LICENSE_QUERY,
    queryUrl(`SELECT Id, Name FROM Profile WHERE UserLicense.Name = ${soqlString(INTEGRATION_LICENSE_NAME)}`),
    INTEGRATION_PSL_QUERY,
    queryUrl(`SELECT Id, Name FROM PermissionSet WHERE Name = ${soqlString(names.permissionSetName)}`),
    queryUrl(`SELECT Id, Name FROM ConnectedApplication WHERE Name = ${soqlString(names.appLabel)}`),
    queryUrl(`SELECT Id, Username FROM User WHERE IsActive = true AND LastName = ${soqlString(names.userLastName)}`),
  ];
}

const licenseOf = (row: { Id: string; TotalLicenses: number; UsedLicenses: number } | undefined) =>
  row ? { id: row.Id, total: row.TotalLicenses, used: row.UsedLicenses } : undefined;

/** How many Composite Batch calls an inspection takes: one per 25 subrequests. */
export function inspectionCalls(objects: number): number {
  return Math.ceil((8 + orgControlSubrequests.length + objects) / 25);
}

/** Reads the org as its admin, in one Composite Batch call (plus one per 25 more objects). */
export async function inspectOrg(connection: Connection, input: InspectionInput, step: StepId): Promise<OrgInspection> {
  const provisional = componentNames({ ...input, orgId: '000000000000000' });
  const fixed = queries(provisional);
  const responses = await compositeBatch(connection, [
    ...fixed.map((url) => ({ method: 'GET' as const, url })),
    ...orgControlSubrequests,
    ...describeRequests(input.agentConfiguration),
  ]);
  const controls = responses.slice(fixed.length, fixed.length + orgControlSubrequests.length);
  const describes = responses.slice(fixed.length + orgControlSubrequests.length);
  const [permissions, organization, licenses, profiles, psls, permissionSets, apps, users] = fixed.map(
    (_, i) => responses[i],
  );
  const admin = recordsOf<Record<string, boolean>>(permissions, 'admin permissions', step)[0] ?? {};
  const org = recordsOf<{ Id: string }>(organization, 'organization', step)[0];
  if (!org) throw salesforceFailure('UNKNOWN_EXCEPTION', 'the org did not return its Organization row', step);
  return {
    orgId: org.Id,
    names: componentNames({ ...input, orgId: org.Id }),
    missingAdminPermissions: Object.entries(REQUIRED_ADMIN_PERMISSIONS)
      .filter(([field]) => admin[field] !== true)
      .map(([, label]) => label),
    integrationLicense: licenseOf(recordsOf<LicenseRow>(licenses, 'user licenses', step)[0]),
    permissionSetLicense: licenseOf(recordsOf<LicenseRow>(psls, 'permission set licenses', step)[0]),
    integrationProfileId: recordsOf<{ Id: string }>(profiles, 'integration profile', step)[0]?.Id,
    existingComponents: [
      ...recordsOf<{ Name: string }>(permissionSets, 'permission sets', step).map((p) => `permission set ${p.Name}`),
      ...recordsOf<{ Name: string }>(apps, 'connected applications', step).map((a) => `app "${a.Name}"`),
      ...recordsOf<{ Username: string }>(users, 'integration users', step)
        .filter((u) => isServiceUsername(u.Username, input.usernameDomain))
        .map((u) => `integration user ${u.Username}`),
    ],
    orgControls: orgControlProblems(controls),
    configuration: checkConfiguration(input.agentConfiguration, describes, step),
  };
}

/** One reason the org cannot take the new connection, with Salesforce's code and what the admin should do. */
export interface InspectionProblem {
  code: string;
  message: string;
  fix: string;
}

type LicenseRow = { Id: string; TotalLicenses: number; UsedLicenses: number };

/** The integration user licenses and permission set licenses, total and used, in one Composite Batch call. */
export async function readIntegrationLicenses(
  connection: Connection,
  step: StepId,
): Promise<Pick<OrgInspection, 'integrationLicense' | 'permissionSetLicense'>> {
  const [licenses, psls] = await compositeBatch(connection, [
    { method: 'GET', url: INTEGRATION_LICENSE_QUERY },
    { method: 'GET', url: INTEGRATION_PSL_QUERY },
  ]);
  return {
    integrationLicense: licenseOf(recordsOf<LicenseRow>(licenses, 'user licenses', step)[0]),
    permissionSetLicense: licenseOf(recordsOf<LicenseRow>(psls, 'permission set licenses', step)[0]),
  };
}

/** Whether the org has a spare integration user license and permission set license beside the ones in use. */
export function hasSpareLicenses(
  inspection: Pick<OrgInspection, 'integrationLicense' | 'permissionSetLicense'>,
): boolean {
  const spare = (l?: LicenseCount) => l !== undefined && l.used < l.total;
  return spare(inspection.integrationLicense) && spare(inspection.permissionSetLicense);
}

/** The confirmation a reconnect needs when the org has no license for the overlap of old and new components. */
export const BREAK_BEFORE_MAKE_FLAG = 'breakBeforeMake';

/** Why a reconnect cannot keep the current connection up while it creates the new one. */
export function noOverlapProblem(inspection: Pick<OrgInspection, 'integrationLicense'>): InspectionProblem {
  const license = inspection.integrationLicense;
  const count = license ? `All ${license.total} ${INTEGRATION_LICENSE_NAME} user licenses are in use` : 'No license';
  return {
    code: 'LICENSE_LIMIT_EXCEEDED',
    message:
      `${count}: recreating the connection without downtime needs one more for the new integration user while the ` +
      'current one keeps working.',
    fix:
      'Free or buy one integration license, then reconnect again; or confirm a reconnect that removes the current ' +
      `connection first (the agent loses access for a few minutes) with "${BREAK_BEFORE_MAKE_FLAG}": true.`,
  };
}

/**
 * What stands in the way, most fundamental first (the preflight fails with the first group). `replacing`: a
 * reconnect removes the current connection first, which frees its licenses and its names; with `overlap` (make
 * before break) it removes them only after the new one works, so the names are free but the licenses are not.
 */
export function inspectionProblems(
  inspection: OrgInspection,
  options: { replacing?: boolean; overlap?: boolean },
): InspectionProblem[][] {
  const groups: InspectionProblem[][] = [];
  if (inspection.missingAdminPermissions.length > 0) {
    groups.push([
      {
        code: 'INSUFFICIENT_ACCESS',
        message: `The Salesforce admin lacks these permissions: ${inspection.missingAdminPermissions.join(', ')}.`,
        fix: 'Sign in with a Salesforce admin who has them (the System Administrator profile does), then enable again.',
      },
    ]);
  }
  const blocking = inspection.orgControls.filter((p) => p.severity === 'blocking');
  if (blocking.length > 0) groups.push(blocking.map(({ code, message, fix }) => ({ code, message, fix })));
  const freed = options.replacing && !options.overlap ? 1 : 0;
  const license = inspection.integrationLicense;
  if (options.overlap && license && !hasSpareLicenses(inspection)) {
    groups.push([noOverlapProblem(inspection)]);
  } else if (license && license.used - freed >= license.total) {
    groups.push([
      {
        code: 'LICENSE_LIMIT_EXCEEDED',
        message:
          license.total === 0
            ? `The org has no ${INTEGRATION_LICENSE_NAME} user license to give the integration user.`
            : `All ${license.total} ${INTEGRATION_LICENSE_NAME} user licenses are in use.`,
        fix: 'Free one (deactivate an unused integration user) or buy more in Salesforce, then enable again.',
      },
    ]);
  }
  if (inspection.existingComponents.length > 0 && !options.replacing) {
    groups.push([
      {
        code: 'LEFTOVER_COMPONENTS',
        message: `Components of an earlier connection remain in Salesforce: ${inspection.existingComponents.join(', ')}.`,
        fix: 'Select Reconnect: it removes them and creates the connection again.',
      },
    ]);
  }
  const messages: string[] = [];
  if (!license) messages.push(`The org has no ${INTEGRATION_LICENSE_NAME} user license.`);
  if (!inspection.integrationProfileId) {
    messages.push(`No profile uses the ${INTEGRATION_LICENSE_NAME} license (${INTEGRATION_PROFILE_NAME}).`);
  }
  const psl = inspection.permissionSetLicense;
  if (!psl) messages.push('The org has no Salesforce API Integration permission set license.');
  else if (psl.used - freed >= psl.total) {
    messages.push('Every Salesforce API Integration permission set license is in use.');
  }
  messages.push(...inspection.configuration.problems.map((p) => p.message));
  if (messages.length > 0) {
    const code = inspection.configuration.problems.some((p) => p.field) ? 'INVALID_FIELD' : 'INVALID_TYPE';
    const fix = 'Fix the agent configuration or the org as described, then enable again.';
    groups.push(messages.map((message) => ({ code, message, fix })));
  }
  return groups;
}
