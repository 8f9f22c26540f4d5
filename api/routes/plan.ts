import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { Connection } from 'jsforce';
import type { AdminCredentials } from '../../salesforce/clients';
import { isNativelyConnected, isWorking } from '../../workflows/connection-state';
import type { ConnectionState } from '../../workflows/definitions';
import { DEFAULT_AGENT_NAME, StepId } from '../../workflows/definitions';
import { requireScope } from '../auth';
import { assertReachable } from '../configuration-check';
import { planEnable, planUpdateAccess } from '../plans';
import type { Plan } from '../plans';
import { problems } from '../problem';
import { bodyOf, checkAgentConfiguration, parseInput } from '../requests';
import type { PlanView } from '../schemas';
import { connectionPathSchema, planBodySchema } from '../schemas';
import type { RouteContext } from './context';
import { assertUsableSecretRef, tenantPath } from './context';
import { resource } from './resource';

type PlanBody = ReturnType<typeof planBodySchema.parse>;

/** As the admin of the org the plan is about: the request's tokens (never stored), or the connection's. */
async function adminConnection(
  context: RouteContext,
  tenantId: string,
  body: PlanBody,
  state: ConnectionState | undefined,
) {
  const credentials = body.adminCredentials;
  const target = state?.target;
  // Each URL stands for the other when absent, as for an enable; the connection's when the body has neither.
  const loginUrl = body.loginUrl ?? body.instanceUrl ?? target?.loginUrl;
  const instanceUrl = body.instanceUrl ?? body.loginUrl ?? target?.instanceUrl;
  if (!credentials) {
    if (!target || !loginUrl || !instanceUrl) {
      throw problems.conflict(
        'no-admin-credentials',
        'The connection holds no admin credentials to read the org with: send them with the request.',
      );
    }
    return context.salesforce.admin({ loginUrl, instanceUrl, adminCredentials: target.adminCredentials }, StepId.plan);
  }
  // The schema requires a URL with credentials.
  const org = { loginUrl: loginUrl as string, instanceUrl: instanceUrl as string };
  if ('secretRef' in credentials) {
    await assertUsableSecretRef(context, tenantId, credentials.secretRef);
    return context.salesforce.admin({ ...org, adminCredentials: { secretRef: credentials.secretRef } }, StepId.plan);
  }
  const tokens: AdminCredentials = { accessToken: credentials.accessToken, refreshToken: credentials.refreshToken };
  return context.salesforce.adminWith(org, tokens);
}

async function plan(
  context: RouteContext,
  connection: Connection,
  tenantId: string,
  body: PlanBody,
  state: ConnectionState | undefined,
): Promise<Plan> {
  const agentConfiguration = body.agentConfiguration ?? state?.agentConfiguration;
  if (!agentConfiguration || agentConfiguration.objects.length === 0) {
    throw problems.unprocessable(
      'empty-configuration',
      'The agent configuration names no object to read: send it with the request, or save it first.',
    );
  }
  const details = state?.details;
  if (body.operation === 'update_access') return planUpdateAccess(connection, details!, agentConfiguration);
  return planEnable(
    connection,
    {
      tenantId,
      operationId: randomUUID(),
      agentName: body.agentName ?? state?.agentName ?? DEFAULT_AGENT_NAME,
      agentConfiguration,
      appKind: body.appKind ?? state?.appKind ?? 'external_client_app',
      usernameDomain: context.usernameDomain,
    },
    body.operation === 'reconnect' ? details : undefined,
    state ? isWorking(state) : false,
  );
}

/**
 * `POST /v1/tenants/{tenantId}/connections/{crm}/plan`: what an enable, an update of access or a reconnect would do,
 * read from the org. Makes no write to Salesforce and starts nothing.
 */
export function planRouter(context: RouteContext): Router {
  const router = Router();
  resource(router, '/tenants/:tenantId/connections/:crm/plan', {
    POST: [
      requireScope('admin'),
      async (req, res) => {
        const { tenantId, crm } = tenantPath(context, connectionPathSchema, req, res);
        const body = parseInput(planBodySchema, bodyOf(req), 'body');
        checkAgentConfiguration(body.agentConfiguration, ['agentConfiguration']);
        if (isNativelyConnected(crm)) {
          throw problems.conflict('operation-rejected', 'Dynamics 365 Sales is connected natively: nothing to plan.');
        }
        const state = await context.gateway.readState(tenantId, crm);
        if (body.operation !== 'enable' && !state?.details) {
          throw problems.conflict(
            'operation-rejected',
            'The connection is not established: there is nothing to change.',
          );
        }
        const view: PlanView = await assertReachable(async () =>
          plan(context, await adminConnection(context, tenantId, body, state), tenantId, body, state),
        );
        res.json(view);
      },
    ],
  });
  return router;
}
