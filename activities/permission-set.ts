import type { ComponentNames, SalesforceTarget } from '../workflows/definitions';
import { StepId } from '../workflows/definitions';
import { isRetry } from '../salesforce/call-retry';
import type { SalesforceClients } from '../salesforce/clients';
import { destroyAll, findPermissionSet } from '../salesforce/components';
import type { FieldGrant, PermissionSetRef } from '../salesforce/components';
import { insertInComposites } from '../salesforce/composite';
import { asSalesforceStep, isDuplicate, isNotFound } from '../salesforce/errors';
import { queryAll, soqlString } from '../salesforce/soql';

export interface CreatePermissionSetInput {
  target: SalesforceTarget;
  names: ComponentNames;
  grants: FieldGrant[];
  description: string;
}

export function createPermissionSetActivities({ clients }: { clients: SalesforceClients }) {
  return {
    /**
     * Creates the permission set with read access to exactly the configured objects and fields. Looks before it
     * creates: a permission set or rows left by an earlier attempt of this operation are adopted, never duplicated.
     */
    async createPermissionSet(input: CreatePermissionSetInput): Promise<PermissionSetRef> {
      const step = StepId.permissionSet;
      return asSalesforceStep(step, async () => {
        const connection = await clients.admin(input.target, step);
        // Only a retry can find what an earlier attempt of this operation created; a first attempt creates directly
        // (and still adopts on a duplicate name), which keeps the call count flat.
        let permissionSet = isRetry() ? await findPermissionSet(connection, input.names.permissionSetName) : undefined;
        let adopted = Boolean(permissionSet);
        if (!permissionSet) {
          try {
            const result = await connection.sobject('PermissionSet').create({
              Name: input.names.permissionSetName,
              Label: input.names.permissionSetLabel,
              Description: input.description,
            });
            if (!result.id) throw new Error('Salesforce created the permission set but returned no id');
            permissionSet = { id: result.id, name: input.names.permissionSetName };
          } catch (err) {
            if (!isDuplicate(err)) throw err;
            permissionSet = await findPermissionSet(connection, input.names.permissionSetName);
            if (!permissionSet) throw err;
            adopted = true;
          }
        }
        const created: PermissionSetRef = permissionSet;
        const parentId = created.id;
        const existingObjects = new Set<string>();
        const existingFields = new Set<string>();
        if (adopted) {
          for (const row of await queryAll<{ SobjectType: string }>(
            connection,
            `SELECT Id, SobjectType FROM ObjectPermissions WHERE ParentId = ${soqlString(parentId)}`,
          ))
            existingObjects.add(row.SobjectType.toLowerCase());
          for (const row of await queryAll<{ Field: string }>(
            connection,
            `SELECT Id, Field FROM FieldPermissions WHERE ParentId = ${soqlString(parentId)}`,
          ))
            existingFields.add(row.Field.toLowerCase());
        }
        // Every missing row in one Composite call, all or none, in order: the object permissions (one single-record
        // create each, outside the 5-collection limit) before the field permissions (collections of 200); a field
        // is readable only with read access to its object. More calls only when the rows cannot fit in one (over
        // 1,000 field permissions, or too many objects besides them): see compositeInsertRequests.
        await insertInComposites(
          connection,
          [
            {
              type: 'ObjectPermissions',
              oneByOne: true,
              records: input.grants
                .filter((g) => !existingObjects.has(g.object.toLowerCase()))
                .map((g) => ({
                  ParentId: parentId,
                  SobjectType: g.object,
                  PermissionsRead: true,
                  PermissionsCreate: false,
                  PermissionsEdit: false,
                  PermissionsDelete: false,
                  PermissionsViewAllRecords: false,
                  PermissionsModifyAllRecords: false,
                })),
            },
            {
              type: 'FieldPermissions',
              records: input.grants.flatMap((g) =>
                g.fieldPermissions
                  .filter((field) => !existingFields.has(field.toLowerCase()))
                  .map((field) => ({
                    ParentId: parentId,
                    SobjectType: g.object,
                    Field: field,
                    PermissionsRead: true,
                    PermissionsEdit: false,
                  })),
              ),
            },
          ],
          step,
        );
        return created;
      });
    },

    /** Removes the permission set: first every assignment of it (Salesforce refuses while assigned), then itself. */
    async deletePermissionSet(input: { target: SalesforceTarget; permissionSetName: string }): Promise<boolean> {
      const step = StepId.removePermissionSet;
      return asSalesforceStep(step, async () => {
        const connection = await clients.admin(input.target, step);
        const permissionSet = await findPermissionSet(connection, input.permissionSetName);
        if (!permissionSet) return false;
        const assignments = await queryAll<{ Id: string }>(
          connection,
          `SELECT Id FROM PermissionSetAssignment WHERE PermissionSetId = ${soqlString(permissionSet.id)}`,
        );
        await destroyAll(
          connection,
          'PermissionSetAssignment',
          assignments.map((a) => a.Id),
          step,
        );
        try {
          await connection.sobject('PermissionSet').destroy(permissionSet.id);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
        return true;
      });
    },
  };
}
