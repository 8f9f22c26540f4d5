/**
 * The connection's state and how it changes: pure functions, no Temporal calls, so that the workflow, the API's
 * views and unit tests share one definition of what each event does to a connection.
 */
import type {
  AccessSwitch,
  AgentConfiguration,
  ComponentRef,
  ConnectionDetails,
  ConnectionError,
  ConnectionState,
  ConnectionStatus,
  Crm,
  HealthProblem,
  HealthReport,
  OperationKind,
  OperationRecord,
  ReconnectRequest,
  ReconnectStrategy,
  SagaFailureDetails,
  SecretRef,
} from './definitions';
import { DEFAULT_AGENT_NAME, ErrorType, SEARCH_ATTRIBUTES, StepId } from './definitions';
import { signingKeyRef } from './naming';
import { MAKE_BEFORE_BREAK_STEPS, STEPS_OF } from './steps';

/** Finished operations a connection remembers, most recent first. */
export const OPERATION_HISTORY_LIMIT = 20;

export const STATUS_MESSAGES: Record<ConnectionStatus, string> = {
  disabled:
    'Access is off: nothing of the connection is active in Salesforce. Integration users it created stay there, deactivated (Salesforce cannot delete users).',
  enabling: 'Establishing the connection. This may take a few minutes.',
  enabled: 'Connected.',
  needs_reconnect: 'The agent now reads fields the connection does not grant. Select Update access to grant them.',
  error: 'The connection failed. Select Reconnect to recreate it.',
  disabling: 'Removing the connection from Salesforce.',
  reconnecting: 'Recreating the connection. This may take a few minutes.',
  rollback_incomplete:
    'Some components could not be removed from Salesforce. Select Reconnect or turn access off to clean them up.',
};

const NATIVE_STATUS_MESSAGE =
  'Dynamics 365 Sales: the agent runs in the same environment and is already connected. Nothing to set up.';

const STATUS_WHILE_RUNNING: Partial<Record<OperationKind, ConnectionStatus>> = {
  enable: 'enabling',
  disable: 'disabling',
  reconnect: 'reconnecting',
};

/** Operations that change a working connection in place: undone, they leave it as it was. */
const KEEPS_COMPONENTS = new Set<OperationKind>(['rotate_certificate', 'update_access']);

const RUNNING_STATUSES = new Set<ConnectionStatus>(Object.values(STATUS_WHILE_RUNNING));

/** Dynamics 365 Sales: the agent runs inside it, so the connection exists natively and nothing is ever created. */
export function isNativelyConnected(crm: Crm): boolean {
  return crm === 'dynamics365';
}

/** A connection before its first operation: off for Salesforce, natively on for Dynamics 365. */
export function initialConnectionState(tenantId: string, crm: Crm, now: string): ConnectionState {
  const native = isNativelyConnected(crm);
  return {
    tenantId,
    crm,
    status: native ? 'enabled' : 'disabled',
    statusMessage: native ? NATIVE_STATUS_MESSAGE : STATUS_MESSAGES.disabled,
    agentName: DEFAULT_AGENT_NAME,
    operations: [],
    leftovers: [],
    updatedAt: now,
  };
}

/**
 * Whether the connection holds nothing it must keep running for: no operation, no component in Salesforce (details or
 * leftovers, hence no health-check Schedule), no admin credentials (a target, or superseded ones still to remove).
 * Such a connection's workflow ends: its configuration and history stay in the last run's memo, and the API carries
 * them into the next run it starts.
 */
export function holdsNothing(state: ConnectionState): boolean {
  return (
    !state.currentOperation &&
    !state.details &&
    !state.target &&
    state.leftovers.length === 0 &&
    (state.supersededCredentials ?? []).length === 0
  );
}

/** Fields the agent's configuration asks for that the connection's permission set does not grant. */
export function missingFields(
  config: AgentConfiguration | undefined,
  details: ConnectionDetails | undefined,
): string[] {
  if (!config || !details) return [];
  const granted = new Map(
    details.grantedObjects.map((o) => [o.object.toLowerCase(), new Set(o.fields.map((f) => f.toLowerCase()))]),
  );
  return config.objects.flatMap((o) => {
    const fields = granted.get(o.object.toLowerCase());
    if (!fields) return o.fields.length > 0 ? o.fields.map((f) => `${o.object}.${f}`) : [o.object];
    return o.fields.filter((f) => !fields.has(f.toLowerCase())).map((f) => `${o.object}.${f}`);
  });
}

/**
 * Recomputes what follows from the rest of the state before it is published: whether a working connection lacks
 * fields the agent reads (needs_reconnect), and the status message.
 */
export function refreshDerivedState(state: ConnectionState, now: string): void {
  state.updatedAt = now;
  if (!RUNNING_STATUSES.has(state.status)) {
    if (state.status !== 'enabled' && state.status !== 'needs_reconnect') state.needsReconnect = undefined;
    if (state.details && (state.status === 'enabled' || state.status === 'needs_reconnect')) {
      const missing = missingFields(state.agentConfiguration, state.details);
      state.status = missing.length > 0 ? 'needs_reconnect' : 'enabled';
      state.needsReconnect =
        missing.length > 0
          ? { reason: 'The agent is configured to read fields the connection does not grant.', missingFields: missing }
          : undefined;
    }
  }
  if (!isNativelyConnected(state.crm)) {
    state.statusMessage =
      state.lastError && state.status === 'error' ? state.lastError.message : STATUS_MESSAGES[state.status];
  }
}

/** The search attributes operators filter connections by in the Web UI. */
export function searchAttributesOf(state: ConnectionState) {
  return [
    { key: SEARCH_ATTRIBUTES.tenantId, value: state.tenantId },
    { key: SEARCH_ATTRIBUTES.crm, value: state.crm },
    { key: SEARCH_ATTRIBUTES.connectionStatus, value: state.status },
    { key: SEARCH_ATTRIBUTES.operation, value: state.currentOperation?.kind ?? 'none' },
  ];
}

/**
 * The state in the memo a new run starts with at continue-as-new: the SDK checks that memo against its 2 KB warning
 * limit (TMPRL1103; the memos upserted later count against the 512 KB payload limit). Its lists — the configuration,
 * the granted fields, all but the last operation — wait for the new run's first workflow task, which publishes the
 * whole state (carried in the run's input) again; until then `abridged` tells readers to take the input.
 */
export function stateForNewRun(state: ConnectionState): ConnectionState {
  return {
    ...state,
    agentConfiguration: undefined,
    details: state.details && { ...state.details, grantedObjects: [], grantedFieldPermissions: undefined },
    needsReconnect: state.needsReconnect && { ...state.needsReconnect, missingFields: [] },
    operations: state.operations.slice(0, 1),
    abridged: true,
  };
}

/** The operation with this id: the running one or a finished one the connection remembers. */
export function findOperation(state: ConnectionState, operationId: string): OperationRecord | undefined {
  return state.currentOperation?.id === operationId
    ? state.currentOperation
    : state.operations.find((o) => o.id === operationId);
}

/** Whether the connection works: enabled (or asking for more fields), and its last health check found no failure. */
export function isWorking(state: ConnectionState): boolean {
  const failing = state.health?.problems.some((p) => !p.drift) ?? false;
  return state.details !== undefined && (state.status === 'enabled' || state.status === 'needs_reconnect') && !failing;
}

/** Whether an established connection was found broken: in error from a health check, or failing its last one. */
export function isBroken(state: ConnectionState): boolean {
  if (!state.details || state.currentOperation) return false;
  const failing = state.health?.problems.some((p) => !p.drift) ?? false;
  return failing || (state.status === 'error' && state.lastError?.type === ErrorType.healthCheckFailed);
}

/**
 * How a reconnect replaces the connection: a broken one is repaired in place unless the admin asks for a full
 * recreate; a working one make before break, unless the admin confirmed break before
 * make (an org without a spare license) or the reconnect moves to another org; anything else break before make.
 */
export function reconnectStrategy(state: ConnectionState, request: ReconnectRequest): ReconnectStrategy {
  if (request.mode !== 'recreate' && isBroken(state) && !request.target) return 'repair';
  if (request.breakBeforeMake || request.mode === 'recreate' || !isWorking(state)) return 'break_before_make';
  const sameOrg = !request.target || request.target.loginUrl === state.target?.loginUrl;
  return sameOrg ? 'make_before_break' : 'break_before_make';
}

/**
 * Whether the agent may get tokens: a working connection, also while a make-before-break reconnect replaces it (the
 * details are the old components until the switch, the new ones after).
 */
export function servesAgent(state: ConnectionState): boolean {
  if (!state.details) return false;
  if (state.status === 'enabled' || state.status === 'needs_reconnect') return true;
  return state.status === 'reconnecting' && state.currentOperation?.strategy === 'make_before_break';
}

/** A make-before-break reconnect's new components work: the agent switches to them; or the old ones that remain. */
export function applyAccessSwitch(state: ConnectionState, event: AccessSwitch): void {
  const record = state.currentOperation;
  if (!record || record.id !== event.operationId) return;
  if (event.stepsDone) record.stepsDone = union(record.stepsDone, event.stepsDone);
  if (record.strategy !== 'make_before_break') return;
  if (event.details) state.details = { ...event.details, nextPrivateKey: undefined };
  if (event.leftovers) record.remaining = event.leftovers;
}

/** An accepted operation becomes the connection's current one. */
export function admitOperation(state: ConnectionState, record: OperationRecord): void {
  if (record.kind === 'rotate_certificate' && state.details) {
    // While the rotation runs, the app may accept only the new key at any moment: the token broker tries it when
    // the current one is refused. Published now, before the app can change, so there is no window.
    state.details.nextPrivateKey = { secretRef: signingKeyRef(state.tenantId, record.id) };
  }
  state.currentOperation = record;
  state.status = STATUS_WHILE_RUNNING[record.kind] ?? state.status;
}

/** How an operation's run ended, as the connection records it. */
export type OperationOutcome =
  | { succeeded: true; details?: ConnectionDetails }
  | { succeeded: false; error: ConnectionError; saga?: SagaFailureDetails; cancelled: boolean };

/** What the connection's health-check Schedule needs after an operation. */
export type HealthScheduleChange = 'ensure' | 'delete' | undefined;

/**
 * Records an operation's outcome on its record and on the connection. `statusBefore` is the status when the
 * operation was accepted: a failed rotation leaves the connection as it was.
 */
export function applyOutcome(
  state: ConnectionState,
  record: OperationRecord,
  outcome: OperationOutcome,
  statusBefore: ConnectionStatus,
): HealthScheduleChange {
  return outcome.succeeded
    ? applySuccess(state, record, outcome.details)
    : applyFailure(state, record, outcome, statusBefore);
}

function applySuccess(
  state: ConnectionState,
  record: OperationRecord,
  details: ConnectionDetails | undefined,
): HealthScheduleChange {
  const native = isNativelyConnected(state.crm);
  record.status = 'succeeded';
  const steps =
    record.strategy === 'make_before_break'
      ? MAKE_BEFORE_BREAK_STEPS.map((s) => s.id)
      : record.strategy === 'repair'
        ? []
        : STEPS_OF[record.kind];
  if (!native) record.stepsDone = union(record.stepsDone, steps);
  state.lastError = undefined;
  if (record.kind === 'disable') {
    state.status = native ? 'enabled' : 'disabled';
    state.details = undefined;
    state.leftovers = [];
    state.health = undefined;
    return native ? undefined : 'delete';
  }
  if (details) state.details = { ...details, nextPrivateKey: undefined };
  state.status = 'enabled';
  if (KEEPS_COMPONENTS.has(record.kind)) return undefined;
  // A make-before-break reconnect reports the previous components it could not remove; a repair leaves them be.
  if (record.kind === 'reconnect') state.health = undefined;
  if (record.strategy === 'make_before_break') state.leftovers = record.remaining ?? [];
  else if (record.strategy !== 'repair') state.leftovers = [];
  return native ? undefined : 'ensure';
}

function applyFailure(
  state: ConnectionState,
  record: OperationRecord,
  outcome: Extract<OperationOutcome, { succeeded: false }>,
  statusBefore: ConnectionStatus,
): HealthScheduleChange {
  const { error, saga, cancelled } = outcome;
  const remaining = saga?.remaining ?? [];
  record.failure = error;
  if (saga?.orgUnchanged) {
    // Stopped by its checks, before any change: the connection goes on as it was, working or not.
    record.status = 'failed';
    state.status = statusBefore;
    return undefined;
  }
  record.remaining = saga?.remaining;
  if (saga) {
    record.stepsDone = union(record.stepsDone, saga.stepsDone);
    record.stepsCompensated = saga.stepsCompensated;
  }
  record.status = remaining.length > 0 ? 'rollback_incomplete' : cancelled ? 'cancelled' : 'failed';
  if (saga?.connectionKept) return keepConnection(state, remaining, cancelled ? undefined : error, statusBefore);
  if (record.kind === 'disable' || record.kind === 'reconnect') state.details = undefined;
  state.leftovers =
    record.kind === 'disable'
      ? remaining
      : [
          ...state.leftovers.filter((l) => !remaining.some((r) => r.kind === l.kind && r.name === l.name)),
          ...remaining,
        ];
  state.lastError = cancelled && remaining.length === 0 ? undefined : error;
  if (KEEPS_COMPONENTS.has(record.kind)) {
    // The old certificate and key, or the old grants, are back in place: the connection works as before.
    if (state.details) state.details.nextPrivateKey = undefined;
    state.status = remaining.length > 0 ? 'rollback_incomplete' : statusBefore;
  } else {
    state.status = remaining.length > 0 ? 'rollback_incomplete' : cancelled ? 'disabled' : 'error';
  }
  return undefined;
}

/**
 * A make-before-break reconnect that failed: what it created is undone (or listed as leftovers), and the connection,
 * whose components it never touched, goes on as it was.
 */
function keepConnection(
  state: ConnectionState,
  remaining: ComponentRef[],
  error: ConnectionError | undefined,
  statusBefore: ConnectionStatus,
): HealthScheduleChange {
  state.leftovers = [
    ...state.leftovers.filter((l) => !remaining.some((r) => r.kind === l.kind && r.name === l.name)),
    ...remaining,
  ];
  state.lastError = error;
  state.status = statusBefore;
  return undefined;
}

/** The operation has ended: it joins the connection's history and the connection is free for the next one. */
export function closeOperation(state: ConnectionState, record: OperationRecord, now: string): void {
  record.endedAt = now;
  record.currentStep = undefined;
  state.currentOperation = undefined;
  state.operations = [record, ...state.operations].slice(0, OPERATION_HISTORY_LIMIT);
}

/**
 * Takes in a periodic health check's findings. An idle working connection with failures becomes `error` with the
 * fix; one whose error came from a health check recovers when the check passes; drift is only reported. Answers
 * whether a certificate rotation is due.
 */
export function applyHealthReport(state: ConnectionState, report: HealthReport): { rotationDue: boolean } {
  state.health = report;
  const failures = report.problems.filter((p) => !p.drift);
  const busy = state.currentOperation !== undefined;
  const working = state.status === 'enabled' || state.status === 'needs_reconnect';
  if (!busy && state.details && working && failures.length > 0) {
    const first = failures[0] as HealthProblem;
    state.status = 'error';
    state.lastError = {
      type: ErrorType.healthCheckFailed,
      message: failures.map((p) => p.message).join(' '),
      fix: first.fix,
      step: StepId.healthCheck,
      at: report.checkedAt,
    };
  } else if (
    !busy &&
    failures.length === 0 &&
    state.status === 'error' &&
    state.lastError?.type === ErrorType.healthCheckFailed
  ) {
    state.status = 'enabled';
    state.lastError = undefined;
  }
  const rotationDue =
    !busy && state.details !== undefined && report.problems.some((p) => p.kind === 'certificate_expiring');
  return { rotationDue };
}

/**
 * Whether taking the report in would change nothing the connection shows: the same status and error, the same
 * findings (only the time of the check differs), and no rotation due. Such a report is not sent to the connection
 * (a signal is a billed Action); pure, so the check's activity decides it on the state it read.
 */
export function healthReportChangesNothing(state: ConnectionState, report: HealthReport): boolean {
  if (!state.health) return false;
  const after = JSON.parse(JSON.stringify(state)) as ConnectionState;
  if (applyHealthReport(after, { ...report, unchanged: undefined }).rotationDue) return false;
  const shown = (s: ConnectionState) =>
    JSON.stringify({
      status: s.status,
      lastError: s.lastError ?? null,
      ok: s.health?.ok,
      problems: s.health?.problems.map(({ kind, message, fix, drift }) => ({ kind, message, fix, drift })),
      certificateExpiresAt: s.health?.certificateExpiresAt ?? null,
    });
  return shown(after) === shown(state);
}

function union(first: string[], second: string[]): string[] {
  return [...new Set([...first, ...second])];
}

/**
 * Admin credentials the service stored and no longer needs once an operation has ended: those a newer set replaced,
 * and after a successful disable the current ones (the connection forgets its target with them). References the admin
 * backend passed are its own and are never listed.
 */
export function credentialsToForget(state: ConnectionState, record: OperationRecord): SecretRef[] {
  const refs = [...(state.supersededCredentials ?? [])];
  state.supersededCredentials = undefined;
  if (record.kind === 'disable' && record.status === 'succeeded' && state.target?.credentialsOwnedByService) {
    refs.push(state.target.adminCredentials);
    state.target = undefined;
  }
  return refs;
}
