import { ApplicationFailure } from '@temporalio/common';
import type { Connection } from 'jsforce';
import type { AgentConfiguration, SalesforceTarget, SecretRef } from '../workflows/definitions';
import { ErrorType, StepId } from '../workflows/definitions';
import { isRetry } from '../salesforce/call-retry';
import type { SalesforceClients } from '../salesforce/clients';
import type { FieldGrant } from '../salesforce/components';
import { replaceInComposites } from '../salesforce/composite';
import { checkConfiguration, describeRequests } from '../salesforce/configuration-check';
import { asSalesforceStep, salesforceFailure } from '../salesforce/errors';
import { compositeBatch, queryUrl, soqlString, subrequestError } from '../salesforce/soql';
import type { BatchSubresponse } from '../salesforce/soql';

/** The rows a permission set holds, by id: what an update of its grants deletes or keeps. */
export interface PermissionRows {
  objects: { id: string; object: string }[];
  /** `Object.Field` */
  fields: { id: string; field: string }[];
}

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

const rowQueries = (permissionSetId: string) => [
  queryUrl(`SELECT Id, SobjectType FROM ObjectPermissions WHERE ParentId = ${soqlString(permissionSetId)}`),
  queryUrl(`SELECT Id, SobjectType, Field FROM FieldPermissions WHERE ParentId = ${soqlString(permissionSetId)}`),
];

function recordsOf<T>(response: BatchSubresponse | undefined, step: StepId): T[] {
  if (!response) throw salesforceFailure('UNKNOWN_EXCEPTION', 'no answer for a permission query', step);
  const error = subrequestError(response);
  if (error) throw salesforceFailure(error.errorCode, error.message, step);
  return (response.result as { records: T[] }).records;
}

function rowsOf(responses: (BatchSubresponse | undefined)[], step: StepId): PermissionRows {
  return {
    objects: recordsOf<{ Id: string; SobjectType: string }>(responses[0], step).map((r) => ({
      id: r.Id,
      object: r.SobjectType,
    })),
    fields: recordsOf<{ Id: string; Field: string }>(responses[1], step).map((r) => ({ id: r.Id, field: r.Field })),
  };
}

async function readRows(connection: Connection, permissionSetId: string, step: StepId): Promise<PermissionRows> {
  const requests = rowQueries(permissionSetId).map((url) => ({ method: 'GET' as const, url }));
  return rowsOf(await compositeBatch(connection, requests), step);
}

/** What the rows grant, as grants (the fields readable through object access alone are not rows, so not listed). */
function grantsOf(rows: PermissionRows): FieldGrant[] {
  return rows.objects.map(({ object }) => {
    const fieldPermissions = rows.fields
      .filter((f) => f.field.toLowerCase().startsWith(`${object.toLowerCase()}.`))
      .map((f) => f.field);
    return { object, fieldPermissions, fields: fieldPermissions.map((f) => f.slice(object.length + 1)) };
  });
}

const lower = (values: string[]) => new Set(values.map((v) => v.toLowerCase()));

/** The rows to delete and to insert so that the permission set grants exactly `grants`. */
export function permissionChange(rows: PermissionRows, grants: FieldGrant[], permissionSetId: string) {
  const wantedObjects = lower(grants.map((g) => g.object));
  const wantedFields = lower(grants.flatMap((g) => g.fieldPermissions));
  const haveObjects = lower(rows.objects.map((r) => r.object));
  const haveFields = lower(rows.fields.map((r) => r.field));
  const deleteIds = [
    ...rows.fields.filter((r) => !wantedFields.has(r.field.toLowerCase())).map((r) => r.id),
    ...rows.objects.filter((r) => !wantedObjects.has(r.object.toLowerCase())).map((r) => r.id),
  ];
  const objectRows = grants
    .filter((g) => !haveObjects.has(g.object.toLowerCase()))
    .map((g) => ({ ParentId: permissionSetId, SobjectType: g.object, PermissionsRead: true }));
  const fieldRows = grants.flatMap((g) =>
    g.fieldPermissions
      .filter((f) => !haveFields.has(f.toLowerCase()))
      .map((field) => ({ ParentId: permissionSetId, SobjectType: g.object, Field: field, PermissionsRead: true })),
  );
  return {
    deleteIds,
    inserts: [
      { type: 'ObjectPermissions', oneByOne: true, records: objectRows },
      { type: 'FieldPermissions', records: fieldRows },
    ],
  };
}

function probeOf(grants: FieldGrant[], previous: FieldGrant[]): AccessPlan['probe'] {
  const had = lower(previous.flatMap((g) => g.fieldPermissions));
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
        const rows = input.rows && !isRetry() ? input.rows : await readRows(connection, input.permissionSetId, step);
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
