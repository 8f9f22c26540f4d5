import type { Client } from '@temporalio/client';
import type { Duration, Priority } from '@temporalio/common';
import { ScheduleAlreadyRunning, ScheduleNotFoundError } from '@temporalio/client';
import type { ConnectionState, Crm, HealthCheckInput } from '../workflows/definitions';
import {
  PRIORITY,
  STATE_MEMO_KEY,
  connectionWorkflowId,
  healthCheckWorkflowId,
  healthScheduleId,
} from '../workflows/definitions';

const HEALTH_CHECK_PRIORITY: { priority: Priority } = { priority: { priorityKey: PRIORITY.background } };

/** What the activities that manage schedules and read connections need of Temporal itself. */
export interface TemporalAccess {
  client: Client;
  taskQueue: string;
  /** How often each enabled connection is checked end to end (Temporal duration, e.g. "1 hour"). */
  healthCheckInterval: string;
  /** Rotate the JWT certificate when it expires within this many days. */
  rotateBeforeDays: number;
}

export function createConnectionControlActivities(temporal: TemporalAccess) {
  return {
    /** Creates the connection's health-check Schedule; an existing one is kept (idempotent). */
    async ensureHealthSchedule(input: { tenantId: string; crm: Crm }): Promise<string> {
      const scheduleId = healthScheduleId(input.tenantId, input.crm);
      const args: [HealthCheckInput] = [
        { tenantId: input.tenantId, crm: input.crm, rotateBeforeDays: temporal.rotateBeforeDays },
      ];
      try {
        await temporal.client.schedule.create({
          scheduleId,
          spec: { intervals: [{ every: temporal.healthCheckInterval as Duration }] },
          action: {
            type: 'startWorkflow',
            workflowType: 'connectionHealthCheck',
            workflowId: healthCheckWorkflowId(input.tenantId, input.crm),
            taskQueue: temporal.taskQueue,
            args,
            staticSummary: `Health check of the ${input.crm} connection of tenant ${input.tenantId}`,
            // Background work: behind admission and admin operations in a backlog (the SDK encodes it; 1.24's
            // create options do not list it yet).
            ...HEALTH_CHECK_PRIORITY,
          },
          policies: { overlap: 'SKIP', catchupWindow: '1 minute' },
          memo: { tenantId: input.tenantId, crm: input.crm },
        });
      } catch (err) {
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      }
      return scheduleId;
    },

    /** Removes the health-check Schedule; an absent one counts as removed. */
    async deleteHealthSchedule(input: { tenantId: string; crm: Crm }): Promise<void> {
      try {
        await temporal.client.schedule.getHandle(healthScheduleId(input.tenantId, input.crm)).delete();
      } catch (err) {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      }
    },

    /** The connection's state as published in its memo (what the API reads). */
    async readConnectionState(input: { tenantId: string; crm: Crm }): Promise<ConnectionState | undefined> {
      const description = await temporal.client.workflow
        .getHandle(connectionWorkflowId(input.tenantId, input.crm))
        .describe();
      return description.memo?.[STATE_MEMO_KEY] as ConnectionState | undefined;
    },
  };
}
