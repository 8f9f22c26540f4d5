import { overallProgress } from '../../api/live-progress';
import type { SagaProgress, StepProgress } from '../../workflows/definitions';
import { DISABLE_STEPS, ENABLE_STEPS, RECONNECT_CHECK_STEPS } from '../../workflows/steps';

const step = (id: string, index: number, total: number): StepProgress => ({
  step: id,
  title: id,
  index,
  total,
  startedAt: '2026-01-01T00:00:00.000Z',
});

const saga = (currentStep: StepProgress | undefined, stepsDone: string[]): SagaProgress => ({
  operationId: 'op',
  currentStep,
  stepsDone,
  stepsCompensated: [],
});

describe('an operation’s progress over its sagas', () => {
  const total = RECONNECT_CHECK_STEPS.length + DISABLE_STEPS.length + ENABLE_STEPS.length;

  it('counts a reconnect’s steps across its check, its disable and its enable', () => {
    const check = saga(step('preflight', 1, 1), ['preflight']);
    const disable = saga(
      step('remove_signing_key', 5, 5),
      DISABLE_STEPS.map((s) => s.id),
    );
    const enableDone = ENABLE_STEPS.slice(0, 6).map((s) => s.id);
    const enable = saga(step('readiness', 7, 7), enableDone);
    const progress = overallProgress({ kind: 'reconnect' }, [check, disable, enable]);
    expect(progress.currentStep).toMatchObject({ step: 'readiness', index: total, total });
    expect(progress.stepsDone).toHaveLength(total - 1);
  });

  it('knows the total before the later sagas start', () => {
    const progress = overallProgress({ kind: 'reconnect' }, [saga(step('preflight', 1, 1), []), undefined, undefined]);
    expect(progress.currentStep).toMatchObject({ index: 1, total });
    const disabling = overallProgress({ kind: 'reconnect' }, [
      saga(step('preflight', 1, 1), ['preflight']),
      saga(step('deactivate_user', 3, 5), ['remove_client_app', 'remove_user_access']),
      undefined,
    ]);
    expect(disabling.currentStep).toMatchObject({ step: 'deactivate_user', index: 4, total });
  });

  it('leaves one saga’s numbers as they are', () => {
    const progress = overallProgress({ kind: 'enable' }, [saga(step('client_app', 6, 7), ['preflight'])]);
    expect(progress.currentStep).toMatchObject({ index: 6, total: 7 });
  });
});
