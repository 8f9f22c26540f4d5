/**
 * The audit event of a finished operation, built in the connection workflow when it closes the operation and
 * written by an activity to the audit store (activities/audit.ts). Workflow code: no I/O, deterministic.
 */
import { log, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AuditActor, AuditComponent, AuditEvent, ComponentChange } from '../audit/audit-store';
import type { ConnectionDetails, ConnectionState, OperationRecord } from './definitions';

/** Connections that closed operations before the audit trail replay without its activity. */
export const AUDIT_EVENTS_PATCH = 'audit-events';

/** A store that is down delays the connection's next operation by a minute at most; the event is then dropped. */
const audit = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds' },
});

/** The three components a connection holds in Salesforce, as its details name them. */
function componentsOf(details: ConnectionDetails, change: ComponentChange): AuditComponent[] {
  return [
    { kind: 'client_app', name: details.appApiName, salesforceId: details.appId, change },
    { kind: 'integration_user', name: details.integrationUsername, salesforceId: details.integrationUserId, change },
    { kind: 'permission_set', name: details.permissionSetName, salesforceId: details.permissionSetId, change },
  ];
}

/** What the operation did to the org, from the connection's details before and after it. */
export function auditComponents(
  record: OperationRecord,
  before: ConnectionDetails | undefined,
  after: ConnectionDetails | undefined,
): AuditComponent[] {
  const remaining: AuditComponent[] = (record.remaining ?? []).map((c) => ({
    kind: c.kind,
    name: c.name,
    salesforceId: c.id,
    change: 'remaining',
  }));
  if (record.status !== 'succeeded') return remaining;
  switch (record.kind) {
    case 'enable':
      return [...(after ? componentsOf(after, 'created') : []), ...remaining];
    case 'disable':
      return [...(before ? componentsOf(before, 'removed') : []), ...remaining];
    case 'update_access':
      return after ? componentsOf(after, 'changed').filter((c) => c.kind === 'permission_set') : [];
    case 'rotate_certificate':
      return after ? componentsOf(after, 'changed').filter((c) => c.kind === 'client_app') : [];
    case 'reconnect': {
      const old = before ? componentsOf(before, 'removed') : [];
      const now = after ? componentsOf(after, 'created') : [];
      const kept = (c: AuditComponent, others: AuditComponent[]) =>
        others.some((o) => o.kind === c.kind && o.salesforceId === c.salesforceId);
      return [
        ...old.filter((c) => !kept(c, now)),
        ...now.map((c) => (kept(c, old) ? { ...c, change: 'changed' as const } : c)),
        ...remaining,
      ];
    }
  }
}

/** The event of a closed operation: its id is the saga's workflow id, so a retried write stores it once. */
export function auditEventOf(
  state: ConnectionState,
  record: OperationRecord,
  actor: AuditActor | undefined,
  before: ConnectionDetails | undefined,
): AuditEvent {
  return {
    id: `audit:${record.workflowId}`,
    tenantId: state.tenantId,
    crm: state.crm,
    occurredAt: record.endedAt ?? record.startedAt,
    actor: actor ?? {},
    operation: { kind: record.kind, id: record.id, startedAt: record.startedAt },
    outcome: record.status,
    ...(record.failure ? { failure: { type: record.failure.type, message: record.failure.message } } : {}),
    components: auditComponents(record, before, state.details),
  };
}

/** Writes the event; a store that stays down is logged, never the operation's failure. */
export async function recordAuditEvent(event: AuditEvent): Promise<void> {
  if (!patched(AUDIT_EVENTS_PATCH)) return;
  try {
    await audit.recordAuditEvent(event);
  } catch (err) {
    log.warn('audit event not recorded', { eventId: event.id, error: String(err) });
  }
}
