/**
 * Finding and removing what this service creates in an org, for every activity that needs it: the permission set by
 * name, the integration users by their usernames, records by id. Activities share these through here, never through
 * each other.
 */
import type { Connection } from 'jsforce';
import { failureFromResultErrors, isNotFound } from './errors';
import type { ResultError } from './errors';
import type { StepId } from '../workflows/definitions';
import { queryAll, soqlString } from './soql';

/** Read access to one object, as preflight checked it against the org and the permission set grants it. */
export interface FieldGrant {
  object: string;
  /** Fields that get a FieldPermissions row (`Object.Field`). */
  fieldPermissions: string[];
  /** Every configured field; required fields are readable through object access alone. */
  fields: string[];
}

export interface PermissionSetRef {
  id: string;
  name: string;
}

export async function findPermissionSet(connection: Connection, name: string): Promise<PermissionSetRef | undefined> {
  const [found] = await queryAll<{ Id: string; Name: string }>(
    connection,
    `SELECT Id, Name FROM PermissionSet WHERE Name = ${soqlString(name)}`,
  );
  return found ? { id: found.Id, name: found.Name } : undefined;
}

/** Whether a username is one this service gives its integration users (`<agent>.<hash>@<org>.<our domain>`). */
export function isServiceUsername(username: string, usernameDomain: string): boolean {
  return username.toLowerCase().endsWith(`.${usernameDomain.toLowerCase()}`);
}

interface SaveResultLike {
  id?: string;
  success: boolean;
  errors: ResultError[];
}

/** Deletes records by id; one that is gone already counts as deleted, any other failure fails the step. */
export async function destroyAll(connection: Connection, type: string, ids: string[], step: StepId): Promise<void> {
  if (ids.length === 0) return;
  const results = (await connection.destroy(type, ids, { allOrNone: false, allowRecursive: true })) as SaveResultLike[];
  const failed = results.find(
    (r) => !r.success && !r.errors.some((e) => isNotFound({ errorCode: e.statusCode ?? e.errorCode })),
  );
  if (failed) throw failureFromResultErrors(failed.errors, step);
}
