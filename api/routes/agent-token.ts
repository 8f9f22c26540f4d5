import { Router } from 'express';
import { servesAgent } from '../../workflows/connection-state';
import { requireScope } from '../auth';
import { HttpProblem, problems } from '../problem';
import { bodyOf, checkIdempotencyKey, parseInput } from '../requests';
import type { AgentTokenView } from '../schemas';
import { connectionPathSchema, emptyBodySchema } from '../schemas';
import type { RouteContext } from './context';
import { tenantPath } from './context';
import { resource } from './resource';

/** Salesforce's OAuth error codes are safe to show; anything else from the sign-in stays in the service. */
function salesforceCodeOf(err: unknown): string {
  const candidate = (err as { errorCode?: unknown; name?: unknown; type?: unknown }) ?? {};
  for (const value of [candidate.errorCode, candidate.name]) {
    if (typeof value === 'string' && /^[a-z_]+$/.test(value)) return value;
  }
  const details = (err as { details?: Array<{ salesforceCode?: unknown }> }).details;
  const code = details?.[0]?.salesforceCode;
  return typeof code === 'string' && /^[A-Z_]+$/.test(code) ? code : 'unknown';
}

/**
 * `POST .../connections/salesforce/agent-token`: a short-lived Salesforce access token for the integration user, for
 * the agent (its own `agent` scope, apart from the admin's). The private key never leaves the service.
 */
export function agentTokenRouter(context: RouteContext): Router {
  const router = Router();
  resource(router, '/tenants/:tenantId/connections/:crm/agent-token', {
    POST: [
      requireScope('agent'),
      async (req, res) => {
        const { tenantId, crm } = tenantPath(context, connectionPathSchema, req, res);
        checkIdempotencyKey(req);
        parseInput(emptyBodySchema, bodyOf(req), 'body');
        if (crm !== 'salesforce') {
          throw problems.conflict(
            'not-applicable',
            'The agent reaches Dynamics 365 Sales natively; it needs no token.',
          );
        }
        const state = await context.tokens.connectionState(`${tenantId}|${crm}`, () =>
          context.gateway.readState(tenantId, crm),
        );
        const details = state?.details;
        // A make-before-break reconnect keeps serving: the old components until the switch, the new ones after.
        if (!details || !servesAgent(state)) {
          context.tokens.forgetTenant(tenantId);
          throw problems.conflict('not-connected', 'Salesforce access is not enabled for this tenant.');
        }
        let token;
        try {
          token = await context.tokens.token(tenantId, details);
        } catch (err) {
          throw new HttpProblem(
            502,
            'salesforce-token-refused',
            `Salesforce did not issue a token for the integration user (${salesforceCodeOf(err)}). ` +
              'If this persists, reconnect the connection.',
          );
        }
        const body: AgentTokenView = {
          accessToken: token.accessToken,
          tokenType: 'Bearer',
          instanceUrl: token.instanceUrl,
          expiresAt: new Date(token.expiresAt).toISOString(),
        };
        res.set('Cache-Control', 'no-store').json(body);
      },
    ],
  });
  return router;
}
