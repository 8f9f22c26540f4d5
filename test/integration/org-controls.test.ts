/**
 * The org-control checks against the emulator: the two subrequests go in one Composite Batch, sent with jsforce as the
 * admin (the service's client and token refresh, as preflight sends its batch), and their answers become problems.
 */
import { StepId } from '../../workflows/definitions';
import { orgControlProblems, orgControlSubrequests } from '../../salesforce/org-controls';
import { compositeBatch } from '../../salesforce/soql';
import { useActivitySuite } from '../support/activity-suite';
import { createTestOrg } from '../support/salesforce';

const suite = useActivitySuite();

async function checkOrg(input: Parameters<typeof createTestOrg>[2] = {}) {
  const { emulator, secrets, clients } = suite();
  const org = await createTestOrg(emulator, secrets, input);
  const admin = await clients.admin(org.target, StepId.preflight);
  const check = async () => {
    await emulator.control.resetCounters(org.org.key);
    const problems = orgControlProblems(await compositeBatch(admin, [...orgControlSubrequests]));
    const counters = await emulator.control.counters(org.org.key);
    return { problems, calls: counters.total };
  };
  return { org, admin, check };
}

describe('org controls against the emulator (real jsforce, the admin’s batch)', () => {
  it('a plain org: no problem, one API call', async () => {
    const { check } = await checkOrg();
    expect(await check()).toEqual({ problems: [], calls: 1 });
  });

  it('API Access Control and blocking Transaction Security policies are reported as warnings', async () => {
    const { org, admin, check } = await checkOrg({
      adminPermissions: { PermissionsTransactionSecurityExempt: true },
    });
    await suite().emulator.control.updateSettings(org.org.key, { apiAccessControl: 'adminApprovedAppsOnly' });
    await admin.sobject('TransactionSecurityPolicy').create({
      DeveloperName: 'Block_Exports',
      MasterLabel: 'Block exports',
      EventName: 'ApiEvent',
      State: 'Enabled',
      Type: 'CustomConditionBuilderPolicy',
      ActionConfig: '{"block":true,"notifications":[]}',
    });
    await admin.sobject('TransactionSecurityPolicy').create({
      DeveloperName: 'Login_Mfa',
      MasterLabel: 'Login MFA',
      EventName: 'LoginEvent',
      State: 'Enabled',
      Type: 'CustomApexPolicy',
      ActionConfig: '{"twoFactorAuthentication":true}',
    });
    const { problems, calls } = await check();
    expect(calls).toBe(1);
    expect(problems.map((p) => [p.code, p.severity])).toEqual([
      ['TRANSACTION_SECURITY_API_POLICY', 'warning'],
      ['TRANSACTION_SECURITY_LOGIN_POLICY', 'warning'],
      ['API_ACCESS_CONTROL', 'warning'],
    ]);
    expect(problems[0]!.message).toContain('“Block exports”');
  });

  it('a policy that blocks the admin’s own queries is a blocker', async () => {
    const { admin, check } = await checkOrg();
    await admin.sobject('TransactionSecurityPolicy').create({
      DeveloperName: 'Block_All',
      MasterLabel: 'Block all queries',
      EventName: 'ApiEvent',
      State: 'Enabled',
      ActionConfig: '{"block":true}',
    });
    const { problems } = await check();
    expect(problems).toEqual([
      expect.objectContaining({ code: 'TRANSACTION_SECURITY_BLOCKS_ADMIN', severity: 'blocking' }),
    ]);
  });
});
