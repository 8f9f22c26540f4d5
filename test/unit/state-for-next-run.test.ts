import { stateForNextRun } from '../../api/connection-gateway';
import { initialConnectionState } from '../../workflows/connection-state';
import type { ConnectionState } from '../../workflows/definitions';

/** What a new run of a connection starts from, should the last run end before the update reaches it. */
describe('the state carried to the next run of a connection', () => {
  const idle: ConnectionState = {
    ...initialConnectionState('t-1', 'salesforce', '2026-11-29T10:00:00.000Z'),
    status: 'disabled',
  };
  const busy: ConnectionState = {
    ...idle,
    status: 'disabling',
    currentOperation: {
      id: 'op-1',
      kind: 'disable',
      status: 'running',
      workflowId: 'disable:t-1:salesforce:op-1',
      startedAt: '2026-11-29T10:00:00.000Z',
      stepsDone: [],
      stepsCompensated: [],
    },
  };

  it('carries the state a run left when it ended by itself', () => {
    expect(stateForNextRun({ state: idle, running: false, completed: true })).toBe(idle);
  });

  it('carries an idle running run’s state: it may end by itself before the update reaches it', () => {
    expect(stateForNextRun({ state: idle, running: true, completed: false })).toBe(idle);
  });

  it('carries nothing from a run with an operation under way, which never ends by itself', () => {
    expect(stateForNextRun({ state: busy, running: true, completed: false })).toBeUndefined();
  });

  it('carries nothing from a run an operator terminated, nor when there was no run', () => {
    expect(stateForNextRun({ state: idle, running: false, completed: false })).toBeUndefined();
    expect(stateForNextRun(undefined)).toBeUndefined();
  });
});
