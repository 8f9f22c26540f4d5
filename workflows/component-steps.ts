/**
 * The steps that create a connection's components, each with its undo registered before it runs. Enable, and any
 * saga that creates components, is a sequence of these.
 */
import { patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { COMPENSATION_STEP, DEPLOY_STEP, FORWARD_STEP, readinessCheck, readinessWait } from './activity-options';
import type { AppKind, ComponentNames, SalesforceTarget, SecretRef } from './definitions';
import { StepId, readinessTaskQueue } from './definitions';
import { operationStamp, signingKeyRef } from './naming';
import type { Saga } from './saga';

const forward = proxyActivities<Activities>(FORWARD_STEP);
const deploy = proxyActivities<Activities>(DEPLOY_STEP);
const undo = proxyActivities<Activities>(COMPENSATION_STEP);

type Result<A extends keyof Activities> = Awaited<ReturnType<Activities[A]>>;
export type Preflight = Result<'preflight'>;
export type SigningKey = Result<'prepareSigningKey'>;

/** What every component step of one operation shares. */
export interface ComponentContext {
  saga: Saga;
  tenantId: string;
  operationId: string;
  target: SalesforceTarget;
  names: ComponentNames;
  /** Shown on the components in Salesforce Setup: who created them, for which tenant and operation. */
  description: string;
}

/**
 * A new RSA key pair and X.509 certificate, the private key into the secret store under a reference derived from
 * the operation, so that its undo (delete the key) is registered before the key exists.
 */
export function signingKeyStep(saga: Saga, input: { tenantId: string; operationId: string; commonName: string }) {
  const keyRef = { secretRef: signingKeyRef(input.tenantId, input.operationId) };
  saga.register(StepId.signingKey, { kind: 'signing_key', name: keyRef.secretRef }, () =>
    undo.deleteSecret({ ref: keyRef }),
  );
  return saga.step(StepId.signingKey, () => forward.prepareSigningKey(input));
}

/** Read access to exactly the granted objects and fields (undo: unassign and delete the permission set). */
export function permissionSetStep(context: ComponentContext, grants: Preflight['grants']) {
  const { saga, target, names, description } = context;
  saga.register(StepId.permissionSet, { kind: 'permission_set', name: names.permissionSetName }, () =>
    undo.deletePermissionSet({ target, permissionSetName: names.permissionSetName }),
  );
  return saga.step(StepId.permissionSet, () => forward.createPermissionSet({ target, names, grants, description }));
}

/** A user on the API-only integration license (undo: deactivate it and free its username). */
export function integrationUserStep(context: ComponentContext, integrationProfileId: string) {
  const { saga, target, names } = context;
  const retirementStamp = operationStamp(context.operationId);
  saga.register(StepId.integrationUser, { kind: 'integration_user', name: names.username }, () =>
    undo.deactivateIntegrationUser({ target, username: names.username, retirementStamp }),
  );
  return saga.step(StepId.integrationUser, () =>
    forward.createIntegrationUser({ target, names, integrationProfileId }),
  );
}

/** The permission set license, then the permission set, assigned to the user (undo: remove both). */
export function userAccessStep(
  context: ComponentContext,
  grant: { userId: string; permissionSetId: string; permissionSetLicenseId: string },
) {
  const { saga, target, names } = context;
  saga.register(StepId.userAccess, { kind: 'user_access', name: names.username }, () =>
    undo.removeUserAccess({ target, username: names.username, permissionSetName: names.permissionSetName }),
  );
  return saga.step(StepId.userAccess, () => forward.grantUserAccess({ target, ...grant }));
}

/**
 * The OAuth client app, JWT bearer with the certificate, open to admin-approved users only (undo: delete it). The
 * consumer key is chosen by the workflow, so that a retried deploy of a connected app keeps it.
 */
export function clientAppStep(
  context: ComponentContext,
  app: { appKind: AppKind; certificatePem: string; consumerKey: string },
) {
  const { saga, target, names, description } = context;
  saga.register(StepId.clientApp, { kind: 'client_app', name: names.appApiName, appKind: app.appKind }, () =>
    undo.deleteClientApp({ target, appKind: app.appKind, apiName: names.appApiName }),
  );
  return saga.step(StepId.clientApp, () =>
    deploy.createClientApp({ target, names, permissionSetName: names.permissionSetName, description, ...app }),
  );
}

/** Only a check-only deploy tells whether this org still allows new connected apps (blocked since Spring '26). */
export function checkConnectedAppAllowed(
  context: ComponentContext,
  app: { certificatePem: string; consumerKey: string },
) {
  const { target, names, description } = context;
  return deploy.checkConnectedAppAllowed({ target, appKind: 'connected_app', names, description, ...app });
}

/** Operations started before readiness was one polling activity replay with one probe per attempt. */
const READINESS_WAIT_PATCH = 'readiness-wait-polls';

/**
 * A durable wait until the integration user gets a token with the app's key and reads a granted object: Salesforce
 * takes minutes to make a new app, or a new certificate, usable. Bounded by the operation's readiness timeout.
 */
export function readinessStep(
  saga: Saga,
  readinessTimeout: string | undefined,
  probe: { loginUrl: string; consumerKey: string; username: string; privateKey: SecretRef; probeObject: string },
) {
  if (patched(READINESS_WAIT_PATCH)) {
    // The wait holds a slot for minutes: on its own queue, it never takes one the sagas' Salesforce calls need. No
    // patch: a scheduled activity's task queue is not compared on replay (recorded waits replay on either queue).
    const readiness = proxyActivities<Activities>({
      ...readinessWait(readinessTimeout),
      taskQueue: readinessTaskQueue(workflowInfo().taskQueue),
    });
    return saga.step(StepId.readiness, () => readiness.awaitReadiness(probe));
  }
  const readiness = proxyActivities<Activities>(readinessCheck(readinessTimeout));
  return saga.step(StepId.readiness, () => readiness.checkReadiness(probe));
}
