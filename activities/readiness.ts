import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { SecretRef } from '../workflows/definitions';
import { ErrorType, StepId } from '../workflows/definitions';
import type { SalesforceClients } from '../salesforce/clients';
import { asSalesforceStep } from '../salesforce/errors';

export interface ReadinessInput {
  loginUrl: string;
  consumerKey: string;
  username: string;
  privateKey: SecretRef;
  probeObject: string;
}

/**
 * What Salesforce answers while a new app propagates (it says 2 to 10 minutes): the consumer key is unknown, or the
 * pre-authorization is not visible yet. These mean "not yet", not "wrong".
 */
function isPropagationError(err: unknown): boolean {
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'invalid_client_id') return true;
  if (name === 'invalid_app_access') return true;
  return name === 'invalid_grant' && /approved|not admin approved/i.test(message);
}

/**
 * How `awaitReadiness` probes: every `intervalMs` within one attempt of at most `windowMs`; then the attempt ends "not
 * ready yet" and the next starts `intervalMs` later. The defaults notice an app within 3 s of it becoming usable; one
 * attempt covers the 2-10 minutes Salesforce takes in at most two.
 */
export interface ReadinessPolling {
  intervalMs: number;
  windowMs: number;
}

export const DEFAULT_READINESS_POLLING: ReadinessPolling = { intervalMs: 3_000, windowMs: 5 * 60_000 };

function notReady(err: unknown, nextRetryDelayMs?: number): ApplicationFailure {
  return ApplicationFailure.create({
    type: ErrorType.notReady,
    message: `Salesforce is still propagating the app: ${(err as Error).message}`,
    nonRetryable: false,
    category: 'BENIGN',
    ...(nextRetryDelayMs !== undefined ? { nextRetryDelay: nextRetryDelayMs } : {}),
  });
}

export function createReadinessActivities({
  clients,
  readinessPolling = DEFAULT_READINESS_POLLING,
}: {
  clients: SalesforceClients;
  readinessPolling?: ReadinessPolling;
}) {
  /** One probe: a token and a query as the integration user; a propagation refusal is "not yet", returned as such. */
  async function probe(input: ReadinessInput): Promise<{ instanceUrl: string } | { notYet: unknown }> {
    const step = StepId.readiness;
    return asSalesforceStep(step, async () => {
      let token;
      try {
        token = await clients.requestAgentToken({ ...input, step });
      } catch (err) {
        if (!isPropagationError(err)) throw err;
        return { notYet: err };
      }
      await clients.agentConnection(token).query(`SELECT Id FROM ${input.probeObject} LIMIT 1`);
      return { instanceUrl: token.instance_url };
    });
  }

  return {
    /**
     * Waits in one activity until the connection works end to end, probing every few seconds (a token by the JWT
     * bearer flow and a query on a granted object) and heartbeating, so that the wait is noticed within seconds of
     * Salesforce making the app usable. An attempt that sees no usable app within its window ends with a retryable
     * ConnectionNotReady, and the next begins right after; the operation's readiness timeout bounds them all.
     * Temporal bills an attempt and the heartbeats that reach it (the SDK sends one every 144 s here), not the
     * probes: a five-minute wait costs 4 Actions, where retries backed off to a minute cost 13.
     */
    async awaitReadiness(input: ReadinessInput): Promise<{ instanceUrl: string }> {
      const context = Context.current();
      const { intervalMs, windowMs } = readinessPolling;
      const started = Date.now();
      for (let probes = 1; ; probes += 1) {
        const result = await probe(input);
        if ('instanceUrl' in result) return result;
        if (Date.now() - started + intervalMs > windowMs) throw notReady(result.notYet, intervalMs);
        context.heartbeat({ probes });
        await context.sleep(intervalMs);
      }
    },

    /**
     * The readiness probe of operations started before `awaitReadiness` (one probe per attempt): throws a retryable
     * ConnectionNotReady while Salesforce propagates the new app; the retry policy turns that into a backed-off wait.
     */
    async checkReadiness(input: ReadinessInput): Promise<{ instanceUrl: string }> {
      const result = await probe(input);
      if ('notYet' in result) throw notReady(result.notYet);
      return result;
    },
  };
}
