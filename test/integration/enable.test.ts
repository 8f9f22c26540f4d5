import { randomUUID } from 'node:crypto';
import { recordHistory } from '../support/harness';
import { useSagaSuite } from '../support/saga-suite';
import { componentCounts, createTestOrg, enableRequest } from '../support/salesforce';

describe('enable on the real dev server against the Salesforce emulator', () => {
  const suite = useSagaSuite();

  it('creates exactly one app, user and permission set, and the integration user can sign in by JWT', async () => {
    const s = suite();
    const { org, target } = await createTestOrg(s.emulator, s.secrets);
    const tenantId = `t-${randomUUID()}`;
    const state = await s.connections.enableAndSettle(tenantId, enableRequest(target));
    expect(state.lastError).toBeUndefined();
    expect(state.status).toBe('enabled');
    expect(state.details).toMatchObject({
      appKind: 'external_client_app',
      appLabel: 'Copilot for Sales connected app',
      permissionSetName: 'Copilot_for_Sales_permission_set',
      orgId: org.orgId,
    });
    expect(await componentCounts(s.emulator, org.key)).toMatchObject({ PermissionSet: 1, User: 1 });
    await recordHistory('enable-succeeded', s.env.client.workflow.getHandle(state.operations[0]!.workflowId));
  });
});
