import type { AuditEvent, AuditStore } from '../observability/audit-store';

/** The audit trail's one activity, over the worker's store (AUDIT_STORE); without a store it records nothing. */
export function createAuditActivities(store: AuditStore | undefined) {
  return {
    async recordAuditEvent(event: AuditEvent): Promise<void> {
      await store?.record(event);
    },
  };
}
