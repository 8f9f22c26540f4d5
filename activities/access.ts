import { ApplicationFailure } from '@temporalio/common';
import type { AgentConfiguration, SalesforceTarget, SecretRef } from '../workflows/definitions';
import { ErrorType, StepId } from '../workflows/definitions';
import { isRetry } from '../salesforce/call-retry';
import type { SalesforceClients } from '../salesforce/clients';
import type { FieldGrant } from '../salesforce/components';
import { replaceInComposites } from '../salesforce/composite';
import { grantsOf, permissionChange, readPermissionRows, rowQueries, rowsOf } from '../salesforce/permission-rows';
import type { PermissionRows } from '../salesforce/permission-rows';
import { checkConfiguration, describeRequests } from '../salesforce/configuration-check';
import { asSalesforceStep } from '../salesforce/errors';
import { compositeBatch } from '../salesforce/soql';

export interface AccessPlan {
  /** What the permission set will grant: the configuration, as the org's describe resolved it. */
  grants: FieldGrant[];
  /** What it grants now, to put back if the update has to be undone. */
  previous: FieldGrant[];
  rows: PermissionRows;
  /** A granted object the integration user queries to prove its access, with the fields newly granted on it. */
  probe: { object: string; fields: string[] };
}

export interface PermissionSetTarget {
  target: SalesforceTarget;
  permissionSetId: string;
}

function probeOf(grants: FieldGrant[], previous: FieldGrant[]): AccessPlan['probe'] {
  const had = new Set(previous.flatMap((g) => g.fieldPermissions.map((f) => f.toLowerCase())));
  const withNewFields = grants.find((g) => g.fieldPermissions.some((f) => !had.has(f.toLowerCase())));
  const grant = withNewFields ?? grants[0];
  const fields = (grant?.fieldPermissions ?? []).filter((f) => !had.has(f.toLowerCase())).map((f) => f.split('.')[1]!);
  return { object: grant?.object ?? 'Account', fields };
}

export function createAccessActivities({ clients }: { clients: SalesforceClients }) {
  return {
    /**
     * Checks a new configuration against the org and reads what the permission set grants now, in one Composite
     * Batch call: the describes of every configured object and the permission set's rows.
     */
    async planAccessUpdate(
      input: PermissionSetTarget & { agentConfiguration: AgentConfiguration },
    ): Promise<AccessPlan> {
      const step = StepId.preflight;
      return asSalesforceStep(step, async () => {
        const connection = await clients.admin(input.target, step);
        const describes = describeRequests(input.agentConfiguration);
        const responses = await compositeBatch(connection, [
          ...describes,
          ...rowQueries(input.permissionSetId).map((url) => ({ method: 'GET' as const, url })),
        ]);
        const check = checkConfiguration(input.agentConfiguration, responses.slice(0, describes.length), step);
        if (check.problems.length > 0) {
          const message = check.problems.map((p) => p.message).join(' ');
          throw ApplicationFailure.create({
            type: ErrorType.preflightFailed,
            message,
            nonRetryable: true,
            details: [
              {
                salesforceCode: 'INVALID_FIELD',
                message,
                fix: 'Fix the agent configuration, then update access again. Nothing was changed.',
                step,
              },
            ],
          });
        }
        const rows = rowsOf(responses.slice(describes.length), step);
        const previous = grantsOf(rows);
        return { grants: check.grants, previous, rows, probe: probeOf(check.grants, previous) };
      });
    },

    /**
     * Makes the permission set grant exactly `grants`: the rows to remove and to add in one all-or-none Composite
     * call. The first attempt works from the rows the plan read; a retry reads them again, since an earlier attempt
     * may have landed. Applying the same grants twice changes nothing.
     */
    async setPermissionSetGrants(
      input: PermissionSetTarget & { grants: FieldGrant[]; rows?: PermissionRows },
    ): Promise<void> {
      const step = StepId.updatePermissionSet;
      return asSalesforceStep(step, async () => {
        const connection = await clients.admin(input.target, step);
        const rows =
          input.rows && !isRetry() ? input.rows : await readPermissionRows(connection, input.permissionSetId, step);
        const change = permissionChange(rows, input.grants, input.permissionSetId);
        const inserts = change.inserts.filter((g) => g.records.length > 0);
        if (change.deleteIds.length === 0 && inserts.length === 0) return;
        await replaceInComposites(connection, { deleteIds: change.deleteIds, inserts }, step);
      });
    },

    /** The integration user signs in and reads the probe object's newly granted fields: the grants work. */
    async verifyFieldAccess(input: {
      loginUrl: string;
      consumerKey: string;
      username: string;
      privateKey: SecretRef;
      probe: AccessPlan['probe'];
    }): Promise<void> {
      const step = StepId.verifyAccess;
      return asSalesforceStep(step, async () => {
        const token = await clients.requestAgentToken({ ...input, step });
        const fields = ['Id', ...input.probe.fields].join(', ');
        await clients.agentConnection(token).query(`SELECT ${fields} FROM ${input.probe.object} LIMIT 1`);
      });
    },
  };
}
