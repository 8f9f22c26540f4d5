/**
 * What a repair in place needs: which of the connection's parts are broken (the health check's comparison, as
 * facts rather than messages), and the writes that mend one part each.
 */
import type { Connection } from 'jsforce';
import type { ConnectionDetails, SalesforceTarget } from '../workflows/definitions';
import { StepId } from '../workflows/definitions';
import { externalClientAppParts, readMetadata } from './client-app';
import type { SalesforceClients } from '../salesforce/clients';
import { asSalesforceStep, isUnansweredCall } from '../salesforce/errors';
import { INTEGRATION_PSL_DEVELOPER_NAME } from '../salesforce/org-inspection';
import { queryAll, soqlString } from '../salesforce/soql';

/** The state of each part of a connection, as Salesforce holds it. */
export interface Diagnosis {
  user: 'active' | 'inactive' | 'missing';
  permissionSet: boolean;
  /** The user holds the integration permission set license and the connection's permission set. */
  access: boolean;
  app: boolean;
  /** The integration user signs in with the app's key and the connection's private key. */
  signsIn: boolean;
  /** The org's API Integration permission set license, for a re-assignment. */
  permissionSetLicenseId?: string;
}

async function appExists(connection: Connection, details: ConnectionDetails): Promise<boolean> {
  const header =
    details.appKind === 'connected_app'
      ? { type: 'ConnectedApp', fullName: details.appApiName }
      : externalClientAppParts(details.appApiName).header;
  return Boolean((await readMetadata(connection, header.type, header.fullName)).fullName);
}

async function accessOf(connection: Connection, details: ConnectionDetails, pslId: string | undefined) {
  const user = soqlString(details.integrationUserId);
  const assignments = await queryAll<{ Id: string }>(
    connection,
    `SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = ${user} AND PermissionSetId = ${soqlString(details.permissionSetId)}`,
  );
  const licenses = pslId
    ? await queryAll<{ Id: string }>(
        connection,
        `SELECT Id FROM PermissionSetLicenseAssign WHERE AssigneeId = ${user} AND PermissionSetLicenseId = ${soqlString(pslId)}`,
      )
    : [];
  return assignments.length > 0 && licenses.length > 0;
}

export function createRepairActivities({ clients }: { clients: SalesforceClients }) {
  return {
    /** Reads each part of the connection as the admin, then tries the integration user's sign-in. Reads only. */
    async diagnoseConnection(input: { target: SalesforceTarget; details: ConnectionDetails }): Promise<Diagnosis> {
      const step = StepId.diagnose;
      return asSalesforceStep(step, async () => {
        const { details } = input;
        const connection = await clients.admin(input.target, step);
        const [user] = await queryAll<{ IsActive: boolean }>(
          connection,
          `SELECT Id, IsActive FROM User WHERE Id = ${soqlString(details.integrationUserId)}`,
        );
        const [permissionSet] = await queryAll<{ Id: string }>(
          connection,
          `SELECT Id FROM PermissionSet WHERE Id = ${soqlString(details.permissionSetId)}`,
        );
        const [psl] = await queryAll<{ Id: string }>(
          connection,
          `SELECT Id FROM PermissionSetLicense WHERE DeveloperName = ${soqlString(INTEGRATION_PSL_DEVELOPER_NAME)}`,
        );
        let signsIn = true;
        try {
          await clients.requestAgentToken({ ...details, username: details.integrationUsername, step });
        } catch (err) {
          if (isUnansweredCall(err)) throw err;
          signsIn = false;
        }
        return {
          user: !user ? 'missing' : user.IsActive ? 'active' : 'inactive',
          permissionSet: Boolean(permissionSet),
          access: user ? await accessOf(connection, details, psl?.Id) : false,
          app: await appExists(connection, details),
          signsIn,
          permissionSetLicenseId: psl?.Id,
        };
      });
    },

    /** Reactivates the integration user (its username and license are its own), or deactivates it again (undo). */
    async setIntegrationUserActive(input: { target: SalesforceTarget; userId: string; active: boolean }) {
      const step = StepId.reactivateUser;
      await asSalesforceStep(step, async () => {
        const connection = await clients.admin(input.target, step);
        await connection.sobject('User').update({ Id: input.userId, IsActive: input.active });
      });
    },
  };
}

export type RepairActivities = ReturnType<typeof createRepairActivities>;
