import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { COMPENSATION_STEP } from './activity-options';
import type { AppKind, ComponentRef, DisableResult, DisableSagaInput } from './definitions';
import { sagaFailure, toConnectionError } from './failures';
import { componentNames, operationStamp } from './naming';
import { OperationProgress } from './progress';

const cleanup = proxyActivities<Activities>(COMPENSATION_STEP);

export const DISABLE_STEPS = [
  { id: 'remove_client_app', title: 'Deleting the OAuth client app' },
  { id: 'remove_user_access', title: 'Removing the integration user’s permission sets and licenses' },
  { id: 'deactivate_user', title: 'Deactivating the integration user and freeing its username' },
  { id: 'remove_permission_set', title: 'Deleting the permission set' },
  { id: 'remove_signing_key', title: 'Deleting the signing key' },
];

/**
 * Disable: removes what enable created, in the safe order — the app first (no new tokens), then the integration
 * user's assignments and licenses, then the user (deactivated and renamed: Salesforce cannot delete users), then the
 * permission set, then the private key.
 *
 * Works from whatever state it finds: each step looks components up by their names and treats "already gone" as
 * done, so it is idempotent and cleans up partial enables, earlier incomplete rollbacks and hand edits. A step that
 * cannot finish does not stop the others; the operation then fails listing what remains.
 */
export async function disableConnection(input: DisableSagaInput): Promise<DisableResult> {
  const progress = new OperationProgress(input.parentWorkflowId, input.operationId, DISABLE_STEPS);
  const { target } = input;
  const names = componentNames({
    agentName: input.agentName,
    tenantId: input.tenantId,
    operationId: input.operationId,
    orgId: input.details?.orgId ?? '000000000000000',
    usernameDomain: 'unused.invalid',
  });
  const permissionSetName = input.details?.permissionSetName ?? names.permissionSetName;
  const appApiName = input.details?.appApiName ?? names.appApiName;
  const appKinds: AppKind[] = input.details
    ? [input.details.appKind]
    : unique([
        ...input.leftovers.flatMap((c) => (c.kind === 'client_app' && c.appKind ? [c.appKind] : [])),
        'external_client_app',
        'connected_app',
      ]);
  const usernames = unique([
    ...(input.details ? [input.details.integrationUsername] : []),
    ...input.leftovers.flatMap((c) => (c.kind === 'integration_user' ? [c.name] : [])),
  ]);
  const signingKeys = unique([
    ...(input.details ? [input.details.privateKey.secretRef] : []),
    ...input.leftovers.flatMap((c) => (c.kind === 'signing_key' ? [c.name] : [])),
  ]);
  const retirementStamp = operationStamp(input.operationId);

  const removed: ComponentRef[] = [];
  const remaining: ComponentRef[] = [];
  const stepsDone: string[] = [];
  let firstError: unknown;
  let firstErrorStep: string | undefined;

  const attempt = async (stepId: string, component: ComponentRef, body: () => Promise<boolean | void>) => {
    try {
      if ((await body()) !== false) removed.push(component);
    } catch (err) {
      remaining.push(component);
      firstError ??= err;
      firstErrorStep ??= stepId;
    }
  };
  const run = async (stepId: string, body: () => Promise<void>) => {
    await progress.started(stepId);
    await body();
    stepsDone.push(stepId);
    await progress.done(stepId);
  };

  await run('remove_client_app', async () => {
    for (const appKind of appKinds) {
      await attempt('remove_client_app', { kind: 'client_app', name: appApiName, appKind }, () =>
        cleanup.deleteClientApp({ target, appKind, apiName: appApiName }),
      );
    }
  });
  await run('remove_user_access', async () => {
    try {
      usernames.push(
        ...(await cleanup.findIntegrationUsers({ target, userLastName: names.userLastName })).filter(
          (u) => !usernames.includes(u),
        ),
      );
    } catch (err) {
      firstError ??= err;
      firstErrorStep ??= 'remove_user_access';
      remaining.push({ kind: 'integration_user', name: `${names.userLastName} (not looked up)` });
    }
    for (const username of usernames) {
      await attempt('remove_user_access', { kind: 'user_access', name: username }, () =>
        cleanup.removeUserAccess({ target, username, permissionSetName }),
      );
    }
  });
  await run('deactivate_user', async () => {
    for (const username of usernames) {
      await attempt('deactivate_user', { kind: 'integration_user', name: username }, () =>
        cleanup.deactivateIntegrationUser({ target, username, retirementStamp }),
      );
    }
  });
  await run('remove_permission_set', () =>
    attempt('remove_permission_set', { kind: 'permission_set', name: permissionSetName }, () =>
      cleanup.deletePermissionSet({ target, permissionSetName }),
    ),
  );
  await run('remove_signing_key', async () => {
    for (const ref of signingKeys) {
      await attempt('remove_signing_key', { kind: 'signing_key', name: ref }, () =>
        cleanup.deleteSecret({ ref: { secretRef: ref } }),
      );
    }
  });

  if (remaining.length > 0) {
    const error = toConnectionError(firstError, firstErrorStep, new Date().toISOString());
    throw sagaFailure(error, stepsDone, [], remaining);
  }
  return { removed };
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
