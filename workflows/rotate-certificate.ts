import { proxyActivities } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { Activities } from '../activities';
import { COMPENSATION_STEP, FORWARD_STEP, readinessCheck } from './activity-options';
import type { ConnectionDetails, RotateCertificateSagaInput } from './definitions';
import { signingKeyRef } from './naming';
import { OperationProgress } from './progress';
import { Saga } from './saga';

const forward = proxyActivities<Activities>(FORWARD_STEP);
const undo = proxyActivities<Activities>(COMPENSATION_STEP);

export const ROTATION_STEPS = [
  { id: 'signing_key', title: 'Generating the new signing certificate' },
  { id: 'update_certificate', title: 'Giving the app the new certificate' },
  { id: 'readiness', title: 'Checking that the integration user signs in with the new key' },
  { id: 'discard_old_key', title: 'Discarding the old key' },
];

/**
 * Certificate rotation without downtime, as a saga.
 *
 * 1. a new key pair and certificate (undo: delete the new key);
 * 2. the app gets the new certificate (undo: put the old one back);
 * 3. the integration user signs in with the new key and reads a granted object (durable wait while Salesforce
 *    propagates the change);
 * 4. only then is the old key discarded. Until the switch the connection keeps the old key, so agent tokens keep
 *    being served throughout.
 */
export async function rotateCertificate(input: RotateCertificateSagaInput): Promise<ConnectionDetails> {
  const progress = new OperationProgress(input.parentWorkflowId, input.operationId, ROTATION_STEPS);
  const saga = new Saga(progress);
  const { details, target } = input;
  const description = `Created by agent-connections (tenant ${input.tenantId}); certificate rotated by operation ${input.operationId}.`;
  const app = {
    target,
    appKind: details.appKind,
    appLabel: details.appLabel,
    appApiName: details.appApiName,
    permissionSetName: details.permissionSetName,
    description,
  };
  try {
    const newRef = { secretRef: signingKeyRef(input.tenantId, input.operationId) };
    saga.register('signing_key', { kind: 'signing_key', name: newRef.secretRef }, () =>
      undo.deleteSecret({ ref: newRef }),
    );
    const key = await saga.step('signing_key', () =>
      forward.prepareSigningKey({
        tenantId: input.tenantId,
        operationId: input.operationId,
        commonName: details.appLabel,
      }),
    );

    const oldCertificate = await forward.signingCertificateOf({ ref: details.privateKey });
    saga.register(
      'update_certificate',
      { kind: 'client_app', name: details.appApiName, appKind: details.appKind },
      async () => {
        if (oldCertificate) await undo.updateClientAppCertificate({ ...app, certificatePem: oldCertificate });
      },
    );
    await saga.step('update_certificate', () =>
      forward.updateClientAppCertificate({ ...app, certificatePem: key.certificatePem }),
    );

    const readiness = proxyActivities<Activities>(readinessCheck((input.readinessTimeout ?? '15 minutes') as Duration));
    await saga.step('readiness', () =>
      readiness.checkReadiness({
        loginUrl: details.loginUrl,
        consumerKey: details.consumerKey,
        username: details.integrationUsername,
        privateKey: key.privateKey,
        probeObject: input.probeObject,
      }),
    );

    await saga.step('discard_old_key', () => forward.deleteSecret({ ref: details.privateKey }));
    return { ...details, privateKey: key.privateKey, certificateExpiresAt: key.expiresAt };
  } catch (err) {
    return saga.fail(err);
  }
}
