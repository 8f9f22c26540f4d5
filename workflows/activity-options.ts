import type { Duration } from '@temporalio/common';
import { ActivityCancellationType } from '@temporalio/common';
import type { ActivityOptions } from '@temporalio/workflow';
import { ErrorType } from './definitions';

/** Failures that no retry can fix; everything else an activity throws is retried per the policy of its profile. */
const PERMANENT_ERROR_TYPES = [
  ErrorType.salesforcePermanent,
  ErrorType.preflightFailed,
  ErrorType.invalidConfiguration,
  ErrorType.secretMissing,
];

/**
 * Forward steps: each Salesforce call is quick, so 2 minutes bounds a hung call. Transient failures (locks, limits,
 * 5xx, network, expired sessions) back off from 0.5 s to at most 1 minute, 10 attempts (about 5 minutes in all)
 * before the saga gives up and compensates. Activities heartbeat while they run (activities/index.ts), so a worker
 * that dies mid-step is noticed within 30 s and the step retried on another, not after the 2 minutes.
 */
export const FORWARD_STEP: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 10,
    nonRetryableErrorTypes: PERMANENT_ERROR_TYPES,
  },
};

/**
 * The client app is created by a Metadata deploy that the activity polls for up to 5 minutes, heartbeating at each
 * poll; a worker that dies mid-deploy is noticed within 30 s.
 */
export const DEPLOY_STEP: ActivityOptions = {
  ...FORWARD_STEP,
  startToCloseTimeout: '10 minutes',
};

/**
 * Compensations must get through if at all possible: 40 attempts, about 35 minutes, still bounded so that a rollback
 * that cannot finish ends as "rollback incomplete" with what remains listed instead of hanging forever. The wait
 * between attempts grows from 1 s to at most 1 minute, like the forward steps': a longer one would not help
 * Salesforce recover, only leave the operation (and every later one of the connection) waiting up to that long
 * after it has.
 */
export const COMPENSATION_STEP: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 40,
    nonRetryableErrorTypes: PERMANENT_ERROR_TYPES,
  },
};

/** How long an operation waits for Salesforce to make an app usable when its request does not say (READINESS_TIMEOUT). */
export const DEFAULT_READINESS_TIMEOUT = '15 minutes';

/**
 * Readiness of operations started before `readinessWait` (one probe per attempt). Salesforce needs 2-10 minutes before a new app accepts the JWT bearer flow. Each attempt is one token
 * request and one query; retries wait 2 s, growing by 1.5 up to 1 minute between tries, for as long as the
 * operation's readiness timeout (15 minutes by default). The waits are server-side timers: no worker is busy.
 */
export function readinessCheck(timeout: string = DEFAULT_READINESS_TIMEOUT): ActivityOptions {
  return {
    startToCloseTimeout: '1 minute',
    heartbeatTimeout: '30 seconds',
    scheduleToCloseTimeout: timeout as Duration,
    retry: {
      initialInterval: '2 seconds',
      backoffCoefficient: 1.5,
      maximumInterval: '1 minute',
      // No attempt cap: the schedule-to-close timeout bounds the wait.
      nonRetryableErrorTypes: PERMANENT_ERROR_TYPES,
    },
  };
}

/**
 * How long a readiness wait may go without a heartbeat before Temporal retries it elsewhere: a worker that dies
 * mid-wait is noticed within 3 minutes. The readiness queue's worker lets heartbeats as far apart as this
 * (`maxHeartbeatThrottleInterval`, workers/service-worker.ts), so the SDK sends one every 80% of it: 144 s.
 */
export const READINESS_HEARTBEAT_TIMEOUT_MS = 3 * 60_000;

/**
 * Readiness, as one activity that probes every few seconds (`awaitReadiness`): an attempt waits up to 5 minutes
 * (activities/readiness.ts), heartbeating; Temporal bills the attempt and the heartbeats that reach it, not the
 * probes, and the SDK sends one every 144 s (80% of the 3-minute heartbeat timeout), so a 5-minute wait costs 3
 * heartbeats (6 under the 90 s timeout and 60 s throttle of before). A worker that dies mid-wait is noticed within 3
 * minutes. An activity hears of a cancellation only in the answer to its next heartbeat, up to 144 s later, so the
 * saga does not wait for that (`TRY_CANCEL`, what the SDK sent when none was set): a cancelled enable rolls back at
 * once, and the probe stops at its next heartbeat. "Not ready yet" starts the next attempt 3 s later (the activity
 * sets the delay); any other retryable failure backs off from 3 s to 1 minute. The operation's readiness timeout
 * bounds it all. No patch: the heartbeat timeout is not compared on replay, and the cancellation type is the one
 * sent before.
 */
export function readinessWait(timeout: string = DEFAULT_READINESS_TIMEOUT): ActivityOptions {
  return {
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: READINESS_HEARTBEAT_TIMEOUT_MS,
    cancellationType: ActivityCancellationType.TRY_CANCEL,
    scheduleToCloseTimeout: timeout as Duration,
    retry: {
      initialInterval: '3 seconds',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      nonRetryableErrorTypes: PERMANENT_ERROR_TYPES,
    },
  };
}

/**
 * Bookkeeping around an operation (the health-check Schedule): a few quick attempts; the connection logs a failure
 * and goes on, it never fails the operation.
 */
export const CONTROL_STEP: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 5 },
};

/** How long after a failed health check the confirming one runs, when the Schedule's input does not say. */
export const DEFAULT_HEALTH_RECHECK_AFTER = '30 seconds';

/**
 * Health-check reads are cheap and safe to repeat: short timeouts, a few attempts. A check that cannot run is
 * retried by the next scheduled run anyway.
 */
export const HEALTH_CHECK_READ: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 3 },
};
