/**
 * `npm run bench:cost`: Temporal Cloud Actions per operation, counted from the histories of real runs (bench/actions.ts
 * says what counts): an enable, a health check, an update-access and a disable of one connection on a Temporal dev
 * server against the Salesforce emulator (apps usable 20 s after creation), with the service's worker in this
 * process; then the Actions of a connection-month at the default hourly health check, with Salesforce taking 5 minutes
 * to make the app usable. Loopback only, about a minute. Writes reports/cost-bench.{json,md} (BENCH_REPORT_DIR).
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { Connections } from '../test/support/connections';
import { connectionWorkflowId, healthScheduleId, updateAccessUpdate } from '../workflows/definitions';
import { READINESS_HEARTBEAT_TIMEOUT_MS } from '../workflows/activity-options';
import type { ActionCount, HistoryEvent } from './actions';
import { backedOffAttempts, countActions, heartbeatsSent, sumCounts } from './actions';
import { globalDeadline, markdownTable, round, runMain, sleep, startBenchStack, writeBenchReport } from './support';

const PROPAGATION_MS = 20_000;
const MONTH_PROPAGATION_MS = 5 * 60_000;
const CHECKS_PER_MONTH = 30 * 24;
/** The connection workflow continues as new past this many events (workflows/connection.ts). */
const HISTORY_LENGTH_LIMIT = 2000;
/** `readinessWait`'s heartbeat timeout before `readiness-wait-sparse-heartbeats`, under the SDK's 60 s throttle. */
const READINESS_HEARTBEAT_TIMEOUT_BEFORE_MS = 90_000;
const GOALS = { enable: 20, healthCheck: 4 };

const seconds = (t: HistoryEvent['eventTime']) => Number(t?.seconds ?? 0) + (t?.nanos ?? 0) / 1e9;

async function eventsOf(client: Client, workflowId: string): Promise<HistoryEvent[]> {
  return (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
}

/** The heartbeats of the saga's readiness wait that reached the server (not in history: from its duration). */
function readinessHeartbeats(events: HistoryEvent[]): number {
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'awaitReadiness');
  const completed = events.find(
    (e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? '') === String(scheduled?.eventId ?? '-'),
  );
  if (!scheduled || !completed) return 0;
  const waitedMs = (seconds(completed.eventTime) - seconds(scheduled.eventTime)) * 1000;
  // The activity heartbeats after its first refused probe; an app usable at once costs none.
  return waitedMs < 3_000 ? 0 : readinessWaitHeartbeats(waitedMs);
}

/**
 * Heartbeats of a readiness wait of `waitedMs`: the readiness queue's worker throttles them to 80% of the wait's
 * heartbeat timeout (its `maxHeartbeatThrottleInterval` is that timeout, workers/service-worker.ts).
 */
function readinessWaitHeartbeats(waitedMs: number): number {
  return heartbeatsSent(waitedMs, READINESS_HEARTBEAT_TIMEOUT_MS, 0, READINESS_HEARTBEAT_TIMEOUT_MS);
}

interface Row {
  what: string;
  count: ActionCount;
  note: string;
}

async function main(): Promise<void> {
  globalDeadline(10 * 60_000, 'the cost bench');
  const stack = await startBenchStack('cost-bench');
  const { emulator } = stack;
  const { client, taskQueue, secrets } = await stack.startInProcessWorker({
    // A health check finds the 30-day certificate fine: it is measured alone, without the rotation it would start.
    rotateBeforeDays: 7,
  });
  const connections = new Connections(client, taskQueue);
  const tenantId = `cost-${randomUUID().slice(0, 8)}`;
  const connectionId = connectionWorkflowId(tenantId, 'salesforce');
  const org = await emulator.control.createOrg({ propagationDelayMs: PROPAGATION_MS });
  const adminCredentials = await secrets.put(
    `tenants/${tenantId}/admin/${randomUUID()}`,
    JSON.stringify({ accessToken: org.accessToken, refreshToken: org.refreshToken }),
  );

  let seen = 0;
  /** The connection workflow's events since the last call: its part of the operation just run. */
  const connectionPart = async (): Promise<HistoryEvent[]> => {
    const events = await eventsOf(client, connectionId);
    const part = events.slice(seen);
    seen = events.length;
    return part;
  };
  const rows: Row[] = [];

  // Enable.
  const enableId = randomUUID();
  const enabled = await connections.enableAndSettle(tenantId, {
    operationId: enableId,
    target: { loginUrl: org.loginUrl, instanceUrl: org.instanceUrl, adminCredentials },
    appKind: 'external_client_app',
    agentName: 'Copilot for Sales',
    agentConfiguration: { objects: [{ object: 'Account', fields: ['Name', 'Industry'] }] },
  });
  if (enabled.status !== 'enabled') throw new Error(`enable ended ${enabled.status}`);
  const enableSaga = await eventsOf(client, enabled.operations[0]!.workflowId);
  const enableConnectionPart = countActions(await connectionPart());
  const heartbeats = readinessHeartbeats(enableSaga);
  rows.push({
    what: `enable (app usable after ${PROPAGATION_MS / 1000} s)`,
    count: sumCounts(enableConnectionPart, countActions(enableSaga, { ACTIVITY_HEARTBEAT: heartbeats })),
    note: 'connection workflow (start, update, child saga, bookkeeping) + saga; heartbeats from the wait’s duration',
  });
  // The same enable with Salesforce taking 5 minutes: the wait's one attempt heartbeats every 144 s.
  const sagaWithoutWait = countActions(enableSaga);
  rows.push({
    what: `enable (app usable after ${MONTH_PROPAGATION_MS / 60_000} minutes)`,
    count: sumCounts(enableConnectionPart, sagaWithoutWait, {
      total: 0,
      byType: { ACTIVITY_HEARTBEAT: readinessWaitHeartbeats(MONTH_PROPAGATION_MS) },
    }),
    note: `the measured enable, with the heartbeats of a 5-minute wait (heartbeat timeout ${READINESS_HEARTBEAT_TIMEOUT_MS / 1000} s, one sent every ${(0.8 * READINESS_HEARTBEAT_TIMEOUT_MS) / 1000} s)`,
  });
  rows.push({
    what: `enable (5 minutes), heartbeats as before (90 s heartbeat timeout, one a minute)`,
    count: sumCounts(enableConnectionPart, sagaWithoutWait, {
      total: 0,
      byType: { ACTIVITY_HEARTBEAT: heartbeatsSent(MONTH_PROPAGATION_MS, READINESS_HEARTBEAT_TIMEOUT_BEFORE_MS) },
    }),
    note: 'the measured enable, with the heartbeats of a 5-minute wait under the SDK’s 60 s throttle',
  });
  const retriesBefore = backedOffAttempts(MONTH_PROPAGATION_MS) - 1;
  rows.push({
    what: `enable (5 minutes), readiness as before (one probe per attempt, backed off to 1 minute)`,
    count: sumCounts(enableConnectionPart, sagaWithoutWait, {
      total: 0,
      byType: { ACTIVITY_TASK_RETRY: retriesBefore },
    }),
    note: `${retriesBefore + 1} attempts until the first at or after 5 minutes (2 s × 1.5, at most 1 minute apart)`,
  });

  // Health checks, run by their Schedule: the first after the enable (news: its report is sent to the connection),
  // then one that finds the connection as healthy as it shows (nothing sent: the steady state of a month).
  const schedule = client.schedule.getHandle(healthScheduleId(tenantId, 'salesforce'));
  const runCheck = async (): Promise<HistoryEvent[]> => {
    const before = (await schedule.describe()).info.recentActions.at(-1)?.action.workflow.firstExecutionRunId;
    // The previous check may have ended without the Schedule knowing yet: its SKIP policy would drop the trigger.
    await schedule.trigger('ALLOW_ALL');
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(200)) {
      const started = (await schedule.describe()).info.recentActions.at(-1)?.action.workflow;
      // Checks in the same second share a workflow id: runs tell them apart.
      if (started && started.firstExecutionRunId !== before) {
        const handle = client.workflow.getHandle(started.workflowId, started.firstExecutionRunId);
        await handle.result();
        // The connection's part of it (a signal, and the publish it makes) has landed once its memo shows the report.
        await sleep(500);
        return (await handle.fetchHistory()).events ?? [];
      }
    }
    throw new Error('the health check did not run');
  };
  const firstCheck = await runCheck();
  const firstCheckConnectionPart = await connectionPart();
  const firstHealthCheck = sumCounts(
    countActions(firstCheck, { SCHEDULE_RUN: 2 }),
    countActions(firstCheckConnectionPart),
  );
  rows.push({
    what: 'health check, first after the enable (Schedule; report sent)',
    count: firstHealthCheck,
    note: 'Schedule run (2, not in history) + the check workflow + the report signal in the connection',
  });
  const steadyCheck = await runCheck();
  const checkConnectionPart = await connectionPart();
  const healthCheck = sumCounts(countActions(steadyCheck, { SCHEDULE_RUN: 2 }), countActions(checkConnectionPart));
  rows.push({
    what: 'health check (Schedule; healthy as shown, nothing sent)',
    count: healthCheck,
    note: 'Schedule run (2, not in history) + the check workflow (start, one activity); the API reads its time from the result',
  });
  const timerCheck: ActionCount = { total: 2, byType: { TIMER_STARTED: 1, ACTIVITY_TASK_SCHEDULED: 1 } };
  rows.push({
    what: 'health check (alternative: a durable timer in the connection workflow)',
    count: timerCheck,
    note: 'derived, not run: the timer and one check activity with the state at hand (a publish that changes no status upserts nothing)',
  });

  // Update access.
  const updateId = randomUUID();
  await client.workflow
    .getHandle(connectionId)
    .executeUpdate(updateAccessUpdate, { args: [{ operationId: updateId }] });
  const updated = await connections.settled(tenantId, updateId);
  const updateRecord = updated.operations.find((o) => o.id === updateId)!;
  rows.push({
    what: 'update access',
    count: sumCounts(
      countActions(await connectionPart()),
      countActions(await eventsOf(client, updateRecord.workflowId)),
    ),
    note: 'connection workflow + saga',
  });

  // Disable.
  const disabled = await connections.disableAndSettle(tenantId);
  rows.push({
    what: 'disable',
    count: sumCounts(
      countActions(await connectionPart()),
      countActions(await eventsOf(client, disabled.operations[0]!.workflowId)),
    ),
    note: 'connection workflow + saga',
  });

  // A connection-month: hourly checks, and the connection's continues-as-new their events make.
  // A healthy connection's checks after its first send nothing: the connection grows only by the first's events.
  const eventsPerCheck = checkConnectionPart.length;
  const continues = Math.ceil((CHECKS_PER_MONTH * eventsPerCheck) / HISTORY_LENGTH_LIMIT);
  const month = (perCheck: ActionCount) => perCheck.total * CHECKS_PER_MONTH + continues;
  const scheduleMonth = month(healthCheck) + (firstHealthCheck.total - healthCheck.total);
  const enable5 = rows[1]!.count.total;

  const report = {
    definition: 'docs.temporal.io/cloud/actions (2026-11); counted by bench/actions.ts',
    rows: rows.map((r) => ({ what: r.what, actions: r.count.total, byType: r.count.byType, note: r.note })),
    connectionMonth: {
      checks: CHECKS_PER_MONTH,
      connectionEventsPerCheck: eventsPerCheck,
      continuesAsNew: continues,
      schedule: scheduleMonth,
      timer: month(timerCheck),
      firstMonthWithEnable: enable5 + scheduleMonth,
    },
    goals: {
      enable: { goal: GOALS.enable, measured: enable5, met: enable5 <= GOALS.enable },
      healthCheck: {
        goal: GOALS.healthCheck,
        measured: healthCheck.total,
        met: healthCheck.total <= GOALS.healthCheck,
      },
    },
    at: new Date().toISOString(),
  };
  const md = [
    '# Temporal Cloud Actions per connection',
    '',
    markdownTable(
      ['What', 'Actions', 'Counted', 'How'],
      rows.map((r) => [
        r.what,
        r.count.total,
        Object.entries(r.count.byType)
          .map(([t, n]) => `${t} ${n}`)
          .join(', '),
        r.note,
      ]),
    ),
    '',
    `Connection-month at the default hourly check of a healthy connection (${CHECKS_PER_MONTH} checks, the first ` +
      `sending its report; ${continues} continue-as-new of the connection for its ${eventsPerCheck} events per ` +
      `later check): ${report.connectionMonth.schedule} Actions with the ` +
      `Schedule, ${report.connectionMonth.timer} with a timer; the first month with its enable (5 minutes of ` +
      `propagation): ${report.connectionMonth.firstMonthWithEnable}.`,
    '',
    markdownTable(
      ['Goal', 'Measured', 'Met'],
      [
        [`Actions per enable ≤ ${GOALS.enable}`, enable5, report.goals.enable.met ? 'yes' : 'no'],
        [
          `Actions per health check ≤ ${GOALS.healthCheck}`,
          healthCheck.total,
          report.goals.healthCheck.met ? 'yes' : 'no',
        ],
      ],
    ),
    '',
  ].join('\n');
  console.log(md);
  console.log(`enable wait measured: ${round(heartbeats)} heartbeats`);
  writeBenchReport('cost-bench', report, { markdown: md });
  await stack.stop();
}

void runMain(main);
