import { Connection } from 'jsforce';
import { createSigningKeyActivities } from '../../activities/signing-key';
import type { ConnectionView } from '../../api/schemas';
import { healthScheduleId } from '../../workflows/definitions';
import { recordHistory } from '../support/harness';
import type { ApiStack } from './api-stack';
import { startApiStack, waitForConnection } from './api-stack';
import { workingConnections } from './working-connection';

/**
 * A reconnect of a connection a health check found broken repairs only what is broken, and keeps the rest: the app
 * and its consumer key where the app survived, the integration user, the permission set.
 */
describe('reconnect: repair in place', () => {
  let stack: ApiStack;

  beforeAll(async () => {
    stack = await startApiStack();
  });

  afterAll(async () => {
    await stack?.close();
  });

  const { post, enabledConnection, finished, agentQuery, stateOf } = workingConnections(() => stack);

  /** Runs the connection's health check now; it finds the connection broken. */
  async function brokenConnection(tenant: string, read: () => Promise<ConnectionView>) {
    await stack.env.client.schedule.getHandle(healthScheduleId(tenant, 'salesforce')).trigger();
    const broken = await waitForConnection(read, (c) => c.status === 'error');
    expect(broken.lastError?.type).toBe('HealthCheckFailed');
  }

  /** Reconnects, and checks that the connection works again with the same user and permission set. */
  async function repaired(key: string, tenant: string, base: string, read: () => Promise<ConnectionView>) {
    const before = (await stateOf(tenant)).details!;
    const accepted = await post(`${base}/reconnect`, `repair-${key}`, {}).expect(202);
    const operation = await finished(base, accepted.body.operationId as string);
    expect(operation).toMatchObject({ status: 'succeeded' });
    expect(operation.stepsDone).toEqual(expect.arrayContaining(['diagnose', 'readiness']));
    expect(operation.stepsDone).not.toContain('remove_client_app');
    expect((await read()).status).toBe('enabled');
    const after = (await stateOf(tenant)).details!;
    expect(after).toMatchObject({
      integrationUserId: before.integrationUserId,
      permissionSetId: before.permissionSetId,
      appApiName: before.appApiName,
      privateKey: before.privateKey,
    });
    expect((await agentQuery(base, 'SELECT Id FROM Account LIMIT 1')).status).toBe(200);
    return { operation, before, after };
  }

  it('reactivates a deactivated integration user, keeping the app and its consumer key', async () => {
    const { tenant, org, base, read, connection } = await enabledConnection('repair-user');
    await stack.emulator.control.patchRecord(org.key, 'User', connection.details!.integrationUserId, {
      IsActive: false,
    });
    await brokenConnection(tenant, read);
    const { operation, before, after } = await repaired('user', tenant, base, read);
    await recordHistory('reconnect-repair-user', stack.env.client.workflow.getHandle(operation.workflowId));
    expect(operation.stepsDone).toContain('reactivate_user');
    expect(operation.stepsDone).not.toContain('client_app');
    expect(after.consumerKey).toBe(before.consumerKey);
  });

  it('assigns an unassigned permission set again, keeping the consumer key', async () => {
    const { tenant, org, base, read, connection } = await enabledConnection('repair-ps');
    const assignments = await stack.emulator.control.records(org.key, 'PermissionSetAssignment');
    const assignment = assignments.find(
      (a) =>
        a.AssigneeId === connection.details!.integrationUserId &&
        a.PermissionSetId === connection.details!.permissionSetId,
    );
    await stack.emulator.control.deleteComponent(org.key, 'PermissionSetAssignment', String(assignment!.Id));
    await brokenConnection(tenant, read);
    const { operation, before, after } = await repaired('ps', tenant, base, read);
    expect(operation.stepsDone).toContain('user_access');
    expect(operation.stepsDone).not.toContain('reactivate_user');
    expect(after.consumerKey).toBe(before.consumerKey);
  });

  it('recreates a deleted app under its name, with the same user and permission set', async () => {
    const { tenant, org, base, read, connection } = await enabledConnection('repair-app');
    const app = connection.details!.appApiName;
    for (const [kind, name] of [
      ['ExtlClntAppOauthConfigurablePolicies', `${app}_oauthPlcy`],
      ['ExtlClntAppGlobalOauthSettings', `${app}_glbloauth`],
      ['ExtlClntAppOauthSettings', `${app}_oauth`],
      ['ExternalClientApplication', app],
    ] as const) {
      await stack.emulator.control.deleteComponent(org.key, kind, name);
    }
    await brokenConnection(tenant, read);
    const { operation } = await repaired('app', tenant, base, read);
    await recordHistory('reconnect-repair-app', stack.env.client.workflow.getHandle(operation.workflowId));
    expect(operation.stepsDone).toContain('client_app');
  });

  it('uploads the certificate again when the app holds another one, keeping the consumer key', async () => {
    const { tenant, org, base, read, connection } = await enabledConnection('repair-cert');
    const app = connection.details!.appApiName;
    const other = await createSigningKeyActivities({ secrets: stack.secrets, validityDays: 30 }).prepareSigningKey({
      tenantId: tenant,
      operationId: 'another-certificate',
      commonName: 'Someone else',
    });
    const admin = new Connection({ instanceUrl: org.instanceUrl, accessToken: org.accessToken, version: '66.0' });
    const update = admin.metadata.update.bind(admin.metadata) as unknown as (
      type: string,
      metadata: Record<string, unknown>,
    ) => Promise<{ success: boolean | string }>;
    const replaced = await update('ExtlClntAppGlobalOauthSettings', {
      fullName: `${app}_glbloauth`,
      callbackUrl: 'https://login.salesforce.com/services/oauth2/success',
      certificate: other.certificatePem,
      externalClientApplication: app,
      isConsumerSecretOptional: true,
      isIntrospectAllTokens: false,
      isPkceRequired: false,
      isSecretRequiredForRefreshToken: false,
      label: `${app}_glbloauth`,
    });
    expect(String(replaced.success)).toBe('true');
    await brokenConnection(tenant, read);
    const { operation, before, after } = await repaired('cert', tenant, base, read);
    await recordHistory('reconnect-repair-certificate', stack.env.client.workflow.getHandle(operation.workflowId));
    expect(operation.stepsDone).toContain('update_certificate');
    expect(operation.stepsDone).not.toContain('client_app');
    expect(after.consumerKey).toBe(before.consumerKey);
  });

  it('recreates everything when the admin asks for it, even for a broken connection', async () => {
    const { tenant, org, base, read, connection } = await enabledConnection('repair-recreate');
    await stack.emulator.control.patchRecord(org.key, 'User', connection.details!.integrationUserId, {
      IsActive: false,
    });
    await brokenConnection(tenant, read);
    const accepted = await post(`${base}/reconnect`, 'recreate-1', { mode: 'recreate' }).expect(202);
    const operation = await finished(base, accepted.body.operationId as string);
    expect(operation.status).toBe('succeeded');
    expect(operation.stepsDone).toContain('remove_client_app');
    expect((await stateOf(tenant)).details?.integrationUserId).not.toBe(connection.details!.integrationUserId);
    expect((await agentQuery(base, 'SELECT Id FROM Account LIMIT 1')).status).toBe(200);
  });
});
