import type { Duration } from '@temporalio/common';
import { getExternalWorkflowHandle, log, patched, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { CONTROL_STEP, DEFAULT_HEALTH_RECHECK_AFTER, HEALTH_CHECK_READ } from './activity-options';
import type { HealthCheckInput, HealthReport } from './definitions';
import { connectionWorkflowId, healthReportSignal } from './definitions';
import { healthCheckRequest } from './health-check-request';

const checks = proxyActivities<Activities>(HEALTH_CHECK_READ);
const control = proxyActivities<Activities>(CONTROL_STEP);

/** Checks from before one activity read the connection and checked it replay with the two activities. */
const ONE_ACTIVITY_PATCH = 'health-check-one-activity';

/** Checks started by Schedules from before the spread replay without updating their Schedule. */
const SPREAD_SCHEDULE_PATCH = 'health-check-spread-schedule';

/**
 * A Schedule created before health checks were spread over the interval fires with every other connection's at the
 * top of the interval; its first run moves it to the connection's own offset (once: the updated Schedule starts
 * checks with its version in the input). A failure is logged; the next run tries again.
 */
async function spreadOldSchedule(input: HealthCheckInput): Promise<void> {
  if (input.scheduleVersion !== undefined || !patched(SPREAD_SCHEDULE_PATCH)) return;
  try {
    await control.spreadHealthSchedule({ tenantId: input.tenantId, crm: input.crm });
  } catch (err) {
    log.warn('could not spread the health-check schedule', { error: String(err) });
  }
}

/** Checks from before reports were sent only when they change what the connection shows replay sending every one. */
const REPORT_WHEN_CHANGED_PATCH = 'health-report-when-changed';

/**
 * A report that changes nothing the connection shows (a healthy connection found healthy again, a broken one found
 * broken the same way) is not sent: the signal is a billed Action, and the check's own result keeps the time of the
 * check for the API to show. It needs no re-check either: the connection already shows that finding.
 */
function changesNothing(report: HealthReport): boolean {
  return report.unchanged === true && patched(REPORT_WHEN_CHANGED_PATCH);
}

/** Checks scheduled before the re-check replay without it. */
const HEALTH_RECHECK_PATCH = 'health-recheck';

/**
 * The periodic health check, started by the connection's Schedule (hourly by default).
 *
 * Steps: 0. a Schedule from before checks were spread is moved to the connection's offset (once).
 * 1-2. one activity (a billed Action, where two were): read the connection's state (its memo), nothing to check
 * unless it is established and idle; check end to end — JWT login as the integration user, a query on a granted
 * object — and compare what Salesforce holds with what was created. 3. send the report to the connection, which turns failures into an error
 * with its fix, drift into a report, and an expiring certificate into a rotation — only when it changes what the
 * connection shows (a healthy → healthy check sends nothing and returns its report as its result). A check that found a failure
 * runs once more after `recheckAfter` and the second report is the one sent: one failed probe (a sign-in refused
 * during a Salesforce blip) does not break a connection.
 */
export async function connectionHealthCheck(input: HealthCheckInput): Promise<HealthReport | undefined> {
  await spreadOldSchedule(input);
  const check = async (): Promise<HealthReport | undefined> => {
    if (patched(ONE_ACTIVITY_PATCH)) {
      return checks.checkHealthOf({
        tenantId: input.tenantId,
        crm: input.crm,
        rotateBeforeDays: input.rotateBeforeDays,
      });
    }
    const request = healthCheckRequest(
      await checks.readConnectionState({ tenantId: input.tenantId, crm: input.crm }),
      input.rotateBeforeDays,
    );
    return request && checks.checkConnectionHealth(request);
  };
  let report = await check();
  if (!report) return undefined;
  if (changesNothing(report)) return report;
  if (report.problems.some((p) => !p.drift) && patched(HEALTH_RECHECK_PATCH)) {
    await sleep((input.recheckAfter ?? DEFAULT_HEALTH_RECHECK_AFTER) as Duration);
    report = await check();
    if (!report) return undefined;
    if (changesNothing(report)) return report;
  }
  await getExternalWorkflowHandle(connectionWorkflowId(input.tenantId, input.crm)).signal(healthReportSignal, report);
  return report;
}
