import type { Connection } from 'jsforce';
import type { ComponentNames, SalesforceTarget } from '../workflows/definitions';
import { StepId } from '../workflows/definitions';
import { isRetry } from '../salesforce/call-retry';
import type { SalesforceClients } from '../salesforce/clients';
import { destroyAll, findPermissionSet, isServiceUsername } from '../salesforce/components';
import { asSalesforceStep, isDuplicate } from '../salesforce/errors';
import { queryAll, soqlString } from '../salesforce/soql';

export interface CreateIntegrationUserInput {
  target: SalesforceTarget;
  names: ComponentNames;
  integrationProfileId: string;
}

export interface IntegrationUserRef {
  id: string;
  username: string;
}

interface UserRow {
  Id: string;
  Username: string;
  IsActive: boolean;
}

async function findUser(connection: Connection, username: string): Promise<UserRow | undefined> {
  const [user] = await queryAll<UserRow>(
    connection,
    `SELECT Id, Username, IsActive FROM User WHERE Username = ${soqlString(username)}`,
  );
  return user;
}

/** Salesforce's limit on usernames. */
const USERNAME_MAX_LENGTH = 80;

/**
 * A username that keeps the email form, fits Salesforce's 80 characters, and can never collide with the one a later
 * connection gets: the local part is shortened if needed to make room for the marker.
 */
export function retiredUsername(username: string, stamp: string): string {
  const at = username.lastIndexOf('@');
  const marker = `.retired-${stamp}`;
  const domain = username.slice(at);
  const local = username.slice(0, at).slice(0, Math.max(1, USERNAME_MAX_LENGTH - marker.length - domain.length));
  return `${local}${marker}${domain}`;
}

export function createIntegrationUserActivities({
  clients,
  contactEmail,
  usernameDomain,
}: {
  clients: SalesforceClients;
  contactEmail: string;
  usernameDomain: string;
}) {
  return {
    /**
     * Active integration users this service made for the agent in this org, whatever operation made them: disable
     * finds users of runs it has no record of (an earlier connection, a lost state) by their names.
     */
    async findIntegrationUsers(input: { target: SalesforceTarget; userLastName: string }): Promise<string[]> {
      const step = StepId.removeUserAccess;
      return asSalesforceStep(step, async () => {
        const connection = await clients.admin(input.target, step);
        const users = await queryAll<UserRow>(
          connection,
          `SELECT Id, Username, IsActive FROM User WHERE IsActive = true AND LastName = ${soqlString(input.userLastName)}`,
        );
        return users.map((u) => u.Username).filter((u) => isServiceUsername(u, usernameDomain));
      });
    },

    /**
     * Creates the API-only integration user. Its username is derived from the operation, so a retry after a lost
     * response finds the user the earlier attempt created and adopts it.
     */
    async createIntegrationUser(input: CreateIntegrationUserInput): Promise<IntegrationUserRef> {
      const step = StepId.integrationUser;
      return asSalesforceStep(step, async () => {
        const connection = await clients.admin(input.target, step);
        const existing = isRetry() ? await findUser(connection, input.names.username) : undefined;
        if (existing) {
          if (!existing.IsActive) await connection.sobject('User').update({ Id: existing.Id, IsActive: true });
          return { id: existing.Id, username: existing.Username };
        }
        try {
          const result = await connection.sobject('User').create({
            Username: input.names.username,
            LastName: input.names.userLastName,
            Alias: input.names.userAlias,
            Email: contactEmail,
            ProfileId: input.integrationProfileId,
            TimeZoneSidKey: 'GMT',
            LocaleSidKey: 'en_US',
            LanguageLocaleKey: 'en_US',
            EmailEncodingKey: 'UTF-8',
          });
          if (!result.id) throw new Error('Salesforce created the user but returned no id');
          return { id: result.id, username: input.names.username };
        } catch (err) {
          const code = (err as { errorCode?: string }).errorCode;
          if (code !== 'DUPLICATE_USERNAME') throw err;
          // The name is taken: by our own earlier attempt (adopt it) or by someone else anywhere in Salesforce.
          const adopted = await findUser(connection, input.names.username);
          if (adopted) return { id: adopted.Id, username: adopted.Username };
          throw err;
        }
      });
    },

    /** Gives the user the API integration permission set license, then the connection's permission set. */
    async grantUserAccess(input: {
      target: SalesforceTarget;
      userId: string;
      permissionSetId: string;
      permissionSetLicenseId: string;
    }): Promise<void> {
      const step = StepId.userAccess;
      await asSalesforceStep(step, async () => {
        const connection = await clients.admin(input.target, step);
        // Salesforce refuses a second identical assignment (DUPLICATE_VALUE), so creating is idempotent by itself;
        // a retry still looks first, to skip the writes an earlier attempt made.
        const retry = isRetry();
        const [license] = retry
          ? await queryAll<{ Id: string }>(
              connection,
              `SELECT Id FROM PermissionSetLicenseAssign WHERE AssigneeId = ${soqlString(input.userId)} AND PermissionSetLicenseId = ${soqlString(input.permissionSetLicenseId)}`,
            )
          : [];
        if (!license) {
          await createUnlessDuplicate(connection, 'PermissionSetLicenseAssign', {
            AssigneeId: input.userId,
            PermissionSetLicenseId: input.permissionSetLicenseId,
          });
        }
        const [assignment] = retry
          ? await queryAll<{ Id: string }>(
              connection,
              `SELECT Id FROM PermissionSetAssignment WHERE AssigneeId = ${soqlString(input.userId)} AND PermissionSetId = ${soqlString(input.permissionSetId)}`,
            )
          : [];
        if (!assignment) {
          await createUnlessDuplicate(connection, 'PermissionSetAssignment', {
            AssigneeId: input.userId,
            PermissionSetId: input.permissionSetId,
          });
        }
      });
    },

    /** Removes what `grantUserAccess` gave: the permission set assignment, then the license assignment. */
    async removeUserAccess(input: {
      target: SalesforceTarget;
      username: string;
      permissionSetName: string;
    }): Promise<boolean> {
      const step = StepId.removeUserAccess;
      return asSalesforceStep(step, async () => {
        const connection = await clients.admin(input.target, step);
        const user = await findUser(connection, input.username);
        if (!user) return false;
        await removeAccessOf(connection, user.Id, step, input.permissionSetName);
        return true;
      });
    },

    /**
     * Salesforce cannot delete users: deactivate, free the username for a later connection, and remove every
     * permission set and license assignment (an inactive user keeps them otherwise).
     */
    async deactivateIntegrationUser(input: {
      target: SalesforceTarget;
      username: string;
      retirementStamp: string;
    }): Promise<boolean> {
      const step = StepId.deactivateUser;
      return asSalesforceStep(step, async () => {
        const connection = await clients.admin(input.target, step);
        const user = await findUser(connection, input.username);
        if (!user) return false;
        await removeAccessOf(connection, user.Id, step);
        await connection.sobject('User').update({
          Id: user.Id,
          IsActive: false,
          Username: retiredUsername(user.Username, input.retirementStamp),
        });
        return true;
      });
    },
  };
}

async function createUnlessDuplicate(connection: Connection, type: string, record: Record<string, unknown>) {
  try {
    await connection.sobject(type).create(record);
  } catch (err) {
    if (!isDuplicate(err)) throw err;
  }
}

/** Deletes the user's non-profile permission set assignments (or only those of one set) and license assignments. */
async function removeAccessOf(connection: Connection, userId: string, step: StepId, onlyPermissionSetName?: string) {
  let assignments = await queryAll<{
    Id: string;
    PermissionSetId: string;
    PermissionSet?: { IsOwnedByProfile?: boolean };
  }>(
    connection,
    `SELECT Id, PermissionSetId, PermissionSet.IsOwnedByProfile FROM PermissionSetAssignment WHERE AssigneeId = ${soqlString(userId)}`,
  );
  assignments = assignments.filter((a) => a.PermissionSet?.IsOwnedByProfile !== true);
  if (onlyPermissionSetName) {
    const permissionSet = await findPermissionSet(connection, onlyPermissionSetName);
    assignments = permissionSet ? assignments.filter((a) => a.PermissionSetId === permissionSet.id) : [];
  }
  await destroyAll(
    connection,
    'PermissionSetAssignment',
    assignments.map((a) => a.Id),
    step,
  );
  const licenses = await queryAll<{ Id: string }>(
    connection,
    `SELECT Id FROM PermissionSetLicenseAssign WHERE AssigneeId = ${soqlString(userId)}`,
  );
  await destroyAll(
    connection,
    'PermissionSetLicenseAssign',
    licenses.map((l) => l.Id),
    step,
  );
}
