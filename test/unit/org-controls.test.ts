import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ORG_CONTROL_GUIDANCE,
  orgControlProblems,
  orgControlSubrequests,
  policyBlocks,
} from '../../salesforce/org-controls';
import { salesforceFailure } from '../../salesforce/errors';
import type { BatchSubresponse } from '../../salesforce/soql';

/** Subresponses recorded from the emulator (see the file's `about`). */
const recorded = JSON.parse(
  readFileSync(path.join(__dirname, '../fixtures/org-controls/batch-subresponses.json'), 'utf8'),
) as Record<'plainOrg' | 'apiAccessControlAndPolicies' | 'adminBlocked', BatchSubresponse[]>;

const policies = (records: Record<string, unknown>[]): BatchSubresponse => ({
  statusCode: 200,
  result: { totalSize: records.length, done: true, records },
});
const error = (statusCode: number, errorCode: string, message = 'message'): BatchSubresponse => ({
  statusCode,
  result: [{ errorCode, message, fields: [] }],
});
const NO_FIELD = error(
  400,
  'INVALID_FIELD',
  "No such column 'PermissionsUseAnyApiClient' on entity 'UserPermissionAccess'.",
);

describe('org controls: the subrequests', () => {
  it('are two GET queries, relative to the versioned data API as compositeBatch expects', () => {
    expect(orgControlSubrequests).toHaveLength(2);
    for (const r of orgControlSubrequests) {
      expect(r.method).toBe('GET');
      expect(r.url.startsWith('/query?q=')).toBe(true);
    }
    const soql = orgControlSubrequests.map((r) => decodeURIComponent(r.url.slice('/query?q='.length)));
    expect(soql[0]).toBe('SELECT PermissionsUseAnyApiClient FROM UserPermissionAccess');
    expect(soql[1]).toContain("FROM TransactionSecurityPolicy WHERE State = 'Enabled'");
  });
});

describe('org controls: interpreting recorded subresponses', () => {
  it('an org without API Access Control or policies has no problem', () => {
    expect(orgControlProblems(recorded.plainOrg)).toEqual([]);
  });

  it('API Access Control and blocking policies are warnings naming the policies; notification-only ones are ignored', () => {
    const problems = orgControlProblems(recorded.apiAccessControlAndPolicies);
    expect(problems.map((p) => [p.code, p.severity])).toEqual([
      ['TRANSACTION_SECURITY_API_POLICY', 'warning'],
      ['TRANSACTION_SECURITY_LOGIN_POLICY', 'warning'],
      ['API_ACCESS_CONTROL', 'warning'],
    ]);
    const [api, login] = problems;
    expect(api!.message).toContain('“Block large queries” (“Large exports are blocked.”)');
    expect(api!.message).not.toContain('Notify on API');
    expect(login!.message).toContain('“MFA on risky logins”');
    for (const p of problems) expect(p.fix).toBe(ORG_CONTROL_GUIDANCE[p.code].fix);
  });

  it('a policy that already blocks the admin’s queries is a blocker, listed first', () => {
    const problems = orgControlProblems(recorded.adminBlocked);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ code: 'TRANSACTION_SECURITY_BLOCKS_ADMIN', severity: 'blocking' });
    expect(problems[0]!.message).toContain("isn't allowed due to a security policy");
  });
});

describe('org controls: other answers', () => {
  it('no Transaction Security in the org (INVALID_TYPE) means no policy can block', () => {
    expect(
      orgControlProblems([
        NO_FIELD,
        error(400, 'INVALID_TYPE', "sObject type 'TransactionSecurityPolicy' is not supported."),
      ]),
    ).toEqual([]);
  });

  it('policies that cannot be read, or no answer, are a warning rather than silence', () => {
    const unreadable = orgControlProblems([NO_FIELD, error(500, 'UNKNOWN_EXCEPTION')]);
    expect(unreadable).toEqual([expect.objectContaining({ code: 'ORG_CONTROLS_UNREADABLE', severity: 'warning' })]);
    expect(unreadable[0]!.message).toContain('UNKNOWN_EXCEPTION');
    expect(orgControlProblems([])).toEqual([
      expect.objectContaining({ code: 'ORG_CONTROLS_UNREADABLE', severity: 'warning' }),
    ]);
  });

  it('several blocking policies are one problem per event, naming each', () => {
    const problems = orgControlProblems([
      NO_FIELD,
      policies([
        { MasterLabel: 'A', EventName: 'ApiEvent', ActionConfig: '{"block":true}' },
        { DeveloperName: 'B_Policy', EventName: 'ApiEvent', ActionConfig: null },
      ]),
    ]);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toContain('policies on API queries that can block: “A”, “B_Policy”');
  });
});

describe('org controls: reading ActionConfig (format undocumented)', () => {
  it.each([
    ['{"block":true,"notifications":[]}', true],
    ['{"twoFactorAuthentication":true}', true],
    ['{"twoFa":"true"}', true],
    ['{"block":false,"endSession":false,"notifications":[{"inApp":true}]}', false],
    ['{}', false],
    ['', true],
    [null, true],
    ['Block', true],
    ['[]', true],
  ])('%j blocks: %s', (config, blocks) => {
    expect(policyBlocks(config)).toBe(blocks);
  });
});

describe('org controls in the error catalogue', () => {
  it.each(Object.keys(ORG_CONTROL_GUIDANCE))('%s has its message and fix in salesforceFailure', (code) => {
    const failure = salesforceFailure(code, 'found by preflight', 'preflight');
    expect(failure.details?.[0]).toMatchObject(ORG_CONTROL_GUIDANCE[code as keyof typeof ORG_CONTROL_GUIDANCE]);
    expect(failure.nonRetryable).toBe(true);
  });

  it.each(['TXN_SECURITY_NO_ACCESS', 'invalid_app_access'])(
    '%s, what Salesforce answers at run time, has a fix',
    (code) => {
      const details = salesforceFailure(code, 'refused', 'readiness').details?.[0] as { fix: string; message: string };
      expect(details.fix).not.toMatch(/Check the Salesforce message below/);
    },
  );
});
