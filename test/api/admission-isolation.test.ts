import type { ApiClient, Connection } from '@agent-connections/api-client';
import type { CreatedOrg } from '@agent-connections/salesforce-emulator';
import type { ApiStack } from './api-stack';
import { AGENT_CONFIGURATION, ok, salesforceOf, startApiStack, uniqueTenant } from './api-stack';

const CONNECTION = '/v1/tenants/{tenantId}/connections/{crm}';
const BACKLOG = 6;

/**
 * Admission never waits behind work: the connection workflows poll a queue of their own with slots of their own, so
 * an enable is accepted while the sagas' queue is saturated (one activity slot, every Salesforce call of a busy org
 * slowed down), before that work has drained, and even while nothing polls the sagas' queue.
 */
describe('admission under a saturated saga queue', () => {
  let stack: ApiStack;
  let busy: CreatedOrg;
  let idle: CreatedOrg;
  let admin: ApiClient;
  let reader: ApiClient;

  beforeAll(async () => {
    stack = await startApiStack({ workerTuning: { maxConcurrentActivityTaskExecutions: 1 } });
    busy = await stack.emulator.control.createOrg({ key: 'busy' });
    idle = await stack.emulator.control.createOrg({ key: 'idle' });
    await stack.emulator.control.addFault({ org: 'busy', action: { kind: 'latency', ms: 1500 } });
    admin = stack.client(stack.keys.admin);
    reader = stack.client(stack.keys.read);
  });

  afterAll(async () => {
    await stack?.close();
  });

  const enableBody = (org: CreatedOrg) => ({
    loginUrl: org.loginUrl,
    instanceUrl: org.instanceUrl,
    adminCredentials: { accessToken: org.accessToken, refreshToken: org.refreshToken },
    agentConfiguration: AGENT_CONFIGURATION,
  });
  const read = async (tenant: string): Promise<Connection> =>
    ok(await reader.GET(CONNECTION, { params: { path: salesforceOf(tenant) } }));

  it('accepts an enable for another tenant before the backlog drains', async () => {
    const backlog = Array.from({ length: BACKLOG }, () => uniqueTenant('backlog'));
    const accepted = await Promise.all(
      backlog.map((tenant) =>
        admin.POST(`${CONNECTION}/enable`, { params: { path: salesforceOf(tenant) }, body: enableBody(busy) }),
      ),
    );
    expect(accepted.map((a) => a.response.status)).toEqual(backlog.map(() => 202));

    const other = uniqueTenant('other');
    const answer = await admin.POST(`${CONNECTION}/enable`, {
      params: { path: salesforceOf(other) },
      body: enableBody(idle),
    });
    // The update completed (202: validated and recorded) while the backlog's sagas still wait for the one slot.
    expect(answer.response.status).toBe(202);
    const stillEnabling = (await Promise.all(backlog.map(read))).filter((c) => c.status === 'enabling');
    expect(stillEnabling.length).toBeGreaterThanOrEqual(BACKLOG - 1);
    expect((await read(other)).status).toBe('enabling');

    // Even with nothing polling the sagas' queue at all, the connection queue's own worker admits operations.
    const sagas = stack.serviceWorker!.sagas;
    sagas.shutdown();
    const third = uniqueTenant('third');
    const stalled = await admin.POST(`${CONNECTION}/enable`, {
      params: { path: salesforceOf(third) },
      body: enableBody(idle),
    });
    expect(stalled.response.status).toBe(202);
    expect((await read(third)).status).toBe('enabling');

    // Let everything end quickly: no more latency, and the backlog cancelled.
    await stack.emulator.control.clearFaults();
    for (const tenant of backlog) {
      const running = (await read(tenant)).currentOperation;
      if (running) {
        await admin.POST(`${CONNECTION}/operations/{operationId}/cancel`, {
          params: { path: { ...salesforceOf(tenant), operationId: running.id } },
        });
      }
    }
  });
});
