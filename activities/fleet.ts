import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { ConnectionGateway } from '../api/connection-gateway';
import type { OperationRequest } from '../api/connection-gateway';
import { HttpProblem } from '../api/problem';
import type { TemporalAccess } from './connection-control';
import type {
  ConnectionState,
  ConnectionStatus,
  FleetOperationKind,
  FleetTenant,
  FleetTenantResult,
  OperationRecord,
} from '../workflows/definitions';
import { PRIORITY, STATE_MEMO_KEY, connectionsInStatusQuery, orgFairnessKey } from '../workflows/definitions';

/** How often a tenant's running operation is looked at; each look is one describe of its connection workflow. */
const OPERATION_POLL_MS = 1_000;
/** How long one Temporal call of the gateway may take before it counts as unavailable (the activity retries). */
const GATEWAY_TIMEOUT_MS = 10_000;
/** Connections described at once when resolving a list of tenants to their orgs. */
const RESOLVE_CONCURRENCY = 10;

export interface FleetTenantInput {
  fleetOperationId: string;
  kind: FleetOperationKind;
  tenantId: string;
  requestedBy?: { apiKeyId?: string };
}

/** The operation id a fleet operation uses on one tenant: the same on every retry, so that a retry attaches to it. */
export function fleetTenantOperationId(fleetOperationId: string, tenantId: string): string {
  const hex = createHash('sha256').update(`agent-connections/fleet\n${fleetOperationId}\n${tenantId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function operationOf(input: FleetTenantInput, operationId: string): OperationRequest {
  const request = {
    operationId,
    priorityKey: PRIORITY.fleet,
    ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
  };
  switch (input.kind) {
    case 'update_access':
      return { kind: 'update_access', request };
    case 'rotate_certificate':
      return { kind: 'rotate_certificate', request };
    case 'reconnect':
      return { kind: 'reconnect', request: { ...request, mode: 'auto' } };
  }
}

function findRecord(state: ConnectionState | undefined, operationId: string): OperationRecord | undefined {
  if (state?.currentOperation?.id === operationId) return state.currentOperation;
  return state?.operations.find((o) => o.id === operationId);
}

/** An ended operation's record as the fleet reports it. */
function resultOf(tenantId: string, record: OperationRecord): FleetTenantResult {
  if (record.status === 'succeeded') return { outcome: 'succeeded', operationId: record.id };
  return {
    outcome: 'failed',
    failure: {
      tenantId,
      operationId: record.id,
      code: record.failure?.type ?? record.status,
      message: record.failure?.message ?? `The operation ended ${record.status}.`,
    },
  };
}

/** The fleet's activities: they go through the same gateway as the API, so the connection's validator decides. */
export function createFleetActivities(temporal: TemporalAccess) {
  const gateway = new ConnectionGateway(temporal.client, {
    taskQueue: temporal.taskQueue,
    timeoutMs: GATEWAY_TIMEOUT_MS,
  });

  async function orgOf(tenantId: string): Promise<FleetTenant> {
    const state = await gateway.readState(tenantId, 'salesforce');
    const org = orgFairnessKey(state?.details, state?.target);
    return { tenantId, ...(org ? { org } : {}) };
  }

  /** Waits, heartbeating, until the operation has ended; a cancelled activity stops waiting (the operation goes on). */
  async function waitForEnd(tenantId: string, operationId: string): Promise<FleetTenantResult> {
    for (;;) {
      const record = findRecord(await gateway.readState(tenantId, 'salesforce'), operationId);
      if (record && record.status !== 'running') return resultOf(tenantId, record);
      Context.current().heartbeat();
      await Context.current().sleep(OPERATION_POLL_MS);
    }
  }

  return {
    /** Every running Salesforce connection in a status, with its org, from the connections' search attributes. */
    async listFleetTenants(input: { status: ConnectionStatus }): Promise<FleetTenant[]> {
      const query = connectionsInStatusQuery(input.status, temporal.taskQueue);
      const tenants = new Map<string, FleetTenant>();
      for await (const execution of temporal.client.workflow.list({ query })) {
        const state = execution.memo?.[STATE_MEMO_KEY] as ConnectionState | undefined;
        if (!state) continue;
        const org = orgFairnessKey(state.details, state.target);
        tenants.set(state.tenantId, { tenantId: state.tenantId, ...(org ? { org } : {}) });
        if (tenants.size % 100 === 0) Context.current().heartbeat();
      }
      return [...tenants.values()];
    },

    /** The org of each listed tenant (none for a tenant never enabled: its operation is refused with the cause). */
    async resolveFleetTenants(input: { tenantIds: string[] }): Promise<FleetTenant[]> {
      const resolved: FleetTenant[] = [];
      for (let i = 0; i < input.tenantIds.length; i += RESOLVE_CONCURRENCY) {
        resolved.push(...(await Promise.all(input.tenantIds.slice(i, i + RESOLVE_CONCURRENCY).map(orgOf))));
        Context.current().heartbeat();
      }
      return resolved;
    },

    /**
     * Submits the operation to the tenant's connection workflow (update-with-start, as the API does) and waits for it
     * to end. A busy connection is answered `busy` (the fleet tries again later); a refusal that cannot succeed is a
     * failure with its cause; Temporal not answering is thrown, and retried.
     */
    async runFleetTenantOperation(input: FleetTenantInput): Promise<FleetTenantResult> {
      const operationId = fleetTenantOperationId(input.fleetOperationId, input.tenantId);
      try {
        const submission = await gateway.submit(input.tenantId, 'salesforce', operationOf(input, operationId));
        if (!('accepted' in submission)) {
          const failure = { tenantId: input.tenantId, code: 'nothing-to-do', message: 'The connection holds nothing.' };
          return { outcome: 'failed', failure };
        }
      } catch (err) {
        if (!(err instanceof HttpProblem) || err.status === 503) throw err;
        if (err.slug === 'operation-in-progress') return { outcome: 'busy' };
        const failure = { tenantId: input.tenantId, code: err.slug, message: err.message };
        if (err.status === 409 || err.status === 422 || err.status === 404) return { outcome: 'failed', failure };
        throw ApplicationFailure.nonRetryable(err.message, err.slug);
      }
      return waitForEnd(input.tenantId, operationId);
    },
  };
}
