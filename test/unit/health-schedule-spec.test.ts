import { createHash, randomUUID } from 'node:crypto';
import {
  hasCadence,
  healthCadence,
  healthCheckOffsetMs,
  peakToMeanMinute,
  scheduleSpecOf,
} from '../../activities/health-schedule-spec';

const HOUR = 3_600_000;

describe('health-check cadence', () => {
  it('gives each connection a stable offset in whole seconds within the interval', () => {
    for (const tenantId of ['acme', 'globex', 't-1', randomUUID()]) {
      const offset = healthCheckOffsetMs(tenantId, 'salesforce', HOUR);
      expect(offset).toBe(healthCheckOffsetMs(tenantId, 'salesforce', HOUR));
      expect(offset).toBeGreaterThanOrEqual(0);
      expect(offset).toBeLessThan(HOUR);
      expect(offset % 1000).toBe(0);
    }
    expect(healthCheckOffsetMs('acme', 'salesforce', HOUR)).not.toBe(healthCheckOffsetMs('acme', 'dynamics365', HOUR));
  });

  it.each([
    ['sequential ids, hourly', (i: number) => `tenant-${i}`, '1 hour'],
    ['sequential ids, every 12 minutes', (i: number) => `tenant-${i}`, '12 minutes'],
    ['opaque ids, hourly', (i: number) => createHash('sha1').update(String(i)).digest('hex'), '1 hour'],
  ])('spreads 1,000 connections over the interval: peak minute / mean minute ≤ 2 (%s)', (_, idOf, interval) => {
    const cadences = Array.from({ length: 1000 }, (_unused, i) => healthCadence(idOf(i), 'salesforce', interval));
    const everyMs = cadences[0]!.everyMs;
    expect(
      peakToMeanMinute(
        cadences.map((c) => c.offsetMs),
        everyMs,
      ),
    ).toBeLessThanOrEqual(2);
    // Not one minute of the interval is left empty by 1,000 connections.
    expect(new Set(cadences.map((c) => Math.floor(c.offsetMs / 60_000))).size).toBe(Math.ceil(everyMs / 60_000));
  });

  it('the same offsets all at the top of the hour (the Schedules before) are the worst case', () => {
    expect(peakToMeanMinute(new Array<number>(1000).fill(0), HOUR)).toBeCloseTo(60);
  });

  it('adds a jitter of a twelfth of the interval, at most 5 minutes, and recognises a spec at the cadence', () => {
    expect(healthCadence('acme', 'salesforce', '1 hour').jitterMs).toBe(5 * 60_000);
    expect(healthCadence('acme', 'salesforce', '12 minutes').jitterMs).toBe(60_000);
    const cadence = healthCadence('acme', 'salesforce', '1 hour');
    const spec = scheduleSpecOf(cadence);
    expect(spec).toEqual({ intervals: [{ every: HOUR, offset: cadence.offsetMs }], jitter: 300_000 });
    expect(hasCadence({ intervals: [{ every: HOUR, offset: cadence.offsetMs }], jitter: 300_000 }, cadence)).toBe(true);
    expect(hasCadence({ intervals: [{ every: HOUR, offset: 0 }] }, cadence)).toBe(false);
    expect(hasCadence({ intervals: [{ every: 2 * HOUR, offset: cadence.offsetMs }], jitter: 300_000 }, cadence)).toBe(
      false,
    );
  });
});
