/**
 * The benchmark's baseline: a workflow with as many activities as an enable has steps, each of which does nothing.
 * It measures what Temporal itself costs on this machine. Bundled only by bench/baseline-worker.ts, never by the
 * product's worker.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { BaselineActivities } from './baseline-activities';

/** As many as the enable saga's activities: preflight, signing key, permission set, user, access, app, readiness. */
const BASELINE_STEPS = 7;

const { noop } = proxyActivities<BaselineActivities>({ startToCloseTimeout: '1 minute' });

export async function baselineWorkflow(id: string): Promise<number> {
  let done = 0;
  for (let step = 0; step < BASELINE_STEPS; step += 1) done += await noop(id, step);
  return done;
}
