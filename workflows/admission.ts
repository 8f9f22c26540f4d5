/**
 * Which operation a connection accepts, and why it refuses the others: pure rules over the connection's state, run
 * by the connection workflow's update validators (so Temporal serialises operations per tenant) and readable by the
 * API, which answers from the same rules.
 */
import type {
  AgentConfiguration,
  ConnectionState,
  OperationAccepted,
  OperationKind,
  OperationRequests,
} from './definitions';
import { ErrorType } from './definitions';
import { findOperation, holdsNothing, isNativelyConnected } from './connection-state';

/** Why an operation is refused: the failure type the API maps to a status, a message, and what it names. */
export interface Refusal {
  type: string;
  message: string;
  details?: Record<string, unknown>;
}

type Rule<K extends OperationKind> = (state: ConnectionState, request: OperationRequests[K]) => Refusal | undefined;

const rejected = (message: string): Refusal => ({ type: ErrorType.operationRejected, message });

/** Dynamics 365 Sales is connected natively: enabling it is a no-op, anything else has nothing to act on. */
export function nativeConnectionRefusal(kind: OperationKind): Refusal | undefined {
  switch (kind) {
    case 'enable':
      return undefined;
    case 'rotate_certificate':
      return rejected('Dynamics 365 Sales has no certificate to rotate.');
    case 'update_access':
      return rejected('Dynamics 365 Sales is connected natively; the agent reads with the user’s own access.');
    default:
      return rejected(`Dynamics 365 Sales is connected natively; there is nothing to ${kind}.`);
  }
}

export function configurationRefusal(config: AgentConfiguration | undefined): Refusal | undefined {
  return !config || config.objects.length === 0
    ? rejected(
        'The agent configuration names no object to read: set it (PUT agent-configuration) or send it with the request.',
      )
    : undefined;
}

/** The rules of each operation kind, checked once the connection is known to be idle. */
const RULES: { [K in OperationKind]: Rule<K> } = {
  enable: (state, request) => {
    if (state.details) return rejected('The connection is already enabled; select Reconnect to recreate it.');
    if (state.leftovers.length > 0) {
      return rejected(
        'Components of an earlier operation remain in Salesforce; select Reconnect or disable to clean them up.',
      );
    }
    return configurationRefusal(request.agentConfiguration ?? state.agentConfiguration);
  },
  // Without a target there is no org to reach: a disable has nothing to remove, and starts nothing.
  disable: (state) =>
    holdsNothing(state)
      ? {
          type: ErrorType.nothingToDisable,
          message: 'Access is already off: the connection holds nothing in Salesforce, so there is nothing to disable.',
        }
      : undefined,
  reconnect: (state, request) => {
    if (!request.target && !state.target)
      return rejected('This connection was never enabled (or was disabled since): enable it first.');
    return configurationRefusal(request.agentConfiguration ?? state.agentConfiguration);
  },
  rotate_certificate: (state) =>
    !state.details || !state.target
      ? rejected('The connection is not established: there is no certificate to rotate.')
      : undefined,
  update_access: (state, request) => {
    if (!state.details || !state.target) {
      return rejected('The connection is not established: enable it, with the objects and fields the agent reads.');
    }
    return configurationRefusal(request.agentConfiguration ?? state.agentConfiguration);
  },
};

/** The operation another request with this id already started, if any: retries and Idempotency-Keys land here. */
export function previouslyAccepted(
  state: ConnectionState,
  kind: OperationKind,
  request: { operationId: string; requestHash?: string },
): OperationAccepted | Refusal | undefined {
  const existing = findOperation(state, request.operationId);
  if (!existing) return undefined;
  if (
    existing.kind !== kind ||
    (request.requestHash && existing.requestHash && existing.requestHash !== request.requestHash)
  ) {
    return {
      type: ErrorType.idempotencyKeyReused,
      message: `Operation ${request.operationId} was requested before with a different request (${existing.kind}).`,
      details: { operationId: existing.id, kind: existing.kind },
    };
  }
  return { operationId: existing.id, kind: existing.kind, workflowId: existing.workflowId };
}

export function isRefusal(value: OperationAccepted | Refusal | undefined): value is Refusal {
  return value !== undefined && 'type' in value;
}

/**
 * Whether the connection accepts a new operation of this kind now: one operation at a time, then the native CRM
 * rule, then the kind's own rules. A request seen before is not checked again (see previouslyAccepted).
 */
export function admissionRefusal<K extends OperationKind>(
  state: ConnectionState,
  kind: K,
  request: OperationRequests[K],
): Refusal | undefined {
  const running = state.currentOperation;
  if (running) {
    return {
      type: ErrorType.operationInProgress,
      message: `Operation ${running.id} (${running.kind}) is running for this connection; wait for it or cancel it.`,
      details: { operationId: running.id, kind: running.kind, workflowId: running.workflowId },
    };
  }
  if (isNativelyConnected(state.crm)) return nativeConnectionRefusal(kind);
  return RULES[kind](state, request);
}
