/**
 * A reconnect of a broken connection repairs it in place: it diagnoses each part and mends only what is broken, so
 * the app (and its consumer key), the integration user and the permission set stay wherever they survived.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Diagnosis } from '../activities/repair';
import { COMPENSATION_STEP, DEPLOY_STEP, FORWARD_STEP } from './activity-options';
import { readinessStep } from './component-steps';
import type { ComponentNames, ConnectionDetails, EnableSagaInput } from './definitions';
import { StepId } from './definitions';
import { newConsumerKey } from './enable-connection';
import { tellConnection } from './make-before-break';
import { Saga } from './saga';
import { REPAIR_STEPS } from './steps';

const forward = proxyActivities<Activities>(FORWARD_STEP);
const deploy = proxyActivities<Activities>(DEPLOY_STEP);
const undo = proxyActivities<Activities>(COMPENSATION_STEP);

/** One repair: a part of the connection to mend. */
export type Repair = 'reactivate_user' | 'grant_access' | 'recreate_app' | 'upload_certificate';

/**
 * What to mend, in order; undefined when repair is impossible (the user or the permission set is gone: a full
 * recreate). A sign-in refused while the user, its access and the app are in place is the app's certificate.
 */
export function repairsFor(diagnosis: Diagnosis): Repair[] | undefined {
  if (diagnosis.user === 'missing' || !diagnosis.permissionSet || !diagnosis.permissionSetLicenseId) return undefined;
  const repairs: Repair[] = [];
  if (diagnosis.user === 'inactive') repairs.push('reactivate_user');
  if (!diagnosis.access) repairs.push('grant_access');
  if (!diagnosis.app) repairs.push('recreate_app');
  if (repairs.length === 0 && !diagnosis.signsIn) repairs.push('upload_certificate');
  return repairs;
}

/** The app's names, as the connection recorded them (the app is recreated under them). */
function appNames(details: ConnectionDetails): ComponentNames {
  return {
    appLabel: details.appLabel,
    appApiName: details.appApiName,
    permissionSetLabel: details.permissionSetName,
    permissionSetName: details.permissionSetName,
    userLastName: '',
    username: details.integrationUsername,
    userAlias: '',
  };
}

interface RepairContext {
  saga: Saga;
  input: EnableSagaInput;
  details: ConnectionDetails;
  description: string;
}

async function reactivateUser({ saga, input, details }: RepairContext): Promise<void> {
  const { target } = input;
  const userId = details.integrationUserId;
  saga.register(StepId.reactivateUser, { kind: 'integration_user', name: details.integrationUsername }, () =>
    undo.setIntegrationUserActive({ target, userId, active: false }),
  );
  await saga.step(StepId.reactivateUser, () => forward.setIntegrationUserActive({ target, userId, active: true }));
}

async function grantAccess({ saga, input, details }: RepairContext, permissionSetLicenseId: string): Promise<void> {
  const { target } = input;
  const username = details.integrationUsername;
  saga.register(StepId.userAccess, { kind: 'user_access', name: username }, () =>
    undo.removeUserAccess({ target, username, permissionSetName: details.permissionSetName }),
  );
  await saga.step(StepId.userAccess, () =>
    forward.grantUserAccess({
      target,
      userId: details.integrationUserId,
      permissionSetId: details.permissionSetId,
      permissionSetLicenseId,
    }),
  );
}

/** A deleted app is deployed again under its names, with the connection's certificate; its consumer key is new. */
async function recreateApp({ saga, input, details, description }: RepairContext, certificatePem: string) {
  const { target } = input;
  const { appKind, appApiName } = details;
  saga.register(StepId.clientApp, { kind: 'client_app', name: appApiName, appKind }, () =>
    undo.deleteClientApp({ target, appKind, apiName: appApiName }),
  );
  return saga.step(StepId.clientApp, () =>
    deploy.createClientApp({
      target,
      appKind,
      names: appNames(details),
      permissionSetName: details.permissionSetName,
      certificatePem,
      consumerKey: newConsumerKey(),
      description,
    }),
  );
}

/** The app holds another certificate (replaced or removed by hand): the connection's is uploaded again. */
async function uploadCertificate({ saga, input, details, description }: RepairContext, certificatePem: string) {
  await saga.step(StepId.updateCertificate, () =>
    forward.updateClientAppCertificate({
      target: input.target,
      appKind: details.appKind,
      appLabel: details.appLabel,
      appApiName: details.appApiName,
      permissionSetName: details.permissionSetName,
      certificatePem,
      description,
    }),
  );
}

async function certificateOf(details: ConnectionDetails): Promise<string> {
  const pem = await forward.signingCertificateOf({ ref: details.privateKey });
  if (!pem) throw new Error('The connection’s certificate is not in the secret store.');
  return pem;
}

/**
 * 1. diagnose: each part as Salesforce holds it, and the integration user's sign-in;
 * 2. repair only what is broken, each undo registered first: reactivate the user, re-assign the permission set and
 *    its license, recreate a deleted app (new consumer key) or upload the certificate again (same key);
 * 3. readiness: the integration user signs in and reads a granted object.
 * Answers undefined, having changed nothing, when repair is impossible: the caller recreates everything.
 */
export async function repairConnection(
  input: EnableSagaInput,
  details: ConnectionDetails,
): Promise<ConnectionDetails | undefined> {
  const saga = new Saga(input, REPAIR_STEPS);
  try {
    const diagnosis = await saga.step(StepId.diagnose, () =>
      forward.diagnoseConnection({ target: input.target, details }),
    );
    const repairs = repairsFor(diagnosis);
    if (!repairs) return undefined;
    const description = `Created by agent-connections (tenant ${input.tenantId}); repaired by operation ${input.operationId}.`;
    const context: RepairContext = { saga, input, details, description };
    if (repairs.includes('reactivate_user')) await reactivateUser(context);
    if (repairs.includes('grant_access')) await grantAccess(context, diagnosis.permissionSetLicenseId as string);
    let repaired = details;
    if (repairs.includes('recreate_app')) {
      const app = await recreateApp(context, await certificateOf(details));
      repaired = { ...details, appId: app.id, consumerKey: app.consumerKey };
    }
    if (repairs.includes('upload_certificate')) await uploadCertificate(context, await certificateOf(details));
    await readinessStep(saga, input.readinessTimeout, {
      loginUrl: repaired.loginUrl,
      consumerKey: repaired.consumerKey,
      username: repaired.integrationUsername,
      privateKey: repaired.privateKey,
      probeObject: repaired.probeObject ?? repaired.grantedObjects[0]?.object ?? 'Account',
    });
    await tellConnection(input, { stepsDone: saga.done() });
    return repaired;
  } catch (err) {
    return saga.fail(err, { connectionKept: true });
  }
}
