import request from 'supertest';
import type { CreatedOrg } from '@agent-connections/salesforce-emulator';
import { connectionWorkflowId } from '../../workflows/definitions';
import { badRequests } from '../support/bad-requests';
import type { BadRequest } from '../support/bad-requests';
import type { ApiStack } from './api-stack';
import { AGENT_CONFIGURATION, startApiStack, uniqueTenant } from './api-stack';

/**
 * A generated set of malformed bodies, paths, queries and headers. Each must get a 4xx problem+json that names the
 * status, no stack trace and no echo of a secret; and at the end no workflow may exist for the tenants used and
 * nothing may have been created in the org.
 */
describe('malformed requests', () => {
  let stack: ApiStack;
  let org: CreatedOrg;
  let componentsBefore: unknown[];
  const tenant = uniqueTenant('bad');
  const secret = 'SECRET-TOKEN-THAT-MUST-NOT-ECHO';

  beforeAll(async () => {
    stack = await startApiStack();
    org = await stack.emulator.control.createOrg({ key: 'bad' });
    componentsBefore = await stack.emulator.control.components('bad');
  });

  afterAll(async () => {
    await stack?.close();
  });

  function generate(): BadRequest[] {
    return badRequests({
      keys: stack.keys,
      tenant,
      loginUrl: org.loginUrl,
      instanceUrl: org.instanceUrl,
      secret,
      agentConfiguration: AGENT_CONFIGURATION,
    });
  }

  it('answers every one of ≥ 300 malformed requests with a 4xx problem+json, and starts nothing', async () => {
    const cases = generate();
    expect(cases.length).toBeGreaterThanOrEqual(300);
    const failures: string[] = [];
    const run = async (c: BadRequest) => {
      let call = request(stack.app)[c.method](c.path);
      for (const [name, value] of Object.entries(c.headers ?? {})) call = call.set(name, value);
      const rawBody =
        c.rawBody ??
        (c.body !== undefined && (typeof c.body !== 'object' || c.body === null) ? JSON.stringify(c.body) : undefined);
      const response =
        rawBody !== undefined
          ? await call.set('Content-Type', c.headers?.['Content-Type'] ?? 'application/json').send(rawBody)
          : c.body !== undefined
            ? await call.send(c.body as object)
            : await call;
      const text = response.text ?? '';
      const problems = [
        response.status >= 400 && response.status < 500 ? '' : `status ${response.status}`,
        /^application\/problem\+json/.test(String(response.headers['content-type'])) ? '' : 'not problem+json',
        (response.body as { status?: number }).status === response.status ? '' : 'body.status differs',
        /\bat \S+ \(|node_modules|Error:/.test(text) ? 'leaks a stack' : '',
        text.includes(secret) ? 'echoes the secret' : '',
      ].filter(Boolean);
      if (problems.length > 0)
        failures.push(`${c.name}: ${problems.join(', ')} → ${response.status} ${text.slice(0, 200)}`);
    };
    // A few at a time: enough to be quick, few enough for two cores.
    for (let i = 0; i < cases.length; i += 8) await Promise.all(cases.slice(i, i + 8).map(run));
    expect(failures).toEqual([]);

    for (const crm of ['salesforce', 'dynamics365'] as const) {
      const described = await stack.env.client.workflow
        .getHandle(connectionWorkflowId(tenant, crm))
        .describe()
        .then(
          () => 'exists',
          (err: Error) => err.name,
        );
      expect(described).toBe('WorkflowNotFoundError');
    }
    expect(await stack.emulator.control.components('bad')).toEqual(componentsBefore);
    const calls = (await stack.emulator.control.counters()).byOperation;
    expect(Object.keys(calls).filter((operation) => /create|update|delete|deploy|upsert/.test(operation))).toEqual([]);
  });
});
