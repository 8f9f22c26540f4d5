import type { ConnectionDetails, ConnectionState, SalesforceTarget } from './definitions';

const CHECKED_STATUSES = new Set(['enabled', 'needs_reconnect', 'error']);

/** What a health check checks: an established, idle connection; nothing otherwise (no I/O: workflows use it too). */
export function healthCheckRequest(
  state: ConnectionState | undefined,
  rotateBeforeDays: number,
): { target: SalesforceTarget; details: ConnectionDetails; probeObject: string; rotateBeforeDays: number } | undefined {
  if (!state?.details || !state.target || state.currentOperation || !CHECKED_STATUSES.has(state.status)) {
    return undefined;
  }
  return {
    target: state.target,
    details: state.details,
    probeObject: state.details.probeObject ?? state.details.grantedObjects[0]?.object ?? 'Account',
    rotateBeforeDays,
  };
}
