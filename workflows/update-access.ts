import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { COMPENSATION_STEP, FORWARD_STEP } from './activity-options';
import type { ConnectionDetails, UpdateAccessSagaInput } from './definitions';
import { withOperationOutcome } from './outcome';
import { SAGA_NAMES } from './readable';
import { StepId } from './definitions';
import { Saga } from './saga';
import { UPDATE_ACCESS_STEPS } from './steps';

const forward = proxyActivities<Activities>(FORWARD_STEP);
const undo = proxyActivities<Activities>(COMPENSATION_STEP);

/**
 * Update access in place: the permission set grants exactly the new configuration's objects and fields, and
 * nothing else changes — same app, consumer key, integration user and certificate, so the agent keeps its tokens and
 * reads throughout, and there is nothing new for Salesforce to propagate.
 *
 * 1. preflight — the configuration against the org's describe, and the permission set's rows as they are (one call);
 *    a configuration the org cannot serve stops here, having changed nothing.
 * 2. update permission set — the rows to remove and add, in one all-or-none call (undo: the previous grants back).
 * 3. verify access — the integration user signs in and reads the newly granted fields.
 */
async function runUpdateAccess(input: UpdateAccessSagaInput): Promise<ConnectionDetails> {
  const saga = new Saga(input, UPDATE_ACCESS_STEPS);
  const { target, details } = input;
  const permissionSet = { target, permissionSetId: details.permissionSetId };
  try {
    const plan = await saga.step(StepId.preflight, () =>
      forward.planAccessUpdate({ ...permissionSet, agentConfiguration: input.agentConfiguration }),
    );
    saga.register(StepId.updatePermissionSet, { kind: 'permission_set', name: details.permissionSetName }, () =>
      undo.setPermissionSetGrants({ ...permissionSet, grants: plan.previous }),
    );
    await saga.step(StepId.updatePermissionSet, () =>
      forward.setPermissionSetGrants({ ...permissionSet, grants: plan.grants, rows: plan.rows }),
    );
    await saga.step(StepId.verifyAccess, () =>
      forward.verifyFieldAccess({
        loginUrl: details.loginUrl,
        consumerKey: details.consumerKey,
        username: details.integrationUsername,
        privateKey: details.privateKey,
        probe: plan.probe,
      }),
    );
    return {
      ...details,
      grantedObjects: plan.grants.map((g) => ({ object: g.object, fields: g.fields })),
      grantedFieldPermissions: plan.grants.flatMap((g) => g.fieldPermissions),
      probeObject: plan.grants[0]?.object ?? details.probeObject,
    };
  } catch (err) {
    return saga.fail(err);
  }
}

/** The workflow: the saga above, with its outcome recorded for operators (outcome.ts). */
export function updateAccess(input: UpdateAccessSagaInput): Promise<ConnectionDetails> {
  return withOperationOutcome(
    { name: SAGA_NAMES.updateAccess!, operationId: input.operationId, steps: UPDATE_ACCESS_STEPS },
    () => runUpdateAccess(input),
  );
}
