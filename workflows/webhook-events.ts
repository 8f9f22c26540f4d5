/** The connection events sent as Standard Webhooks messages: the contract with receivers. Types only. */
import type {
  ComponentRef,
  ConnectionError,
  ConnectionStatus,
  Crm,
  OperationKind,
  OperationStatus,
} from './definitions';

export type WebhookEventType =
  | 'connection.enabled'
  | 'connection.error'
  | 'connection.needs_reconnect'
  | 'connection.rollback_incomplete'
  | 'connection.disabled'
  | 'connection.recovered'
  | 'operation.finished';

export type ConnectionEventType = Exclude<WebhookEventType, 'operation.finished'>;

export interface ConnectionEventData {
  tenantId: string;
  crm: Crm;
  status: ConnectionStatus;
  previousStatus: ConnectionStatus;
  statusMessage: string;
  lastError?: ConnectionError;
  /** The operation that changed the status, when one did (a health check changes it by itself). */
  operationId?: string;
}

export interface OperationEventData {
  tenantId: string;
  crm: Crm;
  operation: {
    id: string;
    kind: OperationKind;
    status: OperationStatus;
    startedAt: string;
    endedAt?: string;
    stepsDone: string[];
    stepsCompensated: string[];
    failure?: ConnectionError;
    remaining?: ComponentRef[];
  };
}

/**
 * One message: `id` is its `webhook-id`, the same on every attempt (receivers deduplicate by it); `type`,
 * `timestamp` (when it happened) and `data` are the JSON body, as the specification lays it out.
 */
export type WebhookEvent =
  | { id: string; type: ConnectionEventType; timestamp: string; data: ConnectionEventData }
  | { id: string; type: 'operation.finished'; timestamp: string; data: OperationEventData };

export interface WebhookDeliveryInput {
  events: WebhookEvent[];
}
