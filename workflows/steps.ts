import type { OperationKind } from './definitions';
import { StepId } from './definitions';

export interface StepDefinition {
  id: StepId;
  title: string;
}

export const ENABLE_STEPS: StepDefinition[] = [
  { id: StepId.preflight, title: 'Checking the org and the admin’s permissions' },
  { id: StepId.signingKey, title: 'Generating the signing certificate' },
  { id: StepId.permissionSet, title: 'Creating the permission set' },
  { id: StepId.integrationUser, title: 'Creating the integration user' },
  { id: StepId.userAccess, title: 'Assigning the permission set to the integration user' },
  { id: StepId.clientApp, title: 'Creating the OAuth client app' },
  { id: StepId.readiness, title: 'Waiting for Salesforce to activate the app (may take a few minutes)' },
];

export const DISABLE_STEPS: StepDefinition[] = [
  { id: StepId.removeClientApp, title: 'Deleting the OAuth client app' },
  { id: StepId.removeUserAccess, title: 'Removing the integration user’s permission sets and licenses' },
  { id: StepId.deactivateUser, title: 'Deactivating the integration user and freeing its username' },
  { id: StepId.removePermissionSet, title: 'Deleting the permission set' },
  { id: StepId.removeSigningKey, title: 'Deleting the signing key' },
];

export const ROTATION_STEPS: StepDefinition[] = [
  { id: StepId.signingKey, title: 'Generating the new signing certificate' },
  { id: StepId.updateCertificate, title: 'Giving the app the new certificate' },
  { id: StepId.readiness, title: 'Checking that the integration user signs in with the new key' },
  { id: StepId.discardOldKey, title: 'Discarding the old key' },
];

/** What a reconnect checks before it removes anything. */
export const RECONNECT_CHECK_STEPS: StepDefinition[] = [
  { id: StepId.preflight, title: 'Checking the org, the admin’s permissions and the configuration' },
];

/** A make-before-break reconnect: the enable's steps under new names, then the switch, then the old ones go. */
export const MAKE_BEFORE_BREAK_STEPS: StepDefinition[] = [
  ...ENABLE_STEPS,
  { id: StepId.switchAccess, title: 'Switching the agent to the new app and integration user' },
  { id: StepId.removePrevious, title: 'Removing the previous app, integration user and permission set' },
];

/** A repair in place: the diagnosis, then only the steps that mend what it found broken, then readiness. */
export const REPAIR_STEPS: StepDefinition[] = [
  { id: StepId.diagnose, title: 'Checking each part of the connection in Salesforce' },
  { id: StepId.reactivateUser, title: 'Reactivating the integration user' },
  { id: StepId.userAccess, title: 'Assigning the permission set and its license again' },
  { id: StepId.clientApp, title: 'Creating the deleted OAuth client app again' },
  { id: StepId.updateCertificate, title: 'Giving the app the connection’s certificate again' },
  { id: StepId.readiness, title: 'Checking that the integration user signs in and reads' },
];

export const UPDATE_ACCESS_STEPS: StepDefinition[] = [
  { id: StepId.preflight, title: 'Checking the new configuration against the org' },
  { id: StepId.updatePermissionSet, title: 'Updating the permission set’s object and field access' },
  { id: StepId.verifyAccess, title: 'Checking that the integration user reads the new fields' },
];

/** Every step of an operation's saga(s): what a succeeded operation has done. */
export const STEPS_OF: Record<OperationKind, StepId[]> = {
  enable: ENABLE_STEPS.map((s) => s.id),
  disable: DISABLE_STEPS.map((s) => s.id),
  reconnect: [...DISABLE_STEPS, ...ENABLE_STEPS].map((s) => s.id),
  rotate_certificate: ROTATION_STEPS.map((s) => s.id),
  update_access: UPDATE_ACCESS_STEPS.map((s) => s.id),
};
