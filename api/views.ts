import type { ConnectionDetails, ConnectionState, Crm, OperationRecord } from '../workflows/definitions';
import { componentLabels } from '../workflows/naming';
import { initialConnectionState as initialState } from '../workflows/connection-state';
import { operationSteps } from './live-progress';
import type { ConnectionView, OperationView } from './schemas';

export function connectionPath(tenantId: string, crm: Crm): string {
  return `/v1/tenants/${tenantId}/connections/${crm}`;
}

export function operationPath(tenantId: string, crm: Crm, operationId: string): string {
  return `${connectionPath(tenantId, crm)}/operations/${operationId}`;
}

const NEVER = new Date(0).toISOString();

/** The permission set's label: a make-before-break reconnect's generation suffix is the app label's too. */
function permissionSetLabelOf(agentName: string, appLabel: string): string {
  const base = componentLabels(agentName);
  const suffix = appLabel.startsWith(base.appLabel) ? appLabel.slice(base.appLabel.length) : '';
  return `${base.permissionSetLabel}${suffix}`;
}

/** What a connection whose workflow never started looks like: off for Salesforce, natively on for Dynamics 365. */
export function initialConnectionState(tenantId: string, crm: Crm): ConnectionState {
  return initialState(tenantId, crm, NEVER);
}

/**
 * Where an admin finds each component in Salesforce Setup (Lightning Experience). The instance URL redirects to the
 * org's Lightning domain. Users and permission sets open on their own page; an External Client App opens in the
 * External Client App Manager, a Connected App in App Manager, where its policies and certificate are.
 */
export function setupLinks(details: ConnectionDetails): NonNullable<ConnectionView['details']>['setupLinks'] {
  const setup = `${details.instanceUrl.replace(/\/+$/, '')}/lightning/setup`;
  const page = (node: string, address: string) => `${setup}/${node}/page?address=${encodeURIComponent(address)}`;
  const app =
    details.appKind === 'connected_app'
      ? details.appId
        ? page('ConnectedApplication', `/${details.appId}`)
        : `${setup}/NavigationMenus/home`
      : `${setup}/ManageExternalClientApplication/home`;
  return {
    app,
    integrationUser: page('ManageUsers', `/${details.integrationUserId}?noredirect=1&isUserEntityOverride=1`),
    permissionSet: page('PermSets', `/${details.permissionSetId}`),
    certificate: app,
  };
}

/**
 * Steps done out of the operation's steps: while it runs, those before the current one (so that "done" never passes
 * "total"); once it succeeded, all of them.
 */
/** The operation's steps in order, when they are the ones its current step is counted among. */
function stepsOf(record: OperationRecord): string[] | undefined {
  const steps = operationSteps(record.kind);
  return !record.currentStep || record.currentStep.total === steps.length ? steps : undefined;
}

function progressOf(record: OperationRecord): { done: number; total?: number } {
  const step = record.currentStep;
  if (!step) return { done: record.stepsDone.length };
  if (record.status === 'succeeded') return { done: step.total, total: step.total };
  return { done: Math.min(Math.max(step.index - 1, 0), step.total), total: step.total };
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
    progress: progressOf(record),
    steps: stepsOf(record),
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
      appId: details.appId,
      consumerKey: details.consumerKey,
      integrationUserId: details.integrationUserId,
      integrationUsername: details.integrationUsername,
      integrationUserName: componentLabels(state.agentName).userLastName,
      permissionSetId: details.permissionSetId,
      permissionSetName: details.permissionSetName,
      permissionSetLabel: permissionSetLabelOf(state.agentName, details.appLabel),
      setupLinks: setupLinks(details),
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
    // A connection whose workflow never started was never updated: no date rather than the epoch.
    updatedAt: state.updatedAt === NEVER ? undefined : state.updatedAt,
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
