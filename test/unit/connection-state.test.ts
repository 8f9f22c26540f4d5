import {
  OPERATION_HISTORY_LIMIT,
  admitOperation,
  applyAccessSwitch,
  reconnectStrategy,
  servesAgent,
  applyHealthReport,
  applyOutcome,
  closeOperation,
  initialConnectionState,
  refreshDerivedState,
  searchAttributesOf,
} from '../../workflows/connection-state';
import type {
  ConnectionDetails,
  ConnectionState,
  HealthProblem,
  OperationKind,
  OperationRecord,
} from '../../workflows/definitions';
import { ErrorType, StepId } from '../../workflows/definitions';
import { STEPS_OF } from '../../workflows/steps';

const NOW = '2026-11-29T10:00:00.000Z';

const details: ConnectionDetails = {
  appKind: 'external_client_app',
  appLabel: 'Copilot for Sales connected app',
  appApiName: 'Copilot_for_Sales_connected_app',
  consumerKey: 'ACkey',
  integrationUserId: '005000000000001',
  integrationUsername: 'copilot.1234@00d.example',
  permissionSetId: '0PS000000000001',
  permissionSetName: 'Copilot_for_Sales_permission_set',
  grantedObjects: [{ object: 'Account', fields: ['Name'] }],
  orgId: '00D000000000001',
  loginUrl: 'https://login.example',
  instanceUrl: 'https://org.example',
  privateKey: { secretRef: 'tenants/acme/signing-keys/op-1' },
  certificateExpiresAt: '2027-11-29T10:00:00.000Z',
  createdAt: NOW,
};

function record(kind: OperationKind, id = `op-${kind}`): OperationRecord {
  return {
    id,
    kind,
    status: 'running',
    workflowId: `${kind}:acme:salesforce:${id}`,
    startedAt: NOW,
    stepsDone: [],
    stepsCompensated: [],
  };
}

function enabled(): ConnectionState {
  const state = initialConnectionState('acme', 'salesforce', NOW);
  state.status = 'enabled';
  state.details = structuredClone(details);
  state.target = { loginUrl: details.loginUrl, instanceUrl: details.instanceUrl, adminCredentials: { secretRef: 'x' } };
  state.agentConfiguration = { objects: [{ object: 'Account', fields: ['Name'] }] };
  return state;
}

function problem(kind: HealthProblem['kind'], drift = false): HealthProblem {
  return { kind, message: `${kind} found.`, fix: `Fix ${kind}.`, drift };
}

describe('connection state', () => {
  it('starts off for Salesforce and natively on for Dynamics 365', () => {
    expect(initialConnectionState('acme', 'salesforce', NOW)).toMatchObject({
      status: 'disabled',
      operations: [],
      leftovers: [],
      updatedAt: NOW,
    });
    expect(initialConnectionState('acme', 'dynamics365', NOW).status).toBe('enabled');
  });

  it('turns a working connection to needs_reconnect when the agent reads more than is granted, and back', () => {
    const state = enabled();
    state.agentConfiguration = { objects: [{ object: 'Account', fields: ['Name', 'Industry'] }] };
    refreshDerivedState(state, NOW);
    expect(state.status).toBe('needs_reconnect');
    expect(state.needsReconnect?.missingFields).toEqual(['Account.Industry']);
    state.agentConfiguration = { objects: [{ object: 'Account', fields: ['Name'] }] };
    refreshDerivedState(state, NOW);
    expect(state.status).toBe('enabled');
    expect(state.needsReconnect).toBeUndefined();
    expect(state.statusMessage).toBe('Connected.');
  });

  it('shows the last error as the status message of a connection in error', () => {
    const state = enabled();
    state.status = 'error';
    state.lastError = { type: 'X', message: 'The app is gone.', fix: 'Reconnect.', at: NOW };
    refreshDerivedState(state, NOW);
    expect(state.statusMessage).toBe('The app is gone.');
  });

  it('an admitted operation becomes current, with the status it runs under', () => {
    const state = initialConnectionState('acme', 'salesforce', NOW);
    admitOperation(state, record('enable'));
    expect(state.status).toBe('enabling');
    expect(state.currentOperation?.kind).toBe('enable');
    expect(searchAttributesOf(state).map((a) => a.value)).toEqual(['acme', 'salesforce', 'enabling', 'enable']);
  });

  it('an admitted rotation publishes the next key at once, and keeps the status', () => {
    const state = enabled();
    admitOperation(state, record('rotate_certificate', 'rot-1'));
    expect(state.status).toBe('enabled');
    expect(state.details?.nextPrivateKey).toEqual({ secretRef: 'tenants/acme/signing-keys/rot-1' });
  });

  it('a succeeded enable records its details and every step, and asks for the health-check Schedule', () => {
    const state = initialConnectionState('acme', 'salesforce', NOW);
    state.leftovers = [{ kind: 'permission_set', name: 'Old' }];
    const run = record('enable');
    admitOperation(state, run);
    expect(applyOutcome(state, run, { succeeded: true, details }, 'disabled')).toBe('ensure');
    closeOperation(state, run, NOW);
    expect(state).toMatchObject({ status: 'enabled', leftovers: [], currentOperation: undefined });
    expect(state.details?.consumerKey).toBe('ACkey');
    expect(run.status).toBe('succeeded');
    expect(run.stepsDone).toEqual(STEPS_OF.enable);
    expect(state.operations[0]).toBe(run);
  });

  it('a succeeded disable forgets the connection and removes the Schedule', () => {
    const state = enabled();
    const run = record('disable');
    admitOperation(state, run);
    expect(applyOutcome(state, run, { succeeded: true }, 'enabled')).toBe('delete');
    expect(state).toMatchObject({ status: 'disabled', details: undefined, leftovers: [], health: undefined });
  });

  it('a failed enable that could not undo everything is rollback_incomplete, listing what remains', () => {
    const state = initialConnectionState('acme', 'salesforce', NOW);
    const run = record('enable');
    admitOperation(state, run);
    const error = { type: ErrorType.salesforcePermanent, message: 'No.', fix: 'Fix it.', at: NOW };
    const remaining = [{ kind: 'integration_user' as const, name: 'user@x' }];
    const change = applyOutcome(
      state,
      run,
      {
        succeeded: false,
        error,
        cancelled: false,
        saga: { error, stepsDone: [StepId.preflight], stepsCompensated: [StepId.signingKey], remaining },
      },
      'disabled',
    );
    expect(change).toBeUndefined();
    expect(run).toMatchObject({ status: 'rollback_incomplete', remaining, stepsCompensated: [StepId.signingKey] });
    expect(state).toMatchObject({ status: 'rollback_incomplete', leftovers: remaining, lastError: error });
  });

  it('a cancelled enable that undid everything leaves the connection off, with no error', () => {
    const state = initialConnectionState('acme', 'salesforce', NOW);
    const run = record('enable');
    admitOperation(state, run);
    const error = { type: ErrorType.cancelled, message: 'Cancelled.', fix: '', at: NOW };
    applyOutcome(state, run, { succeeded: false, error, cancelled: true }, 'disabled');
    expect(run.status).toBe('cancelled');
    expect(state).toMatchObject({ status: 'disabled', lastError: undefined });
  });

  it('a failed rotation leaves the connection as it was, with the old key only', () => {
    const state = enabled();
    const run = record('rotate_certificate');
    admitOperation(state, run);
    const error = { type: ErrorType.readinessTimeout, message: 'Not ready.', fix: '', at: NOW };
    applyOutcome(state, run, { succeeded: false, error, cancelled: false }, 'enabled');
    expect(state.status).toBe('enabled');
    expect(state.details?.nextPrivateKey).toBeUndefined();
    expect(state.details?.privateKey).toEqual(details.privateKey);
  });

  it('remembers a bounded number of operations, most recent first', () => {
    const state = initialConnectionState('acme', 'salesforce', NOW);
    for (let i = 0; i < OPERATION_HISTORY_LIMIT + 5; i += 1) {
      const run = record('disable', `op-${i}`);
      admitOperation(state, run);
      closeOperation(state, run, NOW);
    }
    expect(state.operations).toHaveLength(OPERATION_HISTORY_LIMIT);
    expect(state.operations[0]?.id).toBe(`op-${OPERATION_HISTORY_LIMIT + 4}`);
  });
});

describe('reconnect strategies', () => {
  const healthFailure: HealthProblem = { kind: 'user_inactive', message: 'inactive', fix: 'reconnect', drift: false };

  it('a working connection is replaced make before break, unless the admin confirmed break before make', () => {
    expect(reconnectStrategy(enabled(), { operationId: 'r' })).toBe('make_before_break');
    expect(reconnectStrategy(enabled(), { operationId: 'r', breakBeforeMake: true })).toBe('break_before_make');
  });

  it('a broken connection is repaired unless a recreate is asked; a failed one, or one moving org, is recreated', () => {
    const failing = enabled();
    failing.health = { checkedAt: NOW, ok: false, problems: [healthFailure] };
    expect(reconnectStrategy(failing, { operationId: 'r' })).toBe('repair');
    expect(reconnectStrategy(failing, { operationId: 'r', mode: 'recreate' })).toBe('break_before_make');
    const errored = enabled();
    errored.status = 'error';
    expect(reconnectStrategy(errored, { operationId: 'r' })).toBe('break_before_make');
    const target = {
      loginUrl: 'https://other.example',
      instanceUrl: 'https://other.example',
      adminCredentials: { secretRef: 'y' },
    };
    expect(reconnectStrategy(enabled(), { operationId: 'r', target })).toBe('break_before_make');
  });

  it('serves the agent during a make-before-break reconnect, switches it to the new details, and keeps leftovers', () => {
    const state = enabled();
    const reconnect = { ...record('reconnect'), strategy: 'make_before_break' as const };
    admitOperation(state, reconnect);
    expect(state.status).toBe('reconnecting');
    expect(servesAgent(state)).toBe(true);
    const next = { ...details, consumerKey: 'ACnew', integrationUsername: 'copilot.5678@00d.example' };
    applyAccessSwitch(state, { operationId: reconnect.id, details: next });
    expect(state.details?.consumerKey).toBe('ACnew');
    const leftover = { kind: 'client_app' as const, name: details.appApiName };
    applyAccessSwitch(state, { operationId: reconnect.id, leftovers: [leftover] });
    applyOutcome(state, reconnect, { succeeded: true, details: next }, 'enabled');
    expect(state.status).toBe('enabled');
    expect(state.leftovers).toEqual([leftover]);
    expect(reconnect.stepsDone).toContain(StepId.switchAccess);
    expect(reconnect.stepsDone).not.toContain(StepId.removeClientApp);
  });

  it('a break-before-make reconnect does not serve the agent', () => {
    const state = enabled();
    admitOperation(state, { ...record('reconnect'), strategy: 'break_before_make' });
    expect(servesAgent(state)).toBe(false);
  });

  it('a failed make-before-break reconnect keeps the connection as it was, with the error to read', () => {
    const state = enabled();
    const reconnect = { ...record('reconnect'), strategy: 'make_before_break' as const };
    admitOperation(state, reconnect);
    const error = { type: ErrorType.salesforcePermanent, message: 'no', fix: 'fix', at: NOW };
    const saga = { error, stepsDone: [], stepsCompensated: ['permission_set'], remaining: [], connectionKept: true };
    applyOutcome(state, reconnect, { succeeded: false, error, saga, cancelled: false }, 'enabled');
    expect(state.status).toBe('enabled');
    expect(state.details).toEqual(details);
    expect(state.lastError).toEqual(error);
    expect(reconnect.status).toBe('failed');
  });
});

describe('health reports', () => {
  const report = (problems: HealthProblem[]) => ({ checkedAt: NOW, ok: problems.length === 0, problems });

  it('a failure turns an idle working connection to error with the fix, and a clean check recovers it', () => {
    const state = enabled();
    applyHealthReport(state, report([problem('user_inactive')]));
    expect(state.status).toBe('error');
    expect(state.lastError).toMatchObject({
      type: ErrorType.healthCheckFailed,
      fix: 'Fix user_inactive.',
      step: StepId.healthCheck,
    });
    applyHealthReport(state, report([]));
    expect(state.status).toBe('enabled');
    expect(state.lastError).toBeUndefined();
  });

  it('drift is reported but does not break the connection', () => {
    const state = enabled();
    applyHealthReport(state, report([problem('extra_permission', true)]));
    expect(state.status).toBe('enabled');
    expect(state.health?.problems).toHaveLength(1);
  });

  it('a connection busy with an operation is not changed by a report', () => {
    const state = enabled();
    admitOperation(state, record('disable'));
    expect(applyHealthReport(state, report([problem('app_missing'), problem('certificate_expiring')]))).toEqual({
      rotationDue: false,
    });
    expect(state.status).toBe('disabling');
  });

  it('an expiring certificate makes a rotation due', () => {
    expect(applyHealthReport(enabled(), report([problem('certificate_expiring', true)]))).toEqual({
      rotationDue: true,
    });
  });

  it('an error that did not come from a health check is not cleared by a clean check', () => {
    const state = enabled();
    state.status = 'error';
    state.lastError = { type: ErrorType.salesforcePermanent, message: 'Enable failed.', fix: '', at: NOW };
    applyHealthReport(state, report([]));
    expect(state.status).toBe('error');
  });
});
