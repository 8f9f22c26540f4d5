import type { ConnectionState, Crm, OperationRecord } from '../workflows/definitions';
import { initialConnectionState as initialState } from '../workflows/connection-state';
import type { ConnectionView, OperationView } from './schemas';

export function connectionPath(tenantId: string, crm: Crm): string {
  return `/v1/tenants/${tenantId}/connections/${crm}`;
}

export function operationPath(tenantId: string, crm: Crm, operationId: string): string {
  return `${connectionPath(tenantId, crm)}/operations/${operationId}`;
}

/** What a connection whose workflow never started looks like: off for Salesforce, natively on for Dynamics 365. */
export function initialConnectionState(tenantId: string, crm: Crm): ConnectionState {
  return initialState(tenantId, crm, new Date(0).toISOString());
}

export function operationView(tenantId: string, crm: Crm, record: OperationRecord): OperationView {
  const self = operationPath(tenantId, crm, record.id);
  return {
    id: record.id,
    kind: record.kind,
    status: record.status,
    workflowId: record.workflowId,
    startedAt: record.startedAt,
    endedAt: record.endedAt,
    currentStep: record.currentStep,
    progress: { done: record.stepsDone.length, total: record.currentStep?.total },
    stepsDone: record.stepsDone,
    stepsCompensated: record.stepsCompensated,
    failure: record.failure,
    remaining: record.remaining?.map(({ kind, name, id }) => ({ kind, name, id })),
    links: {
      self,
      connection: connectionPath(tenantId, crm),
      cancel: record.status === 'running' ? `${self}/cancel` : undefined,
    },
  };
}

/** The connection as the API shows it: no secret references, no request hashes. */
export function connectionView(state: ConnectionState): ConnectionView {
  const { tenantId, crm } = state;
  const base = connectionPath(tenantId, crm);
  const details = state.details;
  // Only a working connection can lack fields; after a failure the error, not the old diff, is what to act on.
  const needsReconnect = state.status === 'needs_reconnect' ? state.needsReconnect : undefined;
  return {
    tenantId,
    crm,
    status: state.status,
    statusMessage: state.statusMessage,
    currentOperation: state.currentOperation ? operationView(tenantId, crm, state.currentOperation) : undefined,
    details: details && {
      appKind: details.appKind,
      appLabel: details.appLabel,
      appApiName: details.appApiName,
      integrationUserId: details.integrationUserId,
      integrationUsername: details.integrationUsername,
      permissionSetId: details.permissionSetId,
      permissionSetName: details.permissionSetName,
      orgId: details.orgId,
      loginUrl: details.loginUrl,
      instanceUrl: details.instanceUrl,
      certificateExpiresAt: details.certificateExpiresAt,
      createdAt: details.createdAt,
    },
    grantedObjects: details?.grantedObjects ?? [],
    agentConfiguration: state.agentConfiguration,
    lastError: state.lastError,
    needsReconnect: Boolean(needsReconnect),
    needsReconnectReason: needsReconnect?.reason,
    missingFields: needsReconnect?.missingFields ?? [],
    leftovers: state.leftovers.map(({ kind, name, id }) => ({ kind, name, id })),
    health: state.health && {
      checkedAt: state.health.checkedAt,
      ok: state.health.ok,
      problems: state.health.problems.map(({ kind, message, fix, drift }) => ({ kind, message, fix, drift })),
    },
    updatedAt: state.updatedAt,
    links: {
      self: base,
      operations: `${base}/operations`,
      enable: `${base}/enable`,
      disable: `${base}/disable`,
      reconnect: `${base}/reconnect`,
      rotateCertificate: `${base}/rotate-certificate`,
      updateAccess: `${base}/update-access`,
      currentOperation: state.currentOperation ? operationPath(tenantId, crm, state.currentOperation.id) : undefined,
    },
  };
}
