import { CancellationScope, log } from '@temporalio/workflow';
import type { ComponentRef } from './definitions';

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
 * A stack of undo actions. Each step registers its undo *before* it runs, because a Salesforce write can land even
 * when the call reports a failure (a lost response); every undo is idempotent ("remove if present").
 */
export class Saga {
  private readonly compensations: Compensation[] = [];

  constructor(private readonly onCompensated: (step: string, ok: boolean) => Promise<void>) {}

  register(step: string, component: ComponentRef, undo: () => Promise<unknown>): void {
    this.compensations.unshift({ step, component, undo });
  }

  /**
   * Runs the undos newest first. Non-cancellable: a cancelled operation must still clean up after itself. A failing
   * undo does not stop the others; what it should have removed is reported as remaining.
   */
  async compensate(): Promise<CompensationOutcome> {
    return CancellationScope.nonCancellable(async () => {
      const outcome: CompensationOutcome = { compensated: [], remaining: [] };
      for (const compensation of this.compensations) {
        try {
          await compensation.undo();
          outcome.compensated.push(compensation.step);
          await this.onCompensated(compensation.step, true);
        } catch (err) {
          log.error('compensation failed', { step: compensation.step, error: String(err) });
          outcome.remaining.push(compensation.component);
          await this.onCompensated(compensation.step, false);
        }
      }
      return outcome;
    });
  }
}
