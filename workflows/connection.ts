import {
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  makeContinueAsNewFunc,
  executeChild,
  isCancellation,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  log,
  patched,
  proxyActivities,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type {
  AgentConfiguration,
  CancelRequest,
  DisableRequest,
  EnableRequest,
  HealthProblem,
  RotateCertificateRequest,
  ReconnectRequest,
  ConnectionDetails,
  ConnectionState,
  ConnectionWorkflowInput,
  DisableSagaInput,
  EnableSagaInput,
  OperationAccepted,
  OperationKind,
  OperationRecord,
  SalesforceTarget,
} from './definitions';
import {
  DEFAULT_AGENT_NAME,
  ErrorType,
  SEARCH_ATTRIBUTES,
  STATE_MEMO_KEY,
  cancelOperationUpdate,
  configureAgentUpdate,
  disableUpdate,
  enableUpdate,
  operationWorkflowId,
  healthReportSignal,
  reconnectUpdate,
  rotateCertificateUpdate,
  stateQuery,
  stepProgressSignal,
} from './definitions';
import { DISABLE_STEPS, disableConnection } from './disable-connection';
import { ENABLE_STEPS, enableConnection } from './enable-connection';
import { sagaDetailsOf, toConnectionError } from './failures';
import { reconnectConnection } from './reconnect-connection';
import { signingKeyRef } from './naming';
import { ROTATION_STEPS, rotateCertificate } from './rotate-certificate';

/** Every step of an operation's saga(s): what a succeeded operation has done. */
const STEPS_OF: Record<OperationKind, string[]> = {
  enable: ENABLE_STEPS.map((s) => s.id),
  disable: DISABLE_STEPS.map((s) => s.id),
  reconnect: [...DISABLE_STEPS, ...ENABLE_STEPS].map((s) => s.id),
  rotate_certificate: ROTATION_STEPS.map((s) => s.id),
};

function union(first: string[], second: string[]): string[] {
  return [...new Set([...first, ...second])];
}

const OPERATION_HISTORY_LIMIT = 20;
/** Continue-as-new well before Temporal's history limits; the state travels in the input. */
const HISTORY_LENGTH_LIMIT = 2000;

const STATUS_MESSAGES: Record<ConnectionState['status'], string> = {
  disabled: 'Access is off. Nothing of the connection exists in Salesforce.',
  enabling: 'Establishing the connection. This may take a few minutes.',
  enabled: 'Connected.',
  needs_reconnect: 'The agent now reads fields the connection does not grant. Reconnect to recreate it.',
  error: 'The connection failed. Select Reconnect to recreate it.',
  disabling: 'Removing the connection from Salesforce.',
  reconnecting: 'Recreating the connection. This may take a few minutes.',
  rollback_incomplete:
    'Some components could not be removed from Salesforce. Select Reconnect or turn access off to clean them up.',
};

interface PendingOperation {
  record: OperationRecord;
  run: () => Promise<ConnectionDetails | void>;
  /** A rotation leaves the connection as it was when it fails; other operations change its status. */
  statusBefore: ConnectionState['status'];
}

/** Schedules are bookkeeping around an operation: a few quick attempts, and a failure never fails the operation. */
const control = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 5 },
});

const STATUS_WHILE_RUNNING: Partial<Record<OperationKind, ConnectionState['status']>> = {
  enable: 'enabling',
  disable: 'disabling',
  reconnect: 'reconnecting',
};

function reject(message: string, type: string = ErrorType.operationRejected, details?: unknown): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true, details: details ? [details] : undefined });
}

function initialState(input: ConnectionWorkflowInput, now: string): ConnectionState {
  const dynamics = input.crm === 'dynamics365';
  return {
    tenantId: input.tenantId,
    crm: input.crm,
    status: dynamics ? 'enabled' : 'disabled',
    statusMessage: dynamics
      ? 'Dynamics 365 Sales: the agent runs in the same environment and is already connected. Nothing to set up.'
      : STATUS_MESSAGES.disabled,
    agentName: DEFAULT_AGENT_NAME,
    operations: [],
    leftovers: [],
    updatedAt: now,
  };
}

function searchAttributesOf(state: ConnectionState) {
  return [
    { key: SEARCH_ATTRIBUTES.tenantId, value: state.tenantId },
    { key: SEARCH_ATTRIBUTES.crm, value: state.crm },
    { key: SEARCH_ATTRIBUTES.connectionStatus, value: state.status },
    { key: SEARCH_ATTRIBUTES.operation, value: state.currentOperation?.kind ?? 'none' },
  ];
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
 * The connection of one tenant to one CRM: a long-lived workflow that holds the connection's state and runs each
 * operation (enable, disable, reconnect) as a child saga, one at a time.
 *
 * - Operations arrive as Updates (the API uses update-with-start); the validators refuse a second operation while
 *   one runs, so Temporal itself serialises operations per tenant, across every API and worker process.
 * - The state is published in the memo (readable by describe() with no worker up) and as search attributes; it
 *   survives restarts, and continue-as-new carries it past the retention of finished runs.
 */
export async function connectionWorkflow(input: ConnectionWorkflowInput): Promise<void> {
  const state: ConnectionState = input.state ?? initialState(input, new Date().toISOString());
  let pending: PendingOperation | undefined;
  let runningScope: CancellationScope | undefined;

  const publish = () => {
    state.updatedAt = new Date().toISOString();
    if (state.status !== 'enabling' && state.status !== 'disabling' && state.status !== 'reconnecting') {
      const missing = missingFields(state.agentConfiguration, state.details);
      if (state.status !== 'enabled' && state.status !== 'needs_reconnect') state.needsReconnect = undefined;
      if (state.details && (state.status === 'enabled' || state.status === 'needs_reconnect')) {
        state.status = missing.length > 0 ? 'needs_reconnect' : 'enabled';
        state.needsReconnect =
          missing.length > 0
            ? {
                reason: 'The agent is configured to read fields the connection does not grant.',
                missingFields: missing,
              }
            : undefined;
      }
    }
    if (state.crm !== 'dynamics365')
      state.statusMessage =
        state.lastError && state.status === 'error' ? state.lastError.message : STATUS_MESSAGES[state.status];
    upsertMemo({ [STATE_MEMO_KEY]: state });
    upsertSearchAttributes(searchAttributesOf(state));
  };

  const findOperation = (operationId: string): OperationRecord | undefined =>
    state.currentOperation?.id === operationId
      ? state.currentOperation
      : pending?.record.id === operationId
        ? pending.record
        : state.operations.find((o) => o.id === operationId);

  /** An operation id seen before returns the same operation: API retries and Idempotency-Keys land here. */
  const replayed = (kind: OperationKind, request: { operationId: string; requestHash?: string }) => {
    const existing = findOperation(request.operationId);
    if (!existing) return undefined;
    if (
      existing.kind !== kind ||
      (request.requestHash && existing.requestHash && existing.requestHash !== request.requestHash)
    ) {
      reject(
        `Operation ${request.operationId} was requested before with a different request (${existing.kind}).`,
        ErrorType.idempotencyKeyReused,
        { operationId: existing.id, kind: existing.kind },
      );
    }
    return { operationId: existing.id, kind: existing.kind, workflowId: existing.workflowId };
  };

  const assertIdle = () => {
    const running = state.currentOperation ?? pending?.record;
    if (running) {
      reject(
        `Operation ${running.id} (${running.kind}) is running for this connection; wait for it or cancel it.`,
        ErrorType.operationInProgress,
        { operationId: running.id, kind: running.kind, workflowId: running.workflowId },
      );
    }
  };

  const accept = (
    kind: OperationKind,
    request: { operationId: string; requestHash?: string },
    run: PendingOperation['run'],
  ): OperationAccepted => {
    const again = replayed(kind, request);
    if (again) return again;
    const operationId = request.operationId;
    const record: OperationRecord = {
      id: operationId,
      kind,
      requestHash: request.requestHash,
      status: 'running',
      workflowId: operationWorkflowId(kind, state.tenantId, state.crm, operationId),
      startedAt: new Date().toISOString(),
      stepsDone: [],
      stepsCompensated: [],
    };
    pending = { record, run, statusBefore: state.status };
    if (kind === 'rotate_certificate' && state.details) {
      // While the rotation runs, the app may accept only the new key at any moment: the token broker tries it when
      // the current one is refused. Published now, before the app can change, so there is no window.
      state.details.nextPrivateKey = { secretRef: signingKeyRef(state.tenantId, operationId) };
    }
    state.currentOperation = record;
    state.status = STATUS_WHILE_RUNNING[kind] ?? state.status;
    publish();
    return { operationId, kind, workflowId: record.workflowId };
  };

  const childOptions = (kind: OperationKind, record: OperationRecord, summary: string) => ({
    workflowId: record.workflowId,
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    staticSummary: summary,
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTES.tenantId, value: state.tenantId },
      { key: SEARCH_ATTRIBUTES.crm, value: state.crm },
      { key: SEARCH_ATTRIBUTES.operation, value: kind },
    ],
  });

  const enableInput = (
    operationId: string,
    target: SalesforceTarget,
    request: {
      appKind?: EnableSagaInput['appKind'];
      agentName?: string;
      agentConfiguration?: AgentConfiguration;
      readinessTimeout?: string;
    },
  ): EnableSagaInput => ({
    tenantId: state.tenantId,
    operationId,
    parentWorkflowId: workflowInfo().workflowId,
    target,
    appKind: request.appKind ?? state.appKind ?? 'external_client_app',
    agentName: request.agentName ?? state.agentName,
    agentConfiguration: request.agentConfiguration ?? state.agentConfiguration ?? { objects: [] },
    readinessTimeout: request.readinessTimeout,
  });

  const disableInput = (operationId: string, target: SalesforceTarget): DisableSagaInput => ({
    tenantId: state.tenantId,
    operationId,
    parentWorkflowId: workflowInfo().workflowId,
    target,
    agentName: state.agentName,
    details: state.details,
    leftovers: state.leftovers,
  });

  const requireConfiguration = (config: AgentConfiguration | undefined) => {
    if (!config || config.objects.length === 0) {
      reject(
        'The agent configuration names no object to read: set it (PUT agent-configuration) or send it with the request.',
      );
    }
  };

  setHandler(stateQuery, () => state);

  setHandler(
    enableUpdate,
    (request) => {
      if (state.crm === 'dynamics365') {
        const record = accept('enable', request, () => Promise.resolve());
        return record;
      }
      return accept('enable', request, () => {
        state.target = request.target;
        state.appKind = request.appKind;
        if (request.agentName) state.agentName = request.agentName;
        if (request.agentConfiguration) state.agentConfiguration = request.agentConfiguration;
        const sagaInput = enableInput(request.operationId, request.target, request);
        const record = state.currentOperation as OperationRecord;
        return executeChild(enableConnection, {
          ...childOptions('enable', record, `Enable Salesforce access for tenant ${state.tenantId}`),
          args: [sagaInput],
        });
      });
    },
    {
      validator: (request: EnableRequest) => {
        if (replayed('enable', request)) return;
        assertIdle();
        if (state.crm === 'dynamics365') return;
        if (state.details) reject('The connection is already enabled; select Reconnect to recreate it.');
        if (state.leftovers.length > 0) {
          reject(
            'Components of an earlier operation remain in Salesforce; select Reconnect or disable to clean them up.',
          );
        }
        requireConfiguration(request.agentConfiguration ?? state.agentConfiguration);
      },
    },
  );

  setHandler(
    disableUpdate,
    (request) =>
      accept('disable', request, async () => {
        const target = state.target;
        if (!target) return;
        const effectiveTarget = request.adminCredentials
          ? { ...target, adminCredentials: request.adminCredentials }
          : target;
        state.target = effectiveTarget;
        const record = state.currentOperation as OperationRecord;
        await executeChild(disableConnection, {
          ...childOptions('disable', record, `Disable Salesforce access for tenant ${state.tenantId}`),
          args: [disableInput(request.operationId, effectiveTarget)],
        });
      }),
    {
      validator: (request: DisableRequest) => {
        if (replayed('disable', request)) return;
        assertIdle();
        if (state.crm === 'dynamics365')
          reject('Dynamics 365 Sales is connected natively; there is nothing to disable.');
      },
    },
  );

  setHandler(
    reconnectUpdate,
    (request) =>
      accept('reconnect', request, () => {
        const target = request.target ?? state.target;
        if (!target) reject('This connection was never enabled: enable it first.');
        state.target = target;
        if (request.appKind) state.appKind = request.appKind;
        if (request.agentConfiguration) state.agentConfiguration = request.agentConfiguration;
        const record = state.currentOperation as OperationRecord;
        return executeChild(reconnectConnection, {
          ...childOptions('reconnect', record, `Reconnect Salesforce access for tenant ${state.tenantId}`),
          args: [
            {
              disable: disableInput(request.operationId, target),
              enable: enableInput(request.operationId, target, request),
            },
          ],
        });
      }),
    {
      validator: (request: ReconnectRequest) => {
        if (replayed('reconnect', request)) return;
        assertIdle();
        if (state.crm === 'dynamics365')
          reject('Dynamics 365 Sales is connected natively; there is nothing to reconnect.');
        if (!request.target && !state.target) reject('This connection was never enabled: enable it first.');
        requireConfiguration(request.agentConfiguration ?? state.agentConfiguration);
      },
    },
  );

  setHandler(
    cancelOperationUpdate,
    (request) => {
      const record = findOperation(request.operationId) as OperationRecord;
      runningScope?.cancel();
      return record;
    },
    {
      validator: (request: CancelRequest) => {
        const record = findOperation(request.operationId);
        if (!record) reject(`No operation ${request.operationId} on this connection.`);
        if (record.status !== 'running')
          reject(`Operation ${request.operationId} has already ended (${record.status}).`);
      },
    },
  );

  setHandler(
    configureAgentUpdate,
    (configuration) => {
      state.agentConfiguration = configuration;
      publish();
      return state;
    },
    { validator: (configuration: AgentConfiguration) => requireConfiguration(configuration) },
  );

  setHandler(stepProgressSignal, (event) => {
    const record = state.currentOperation;
    if (!record || record.id !== event.operationId) return;
    if (event.event === 'started') record.currentStep = event.progress;
    else if (event.event === 'done') record.stepsDone.push(event.progress.step);
    else if (event.event === 'compensated') record.stepsCompensated.push(event.progress.step);

    publish();
  });

  const updateHealthSchedule = async (action: 'ensure' | 'delete') => {
    // Connections that were running before health checks existed replay without these activity calls.
    if (!patched('health-check-schedule')) return;
    try {
      if (action === 'ensure') await control.ensureHealthSchedule({ tenantId: state.tenantId, crm: state.crm });
      else await control.deleteHealthSchedule({ tenantId: state.tenantId, crm: state.crm });
    } catch (err) {
      log.warn('could not update the health-check schedule', { action, error: String(err) });
    }
  };

  const startRotation = (request: RotateCertificateRequest): OperationAccepted =>
    accept('rotate_certificate', request, () => {
      const details = state.details as ConnectionDetails;
      const record = state.currentOperation as OperationRecord;
      return executeChild(rotateCertificate, {
        ...childOptions('rotate_certificate', record, `Rotate the JWT certificate of tenant ${state.tenantId}`),
        args: [
          {
            tenantId: state.tenantId,
            operationId: request.operationId,
            parentWorkflowId: workflowInfo().workflowId,
            target: state.target as SalesforceTarget,
            details,
            probeObject: details.probeObject ?? details.grantedObjects[0]?.object ?? 'Account',
          },
        ],
      });
    });

  setHandler(rotateCertificateUpdate, (request) => startRotation(request), {
    validator: (request: RotateCertificateRequest) => {
      if (replayed('rotate_certificate', request)) return;
      assertIdle();
      if (state.crm === 'dynamics365') reject('Dynamics 365 Sales has no certificate to rotate.');
      if (!state.details || !state.target)
        reject('The connection is not established: there is no certificate to rotate.');
    },
  });

  setHandler(healthReportSignal, (report) => {
    state.health = report;
    const failures = report.problems.filter((p) => !p.drift);
    const busy = state.currentOperation !== undefined || pending !== undefined;
    if (
      !busy &&
      state.details &&
      (state.status === 'enabled' || state.status === 'needs_reconnect') &&
      failures.length > 0
    ) {
      const first = failures[0] as HealthProblem;
      state.status = 'error';
      state.lastError = {
        type: ErrorType.healthCheckFailed,
        message: failures.map((p) => p.message).join(' '),
        fix: first.fix,
        step: 'health_check',
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
    if (!busy && state.details && report.problems.some((p) => p.kind === 'certificate_expiring')) {
      startRotation({ operationId: uuid4() });
      return;
    }
    publish();
  });

  const finish = async (operation: PendingOperation) => {
    const record = operation.record;
    const now = () => new Date().toISOString();
    try {
      runningScope = new CancellationScope();
      const result = await runningScope.run(operation.run);
      record.status = 'succeeded';
      if (state.crm === 'salesforce') record.stepsDone = union(record.stepsDone, STEPS_OF[record.kind]);
      if (record.kind === 'disable') {
        state.status = state.crm === 'dynamics365' ? 'enabled' : 'disabled';
        state.details = undefined;
        state.leftovers = [];
        state.lastError = undefined;
        state.health = undefined;
        if (state.crm === 'salesforce') await updateHealthSchedule('delete');
      } else {
        if (result) state.details = { ...result, nextPrivateKey: undefined };
        state.status = 'enabled';
        if (record.kind !== 'rotate_certificate') state.leftovers = [];
        state.lastError = undefined;
        if (state.crm === 'salesforce' && record.kind !== 'rotate_certificate') await updateHealthSchedule('ensure');
      }
    } catch (err) {
      const saga = sagaDetailsOf(err);
      const error = toConnectionError(err, record.currentStep?.step, now());
      record.failure = error;
      record.remaining = saga?.remaining;
      if (saga) {
        record.stepsDone = union(record.stepsDone, saga.stepsDone);
        record.stepsCompensated = saga.stepsCompensated;
      }
      const remaining = saga?.remaining ?? [];
      const cancelled = isCancellation(err) || error.type === ErrorType.cancelled;
      record.status = remaining.length > 0 ? 'rollback_incomplete' : cancelled ? 'cancelled' : 'failed';
      if (record.kind === 'disable' || record.kind === 'reconnect') state.details = undefined;
      state.leftovers = [
        ...state.leftovers.filter((l) => !remaining.some((r) => r.kind === l.kind && r.name === l.name)),
        ...remaining,
      ];
      if (record.kind === 'disable') state.leftovers = remaining;
      state.lastError = cancelled && remaining.length === 0 ? undefined : error;
      if (record.kind === 'rotate_certificate') {
        // The old certificate and key are back in place: the connection works as before the rotation.
        if (state.details) state.details.nextPrivateKey = undefined;
        state.status = remaining.length > 0 ? 'rollback_incomplete' : operation.statusBefore;
      } else {
        state.status = remaining.length > 0 ? 'rollback_incomplete' : cancelled ? 'disabled' : 'error';
      }
    } finally {
      runningScope = undefined;
      record.endedAt = now();
      record.currentStep = undefined;
      state.currentOperation = undefined;
      state.operations = [record, ...state.operations].slice(0, OPERATION_HISTORY_LIMIT);
      publish();
    }
  };

  publish();
  for (;;) {
    await condition(
      () =>
        pending !== undefined ||
        workflowInfo().historyLength > (input.historyLimit ?? HISTORY_LENGTH_LIMIT) ||
        workflowInfo().continueAsNewSuggested,
    );
    if (pending) {
      const operation = pending;
      pending = undefined;
      await finish(operation);
      continue;
    }
    await condition(allHandlersFinished);
    if (!pending) {
      // The next run starts with the state already in its memo and search attributes: readable at once, even
      // before a worker runs its first task.
      await makeContinueAsNewFunc<typeof connectionWorkflow>({
        memo: { [STATE_MEMO_KEY]: state },
        typedSearchAttributes: searchAttributesOf(state),
      })({ ...input, state });
    }
  }
}
