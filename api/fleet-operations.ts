import type { Client } from '@temporalio/client';
import type {
  ConnectionStatus,
  FleetOperationInput,
  FleetOperationKind,
  FleetProgress,
  FleetSelection,
} from '../workflows/definitions';
import type { fleetOperation } from '../workflows/fleet-operation';
import {
  FLEET_MEMO_KEY,
  PRIORITY,
  cancelFleetUpdate,
  connectionsInStatusQuery,
  fleetOperationWorkflowId,
  pauseFleetUpdate,
  resumeFleetUpdate,
} from '../workflows/definitions';
import { describeFleetOperation } from '../workflows/readable';
import type { FailureLike } from './connection-gateway';
import { RETRY_AFTER_SECONDS, isTemporalUnreachable, isWorkflowCompleted } from './connection-gateway';
import type { FleetOperationView } from './fleet-schemas';
import { problems } from './problem';

export interface FleetStart {
  fleetOperationId: string;
  kind: FleetOperationKind;
  selection: FleetSelection;
  maxConcurrency: number;
  perOrgPerMinute: number;
  requestHash: string;
  requestedBy: { apiKeyId: string };
}

type FleetControl = 'pause' | 'resume' | 'cancel';
const CONTROL_UPDATES = { pause: pauseFleetUpdate, resume: resumeFleetUpdate, cancel: cancelFleetUpdate };

export function fleetOperationView(progress: FleetProgress): FleetOperationView {
  const { fleetOperationId, requestHash: _hash, ...rest } = progress;
  return { id: fleetOperationId, ...rest };
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; code?: number };
  return e.name === 'WorkflowNotFoundError' || e.code === 5;
}

/** Starts fleet operations, reads their progress from the memo, and pauses, resumes or cancels them. */
export class FleetGateway {
  constructor(
    private readonly client: Client,
    private readonly options: { taskQueue: string; timeoutMs: number },
  ) {}

  /** How many running Salesforce connections are in a status (from visibility; it may lag a second behind). */
  async countInStatus(status: ConnectionStatus): Promise<number> {
    const { count } = await this.bounded(() =>
      this.client.workflow.count(connectionsInStatusQuery(status, this.options.taskQueue)),
    );
    return count;
  }

  /** The fleet operation's progress, or undefined when there is none with this id. */
  async read(fleetOperationId: string): Promise<{ progress: FleetProgress; running: boolean } | undefined> {
    try {
      const description = await this.bounded(() =>
        this.client.workflow.getHandle(fleetOperationWorkflowId(fleetOperationId)).describe(),
      );
      const progress = description.memo?.[FLEET_MEMO_KEY] as FleetProgress | undefined;
      return progress && { progress, running: description.status.name === 'RUNNING' };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw this.translate(err);
    }
  }

  /** Starts the fleet workflow; the memo holds its progress from the start, so GET answers before it has run. */
  async start(request: FleetStart, total: number): Promise<FleetProgress> {
    const createdAt = new Date().toISOString();
    const progress: FleetProgress = {
      fleetOperationId: request.fleetOperationId,
      kind: request.kind,
      status: 'running',
      total,
      done: 0,
      failed: 0,
      running: 0,
      remaining: total,
      failures: [],
      requestHash: request.requestHash,
      createdAt,
    };
    const input: FleetOperationInput = { ...request, createdAt, expectedTotal: total };
    const selection =
      'status' in request.selection
        ? `every Salesforce connection in status ${request.selection.status}`
        : `${total} listed tenants`;
    try {
      await this.bounded(() =>
        this.client.workflow.start<typeof fleetOperation>('fleetOperation', {
          workflowId: fleetOperationWorkflowId(request.fleetOperationId),
          taskQueue: this.options.taskQueue,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          priority: { priorityKey: PRIORITY.fleet },
          memo: { [FLEET_MEMO_KEY]: progress },
          staticSummary: `Fleet ${request.kind} over ${selection}`,
          staticDetails: describeFleetOperation(
            request.kind,
            selection,
            `at most ${request.maxConcurrency} at once, ${request.perOrgPerMinute} per org per minute`,
          ),
        }),
      );
    } catch (err) {
      throw this.translate(err);
    }
    return progress;
  }

  /** Pauses, resumes or cancels a running fleet operation; undefined when it has ended (the caller decides). */
  async control(fleetOperationId: string, action: FleetControl): Promise<FleetProgress | undefined> {
    try {
      return await this.bounded(() =>
        this.client.workflow
          .getHandle(fleetOperationWorkflowId(fleetOperationId))
          .executeUpdate(CONTROL_UPDATES[action], { args: [] }),
      );
    } catch (err) {
      const cause = (err as { cause?: { type?: string } }).cause;
      if (cause?.type === 'FleetOperationEnded' || isWorkflowCompleted(err as FailureLike)) return undefined;
      if (isNotFound(err)) throw problems.notFound(`No fleet operation ${fleetOperationId}.`);
      throw this.translate(err);
    }
  }

  private bounded<T>(call: () => Promise<T>): Promise<T> {
    return this.client.withDeadline(Date.now() + this.options.timeoutMs, call);
  }

  private translate(err: unknown): unknown {
    if (isTemporalUnreachable(err as FailureLike)) {
      return problems.unavailable('The workflow service did not answer in time; retry later.', RETRY_AFTER_SECONDS);
    }
    return err;
  }
}
