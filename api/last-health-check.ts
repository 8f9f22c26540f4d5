import type { Client } from '@temporalio/client';
import type { ConnectionState, Crm, HealthReport } from '../workflows/definitions';
import { healthScheduleId } from '../workflows/definitions';
import { dropOldest } from './bounded-cache';

/**
 * How long the latest check read from a connection's Schedule is shown without reading it again. Describing a
 * Schedule asks the scheduler (a query the Temporal server answers with its own worker): an admin page polling a
 * connection would ask it on every read, and under load that read is the slow half of showing a connection. Checks run
 * an hour apart by default: the time of the last one shows at most this late.
 */
export const LAST_CHECK_FRESH_MS = 10_000;

/** The latest ended health check of a connection, as its Schedule and the check's own result tell. */
export interface LastHealthCheck {
  workflowId: string;
  report: HealthReport | undefined;
}

/**
 * Reads when a connection was last checked where the connection's memo no longer says it: a check whose report
 * changes nothing the connection shows (healthy → healthy) sends nothing to the connection, and keeps its report as
 * its own result. The Schedule's recent actions name the latest check that ended; its result is read once and kept
 * (an ended workflow's result never changes), so showing a connection costs at most one Schedule describe per
 * LAST_CHECK_FRESH_MS besides its own.
 */
export class LastHealthChecks {
  /** Results of ended checks never change: kept by workflow run (CACHED_ENTRIES at most, the oldest dropped). */
  private readonly results = new Map<string, HealthReport | undefined>();
  /** The latest check of each connection as last read, and when (bounded the same way). */
  private readonly latestRead = new Map<string, { at: number; latest: Promise<LastHealthCheck | undefined> }>();

  constructor(
    private readonly client: Client,
    private readonly bounded: <T>(call: () => Promise<T>) => Promise<T> = (call) => call(),
    private readonly freshForMs = LAST_CHECK_FRESH_MS,
  ) {}

  /**
   * The latest ended check, or undefined when there is none (no Schedule, none ended yet, Temporal slow); read again
   * once `freshForMs` has passed (concurrent reads of one connection share one Schedule describe).
   */
  latest(tenantId: string, crm: Crm): Promise<LastHealthCheck | undefined> {
    const key = `${crm}/${tenantId}`;
    const read = this.latestRead.get(key);
    if (read && Date.now() - read.at < this.freshForMs) return read.latest;
    const latest = this.readLatest(tenantId, crm);
    if (this.freshForMs > 0) {
      this.latestRead.delete(key);
      this.latestRead.set(key, { at: Date.now(), latest });
      dropOldest(this.latestRead);
    }
    return latest;
  }

  private async readLatest(tenantId: string, crm: Crm): Promise<LastHealthCheck | undefined> {
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
    dropOldest(this.results);
  }
}
