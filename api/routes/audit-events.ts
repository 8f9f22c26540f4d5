import { Router } from 'express';
import { InvalidCursorError } from '../../audit/audit-store';
import { AUDIT_DEFAULT_LIMIT, auditPathSchema, auditQuerySchema } from '../audit-schemas';
import { requireScope } from '../auth';
import { problems } from '../problem';
import { parseInput, queryOf } from '../requests';
import type { RouteContext } from './context';
import { tenantPath } from './context';
import { resource } from './resource';

/** `GET /v1/tenants/{t}/audit-events`: the tenant's audit trail, most recent first, a page at a time. */
export function auditEventsRouter(context: RouteContext): Router {
  const router = Router();
  resource(router, '/tenants/:tenantId/audit-events', {
    GET: [
      requireScope('read'),
      async (req, res) => {
        const { tenantId } = tenantPath(context, auditPathSchema, req, res);
        const query = parseInput(auditQuerySchema, queryOf(req), 'query');
        if (!context.audit) throw problems.unavailable('The audit trail is not configured on this API.', 60);
        try {
          res.json(
            await context.audit.list(tenantId, { limit: query.limit ?? AUDIT_DEFAULT_LIMIT, cursor: query.cursor }),
          );
        } catch (err) {
          if (!(err instanceof InvalidCursorError)) throw err;
          throw problems.invalid([{ field: 'query.cursor', message: err.message }]);
        }
      },
    ],
  });
  return router;
}
