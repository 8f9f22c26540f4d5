import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { pollUntil } from './poll';

/** One request the receiver got: the Standard Webhooks headers, whether the signature verified, what it answered. */
export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  verified: boolean;
  answered: number;
  body: { type: string; timestamp: string; data: Record<string, unknown> & { tenantId?: string } };
}

/**
 * A local webhook receiver that verifies every request with the Standard Webhooks library, as an integrator's
 * would, and answers 500 to the next `failNext` requests.
 */
export class WebhookReceiver {
  readonly requests: ReceivedWebhook[] = [];
  failNext = 0;
  private readonly server: http.Server;
  private readonly verifier: Webhook;

  private constructor(readonly secret: string) {
    this.verifier = new Webhook(secret);
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const headers = {
          'webhook-id': String(req.headers['webhook-id'] ?? ''),
          'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
          'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
        };
        let verified = true;
        try {
          this.verifier.verify(raw, headers);
        } catch {
          verified = false;
        }
        const answered = !verified ? 400 : this.failNext > 0 ? 500 : 204;
        if (answered === 500) this.failNext -= 1;
        this.requests.push({
          id: headers['webhook-id'],
          timestamp: headers['webhook-timestamp'],
          verified,
          answered,
          body: JSON.parse(raw) as ReceivedWebhook['body'],
        });
        res.writeHead(answered).end();
      });
    });
  }

  static async start(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(
      `whsec_${Buffer.from('agent-connections webhook test key!!').toString('base64')}`,
    );
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  /** The events delivered (answered 2xx) about one tenant, deduplicated by webhook-id, in order. */
  delivered(tenantId: string): ReceivedWebhook[] {
    const seen = new Set<string>();
    return this.requests.filter((r) => {
      if (r.answered >= 300 || r.body.data.tenantId !== tenantId || seen.has(r.id)) return false;
      seen.add(r.id);
      return true;
    });
  }

  /** Waits until `done` holds for the tenant's delivered events; returns them. */
  async waitFor(
    tenantId: string,
    done: (events: ReceivedWebhook[]) => boolean,
    timeoutMs = 30_000,
  ): Promise<ReceivedWebhook[]> {
    return pollUntil(() => this.delivered(tenantId), done, {
      what: `webhooks for ${tenantId}`,
      timeoutMs,
      intervalMs: 100,
      describe: (events) => events.map((e) => e.body.type),
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
