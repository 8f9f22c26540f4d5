import { getExternalWorkflowHandle, log, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { StepEvent, StepProgress } from './definitions';
import { stepProgressSignal } from './definitions';

export interface StepDefinition {
  id: string;
  title: string;
}

/**
 * Tells the connection which step a saga is on (it publishes that to the API) and shows it in the Web UI through the
 * workflow's current details.
 */
export class OperationProgress {
  private readonly lines: string[] = [];

  constructor(
    private readonly parentWorkflowId: string | undefined,
    private readonly operationId: string,
    private readonly steps: StepDefinition[],
  ) {}

  async started(stepId: string): Promise<void> {
    await this.emit(stepId, 'started');
  }

  async done(stepId: string): Promise<void> {
    await this.emit(stepId, 'done');
  }

  async compensated(stepId: string, ok: boolean): Promise<void> {
    await this.emit(stepId, ok ? 'compensated' : 'compensation_failed');
  }

  private async emit(stepId: string, event: StepEvent): Promise<void> {
    const index = this.steps.findIndex((s) => s.id === stepId);
    const progress: StepProgress = {
      step: stepId,
      title: this.steps[index]?.title ?? stepId,
      index: index + 1,
      total: this.steps.length,
      startedAt: new Date().toISOString(),
    };
    this.lines.push(`- ${event.replace('_', ' ')}: ${progress.title}`);
    setCurrentDetails(
      `**${workflowInfo().workflowType}** step ${progress.index}/${progress.total}\n\n${this.lines.join('\n')}`,
    );
    if (!this.parentWorkflowId) return;
    try {
      await getExternalWorkflowHandle(this.parentWorkflowId).signal(stepProgressSignal, {
        operationId: this.operationId,
        event,
        progress,
      });
    } catch (err) {
      // Progress is informative; a connection that is gone must not fail the saga.
      log.warn('could not report progress', { error: String(err) });
    }
  }
}
