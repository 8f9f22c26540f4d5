import { Router } from 'express';
import { requireScope } from '../auth';
import { assertConfigurationServable } from '../configuration-check';
import { problems } from '../problem';
import { bodyOf, checkAgentConfiguration, parseInput } from '../requests';
import type { AgentConfigurationView } from '../schemas';
import { agentConfigurationSchema, tenantPathSchema } from '../schemas';
import { connectionPath, connectionView } from '../views';
import type { ConnectionState } from '../../workflows/definitions';
import type { RouteContext } from './context';
import { tenantPath } from './context';
import { resource } from './resource';

function configurationView(tenantId: string, state: ConnectionState): AgentConfigurationView {
  const connection = connectionView(state);
  return {
    objects: state.agentConfiguration?.objects ?? [],
    needsReconnect: connection.needsReconnect,
    missingFields: connection.missingFields,
    links: { connection: connectionPath(tenantId, 'salesforce') },
  };
}

/**
 * `/v1/tenants/{tenantId}/agent-configuration`: the objects and fields the agent reads. Saving more than the connection
 * grants makes the connection say it needs a reconnect, with the missing fields.
 */
export function agentConfigurationRouter(context: RouteContext): Router {
  const router = Router();
  resource(router, '/tenants/:tenantId/agent-configuration', {
    GET: [
      requireScope('read'),
      async (req, res) => {
        const { tenantId } = tenantPath(context, tenantPathSchema, req, res);
        const state = await context.gateway.readState(tenantId, 'salesforce');
        if (!state?.agentConfiguration) throw problems.notFound('No agent configuration has been saved yet.');
        res.json(configurationView(tenantId, state));
      },
    ],
    PUT: [
      requireScope('admin'),
      async (req, res) => {
        const { tenantId } = tenantPath(context, tenantPathSchema, req, res);
        const configuration = parseInput(agentConfigurationSchema, bodyOf(req), 'body');
        checkAgentConfiguration(configuration, []);
        await assertConfigurationServable(
          context.salesforce,
          await context.gateway.readState(tenantId, 'salesforce'),
          configuration,
        );
        const state = await context.gateway.configureAgent(tenantId, configuration);
        res.json(configurationView(tenantId, state));
      },
    ],
  });
  return router;
}
