import { Writable } from 'node:stream';
import { PinoTemporalLogger, createLogger } from '../../observability/logger';
import { parseLimitInfo, salesforceEndpoint } from '../../observability/salesforce-calls';
import { tenantOfWorkflowId } from '../../workflows/definitions';

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunk
        .toString('utf8')
        .split('\n')
        .filter(Boolean)
        .forEach((line) => lines.push(JSON.parse(line) as Record<string, unknown>));
      done();
    },
  });
  return { log: createLogger({ level: 'trace', service: 'worker', destination }), lines };
}

describe('logs never carry secrets; metric labels stay bounded', () => {
  it('censors secret fields at any depth and secret-looking text in any string', () => {
    const { log, lines } = capturingLogger();
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
    log.info(
      {
        accessToken: '00D000000000001!AQ0AQ.token',
        request: { headers: { authorization: 'Bearer acsk_abcdefghijklmnopqrstuvwxyz' } },
        details: { privateKeyPem: pem, nested: { refresh_token: 'r-123' } },
        error: `login failed for Bearer 00D000000000001!AQ0AQ.other with ${pem}`,
      },
      'sign-in with Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJhYmMifQ.c2lnbmF0dXJl failed',
    );
    expect(lines).toHaveLength(1);
    const text = JSON.stringify(lines[0]);
    for (const secret of ['AQ0AQ', 'acsk_', 'MIIEvQ', 'r-123', 'eyJhbGci', 'PRIVATE KEY']) {
      expect(text).not.toContain(secret);
    }
    expect(lines[0]).toMatchObject({ level: 'info', service: 'worker', accessToken: '[redacted]' });
    expect(String(lines[0]!.msg)).toContain('sign-in with [redacted] failed');
  });

  it('bridges the Temporal runtime logger: tenant from the workflow id, one name for the run id, no task token', () => {
    const { log, lines } = capturingLogger();
    const bridge = new PinoTemporalLogger(log);
    bridge.info('Activity completed', {
      sdkComponent: 'activity',
      workflowId: 'enable:acme:salesforce:op-1',
      workflowRunId: '0193-run',
      activityType: 'createPermissionSet',
      taskToken: 'Q2lRd01XRXlNVEkyT0M',
      step: 'createPermissionSet',
    });
    bridge.warn('compensation failed', {
      workflowId: 'connection:acme:salesforce',
      runId: 'r2',
      error: new Error('x'),
    });
    expect(lines[0]).toMatchObject({
      level: 'info',
      msg: 'Activity completed',
      tenantId: 'acme',
      workflowId: 'enable:acme:salesforce:op-1',
      runId: '0193-run',
      step: 'createPermissionSet',
    });
    expect(lines[0]).not.toHaveProperty('taskToken');
    expect(lines[0]).not.toHaveProperty('workflowRunId');
    expect(lines[1]).toMatchObject({ level: 'warn', tenantId: 'acme', runId: 'r2', error: { message: 'x' } });
    expect(tenantOfWorkflowId('worker')).toBeUndefined();
  });

  it('names Salesforce endpoints without ids, versions or org prefixes, and reads Sforce-Limit-Info', () => {
    const cases: [string, string][] = [
      ['https://acme.my.salesforce.com/services/data/v66.0/sobjects/User/005000000000001AAA', 'sobjects/User/:id'],
      ['https://acme.my.salesforce.com/services/data/v66.0/query?q=SELECT+Id+FROM+User', 'query'],
      ['https://acme.my.salesforce.com/services/data/v66.0/composite/sobjects', 'composite/sobjects'],
      ['https://acme.my.salesforce.com/services/data/v66.0/tooling/query?q=x', 'tooling/query'],
      ['https://login.salesforce.com/services/oauth2/token', 'oauth2/token'],
      ['https://acme.my.salesforce.com/services/Soap/m/66.0', 'soap/metadata'],
      ['http://127.0.0.1:4410/orgs/demo/services/data/v66.0/sobjects/PermissionSet', 'sobjects/PermissionSet'],
      ['https://acme.my.salesforce.com/id/00D000000000001/005000000000001', 'identity'],
      ['https://acme.my.salesforce.com/services/data', 'versions'],
      ['not a url at all', 'other'],
    ];
    for (const [url, endpoint] of cases) expect(salesforceEndpoint(url)).toBe(endpoint);
    expect(parseLimitInfo('api-usage=25/15000')).toEqual({ used: 25, limit: 15000 });
    expect(parseLimitInfo(undefined)).toBeUndefined();
  });
});
