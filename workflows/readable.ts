/**
 * What operators read in the Web UI: each workflow's details in plain words (Temporal's user metadata). Pure
 * functions of the state, no Temporal calls.
 */
import type {
  ComponentRef,
  ConnectionError,
  ConnectionState,
  FleetProgress,
  OperationKind,
  OperationRecord,
} from './definitions';
import { healthScheduleId } from './definitions';
import type { StepDefinition } from './steps';
import { DISABLE_STEPS, ENABLE_STEPS, RECONNECT_CHECK_STEPS, ROTATION_STEPS, UPDATE_ACCESS_STEPS } from './steps';

const OPERATION_NAMES: Record<OperationKind, string> = {
  enable: 'Enable access',
  disable: 'Disable access',
  reconnect: 'Reconnect',
  rotate_certificate: 'Certificate rotation',
  update_access: 'Update access',
};

/** What each saga's workflow type is called in its details. */
export const SAGA_NAMES: Record<string, string> = {
  enableConnection: 'Enable access',
  disableConnection: 'Disable access',
  reconnectConnection: 'Reconnect',
  rotateCertificate: 'Certificate rotation',
  updateAccess: 'Update access',
};

/** The steps of each operation kind, as its saga(s) run them. */
export const OPERATION_STEPS: Record<OperationKind, StepDefinition[]> = {
  enable: ENABLE_STEPS,
  disable: DISABLE_STEPS,
  reconnect: [...RECONNECT_CHECK_STEPS, ...DISABLE_STEPS, ...ENABLE_STEPS],
  rotate_certificate: ROTATION_STEPS,
  update_access: UPDATE_ACCESS_STEPS,
};

const COMPONENT_NAMES: Record<ComponentRef['kind'], string> = {
  permission_set: 'permission set',
  integration_user: 'integration user',
  user_access: 'permission set assignment of',
  client_app: 'OAuth client app',
  signing_key: 'signing key',
};

export type FinalOutcome = 'succeeded' | 'failed' | 'rollback_incomplete' | 'cancelled';

const OUTCOME_WORDS: Record<FinalOutcome, string> = {
  succeeded: 'succeeded',
  failed: 'failed; everything it had created was removed',
  rollback_incomplete: 'failed and could not remove everything it had created',
  cancelled: 'was cancelled; everything it had created was removed',
};

function titles(steps: StepDefinition[], ids: string[]): string {
  const named = ids.map((id) => steps.find((s) => s.id === id)?.title ?? id);
  return named.length > 0 ? named.join('; ') : 'nothing';
}

export function componentText(c: ComponentRef): string {
  return `${COMPONENT_NAMES[c.kind]} ${c.name}${c.id ? ` (id ${c.id})` : ''}`;
}

function remainingText(remaining: ComponentRef[]): string {
  return remaining.length > 0
    ? `Left in the org: ${remaining.map(componentText).join('; ')}. Disable access or Reconnect removes them.`
    : 'Nothing it created is left in the org.';
}

/** A running saga: the step it is on, what it did, undid, and what it still has to do. */
export function describeSagaProgress(
  name: string,
  steps: StepDefinition[],
  progress: { currentStep?: string; stepsDone: string[]; stepsCompensated: string[]; undoing?: boolean },
): string {
  const index = steps.findIndex((s) => s.id === progress.currentStep);
  const lines = [
    index >= 0
      ? `**${name}** — ${progress.undoing ? 'undoing after' : 'step'} ${index + 1} of ${steps.length}: ${steps[index]?.title}`
      : `**${name}**`,
    '',
    `- Done: ${titles(steps, progress.stepsDone)}`,
  ];
  if (progress.undoing || progress.stepsCompensated.length > 0) {
    lines.push(`- Undone: ${titles(steps, progress.stepsCompensated)}`);
  }
  if (!progress.undoing) {
    const left = steps.slice(index + 1).map((s) => s.id);
    lines.push(`- Still to do: ${titles(steps, left)}`);
  }
  return lines.join('\n');
}

/** An ended saga: how it ended, what it did and undid, and what it left in the org. */
export function describeSagaEnd(
  name: string,
  steps: StepDefinition[],
  end: {
    outcome: FinalOutcome;
    stepsDone: string[];
    stepsCompensated: string[];
    remaining: ComponentRef[];
    error?: ConnectionError;
  },
): string {
  const at = end.error?.step ? ` at “${steps.find((s) => s.id === end.error?.step)?.title ?? end.error.step}”` : '';
  const lines = [`**${name} ${OUTCOME_WORDS[end.outcome]}**${end.outcome === 'succeeded' ? '' : at}`, ''];
  if (end.error) lines.push(`- Why: ${end.error.message}`, `- What to do: ${end.error.fix}`);
  lines.push(`- Done: ${titles(steps, end.stepsDone)}`);
  if (end.outcome !== 'succeeded') lines.push(`- Undone: ${titles(steps, end.stepsCompensated)}`);
  lines.push(`- ${remainingText(end.remaining)}`);
  return lines.join('\n');
}

/** The steps an operation will run, for its saga's static details. */
export function describeOperationSteps(kind: OperationKind): string {
  return [
    `**${OPERATION_NAMES[kind]}**: steps in order (each undone if a later one fails)`,
    '',
    ...OPERATION_STEPS[kind].map((s, i) => `${i + 1}. ${s.title}`),
  ].join('\n');
}

function operationLine(record: OperationRecord): string {
  const name = OPERATION_NAMES[record.kind];
  if (record.status === 'running') {
    const step = record.currentStep
      ? `, step ${record.currentStep.index} of ${record.currentStep.total}: ${record.currentStep.title}`
      : '';
    return `Running: ${name} (operation ${record.id}, workflow ${record.workflowId})${step}`;
  }
  const words = OUTCOME_WORDS[record.status];
  const failure = record.failure ? ` — ${record.failure.message}` : '';
  return `Last operation: ${name} ${words}${failure} (operation ${record.id}, workflow ${record.workflowId}, ended ${record.endedAt ?? '?'})`;
}

/** The connection: its status, the running or last operation, what is left in the org, the last health check. */
export function describeConnection(state: ConnectionState): string {
  const lines = [`**${state.tenantId} / ${state.crm}: ${state.status}** — ${state.statusMessage}`, ''];
  const record = state.currentOperation ?? state.operations[0];
  if (record) lines.push(`- ${operationLine(record)}`);
  if (record?.remaining?.length) lines.push(`- ${remainingText(record.remaining)}`);
  if (state.leftovers.length > 0 && !record?.remaining?.length) lines.push(`- ${remainingText(state.leftovers)}`);
  if (state.lastError && state.status === 'error') lines.push(`- What to do: ${state.lastError.fix}`);
  if (state.health) {
    const failures = state.health.problems.filter((p) => !p.drift);
    // A check that finds what the connection already shows sends nothing: the time here is the last report's, and
    // the checks since are the Schedule's recent runs.
    lines.push(
      `- Health as last reported (${state.health.checkedAt}): ${failures.length === 0 ? 'passed' : failures.map((p) => p.message).join(' ')}`,
      `- Checks that find no change report nothing: the latest are the recent runs of Schedule \`${healthScheduleId(state.tenantId, state.crm)}\``,
    );
  }
  lines.push(`- Operations: query \`state\`, or GET /v1/tenants/${state.tenantId}/connections/${state.crm}/operations`);
  return lines.join('\n');
}

const FLEET_STATUS_WORDS: Record<FleetProgress['status'], string> = {
  running: 'running',
  paused: 'paused: no tenant starts until it is resumed',
  cancelled: 'cancelled: no tenant starts; those running finish',
  completed: 'completed',
};

/** A fleet operation's static details: what it does and how it paces itself. */
export function describeFleetOperation(kind: OperationKind, selection: string, pacing: string): string {
  return [
    `**${OPERATION_NAMES[kind]} over a fleet**: ${selection}`,
    '',
    `- Each tenant's operation runs through its connection workflow (one operation per tenant at a time); ${pacing}.`,
    '- Progress: memo `fleet`, or GET /v1/fleet-operations/{id}; pause, resume or cancel with its updates or POSTs.',
  ].join('\n');
}

/** A fleet operation's progress: its counts and the first failures. */
export function describeFleetProgress(progress: FleetProgress): string {
  const lines = [
    `**${OPERATION_NAMES[progress.kind]} over ${progress.total} tenants: ${FLEET_STATUS_WORDS[progress.status]}**`,
    '',
    `- Done ${progress.done}, failed ${progress.failed}, running ${progress.running}, remaining ${progress.remaining}`,
  ];
  for (const f of progress.failures.slice(0, 10)) lines.push(`- Failed: ${f.tenantId} — ${f.code}: ${f.message}`);
  return lines.join('\n');
}
