import { randomUUID } from 'node:crypto';
import { AgentTokenBroker } from '../../api/agent-tokens';
import type { AgentTokenSource } from '../../api/agent-tokens';
import { SalesforceClients } from '../../salesforce/clients';
import type { ConnectionDetails } from '../../workflows/definitions';
import { useSagaSuite } from '../support/saga-suite';
import type { SagaSuite } from '../support/saga-suite';
import { createTestOrg, enableRequest } from '../support/salesforce';

const TTL_MS = 900_000;

/** The real token source, with the sign-ins it has under way and those that failed, as the tests need to see them. */
class WatchedSource implements AgentTokenSource {
  pending = 0;
  failed = 0;
  constructor(private readonly clients: SalesforceClients) {}
  async requestAgentToken(input: Parameters<AgentTokenSource['requestAgentToken']>[0]) {
    this.pending += 1;
    try {
      return await this.clients.requestAgentToken(input);
    } catch (err) {
      this.failed += 1;
      throw err;
    } finally {
      this.pending -= 1;
    }
  }
}

async function enabledConnection(s: SagaSuite): Promise<{ tenantId: string; details: ConnectionDetails }> {
  const { target } = await createTestOrg(s.emulator, s.secrets);
  const tenantId = `t-${randomUUID()}`;
  const state = await s.connections.enableAndSettle(tenantId, enableRequest(target));
  expect(state.status).toBe('enabled');
  return { tenantId, details: state.details! };
}

describe('agent token broker (dev server + emulator)', () => {
  const suite = useSagaSuite();
  let clock = Date.now();
  const setup = () => {
    const s = suite();
    const source = new WatchedSource(new SalesforceClients(s.secrets, { apiVersion: '66.0' }));
    const broker = new AgentTokenBroker(source, { ttlMs: TTL_MS, now: () => clock });
    // Sign-ins go to the login host, which counts them for no org: this file's tests run one at a time.
    const logins = async () => (await s.emulator.control.counters()).byOperation['oauth.token'] ?? 0;
    return { s, source, broker, logins };
  };

  it('makes one Salesforce sign-in for 50 concurrent requests of a tenant, then answers from the cache', async () => {
    const { s, broker, logins } = setup();
    const { tenantId, details } = await enabledConnection(s);
    await s.emulator.control.resetCounters();
    const tokens = await Promise.all(Array.from({ length: 50 }, () => broker.token(tenantId, details)));
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(await logins()).toBe(1);
    await broker.token(tenantId, details);
    expect(await logins()).toBe(1);
  });

  it('refreshes a token ahead of its expiry: the request gets the cached token at once, the next one its successor', async () => {
    const { s, source, broker, logins } = setup();
    const { tenantId, details } = await enabledConnection(s);
    const first = await broker.token(tenantId, details);
    await s.emulator.control.resetCounters();
    // 11 minutes into a 15-minute token: still good, due for refresh. Salesforce is slow to answer the sign-in.
    clock += 11 * 60_000;
    await s.emulator.control.addFault({
      match: { operation: 'oauth.token' },
      action: { kind: 'latency', ms: 1500 },
      times: 1,
    });
    const during = await broker.token(tenantId, details);
    expect(during.accessToken).toBe(first.accessToken);
    // Answered while the sign-in for its successor is still under way: no request waited for Salesforce.
    expect(source.pending).toBe(1);
    const concurrent = await Promise.all(Array.from({ length: 20 }, () => broker.token(tenantId, details)));
    expect(concurrent.every((t) => t.accessToken === first.accessToken)).toBe(true);
    await broker.settled();
    expect(await logins()).toBe(1);
    const next = await broker.token(tenantId, details);
    expect(next.accessToken).not.toBe(first.accessToken);
    expect(next.expiresAt).toBeGreaterThan(first.expiresAt);
    expect(await logins()).toBe(1);
  });

  it('keeps the cached token when a refresh fails, and tries again a little later', async () => {
    const { s, source, broker, logins } = setup();
    const { tenantId, details } = await enabledConnection(s);
    const first = await broker.token(tenantId, details);
    await s.emulator.control.resetCounters();
    clock += 11 * 60_000;
    await s.emulator.control.addFault({
      match: { operation: 'oauth.token' },
      action: { kind: 'error', status: 503, errorCode: 'SERVER_UNAVAILABLE' },
      times: 1,
    });
    expect((await broker.token(tenantId, details)).accessToken).toBe(first.accessToken);
    await broker.settled();
    expect(source.failed).toBe(1);
    // The failure poisoned nothing: the good token is still answered, without a new sign-in for a few seconds.
    clock += 5_000;
    expect((await broker.token(tenantId, details)).accessToken).toBe(first.accessToken);
    await broker.settled();
    expect(await logins()).toBe(1);
    // Past the retry pause the next request refreshes again, and this time Salesforce answers.
    clock += 10_000;
    expect((await broker.token(tenantId, details)).accessToken).toBe(first.accessToken);
    await broker.settled();
    expect(await logins()).toBe(2);
    expect((await broker.token(tenantId, details)).accessToken).not.toBe(first.accessToken);
  });

  it('fails the requests that waited for a refused sign-in, and the next request signs in again', async () => {
    const { s, broker, logins } = setup();
    const { tenantId, details } = await enabledConnection(s);
    await s.emulator.control.resetCounters();
    await s.emulator.control.addFault({
      match: { operation: 'oauth.token' },
      action: { kind: 'error', status: 503, errorCode: 'SERVER_UNAVAILABLE' },
      times: 1,
    });
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => broker.token(tenantId, details)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(await logins()).toBe(1);
    await expect(broker.token(tenantId, details)).resolves.toMatchObject({ accessToken: expect.any(String) });
    expect(await logins()).toBe(2);
  });
});
