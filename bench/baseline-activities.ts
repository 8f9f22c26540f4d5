import type { Client } from '@temporalio/client';

/**
 * The baseline's activities: they return at once; with a client, one more creates an hourly Schedule, as an enable
 * creates its connection's health-check Schedule.
 */
export function createBaselineActivities(client?: Client, taskQueue = '') {
  return {
    // eslint-disable-next-line @typescript-eslint/require-await -- an activity is async by contract
    async noop(_id: string, _step: number): Promise<number> {
      return 1;
    },

    /** An hourly Schedule that would start a baseline workflow (none fires while a bench runs). */
    async createHourlySchedule(id: string): Promise<void> {
      if (!client) throw new Error('the baseline worker has no client for Schedules');
      await client.schedule.create({
        scheduleId: `baseline-schedule:${id}`,
        spec: { intervals: [{ every: '1 hour', offset: `${id.length % 60} minutes` }] },
        action: { type: 'startWorkflow', workflowType: 'baselineWorkflow', taskQueue, args: [id] },
        policies: { overlap: 'SKIP', catchupWindow: '1 minute' },
      });
    },
  };
}

export type BaselineActivities = ReturnType<typeof createBaselineActivities>;
