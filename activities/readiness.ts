import { ApplicationFailure } from '@temporalio/common';
import type { SecretRef } from '../workflows/definitions';
import { ErrorType, StepId } from '../workflows/definitions';
import type { SalesforceClients } from '../salesforce/clients';
import { asSalesforceStep } from '../salesforce/errors';

export interface ReadinessInput {
  loginUrl: string;
  consumerKey: string;
  username: string;
  privateKey: SecretRef;
  probeObject: string;
}

/**
 * What Salesforce answers while a new app propagates (it says 2 to 10 minutes): the consumer key is unknown, or the
 * pre-authorization is not visible yet. These mean "not yet", not "wrong".
 */
function isPropagationError(err: unknown): boolean {
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'invalid_client_id') return true;
  if (name === 'invalid_app_access') return true;
  return name === 'invalid_grant' && /approved|not admin approved/i.test(message);
}

export function createReadinessActivities({ clients }: { clients: SalesforceClients }) {
  return {
    /**
     * Proves the connection works end to end: the integration user gets a token by the JWT bearer flow and reads a
     * granted object. Throws a retryable ConnectionNotReady while Salesforce propagates the new app; the workflow's
     * retry policy turns that into a durable, backed-off wait.
     */
    async checkReadiness(input: ReadinessInput): Promise<{ instanceUrl: string }> {
      const step = StepId.readiness;
      return asSalesforceStep(step, async () => {
        let token;
        try {
          token = await clients.requestAgentToken({ ...input, step });
        } catch (err) {
          if (!isPropagationError(err)) throw err;
          throw ApplicationFailure.create({
            type: ErrorType.notReady,
            message: `Salesforce is still propagating the app: ${(err as Error).message}`,
            nonRetryable: false,
            category: 'BENIGN',
          });
        }
        await clients.agentConnection(token).query(`SELECT Id FROM ${input.probeObject} LIMIT 1`);
        return { instanceUrl: token.instance_url };
      });
    },
  };
}
