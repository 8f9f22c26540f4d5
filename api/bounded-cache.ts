/** Entries an API process keeps in each of its per-connection caches: the oldest go first beyond it. */
export const CACHED_ENTRIES = 10_000;

/**
 * Keeps a cache to `limit` entries by dropping its oldest: a Map iterates in insertion order, so an entry set again
 * after a delete counts as new.
 */
export function dropOldest(cache: Map<string, unknown>, limit = CACHED_ENTRIES): void {
  while (cache.size > limit) {
    const oldest = cache.keys().next().value;
    if (oldest === undefined) return;
    cache.delete(oldest);
  }
}
