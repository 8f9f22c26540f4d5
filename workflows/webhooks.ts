/**
 * Connection events as Standard Webhooks messages (https://www.standardwebhooks.com): what the connection workflow
 * announces, and the workflow that delivers them. Workflow code: no I/O; the activity signs and sends.
 *
 * Delivery runs in a child workflow per batch of events, started with ParentClosePolicy ABANDON and never awaited by
 * the connection: a receiver that is down (retried for up to 3 days) never delays an operation, an update's
 * admission, a continue-as-new or the connection's end. A queue drained by the connection's own run loop would
 * have done the same only by carrying the undelivered events across every continue-as-new and keeping an idle
 * connection open while a receiver is down.
 */
import {
  ParentClosePolicy,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ConnectionState, ConnectionStatus, Crm, OperationRecord } from './definitions';
import { PRIORITY, SEARCH_ATTRIBUTES, sagaTaskQueueOf } from './definitions';
import type { ConnectionEventType, OperationEventData, WebhookDeliveryInput, WebhookEvent } from './webhook-events';

/** Connections started before webhooks replay without the delivery children. */
export const WEBHOOK_EVENTS_PATCH = 'webhook-events';

/** The statuses announced: where a connection rests. Transitions (enabling, disabling, reconnecting) are not. */
const ANNOUNCED_STATUSES = new Set<ConnectionStatus>([
  'enabled',
  'error',
  'needs_reconnect',
  'rollback_incomplete',
  'disabled',
]);

const WORKING = new Set<ConnectionStatus>(['enabled', 'needs_reconnect']);

/**
 * A receiver that is down gets the event again for up to 3 days: 1 s after the first failure, doubling to at most
 * 10 minutes between attempts. Each attempt is signed anew (the receiver's timestamp tolerance is 5 minutes) under
 * the same `webhook-id`.
 */
const delivery = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '3 days',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

/** Whether this worker sends webhooks (WEBHOOK_URL): asked at each announcement, so a redeploy takes effect at once. */
const settings = proxyLocalActivities<Activities>({
  startToCloseTimeout: '5 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
});

/** The child workflow that delivers one batch of a connection's events, in order. */
export async function deliverWebhooks(input: WebhookDeliveryInput): Promise<number> {
  let delivered = 0;
  for (const event of input.events) {
    if ((await delivery.deliverWebhook(event)).delivered) delivered += 1;
  }
  return delivered;
}

/** The workflow id of a batch's delivery: `webhook:<tenant>:<crm>:<first event's id>`. */
export function webhookWorkflowId(tenantId: string, crm: Crm, eventId: string): string {
  return `webhook:${tenantId}:${crm}:${eventId}`;
}

/**
 * What the connection workflow announces, and the deliveries it started. Event ids are the run id and the event's
 * sequence number in the run: the same on replay, unique across continue-as-new and new runs of the same workflow id.
 */
export class ConnectionAnnouncer {
  private lastStatus: ConnectionStatus | undefined;
  private sequence = 0;
  private pending: Promise<void>[] = [];
  /** Deliveries whose start the server has not confirmed yet. */
  starting = 0;

  constructor(state: ConnectionState) {
    this.lastStatus = ANNOUNCED_STATUSES.has(state.status) ? state.status : undefined;
  }

  /** Announces a finished operation, and the connection's status when it came to rest on a new one. */
  announce(state: ConnectionState, finished?: OperationRecord): void {
    const events: WebhookEvent[] = [];
    const at = new Date().toISOString();
    if (finished) {
      events.push({
        id: this.nextId(),
        type: 'operation.finished',
        timestamp: at,
        data: { tenantId: state.tenantId, crm: state.crm, operation: operationSummary(finished) },
      });
    }
    const previous = this.lastStatus;
    if (ANNOUNCED_STATUSES.has(state.status) && state.status !== previous) {
      this.lastStatus = state.status;
      if (previous !== undefined) {
        const recovered = previous === 'error' && WORKING.has(state.status);
        events.push({
          id: this.nextId(),
          type: (recovered ? 'connection.recovered' : `connection.${state.status}`) as ConnectionEventType,
          timestamp: at,
          data: {
            tenantId: state.tenantId,
            crm: state.crm,
            status: state.status,
            previousStatus: previous,
            statusMessage: state.statusMessage,
            lastError: state.lastError,
            operationId: finished?.id,
          },
        });
      }
    }
    if (events.length === 0 || !patched(WEBHOOK_EVENTS_PATCH)) return;
    this.starting += 1;
    this.pending.push(
      this.deliver(state.tenantId, state.crm, events)
        .catch((err: unknown) =>
          log.warn('could not start a webhook delivery', { eventId: events[0]?.id, error: String(err) }),
        )
        .finally(() => {
          this.starting -= 1;
        }),
    );
  }

  /** Resolves once every delivery started so far has started: a run must not end before (continue-as-new). */
  async started(): Promise<void> {
    const pending = this.pending;
    this.pending = [];
    await Promise.all(pending);
  }

  private nextId(): string {
    this.sequence += 1;
    return `evt_${workflowInfo().runId}_${this.sequence}`;
  }

  /** Starts the delivery child, unless this worker sends no webhooks; resolves once the server started it. */
  private async deliver(tenantId: string, crm: Crm, events: WebhookEvent[]): Promise<void> {
    if (!(await settings.webhooksConfigured())) return;
    const first = events[0] as WebhookEvent;
    // On the service's queue, as background work: the connection queue's slots are for admission.
    const taskQueue = sagaTaskQueueOf(workflowInfo().taskQueue);
    await startChild(deliverWebhooks, {
      workflowId: webhookWorkflowId(tenantId, crm, first.id),
      ...(taskQueue ? { taskQueue } : {}),
      priority: { priorityKey: PRIORITY.background },
      args: [{ events }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `Webhook ${events.map((e) => e.type).join(', ')} of tenant ${tenantId}`,
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTES.tenantId, value: tenantId },
        { key: SEARCH_ATTRIBUTES.crm, value: crm },
      ],
    });
  }
}

function operationSummary(record: OperationRecord): OperationEventData['operation'] {
  return {
    id: record.id,
    kind: record.kind,
    status: record.status,
    startedAt: record.startedAt,
    endedAt: record.endedAt,
    stepsDone: record.stepsDone,
    stepsCompensated: record.stepsCompensated,
    failure: record.failure,
    remaining: record.remaining,
  };
}
