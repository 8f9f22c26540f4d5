import type { Client, ScheduleOptionsAction } from '@temporalio/client';
import type { Priority } from '@temporalio/common';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, WorkflowNotFoundError } from '@temporalio/client';
import type { ConnectionState, Crm, HealthCheckInput } from '../workflows/definitions';
import { publishedState } from '../api/published-state';
import { HEALTH_SCHEDULE_VERSION, hasCadence, healthCadence, scheduleSpecOf } from './health-schedule-spec';
import { PRIORITY, connectionWorkflowId, healthCheckWorkflowId, healthScheduleId } from '../workflows/definitions';

const HEALTH_CHECK_PRIORITY: { priority: Priority } = { priority: { priorityKey: PRIORITY.background } };

/** What the activities that manage schedules and read connections need of Temporal itself. */
export interface TemporalAccess {
  client: Client;
  taskQueue: string;
  /** How often each enabled connection is checked end to end (Temporal duration, e.g. "1 hour"). */
  healthCheckInterval: string;
  /** Rotate the JWT certificate when it expires within this many days. */
  rotateBeforeDays: number;
  /** How long after a failed health check the confirming one runs (default 30 seconds). */
  healthRecheckAfter?: string;
}

/** What a connection's health-check Schedule starts, with the version that says it runs at the connection's cadence. */
function healthCheckAction(temporal: TemporalAccess, input: { tenantId: string; crm: Crm }): ScheduleOptionsAction {
  const args: [HealthCheckInput] = [
    {
      tenantId: input.tenantId,
      crm: input.crm,
      rotateBeforeDays: temporal.rotateBeforeDays,
      scheduleVersion: HEALTH_SCHEDULE_VERSION,
      ...(temporal.healthRecheckAfter ? { recheckAfter: temporal.healthRecheckAfter } : {}),
    },
  ];
  return {
    type: 'startWorkflow',
    workflowType: 'connectionHealthCheck',
    workflowId: healthCheckWorkflowId(input.tenantId, input.crm),
    taskQueue: temporal.taskQueue,
    args,
    staticSummary: `Health check of the ${input.crm} connection of tenant ${input.tenantId}`,
    // Background work: behind admission and admin operations in a backlog (the SDK encodes it; 1.24's create options
    // do not list it yet).
    ...HEALTH_CHECK_PRIORITY,
  };
}

export function createConnectionControlActivities(temporal: TemporalAccess) {
  /**
   * Brings an existing Schedule to the connection's cadence (offset and jitter, the configured interval) and the
   * current action; one already there is left alone. Returns false when there is no Schedule.
   */
  async function spreadSchedule(input: { tenantId: string; crm: Crm }): Promise<boolean> {
    const handle = temporal.client.schedule.getHandle(healthScheduleId(input.tenantId, input.crm));
    const cadence = healthCadence(input.tenantId, input.crm, temporal.healthCheckInterval);
    try {
      const description = await handle.describe();
      const args = description.action.type === 'startWorkflow' ? (description.action.args ?? []) : [];
      const version = (args[0] as HealthCheckInput | undefined)?.scheduleVersion;
      if (hasCadence(description.spec, cadence) && version === HEALTH_SCHEDULE_VERSION) return true;
      await handle.update((previous) => ({
        ...previous,
        spec: scheduleSpecOf(cadence),
        action: healthCheckAction(temporal, input),
      }));
      return true;
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return false;
      throw err;
    }
  }

  return {
    /**
     * Creates the connection's health-check Schedule at its cadence; an existing one is kept, and brought to the
     * cadence if it predates it or the interval changed (idempotent).
     */
    async ensureHealthSchedule(input: { tenantId: string; crm: Crm }): Promise<string> {
      const scheduleId = healthScheduleId(input.tenantId, input.crm);
      try {
        await temporal.client.schedule.create({
          scheduleId,
          spec: scheduleSpecOf(healthCadence(input.tenantId, input.crm, temporal.healthCheckInterval)),
          action: healthCheckAction(temporal, input),
          policies: { overlap: 'SKIP', catchupWindow: '1 minute' },
          memo: { tenantId: input.tenantId, crm: input.crm },
        });
      } catch (err) {
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
        await spreadSchedule(input);
      }
      return scheduleId;
    },

    /**
     * Moves a Schedule created before health checks were spread to the connection's cadence; a removed one (the
     * connection was disabled meanwhile) stays removed.
     */
    async spreadHealthSchedule(input: { tenantId: string; crm: Crm }): Promise<boolean> {
      return spreadSchedule(input);
    },

    /** Removes the health-check Schedule; an absent one counts as removed. */
    async deleteHealthSchedule(input: { tenantId: string; crm: Crm }): Promise<void> {
      try {
        await temporal.client.schedule.getHandle(healthScheduleId(input.tenantId, input.crm)).delete();
      } catch (err) {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      }
    },

    /**
     * The connection's state as published in its memo (what the API reads); none for a connection with no workflow
     * (one an operator terminated, past the namespace's retention): a health check then has nothing to check.
     */
    async readConnectionState(input: { tenantId: string; crm: Crm }): Promise<ConnectionState | undefined> {
      try {
        const description = await temporal.client.workflow
          .getHandle(connectionWorkflowId(input.tenantId, input.crm))
          .describe();
        return await publishedState(temporal.client, description);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return undefined;
        throw err;
      }
    },
  };
}
