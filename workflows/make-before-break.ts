/**
 * A reconnect of a working connection, make before break: the agent never loses access, and a failure leaves the
 * current connection exactly as it was.
 */
import { CancellationScope, getExternalWorkflowHandle, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { COMPENSATION_STEP, FORWARD_STEP } from './activity-options';
import type { Preflight } from './component-steps';
import type { AccessSwitch, ComponentRef, ConnectionDetails, EnableSagaInput } from './definitions';
import { StepId, accessSwitchedSignal } from './definitions';
import { createComponents, newConsumerKey } from './enable-connection';
import { orgUnchangedFailure } from './failures';
import { generationOf, operationStamp } from './naming';
import { Saga } from './saga';
import { MAKE_BEFORE_BREAK_STEPS } from './steps';

const forward = proxyActivities<Activities>(FORWARD_STEP);
const cleanup = proxyActivities<Activities>(COMPENSATION_STEP);

/**
 * How long the previous components stay once the agent's token broker hands out tokens of the new ones: a token
 * fetched just before the switch is still used for its query.
 */
export const PREVIOUS_ACCESS_GRACE = '5 seconds';

/**
 * The enable's checks for components beside the current ones: the names carry this operation's generation, and the
 * org needs a spare integration license for the overlap. A failure changes nothing.
 */
async function checkOverlap(saga: Saga, input: EnableSagaInput): Promise<Preflight> {
  try {
    return await saga.step(StepId.preflight, () =>
      forward.preflight({
        tenantId: input.tenantId,
        operationId: input.operationId,
        target: input.target,
        appKind: input.appKind,
        agentName: input.agentName,
        agentConfiguration: input.agentConfiguration,
        replacing: true,
        generation: generationOf(input.operationId),
      }),
    );
  } catch (err) {
    throw orgUnchangedFailure(err, StepId.preflight);
  }
}

/** Tells the connection what it now is (the token broker reads its details), or what of the old one remains. */
export function tellConnection(input: EnableSagaInput, update: Omit<AccessSwitch, 'operationId'>) {
  return getExternalWorkflowHandle(input.parentWorkflowId).signal(accessSwitchedSignal, {
    operationId: input.operationId,
    ...update,
  });
}

/** Removes the previous components by their own names (never by the shared user last name: the new user has it). */
async function removePrevious(
  saga: Saga,
  input: EnableSagaInput,
  previous: ConnectionDetails,
): Promise<ComponentRef[]> {
  const { target } = input;
  const username = previous.integrationUsername;
  const permissionSetName = previous.permissionSetName;
  await saga.step(StepId.removePrevious, async () => {
    const app: ComponentRef = { kind: 'client_app', name: previous.appApiName, appKind: previous.appKind };
    await saga.remove(app, () =>
      cleanup.deleteClientApp({ target, appKind: previous.appKind, apiName: previous.appApiName }),
    );
    await saga.remove({ kind: 'user_access', name: username }, () =>
      cleanup.removeUserAccess({ target, username, permissionSetName }),
    );
    await saga.remove({ kind: 'integration_user', name: username }, () =>
      cleanup.deactivateIntegrationUser({ target, username, retirementStamp: operationStamp(input.operationId) }),
    );
    await saga.remove({ kind: 'permission_set', name: permissionSetName }, () =>
      cleanup.deletePermissionSet({ target, permissionSetName }),
    );
    await saga.remove({ kind: 'signing_key', name: previous.privateKey.secretRef }, () =>
      cleanup.deleteSecret({ ref: previous.privateKey }),
    );
  });
  return saga.leftToRemove();
}

/**
 * 1. preflight for the new components (names with this operation's generation; a spare license for the overlap);
 * 2–7. the enable's steps: key, permission set, integration user, its access, app, readiness — each undo registered
 *    first; a failure undoes them and the current connection, untouched, keeps working;
 * 8. switch: the connection's details (what the token broker signs in with) become the new ones; the previous
 *    components stay a short grace for tokens fetched just before;
 * 9. the previous app, user access, user, permission set and key are removed, best effort: what remains is reported
 *    as leftovers, the new connection works either way.
 * Once the switch starts the operation can no longer be cancelled: the new connection is the connection.
 */
export async function makeBeforeBreak(input: EnableSagaInput, previous: ConnectionDetails): Promise<ConnectionDetails> {
  const saga = new Saga(input, MAKE_BEFORE_BREAK_STEPS);
  const consumerKey = newConsumerKey();
  const preflight = await checkOverlap(saga, input);
  let details: ConnectionDetails;
  try {
    details = await createComponents(saga, input, preflight, consumerKey);
  } catch (err) {
    return saga.fail(err, { connectionKept: true });
  }
  return CancellationScope.nonCancellable(async () => {
    await saga.step(StepId.switchAccess, async () => {
      await tellConnection(input, { details });
      await sleep(PREVIOUS_ACCESS_GRACE);
    });
    const leftovers = await removePrevious(saga, input, previous);
    if (leftovers.length > 0) await tellConnection(input, { leftovers });
    return details;
  });
}
