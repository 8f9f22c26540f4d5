import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { isWorkflowCompleted, stateForNextRun } from '../../api/connection-gateway';
import { withLiveProgress } from '../../api/live-progress';
import { publishedState } from '../../api/published-state';
import { connectionWorkflow } from '../../workflows';
import type {
  AgentConfiguration,
  ConnectionState,
  Crm,
  DisableRequest,
  EnableRequest,
  OperationAccepted,
  ReconnectRequest,
} from '../../workflows/definitions';
import {
  cancelOperationUpdate,
  configureAgentUpdate,
  connectionWorkflowId,
  disableUpdate,
  enableUpdate,
  reconnectUpdate,
} from '../../workflows/definitions';
import { pollUntil } from './poll';

/** Drives connection workflows exactly as the API does: update-with-start on the per-tenant workflow. */
export class Connections {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly historyLimit?: number,
  ) {}

  /**
   * The connection's update-with-start, as the gateway sends it: a run that ended because it held nothing hands its
   * state to the next run, and an update that meets a run as it ends goes once more, to the next run.
   */
  private async send<Ret, Arg>(
    tenantId: string,
    crm: Crm,
    update: UpdateDefinition<Ret, [Arg]>,
    argument: Arg,
  ): Promise<Ret> {
    const attempt = async () =>
      this.client.workflow.executeUpdateWithStart(update, {
        args: [argument],
        startWorkflowOperation: this.start(tenantId, crm, await this.carriedState(tenantId, crm)),
      });
    try {
      return await attempt();
    } catch (err) {
      if (!isWorkflowCompleted(err as Parameters<typeof isWorkflowCompleted>[0])) throw err;
      return attempt();
    }
  }

  private start(tenantId: string, crm: Crm, carried: ConnectionState | undefined) {
    return new WithStartWorkflowOperation(connectionWorkflow, {
      workflowId: connectionWorkflowId(tenantId, crm),
      taskQueue: this.taskQueue,
      args: [
        {
          tenantId,
          crm,
          ...(carried ? { state: carried } : {}),
          ...(this.historyLimit ? { historyLimit: this.historyLimit } : {}),
        },
      ],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
  }

  /** The state a new run starts from, as the gateway passes it (a running workflow ignores it). */
  private async carriedState(tenantId: string, crm: Crm): Promise<ConnectionState | undefined> {
    const description = await this.client.workflow
      .getHandle(connectionWorkflowId(tenantId, crm))
      .describe()
      .catch(() => undefined);
    if (!description) return undefined;
    return stateForNextRun({
      state: await publishedState(this.client, description),
      running: description.status.name === 'RUNNING',
      completed: description.status.name === 'COMPLETED',
    });
  }

  enable(tenantId: string, request: EnableRequest, crm: Crm = 'salesforce'): Promise<OperationAccepted> {
    return this.send(tenantId, crm, enableUpdate, request);
  }

  disable(tenantId: string, request: DisableRequest, crm: Crm = 'salesforce'): Promise<OperationAccepted> {
    return this.send(tenantId, crm, disableUpdate, request);
  }

  reconnect(tenantId: string, request: ReconnectRequest): Promise<OperationAccepted> {
    return this.send(tenantId, 'salesforce', reconnectUpdate, request);
  }

  configureAgent(tenantId: string, configuration: AgentConfiguration): Promise<ConnectionState> {
    return this.send(tenantId, 'salesforce', configureAgentUpdate, configuration);
  }

  cancel(tenantId: string, operationId: string) {
    return this.client.workflow
      .getHandle(connectionWorkflowId(tenantId, 'salesforce'))
      .executeUpdate(cancelOperationUpdate, { args: [{ operationId }] });
  }

  /** The state as the API shows it: from the memo, which needs no worker, with the running saga's progress. */
  async state(tenantId: string, crm: Crm = 'salesforce'): Promise<ConnectionState> {
    const description = await this.client.workflow.getHandle(connectionWorkflowId(tenantId, crm)).describe();
    return withLiveProgress(this.client, (await publishedState(this.client, description))!);
  }

  /** Polls the memo until the operation has ended; returns the final state. */
  settled(tenantId: string, operationId: string, timeoutMs = 90_000): Promise<ConnectionState> {
    return this.poll(tenantId, (state) => state.operations.some((o) => o.id === operationId), {
      what: `operation ${operationId} to end`,
      timeoutMs,
    });
  }

  /** Polls the memo until the running operation is at `step`; returns that state. */
  reachedStep(tenantId: string, step: string, timeoutMs = 60_000): Promise<ConnectionState> {
    return this.poll(tenantId, (state) => state.currentOperation?.currentStep?.step === step, {
      what: `the running operation at ${step}`,
      timeoutMs,
    });
  }

  /** Enables and waits until the operation has ended; returns the final state. */
  async enableAndSettle(tenantId: string, request: EnableRequest): Promise<ConnectionState> {
    await this.enable(tenantId, request);
    return this.settled(tenantId, request.operationId);
  }

  /** Disables (a new operation unless `request` names one) and waits until it has ended; returns the final state. */
  async disableAndSettle(tenantId: string, request: DisableRequest = newOperation()): Promise<ConnectionState> {
    await this.disable(tenantId, request);
    return this.settled(tenantId, request.operationId);
  }

  /** Reconnects (a new operation unless `request` names one) and waits until it has ended; returns the final state. */
  async reconnectAndSettle(tenantId: string, request: ReconnectRequest = newOperation()): Promise<ConnectionState> {
    await this.reconnect(tenantId, request);
    return this.settled(tenantId, request.operationId);
  }

  /** Reads the state every 100 ms until `done` holds for it; a timeout shows the operation it was stuck in. */
  private poll(
    tenantId: string,
    done: (state: ConnectionState) => boolean,
    { what, timeoutMs }: { what: string; timeoutMs: number },
  ): Promise<ConnectionState> {
    return pollUntil(() => this.state(tenantId), done, {
      what,
      timeoutMs,
      intervalMs: 100,
      describe: (state) => state.currentOperation,
    });
  }
}

const newOperation = () => ({ operationId: randomUUID() });
