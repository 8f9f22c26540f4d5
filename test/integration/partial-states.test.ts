import { randomUUID } from 'node:crypto';
import type { FaultInput } from '@agent-connections/salesforce-emulator';
import type { ComponentRef } from '../../workflows/definitions';
import { recordHistory } from '../support/harness';
import { useSagaSuite } from '../support/saga-suite';
import { createTestOrg, enableRequest, leftovers } from '../support/salesforce';

/** A permanent failure at each step, with what a failed rollback leaves behind when no undo can reach Salesforce. */
const PARTIAL_STATES: { step: string; match: FaultInput['match']; remaining: ComponentRef['kind'][] }[] = [
  {
    step: 'permission_set',
    match: { operation: 'rest.collections.create', object: 'FieldPermissions' },
    remaining: ['permission_set'],
  },
  { step: 'integration_user', match: { operation: 'rest.create', object: 'User' }, remaining: ['permission_set'] },
  {
    step: 'user_access',
    match: { operation: 'rest.create', object: 'PermissionSetAssignment' },
    remaining: ['user_access', 'integration_user', 'permission_set'],
  },
  {
    step: 'client_app',
    match: { operation: 'metadata.deploy' },
    remaining: ['user_access', 'integration_user', 'permission_set'],
  },
  {
    step: 'readiness',
    match: { operation: 'oauth.token' },
    remaining: ['client_app', 'user_access', 'integration_user', 'permission_set'],
  },
];

/** Every way an undo writes to Salesforce, refused as an admin without rights would be. */
const UNDO_WRITES: FaultInput['match'][] = [
  { operation: 'rest.delete' },
  { operation: 'rest.update' },
  { operation: 'rest.collections.delete' },
  { operation: 'metadata.delete' },
];

describe('rollback incomplete, and disable from every partial state (dev server + emulator)', () => {
  const suite = useSagaSuite();

  it.each(PARTIAL_STATES)(
    'failure at $step with undos refused: the operation lists exactly what remains; disable then removes it all',
    async ({ step, match, remaining }) => {
      const s = suite();
      const { org, target } = await createTestOrg(s.emulator, s.secrets);
      const tenantId = `t-${randomUUID()}`;
      await s.emulator.control.addFault({
        ...(step === 'readiness' ? {} : { org: org.key }),
        match,
        action:
          step === 'readiness'
            ? { kind: 'error', errorCode: 'invalid_grant', message: 'inactive user', status: 400 }
            : { kind: 'error', errorCode: 'INSUFFICIENT_ACCESS', status: 400 },
        times: 0,
      });
      for (const undo of UNDO_WRITES) {
        await s.emulator.control.addFault({
          org: org.key,
          match: undo,
          action: { kind: 'error', errorCode: 'INSUFFICIENT_ACCESS_OR_READONLY', status: 400 },
          times: 0,
        });
      }
      const failed = await s.connections.enableAndSettle(tenantId, enableRequest(target));
      const record = failed.operations[0]!;
      expect(record.status).toBe('rollback_incomplete');
      expect(failed.status).toBe('rollback_incomplete');
      expect(failed.lastError?.step).toBe(step);
      expect(record.remaining?.map((c) => c.kind)).toEqual(remaining);
      expect(failed.leftovers.map((c) => c.kind)).toEqual(remaining);
      expect((await leftovers(s.emulator, org.key)).length).toBeGreaterThan(0);
      if (step === 'readiness')
        await recordHistory('enable-rollback-incomplete', s.env.client.workflow.getHandle(record.workflowId));

      // A new enable is refused until the leftovers are cleaned.
      await expect(
        s.connections.enable(tenantId, { operationId: randomUUID(), target, appKind: 'external_client_app' }),
      ).rejects.toMatchObject({ cause: { message: expect.stringContaining('remain in Salesforce') } });

      await s.emulator.control.clearFaults();
      const disabled = await s.connections.disableAndSettle(tenantId);
      expect(disabled.operations[0]).toMatchObject({ kind: 'disable', status: 'succeeded' });
      expect(disabled.status).toBe('disabled');
      expect(disabled.leftovers).toEqual([]);
      expect(await leftovers(s.emulator, org.key)).toEqual([]);
    },
  );

  it('a disable that cannot finish says what remains, and a later disable finishes the job', async () => {
    const s = suite();
    const { org, target } = await createTestOrg(s.emulator, s.secrets);
    const tenantId = `t-${randomUUID()}`;
    await s.connections.enableAndSettle(tenantId, enableRequest(target));
    await s.emulator.control.addFault({
      org: org.key,
      match: { operation: 'rest.update', object: 'User' },
      action: { kind: 'error', errorCode: 'INSUFFICIENT_ACCESS_OR_READONLY', status: 400 },
      times: 0,
    });
    const stuck = await s.connections.disableAndSettle(tenantId);
    expect(stuck.status).toBe('rollback_incomplete');
    expect(stuck.leftovers.map((c) => c.kind)).toEqual(['integration_user']);
    const remainingInOrg = await leftovers(s.emulator, org.key);
    expect(remainingInOrg.map((c) => c.kind)).toEqual(['User']);

    await s.emulator.control.clearFaults();
    const done = await s.connections.disableAndSettle(tenantId);
    expect(done.status).toBe('disabled');
    expect(await leftovers(s.emulator, org.key)).toEqual([]);
  });

  it('disable copes with components removed or changed by hand in Salesforce', async () => {
    const s = suite();
    const { org, target } = await createTestOrg(s.emulator, s.secrets);
    const tenantId = `t-${randomUUID()}`;
    const { details } = await s.connections.enableAndSettle(tenantId, enableRequest(target));
    // An admin deleted the app's policies and deactivated the user by hand.
    await s.emulator.control.deleteComponent(
      org.key,
      'ExtlClntAppOauthConfigurablePolicies',
      `${details!.appApiName}_oauthPlcy`,
    );
    await s.emulator.control.patchRecord(org.key, 'User', details!.integrationUserId, { IsActive: false });
    const done = await s.connections.disableAndSettle(tenantId);
    expect(done.status).toBe('disabled');
    expect(await leftovers(s.emulator, org.key)).toEqual([]);
  });
});
