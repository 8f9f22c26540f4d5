import type { Request, Response } from 'express';
import { Router } from 'express';
import { principalOf, requireScope } from '../auth';
import type { FleetGateway } from '../fleet-operations';
import { fleetOperationView } from '../fleet-operations';
import type { FleetOperationBody } from '../fleet-schemas';
import { FLEET_MAX_TENANTS, fleetOperationBodySchema, fleetPathSchema } from '../fleet-schemas';
import { problems } from '../problem';
import { bodyOf, canonicalJson, checkIdempotencyKey, operationIdOf, parseInput, sha256Hex } from '../requests';
import { emptyBodySchema } from '../schemas';
import type { FleetSelection } from '../../workflows/definitions';
import type { RouteContext } from './context';
import { resource } from './resource';

const FLEET = '/fleet-operations';
/** The namespace of fleet operations' Idempotency-Keys (not a tenant id, so it never meets one). */
const FLEET_KEY_SPACE = '*fleet*';

const fleetPath = (id: string) => `/v1${FLEET}/${id}`;

function unprocessable(slug: string, field: string, message: string) {
  return problems.unprocessable(slug, `${field}: ${message}`, { errors: [{ field, message }] });
}

/** The selection, checked against what no schema states: the known tenants, and how many a status matches. */
async function selectionOf(
  context: RouteContext,
  fleet: FleetGateway,
  body: FleetOperationBody,
): Promise<{ selection: FleetSelection; total: number }> {
  if (body.tenantIds) {
    const tenantIds = [...new Set(body.tenantIds)];
    const unknown = body.tenantIds.findIndex((t) => context.knownTenants && !context.knownTenants.has(t));
    if (unknown >= 0) throw unprocessable('unknown-tenant', `body.tenantIds[${unknown}]`, 'no such tenant');
    return { selection: { tenantIds }, total: tenantIds.length };
  }
  const status = body.status ?? 'enabled';
  const total = await fleet.countInStatus(status);
  if (total === 0) throw unprocessable('fleet-selection-empty', 'body.status', `no connection is ${status}`);
  if (total > FLEET_MAX_TENANTS) {
    throw unprocessable('fleet-too-large', 'body.status', `${total} connections: at most ${FLEET_MAX_TENANTS}`);
  }
  return { selection: { status }, total };
}

/** Fleet operations act on many tenants: a key bound to one tenant may not start or steer them. */
function assertUnbound(res: Response): void {
  if (principalOf(res).tenantId) {
    throw problems.forbidden('This API key is bound to one tenant: fleet operations need a key for every tenant.');
  }
}

async function control(fleet: FleetGateway, req: Request, res: Response, action: 'pause' | 'resume' | 'cancel') {
  assertUnbound(res);
  const { fleetOperationId } = parseInput(fleetPathSchema, { ...req.params }, 'path');
  checkIdempotencyKey(req);
  parseInput(emptyBodySchema, bodyOf(req), 'body');
  const known = await fleet.read(fleetOperationId);
  if (!known) throw problems.notFound(`No fleet operation ${fleetOperationId}.`);
  // Cancelling twice is asking for what is already true: the same answer, not an error.
  const progress =
    action === 'cancel' && known.progress.status === 'cancelled'
      ? known.progress
      : known.running
        ? await fleet.control(fleetOperationId, action)
        : undefined;
  if (!progress) {
    throw problems.conflict(
      'fleet-operation-ended',
      `Fleet operation ${fleetOperationId} has ${known.progress.status === 'cancelled' ? 'been cancelled' : 'ended'}: it cannot ${action}.`,
    );
  }
  res
    .status(action === 'cancel' ? 202 : 200)
    .location(fleetPath(fleetOperationId))
    .json(fleetOperationView(progress));
}

/** `/v1/fleet-operations`: one operation over many tenants, its progress, and pausing, resuming or cancelling it. */
export function fleetOperationsRouter(context: RouteContext, fleet: FleetGateway): Router {
  const router = Router();

  resource(router, FLEET, {
    POST: [
      requireScope('fleet'),
      async (req, res) => {
        assertUnbound(res);
        const { operationId: fleetOperationId } = operationIdOf(req, FLEET_KEY_SPACE);
        const body = parseInput(fleetOperationBodySchema, bodyOf(req), 'body');
        const requestHash = sha256Hex(canonicalJson(body));
        const existing = await fleet.read(fleetOperationId);
        if (existing && existing.progress.requestHash !== requestHash) {
          throw problems.unprocessable(
            'idempotency-key-reused',
            `Fleet operation ${fleetOperationId} was requested before with a different request (GET ${fleetPath(fleetOperationId)}).`,
          );
        }
        const progress =
          existing?.progress ??
          (await (async () => {
            const { selection, total } = await selectionOf(context, fleet, body);
            return fleet.start(
              {
                fleetOperationId,
                kind: body.kind,
                selection,
                maxConcurrency: body.maxConcurrency,
                perOrgPerMinute: body.perOrgPerMinute,
                requestHash,
                requestedBy: { apiKeyId: principalOf(res).keyId },
              },
              total,
            );
          })());
        res.status(202).location(fleetPath(fleetOperationId)).json(fleetOperationView(progress));
      },
    ],
  });

  resource(router, `${FLEET}/:fleetOperationId`, {
    GET: [
      requireScope('fleet'),
      async (req, res) => {
        const { fleetOperationId } = parseInput(fleetPathSchema, { ...req.params }, 'path');
        const known = await fleet.read(fleetOperationId);
        if (!known) throw problems.notFound(`No fleet operation ${fleetOperationId}.`);
        res.json(fleetOperationView(known.progress));
      },
    ],
  });

  for (const action of ['pause', 'resume', 'cancel'] as const) {
    resource(router, `${FLEET}/:fleetOperationId/${action}`, {
      POST: [requireScope('fleet'), (req, res) => control(fleet, req, res, action)],
    });
  }

  return router;
}
