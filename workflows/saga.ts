import { CancellationScope, isCancellation, log, patched } from '@temporalio/workflow';
import type { ComponentRef, SagaFailureDetails } from './definitions';
import { sagaFailure, toConnectionError } from './failures';
import { OperationProgress, PROGRESS_IN_MEMO_PATCH } from './progress';
import type { StepDefinition } from './steps';

interface Compensation {
  step: string;
  component: ComponentRef;
  undo: () => Promise<unknown>;
}

export interface CompensationOutcome {
  compensated: string[];
  remaining: ComponentRef[];
}

/** Which operation a saga runs, for its progress. */
export interface SagaIdentity {
  operationId: string;
  /** Sagas started before the progress-in-memo patch report to their connection; newer ones ignore it. */
  parentWorkflowId?: string;
}

/**
 * A saga run: its steps, reported as they start and end, and a stack of undo actions. Each step registers its undo
 * *before* it runs, because a Salesforce write can land even when the call reports a failure (a lost response);
 * every undo is idempotent ("remove if present").
 *
 * A removal saga (disable) runs in best-effort mode instead: `remove` records what a step could not remove and goes
 * on, and `removed()` ends the saga listing what remains.
 */
export class Saga {
  private readonly compensations: Compensation[] = [];
  private readonly stepsDone: string[] = [];
  private readonly progress: OperationProgress;
  private currentStep: string | undefined;
  private readonly removedComponents: ComponentRef[] = [];
  private readonly remainingComponents: ComponentRef[] = [];
  private firstFailure: { err: unknown; step: string | undefined } | undefined;

  constructor(identity: SagaIdentity, steps: StepDefinition[]) {
    this.progress = new OperationProgress(identity.parentWorkflowId, identity.operationId, steps);
  }

  register(step: string, component: ComponentRef, undo: () => Promise<unknown>): void {
    this.compensations.unshift({ step, component, undo });
  }

  async step<T>(id: string, body: () => Promise<T>): Promise<T> {
    this.currentStep = id;
    await this.progress.started(id);
    const result = await body();
    this.stepsDone.push(id);
    await this.progress.done(id);
    return result;
  }

  /**
   * Undoes what was done and ends the saga with the original cause (or, if an undo could not finish,
   * RollbackIncomplete listing what remains). A cancellation that was fully undone ends as OperationCancelled with
   * what was undone: the connection no longer hears of each step, and a workflow cancellation carries no details.
   */
  async fail(err: unknown, flags?: Pick<SagaFailureDetails, 'connectionKept'>): Promise<never> {
    const error = toConnectionError(err, this.currentStep, new Date().toISOString());
    const { compensated, remaining } = await this.compensate();
    if (isCancellation(err) && remaining.length === 0 && !patched(PROGRESS_IN_MEMO_PATCH)) throw err;
    throw sagaFailure(error, this.stepsDone, compensated, remaining, flags);
  }

  /**
   * Best effort, inside the current step: removes one component. A failure is recorded (the component remains) and
   * does not stop the saga. A body that answers `false` found nothing to remove.
   */
  async remove(component: ComponentRef, body: () => Promise<boolean | void>): Promise<void> {
    try {
      if ((await body()) !== false) this.removedComponents.push(component);
    } catch (err) {
      this.failedToRemove(component, err);
    }
  }

  /** Best effort: records a component the current step could not remove (or not even look up). */
  failedToRemove(component: ComponentRef, err: unknown): void {
    this.remainingComponents.push(component);
    this.firstFailure ??= { err, step: this.currentStep };
  }

  /** The steps done so far, in order. */
  done(): string[] {
    return [...this.stepsDone];
  }

  /** Best effort: what the saga could not remove so far. */
  leftToRemove(): ComponentRef[] {
    return [...this.remainingComponents];
  }

  /** Ends a best-effort saga: what it removed, or a failure listing what remains and the first cause. */
  removed(): { removed: ComponentRef[] } {
    if (this.remainingComponents.length === 0) return { removed: this.removedComponents };
    const error = toConnectionError(this.firstFailure?.err, this.firstFailure?.step, new Date().toISOString());
    throw sagaFailure(error, this.stepsDone, [], this.remainingComponents);
  }

  /**
   * Runs the undos newest first. Non-cancellable: a cancelled operation must still clean up after itself. A failing
   * undo does not stop the others; what it should have removed is reported as remaining.
   */
  private async compensate(): Promise<CompensationOutcome> {
    return CancellationScope.nonCancellable(async () => {
      const outcome: CompensationOutcome = { compensated: [], remaining: [] };
      for (const compensation of this.compensations) {
        try {
          // An undo that found nothing to remove (it answers false) undid nothing: its step had created nothing.
          if ((await compensation.undo()) === false) {
            await this.progress.compensated(compensation.step, 'nothing_to_undo');
            continue;
          }
          outcome.compensated.push(compensation.step);
          await this.progress.compensated(compensation.step, 'compensated');
        } catch (err) {
          log.error('compensation failed', { step: compensation.step, error: String(err) });
          outcome.remaining.push(compensation.component);
          await this.progress.compensated(compensation.step, 'compensation_failed');
        }
      }
      return outcome;
    });
  }
}
