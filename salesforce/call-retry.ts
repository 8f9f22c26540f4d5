import { activityInfo, heartbeat, sleep } from '@temporalio/activity';
import { isUnansweredCall } from './errors';

/** True on every attempt after the first: the only ones that may find what an earlier attempt left. */
export function isRetry(): boolean {
  return activityInfo().attempt > 1;
}

/** Waits between the tries of one call: the schedule jsforce itself uses for the requests it retries. */
const RETRY_DELAYS_MS = [500, 1000, 2000];

/**
 * Runs an idempotent Salesforce call, repeating it in place (up to 3 more times, 0.5 s, 1 s, 2 s apart) when it got
 * no answer: a network error or a 5xx such as SERVER_UNAVAILABLE. Any other failure is thrown at once.
 *
 * jsforce retries such failures by itself only for GET, PUT, HEAD, OPTIONS and DELETE requests. Every Metadata API
 * call is a SOAP POST, reads and status checks included, so without this one lost answer fails the whole activity
 * attempt, and Temporal repeats every call of the activity after its backoff (for compensations up to minutes).
 * Only for calls that are safe to repeat: reads, deletes whose "missing" counts as done, deploys and updates that
 * converge on the same state.
 */
export async function retryUnanswered<T>(call: () => Promise<T>): Promise<T> {
  for (let retry = 0; ; retry += 1) {
    try {
      return await call();
    } catch (err) {
      const delay = RETRY_DELAYS_MS[retry];
      if (delay === undefined || !isUnansweredCall(err)) throw err;
      heartbeat();
      await sleep(delay);
    }
  }
}
