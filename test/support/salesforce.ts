import { randomUUID } from 'node:crypto';
import { SERVICE_OAUTH_CLIENT, startEmulator } from '@agent-connections/salesforce-emulator';
import type { Component, CreateOrgInput, CreatedOrg, RunningEmulator } from '@agent-connections/salesforce-emulator';
import type { SecretStore } from '../../secrets/secret-store';
import type { AgentConfiguration, EnableRequest, SalesforceTarget } from '../../workflows/definitions';

export { SERVICE_OAUTH_CLIENT };

/** The agent configuration most tests use: 3 standard objects, a few permissionable fields each. */
export const DEFAULT_AGENT_CONFIGURATION: AgentConfiguration = {
  objects: [
    { object: 'Account', fields: ['Name', 'Industry', 'AnnualRevenue'] },
    { object: 'Contact', fields: ['Email', 'Title'] },
    { object: 'Opportunity', fields: ['StageName', 'Amount', 'CloseDate'] },
  ],
};

/** The enable request most tests send: a new operation, an External Client App, the default agent configuration. */
export function enableRequest(target: SalesforceTarget, overrides: Partial<EnableRequest> = {}): EnableRequest {
  return {
    operationId: randomUUID(),
    target,
    appKind: 'external_client_app',
    agentConfiguration: DEFAULT_AGENT_CONFIGURATION,
    ...overrides,
  };
}

export interface TestOrg {
  org: CreatedOrg;
  target: SalesforceTarget;
}

/** Creates an org in the emulator and puts its admin's OAuth tokens in the secret store, as the API does. */
export async function createTestOrg(
  emulator: RunningEmulator,
  secrets: SecretStore,
  input: CreateOrgInput = {},
): Promise<TestOrg> {
  const org = await emulator.control.createOrg(input);
  const ref = await secrets.put(
    `tenants/test/admin/${randomUUID()}`,
    JSON.stringify({ accessToken: org.accessToken, refreshToken: org.refreshToken }),
  );
  return { org, target: { loginUrl: org.loginUrl, instanceUrl: org.instanceUrl, adminCredentials: ref } };
}

export async function startTestEmulator(): Promise<RunningEmulator> {
  return startEmulator({ port: 0, controlPort: 0 });
}

/** Salesforce gives every user an assignment of its profile's own permission set; it is part of the user. */
async function profileAssignmentIds(emulator: RunningEmulator, orgKey: string): Promise<Set<string>> {
  const profileSets = new Set(
    (await emulator.control.records(orgKey, 'PermissionSet'))
      .filter((p) => p.IsOwnedByProfile === true)
      .map((p) => String(p.Id)),
  );
  return new Set(
    (await emulator.control.records(orgKey, 'PermissionSetAssignment'))
      .filter((a) => profileSets.has(String(a.PermissionSetId)))
      .map((a) => String(a.Id)),
  );
}

/**
 * What a run leaves in the org that a disabled connection must not: every component except deactivated users and
 * their profile assignments (Salesforce cannot delete users; a deactivated, renamed user without permission set or
 * license assignments is the clean end).
 */
export async function leftovers(emulator: RunningEmulator, orgKey: string): Promise<Component[]> {
  const components = await emulator.control.components(orgKey);
  const profileAssignments = await profileAssignmentIds(emulator, orgKey);
  return components.filter(
    (c) => !(c.kind === 'User' && c.active === false) && !(c.id && profileAssignments.has(c.id)),
  );
}

/** Counts the components of each kind, to check that exactly one of each exists. */
export async function componentCounts(emulator: RunningEmulator, orgKey: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const profileAssignments = await profileAssignmentIds(emulator, orgKey);
  for (const c of await emulator.control.components(orgKey)) {
    const key =
      c.kind === 'User'
        ? c.active === false
          ? 'User (inactive)'
          : 'User'
        : c.id && profileAssignments.has(c.id)
          ? 'PermissionSetAssignment (profile)'
          : c.kind;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
