import type { SalesforceClients } from '../salesforce/clients';
import { checkConfigurationInOrg } from '../salesforce/configuration-check';
import type { AgentConfiguration, ConnectionState } from '../workflows/definitions';
import { ErrorType, StepId } from '../workflows/definitions';
import { RETRY_AFTER_SECONDS } from './connection-gateway';
import { HttpProblem, problems } from './problem';

interface FailureLike {
  type?: string;
  message?: string;
  details?: unknown[];
}

/**
 * Checks a configuration against the tenant's org before it is saved, with the admin credentials the connection
 * holds: 422 naming every unknown or unreadable object and field. A tenant with no connection yet has no org to
 * check against; its configuration is checked when it is enabled (preflight).
 */
export async function assertConfigurationServable(
  salesforce: Pick<SalesforceClients, 'admin'>,
  state: ConnectionState | undefined,
  configuration: AgentConfiguration,
): Promise<void> {
  const target = state?.target;
  if (!target) return;
  const check = await assertReachable(async () =>
    checkConfigurationInOrg(
      await salesforce.admin(target, StepId.configurationCheck),
      configuration,
      StepId.configurationCheck,
    ),
  );
  if (check.problems.length === 0) return;
  throw problems.unprocessable(
    'configuration-not-servable',
    `The org cannot serve this configuration: ${check.problems.map((p) => p.message).join(' ')}`,
    { errors: check.problems.map((p) => ({ field: `body.${p.path}`, message: p.message })) },
  );
}

/**
 * Runs a read of the org for a request: a failure to ask it (HTTP problems pass through) becomes a 503 worth a
 * retry when transient, a 409 naming what the admin must fix otherwise.
 */
export async function assertReachable<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof HttpProblem) throw err;
    throw unreachable(err as FailureLike);
  }
}

/** The org could not be asked: a transient failure is worth a retry; anything else needs the admin. */
function unreachable(failure: FailureLike) {
  const detail = (failure.details?.[0] ?? {}) as { message?: string; fix?: string };
  const reason = detail.message ?? failure.message ?? 'Salesforce did not answer.';
  if (failure.type === ErrorType.salesforceTransient) {
    return problems.unavailable(`Salesforce could not be asked (${reason}). Retry later.`, RETRY_AFTER_SECONDS);
  }
  return problems.conflict('salesforce-refused', `Salesforce could not be asked: ${reason} ${detail.fix ?? ''}`.trim());
}
