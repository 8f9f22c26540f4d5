import { CancellationScope, isCancellation, log, patched } from '@temporalio/workflow';
import type { ComponentRef } from './definitions';
import { sagaFailure, toConnectionError } from './failures';
import { PROGRESS_IN_MEMO_PATCH } from './progress';
import type { OperationProgress } from './progress';

interface Compensation {
  step: string;
  component: ComponentRef;
  undo: () => Promise<unknown>;
}

export interface CompensationOutcome {
  compensated: string[];
  remaining: ComponentRef[];
}

/**
 * A saga run: its steps, reported as they start and end, and a stack of undo actions. Each step registers its undo
 * *before* it runs, because a Salesforce write can land even when the call reports a failure (a lost response);
 * every undo is idempotent ("remove if present").
 */
export class Saga {
  private readonly compensations: Compensation[] = [];
  private readonly stepsDone: string[] = [];
  private currentStep: string | undefined;

  constructor(private readonly progress: OperationProgress) {}

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
  async fail(err: unknown): Promise<never> {
    const error = toConnectionError(err, this.currentStep, new Date().toISOString());
    const { compensated, remaining } = await this.compensate();
    if (isCancellation(err) && remaining.length === 0 && !patched(PROGRESS_IN_MEMO_PATCH)) throw err;
    throw sagaFailure(error, this.stepsDone, compensated, remaining);
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
          await compensation.undo();
          outcome.compensated.push(compensation.step);
          await this.progress.compensated(compensation.step, true);
        } catch (err) {
          log.error('compensation failed', { step: compensation.step, error: String(err) });
          outcome.remaining.push(compensation.component);
          await this.progress.compensated(compensation.step, false);
        }
      }
      return outcome;
    });
  }
}
