import { randomUUID } from 'node:crypto';
import { Connection, OAuth2 } from 'jsforce';
import type { AgentConfiguration } from '../../workflows/definitions';
import { ErrorType, connectionWorkflowId } from '../../workflows/definitions';
import { JWT_BEARER_GRANT, signJwtAssertion } from '../../salesforce/clients';
import { recordHistory } from '../support/harness';
import { useSagaSuite } from '../support/saga-suite';
import type { SagaSuite } from '../support/saga-suite';
import { componentCounts, createTestOrg, enableRequest, leftovers } from '../support/salesforce';

/** Signs in as the integration user exactly as the agent runtime does, and reads a granted object. */
async function agentCanRead(s: SagaSuite, tenantId: string): Promise<boolean> {
  const { details } = await s.connections.state(tenantId);
  if (!details) return false;
  const stored = JSON.parse((await s.secrets.get(details.privateKey))!) as { privateKeyPem: string };
  try {
    const assertion = await signJwtAssertion({
      privateKeyPem: stored.privateKeyPem,
      consumerKey: details.consumerKey,
      username: details.integrationUsername,
      audience: details.loginUrl,
    });
    const token = await new OAuth2({ loginUrl: details.loginUrl }).requestToken({
      grant_type: JWT_BEARER_GRANT,
      assertion,
    });
    const agent = new Connection({ instanceUrl: token.instance_url, accessToken: token.access_token, version: '66.0' });
    await agent.query('SELECT Id FROM Account LIMIT 1');
    return true;
  } catch {
    return false;
  }
}

describe('connection lifecycle: enable, disable, reconnect, needs-reconnect (dev server + emulator)', () => {
  const suite = useSagaSuite();

  it('enable then disable: the agent signs in while enabled; afterwards nothing remains but a deactivated, renamed user', async () => {
    const s = suite();
    const { org, target } = await createTestOrg(s.emulator, s.secrets);
    const tenantId = `t-${randomUUID()}`;
    const enabled = await s.connections.enableAndSettle(tenantId, enableRequest(target));
    expect(enabled.status).toBe('enabled');
    expect(enabled.details?.grantedObjects.map((o) => o.object)).toEqual(['Account', 'Contact', 'Opportunity']);
    expect(await agentCanRead(s, tenantId)).toBe(true);
    const username = enabled.details!.integrationUsername;
    const privateKey = enabled.details!.privateKey;

    const disabled = await s.connections.disableAndSettle(tenantId);
    expect(disabled.status).toBe('disabled');
    expect(disabled.details).toBeUndefined();
    expect(disabled.operations[0]).toMatchObject({ kind: 'disable', status: 'succeeded' });
    expect(await leftovers(s.emulator, org.key)).toEqual([]);
    const users = await s.emulator.control.records(org.key, 'User');
    const retired = users.find((u) => String(u.Username).includes('.retired-'));
    expect(retired).toMatchObject({ IsActive: false });
    expect(users.some((u) => u.Username === username)).toBe(false);
    expect(await s.secrets.get(privateKey)).toBeUndefined();
    await recordHistory('disable-succeeded', s.env.client.workflow.getHandle(disabled.operations[0]!.workflowId));
    await recordHistory(
      'connection-enable-disable',
      s.env.client.workflow.getHandle(connectionWorkflowId(tenantId, 'salesforce')),
    );

    const again = await s.connections.disableAndSettle(tenantId);
    expect(again.status).toBe('disabled');
    expect(again.operations[0]).toMatchObject({ kind: 'disable', status: 'succeeded' });
  });

  it('reconnect removes the connection and creates a new one: new user, new app key, still exactly one of each', async () => {
    const s = suite();
    const { org, target } = await createTestOrg(s.emulator, s.secrets);
    const tenantId = `t-${randomUUID()}`;
    const first = await s.connections.enableAndSettle(tenantId, enableRequest(target));
    const before = first.details!;
    const state = await s.connections.reconnectAndSettle(tenantId);
    expect(state.lastError).toBeUndefined();
    expect(state.status).toBe('enabled');
    expect(state.details?.integrationUsername).not.toBe(before.integrationUsername);
    expect(state.details?.consumerKey).not.toBe(before.consumerKey);
    const counts = await componentCounts(s.emulator, org.key);
    expect(counts).toMatchObject({
      PermissionSet: 1,
      User: 1,
      'User (inactive)': 1,
      PermissionSetAssignment: 1,
      ExternalClientApplication: 1,
    });
    expect(await agentCanRead(s, tenantId)).toBe(true);
    await recordHistory('reconnect-succeeded', s.env.client.workflow.getHandle(state.operations[0]!.workflowId));
  });

  it('asks for a reconnect, naming the missing fields, when the agent is configured to read more; reconnect then grants them', async () => {
    const s = suite();
    const { target } = await createTestOrg(s.emulator, s.secrets, {
      customFields: { Account: [{ name: 'Tier__c', type: 'string' }] },
    });
    const tenantId = `t-${randomUUID()}`;
    await s.connections.enableAndSettle(tenantId, enableRequest(target));
    const wider: AgentConfiguration = {
      objects: [
        { object: 'Account', fields: ['Name', 'Industry', 'AnnualRevenue', 'Tier__c'] },
        { object: 'Contact', fields: ['Email', 'Title'] },
        { object: 'Opportunity', fields: ['StageName', 'Amount', 'CloseDate'] },
      ],
    };
    const configured = await s.connections.configureAgent(tenantId, wider);
    expect(configured.status).toBe('needs_reconnect');
    expect(configured.needsReconnect?.missingFields).toEqual(['Account.Tier__c']);
    expect((await s.connections.state(tenantId)).status).toBe('needs_reconnect');

    await expect(
      s.connections.enable(tenantId, { operationId: randomUUID(), target, appKind: 'external_client_app' }),
    ).rejects.toMatchObject({ cause: { type: ErrorType.operationRejected } });

    const state = await s.connections.reconnectAndSettle(tenantId);
    expect(state.status).toBe('enabled');
    expect(state.needsReconnect).toBeUndefined();
    expect(state.details?.grantedObjects.find((o) => o.object === 'Account')?.fields).toContain('Tier__c');
  });

  it('preflight names every field and object that does not exist, and creates nothing', async () => {
    const s = suite();
    const { org, target } = await createTestOrg(s.emulator, s.secrets);
    const tenantId = `t-${randomUUID()}`;
    const state = await s.connections.enableAndSettle(
      tenantId,
      enableRequest(target, {
        agentConfiguration: {
          objects: [
            { object: 'Account', fields: ['Industry', 'NoSuchField__c'] },
            { object: 'Nonexistent__c', fields: ['Name'] },
          ],
        },
      }),
    );
    expect(state.status).toBe('error');
    expect(state.lastError?.type).toBe(ErrorType.preflightFailed);
    expect(state.lastError?.message).toContain('Account.NoSuchField__c');
    expect(state.lastError?.message).toContain('Nonexistent__c');
    expect(await leftovers(s.emulator, org.key)).toEqual([]);
  });

  it('preflight refuses when no integration license is free, saying how to free one', async () => {
    const s = suite();
    const { org, target } = await createTestOrg(s.emulator, s.secrets, { integrationLicenses: 0 });
    const state = await s.connections.enableAndSettle(`t-${randomUUID()}`, enableRequest(target));
    expect(state.lastError).toMatchObject({ salesforceCode: 'LICENSE_LIMIT_EXCEEDED', step: 'preflight' });
    expect(state.lastError?.fix).toMatch(/deactivate|buy/i);
    expect(await leftovers(s.emulator, org.key)).toEqual([]);
  });

  it('preflight refuses an admin without the needed permissions, naming them', async () => {
    const s = suite();
    const { org, target } = await createTestOrg(s.emulator, s.secrets, {
      adminPermissions: { PermissionsManageUsers: false, PermissionsCustomizeApplication: false },
    });
    const state = await s.connections.enableAndSettle(`t-${randomUUID()}`, enableRequest(target));
    expect(state.lastError?.message).toContain('Manage Users');
    expect(state.lastError?.message).toContain('Customize Application');
    expect(await leftovers(s.emulator, org.key)).toEqual([]);
  });

  it('a legacy connected app is refused where the org blocks new connected apps (Spring ’26), before anything is created', async () => {
    const s = suite();
    const { org, target } = await createTestOrg(s.emulator, s.secrets);
    const state = await s.connections.enableAndSettle(
      `t-${randomUUID()}`,
      enableRequest(target, { appKind: 'connected_app' }),
    );
    expect(state.status).toBe('error');
    expect(state.lastError?.step).toBe('preflight');
    expect(state.lastError?.message).toMatch(/connected app/i);
    expect(await leftovers(s.emulator, org.key)).toEqual([]);
  });

  it('a legacy connected app is created where the org still allows it, and disable removes it', async () => {
    const s = suite();
    const { org, target } = await createTestOrg(s.emulator, s.secrets, { allowConnectedAppCreation: true });
    const tenantId = `t-${randomUUID()}`;
    const state = await s.connections.enableAndSettle(tenantId, enableRequest(target, { appKind: 'connected_app' }));
    expect(state.lastError).toBeUndefined();
    expect(state.details?.appKind).toBe('connected_app');
    expect(await componentCounts(s.emulator, org.key)).toMatchObject({ ConnectedApp: 1, User: 1, PermissionSet: 1 });
    expect(await agentCanRead(s, tenantId)).toBe(true);
    await s.connections.disableAndSettle(tenantId);
    expect(await leftovers(s.emulator, org.key)).toEqual([]);
  });

  it('components left by an earlier connection are reported by preflight, and reconnect cleans them and connects', async () => {
    const s = suite();
    const { org, target } = await createTestOrg(s.emulator, s.secrets);
    const tenantA = `t-${randomUUID()}`;
    await s.connections.enableAndSettle(tenantA, enableRequest(target));
    // Another tenant record pointing at the same org: the components of A are "leftovers" for B.
    const tenantB = `t-${randomUUID()}`;
    const state = await s.connections.enableAndSettle(tenantB, enableRequest(target));
    expect(state.status).toBe('error');
    expect(state.lastError?.message).toMatch(/earlier connection remain/);
    expect(state.lastError?.fix).toMatch(/Reconnect/);
    const after = await s.connections.reconnectAndSettle(tenantB);
    expect(after.status).toBe('enabled');
    expect(await componentCounts(s.emulator, org.key)).toMatchObject({ PermissionSet: 1, User: 1 });
  });
});
