import { Router } from 'express';
import type { Connection } from 'jsforce';
import { asSalesforceStep } from '../../salesforce/errors';
import { describeOrgObject, listOrgObjects } from '../../salesforce/org-catalogue';
import { StepId } from '../../workflows/definitions';
import { requireScope } from '../auth';
import { assertReachable } from '../configuration-check';
import { problems } from '../problem';
import { parseInput } from '../requests';
import type { OrgFieldsView, OrgObjectsView } from '../schemas';
import { orgCatalogueQuerySchema, orgObjectPathSchema, tenantPathSchema } from '../schemas';
import { connectionPath } from '../views';
import type { RouteContext } from './context';
import { assertUsableSecretRef, tenantPath } from './context';
import { resource } from './resource';

type CatalogueQuery = ReturnType<typeof orgCatalogueQuerySchema.parse>;

const OBJECTS = '/tenants/:tenantId/connections/salesforce/objects';

/**
 * As the org's admin: the credentials the query names (a reference the admin backend or the sign-in stored, before
 * any connection exists), or those the connection holds. Tokens never travel in a query string.
 */
async function adminConnection(context: RouteContext, tenantId: string, query: CatalogueQuery): Promise<Connection> {
  if (query.secretRef) {
    if (!query.loginUrl && !query.instanceUrl) {
      const message = 'give loginUrl or instanceUrl with secretRef';
      throw problems.unprocessable('org-url-missing', `query.loginUrl: ${message}`, {
        errors: [{ field: 'query.loginUrl', message }],
      });
    }
    await assertUsableSecretRef(context, tenantId, query.secretRef, 'query.secretRef');
    const loginUrl = (query.loginUrl ?? query.instanceUrl) as string;
    const instanceUrl = (query.instanceUrl ?? query.loginUrl) as string;
    return context.salesforce.admin(
      { loginUrl, instanceUrl, adminCredentials: { secretRef: query.secretRef } },
      StepId.configurationCheck,
    );
  }
  const state = await context.gateway.readState(tenantId, 'salesforce');
  const target = state?.target;
  if (!target) {
    throw problems.conflict(
      'no-admin-credentials',
      'The connection holds no admin credentials to read the org with: sign in to Salesforce first (secretRef).',
    );
  }
  return context.salesforce.admin(target, StepId.configurationCheck);
}

/**
 * What says the org's address does not answer as Salesforce does (refused, unknown host, an answer jsforce cannot
 * read): its URL is wrong, not Salesforce busy.
 */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UNEXPECTED']);

/**
 * Reads the org for the picker: an org whose address refuses connections is a 409 to fix (its URL), where a busy or
 * failing Salesforce is a 503 worth a retry (assertReachable).
 */
function readOrg<T>(read: () => Promise<T>): Promise<T> {
  return assertReachable(async () => {
    try {
      return await read();
    } catch (err) {
      const code = (err as { details?: { salesforceCode?: string }[] }).details?.[0]?.salesforceCode;
      if (code && UNREACHABLE.has(code)) {
        throw problems.conflict(
          'salesforce-unreachable',
          'The org does not answer as Salesforce does at its URL: check the login and instance URLs, or sign in again.',
        );
      }
      throw err;
    }
  });
}

/**
 * `/v1/tenants/{tenantId}/connections/salesforce/objects[/{object}/fields]`: what the org offers the agent to read,
 * from its describe, for the admin page's picker. Reads only, as the org's admin.
 */
export function orgObjectsRouter(context: RouteContext): Router {
  const router = Router();
  resource(router, OBJECTS, {
    GET: [
      requireScope('read'),
      async (req, res) => {
        const { tenantId } = tenantPath(context, tenantPathSchema, req, res);
        const query = parseInput(orgCatalogueQuerySchema, { ...req.query }, 'query');
        const objects = await readOrg(async () => {
          const connection = await adminConnection(context, tenantId, query);
          return asSalesforceStep(StepId.configurationCheck, () => listOrgObjects(connection));
        });
        const body: OrgObjectsView = {
          objects,
          links: { connection: connectionPath(tenantId, 'salesforce') },
        };
        res.set('Cache-Control', 'private, max-age=60').json(body);
      },
    ],
  });
  resource(router, `${OBJECTS}/:object/fields`, {
    GET: [
      requireScope('read'),
      async (req, res) => {
        const { tenantId, object } = tenantPath(context, orgObjectPathSchema, req, res);
        const query = parseInput(orgCatalogueQuerySchema, { ...req.query }, 'query');
        const described = await readOrg(async () => {
          const connection = await adminConnection(context, tenantId, query);
          return asSalesforceStep(StepId.configurationCheck, () => describeOrgObject(connection, object));
        });
        if (!described) {
          throw problems.notFound(
            `The org has no object ${object} the agent can read. List them with GET ${connectionPath(tenantId, 'salesforce')}/objects.`,
          );
        }
        const body: OrgFieldsView = {
          object: described.object,
          fields: described.fields,
          links: { objects: `${connectionPath(tenantId, 'salesforce')}/objects` },
        };
        res.set('Cache-Control', 'private, max-age=60').json(body);
      },
    ],
  });
  return router;
}
