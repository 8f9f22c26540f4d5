/**
 * The benchmark's baseline: a workflow with as many activities as an enable has steps, each of which does nothing.
 * It measures what Temporal itself costs on this machine. Its variants add, one at a time, what the service's design
 * asks of Temporal beyond it (`BENCH_ONLY=design`), so that the gap between the baseline and our orchestration can be
 * told apart: what Temporal charges for the design, and what our code adds. Bundled only by bench/baseline-worker.ts,
 * never by the product's worker.
 */
import {
  condition,
  defineUpdate,
  executeChild,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { BaselineActivities } from './baseline-activities';

/** As many as the enable saga's activities: preflight, signing key, permission set, user, access, app, readiness. */
const BASELINE_STEPS = 7;

const { noop, createHourlySchedule } = proxyActivities<BaselineActivities>({ startToCloseTimeout: '1 minute' });

export async function baselineWorkflow(id: string): Promise<number> {
  let done = 0;
  for (let step = 0; step < BASELINE_STEPS; step += 1) done += await noop(id, step);
  return done;
}

/** The per-operation workflow: the same steps, run as a child of a workflow of the tenant's. */
export function baselineInChild(id: string): Promise<number> {
  return executeChild(baselineWorkflow, { workflowId: `${workflowInfo().workflowId}:operation`, args: [id] });
}

/**
 * The child's steps with what readers are shown, as the sagas publish it: its progress in its memo at each step
 * (the admin's page), its outcome in a search attribute at the end (operators' lists).
 */
export async function baselinePublishingSteps(id: string): Promise<number> {
  let done = 0;
  const stepsDone: number[] = [];
  for (let step = 0; step < BASELINE_STEPS; step += 1) {
    upsertMemo({ progress: { operationId: id, currentStep: step, total: BASELINE_STEPS, stepsDone } });
    done += await noop(id, step);
    stepsDone.push(step);
  }
  upsertMemo({ progress: { operationId: id, stepsDone, outcome: 'succeeded' } });
  upsertSearchAttributes({ OperationOutcome: ['succeeded'] });
  return done;
}

/** The tenant's state as the connection publishes it: its memo (the API reads it) and search attributes (lists). */
function publishTenant(id: string, status: string, operation: string): void {
  upsertMemo({ state: { tenantId: id, status, operation, at: Date.now() } });
  upsertSearchAttributes({ ConnectionStatus: [status], Operation: [operation] });
}

/** The per-operation workflow with what both publish: the parent's state before and after, the child's progress. */
export async function baselinePublishingInChild(id: string): Promise<number> {
  publishTenant(id, 'enabling', 'enable');
  const done = await executeChild(baselinePublishingSteps, {
    workflowId: `${workflowInfo().workflowId}:operation`,
    args: [id],
  });
  publishTenant(id, 'enabled', 'none');
  return done;
}

/** The operation an admin sends, as an update the tenant's workflow validates and records before it answers. */
export const operateUpdate = defineUpdate<string, [string]>('operate');

/** Waits for the operation an update brings; the validator refuses a second one while one runs. */
async function admittedOperation(): Promise<string> {
  let operationId: string | undefined;
  setHandler(operateUpdate, (id) => (operationId = id), {
    validator: (_id: string) => {
      if (operationId !== undefined) throw new Error('an operation is running');
    },
  });
  await condition(() => operationId !== undefined);
  return operationId!;
}

/**
 * All of the above, admitted as the API admits an operation: an update-with-start whose validator refuses a second
 * operation while one runs; the workflow answers once the operation is recorded, then runs it.
 */
export async function baselineAdmitted(): Promise<number> {
  return baselinePublishingInChild(await admittedOperation());
}

/** All of the above, and the hourly Schedule an enable creates for its connection's health checks. */
export async function baselineScheduled(): Promise<number> {
  const operationId = await admittedOperation();
  const done = await baselinePublishingInChild(operationId);
  await createHourlySchedule(operationId);
  return done;
}
