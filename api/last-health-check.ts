import type { Client } from '@temporalio/client';
import type { ConnectionState, Crm, HealthReport } from '../workflows/definitions';
import { healthScheduleId } from '../workflows/definitions';

/** Results of ended checks never change: kept by workflow run, at most this many (oldest dropped first). */
const CACHED_RESULTS = 10_000;

/** The latest ended health check of a connection, as its Schedule and the check's own result tell. */
export interface LastHealthCheck {
  workflowId: string;
  report: HealthReport | undefined;
}

/**
 * Reads when a connection was last checked where the connection's memo no longer says it: a check whose report
 * changes nothing the connection shows (healthy → healthy) sends nothing to the connection, and keeps its report as
 * its own result. The Schedule's recent actions name the latest check that ended; its result is read once and kept
 * (an ended workflow's result never changes), so showing a connection costs one Schedule describe besides its own.
 */
export class LastHealthChecks {
  private readonly results = new Map<string, HealthReport | undefined>();

  constructor(
    private readonly client: Client,
    private readonly bounded: <T>(call: () => Promise<T>) => Promise<T> = (call) => call(),
  ) {}

  /** The latest ended check, or undefined when there is none (no Schedule, none ended yet, Temporal slow). */
  async latest(tenantId: string, crm: Crm): Promise<LastHealthCheck | undefined> {
    try {
      const description = await this.bounded(() =>
        this.client.schedule.getHandle(healthScheduleId(tenantId, crm)).describe(),
      );
      const running = new Set(description.info.runningActions.map((a) => a.workflow.workflowId));
      const ended = [...description.info.recentActions]
        .reverse()
        .find((a) => a.action.type === 'startWorkflow' && !running.has(a.action.workflow.workflowId));
      if (!ended) return undefined;
      const { workflowId, firstExecutionRunId } = ended.action.workflow;
      const key = `${workflowId}/${firstExecutionRunId}`;
      if (!this.results.has(key)) {
        const report = await this.bounded(() =>
          this.client.workflow
            .getHandle(workflowId, firstExecutionRunId)
            .result()
            .then((r: unknown) => (r ?? undefined) as HealthReport | undefined),
        );
        this.remember(key, report);
      }
      return { workflowId, report: this.results.get(key) };
    } catch {
      // Informative only: a check that failed, a Schedule removed, a result that cannot be read leave the connection
      // as it published itself.
      return undefined;
    }
  }

  /** The state with the time of its latest check, when that check found nothing to change (and so did not send it). */
  async apply(state: ConnectionState, latest: Promise<LastHealthCheck | undefined>): Promise<ConnectionState> {
    const report = (await latest)?.report;
    if (!state.health || !report?.unchanged || report.checkedAt <= state.health.checkedAt) return state;
    return { ...state, health: { ...state.health, checkedAt: report.checkedAt } };
  }

  private remember(key: string, report: HealthReport | undefined): void {
    this.results.set(key, report);
    if (this.results.size > CACHED_RESULTS) {
      const oldest = this.results.keys().next().value;
      if (oldest !== undefined) this.results.delete(oldest);
    }
  }
}
