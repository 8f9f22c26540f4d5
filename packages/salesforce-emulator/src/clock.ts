/**
 * The emulator's time: the system clock plus an offset that only moves forward (the control API's `POST /clock`).
 * Everything time-dependent reads it: session timeouts, API usage over the last 24 hours, app propagation, JWT `exp`,
 * query cursors, record and component dates. Latency and timeout faults wait in real time.
 */
export class Clock {
  constructor(private offset = 0) {}

  /** epoch ms, emulated */
  now(): number {
    return Date.now() + this.offset;
  }

  /** Salesforce's datetime format of now(). */
  iso(): string {
    return nowIso(this.now());
  }

  get offsetMs(): number {
    return this.offset;
  }

  /** Moves the emulated time forward by `ms` (≥ 0). */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the clock only moves forward (ms ≥ 0)');
    this.offset += ms;
  }
}

/** Salesforce's datetime format: 2024-01-31T12:00:00.000+0000. */
export const nowIso = (t: number): string => new Date(t).toISOString().replace('Z', '+0000');
