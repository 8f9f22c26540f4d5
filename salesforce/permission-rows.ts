/**
 * The object and field permission rows of a permission set: reading them, what they grant, and the change that makes
 * them grant exactly a configuration. Used by update access and by its plan.
 */
import type { Connection } from 'jsforce';
import type { StepId } from '../workflows/definitions';
import type { FieldGrant } from './components';
import type { InsertGroup } from './composite';
import { salesforceFailure } from './errors';
import { compositeBatch, queryUrl, soqlString, subrequestError } from './soql';
import type { BatchSubresponse } from './soql';

/** The rows a permission set holds, by id: what an update of its grants deletes or keeps. */
export interface PermissionRows {
  objects: { id: string; object: string }[];
  /** `Object.Field` */
  fields: { id: string; field: string }[];
}

export const rowQueries = (permissionSetId: string) => [
  queryUrl(`SELECT Id, SobjectType FROM ObjectPermissions WHERE ParentId = ${soqlString(permissionSetId)}`),
  queryUrl(`SELECT Id, SobjectType, Field FROM FieldPermissions WHERE ParentId = ${soqlString(permissionSetId)}`),
];

function recordsOf<T>(response: BatchSubresponse | undefined, step: StepId): T[] {
  if (!response) throw salesforceFailure('UNKNOWN_EXCEPTION', 'no answer for a permission query', step);
  const error = subrequestError(response);
  if (error) throw salesforceFailure(error.errorCode, error.message, step);
  return (response.result as { records: T[] }).records;
}

export function rowsOf(responses: (BatchSubresponse | undefined)[], step: StepId): PermissionRows {
  return {
    objects: recordsOf<{ Id: string; SobjectType: string }>(responses[0], step).map((r) => ({
      id: r.Id,
      object: r.SobjectType,
    })),
    fields: recordsOf<{ Id: string; Field: string }>(responses[1], step).map((r) => ({ id: r.Id, field: r.Field })),
  };
}

export async function readPermissionRows(
  connection: Connection,
  permissionSetId: string,
  step: StepId,
): Promise<PermissionRows> {
  const requests = rowQueries(permissionSetId).map((url) => ({ method: 'GET' as const, url }));
  return rowsOf(await compositeBatch(connection, requests), step);
}

/** What the rows grant, as grants (the fields readable through object access alone are not rows, so not listed). */
export function grantsOf(rows: PermissionRows): FieldGrant[] {
  return rows.objects.map(({ object }) => {
    const fieldPermissions = rows.fields
      .filter((f) => f.field.toLowerCase().startsWith(`${object.toLowerCase()}.`))
      .map((f) => f.field);
    return { object, fieldPermissions, fields: fieldPermissions.map((f) => f.slice(object.length + 1)) };
  });
}

const lower = (values: string[]) => new Set(values.map((v) => v.toLowerCase()));

/** What a change grants or revokes, per object (an object alone when its own access changes). */
function byObject(objects: string[], fields: string[]): FieldGrant[] {
  const names = [...new Set([...objects, ...fields.map((f) => f.split('.')[0]!)])].sort();
  return names.map((object) => {
    const fieldPermissions = fields.filter((f) => f.split('.')[0] === object);
    return { object, fieldPermissions, fields: fieldPermissions.map((f) => f.slice(object.length + 1)) };
  });
}

export interface PermissionChange {
  deleteIds: string[];
  inserts: InsertGroup[];
  /** What the change adds, and what it takes away, per object. */
  granted: FieldGrant[];
  revoked: FieldGrant[];
}

/** The rows to delete and to insert so that the permission set grants exactly `grants`. */
export function permissionChange(
  rows: PermissionRows,
  grants: FieldGrant[],
  permissionSetId: string,
): PermissionChange {
  const wantedObjects = lower(grants.map((g) => g.object));
  const wantedFields = lower(grants.flatMap((g) => g.fieldPermissions));
  const haveObjects = lower(rows.objects.map((r) => r.object));
  const haveFields = lower(rows.fields.map((r) => r.field));
  const revokedFields = rows.fields.filter((r) => !wantedFields.has(r.field.toLowerCase()));
  const revokedObjects = rows.objects.filter((r) => !wantedObjects.has(r.object.toLowerCase()));
  const grantedObjects = grants.filter((g) => !haveObjects.has(g.object.toLowerCase()));
  const grantedFields = grants.flatMap((g) =>
    g.fieldPermissions.filter((f) => !haveFields.has(f.toLowerCase())).map((field) => ({ object: g.object, field })),
  );
  return {
    deleteIds: [...revokedFields.map((r) => r.id), ...revokedObjects.map((r) => r.id)],
    inserts: [
      {
        type: 'ObjectPermissions',
        oneByOne: true,
        records: grantedObjects.map((g) => ({
          ParentId: permissionSetId,
          SobjectType: g.object,
          PermissionsRead: true,
        })),
      },
      {
        type: 'FieldPermissions',
        records: grantedFields.map(({ object, field }) => ({
          ParentId: permissionSetId,
          SobjectType: object,
          Field: field,
          PermissionsRead: true,
        })),
      },
    ],
    granted: byObject(
      grantedObjects.map((g) => g.object),
      grantedFields.map((f) => f.field),
    ),
    revoked: byObject(
      revokedObjects.map((r) => r.object),
      revokedFields.map((r) => r.field),
    ),
  };
}
