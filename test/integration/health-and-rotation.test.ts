import { randomUUID } from 'node:crypto';
import { Connection } from 'jsforce';
import { ScheduleNotFoundError } from '@temporalio/client';
import { AgentTokenBroker } from '../../api/agent-tokens';
import { SalesforceClients } from '../../salesforce/clients';
import type { ConnectionState, HealthProblem } from '../../workflows/definitions';
import { healthScheduleId, rotateCertificateUpdate, connectionWorkflowId } from '../../workflows/definitions';
import { recordHistory } from '../support/harness';
import { useSagaSuite } from '../support/saga-suite';
import type { SagaSuite } from '../support/saga-suite';
import { DEFAULT_AGENT_CONFIGURATION, createTestOrg, enableRequest } from '../support/salesforce';
import { pollUntil } from '../support/poll';

async function enabledConnection(s: SagaSuite) {
  const { org, target } = await createTestOrg(s.emulator, s.secrets);
  const tenantId = `t-${randomUUID()}`;
  const state = await s.connections.enableAndSettle(tenantId, enableRequest(target));
  expect(state.status).toBe('enabled');
  return { org, target, tenantId, details: state.details! };
}

/** Runs the connection's scheduled health check now and waits for its report to reach the connection. */
async function runHealthCheck(s: SagaSuite, tenantId: string): Promise<ConnectionState> {
  const before = (await s.connections.state(tenantId)).health?.checkedAt;
  await s.env.client.schedule.getHandle(healthScheduleId(tenantId, 'salesforce')).trigger();
  return pollUntil(
    () => s.connections.state(tenantId),
    (state) => !!state.health && state.health.checkedAt !== before,
    { what: 'a new health report', intervalMs: 150, describe: (state) => state.health },
  );
}

const kinds = (state: ConnectionState): HealthProblem['kind'][] => state.health?.problems.map((p) => p.kind) ?? [];

/**
 * The agent runtime's sign-in, through the product's token broker with no cache: every call is a real JWT login
 * with the key(s) the connection currently holds, then a query with the token.
 */
async function agentToken(s: SagaSuite, tenantId: string): Promise<string> {
  const { details } = await s.connections.state(tenantId);
  const broker = new AgentTokenBroker(new SalesforceClients(s.secrets, { apiVersion: '66.0' }), {
    ttlMs: 0,
    now: () => Date.now(),
  });
  const token = await broker.token(tenantId, details!);
  await new Connection({ instanceUrl: token.instanceUrl, accessToken: token.accessToken, version: '66.0' }).query(
    'SELECT Id FROM Account LIMIT 1',
  );
  return token.accessToken;
}

describe('the scheduled health check (dev server + emulator)', () => {
  const suite = useSagaSuite();

  it('is scheduled when a connection is enabled, reports a healthy connection, and is removed by disable', async () => {
    const s = suite();
    const { tenantId } = await enabledConnection(s);
    const schedule = await s.env.client.schedule.getHandle(healthScheduleId(tenantId, 'salesforce')).describe();
    expect(schedule.spec.intervals?.[0]?.every).toBe(3_600_000);
    const state = await runHealthCheck(s, tenantId);
    expect(state.health).toMatchObject({ ok: true, problems: [] });
    expect(state.status).toBe('enabled');

    await s.connections.disableAndSettle(tenantId);
    await expect(
      s.env.client.schedule.getHandle(healthScheduleId(tenantId, 'salesforce')).describe(),
    ).rejects.toBeInstanceOf(ScheduleNotFoundError);
  });

  it('does not report a connection broken when a sign-in got no answer: the check is retried', async () => {
    const s = suite();
    const { tenantId } = await enabledConnection(s);
    // The integration user's JWT sign-in is accepted but its answer lost, then refused once by an outage.
    await s.emulator.control.addFault({ match: { operation: 'oauth.token' }, action: { kind: 'commitThenDrop' } });
    await s.emulator.control.addFault({
      match: { operation: 'oauth.token' },
      action: { kind: 'error', status: 503, errorCode: 'SERVER_UNAVAILABLE' },
    });
    const state = await runHealthCheck(s, tenantId);
    expect(state.health).toMatchObject({ ok: true, problems: [] });
    expect(state.status).toBe('enabled');
    expect(await s.emulator.control.listFaults()).toEqual([]);
  });

  it('detects a deactivated integration user: the connection goes to error with the fix', async () => {
    const s = suite();
    const { org, tenantId, details } = await enabledConnection(s);
    await s.emulator.control.patchRecord(org.key, 'User', details.integrationUserId, { IsActive: false });
    const state = await runHealthCheck(s, tenantId);
    await recordHistory(
      'connection-health-failure',
      s.env.client.workflow.getHandle(connectionWorkflowId(tenantId, 'salesforce')),
    );
    expect(kinds(state)).toContain('user_inactive');
    expect(state.status).toBe('error');
    expect(state.lastError).toMatchObject({ type: 'HealthCheckFailed', step: 'health_check' });
    expect(state.lastError?.fix).toMatch(/Reconnect|reactivate/);
  });

  it('detects a deleted app', async () => {
    const s = suite();
    const { org, tenantId, details } = await enabledConnection(s);
    for (const [kind, name] of [
      ['ExtlClntAppOauthConfigurablePolicies', `${details.appApiName}_oauthPlcy`],
      ['ExtlClntAppGlobalOauthSettings', `${details.appApiName}_glbloauth`],
      ['ExtlClntAppOauthSettings', `${details.appApiName}_oauth`],
      ['ExternalClientApplication', details.appApiName],
    ] as const) {
      await s.emulator.control.deleteComponent(org.key, kind, name);
    }
    const state = await runHealthCheck(s, tenantId);
    expect(kinds(state)).toContain('app_missing');
    expect(state.status).toBe('error');
  });

  it('detects a permission row removed by hand', async () => {
    const s = suite();
    const { org, tenantId, details } = await enabledConnection(s);
    const rows = await s.emulator.control.records(org.key, 'FieldPermissions');
    const industry = rows.find((r) => r.ParentId === details.permissionSetId && r.Field === 'Account.Industry');
    await s.emulator.control.deleteComponent(org.key, 'FieldPermissions', String(industry!.Id));
    const state = await runHealthCheck(s, tenantId);
    expect(kinds(state)).toContain('permission_missing');
    expect(state.health?.problems.find((p) => p.kind === 'permission_missing')?.message).toContain('account.industry');
    expect(state.status).toBe('error');
  });

  it('keeps asking for a reconnect when the agent now reads a field the connection does not grant', async () => {
    const s = suite();
    const { tenantId } = await enabledConnection(s);
    await s.connections.configureAgent(tenantId, {
      objects: [...DEFAULT_AGENT_CONFIGURATION.objects, { object: 'Lead', fields: ['Company'] }],
    });
    const state = await runHealthCheck(s, tenantId);
    expect(state.status).toBe('needs_reconnect');
    expect(state.needsReconnect?.missingFields).toEqual(['Lead.Company']);
  });

  it('reports grants added by hand as drift without breaking the connection', async () => {
    const s = suite();
    const { org, tenantId, details } = await enabledConnection(s);
    const admin = new Connection({ instanceUrl: org.instanceUrl, accessToken: org.accessToken, version: '66.0' });
    await admin
      .sobject('ObjectPermissions')
      .create({ ParentId: details.permissionSetId, SobjectType: 'Lead', PermissionsRead: true });
    const state = await runHealthCheck(s, tenantId);
    expect(state.health?.problems).toEqual([expect.objectContaining({ kind: 'extra_permission', drift: true })]);
    expect(state.health?.ok).toBe(true);
    expect(state.status).toBe('enabled');
  });

  it('goes back to enabled once the problem is fixed', async () => {
    const s = suite();
    const { org, tenantId, details } = await enabledConnection(s);
    await s.emulator.control.patchRecord(org.key, 'User', details.integrationUserId, { IsActive: false });
    expect((await runHealthCheck(s, tenantId)).status).toBe('error');
    await s.emulator.control.patchRecord(org.key, 'User', details.integrationUserId, { IsActive: true });
    const state = await runHealthCheck(s, tenantId);
    expect(state.status).toBe('enabled');
    expect(state.lastError).toBeUndefined();
  });
});

describe('certificate rotation', () => {
  const suite = useSagaSuite();

  it('replaces the key pair without downtime: the agent gets tokens throughout; the old key is discarded only after the new one works', async () => {
    const s = suite();
    const { tenantId, details } = await enabledConnection(s);
    const operationId = randomUUID();
    const accepted = await s.env.client.workflow
      .getHandle(connectionWorkflowId(tenantId, 'salesforce'))
      .executeUpdate(rotateCertificateUpdate, { args: [{ operationId }] });
    expect(accepted).toMatchObject({ kind: 'rotate_certificate' });
    let tokens = 0;
    for (;;) {
      await expect(agentToken(s, tenantId)).resolves.toEqual(expect.any(String));
      tokens += 1;
      const state = await s.connections.state(tenantId);
      if (state.operations.some((o) => o.id === operationId)) break;
    }
    expect(tokens).toBeGreaterThan(0);
    const state = await s.connections.state(tenantId);
    expect(state.operations[0]).toMatchObject({ kind: 'rotate_certificate', status: 'succeeded' });
    expect(state.status).toBe('enabled');
    expect(state.details?.privateKey.secretRef).not.toBe(details.privateKey.secretRef);
    expect(state.details?.consumerKey).toBe(details.consumerKey);
    await recordHistory(
      'rotate-certificate-succeeded',
      s.env.client.workflow.getHandle(state.operations[0]!.workflowId),
    );
    expect(await s.secrets.get(details.privateKey)).toBeUndefined();
    await expect(agentToken(s, tenantId)).resolves.toEqual(expect.any(String));
  });
});

describe('rotation before expiry', () => {
  // Certificates in tests are valid 30 days; rotating 400 days ahead makes every check find one expiring.
  const suite = useSagaSuite({ rotateBeforeDays: 400 });

  it('the health check starts a rotation when the certificate nears expiry', async () => {
    const s = suite();
    const { tenantId, details } = await enabledConnection(s);
    const checked = await runHealthCheck(s, tenantId);
    expect(kinds(checked)).toContain('certificate_expiring');
    const state = await pollUntil(
      () => s.connections.state(tenantId),
      (current) => current.operations.some((o) => o.kind === 'rotate_certificate'),
      { what: 'a certificate rotation', intervalMs: 200, onTimeout: 'return' },
    );
    expect(state.operations[0]).toMatchObject({ kind: 'rotate_certificate', status: 'succeeded' });
    expect(state.details?.privateKey.secretRef).not.toBe(details.privateKey.secretRef);
    expect(state.status).toBe('enabled');
  });
});
