import { ApplicationFailure } from '@temporalio/activity';
import type { AuditEvent, AuditStore } from '../audit/audit-store';

/** The audit trail's one activity, over the worker's store (AUDIT_STORE); without a store it records nothing. */
export function createAuditActivities(store: AuditStore | undefined) {
  return {
    async recordAuditEvent(event: AuditEvent): Promise<void> {
      try {
        await store?.record(event);
      } catch (err) {
        // The embedded store's socket is not there: no API of this DATA_DIR serves it, and retrying will not help.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          throw ApplicationFailure.nonRetryable('No API serves the embedded audit store here', 'AuditStoreAbsent');
        }
        throw err;
      }
    },
  };
}
