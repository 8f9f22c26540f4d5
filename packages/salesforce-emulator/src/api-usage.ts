/**
 * The API requests an org made in the last 24 hours: Salesforce counts DailyApiRequests over a rolling 24-hour
 * window, not in a window that resets at once. Counted in one-minute buckets (at most 1,441 per org): a request stops
 * counting between 24 h and 24 h + 1 min after it was made (the stricter side of the minute).
 */
const MINUTE = 60_000;
const WINDOW_MINUTES = 24 * 60;

/** [minute since the epoch, requests in that minute], oldest first. */
export type ApiUsageJson = { buckets: [number, number][] };

export class ApiUsage {
  private buckets: [number, number][] = [];
  private total = 0;

  /** Requests in the window ending at `now`. */
  count(now: number): number {
    this.prune(now);
    return this.total;
  }

  record(now: number): void {
    this.prune(now);
    const minute = Math.floor(now / MINUTE);
    const last = this.buckets[this.buckets.length - 1];
    // A clock that steps back a little (NTP) counts in the latest bucket, which keeps the buckets in order.
    if (last && last[0] >= minute) last[1]++;
    else this.buckets.push([minute, 1]);
    this.total++;
  }

  reset(): void {
    this.buckets = [];
    this.total = 0;
  }

  private prune(now: number): void {
    const oldest = Math.floor(now / MINUTE) - WINDOW_MINUTES;
    let drop = 0;
    while (drop < this.buckets.length && this.buckets[drop]![0] < oldest) this.total -= this.buckets[drop++]![1];
    if (drop > 0) this.buckets.splice(0, drop);
  }

  toJSON(): ApiUsageJson {
    return { buckets: this.buckets.map(([m, n]) => [m, n]) };
  }

  /** From a state file: the bucket list, or the former `{ used, windowStart }` (counted as made at windowStart). */
  static fromJSON(json: unknown): ApiUsage {
    const usage = new ApiUsage();
    const j = (json ?? {}) as Partial<ApiUsageJson> & { used?: number; windowStart?: number };
    if (Array.isArray(j.buckets)) {
      for (const [m, n] of j.buckets) {
        usage.buckets.push([m, n]);
        usage.total += n;
      }
    } else if (typeof j.used === 'number' && j.used > 0 && typeof j.windowStart === 'number') {
      usage.buckets.push([Math.floor(j.windowStart / MINUTE), j.used]);
      usage.total = j.used;
    }
    return usage;
  }
}
