import { log, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { CONTROL_STEP } from './activity-options';
import type { HealthScheduleChange } from './connection-state';
import type { ConnectionState, SecretRef } from './definitions';

/*
 * What the connection workflow does around an operation once it has ended, outside the operation's saga: keep the
 * health-check Schedule in step, and remove admin credentials nobody needs any more. Quick attempts; a failure is
 * logged and never fails the operation.
 */

/** Connections that kept every admin credential they were given replay without removing any. */
const FORGET_CREDENTIALS_PATCH = 'forget-admin-credentials';

/** Connections that were running before health checks existed replay without the Schedule's activity calls. */
const HEALTH_CHECK_SCHEDULE_PATCH = 'health-check-schedule';

/** Schedules are bookkeeping around an operation: a few quick attempts, and a failure never fails the operation. */
const control = proxyActivities<Activities>(CONTROL_STEP);

/** Creates or removes the connection's health-check Schedule; a failure is logged, never the operation's. */
export async function updateHealthSchedule(state: ConnectionState, change: HealthScheduleChange): Promise<void> {
  if (!change || !patched(HEALTH_CHECK_SCHEDULE_PATCH)) return;
  try {
    const connection = { tenantId: state.tenantId, crm: state.crm };
    if (change === 'ensure') await control.ensureHealthSchedule(connection);
    else await control.deleteHealthSchedule(connection);
  } catch (err) {
    log.warn('could not update the health-check schedule', { action: change, error: String(err) });
  }
}

/** Removes admin credentials the service stored and no longer needs; one it could not remove is logged. */
export async function forgetCredentials(refs: SecretRef[]): Promise<void> {
  if (refs.length === 0 || !patched(FORGET_CREDENTIALS_PATCH)) return;
  for (const ref of refs) {
    try {
      await control.deleteSecret({ ref });
    } catch (err) {
      log.warn('could not remove superseded admin credentials', { secretRef: ref.secretRef, error: String(err) });
    }
  }
}
