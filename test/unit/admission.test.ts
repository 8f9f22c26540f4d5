import { admissionRefusal, previouslyAccepted } from '../../workflows/admission';
import { admitOperation, holdsNothing, initialConnectionState } from '../../workflows/connection-state';
import type { ConnectionState, EnableRequest, OperationRecord } from '../../workflows/definitions';
import { ErrorType } from '../../workflows/definitions';

const NOW = '2026-11-29T10:00:00.000Z';
const target = {
  loginUrl: 'https://login.example',
  instanceUrl: 'https://org.example',
  adminCredentials: { secretRef: 'r' },
};
const configuration = { objects: [{ object: 'Account', fields: ['Name'] }] };
const enable = (operationId = 'op-1', requestHash = 'h1'): EnableRequest => ({
  operationId,
  requestHash,
  target,
  appKind: 'external_client_app',
  agentConfiguration: configuration,
});

function running(state: ConnectionState, kind: OperationRecord['kind'], id: string): void {
  admitOperation(state, {
    id,
    kind,
    requestHash: 'h1',
    status: 'running',
    workflowId: `${kind}:acme:salesforce:${id}`,
    startedAt: NOW,
    stepsDone: [],
    stepsCompensated: [],
  });
}

describe('admission', () => {
  it('accepts an enable of an idle connection with a configuration', () => {
    expect(admissionRefusal(initialConnectionState('acme', 'salesforce', NOW), 'enable', enable())).toBeUndefined();
  });

  it('refuses a second operation while one runs, naming it', () => {
    const state = initialConnectionState('acme', 'salesforce', NOW);
    running(state, 'enable', 'op-1');
    expect(admissionRefusal(state, 'disable', { operationId: 'op-2' })).toMatchObject({
      type: ErrorType.operationInProgress,
      details: { operationId: 'op-1', kind: 'enable' },
    });
  });

  it('refuses an enable without any object to read', () => {
    const request = { ...enable(), agentConfiguration: { objects: [] } };
    expect(admissionRefusal(initialConnectionState('acme', 'salesforce', NOW), 'enable', request)).toMatchObject({
      type: ErrorType.operationRejected,
      message: expect.stringContaining('names no object') as unknown,
    });
  });

  it('refuses a reconnect or a rotation of a connection that was never enabled', () => {
    const state = initialConnectionState('acme', 'salesforce', NOW);
    state.agentConfiguration = configuration;
    expect(admissionRefusal(state, 'reconnect', { operationId: 'op-2' })?.message).toMatch(/never enabled/);
    expect(admissionRefusal(state, 'rotate_certificate', { operationId: 'op-3' })?.message).toMatch(/no certificate/);
  });

  it('has nothing to disable on a connection that holds nothing, and disables one that holds a target', () => {
    const state = initialConnectionState('acme', 'salesforce', NOW);
    state.agentConfiguration = configuration;
    expect(admissionRefusal(state, 'disable', { operationId: 'op-2' })).toMatchObject({
      type: ErrorType.nothingToDisable,
    });
    expect(holdsNothing(state)).toBe(true);
    state.target = target;
    expect(holdsNothing(state)).toBe(false);
    expect(admissionRefusal(state, 'disable', { operationId: 'op-3' })).toBeUndefined();
  });

  it('owns the Dynamics 365 rule: enable is a no-op, everything else is refused', () => {
    const state = initialConnectionState('acme', 'dynamics365', NOW);
    expect(admissionRefusal(state, 'enable', enable())).toBeUndefined();
    expect(admissionRefusal(state, 'disable', { operationId: 'op-2' })?.message).toMatch(/connected natively/);
    expect(admissionRefusal(state, 'rotate_certificate', { operationId: 'op-3' })?.message).toMatch(/no certificate/);
  });

  it('returns the same operation for a repeated request, and refuses the id with another request', () => {
    const state = initialConnectionState('acme', 'salesforce', NOW);
    running(state, 'enable', 'op-1');
    expect(previouslyAccepted(state, 'enable', enable('op-1', 'h1'))).toEqual({
      operationId: 'op-1',
      kind: 'enable',
      workflowId: 'enable:acme:salesforce:op-1',
    });
    expect(previouslyAccepted(state, 'enable', enable('op-1', 'other'))).toMatchObject({
      type: ErrorType.idempotencyKeyReused,
    });
    expect(previouslyAccepted(state, 'disable', { operationId: 'op-1' })).toMatchObject({
      type: ErrorType.idempotencyKeyReused,
    });
    expect(previouslyAccepted(state, 'enable', enable('op-9'))).toBeUndefined();
  });
});
