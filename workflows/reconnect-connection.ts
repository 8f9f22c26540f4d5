import { executeChild, workflowInfo } from '@temporalio/workflow';
import type { ConnectionDetails, DisableSagaInput, EnableSagaInput } from './definitions';
import { reconnectPhaseWorkflowId } from './definitions';
import { disableConnection } from './disable-connection';
import { enableConnection } from './enable-connection';

export interface ReconnectSagaInput {
  disable: DisableSagaInput;
  enable: EnableSagaInput;
}

/**
 * Reconnect: removes the existing connection and creates a new one, as the admin console's Reconnect does.
 *
 * Steps: 1. the disable saga (cleans whatever exists, whatever state it is in); 2. the enable saga, which compensates
 * itself on failure. If the disable cannot finish, nothing new is created.
 */
export async function reconnectConnection(input: ReconnectSagaInput): Promise<ConnectionDetails> {
  const { workflowId, typedSearchAttributes } = workflowInfo();
  await executeChild(disableConnection, {
    workflowId: reconnectPhaseWorkflowId(workflowId, 'disable'),
    args: [input.disable],
    typedSearchAttributes,
    staticSummary: `Reconnect, step 1: disable (tenant ${input.disable.tenantId})`,
  });
  return executeChild(enableConnection, {
    workflowId: reconnectPhaseWorkflowId(workflowId, 'enable'),
    args: [input.enable],
    typedSearchAttributes,
    staticSummary: `Reconnect, step 2: enable (tenant ${input.enable.tenantId})`,
  });
}
