import {
  getExternalWorkflowHandle,
  log,
  patched,
  setCurrentDetails,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { SagaProgress, StepEvent, StepProgress } from './definitions';
import { PROGRESS_MEMO_KEY, stepProgressSignal } from './definitions';
import { SAGA_NAMES, describeSagaProgress } from './readable';
import type { StepDefinition } from './steps';

/**
 * Sagas before this patch signalled every step event to their connection: two workflow tasks per event (the
 * signal's resolution here, its delivery there), fourteen events per enable. Now the progress goes into the saga's
 * own memo, a command of the task that schedules the step's activity, and the API reads it from there.
 */
export const PROGRESS_IN_MEMO_PATCH = 'progress-in-memo';

/**
 * Tells which step a saga is on: in its memo (the API shows it with the connection's state) and in the Web UI
 * through the workflow's current details.
 */
export class OperationProgress {
  private readonly published: SagaProgress;
  private undoing = false;

  constructor(
    private readonly parentWorkflowId: string | undefined,
    operationId: string,
    private readonly steps: StepDefinition[],
  ) {
    this.published = { operationId, stepsDone: [], stepsCompensated: [] };
  }

  started(stepId: string): Promise<void> {
    return this.emit(stepId, 'started');
  }

  done(stepId: string): Promise<void> {
    return this.emit(stepId, 'done');
  }

  /** An undo ran: it removed what its step created, found nothing to remove, or failed. */
  compensated(stepId: string, result: 'compensated' | 'nothing_to_undo' | 'compensation_failed'): Promise<void> {
    this.undoing = true;
    return this.emit(stepId, result);
  }

  private emit(stepId: string, event: StepEvent): Promise<void> {
    const index = this.steps.findIndex((s) => s.id === stepId);
    const progress: StepProgress = {
      step: stepId,
      title: this.steps[index]?.title ?? stepId,
      index: index + 1,
      total: this.steps.length,
      startedAt: new Date().toISOString(),
    };
    if (patched(PROGRESS_IN_MEMO_PATCH)) {
      this.publish(event, progress);
      this.describe(stepId);
      return Promise.resolve();
    }
    this.describe(stepId);
    return this.signalParent(event, progress);
  }

  /** The Web UI's current details: the step, what was done and undone, what is still to do. */
  private describe(stepId: string): void {
    const type = workflowInfo().workflowType;
    setCurrentDetails(
      describeSagaProgress(SAGA_NAMES[type] ?? type, this.steps, {
        currentStep: stepId,
        stepsDone: this.published.stepsDone,
        stepsCompensated: this.published.stepsCompensated,
        undoing: this.undoing,
      }),
    );
  }

  private publish(event: StepEvent, progress: StepProgress): void {
    const published = this.published;
    if (event === 'started') published.currentStep = progress;
    else if (event === 'done') published.stepsDone.push(progress.step);
    else if (event === 'compensated') published.stepsCompensated.push(progress.step);
    // A step's end is published with the next step's start, in the same workflow task (the last step's end with the
    // saga's result): one memo event per step instead of two.
    if (event === 'done') return;
    upsertMemo({ [PROGRESS_MEMO_KEY]: published });
  }

  private async signalParent(event: StepEvent, progress: StepProgress): Promise<void> {
    if (!this.parentWorkflowId) return;
    try {
      await getExternalWorkflowHandle(this.parentWorkflowId).signal(stepProgressSignal, {
        operationId: this.published.operationId,
        event,
        progress,
      });
    } catch (err) {
      // Progress is informative; a connection that is gone must not fail the saga.
      log.warn('could not report progress', { error: String(err) });
    }
  }
}
