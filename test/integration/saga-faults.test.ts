import { randomUUID } from 'node:crypto';
import type { FaultInput } from '@agent-connections/salesforce-emulator';
import type { ConnectionState } from '../../workflows/definitions';
import { useSagaSuite } from '../support/saga-suite';
import type { SagaSuite } from '../support/saga-suite';
import { componentCounts, createTestOrg, enableRequest, leftovers } from '../support/salesforce';

type Match = FaultInput['match'];

/**
 * Where each step writes to Salesforce (the call a fault there hits first). The permission set's rows go in one
 * Composite call: a fault on it fails the whole call; a fault on its FieldPermissions collections subrequest comes
 * back inside the composite's answer, after which Salesforce rolls back the object permissions too.
 */
const STEP_CALLS: { step: string; match: Match }[] = [
  { step: 'preflight', match: { operation: 'rest.compositeBatch' } },
  { step: 'permission_set', match: { operation: 'rest.composite', object: 'FieldPermissions' } },
  { step: 'permission_set', match: { operation: 'rest.collections.create', object: 'FieldPermissions' } },
  { step: 'integration_user', match: { operation: 'rest.create', object: 'User' } },
  { step: 'user_access', match: { operation: 'rest.create', object: 'PermissionSetAssignment' } },
  { step: 'client_app', match: { operation: 'metadata.deploy' } },
  { step: 'readiness', match: { operation: 'oauth.token' } },
];

const PERMANENT_CODES: Record<string, { errorCode: string; status?: number; message?: string }> = {
  preflight: { errorCode: 'INSUFFICIENT_ACCESS', status: 403 },
  permission_set: { errorCode: 'INVALID_FIELD', status: 400 },
  integration_user: { errorCode: 'LICENSE_LIMIT_EXCEEDED', status: 400 },
  user_access: { errorCode: 'FIELD_INTEGRITY_EXCEPTION', status: 400 },
  client_app: { errorCode: 'INSUFFICIENT_ACCESS', status: 500 },
  readiness: { errorCode: 'invalid_grant', status: 400, message: 'inactive user' },
};

const TRANSIENT_CODES: Record<string, { errorCode: string; status?: number }> = {
  preflight: { errorCode: 'SERVER_UNAVAILABLE', status: 503 },
  permission_set: { errorCode: 'UNABLE_TO_LOCK_ROW', status: 400 },
  integration_user: { errorCode: 'UNABLE_TO_LOCK_ROW', status: 400 },
  user_access: { errorCode: 'REQUEST_LIMIT_EXCEEDED', status: 403 },
  client_app: { errorCode: 'SERVER_UNAVAILABLE', status: 503 },
  readiness: { errorCode: 'SERVER_UNAVAILABLE', status: 503 },
};

async function enableOnce(suite: SagaSuite, orgInput = {}) {
  const { org, target } = await createTestOrg(suite.emulator, suite.secrets, orgInput);
  const tenantId = `t-${randomUUID()}`;
  return { org, target, tenantId };
}

async function runEnable(suite: SagaSuite, tenantId: string, target: Awaited<ReturnType<typeof enableOnce>>['target']) {
  const request = enableRequest(target);
  const state = await suite.connections.enableAndSettle(tenantId, request);
  return { state, operation: state.operations.find((o) => o.id === request.operationId)! };
}

describe('enable saga under Salesforce faults (real dev server, real jsforce, emulator)', () => {
  const suite = useSagaSuite();
  let cleanCounts: Record<string, number>;

  beforeAll(async () => {
    const { org, target, tenantId } = await enableOnce(suite());
    const { state } = await runEnable(suite(), tenantId, target);
    expect(state.status).toBe('enabled');
    cleanCounts = await componentCounts(suite().emulator, org.key);
  });

  it('a clean enable creates exactly one permission set, user, assignment, license assignment and app', () => {
    expect(cleanCounts).toMatchObject({
      PermissionSet: 1,
      ObjectPermissions: 3,
      User: 1,
      PermissionSetAssignment: 1,
      PermissionSetLicenseAssign: 1,
      ExternalClientApplication: 1,
      ExtlClntAppConfigurablePolicies: 1,
      ExtlClntAppOauthSettings: 1,
      ExtlClntAppGlobalOauthSettings: 1,
      ExtlClntAppOauthConfigurablePolicies: 1,
    });
    expect(cleanCounts.FieldPermissions).toBeGreaterThanOrEqual(4);
  });

  it.each(STEP_CALLS)(
    'a permanent failure at $step ($match.operation) fails the operation with that cause and leaves zero components in the org',
    async ({ step, match }) => {
      const s = suite();
      const { org, target, tenantId } = await enableOnce(s);
      const code = PERMANENT_CODES[step]!;
      // The JWT token request goes to the login URL, which belongs to no org: match it for the whole emulator.
      await s.emulator.control.addFault({
        ...(step === 'readiness' ? {} : { org: org.key }),
        match,
        action: { kind: 'error', ...code },
        times: 0,
      });
      const { state, operation } = await runEnable(s, tenantId, target);
      expect(operation.status).toBe('failed');
      expect(state.status).toBe('error');
      expect(state.lastError).toMatchObject({ salesforceCode: code.errorCode, step });
      expect(state.lastError?.fix).toEqual(expect.any(String));
      expect(operation.remaining ?? []).toEqual([]);
      await s.emulator.control.clearFaults();
      expect(await leftovers(s.emulator, org.key)).toEqual([]);
    },
  );

  it.each(STEP_CALLS)(
    'transient failures at $step ($match.operation) (2, then success) are retried: exactly one of each component',
    async ({ step, match }) => {
      const s = suite();
      const { org, target, tenantId } = await enableOnce(s);
      await s.emulator.control.addFault({
        ...(step === 'readiness' ? {} : { org: org.key }),
        match,
        action: { kind: 'error', ...TRANSIENT_CODES[step]! },
        times: 2,
      });
      const { state } = await runEnable(s, tenantId, target);
      expect(state.lastError).toBeUndefined();
      expect(state.status).toBe('enabled');
      expect(await componentCounts(s.emulator, org.key)).toEqual(cleanCounts);
    },
  );

  it('a lost response on every create (the write lands, the client sees a network error) never duplicates anything', async () => {
    const s = suite();
    const { org, target, tenantId } = await enableOnce(s);
    const creates: Match[] = [
      { operation: 'rest.create', object: 'PermissionSet' },
      { operation: 'rest.composite', object: 'FieldPermissions' },
      { operation: 'rest.create', object: 'User' },
      { operation: 'rest.create', object: 'PermissionSetLicenseAssign' },
      { operation: 'rest.create', object: 'PermissionSetAssignment' },
      { operation: 'metadata.deploy' },
    ];
    for (const match of creates) {
      await s.emulator.control.addFault({ org: org.key, match, action: { kind: 'commitThenDrop' }, times: 1 });
    }
    const { state } = await runEnable(s, tenantId, target);
    expect(state.lastError).toBeUndefined();
    expect(state.status).toBe('enabled');
    expect(await componentCounts(s.emulator, org.key)).toEqual(cleanCounts);
    const faultsLeft = (await s.emulator.control.listFaults()) as { times?: number }[];
    expect(faultsLeft).toEqual([]);
  });

  it('an expired admin session is refreshed with the refresh token and the operation goes on', async () => {
    const s = suite();
    const { org, target, tenantId } = await enableOnce(s);
    await s.emulator.control.expireSessions(org.key);
    const { state }: { state: ConnectionState } = await runEnable(s, tenantId, target);
    expect(state.lastError).toBeUndefined();
    expect(state.status).toBe('enabled');
  });
});
