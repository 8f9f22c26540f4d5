/** How {@link pollUntil} waits, and what it does when the wait runs out. */
export interface PollOptions<T> {
  /** What is awaited, for the timeout message: "the fleet operation to end". */
  what: string;
  /** How long to keep reading. 30 s: a workflow on the dev server settles well within that, even on a busy machine. */
  timeoutMs?: number;
  /** The pause between reads: short enough not to slow a test, long enough not to hammer the server it reads. */
  intervalMs?: number;
  /**
   * 'throw' (the default) fails with the last value seen. 'return' hands the last value back to the caller, for a test
   * whose own assertion on it explains a failure better (a diff), or for a reader that may legitimately see less.
   */
  onTimeout?: 'throw' | 'return';
  /** The part of the last value the timeout message shows, when all of it would bury what matters. */
  describe?: (last: T) => unknown;
}

/**
 * Reads until `done` holds for the value read, or the time runs out; returns the value that satisfied `done` (or,
 * with `onTimeout: 'return'`, the last value read). What tests wait for (a workflow's state, a visibility list, a
 * webhook) changes on its own schedule, eventually, so a test asks again the way an operator would refresh.
 *
 * It always reads at least once, and reads once more after the deadline before giving up: a slow read that spans the
 * deadline still counts. The message names what was awaited and the last value, so a timeout shows where it stuck.
 */
export async function pollUntil<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  { what, timeoutMs = 30_000, intervalMs = 250, onTimeout = 'throw', describe = (last) => last }: PollOptions<T>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      if (onTimeout === 'return') return value;
      throw new Error(`${what}: not reached in ${timeoutMs} ms; last: ${JSON.stringify(describe(value))}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
