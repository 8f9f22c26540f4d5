import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { COMPENSATION_STEP, FORWARD_STEP } from './activity-options';
import type { ConnectionDetails, RotateCertificateSagaInput } from './definitions';
import { withOperationOutcome } from './outcome';
import { SAGA_NAMES } from './readable';
import { StepId } from './definitions';
import { Saga } from './saga';
import { readinessStep, signingKeyStep } from './component-steps';
import { ROTATION_STEPS } from './steps';

const forward = proxyActivities<Activities>(FORWARD_STEP);
const undo = proxyActivities<Activities>(COMPENSATION_STEP);

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
async function runRotateCertificate(input: RotateCertificateSagaInput): Promise<ConnectionDetails> {
  const saga = new Saga(input, ROTATION_STEPS);
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
    const key = await signingKeyStep(saga, {
      tenantId: input.tenantId,
      operationId: input.operationId,
      commonName: details.appLabel,
    });

    const oldCertificate = await forward.signingCertificateOf({ ref: details.privateKey });
    saga.register(
      StepId.updateCertificate,
      { kind: 'client_app', name: details.appApiName, appKind: details.appKind },
      async () => {
        if (oldCertificate) await undo.updateClientAppCertificate({ ...app, certificatePem: oldCertificate });
      },
    );
    await saga.step(StepId.updateCertificate, () =>
      forward.updateClientAppCertificate({ ...app, certificatePem: key.certificatePem }),
    );

    await readinessStep(saga, input.readinessTimeout, {
      loginUrl: details.loginUrl,
      consumerKey: details.consumerKey,
      username: details.integrationUsername,
      privateKey: key.privateKey,
      probeObject: input.probeObject,
    });

    await saga.step(StepId.discardOldKey, () => forward.deleteSecret({ ref: details.privateKey }));
    return { ...details, privateKey: key.privateKey, certificateExpiresAt: key.expiresAt };
  } catch (err) {
    return saga.fail(err);
  }
}

/** The workflow: the saga above, with its outcome recorded for operators (outcome.ts). */
export function rotateCertificate(input: RotateCertificateSagaInput): Promise<ConnectionDetails> {
  return withOperationOutcome(
    { name: SAGA_NAMES.rotateCertificate!, operationId: input.operationId, steps: ROTATION_STEPS },
    () => runRotateCertificate(input),
  );
}
