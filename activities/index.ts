import { Context } from '@temporalio/activity';
import { createAccessActivities } from './access';
import { createClientAppActivities } from './client-app';
import { createConnectionControlActivities } from './connection-control';
import { createFleetActivities } from './fleet';
import type { TemporalAccess } from './connection-control';
import { createHealthActivities } from './health';
import { createIntegrationUserActivities } from './integration-user';
import { createPermissionSetActivities } from './permission-set';
import { createPreflightActivities } from './preflight';
import { createReadinessActivities } from './readiness';
import type { ReadinessPolling } from './readiness';
import { createRepairActivities } from './repair';
import type { SalesforceClients } from '../salesforce/clients';
import type { SecretStore } from '../secrets/secret-store';
import { createSigningKeyActivities } from './signing-key';
import type { HealthCheckInput, HealthReport } from '../workflows/definitions';
import { healthCheckRequest } from '../workflows/health-check-request';
import { healthReportChangesNothing } from '../workflows/connection-state';
import { createWebhookActivities } from './webhooks';
import { createAuditActivities } from './audit';
import type { AuditStore } from '../audit/audit-store';
import type { WebhookSettings } from './webhooks';

export interface ActivityDependencies {
  clients: SalesforceClients;
  secrets: SecretStore;
  /** Domain of integration usernames (`agent.hash@orgid.<domain>`). */
  usernameDomain: string;
  /** The address Salesforce shows as the apps' and users' contact. */
  contactEmail: string;
  certificateValidityDays: number;
  /** Temporal itself, for the health-check Schedules and reading connection state. */
  temporal: TemporalAccess;
  /** How the readiness wait probes (default: every 3 s, attempts of up to 5 minutes). */
  readinessPolling?: ReadinessPolling;
  /** Where connection events are sent (WEBHOOK_URL, WEBHOOK_SECRET); none are sent without. */
  webhooks?: WebhookSettings;
  /** The audit trail (AUDIT_STORE); nothing is recorded without it. */
  audit?: AuditStore;
}

/** How often a running activity tells Temporal that its worker is alive: well within the 30 s heartbeat timeouts. */
const LIVENESS_HEARTBEAT_MS = 10_000;

type ActivityFunction = (...args: never[]) => Promise<unknown>;

/**
 * Every activity heartbeats every LIVENESS_HEARTBEAT_MS while it runs (after the first interval: a quick activity
 * never does), so that the heartbeat timeout of its options (activity-options.ts) notices a worker that died — a
 * SIGKILL, a lost node — within seconds, where the start-to-close timeout would take minutes. A hung Salesforce call
 * keeps heartbeating; the start-to-close timeout still bounds it. Activities that report progress (a deploy's poll)
 * heartbeat on their own as well.
 */
function withLivenessHeartbeat<T extends Record<string, ActivityFunction>>(activities: T): T {
  const wrapped = Object.entries(activities).map(([name, fn]) => {
    const run = async (...args: never[]) => {
      const context = Context.current();
      const timer = setInterval(() => context.heartbeat(), LIVENESS_HEARTBEAT_MS);
      try {
        return await fn(...args);
      } finally {
        clearInterval(timer);
      }
    };
    // The worker registers activities under their property names; keep the function's own name for stack traces.
    Object.defineProperty(run, 'name', { value: fn.name || name });
    return [name, run] as const;
  });
  return Object.fromEntries(wrapped) as T;
}

/** Every activity of the service, built once per worker over injected clients. */
export function createActivities(deps: ActivityDependencies) {
  const activities = {
    ...createPreflightActivities(deps),
    ...createSigningKeyActivities({ secrets: deps.secrets, validityDays: deps.certificateValidityDays }),
    ...createPermissionSetActivities(deps),
    ...createAccessActivities(deps),
    ...createIntegrationUserActivities(deps),
    ...createClientAppActivities(deps),
    ...createReadinessActivities(deps),
    ...createHealthActivities(deps),
    ...createRepairActivities(deps),
    ...createConnectionControlActivities(deps.temporal),
    ...createFleetActivities(deps.temporal),
    ...createWebhookActivities(deps.webhooks),
    ...createAuditActivities(deps.audit),
  };
  return withLivenessHeartbeat({
    ...activities,
    /**
     * The health check's one activity: the connection's state from its memo, then the check if it is checkable. A
     * report that would change nothing the connection shows is marked `unchanged` (the check does not send it).
     */
    async checkHealthOf(input: HealthCheckInput): Promise<HealthReport | undefined> {
      const state = await activities.readConnectionState(input);
      const request = healthCheckRequest(state, input.rotateBeforeDays);
      if (!request || !state) return undefined;
      const report = await activities.checkConnectionHealth(request);
      return healthReportChangesNothing(state, report) ? { ...report, unchanged: true } : report;
    },
  });
}

export type Activities = ReturnType<typeof createActivities>;
