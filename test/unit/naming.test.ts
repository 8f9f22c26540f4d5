import { retiredUsername } from '../../activities/integration-user';
import { componentNames, operationStamp, signingKeyRef, toApiName } from '../../workflows/naming';

describe('component names', () => {
  const base = {
    agentName: 'Copilot for Sales',
    tenantId: 'acme',
    operationId: '4f1c2d0e-1111-4222-8333-944455556666',
    orgId: '00D5g000004ABCDEAZ',
    usernameDomain: 'agent-connections.app',
  };

  it('labels the components after the agent, as the admin console shows them', () => {
    const names = componentNames(base);
    expect(names.appLabel).toBe('Copilot for Sales connected app');
    expect(names.permissionSetLabel).toBe('Copilot for Sales permission set');
    expect(names.userLastName).toBe('Copilot for Sales integration user');
    expect(names.appApiName).toBe('Copilot_for_Sales_connected_app');
    expect(names.permissionSetName).toBe('Copilot_for_Sales_permission_set');
  });

  it('gives the same username to every retry of one operation and a different one to another operation', () => {
    expect(componentNames(base).username).toBe(componentNames({ ...base }).username);
    expect(componentNames(base).username).not.toBe(componentNames({ ...base, operationId: 'other' }).username);
    expect(componentNames(base).username).not.toBe(componentNames({ ...base, tenantId: 'globex' }).username);
  });

  it('makes usernames in email form that carry the org, and aliases of at most 8 characters', () => {
    const names = componentNames(base);
    expect(names.username).toMatch(/^copilot-for-sales\.[0-9a-f]{8}@00d5g000004abcd\.agent-connections\.app$/);
    expect(names.userAlias.length).toBeLessThanOrEqual(8);
  });

  it.each([
    ['Copilot for Sales connected app', 40, 'Copilot_for_Sales_connected_app'],
    ['  9 lives -- agent  ', 40, 'lives_agent'],
    ['Ünïcödé Agent', 40, 'Unicode_Agent'],
    ['a'.repeat(100), 40, 'a'.repeat(40)],
    ['Agent ending with __ ', 80, 'Agent_ending_with'],
    ['***', 40, 'Agent'],
  ])('turns %j into a valid Salesforce API name', (label, max, expected) => {
    const name = toApiName(label, max);
    expect(name).toBe(expected);
    expect(name).toMatch(/^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*$/);
  });

  it('derives secret references and stamps from the operation only', () => {
    expect(signingKeyRef('acme', 'op-1')).toBe('tenants/acme/signing-keys/op-1');
    expect(operationStamp('op-1')).toBe(operationStamp('op-1'));
    expect(operationStamp('op-1')).not.toBe(operationStamp('op-2'));
  });
});

describe('retired usernames', () => {
  it('stay within Salesforce’s 80 characters, keep the email form and differ from the original', () => {
    const long = `copilot-for-sales-agent.d40701f1@00d5g0000000001.${'x'.repeat(20)}.example.com`;
    const retired = retiredUsername(long, 'f07b3d2a');
    expect(retired.length).toBeLessThanOrEqual(80);
    expect(retired).toMatch(/^[^@]+\.retired-f07b3d2a@00d5g0000000001\./);
    expect(retired.endsWith('.example.com')).toBe(true);
    expect(retiredUsername('a.b@c.io', 's1')).toBe('a.b.retired-s1@c.io');
  });
});
