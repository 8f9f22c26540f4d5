import { Router } from 'express';
import type { ConnectionState, OperationRecord } from '../../workflows/definitions';
import { requireScope } from '../auth';
import { problems } from '../problem';
import { bodyOf, checkIdempotencyKey, parseInput, queryOf } from '../requests';
import type { OperationView } from '../schemas';
import { connectionPathSchema, emptyBodySchema, operationPathSchema, operationsQuerySchema } from '../schemas';
import { operationPath, operationView } from '../views';
import type { RouteContext } from './context';
import { tenantPath } from './context';
import { resource } from './resource';

const OPERATIONS = '/tenants/:tenantId/connections/:crm/operations';

/** The running operation first, then the ended ones, most recent first. */
function operationsOf(state: ConnectionState | undefined): OperationRecord[] {
  if (!state) return [];
  return [...(state.currentOperation ? [state.currentOperation] : []), ...state.operations];
}

/** `.../operations`: the connection's operations, one of them, and cancelling a running one. */
export function operationsRouter(context: RouteContext): Router {
  const router = Router();

  resource(router, OPERATIONS, {
    GET: [
      requireScope('read'),
      async (req, res) => {
        const { tenantId, crm } = tenantPath(context, connectionPathSchema, req, res);
        const query = parseInput(operationsQuerySchema, queryOf(req), 'query');
        const operations: OperationView[] = operationsOf(
          await context.gateway.readState(tenantId, crm, { withProgress: true }),
        )
          .filter((record) => !query.status || record.status === query.status)
          .slice(0, query.limit ?? 50)
          .map((record) => operationView(tenantId, crm, record));
        res.json({ operations });
      },
    ],
  });

  resource(router, `${OPERATIONS}/:operationId`, {
    GET: [
      requireScope('read'),
      async (req, res) => {
        const { tenantId, crm, operationId } = tenantPath(context, operationPathSchema, req, res);
        const record = operationsOf(await context.gateway.readState(tenantId, crm, { withProgress: true })).find(
          (o) => o.id === operationId,
        );
        if (!record) throw problems.notFound(`No operation ${operationId} on this connection.`);
        res.json(operationView(tenantId, crm, record));
      },
    ],
  });

  resource(router, `${OPERATIONS}/:operationId/cancel`, {
    POST: [
      requireScope('admin'),
      async (req, res) => {
        const { tenantId, crm, operationId } = tenantPath(context, operationPathSchema, req, res);
        checkIdempotencyKey(req);
        parseInput(emptyBodySchema, bodyOf(req), 'body');
        const known = operationsOf(await context.gateway.readState(tenantId, crm)).find((o) => o.id === operationId);
        if (!known) throw problems.notFound(`No operation ${operationId} on this connection.`);
        // Cancelling twice is asking for what is already true: the same answer, not an error.
        if (known.status !== 'running' && known.status !== 'cancelled') {
          throw problems.conflict('operation-ended', `Operation ${operationId} has already ended (${known.status}).`);
        }
        const record = known.status === 'running' ? await context.gateway.cancel(tenantId, crm, operationId) : known;
        res
          .status(202)
          .location(operationPath(tenantId, crm, operationId))
          .json(operationView(tenantId, crm, record));
      },
    ],
  });

  return router;
}
