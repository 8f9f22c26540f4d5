import { proxyActivities, uuid4 } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FORWARD_STEP } from './activity-options';
import type { ComponentContext, Preflight, SigningKey } from './component-steps';
import {
  checkConnectedAppAllowed,
  clientAppStep,
  integrationUserStep,
  permissionSetStep,
  readinessStep,
  signingKeyStep,
  userAccessStep,
} from './component-steps';
import type { ConnectionDetails, EnableSagaInput } from './definitions';
import { withOperationOutcome } from './outcome';
import { SAGA_NAMES } from './readable';
import { StepId } from './definitions';
import { Saga } from './saga';
import { ENABLE_STEPS } from './steps';

const forward = proxyActivities<Activities>(FORWARD_STEP);

/**
 * Enable: creates the connection's components in the customer's Salesforce org, as a saga.
 *
 * Steps (compensation registered before each step runs):
 * 1. preflight — checks only; creates nothing.
 * 2. signing key — RSA key pair + X.509 certificate, private key into the secret store (undo: delete it).
 * 3. permission set — read access to exactly the configured objects and fields (undo: unassign and delete it).
 * 4. integration user — API-only integration license (undo: deactivate, free the username, remove assignments).
 * 5. user access — permission set license, then permission set assignment (undo: remove both).
 * 6. client app — External Client App or legacy Connected App, JWT bearer, admin-approved users only
 *    (undo: delete the app).
 * 7. readiness — durable wait until the integration user gets a token and reads a granted object.
 *
 * On a permanent failure or a cancellation the undos run newest first, non-cancellable, and the workflow fails with
 * the original cause; if an undo cannot finish, it fails as RollbackIncomplete listing what remains.
 */
async function runEnableConnection(input: EnableSagaInput): Promise<ConnectionDetails> {
  const saga = new Saga(input, ENABLE_STEPS);
  const { target, appKind } = input;
  // Chosen here, recorded in history: a retried deploy of a connected app keeps the same consumer key.
  const consumerKey = newConsumerKey();
  try {
    const preflight = await saga.step(StepId.preflight, () =>
      forward.preflight({
        tenantId: input.tenantId,
        operationId: input.operationId,
        target,
        appKind,
        agentName: input.agentName,
        agentConfiguration: input.agentConfiguration,
      }),
    );
    return await createComponents(saga, input, preflight, consumerKey);
  } catch (err) {
    return saga.fail(err);
  }
}

/** A consumer key chosen by the workflow (recorded in history), so that a retried deploy keeps it. */
export function newConsumerKey(): string {
  return `AC${uuid4().replace(/-/g, '')}${uuid4().replace(/-/g, '').slice(0, 16)}`;
}

/**
 * Steps 2–7 of an enable, after its preflight: creates every component under the preflight's names, each with its
 * undo registered on `saga` first, and waits until the new app is usable. A make-before-break reconnect creates its
 * new components with it too.
 */
export async function createComponents(
  saga: Saga,
  input: EnableSagaInput,
  preflight: Preflight,
  consumerKey: string,
): Promise<ConnectionDetails> {
  const { target, appKind } = input;
  const context: ComponentContext = {
    saga,
    tenantId: input.tenantId,
    operationId: input.operationId,
    target,
    names: preflight.names,
    description: `Created by agent-connections for ${input.agentName} (tenant ${input.tenantId}, operation ${input.operationId}).`,
  };
  const { tenantId, operationId } = input;
  const signingKey = await signingKeyStep(saga, { tenantId, operationId, commonName: preflight.names.appLabel });
  const { certificatePem } = signingKey;
  if (appKind === 'connected_app') await checkConnectedAppAllowed(context, { certificatePem, consumerKey });
  const permissionSet = await permissionSetStep(context, preflight.grants);
  const user = await integrationUserStep(context, preflight.integrationProfileId);
  const grant = { userId: user.id, permissionSetId: permissionSet.id };
  await userAccessStep(context, { ...grant, permissionSetLicenseId: preflight.permissionSetLicenseId });
  const app = await clientAppStep(context, { appKind, certificatePem, consumerKey });
  const ready = await readinessStep(saga, input.readinessTimeout, {
    loginUrl: target.loginUrl,
    consumerKey: app.consumerKey,
    username: user.username,
    privateKey: signingKey.privateKey,
    probeObject: preflight.probeObject,
  });
  return connectionDetails(input, {
    preflight,
    signingKey,
    permissionSet,
    user,
    app,
    instanceUrl: ready.instanceUrl,
  });
}

/** What the connection keeps of the components an enable created. */
function connectionDetails(
  input: EnableSagaInput,
  created: {
    preflight: Preflight;
    signingKey: SigningKey;
    permissionSet: { id: string; name: string };
    user: { id: string; username: string };
    app: { id?: string; consumerKey: string };
    instanceUrl: string;
  },
): ConnectionDetails {
  const { preflight, signingKey, permissionSet, user, app } = created;
  return {
    appKind: input.appKind,
    appLabel: preflight.names.appLabel,
    appApiName: preflight.names.appApiName,
    appId: app.id,
    consumerKey: app.consumerKey,
    integrationUserId: user.id,
    integrationUsername: user.username,
    permissionSetId: permissionSet.id,
    permissionSetName: permissionSet.name,
    grantedObjects: preflight.grants.map((g) => ({ object: g.object, fields: g.fields })),
    grantedFieldPermissions: preflight.grants.flatMap((g) => g.fieldPermissions),
    probeObject: preflight.probeObject,
    orgId: preflight.orgId,
    loginUrl: input.target.loginUrl,
    instanceUrl: created.instanceUrl,
    privateKey: signingKey.privateKey,
    certificateExpiresAt: signingKey.expiresAt,
    createdAt: new Date().toISOString(),
  };
}

/** The workflow: the saga above, with its outcome recorded for operators (outcome.ts). */
export function enableConnection(input: EnableSagaInput): Promise<ConnectionDetails> {
  return withOperationOutcome(
    { name: SAGA_NAMES.enableConnection!, operationId: input.operationId, steps: ENABLE_STEPS },
    () => runEnableConnection(input),
  );
}
