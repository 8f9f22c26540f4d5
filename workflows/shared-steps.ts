import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { COMPENSATION_STEP, FORWARD_STEP, readinessCheck } from './activity-options';
import type { SecretRef } from './definitions';
import { StepId } from './definitions';
import { signingKeyRef } from './naming';
import type { Saga } from './saga';

const forward = proxyActivities<Activities>(FORWARD_STEP);
const undo = proxyActivities<Activities>(COMPENSATION_STEP);

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

/**
 * A durable wait until the integration user gets a token with the app's key and reads a granted object: Salesforce
 * takes minutes to make a new app, or a new certificate, usable. Bounded by the operation's readiness timeout.
 */
export function readinessStep(
  saga: Saga,
  readinessTimeout: string | undefined,
  probe: { loginUrl: string; consumerKey: string; username: string; privateKey: SecretRef; probeObject: string },
) {
  const readiness = proxyActivities<Activities>(readinessCheck(readinessTimeout));
  return saga.step(StepId.readiness, () => readiness.checkReadiness(probe));
}
