/**
 * The contracts shared by the API, the worker, the workflows and the tests: task queue, workflow IDs, messages,
 * search attributes, state and error types. No I/O here: workflow code imports it.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Duration, UpdateDefinition } from '@temporalio/common';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const CRMS = ['salesforce', 'dynamics365'] as const;
export type Crm = (typeof CRMS)[number];

/** Every status a connection can be in (the API's schemas list them from here). */
export const CONNECTION_STATUSES = [
  'disabled',
  'enabling',
  'enabled',
  'needs_reconnect',
  'error',
  'disabling',
  'reconnecting',
  'rollback_incomplete',
] as const;

export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

export type OperationKind = 'enable' | 'disable' | 'reconnect' | 'rotate_certificate' | 'update_access';
export type OperationStatus = 'running' | 'succeeded' | 'failed' | 'rollback_incomplete' | 'cancelled';

/** External Client App (the default since Spring '26) or a legacy Connected App where the org still allows it. */
export type AppKind = 'external_client_app' | 'connected_app';

/** A reference to a value in the secret store; workflow histories carry these, never the secrets. */
export interface SecretRef {
  secretRef: string;
}

export interface ObjectFieldSelection {
  object: string;
  fields: string[];
}

/** What the agent reads: exactly what the permission set grants, no more. */
export interface AgentConfiguration {
  objects: ObjectFieldSelection[];
}

export const DEFAULT_AGENT_NAME = 'Copilot for Sales';

/** Where and as whom the service provisions: the org and a reference to the admin's OAuth credentials. */
export interface SalesforceTarget {
  loginUrl: string;
  instanceUrl: string;
  adminCredentials: SecretRef;
  /**
   * The service stored these credentials (from tokens in a request): it removes them once they are superseded or the
   * connection is disabled. A reference the admin backend passed is the backend's, and stays.
   */
  credentialsOwnedByService?: boolean;
}

/** Every operation request carries an id (the API derives it from the Idempotency-Key) and a hash of its body. */
interface OperationRequest {
  operationId: string;
  /** Who asked, for the audit trail: the API key's id (never the key), the admin signed in with Salesforce. */
  requestedBy?: { apiKeyId?: string; salesforceUsername?: string };
  /** Hash of the request as the client sent it: the same id with another hash is refused (IdempotencyKeyReused). */
  requestHash?: string;
  /** The saga's Temporal priority when not its kind's: a fleet operation's run at PRIORITY.fleet. */
  priorityKey?: number;
}

export interface EnableRequest extends OperationRequest {
  target: SalesforceTarget;
  appKind: AppKind;
  agentName?: string;
  /** Overrides the agent configuration held by the connection for this operation. */
  agentConfiguration?: AgentConfiguration;
  /** Temporal duration, e.g. "15 minutes". */
  readinessTimeout?: string;
}

export interface DisableRequest extends OperationRequest {
  /** Fresh admin credentials; the ones recorded at enable are used when absent. */
  adminCredentials?: SecretRef;
  /** The service stored `adminCredentials` (see SalesforceTarget). */
  credentialsOwnedByService?: boolean;
}

export interface ReconnectRequest extends OperationRequest {
  target?: SalesforceTarget;
  appKind?: AppKind;
  agentConfiguration?: AgentConfiguration;
  readinessTimeout?: string;
  /**
   * The admin confirms that the current connection may be removed before the new one exists (the agent loses access
   * meanwhile): needed when the org has no spare integration license for a make-before-break overlap.
   */
  breakBeforeMake?: boolean;
  /** `auto` (default): repair a broken connection in place; `recreate`: recreate everything whatever its state. */
  mode?: 'auto' | 'recreate';
}

/**
 * How a reconnect replaces the connection: `make_before_break` creates the new components beside the working ones,
 * switches the agent to them and only then removes the old ones; `break_before_make` removes first (a connection
 * that does not work, or one the admin confirmed); `repair` mends only the broken parts of a connection that a
 * health check found broken (falling back to break before make when a part is gone for good).
 */
export type ReconnectStrategy = 'make_before_break' | 'break_before_make' | 'repair';

/** Sent by a make-before-break reconnect to its connection: the agent now uses these details; these old parts remain. */
export interface AccessSwitch {
  operationId: string;
  details?: ConnectionDetails;
  /** Old components the reconnect could not remove once the new ones worked. */
  leftovers?: ComponentRef[];
  /** A repair's: the steps it ran (only those that mend what was broken). */
  stepsDone?: string[];
}

/** Grants the permission set exactly the configuration's objects and fields, in place. */
export interface UpdateAccessRequest extends OperationRequest {
  /** Replaces the agent configuration held by the connection; the held one is used when absent. */
  agentConfiguration?: AgentConfiguration;
}

export interface CancelRequest {
  operationId: string;
}

export interface RotateCertificateRequest extends OperationRequest {
  readinessTimeout?: string;
}

/** Names of everything one connection creates, derived from the agent's name, the org and the operation. */
export interface ComponentNames {
  appLabel: string;
  appApiName: string;
  permissionSetLabel: string;
  permissionSetName: string;
  userLastName: string;
  username: string;
  userAlias: string;
}

export interface ConnectionDetails {
  appKind: AppKind;
  appLabel: string;
  appApiName: string;
  appId?: string;
  consumerKey: string;
  integrationUserId: string;
  integrationUsername: string;
  permissionSetId: string;
  permissionSetName: string;
  grantedObjects: ObjectFieldSelection[];
  /** The FieldPermissions rows the permission set holds (`Object.Field`), for the drift check. */
  grantedFieldPermissions?: string[];
  /** A granted object the checks query as the integration user. */
  probeObject?: string;
  orgId: string;
  loginUrl: string;
  instanceUrl: string;
  privateKey: SecretRef;
  /**
   * During a certificate rotation, once the app holds the new certificate: the new key, which signs in while the
   * old one no longer does. Cleared when the rotation ends.
   */
  nextPrivateKey?: SecretRef;
  certificateExpiresAt: string;
  createdAt: string;
}

/** One Salesforce component the service created (or may have created); enough to find and remove it again. */
export interface ComponentRef {
  kind: 'permission_set' | 'integration_user' | 'user_access' | 'client_app' | 'signing_key';
  name: string;
  id?: string;
  appKind?: AppKind;
}

/** An error as an admin reads it: what happened, the Salesforce code, and what to do about it. */
export interface ConnectionError {
  type: string;
  salesforceCode?: string;
  /** Salesforce's own words, when it gave any (`message` is ours). */
  salesforceMessage?: string;
  message: string;
  fix: string;
  step?: string;
  at: string;
}

export interface StepProgress {
  step: string;
  title: string;
  /** 1-based position among the operation's steps. */
  index: number;
  total: number;
  startedAt: string;
}

export interface OperationRecord {
  id: string;
  kind: OperationKind;
  requestHash?: string;
  status: OperationStatus;
  workflowId: string;
  startedAt: string;
  endedAt?: string;
  currentStep?: StepProgress;
  stepsDone: string[];
  stepsCompensated: string[];
  failure?: ConnectionError;
  /** Components left in the org when a rollback or a disable could not finish. */
  remaining?: ComponentRef[];
  /** A reconnect's strategy, chosen when it is accepted. */
  strategy?: ReconnectStrategy;
  /** The saga's Temporal priority when not its kind's (a fleet operation's). */
  priorityKey?: number;
}

/** One finding of the periodic health check. */
export interface HealthProblem {
  kind:
    | 'login_failed'
    | 'query_failed'
    | 'user_inactive'
    | 'user_missing'
    | 'app_missing'
    | 'app_policy_changed'
    | 'permission_missing'
    | 'assignment_missing'
    | 'extra_permission'
    | 'certificate_expiring';
  message: string;
  fix: string;
  /** Drift: Salesforce differs from what the service created, but the connection still works. */
  drift: boolean;
}

export interface HealthReport {
  checkedAt: string;
  ok: boolean;
  problems: HealthProblem[];
  certificateExpiresAt?: string;
  /**
   * Set by the check when the report would change nothing the connection shows (its status, error and findings are
   * the same, no rotation is due): the check keeps it as its own result instead of sending it, and the API reads the
   * time of that check from there (api/last-health-check.ts).
   */
  unchanged?: boolean;
}

export interface ConnectionState {
  tenantId: string;
  crm: Crm;
  status: ConnectionStatus;
  statusMessage: string;
  target?: SalesforceTarget;
  appKind?: AppKind;
  agentName: string;
  agentConfiguration?: AgentConfiguration;
  details?: ConnectionDetails;
  lastError?: ConnectionError;
  needsReconnect?: { reason: string; missingFields: string[] };
  currentOperation?: OperationRecord;
  /** Most recent first, bounded. */
  operations: OperationRecord[];
  /** Components known to remain in the org from an incomplete rollback; disable and reconnect remove them. */
  leftovers: ComponentRef[];
  /** The last periodic check of the connection, end to end (absent until the first one). */
  health?: HealthReport;
  /** Admin credentials the service stored and that a newer set replaced: removed once the operation ends. */
  supersededCredentials?: SecretRef[];
  /** How long operations wait for Salesforce to make an app usable, as last requested (Temporal duration). */
  readinessTimeout?: string;
  updatedAt: string;
  /**
   * Set only on the memo a run continues as new with, which leaves the lists out to stay small, until the run
   * publishes its state: a reader then takes the state from the run's input (api/published-state.ts).
   */
  abridged?: true;
}

export interface OperationAccepted {
  operationId: string;
  kind: OperationKind;
  workflowId: string;
}

/** Input of the long-lived per-connection workflow; carries the state across continue-as-new. */
export interface ConnectionWorkflowInput {
  tenantId: string;
  crm: Crm;
  state?: ConnectionState;
  /** History length after which the workflow continues as new (default 2000; tests lower it). */
  historyLimit?: number;
  /** How long a run that holds nothing waits for an operation before it ends (default 10 minutes; tests lower it). */
  idleTimeout?: Duration;
}

export interface EnableSagaInput {
  tenantId: string;
  operationId: string;
  parentWorkflowId: string;
  target: SalesforceTarget;
  appKind: AppKind;
  agentName: string;
  agentConfiguration: AgentConfiguration;
  /** How long to wait for Salesforce to make the new app usable (Temporal duration; default 15 minutes). */
  readinessTimeout?: string;
}

export interface DisableSagaInput {
  tenantId: string;
  operationId: string;
  parentWorkflowId: string;
  target: SalesforceTarget;
  agentName: string;
  details?: ConnectionDetails;
  leftovers: ComponentRef[];
}

export interface RotateCertificateSagaInput {
  tenantId: string;
  operationId: string;
  parentWorkflowId: string;
  target: SalesforceTarget;
  details: ConnectionDetails;
  probeObject: string;
  readinessTimeout?: string;
}

export interface UpdateAccessSagaInput {
  tenantId: string;
  operationId: string;
  parentWorkflowId: string;
  target: SalesforceTarget;
  details: ConnectionDetails;
  agentConfiguration: AgentConfiguration;
}

export interface HealthCheckInput {
  tenantId: string;
  crm: Crm;
  /** Rotate the JWT certificate when it expires within this many days. */
  rotateBeforeDays: number;
  /** The Schedule's version (2: spread over the interval); absent in Schedules from before, which the check updates. */
  scheduleVersion?: number;
  /** A failed check is confirmed by a second one this long after (Temporal duration; default 30 seconds). */
  recheckAfter?: string;
}

export interface DisableResult {
  removed: ComponentRef[];
}

/** Details attached to a saga's failure, so that the connection knows what was undone and what remains. */
export interface SagaFailureDetails {
  error: ConnectionError;
  stepsDone: string[];
  stepsCompensated: string[];
  remaining: ComponentRef[];
  /** The operation stopped before it changed anything in the org: the connection is as it was. */
  orgUnchanged?: boolean;
  /** What the operation created was undone and the connection's own components were never touched: it still works. */
  connectionKept?: boolean;
}

// Messages of the connection workflow.
export const enableUpdate = defineUpdate<OperationAccepted, [EnableRequest]>('enable');
export const disableUpdate = defineUpdate<OperationAccepted, [DisableRequest]>('disable');
export const reconnectUpdate = defineUpdate<OperationAccepted, [ReconnectRequest]>('reconnect');
export const cancelOperationUpdate = defineUpdate<OperationRecord, [CancelRequest]>('cancelOperation');
export const configureAgentUpdate = defineUpdate<ConnectionState, [AgentConfiguration]>('configureAgent');
export const rotateCertificateUpdate = defineUpdate<OperationAccepted, [RotateCertificateRequest]>('rotateCertificate');
export const updateAccessUpdate = defineUpdate<OperationAccepted, [UpdateAccessRequest]>('updateAccess');

/** The request of each operation kind. */
export interface OperationRequests {
  enable: EnableRequest;
  disable: DisableRequest;
  reconnect: ReconnectRequest;
  rotate_certificate: RotateCertificateRequest;
  update_access: UpdateAccessRequest;
}

/** The connection workflow's update for each operation kind: the one source of what each kind sends and answers. */
export const OPERATION_UPDATES: { [K in OperationKind]: UpdateDefinition<OperationAccepted, [OperationRequests[K]]> } =
  {
    enable: enableUpdate,
    disable: disableUpdate,
    reconnect: reconnectUpdate,
    rotate_certificate: rotateCertificateUpdate,
    update_access: updateAccessUpdate,
  };
/**
 * Sent by a make-before-break reconnect once its new components work, and with what it could not remove; by a repair
 * with the steps it ran.
 */
export const accessSwitchedSignal = defineSignal<[AccessSwitch]>('accessSwitched');
/** Sent by the scheduled health check with what it found. */
export const healthReportSignal = defineSignal<[HealthReport]>('healthReport');
export const stateQuery = defineQuery<ConnectionState>('state');
/** `nothing_to_undo`: the step's undo found nothing to remove (the step had not created anything). */
export type StepEvent = 'started' | 'done' | 'compensated' | 'compensation_failed' | 'nothing_to_undo';

export interface StepProgressEvent {
  operationId: string;
  event: StepEvent;
  progress: StepProgress;
}

/**
 * Sent by a running saga to its connection so that status shows the current step. Sagas started before the
 * `progress-in-memo` patch still send it; newer ones publish their progress in their own memo instead
 * (PROGRESS_MEMO_KEY), which costs no workflow task on either side.
 */
export const stepProgressSignal = defineSignal<[StepProgressEvent]>('stepProgress');

/** The memo key under which a running saga publishes its progress (read by the API next to the connection's state). */
export const PROGRESS_MEMO_KEY = 'progress';

/** A saga's progress as published in its memo. */
export interface SagaProgress {
  operationId: string;
  currentStep?: StepProgress;
  stepsDone: string[];
  stepsCompensated: string[];
  /** Once the saga has ended (there is no current step then): how, and what it left in the org. */
  outcome?: 'succeeded' | 'failed' | 'rollback_incomplete' | 'cancelled';
  remaining?: ComponentRef[];
}

/** The memo key under which the connection workflow publishes its state (readable with no worker running). */
export const STATE_MEMO_KEY = 'state';

export const SEARCH_ATTRIBUTES = {
  tenantId: defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD),
  crm: defineSearchAttributeKey('Crm', SearchAttributeType.KEYWORD),
  operation: defineSearchAttributeKey('Operation', SearchAttributeType.KEYWORD),
  connectionStatus: defineSearchAttributeKey('ConnectionStatus', SearchAttributeType.KEYWORD),
  /** Set on an operation's workflows when they end: succeeded, failed, rollback_incomplete or cancelled. */
  operationOutcome: defineSearchAttributeKey('OperationOutcome', SearchAttributeType.KEYWORD),
} as const;

/** For servers that need the attributes registered up front (`temporal server start-dev --search-attribute`). */
export const SEARCH_ATTRIBUTE_TYPES: Record<string, SearchAttributeType> = Object.fromEntries(
  Object.values(SEARCH_ATTRIBUTES).map((key) => [key.name, key.type]),
);

/**
 * Task queues. Connection workflows (whose update validators admit operations) poll a queue of their own, served by
 * worker slots of their own, so that accepting an operation never waits behind sagas, health checks or fleet work;
 * sagas, their activities and health checks stay on the service's queue (`TASK_QUEUE`).
 */
const CONNECTION_QUEUE_SUFFIX = '-connections';

export function connectionTaskQueue(taskQueue: string): string {
  return `${taskQueue}${CONNECTION_QUEUE_SUFFIX}`;
}

/** The service's queue of a connection queue; undefined for any other queue (runs started before the split). */
export function sagaTaskQueueOf(connectionQueue: string): string | undefined {
  return connectionQueue.endsWith(CONNECTION_QUEUE_SUFFIX)
    ? connectionQueue.slice(0, -CONNECTION_QUEUE_SUFFIX.length)
    : undefined;
}

/**
 * Readiness waits (`awaitReadiness`: minutes of probing Salesforce until a new app is usable) run on a queue of their
 * own, with worker slots of their own, so that hundreds of enables waiting for propagation never hold the slots the
 * sagas' Salesforce calls need. Derived from the service's queue (a connection queue's too).
 */
const READINESS_QUEUE_SUFFIX = '-readiness';

export function readinessTaskQueue(taskQueue: string): string {
  return `${sagaTaskQueueOf(taskQueue) ?? taskQueue}${READINESS_QUEUE_SUFFIX}`;
}

/**
 * Temporal task priorities (`priorityKey`: 1 runs first, 5 last; 3 is the server's default). A backlog is served in
 * this order: admission, then what an admin asked for, then background work.
 */
export const PRIORITY = {
  /** Connection workflows: validating and recording an operation. */
  admission: 1,
  /** Enable, disable, reconnect, update access: an admin waits for them. */
  adminOperation: 2,
  /** Certificate rotations and health checks: nobody waits, they may yield. */
  background: 4,
  /** Work over many tenants at once. */
  fleet: 5,
} as const;

/** Salesforce's limit of concurrent long-running (≥ 20 s) requests per org (5 on Developer and trial orgs). */
export const SALESFORCE_LONG_RUNNING_REQUESTS_PER_ORG = 25;

/**
 * The fairness key of a connection's work: its org, so that one org's backlog cannot starve another's. The org id
 * once known; before the first enable has read it, the org's URL (≤ 64 bytes, as Temporal requires).
 */
export function orgFairnessKey(details?: { orgId: string }, target?: { instanceUrl: string }): string | undefined {
  const key = details?.orgId ?? target?.instanceUrl.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  return key ? key.slice(0, 64) : undefined;
}

export function connectionWorkflowId(tenantId: string, crm: Crm): string {
  return `connection:${tenantId}:${crm}`;
}

export function healthScheduleId(tenantId: string, crm: Crm): string {
  return `health:${tenantId}:${crm}`;
}

/** The workflow each run of a connection's health-check Schedule starts (the Schedule appends its start time). */
export function healthCheckWorkflowId(tenantId: string, crm: Crm): string {
  return `health-check:${tenantId}:${crm}`;
}

export function operationWorkflowId(kind: OperationKind, tenantId: string, crm: Crm, operationId: string): string {
  return `${kind}:${tenantId}:${crm}:${operationId}`;
}

/** A reconnect runs a disable saga, then an enable saga, as its children under these ids. */
export function reconnectPhaseWorkflowId(reconnectWorkflowId: string, phase: 'disable' | 'enable'): string {
  return `${reconnectWorkflowId}:${phase}`;
}

/** The workflows whose memo holds an operation's progress, in the order they run. */
export function progressWorkflowIds(record: Pick<OperationRecord, 'kind' | 'workflowId'>): string[] {
  return record.kind === 'reconnect'
    ? [
        record.workflowId,
        reconnectPhaseWorkflowId(record.workflowId, 'disable'),
        reconnectPhaseWorkflowId(record.workflowId, 'enable'),
      ]
    : [record.workflowId];
}

/**
 * The tenant of a workflow id of the service, which is always `<kind>:<tenantId>:<crm>[:<more>]` (the ids above, and
 * the health checks that schedules start); undefined for anything else. Logs and metrics label runs with it.
 */
export function tenantOfWorkflowId(workflowId: unknown): string | undefined {
  if (typeof workflowId !== 'string') return undefined;
  const parts = workflowId.split(':');
  return parts.length >= 3 ? parts[1] : undefined;
}

/**
 * The id of every step an operation reports (progress, errors, metrics): sagas name their steps with these and
 * activities tag their failures with them.
 */
export const StepId = {
  preflight: 'preflight',
  signingKey: 'signing_key',
  permissionSet: 'permission_set',
  integrationUser: 'integration_user',
  userAccess: 'user_access',
  clientApp: 'client_app',
  readiness: 'readiness',
  removeClientApp: 'remove_client_app',
  removeUserAccess: 'remove_user_access',
  deactivateUser: 'deactivate_user',
  removePermissionSet: 'remove_permission_set',
  removeSigningKey: 'remove_signing_key',
  updateCertificate: 'update_certificate',
  discardOldKey: 'discard_old_key',
  updatePermissionSet: 'update_permission_set',
  verifyAccess: 'verify_access',
  switchAccess: 'switch_access',
  diagnose: 'diagnose',
  reactivateUser: 'reactivate_user',
  removePrevious: 'remove_previous',
  healthCheck: 'health_check',
  configurationCheck: 'configuration_check',
  plan: 'plan',
  agentToken: 'agent_token',
} as const;
export type StepId = (typeof StepId)[keyof typeof StepId];

/** ApplicationFailure types raised by activities and workflows. */
export const ErrorType = {
  /** Salesforce refused for a reason that retrying will not fix (carries the Salesforce code). */
  salesforcePermanent: 'SalesforcePermanentError',
  /** A Salesforce failure worth retrying (lock, limit, 5xx, network, expired session). */
  salesforceTransient: 'SalesforceTransientError',
  cancelled: 'OperationCancelled',
  preflightFailed: 'PreflightFailed',
  invalidConfiguration: 'InvalidConfiguration',
  notReady: 'ConnectionNotReady',
  readinessTimeout: 'ReadinessTimeout',
  rollbackIncomplete: 'RollbackIncomplete',
  secretMissing: 'SecretMissing',
  operationRejected: 'OperationRejected',
  /** The operation id (Idempotency-Key) was used before with another request body. */
  idempotencyKeyReused: 'IdempotencyKeyReused',
  /** Another operation is running on the connection. */
  operationInProgress: 'OperationInProgress',
  /** A disable of a connection that holds nothing: the API answers 200 with the connection, and nothing starts. */
  nothingToDisable: 'NothingToDisable',
  healthCheckFailed: 'HealthCheckFailed',
} as const;

// Fleet operations: one operation over many tenants' Salesforce connections, through their connection workflows.
export const FLEET_OPERATION_KINDS = ['update_access', 'rotate_certificate', 'reconnect'] as const;
export type FleetOperationKind = (typeof FLEET_OPERATION_KINDS)[number];

/** Which connections a fleet operation acts on: a list of tenants, or every running connection in a status. */
export type FleetSelection = { tenantIds: string[] } | { status: ConnectionStatus };

/** A tenant to act on, with its org (the fairness and rate key) when known. */
export interface FleetTenant {
  tenantId: string;
  org?: string;
}

/** Why one tenant's operation failed: the refusal's or the operation's error type, and its message. */
export interface FleetFailure {
  tenantId: string;
  code: string;
  message: string;
  operationId?: string;
}

export type FleetStatus = 'running' | 'paused' | 'cancelled' | 'completed';

/** A fleet operation's progress, as its memo publishes it (failures bounded: the first FLEET_FAILURES_KEPT). */
export interface FleetProgress {
  fleetOperationId: string;
  kind: FleetOperationKind;
  status: FleetStatus;
  total: number;
  done: number;
  failed: number;
  running: number;
  remaining: number;
  failures: FleetFailure[];
  requestHash?: string;
  createdAt: string;
  endedAt?: string;
}

export interface FleetOperationInput {
  fleetOperationId: string;
  kind: FleetOperationKind;
  selection: FleetSelection;
  /** How many tenants' operations run at once. */
  maxConcurrency: number;
  /** At most this many operations start per org per minute (never two at once on one org). */
  perOrgPerMinute: number;
  requestHash?: string;
  requestedBy?: { apiKeyId?: string };
  createdAt: string;
  /** How many tenants the API counted in the selection: the progress's total until the workflow has resolved it. */
  expectedTotal?: number;
  /** Carried across continue-as-new: what is left to do and what was done. */
  carried?: { pending: FleetPendingTenant[]; progress: FleetProgress; orgStarts: [string, number[]][] };
  /** History length after which the workflow continues as new (default 4000; tests lower it). */
  historyLimit?: number;
}

/** A tenant still to do; `attempts` counts the times its connection was busy, `notBefore` when to try again. */
export interface FleetPendingTenant extends FleetTenant {
  attempts?: number;
  notBefore?: number;
}

/** What one tenant's operation came to: it ran (and how), its connection was busy, or it was refused for good. */
export type FleetTenantResult =
  { outcome: 'succeeded'; operationId: string } | { outcome: 'busy' } | { outcome: 'failed'; failure: FleetFailure };

export const FLEET_MEMO_KEY = 'fleet';
export const FLEET_FAILURES_KEPT = 100;
export const pauseFleetUpdate = defineUpdate<FleetProgress, []>('pauseFleet');
export const resumeFleetUpdate = defineUpdate<FleetProgress, []>('resumeFleet');
export const cancelFleetUpdate = defineUpdate<FleetProgress, []>('cancelFleet');
export const fleetProgressQuery = defineQuery<FleetProgress>('fleetProgress');

/**
 * The visibility query of this deployment's running Salesforce connections in a status (by their search attributes,
 * on the service's queues: its connection queue, and its own for runs started before the split).
 */
export function connectionsInStatusQuery(status: ConnectionStatus, taskQueue: string): string {
  return (
    `WorkflowType = 'connectionWorkflow' AND ExecutionStatus = 'Running' AND ` +
    `TaskQueue IN ('${connectionTaskQueue(taskQueue)}', '${taskQueue}') AND ` +
    `${SEARCH_ATTRIBUTES.crm.name} = 'salesforce' AND ${SEARCH_ATTRIBUTES.connectionStatus.name} = '${status}'`
  );
}

export function fleetOperationWorkflowId(fleetOperationId: string): string {
  return `fleet-operation:${fleetOperationId}`;
}
