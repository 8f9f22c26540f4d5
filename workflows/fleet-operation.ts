/**
 * One operation over many tenants' Salesforce connections. Each tenant's operation goes through its connection
 * workflow (the same update the API sends, so its validator still allows one operation per tenant), at most
 * `maxConcurrency` at once, never two at once on one org and at most `perOrgPerMinute` started per org per minute.
 * Pause stops starting new ones; cancel stops for good (running ones finish). Big fleets continue as new.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { createFleetActivities } from '../activities/fleet';
import type {
  FleetFailure,
  FleetOperationInput,
  FleetPendingTenant,
  FleetProgress,
  FleetSelection,
  FleetTenant,
  FleetTenantResult,
} from './definitions';
import {
  FLEET_FAILURES_KEPT,
  FLEET_MEMO_KEY,
  PRIORITY,
  cancelFleetUpdate,
  fleetProgressQuery,
  pauseFleetUpdate,
  resumeFleetUpdate,
} from './definitions';
import { describeFleetProgress } from './readable';

type FleetActivities = ReturnType<typeof createFleetActivities>;

const MINUTE_MS = 60_000;
/** A busy connection is tried again after 2, 4, 8, 16, then every 30 seconds, at most this many times. */
const BUSY_ATTEMPTS = 20;
const BUSY_DELAY_MAX_MS = 30_000;
/** Tenants resolved to their orgs per activity. */
const RESOLVE_CHUNK = 500;
const DEFAULT_HISTORY_LIMIT = 4_000;

const { listFleetTenants, resolveFleetTenants } = proxyActivities<FleetActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 5 },
  priority: { priorityKey: PRIORITY.fleet },
});

/** One tenant's operation: background priority, fair per org; it waits for the operation (reconnects take minutes). */
function tenantActivities(org: string | undefined): FleetActivities {
  return proxyActivities<FleetActivities>({
    startToCloseTimeout: '6 hours',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
    priority: { priorityKey: PRIORITY.fleet, ...(org ? { fairnessKey: org } : {}) },
  });
}

async function selectTenants(selection: FleetSelection): Promise<FleetTenant[]> {
  if ('status' in selection) return listFleetTenants({ status: selection.status });
  const tenants: FleetTenant[] = [];
  for (let i = 0; i < selection.tenantIds.length; i += RESOLVE_CHUNK) {
    tenants.push(...(await resolveFleetTenants({ tenantIds: selection.tenantIds.slice(i, i + RESOLVE_CHUNK) })));
  }
  return tenants;
}

function failureOf(tenantId: string, err: unknown): FleetFailure {
  const cause = (err as { cause?: { type?: string; message?: string } }).cause;
  return { tenantId, code: cause?.type ?? 'activity-failed', message: cause?.message ?? String(err) };
}

/** The key that serialises a tenant's work: its org, or the tenant itself when its org is unknown. */
const orgKeyOf = (tenant: FleetTenant): string => tenant.org ?? `tenant:${tenant.tenantId}`;

class FleetRun {
  pending: FleetPendingTenant[];
  readonly progress: FleetProgress;
  /** Orgs with an operation running, and the start times of each org's operations within the last minute. */
  private readonly busyOrgs = new Set<string>();
  private readonly orgStarts: Map<string, number[]>;
  /** The selection is resolved (until then, `remaining` is the total the API expected). */
  private selected: boolean;
  private changed = false;
  private published = '';
  /** Tenants this run started: a run continues as new only once it has made progress of its own. */
  startedHere = 0;

  constructor(private readonly input: FleetOperationInput) {
    this.pending = input.carried?.pending ?? [];
    this.selected = input.carried !== undefined;
    this.orgStarts = new Map(input.carried?.orgStarts ?? []);
    this.progress = input.carried?.progress ?? {
      fleetOperationId: input.fleetOperationId,
      kind: input.kind,
      status: 'running',
      total: input.expectedTotal ?? 0,
      done: 0,
      failed: 0,
      running: 0,
      remaining: input.expectedTotal ?? 0,
      failures: [],
      ...(input.requestHash ? { requestHash: input.requestHash } : {}),
      createdAt: input.createdAt,
    };
  }

  select(tenants: FleetTenant[]): void {
    this.pending = tenants;
    this.selected = true;
    this.progress.total = tenants.length;
    this.touch();
  }

  pause(): FleetProgress {
    if (this.progress.status === 'running') this.progress.status = 'paused';
    return this.touch();
  }

  resume(): FleetProgress {
    if (this.progress.status === 'paused') this.progress.status = 'running';
    return this.touch();
  }

  cancel(): FleetProgress {
    this.progress.status = 'cancelled';
    return this.touch();
  }

  private touch(): FleetProgress {
    if (this.selected) this.progress.remaining = this.pending.length;
    this.changed = true;
    return this.progress;
  }

  private startsWithinMinute(key: string, now: number): number[] {
    const recent = (this.orgStarts.get(key) ?? []).filter((t) => t > now - MINUTE_MS);
    if (recent.length > 0) this.orgStarts.set(key, recent);
    else this.orgStarts.delete(key);
    return recent;
  }

  /** When the tenant may start: now (0), later (ms from now), or not until its org's running operation ends. */
  private waitFor(tenant: FleetPendingTenant, now: number): number | 'org-busy' {
    const key = orgKeyOf(tenant);
    if (this.busyOrgs.has(key)) return 'org-busy';
    const recent = this.startsWithinMinute(key, now);
    const rateFreeAt = recent.length >= this.input.perOrgPerMinute ? (recent[0] ?? now) + MINUTE_MS : now;
    return Math.max(rateFreeAt, tenant.notBefore ?? now) - now;
  }

  /** Starts what the cap and the org rules allow; returns how long until a waiting tenant may start. */
  startEligible(draining: boolean): number | undefined {
    if (this.progress.status !== 'running' || draining) return undefined;
    const now = Date.now();
    let next: number | undefined;
    const waiting: FleetPendingTenant[] = [];
    for (const tenant of this.pending) {
      const wait = this.progress.running < this.input.maxConcurrency ? this.waitFor(tenant, now) : 'org-busy';
      if (wait === 0) this.start(tenant, now);
      else {
        waiting.push(tenant);
        if (wait !== 'org-busy') next = Math.min(next ?? wait, wait);
      }
    }
    this.pending = waiting;
    this.touch();
    return next;
  }

  private start(tenant: FleetPendingTenant, now: number): void {
    const key = orgKeyOf(tenant);
    this.startedHere += 1;
    this.busyOrgs.add(key);
    this.orgStarts.set(key, [...this.startsWithinMinute(key, now), now]);
    this.progress.running += 1;
    const input = {
      fleetOperationId: this.input.fleetOperationId,
      kind: this.input.kind,
      tenantId: tenant.tenantId,
      ...(this.input.requestedBy ? { requestedBy: this.input.requestedBy } : {}),
    };
    tenantActivities(tenant.org)
      .runFleetTenantOperation(input)
      .catch((err: unknown): FleetTenantResult => ({ outcome: 'failed', failure: failureOf(tenant.tenantId, err) }))
      .then(
        (result) => this.finish(tenant, result),
        () => undefined,
      );
  }

  private finish(tenant: FleetPendingTenant, result: FleetTenantResult): void {
    this.busyOrgs.delete(orgKeyOf(tenant));
    this.progress.running -= 1;
    if (result.outcome === 'succeeded') this.progress.done += 1;
    else if (result.outcome === 'busy' && (tenant.attempts ?? 0) < BUSY_ATTEMPTS) {
      const attempts = (tenant.attempts ?? 0) + 1;
      const delay = Math.min(1_000 * 2 ** attempts, BUSY_DELAY_MAX_MS);
      this.pending.push({ ...tenant, attempts, notBefore: Date.now() + delay });
    } else {
      this.progress.failed += 1;
      const failure: FleetFailure =
        result.outcome === 'failed'
          ? result.failure
          : {
              tenantId: tenant.tenantId,
              code: 'operation-in-progress',
              message: `Another operation kept the connection busy after ${BUSY_ATTEMPTS} attempts.`,
            };
      if (this.progress.failures.length < FLEET_FAILURES_KEPT) this.progress.failures.push(failure);
    }
    this.touch();
  }

  finished(): boolean {
    return this.progress.running === 0 && (this.pending.length === 0 || this.progress.status === 'cancelled');
  }

  /** Publishes the progress in the memo (readable with no worker) and the Web UI's details, when it changed. */
  publish(): void {
    const text = JSON.stringify(this.progress);
    if (text === this.published) return;
    this.published = text;
    upsertMemo({ [FLEET_MEMO_KEY]: this.progress });
    setCurrentDetails(describeFleetProgress(this.progress));
  }

  async changes(timeoutMs: number | undefined): Promise<void> {
    this.changed = false;
    if (timeoutMs === undefined) await condition(() => this.changed);
    else await condition(() => this.changed, timeoutMs);
  }

  carried(): FleetOperationInput['carried'] {
    return { pending: this.pending, progress: this.progress, orgStarts: [...this.orgStarts.entries()] };
  }
}

function setHandlers(fleet: FleetRun): void {
  const refuseEnded = (action: string) => () => {
    if (fleet.progress.status === 'cancelled') {
      throw ApplicationFailure.nonRetryable(
        `The fleet operation was cancelled: it cannot ${action}.`,
        'FleetOperationEnded',
      );
    }
  };
  // Each publishes at once: the main loop may be waiting for the selection.
  const published = (progress: FleetProgress) => (fleet.publish(), progress);
  setHandler(pauseFleetUpdate, () => published(fleet.pause()), { validator: refuseEnded('pause') });
  setHandler(resumeFleetUpdate, () => published(fleet.resume()), { validator: refuseEnded('resume') });
  setHandler(cancelFleetUpdate, () => published(fleet.cancel()));
  setHandler(fleetProgressQuery, () => fleet.progress);
}

function historyFull(input: FleetOperationInput): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength > (input.historyLimit ?? DEFAULT_HISTORY_LIMIT);
}

export async function fleetOperation(input: FleetOperationInput): Promise<FleetProgress> {
  const fleet = new FleetRun(input);
  setHandlers(fleet);
  if (!input.carried) fleet.select(await selectTenants(input.selection));
  for (;;) {
    const draining = fleet.startedHere > 0 && historyFull(input);
    const next = fleet.startEligible(draining);
    if (fleet.finished()) break;
    if (draining && fleet.progress.running === 0) {
      fleet.publish();
      await condition(allHandlersFinished);
      return continueAsNew<typeof fleetOperation>({ ...input, carried: fleet.carried() });
    }
    fleet.publish();
    await fleet.changes(next);
  }
  if (fleet.progress.status !== 'cancelled') fleet.progress.status = 'completed';
  fleet.progress.endedAt = new Date().toISOString();
  fleet.publish();
  await condition(allHandlersFinished);
  return fleet.progress;
}
