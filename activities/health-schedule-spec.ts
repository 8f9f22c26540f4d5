import { createHash } from 'node:crypto';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { ScheduleSpec, ScheduleSpecDescription } from '@temporalio/client';
import type { Crm } from '../workflows/definitions';

/**
 * When a connection's health check runs. Temporal aligns a Schedule's interval to the epoch (`epoch + n·every +
 * offset`), so hourly Schedules without an offset all fire at hh:00:00: every connection would sign in to Salesforce
 * in the same second, and Temporal Cloud would throttle the starts. Each connection gets its own offset in the
 * interval, derived from its tenant (the same at every start of the service, and for every API and worker), plus a
 * random jitter per run that smooths tenants whose offsets fall close together.
 */

/** Schedules created before spreading carried no version in their action's input; this is the first that does. */
export const HEALTH_SCHEDULE_VERSION = 2;

/** Jitter: a twelfth of the interval (5 minutes of an hour), never more than 5 minutes. */
const MAX_JITTER_MS = 5 * 60_000;

export interface HealthCadence {
  everyMs: number;
  offsetMs: number;
  jitterMs: number;
}

/**
 * The connection's offset in its interval: a SHA-256 of the tenant and the CRM taken modulo the interval, in whole
 * seconds. Uniform over the interval for any set of tenant ids, and stable: the same connection keeps its minute.
 */
export function healthCheckOffsetMs(tenantId: string, crm: Crm, everyMs: number): number {
  const digest = createHash('sha256').update(`${tenantId}\u0000${crm}`).digest();
  const seconds = Math.max(1, Math.floor(everyMs / 1000));
  return (digest.readUIntBE(0, 6) % seconds) * 1000;
}

export function healthCadence(tenantId: string, crm: Crm, interval: string): HealthCadence {
  const everyMs = msToNumber(interval as Duration);
  return {
    everyMs,
    offsetMs: healthCheckOffsetMs(tenantId, crm, everyMs),
    jitterMs: Math.min(Math.floor(everyMs / 12), MAX_JITTER_MS),
  };
}

export function scheduleSpecOf(cadence: HealthCadence): ScheduleSpec {
  return {
    intervals: [{ every: cadence.everyMs, offset: cadence.offsetMs }],
    jitter: cadence.jitterMs,
  };
}

/** Whether a Schedule's spec (as `describe()` returns it) already runs at the connection's cadence. */
export function hasCadence(spec: ScheduleSpecDescription, cadence: HealthCadence): boolean {
  const intervals = spec.intervals ?? [];
  return (
    intervals.length === 1 &&
    intervals[0]?.every === cadence.everyMs &&
    (intervals[0]?.offset ?? 0) === cadence.offsetMs &&
    (spec.jitter ?? 0) === cadence.jitterMs &&
    (spec.calendars ?? []).length === 0
  );
}

/**
 * Peak minute over mean minute of the checks of these connections over one interval, counted at their offsets
 * (without the jitter, which only flattens it further): 1 is perfectly even.
 */
export function peakToMeanMinute(offsetsMs: number[], everyMs: number): number {
  const minutes = Math.max(1, Math.ceil(everyMs / 60_000));
  const perMinute = new Array<number>(minutes).fill(0);
  for (const offset of offsetsMs) {
    const minute = Math.floor(offset / 60_000) % minutes;
    perMinute[minute] = (perMinute[minute] ?? 0) + 1;
  }
  return Math.max(...perMinute) / (offsetsMs.length / minutes);
}
