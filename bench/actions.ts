/**
 * Temporal Cloud Actions counted from workflow histories, as docs.temporal.io/cloud/actions defines them (read
 * 2026-11): each counted event type is named in the result, so a report can list what it counted.
 *
 * Counted from history:
 * - WORKFLOW_EXECUTION_STARTED: 1 (a client start, a continue-as-new's new run, a Schedule's start); 0 for a child
 *   workflow, whose start the parent's START_CHILD_WORKFLOW_EXECUTION_INITIATED already counts;
 * - START_CHILD_WORKFLOW_EXECUTION_INITIATED: 2 (the intent to start and the attempt);
 * - ACTIVITY_TASK_SCHEDULED: 1, plus ACTIVITY_TASK_STARTED's `attempt - 1` (each retry is an Action);
 * - TIMER_STARTED, WORKFLOW_EXECUTION_SIGNALED, UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
 *   1 each (a signal between workflows counts in the signalled history only; an upsert of only TemporalChangeVersion,
 *   which patched() records, is exempt);
 * - MARKER_RECORDED of local activities: 1 per workflow task (none here); patch markers are free.
 * Not in history, added by the caller: a Schedule's run (2 besides the workflow it starts), heartbeats that reach the
 * server, rejected updates, queries. Memo upserts (WORKFLOW_PROPERTIES_MODIFIED) and workflow tasks are free.
 */
import { temporal } from '@temporalio/proto';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface ActionCount {
  total: number;
  /** Actions by what was counted: event type names, shortened, plus `retry` for activity retries. */
  byType: Record<string, number>;
}

/** The event type's name without its EVENT_TYPE_ prefix, from the enum number or the JSON form's string. */
function typeName(event: HistoryEvent): string {
  const raw = event.eventType as unknown;
  if (typeof raw === 'string') return raw.replace(/^EVENT_TYPE_/, '');
  const name = temporal.api.enums.v1.EventType[Number(raw)];
  return (name ?? String(raw)).replace(/^EVENT_TYPE_/, '');
}

function actionsOf(event: HistoryEvent): Array<[string, number]> {
  const type = typeName(event);
  switch (type) {
    case 'WORKFLOW_EXECUTION_STARTED':
      return event.workflowExecutionStartedEventAttributes?.parentWorkflowExecution ? [] : [[type, 1]];
    case 'START_CHILD_WORKFLOW_EXECUTION_INITIATED':
      return [[type, 2]];
    case 'ACTIVITY_TASK_STARTED': {
      const retries = (event.activityTaskStartedEventAttributes?.attempt ?? 1) - 1;
      return retries > 0 ? [['ACTIVITY_TASK_RETRY', retries]] : [];
    }
    case 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES': {
      // patched() records TemporalChangeVersion; an upsert of only that is exempt.
      const fields = Object.keys(
        event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {},
      );
      return fields.some((f) => f !== 'TemporalChangeVersion') ? [[type, 1]] : [];
    }
    case 'ACTIVITY_TASK_SCHEDULED':
    case 'TIMER_STARTED':
    case 'WORKFLOW_EXECUTION_SIGNALED':
    case 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED':
      return [[type, 1]];
    case 'MARKER_RECORDED':
      return event.markerRecordedEventAttributes?.markerName === 'core_local_activity' ? [[type, 1]] : [];
    default:
      return [];
  }
}

export function countActions(events: HistoryEvent[], extra: Record<string, number> = {}): ActionCount {
  const byType: Record<string, number> = {};
  const add = (type: string, n: number) => {
    if (n) byType[type] = (byType[type] ?? 0) + n;
  };
  for (const event of events) for (const [type, n] of actionsOf(event)) add(type, n);
  for (const [type, n] of Object.entries(extra)) add(type, n);
  return { total: Object.values(byType).reduce((a, b) => a + b, 0), byType };
}

export function sumCounts(...counts: ActionCount[]): ActionCount {
  const byType: Record<string, number> = {};
  for (const count of counts) {
    for (const [type, n] of Object.entries(count.byType)) byType[type] = (byType[type] ?? 0) + n;
  }
  return { total: Object.values(byType).reduce((a, b) => a + b, 0), byType };
}

/**
 * Heartbeats that reach the server during one activity attempt of `durationMs` that heartbeats at least every few
 * seconds: the SDK sends the first at once and then at most one per throttle interval (80% of the heartbeat timeout,
 * capped at the worker's `maxHeartbeatThrottleInterval`, 60 s unless the worker says).
 */
export function heartbeatsSent(
  durationMs: number,
  heartbeatTimeoutMs: number,
  firstAfterMs = 0,
  maxThrottleMs = 60_000,
): number {
  if (durationMs <= firstAfterMs) return 0;
  const throttleMs = Math.min(0.8 * heartbeatTimeoutMs, maxThrottleMs);
  return 1 + Math.floor((durationMs - firstAfterMs) / throttleMs);
}

/**
 * Attempts of the readiness wait from before `readinessWait` (one probe per attempt; retries 2 s apart growing ×1.5
 * to 1 minute) until the first attempt at or after `propagationMs`.
 */
export function backedOffAttempts(propagationMs: number): number {
  let at = 0;
  let delay = 2_000;
  let attempts = 1;
  while (at < propagationMs) {
    at += delay;
    delay = Math.min(delay * 1.5, 60_000);
    attempts += 1;
  }
  return attempts;
}
