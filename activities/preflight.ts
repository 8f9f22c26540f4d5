import { ApplicationFailure } from '@temporalio/common';
import type { AgentConfiguration, AppKind, ComponentNames, SalesforceTarget } from '../workflows/definitions';
import { ErrorType, StepId } from '../workflows/definitions';
import { componentNames } from '../workflows/naming';
import type { SalesforceClients } from '../salesforce/clients';
import { isServiceUsername } from '../salesforce/components';
import type { FieldGrant } from '../salesforce/components';
import { checkConfiguration, describeRequests } from '../salesforce/configuration-check';
import { asSalesforceStep, salesforceFailure } from '../salesforce/errors';
import { compositeBatch, queryUrl, soqlString, subrequestError } from '../salesforce/soql';
import type { BatchSubresponse } from '../salesforce/soql';

const INTEGRATION_LICENSE_NAME = 'Salesforce Integration';
const INTEGRATION_PSL_DEVELOPER_NAME = 'SalesforceAPIIntegrationPsl';

/** The admin permissions an enable needs, with the name Setup shows for each. */
const REQUIRED_ADMIN_PERMISSIONS: Record<string, string> = {
  PermissionsApiEnabled: 'API Enabled',
  PermissionsManageUsers: 'Manage Users',
  PermissionsCustomizeApplication: 'Customize Application',
  PermissionsModifyAllData: 'Modify All Data',
  PermissionsManageProfilesPermissionsets: 'Manage Profiles and Permission Sets',
  PermissionsAssignPermissionSets: 'Assign Permission Sets',
};

export interface PreflightInput {
  tenantId: string;
  operationId: string;
  target: SalesforceTarget;
  appKind: AppKind;
  agentName: string;
  agentConfiguration: AgentConfiguration;
  /**
   * A reconnect's check, before it removes the current connection: components named like the new ones are the
   * current connection's, which the reconnect removes first, not leftovers.
   */
  replacing?: boolean;
}

export interface PreflightResult {
  orgId: string;
  names: ComponentNames;
  integrationProfileId: string;
  permissionSetLicenseId: string;
  grants: FieldGrant[];
  /** An object the readiness check queries as the integration user. */
  probeObject: string;
}

interface QueryResult<T> {
  records: T[];
}

export interface PreflightDependencies {
  clients: SalesforceClients;
  usernameDomain: string;
}

function preflightFailure(problems: string[], fix: string, salesforceCode = 'PREFLIGHT_FAILED'): ApplicationFailure {
  return ApplicationFailure.create({
    type: ErrorType.preflightFailed,
    message: problems.join(' '),
    nonRetryable: true,
    details: [
      {
        salesforceCode,
        salesforceMessage: problems.join(' '),
        message: problems.join(' '),
        fix,
        step: StepId.preflight,
      },
    ],
  });
}

function recordsOf<T>(response: BatchSubresponse | undefined, what: string): T[] {
  if (!response) throw salesforceFailure('UNKNOWN_EXCEPTION', `no answer for ${what}`, StepId.preflight);
  const error = subrequestError(response);
  if (error) throw salesforceFailure(error.errorCode, `${what}: ${error.message}`, StepId.preflight);
  return (response.result as QueryResult<T>).records;
}

export function createPreflightActivities({ clients, usernameDomain }: PreflightDependencies) {
  return {
    /**
     * Everything an enable needs to know before it creates anything, in one Composite Batch call (plus one per
     * 20 more objects): the admin's permissions, the org, the integration license, profile and permission set
     * license, each configured object's fields, and any component left by an earlier connection.
     */
    async preflight(input: PreflightInput): Promise<PreflightResult> {
      return asSalesforceStep(StepId.preflight, async () => {
        if (input.agentConfiguration.objects.length === 0) {
          throw preflightFailure(
            ['The agent configuration names no object to read.'],
            'Configure the objects and fields the agent reads, then enable again.',
          );
        }
        const connection = await clients.admin(input.target, StepId.preflight);
        const provisional = componentNames({ ...input, orgId: '000000000000000', usernameDomain });
        const permissionNames = Object.keys(REQUIRED_ADMIN_PERMISSIONS).join(', ');
        const fixed = [
          queryUrl(`SELECT ${permissionNames} FROM UserPermissionAccess`),
          queryUrl('SELECT Id, Name FROM Organization'),
          queryUrl(
            `SELECT Id, Name, TotalLicenses, UsedLicenses FROM UserLicense WHERE Name = ${soqlString(INTEGRATION_LICENSE_NAME)}`,
          ),
          queryUrl(`SELECT Id, Name FROM Profile WHERE UserLicense.Name = ${soqlString(INTEGRATION_LICENSE_NAME)}`),
          queryUrl(
            `SELECT Id, TotalLicenses, UsedLicenses FROM PermissionSetLicense WHERE DeveloperName = ${soqlString(INTEGRATION_PSL_DEVELOPER_NAME)}`,
          ),
          queryUrl(`SELECT Id, Name FROM PermissionSet WHERE Name = ${soqlString(provisional.permissionSetName)}`),
          queryUrl(`SELECT Id, Name FROM ConnectedApplication WHERE Name = ${soqlString(provisional.appLabel)}`),
          queryUrl(
            `SELECT Id, Username FROM User WHERE IsActive = true AND LastName = ${soqlString(provisional.userLastName)}`,
          ),
        ];
        const responses = await compositeBatch(connection, [
          ...fixed.map((url) => ({ method: 'GET' as const, url })),
          ...describeRequests(input.agentConfiguration),
        ]);
        const [permissions, organization, licenses, profiles, psls, permissionSets, apps, users] = fixed.map(
          (_, i) => responses[i],
        );

        const admin = recordsOf<Record<string, boolean>>(permissions, 'admin permissions')[0] ?? {};
        const missingPermissions = Object.entries(REQUIRED_ADMIN_PERMISSIONS)
          .filter(([field]) => admin[field] !== true)
          .map(([, label]) => label);
        if (missingPermissions.length > 0) {
          throw preflightFailure(
            [`The Salesforce admin lacks these permissions: ${missingPermissions.join(', ')}.`],
            'Sign in with a Salesforce admin who has them (the System Administrator profile does), then enable again.',
            'INSUFFICIENT_ACCESS',
          );
        }
        const org = recordsOf<{ Id: string }>(organization, 'organization')[0];
        if (!org)
          throw salesforceFailure('UNKNOWN_EXCEPTION', 'the org did not return its Organization row', StepId.preflight);

        const problems: string[] = [];
        // A reconnect deactivates the current integration user before it creates the new one: its licenses are freed.
        const freedByRemoval = input.replacing ? 1 : 0;
        const license = recordsOf<{ TotalLicenses: number; UsedLicenses: number }>(licenses, 'user licenses')[0];
        if (!license) problems.push(`The org has no ${INTEGRATION_LICENSE_NAME} user license.`);
        else if (license.UsedLicenses - freedByRemoval >= license.TotalLicenses) {
          throw preflightFailure(
            [`All ${license.TotalLicenses} ${INTEGRATION_LICENSE_NAME} user licenses are in use.`],
            'Free one (deactivate an unused integration user) or buy more in Salesforce, then enable again.',
            'LICENSE_LIMIT_EXCEEDED',
          );
        }
        const profile = recordsOf<{ Id: string }>(profiles, 'integration profile')[0];
        if (!profile)
          problems.push(
            `No profile uses the ${INTEGRATION_LICENSE_NAME} license (Minimum Access - API Only Integrations).`,
          );
        const psl = recordsOf<{ Id: string; TotalLicenses: number; UsedLicenses: number }>(
          psls,
          'permission set licenses',
        )[0];
        if (!psl) problems.push('The org has no Salesforce API Integration permission set license.');
        else if (psl.UsedLicenses - freedByRemoval >= psl.TotalLicenses)
          problems.push('Every Salesforce API Integration permission set license is in use.');

        const leftovers = [
          ...recordsOf<{ Name: string }>(permissionSets, 'permission sets').map((p) => `permission set ${p.Name}`),
          ...recordsOf<{ Name: string }>(apps, 'connected applications').map((a) => `app "${a.Name}"`),
          ...recordsOf<{ Username: string }>(users, 'integration users')
            .filter((u) => isServiceUsername(u.Username, usernameDomain))
            .map((u) => `integration user ${u.Username}`),
        ];
        if (leftovers.length > 0 && !input.replacing) {
          throw preflightFailure(
            [`Components of an earlier connection remain in Salesforce: ${leftovers.join(', ')}.`],
            'Select Reconnect: it removes them and creates the connection again.',
            'LEFTOVER_COMPONENTS',
          );
        }

        const configuration = checkConfiguration(
          input.agentConfiguration,
          responses.slice(fixed.length),
          StepId.preflight,
        );
        const grants = configuration.grants;
        problems.push(...configuration.problems.map((p) => p.message));
        if (problems.length > 0 || !profile || !psl) {
          throw preflightFailure(
            problems,
            'Fix the agent configuration or the org as described, then enable again.',
            problems.some((p) => p.startsWith('Field')) ? 'INVALID_FIELD' : 'INVALID_TYPE',
          );
        }
        const probeObject = grants[0]?.object ?? 'Account';
        return {
          orgId: org.Id,
          names: componentNames({ ...input, orgId: org.Id, usernameDomain }),
          integrationProfileId: profile.Id,
          permissionSetLicenseId: psl.Id,
          grants,
          probeObject,
        };
      });
    },
  };
}
