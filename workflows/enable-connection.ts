import { proxyActivities, uuid4 } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { COMPENSATION_STEP, DEPLOY_STEP, FORWARD_STEP } from './activity-options';
import type { ConnectionDetails, EnableSagaInput } from './definitions';
import { StepId } from './definitions';
import { operationStamp } from './naming';
import { Saga } from './saga';
import { readinessStep, signingKeyStep } from './shared-steps';
import { ENABLE_STEPS } from './steps';

const forward = proxyActivities<Activities>(FORWARD_STEP);
const deploy = proxyActivities<Activities>(DEPLOY_STEP);
const undo = proxyActivities<Activities>(COMPENSATION_STEP);

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
export async function enableConnection(input: EnableSagaInput): Promise<ConnectionDetails> {
  const saga = new Saga(input, ENABLE_STEPS);
  const { target, appKind } = input;
  // Chosen here, recorded in history: a retried deploy of a connected app keeps the same consumer key.
  const consumerKey = `AC${uuid4().replace(/-/g, '')}${uuid4().replace(/-/g, '').slice(0, 16)}`;
  const description = `Created by agent-connections for ${input.agentName} (tenant ${input.tenantId}, operation ${input.operationId}).`;

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
    const { names } = preflight;

    const signingKey = await signingKeyStep(saga, {
      tenantId: input.tenantId,
      operationId: input.operationId,
      commonName: names.appLabel,
    });
    if (appKind === 'connected_app') {
      // Only a check-only deploy tells whether this org still allows new connected apps (blocked since Spring '26).
      await deploy.checkConnectedAppAllowed({
        target,
        appKind,
        names,
        certificatePem: signingKey.certificatePem,
        consumerKey,
        description,
      });
    }

    saga.register(StepId.permissionSet, { kind: 'permission_set', name: names.permissionSetName }, () =>
      undo.deletePermissionSet({ target, permissionSetName: names.permissionSetName }),
    );
    const permissionSet = await saga.step(StepId.permissionSet, () =>
      forward.createPermissionSet({ target, names, grants: preflight.grants, description }),
    );

    const retirementStamp = operationStamp(input.operationId);
    saga.register(StepId.integrationUser, { kind: 'integration_user', name: names.username }, () =>
      undo.deactivateIntegrationUser({ target, username: names.username, retirementStamp }),
    );
    const user = await saga.step(StepId.integrationUser, () =>
      forward.createIntegrationUser({ target, names, integrationProfileId: preflight.integrationProfileId }),
    );

    saga.register(StepId.userAccess, { kind: 'user_access', name: names.username }, () =>
      undo.removeUserAccess({ target, username: names.username, permissionSetName: names.permissionSetName }),
    );
    await saga.step(StepId.userAccess, () =>
      forward.grantUserAccess({
        target,
        userId: user.id,
        permissionSetId: permissionSet.id,
        permissionSetLicenseId: preflight.permissionSetLicenseId,
      }),
    );

    saga.register(StepId.clientApp, { kind: 'client_app', name: names.appApiName, appKind }, () =>
      undo.deleteClientApp({ target, appKind, apiName: names.appApiName }),
    );
    const app = await saga.step(StepId.clientApp, () =>
      deploy.createClientApp({
        target,
        appKind,
        names,
        certificatePem: signingKey.certificatePem,
        permissionSetName: names.permissionSetName,
        consumerKey,
        description,
      }),
    );

    const ready = await readinessStep(saga, input.readinessTimeout, {
      loginUrl: target.loginUrl,
      consumerKey: app.consumerKey,
      username: user.username,
      privateKey: signingKey.privateKey,
      probeObject: preflight.probeObject,
    });

    return {
      appKind,
      appLabel: names.appLabel,
      appApiName: names.appApiName,
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
      loginUrl: target.loginUrl,
      instanceUrl: ready.instanceUrl,
      privateKey: signingKey.privateKey,
      certificateExpiresAt: signingKey.expiresAt,
      createdAt: new Date().toISOString(),
    };
  } catch (err) {
    return saga.fail(err);
  }
}
