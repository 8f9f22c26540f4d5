import { proxyActivities, uuid4 } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { Activities } from '../activities';
import { COMPENSATION_STEP, DEPLOY_STEP, FORWARD_STEP, readinessCheck } from './activity-options';
import type { ConnectionDetails, EnableSagaInput } from './definitions';
import { signingKeyRef } from './naming';
import { OperationProgress } from './progress';
import { Saga } from './saga';

const forward = proxyActivities<Activities>(FORWARD_STEP);
const deploy = proxyActivities<Activities>(DEPLOY_STEP);
const undo = proxyActivities<Activities>(COMPENSATION_STEP);

export const ENABLE_STEPS = [
  { id: 'preflight', title: 'Checking the org and the admin’s permissions' },
  { id: 'signing_key', title: 'Generating the signing certificate' },
  { id: 'permission_set', title: 'Creating the permission set' },
  { id: 'integration_user', title: 'Creating the integration user' },
  { id: 'user_access', title: 'Assigning the permission set to the integration user' },
  { id: 'client_app', title: 'Creating the OAuth client app' },
  { id: 'readiness', title: 'Waiting for Salesforce to activate the app (may take a few minutes)' },
];

const DEFAULT_READINESS_TIMEOUT = '15 minutes';

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
  const progress = new OperationProgress(input.parentWorkflowId, input.operationId, ENABLE_STEPS);
  const saga = new Saga(progress);
  const { target, appKind } = input;
  // Chosen here, recorded in history: a retried deploy of a connected app keeps the same consumer key.
  const consumerKey = `AC${uuid4().replace(/-/g, '')}${uuid4().replace(/-/g, '').slice(0, 16)}`;
  const description = `Created by agent-connections for ${input.agentName} (tenant ${input.tenantId}, operation ${input.operationId}).`;

  try {
    const preflight = await saga.step('preflight', () =>
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

    const keyRef = { secretRef: signingKeyRef(input.tenantId, input.operationId) };
    saga.register('signing_key', { kind: 'signing_key', name: keyRef.secretRef }, () =>
      undo.deleteSecret({ ref: keyRef }),
    );
    const signingKey = await saga.step('signing_key', () =>
      forward.prepareSigningKey({
        tenantId: input.tenantId,
        operationId: input.operationId,
        commonName: names.appLabel,
      }),
    );
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

    saga.register('permission_set', { kind: 'permission_set', name: names.permissionSetName }, () =>
      undo.deletePermissionSet({ target, permissionSetName: names.permissionSetName }),
    );
    const permissionSet = await saga.step('permission_set', () =>
      forward.createPermissionSet({ target, names, grants: preflight.grants, description }),
    );

    const retirementStamp = `${input.operationId.slice(0, 8)}`;
    saga.register('integration_user', { kind: 'integration_user', name: names.username }, () =>
      undo.deactivateIntegrationUser({ target, username: names.username, retirementStamp }),
    );
    const user = await saga.step('integration_user', () =>
      forward.createIntegrationUser({ target, names, integrationProfileId: preflight.integrationProfileId }),
    );

    saga.register('user_access', { kind: 'user_access', name: names.username }, () =>
      undo.removeUserAccess({ target, username: names.username, permissionSetName: names.permissionSetName }),
    );
    await saga.step('user_access', () =>
      forward.grantUserAccess({
        target,
        userId: user.id,
        permissionSetId: permissionSet.id,
        permissionSetLicenseId: preflight.permissionSetLicenseId,
      }),
    );

    saga.register('client_app', { kind: 'client_app', name: names.appApiName, appKind }, () =>
      undo.deleteClientApp({ target, appKind, apiName: names.appApiName }),
    );
    const app = await saga.step('client_app', () =>
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

    const readiness = proxyActivities<Activities>(
      readinessCheck((input.readinessTimeout ?? DEFAULT_READINESS_TIMEOUT) as Duration),
    );
    const ready = await saga.step('readiness', () =>
      readiness.checkReadiness({
        loginUrl: target.loginUrl,
        consumerKey: app.consumerKey,
        username: user.username,
        privateKey: signingKey.privateKey,
        probeObject: preflight.probeObject,
      }),
    );

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
