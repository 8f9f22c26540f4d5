import { createClientAppActivities } from './client-app';
import { createConnectionControlActivities } from './connection-control';
import type { TemporalAccess } from './connection-control';
import { createHealthActivities } from './health';
import { createIntegrationUserActivities } from './integration-user';
import { createPermissionSetActivities } from './permission-set';
import { createPreflightActivities } from './preflight';
import { createReadinessActivities } from './readiness';
import type { SalesforceClients } from './salesforce-clients';
import type { SecretStore } from './secret-store';
import { createSigningKeyActivities } from './signing-key';

export interface ActivityDependencies {
  clients: SalesforceClients;
  secrets: SecretStore;
  /** Domain of integration usernames (`agent.hash@orgid.<domain>`). */
  usernameDomain: string;
  /** The address Salesforce shows as the apps' and users' contact. */
  contactEmail: string;
  certificateValidityDays: number;
  /** Temporal itself, for the health-check Schedules and reading connection state. */
  temporal: TemporalAccess;
}

/** Every activity of the service, built once per worker over injected clients. */
export function createActivities(deps: ActivityDependencies) {
  const activities = {
    ...createPreflightActivities(deps),
    ...createSigningKeyActivities({ secrets: deps.secrets, validityDays: deps.certificateValidityDays }),
    ...createPermissionSetActivities(deps),
    ...createIntegrationUserActivities(deps),
    ...createClientAppActivities(deps),
    ...createReadinessActivities(deps),
    ...createHealthActivities(deps),
    ...createConnectionControlActivities(deps.temporal),
  };
  return activities;
}

export type Activities = ReturnType<typeof createActivities>;
