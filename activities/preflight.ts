import { ApplicationFailure } from '@temporalio/common';
import type { AgentConfiguration, AppKind, ComponentNames, SalesforceTarget } from '../workflows/definitions';
import { ErrorType, StepId } from '../workflows/definitions';
import type { SalesforceClients } from '../salesforce/clients';
import type { FieldGrant } from '../salesforce/components';
import { asSalesforceStep } from '../salesforce/errors';
import { inspectOrg, inspectionProblems } from '../salesforce/org-inspection';
import type { InspectionProblem } from '../salesforce/org-inspection';

export interface PreflightInput {
  tenantId: string;
  operationId: string;
  target: SalesforceTarget;
  appKind: AppKind;
  agentName: string;
  agentConfiguration: AgentConfiguration;
  /**
   * A reconnect's check, before it removes the current connection: components named like the new ones are the
   * current connection's, which the reconnect removes first, not leftovers.
   */
  replacing?: boolean;
  /**
   * A make-before-break reconnect's check: the new components sit beside the current ones (names with this suffix)
   * until the new ones work, so the org needs a spare license for the overlap.
   */
  generation?: string;
}

export interface PreflightResult {
  orgId: string;
  names: ComponentNames;
  integrationProfileId: string;
  permissionSetLicenseId: string;
  grants: FieldGrant[];
  /** An object the readiness check queries as the integration user. */
  probeObject: string;
}

export interface PreflightDependencies {
  clients: SalesforceClients;
  usernameDomain: string;
}

function preflightFailure(problems: InspectionProblem[]): ApplicationFailure {
  const message = problems.map((p) => p.message).join(' ');
  return ApplicationFailure.create({
    type: ErrorType.preflightFailed,
    message,
    nonRetryable: true,
    details: [
      {
        salesforceCode: problems[0]?.code ?? 'PREFLIGHT_FAILED',
        // The preflight's findings are ours (read from the org), not words Salesforce answered with.
        message,
        fix: problems[0]?.fix ?? 'Fix the org as described, then try again.',
        step: StepId.preflight,
      },
    ],
  });
}

export function createPreflightActivities({ clients, usernameDomain }: PreflightDependencies) {
  return {
    /**
     * Everything an enable needs to know before it creates anything, in one Composite Batch call (see
     * salesforce/org-inspection.ts); fails, creating nothing, with the most fundamental problems found.
     */
    async preflight(input: PreflightInput): Promise<PreflightResult> {
      return asSalesforceStep(StepId.preflight, async () => {
        if (input.agentConfiguration.objects.length === 0) {
          throw preflightFailure([
            {
              code: 'PREFLIGHT_FAILED',
              message: 'The agent configuration names no object to read.',
              fix: 'Configure the objects and fields the agent reads, then enable again.',
            },
          ]);
        }
        const connection = await clients.admin(input.target, StepId.preflight);
        const inspection = await inspectOrg(connection, { ...input, usernameDomain }, StepId.preflight);
        const [first] = inspectionProblems(inspection, {
          replacing: input.replacing,
          overlap: input.generation !== undefined,
        });
        if (first) throw preflightFailure(first);
        const { grants } = inspection.configuration;
        return {
          orgId: inspection.orgId,
          names: inspection.names,
          integrationProfileId: inspection.integrationProfileId as string,
          permissionSetLicenseId: (inspection.permissionSetLicense as { id: string }).id,
          grants,
          probeObject: grants[0]?.object ?? 'Account',
        };
      });
    },
  };
}
