import { ApplicationFailure } from '@temporalio/common';
import { log } from '@temporalio/activity';
import { Webhook } from 'standardwebhooks';
import type { WebhookEvent } from '../workflows/webhook-events';

/** Where connection events go (WEBHOOK_URL) and the key that signs them (WEBHOOK_SECRET, `whsec_<base64>`). */
export interface WebhookSettings {
  url: string;
  secret: string;
  /** How long one attempt may take. */
  timeoutMs?: number;
}

export const WEBHOOK_DELIVERY_FAILED = 'WebhookDeliveryFailed';

/**
 * Sends one event as a Standard Webhooks message: the JSON body `{ type, timestamp, data }`, signed with the
 * specification's own library over `webhook-id`, `webhook-timestamp` (now: every attempt is signed anew) and the
 * body. Any answer but 2xx, or none, fails the attempt and Temporal retries it with the same id. Without WEBHOOK_URL
 * nothing is sent.
 */
export function createWebhookActivities(settings: WebhookSettings | undefined) {
  const signer = settings ? new Webhook(settings.secret) : undefined;
  return {
    /** Whether webhooks are sent at all: the connection workflow starts no delivery without. */
    webhooksConfigured(): Promise<boolean> {
      return Promise.resolve(settings !== undefined);
    },

    async deliverWebhook(event: WebhookEvent): Promise<{ delivered: boolean }> {
      if (!settings || !signer) return { delivered: false };
      const body = JSON.stringify({ type: event.type, timestamp: event.timestamp, data: event.data });
      const now = new Date();
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'agent-connections-webhooks',
        'webhook-id': event.id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signer.sign(event.id, now, body),
      };
      let status: number;
      try {
        const response = await fetch(settings.url, {
          method: 'POST',
          headers,
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(settings.timeoutMs ?? 15_000),
        });
        status = response.status;
        await response.body?.cancel();
      } catch (err) {
        throw ApplicationFailure.retryable(
          `The webhook receiver did not answer: ${err instanceof Error ? err.message : String(err)}`,
          WEBHOOK_DELIVERY_FAILED,
        );
      }
      if (status < 200 || status > 299) {
        throw ApplicationFailure.retryable(`The webhook receiver answered ${status}.`, WEBHOOK_DELIVERY_FAILED);
      }
      log.info('webhook delivered', { eventId: event.id, type: event.type, status });
      return { delivered: true };
    },
  };
}
