import { ParentClosePolicy, executeChild, workflowInfo } from '@temporalio/workflow';
import type {
  ConnectionDetails,
  ConnectionState,
  DisableSagaInput,
  EnableSagaInput,
  OperationKind,
  OperationRecord,
  OperationRequests,
  SalesforceTarget,
} from './definitions';
import { PRIORITY, SEARCH_ATTRIBUTES, orgFairnessKey, sagaTaskQueueOf } from './definitions';
import { isNativelyConnected } from './connection-state';
import { describeOperationSteps } from './readable';
import { disableConnection } from './disable-connection';
import { enableConnection } from './enable-connection';
import { reconnectConnection } from './reconnect-connection';
import { rotateCertificate } from './rotate-certificate';
import { updateAccess } from './update-access';

/** What an operation's run returns: the connection's new details, or nothing when it has none (disable). */
export type RunResult = ConnectionDetails | void;

/** Starts an accepted operation's saga as a child of the connection and waits for it. */
type Start<K extends OperationKind> = (
  state: ConnectionState,
  record: OperationRecord,
  request: OperationRequests[K],
) => Promise<RunResult>;

const SUMMARIES: Record<OperationKind, (tenantId: string) => string> = {
  enable: (t) => `Enable Salesforce access for tenant ${t}`,
  disable: (t) => `Disable Salesforce access for tenant ${t}`,
  reconnect: (t) => `Reconnect Salesforce access for tenant ${t}`,
  rotate_certificate: (t) => `Rotate the JWT certificate of tenant ${t}`,
  update_access: (t) => `Update the Salesforce access of tenant ${t}`,
};

/** Rotations yield to what an admin waits for (the health check starts most of them). */
const PRIORITY_OF: Record<OperationKind, number> = {
  enable: PRIORITY.adminOperation,
  disable: PRIORITY.adminOperation,
  reconnect: PRIORITY.adminOperation,
  update_access: PRIORITY.adminOperation,
  rotate_certificate: PRIORITY.background,
};

/**
 * Where and how the saga runs: on the service's queue (the connection's own queue admits operations only), at its
 * kind's priority (a fleet's run at the fleet's), fair per org. Its activities and children inherit the priority and the fairness key.
 */
function placement(state: ConnectionState, record: OperationRecord) {
  const taskQueue = sagaTaskQueueOf(workflowInfo().taskQueue);
  const fairnessKey = orgFairnessKey(state.details, state.target);
  return {
    ...(taskQueue ? { taskQueue } : {}),
    priority: { priorityKey: record.priorityKey ?? PRIORITY_OF[record.kind], ...(fairnessKey ? { fairnessKey } : {}) },
  };
}

function childOptions(state: ConnectionState, record: OperationRecord) {
  return {
    ...placement(state, record),
    workflowId: record.workflowId,
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    staticSummary: SUMMARIES[record.kind](state.tenantId),
    staticDetails: describeOperationSteps(record.kind),
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTES.tenantId, value: state.tenantId },
      { key: SEARCH_ATTRIBUTES.crm, value: state.crm },
      { key: SEARCH_ATTRIBUTES.operation, value: record.kind },
    ],
  };
}

function enableInput(
  state: ConnectionState,
  operationId: string,
  target: SalesforceTarget,
  request: Partial<Pick<EnableSagaInput, 'appKind' | 'agentName' | 'agentConfiguration' | 'readinessTimeout'>>,
): EnableSagaInput {
  return {
    tenantId: state.tenantId,
    operationId,
    parentWorkflowId: workflowInfo().workflowId,
    target,
    appKind: request.appKind ?? state.appKind ?? 'external_client_app',
    agentName: request.agentName ?? state.agentName,
    agentConfiguration: request.agentConfiguration ?? state.agentConfiguration ?? { objects: [] },
    readinessTimeout: request.readinessTimeout ?? state.readinessTimeout,
  };
}

function disableInput(state: ConnectionState, operationId: string, target: SalesforceTarget): DisableSagaInput {
  return {
    tenantId: state.tenantId,
    operationId,
    parentWorkflowId: workflowInfo().workflowId,
    target,
    agentName: state.agentName,
    details: state.details,
    leftovers: state.leftovers,
  };
}

/**
 * The connection now works on `target`. Admin credentials the service stored for the previous target and that this
 * one replaces are listed to be removed once the operation ends.
 */
function replaceTarget(state: ConnectionState, target: SalesforceTarget): void {
  const previous = state.target;
  if (
    previous?.credentialsOwnedByService &&
    previous.adminCredentials.secretRef !== target.adminCredentials.secretRef
  ) {
    state.supersededCredentials = [...(state.supersededCredentials ?? []), previous.adminCredentials];
  }
  state.target = target;
}

/** The target an admitted operation works on; admission has made sure there is one. */
function targetOf(state: ConnectionState, request?: { target?: SalesforceTarget }): SalesforceTarget {
  const target = request?.target ?? state.target;
  if (!target) throw new Error(`Connection ${state.tenantId}/${state.crm} has no Salesforce target.`);
  return target;
}

const START: { [K in OperationKind]: Start<K> } = {
  enable: (state, record, request) => {
    if (isNativelyConnected(state.crm)) return Promise.resolve();
    replaceTarget(state, request.target);
    state.appKind = request.appKind;
    if (request.agentName) state.agentName = request.agentName;
    if (request.agentConfiguration) state.agentConfiguration = request.agentConfiguration;
    return executeChild(enableConnection, {
      ...childOptions(state, record),
      args: [enableInput(state, record.id, request.target, request)],
    });
  },
  disable: async (state, record, request) => {
    if (!state.target) return;
    const target: SalesforceTarget = request.adminCredentials
      ? {
          ...state.target,
          adminCredentials: request.adminCredentials,
          credentialsOwnedByService: request.credentialsOwnedByService,
        }
      : state.target;
    replaceTarget(state, target);
    await executeChild(disableConnection, {
      ...childOptions(state, record),
      args: [disableInput(state, record.id, target)],
    });
  },
  reconnect: async (state, record, request) => {
    const target = targetOf(state, request);
    replaceTarget(state, target);
    if (request.appKind) state.appKind = request.appKind;
    const details = await executeChild(reconnectConnection, {
      ...childOptions(state, record),
      args: [
        {
          disable: disableInput(state, record.id, target),
          enable: enableInput(state, record.id, target, request),
          strategy: record.strategy,
        },
      ],
    });
    // A configuration sent with the request becomes the connection's once it is granted: a reconnect refused by its
    // checks leaves the one that works.
    if (request.agentConfiguration) state.agentConfiguration = request.agentConfiguration;
    return details;
  },
  rotate_certificate: (state, record, request) => {
    const details = state.details;
    if (!details) throw new Error(`Connection ${state.tenantId}/${state.crm} has no certificate to rotate.`);
    return executeChild(rotateCertificate, {
      ...childOptions(state, record),
      args: [
        {
          tenantId: state.tenantId,
          operationId: record.id,
          parentWorkflowId: workflowInfo().workflowId,
          target: targetOf(state),
          details,
          probeObject: details.probeObject ?? details.grantedObjects[0]?.object ?? 'Account',
          readinessTimeout: request.readinessTimeout ?? state.readinessTimeout,
        },
      ],
    });
  },
  update_access: async (state, record, request) => {
    const details = state.details;
    if (!details) throw new Error(`Connection ${state.tenantId}/${state.crm} is not established.`);
    const agentConfiguration = request.agentConfiguration ?? state.agentConfiguration ?? { objects: [] };
    const updated = await executeChild(updateAccess, {
      ...childOptions(state, record),
      args: [
        {
          tenantId: state.tenantId,
          operationId: record.id,
          parentWorkflowId: workflowInfo().workflowId,
          target: targetOf(state),
          details,
          agentConfiguration,
        },
      ],
    });
    state.agentConfiguration = agentConfiguration;
    return updated;
  },
};

/** Runs an admitted operation of any kind. */
export function startOperation<K extends OperationKind>(
  state: ConnectionState,
  record: OperationRecord,
  request: OperationRequests[K],
): Promise<RunResult> {
  return (START[record.kind as K] as Start<K>)(state, record, request);
}
