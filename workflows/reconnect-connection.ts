import { executeChild, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { FORWARD_STEP } from './activity-options';
import type { ConnectionDetails, DisableSagaInput, EnableSagaInput, ReconnectStrategy } from './definitions';
import { withOperationOutcome } from './outcome';
import { OPERATION_STEPS, SAGA_NAMES } from './readable';
import { StepId, reconnectPhaseWorkflowId } from './definitions';
import { disableConnection } from './disable-connection';
import { enableConnection } from './enable-connection';
import { orgUnchangedFailure } from './failures';
import { makeBeforeBreak } from './make-before-break';
import { repairConnection } from './repair-connection';
import { Saga } from './saga';
import { RECONNECT_CHECK_STEPS } from './steps';

const forward = proxyActivities<Activities>(FORWARD_STEP);

/** Reconnects started before it removed first and checked after; they replay without the check. */
export const RECONNECT_CHECKS_FIRST_PATCH = 'reconnect-checks-first';

/** Reconnects of a working connection started before they made the new one before breaking the old one. */
export const RECONNECT_MAKE_BEFORE_BREAK_PATCH = 'reconnect-make-before-break';

/** Reconnects of a broken connection started before they repaired it in place. */
export const RECONNECT_REPAIR_PATCH = 'reconnect-repair-in-place';

export interface ReconnectSagaInput {
  disable: DisableSagaInput;
  enable: EnableSagaInput;
  /** Chosen by the connection when it accepted the reconnect; absent in reconnects started before the choice. */
  strategy?: ReconnectStrategy;
}

/**
 * Checks everything the new connection needs — the admin's credentials and permissions, licenses, the configured
 * objects and fields — before anything is removed: a reconnect that cannot succeed changes nothing, and a working
 * connection keeps working.
 */
async function checkBeforeRemoving(enable: EnableSagaInput): Promise<void> {
  const saga = new Saga(enable, RECONNECT_CHECK_STEPS);
  try {
    await saga.step(StepId.preflight, () =>
      forward.preflight({
        tenantId: enable.tenantId,
        operationId: enable.operationId,
        target: enable.target,
        appKind: enable.appKind,
        agentName: enable.agentName,
        agentConfiguration: enable.agentConfiguration,
        replacing: true,
      }),
    );
  } catch (err) {
    throw orgUnchangedFailure(err, StepId.preflight);
  }
}

/**
 * Break before make: 1. the checks of the new connection, before anything is removed; 2. the disable saga (cleans
 * whatever exists, whatever state it is in); 3. the enable saga, which compensates itself on failure. If the checks
 * fail, nothing is removed; if the disable cannot finish, nothing new is created.
 */
async function breakBeforeMake(input: ReconnectSagaInput): Promise<ConnectionDetails> {
  const { workflowId, typedSearchAttributes } = workflowInfo();
  if (patched(RECONNECT_CHECKS_FIRST_PATCH)) await checkBeforeRemoving(input.enable);
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

/**
 * Reconnect: replaces the connection's components with new ones, as the admin console's Reconnect does.
 *
 * A working connection is replaced make-before-break (make-before-break.ts): the agent keeps its access throughout,
 * and a failure leaves the old connection as it was. A broken one is repaired in place (repair-connection.ts), or,
 * when a part is gone for good, recreated break before make — as is one the admin asked to recreate, or one in an
 * org without a spare license whose admin confirmed.
 */
async function runReconnectConnection(input: ReconnectSagaInput): Promise<ConnectionDetails> {
  const previous = input.disable.details;
  if (input.strategy === 'make_before_break' && previous && patched(RECONNECT_MAKE_BEFORE_BREAK_PATCH)) {
    return makeBeforeBreak(input.enable, previous);
  }
  if (input.strategy === 'repair' && previous && patched(RECONNECT_REPAIR_PATCH)) {
    const repaired = await repairConnection(input.enable, previous);
    if (repaired) return repaired;
  }
  return breakBeforeMake(input);
}

/** The workflow: the saga above, with its outcome recorded for operators (outcome.ts). */
export function reconnectConnection(input: ReconnectSagaInput): Promise<ConnectionDetails> {
  return withOperationOutcome(
    { name: SAGA_NAMES.reconnectConnection!, operationId: input.enable.operationId, steps: OPERATION_STEPS.reconnect },
    () => runReconnectConnection(input),
  );
}
