import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { AuditStore } from '../../audit/audit-store';
import type { SecretStore } from '../../secrets/secret-store';
import type { SalesforceClients } from '../../salesforce/clients';
import type { AgentTokenBroker } from '../agent-tokens';
import { assertTenantVisible, principalOf } from '../auth';
import type { ConnectionGateway } from '../connection-gateway';
import { problems } from '../problem';
import { parseInput } from '../requests';

/** What every router gets: the gateway to Temporal, the secret store, the token broker and the tenant list. */
export interface RouteContext {
  gateway: ConnectionGateway;
  secrets: SecretStore;
  /** The audit trail, when the process has one. */
  audit?: AuditStore;
  /** Reads of the tenant's org as its admin (checking a configuration before it is saved). */
  salesforce: Pick<SalesforceClients, 'admin' | 'adminWith'>;
  tokens: AgentTokenBroker;
  knownTenants?: ReadonlySet<string>;
  now: () => number;
  /** READINESS_TIMEOUT: how long operations wait for Salesforce to make an app usable, unless a request says. */
  readinessTimeout: string;
  /** INTEGRATION_USERNAME_DOMAIN: the domain of the integration users' usernames, for plans. */
  usernameDomain: string;
}

/** The path's parameters, validated (400), for a tenant the caller may see (404 otherwise). */
export function tenantPath<S extends z.ZodType<{ tenantId: string }>>(
  context: RouteContext,
  schema: S,
  req: Request,
  res: Response,
): z.output<S> {
  const params = parseInput(schema, { ...req.params }, 'path');
  assertTenantVisible(principalOf(res), params.tenantId, context.knownTenants);
  return params;
}

/**
 * A secretRef of the request's admin credentials must point into the tenant's own part of the store and hold a
 * secret: well-formed, but not usable here otherwise, a 422 (the OpenAPI document cannot say what is stored).
 */
export async function assertUsableSecretRef(
  context: RouteContext,
  tenantId: string,
  secretRef: string,
  field = 'body.adminCredentials.secretRef',
): Promise<void> {
  const unusable = (message: string) =>
    problems.unprocessable('secret-ref-unusable', `${field}: ${message}`, {
      errors: [{ field, message }],
    });
  if (!secretRef.startsWith(`tenants/${tenantId}/`)) throw unusable(`must be a reference under tenants/${tenantId}/`);
  // Sign in with Salesforce's own records (pending states, who signed in) are not credentials; its tokens are.
  if (secretRef.startsWith(`tenants/${tenantId}/sign-in/`)) throw unusable('is not a reference to admin credentials');
  if ((await context.secrets.get({ secretRef })) === undefined) {
    throw unusable('no secret is stored under this reference');
  }
}
