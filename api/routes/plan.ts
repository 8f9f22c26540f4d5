import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { Connection } from 'jsforce';
import type { AdminCredentials } from '../../salesforce/clients';
import { isNativelyConnected } from '../../workflows/connection-state';
import type { ConnectionState } from '../../workflows/definitions';
import { DEFAULT_AGENT_NAME, StepId } from '../../workflows/definitions';
import { requireScope } from '../auth';
import { assertReachable } from '../configuration-check';
import { planEnable, planUpdateAccess } from '../plans';
import type { Plan } from '../plans';
import { problems } from '../problem';
import { bodyOf, parseInput } from '../requests';
import type { PlanView } from '../schemas';
import { connectionPathSchema, planBodySchema } from '../schemas';
import type { RouteContext } from './context';
import { tenantPath } from './context';
import { resource } from './resource';

type PlanBody = ReturnType<typeof planBodySchema.parse>;

/** As the admin of the org the plan is about: the request's tokens (never stored), or the connection's. */
async function adminConnection(context: RouteContext, body: PlanBody, state: ConnectionState | undefined) {
  const credentials = body.adminCredentials;
  if (credentials?.secretRef || (!credentials && state?.target)) {
    const target = state?.target;
    const ref = credentials?.secretRef;
    const org = { loginUrl: body.loginUrl ?? target?.loginUrl, instanceUrl: body.instanceUrl ?? target?.instanceUrl };
    if (!org.loginUrl || !org.instanceUrl)
      throw problems.invalid([{ field: 'body.loginUrl', message: 'give loginUrl' }]);
    const adminCredentials = ref ? { secretRef: ref } : target!.adminCredentials;
    return context.salesforce.admin(
      { loginUrl: org.loginUrl, instanceUrl: org.instanceUrl, adminCredentials },
      StepId.plan,
    );
  }
  if (!credentials) {
    throw problems.invalid([
      { field: 'body.adminCredentials', message: 'the connection holds no admin credentials: give them to plan' },
    ]);
  }
  const loginUrl = (body.loginUrl ?? body.instanceUrl) as string;
  const instanceUrl = (body.instanceUrl ?? body.loginUrl) as string;
  const tokens: AdminCredentials = {
    accessToken: credentials.accessToken ?? '',
    refreshToken: credentials.refreshToken,
  };
  return context.salesforce.adminWith({ loginUrl, instanceUrl }, tokens);
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
          plan(context, await adminConnection(context, body, state), tenantId, body, state),
        );
        res.json(view);
      },
    ],
  });
  return router;
}
