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
  async settled(tenantId: string, operationId: string, timeoutMs = 90_000): Promise<ConnectionState> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await this.state(tenantId);
      if (state.operations.some((o) => o.id === operationId)) return state;
      if (Date.now() > deadline) throw new Error(`operation ${operationId} did not end within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
