import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { COMPENSATION_STEP } from './activity-options';
import type { AppKind, ComponentRef, DisableResult, DisableSagaInput } from './definitions';
import { withOperationOutcome } from './outcome';
import { SAGA_NAMES } from './readable';
import { StepId } from './definitions';
import { componentNames, operationStamp } from './naming';
import { Saga } from './saga';
import { DISABLE_STEPS } from './steps';

const cleanup = proxyActivities<Activities>(COMPENSATION_STEP);

/** What a disable looks for: the connection's own components, and any an earlier operation left behind. */
function componentsToRemove(input: DisableSagaInput) {
  const names = componentNames({
    agentName: input.agentName,
    tenantId: input.tenantId,
    operationId: input.operationId,
    orgId: input.details?.orgId ?? '000000000000000',
    usernameDomain: 'unused.invalid',
  });
  const leftovers = (kind: ComponentRef['kind']) => input.leftovers.filter((c) => c.kind === kind);
  const appKinds: AppKind[] = input.details
    ? [input.details.appKind]
    : unique([
        ...leftovers('client_app').flatMap((c) => (c.appKind ? [c.appKind] : [])),
        'external_client_app',
        'connected_app',
      ]);
  return {
    userLastName: names.userLastName,
    permissionSetName: input.details?.permissionSetName ?? names.permissionSetName,
    appApiName: input.details?.appApiName ?? names.appApiName,
    appKinds,
    usernames: unique([
      ...(input.details ? [input.details.integrationUsername] : []),
      ...leftovers('integration_user').map((c) => c.name),
    ]),
    signingKeys: unique([
      ...(input.details ? [input.details.privateKey.secretRef] : []),
      ...leftovers('signing_key').map((c) => c.name),
    ]),
  };
}

/**
 * Disable: removes what enable created, in the safe order — the app first (no new tokens), then the integration
 * user's assignments and licenses, then the user (deactivated and renamed: Salesforce cannot delete users), then the
 * permission set, then the private key.
 *
 * Works from whatever state it finds: each step looks components up by their names and treats "already gone" as
 * done, so it is idempotent and cleans up partial enables, earlier incomplete rollbacks and hand edits. A step that
 * cannot finish does not stop the others (the saga's best-effort mode); the operation then fails listing what
 * remains.
 */
async function runDisableConnection(input: DisableSagaInput): Promise<DisableResult> {
  const saga = new Saga(input, DISABLE_STEPS);
  const { target } = input;
  const { userLastName, permissionSetName, appApiName, appKinds, usernames, signingKeys } = componentsToRemove(input);
  const retirementStamp = operationStamp(input.operationId);

  await saga.step(StepId.removeClientApp, async () => {
    for (const appKind of appKinds) {
      await saga.remove({ kind: 'client_app', name: appApiName, appKind }, () =>
        cleanup.deleteClientApp({ target, appKind, apiName: appApiName }),
      );
    }
  });
  await saga.step(StepId.removeUserAccess, async () => {
    try {
      const found = await cleanup.findIntegrationUsers({ target, userLastName });
      usernames.push(...found.filter((u) => !usernames.includes(u)));
    } catch (err) {
      saga.failedToRemove({ kind: 'integration_user', name: `${userLastName} (not looked up)` }, err);
    }
    for (const username of usernames) {
      await saga.remove({ kind: 'user_access', name: username }, () =>
        cleanup.removeUserAccess({ target, username, permissionSetName }),
      );
    }
  });
  await saga.step(StepId.deactivateUser, async () => {
    for (const username of usernames) {
      await saga.remove({ kind: 'integration_user', name: username }, () =>
        cleanup.deactivateIntegrationUser({ target, username, retirementStamp }),
      );
    }
  });
  await saga.step(StepId.removePermissionSet, () =>
    saga.remove({ kind: 'permission_set', name: permissionSetName }, () =>
      cleanup.deletePermissionSet({ target, permissionSetName }),
    ),
  );
  await saga.step(StepId.removeSigningKey, async () => {
    for (const ref of signingKeys) {
      await saga.remove({ kind: 'signing_key', name: ref }, () => cleanup.deleteSecret({ ref: { secretRef: ref } }));
    }
  });
  return saga.removed();
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/** The workflow: the saga above, with its outcome recorded for operators (outcome.ts). */
export function disableConnection(input: DisableSagaInput): Promise<DisableResult> {
  return withOperationOutcome(
    { name: SAGA_NAMES.disableConnection!, operationId: input.operationId, steps: DISABLE_STEPS },
    () => runDisableConnection(input),
  );
}
