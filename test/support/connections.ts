import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { withLiveProgress } from '../../api/live-progress';
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
  STATE_MEMO_KEY,
  cancelOperationUpdate,
  configureAgentUpdate,
  connectionWorkflowId,
  disableUpdate,
  enableUpdate,
  reconnectUpdate,
} from '../../workflows/definitions';

/** Drives connection workflows exactly as the API does: update-with-start on the per-tenant workflow. */
export class Connections {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly historyLimit?: number,
  ) {}

  private start(tenantId: string, crm: Crm) {
    return new WithStartWorkflowOperation(connectionWorkflow, {
      workflowId: connectionWorkflowId(tenantId, crm),
      taskQueue: this.taskQueue,
      args: [{ tenantId, crm, ...(this.historyLimit ? { historyLimit: this.historyLimit } : {}) }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
  }

  enable(tenantId: string, request: EnableRequest, crm: Crm = 'salesforce'): Promise<OperationAccepted> {
    return this.client.workflow.executeUpdateWithStart(enableUpdate, {
      args: [request],
      startWorkflowOperation: this.start(tenantId, crm),
    });
  }

  disable(tenantId: string, request: DisableRequest, crm: Crm = 'salesforce'): Promise<OperationAccepted> {
    return this.client.workflow.executeUpdateWithStart(disableUpdate, {
      args: [request],
      startWorkflowOperation: this.start(tenantId, crm),
    });
  }

  reconnect(tenantId: string, request: ReconnectRequest): Promise<OperationAccepted> {
    return this.client.workflow.executeUpdateWithStart(reconnectUpdate, {
      args: [request],
      startWorkflowOperation: this.start(tenantId, 'salesforce'),
    });
  }

  configureAgent(tenantId: string, configuration: AgentConfiguration): Promise<ConnectionState> {
    return this.client.workflow.executeUpdateWithStart(configureAgentUpdate, {
      args: [configuration],
      startWorkflowOperation: this.start(tenantId, 'salesforce'),
    });
  }

  cancel(tenantId: string, operationId: string) {
    return this.client.workflow
      .getHandle(connectionWorkflowId(tenantId, 'salesforce'))
      .executeUpdate(cancelOperationUpdate, { args: [{ operationId }] });
  }

  /** The state as the API shows it: from the memo, which needs no worker, with the running saga's progress. */
  async state(tenantId: string, crm: Crm = 'salesforce'): Promise<ConnectionState> {
    const description = await this.client.workflow.getHandle(connectionWorkflowId(tenantId, crm)).describe();
    return withLiveProgress(this.client, description.memo?.[STATE_MEMO_KEY] as ConnectionState);
  }

  /** Polls the memo until the operation has ended; returns the final state. */
  settled(tenantId: string, operationId: string, timeoutMs = 90_000): Promise<ConnectionState> {
    return this.poll(
      tenantId,
      (state) => state.operations.some((o) => o.id === operationId),
      timeoutMs,
      () => `operation ${operationId} did not end within ${timeoutMs} ms`,
    );
  }

  /** Polls the memo until the running operation is at `step`; returns that state. */
  reachedStep(tenantId: string, step: string, timeoutMs = 60_000): Promise<ConnectionState> {
    return this.poll(
      tenantId,
      (state) => state.currentOperation?.currentStep?.step === step,
      timeoutMs,
      (state) => `never reached ${step}: ${JSON.stringify(state.currentOperation)}`,
    );
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

  /** Reads the state every 100 ms until `done` holds for it; throws `failure(last state)` after `timeoutMs`. */
  private async poll(
    tenantId: string,
    done: (state: ConnectionState) => boolean,
    timeoutMs: number,
    failure: (state: ConnectionState) => string,
  ): Promise<ConnectionState> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.state(tenantId);
      if (done(state)) return state;
      if (Date.now() > deadline) throw new Error(failure(state));
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const newOperation = () => ({ operationId: randomUUID() });
