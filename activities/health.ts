import type { Connection } from 'jsforce';
import type { ConnectionDetails, HealthProblem, HealthReport, SalesforceTarget } from '../workflows/definitions';
import { StepId } from '../workflows/definitions';
import { externalClientAppParts, readMetadata } from './client-app';
import type { SalesforceClients } from '../salesforce/clients';
import { asSalesforceStep, isUnansweredCall } from '../salesforce/errors';
import { queryAll, soqlString } from '../salesforce/soql';

export interface HealthCheckActivityInput {
  target: SalesforceTarget;
  details: ConnectionDetails;
  probeObject: string;
  rotateBeforeDays: number;
}

const DAY_MS = 86_400_000;

function problem(kind: HealthProblem['kind'], message: string, fix: string, drift = false): HealthProblem {
  return { kind, message, fix, drift };
}

/** Why a JWT login failed, in the admin's terms. */
function loginProblem(err: unknown): HealthProblem {
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'invalid_client_id') {
    return problem(
      'app_missing',
      `Salesforce no longer knows the connection's app (${message}).`,
      'Select Reconnect to create the app again.',
    );
  }
  if (/inactive/i.test(message)) {
    return problem(
      'user_inactive',
      'The integration user was deactivated in Salesforce.',
      'Select Reconnect, or reactivate the integration user in Setup > Users.',
    );
  }
  if (/approved|not admin approved/i.test(message) || name === 'invalid_app_access') {
    return problem(
      'assignment_missing',
      'The integration user is no longer pre-authorized for the app (its permission set was unassigned or unlinked).',
      'Select Reconnect, or assign the connection’s permission set to the integration user again.',
    );
  }
  return problem('login_failed', `The integration user cannot sign in: ${message}`, 'Select Reconnect.');
}

async function compareWithSalesforce(connection: Connection, details: ConnectionDetails): Promise<HealthProblem[]> {
  const problems: HealthProblem[] = [];
  const [user] = await queryAll<{ Id: string; IsActive: boolean }>(
    connection,
    `SELECT Id, IsActive FROM User WHERE Id = ${soqlString(details.integrationUserId)}`,
  );
  if (!user) problems.push(problem('user_missing', 'The integration user is gone.', 'Select Reconnect.'));
  else if (!user.IsActive) {
    problems.push(
      problem(
        'user_inactive',
        'The integration user was deactivated in Salesforce.',
        'Select Reconnect, or reactivate the integration user in Setup > Users.',
      ),
    );
  }

  const objectRows = await queryAll<{ SobjectType: string }>(
    connection,
    `SELECT Id, SobjectType FROM ObjectPermissions WHERE ParentId = ${soqlString(details.permissionSetId)}`,
  );
  const fieldRows = await queryAll<{ Field: string }>(
    connection,
    `SELECT Id, Field FROM FieldPermissions WHERE ParentId = ${soqlString(details.permissionSetId)}`,
  );
  const objects = new Set(objectRows.map((r) => r.SobjectType.toLowerCase()));
  const fields = new Set(fieldRows.map((r) => r.Field.toLowerCase()));
  for (const granted of details.grantedObjects) {
    if (!objects.has(granted.object.toLowerCase())) {
      problems.push(
        problem(
          'permission_missing',
          `Read access to ${granted.object} was removed from the permission set.`,
          'Select Reconnect to grant it again.',
        ),
      );
    }
  }
  const expectedFields = new Set(details.grantedFieldPermissions?.map((f) => f.toLowerCase()) ?? []);
  for (const field of expectedFields) {
    if (!fields.has(field)) {
      problems.push(
        problem(
          'permission_missing',
          `Read access to ${field} was removed from the permission set.`,
          'Select Reconnect to grant it again.',
        ),
      );
    }
  }
  const grantedObjects = new Set(details.grantedObjects.map((o) => o.object.toLowerCase()));
  const extra = [
    ...objectRows.filter((r) => !grantedObjects.has(r.SobjectType.toLowerCase())).map((r) => r.SobjectType),
    ...(details.grantedFieldPermissions
      ? fieldRows.filter((r) => !expectedFields.has(r.Field.toLowerCase())).map((r) => r.Field)
      : []),
  ];
  if (extra.length > 0) {
    problems.push(
      problem(
        'extra_permission',
        `Someone added grants to the connection’s permission set by hand: ${extra.join(', ')}.`,
        'Remove them in Salesforce, or select Reconnect to restore least privilege.',
        true,
      ),
    );
  }

  if (details.appKind === 'external_client_app') {
    const policies = externalClientAppParts(details.appApiName).policies;
    const current = await readMetadata<{ permittedUsersPolicyType: string; commaSeparatedPermissionSet: string }>(
      connection,
      policies.type,
      policies.fullName,
    );
    if (!current.fullName) {
      problems.push(problem('app_missing', 'The app’s OAuth policies were deleted.', 'Select Reconnect.'));
    } else if (
      current.permittedUsersPolicyType !== 'AdminApprovedPreAuthorized' ||
      !String(current.commaSeparatedPermissionSet ?? '')
        .split(',')
        .map((p) => p.trim())
        .includes(details.permissionSetName)
    ) {
      problems.push(
        problem(
          'app_policy_changed',
          'The app’s policies were changed: it is no longer limited to the pre-authorized permission set.',
          'Select Reconnect to restore the policies.',
          true,
        ),
      );
    }
  } else {
    const app = await readMetadata<{ oauthConfig: { isAdminApproved?: string | boolean } }>(
      connection,
      'ConnectedApp',
      details.appApiName,
    );
    if (!app.fullName) problems.push(problem('app_missing', 'The connected app was deleted.', 'Select Reconnect.'));
    else if (String(app.oauthConfig?.isAdminApproved) !== 'true') {
      problems.push(
        problem(
          'app_policy_changed',
          'The connected app no longer limits access to admin-approved users.',
          'Select Reconnect to restore the policy.',
          true,
        ),
      );
    }
  }
  return problems;
}

export function createHealthActivities({ clients }: { clients: SalesforceClients }) {
  return {
    /**
     * Checks a connection end to end — a JWT login as the integration user and a query on a granted object — and
     * compares what Salesforce holds (user, app policies, permission rows) with what the service created.
     */
    async checkConnectionHealth(input: HealthCheckActivityInput): Promise<HealthReport> {
      const step = StepId.healthCheck;
      return asSalesforceStep(step, async () => {
        const { details } = input;
        const problems: HealthProblem[] = [];
        try {
          const token = await clients.requestAgentToken({
            loginUrl: details.loginUrl,
            consumerKey: details.consumerKey,
            username: details.integrationUsername,
            privateKey: details.privateKey,
            step,
          });
          try {
            await clients.agentConnection(token).query(`SELECT Id FROM ${input.probeObject} LIMIT 1`);
          } catch (err) {
            if (isUnansweredCall(err)) throw err;
            problems.push(
              problem(
                'query_failed',
                `The integration user cannot read ${input.probeObject}: ${(err as Error).message}`,
                'Select Reconnect to grant the access again.',
              ),
            );
          }
        } catch (err) {
          // A lost answer or an outage says nothing about the connection: the attempt fails and is retried, rather
          // than reporting the connection broken (which would put it in error until the next check).
          if (isUnansweredCall(err)) throw err;
          problems.push(loginProblem(err));
        }
        const admin = await clients.admin(input.target, step);
        for (const found of await compareWithSalesforce(admin, details)) {
          if (!problems.some((p) => p.kind === found.kind)) problems.push(found);
        }
        const expiresInMs = Date.parse(details.certificateExpiresAt) - Date.now();
        if (expiresInMs < input.rotateBeforeDays * DAY_MS) {
          problems.push(
            problem(
              'certificate_expiring',
              `The JWT certificate expires on ${details.certificateExpiresAt}.`,
              'It is rotated automatically; you can also rotate it now.',
              true,
            ),
          );
        }
        return {
          checkedAt: new Date().toISOString(),
          ok: problems.every((p) => p.drift),
          problems,
          certificateExpiresAt: details.certificateExpiresAt,
        };
      });
    },
  };
}
