import { Router } from 'express';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { AdminCredentials } from '../../salesforce/clients';
import {
  BREAK_BEFORE_MAKE_FLAG,
  hasSpareLicenses,
  noOverlapProblem,
  readIntegrationLicenses,
} from '../../salesforce/org-inspection';
import { nativeConnectionRefusal } from '../../workflows/admission';
import { isNativelyConnected, reconnectStrategy } from '../../workflows/connection-state';
import type {
  AgentConfiguration,
  Crm,
  OperationAccepted,
  ReconnectRequest,
  SalesforceTarget,
  SecretRef,
} from '../../workflows/definitions';
import { StepId } from '../../workflows/definitions';
import { principalOf, requireScope } from '../auth';
import type { OperationRequest, Submission } from '../connection-gateway';
import { HttpProblem, problems } from '../problem';
import { isSignInCredentials, signedInUsername } from '../sign-in';
import { bodyOf, canonicalJson, checkAgentConfiguration, operationIdOf, parseInput, sha256Hex } from '../requests';
import type { AcceptedView, AdminCredentialsInput } from '../schemas';
import {
  connectionPathSchema,
  disableBodySchema,
  enableBodySchema,
  reconnectBodySchema,
  rotateCertificateBodySchema,
  updateAccessBodySchema,
} from '../schemas';
import { connectionPath, connectionView, initialConnectionState, operationPath } from '../views';
import type { RouteContext } from './context';
import { assertUsableSecretRef, tenantPath } from './context';
import { resource } from './resource';

const CONNECTION = '/tenants/:tenantId/connections/:crm';

interface ResolvedCredentials {
  ref: SecretRef;
  /** Stored by this request: removed again if the operation is refused, so that refused requests leave nothing. */
  storedHere: boolean;
  /**
   * Stored by the service (by this request, or by Sign in with Salesforce): the connection forgets them when it is
   * turned off or given newer ones. A reference the admin backend stored stays its own.
   */
  ownedByService: boolean;
}

/**
 * A reference must point into the tenant's own part of the store and exist; tokens are stored under a reference of
 * the operation and request, so that a retry writes the same secret and a different request cannot overwrite it.
 */
async function resolveCredentials(
  context: RouteContext,
  tenantId: string,
  operationId: string,
  requestHash: string,
  credentials: AdminCredentialsInput,
): Promise<ResolvedCredentials> {
  if ('secretRef' in credentials) {
    await assertUsableSecretRef(context, tenantId, credentials.secretRef);
    return {
      ref: { secretRef: credentials.secretRef },
      storedHere: false,
      ownedByService: isSignInCredentials(tenantId, credentials.secretRef),
    };
  }
  const value: AdminCredentials = {
    accessToken: credentials.accessToken,
    refreshToken: credentials.refreshToken,
  };
  const ref = `tenants/${tenantId}/admin/${operationId}-${requestHash.slice(0, 12)}`;
  return { ref: await context.secrets.put(ref, JSON.stringify(value)), storedHere: true, ownedByService: true };
}

function targetOf(
  body: { loginUrl?: string; instanceUrl?: string },
  credentials: ResolvedCredentials,
): SalesforceTarget | undefined {
  const loginUrl = body.loginUrl ?? body.instanceUrl;
  const instanceUrl = body.instanceUrl ?? body.loginUrl;
  return loginUrl && instanceUrl
    ? {
        loginUrl,
        instanceUrl,
        adminCredentials: credentials.ref,
        credentialsOwnedByService: credentials.ownedByService,
      }
    : undefined;
}

/**
 * What every Salesforce operation route does first: the path, the operation id from the Idempotency-Key, the body,
 * the refusal for Dynamics (nothing to operate), the request hash, and any admin credentials the body brings.
 */
async function operationRequest<
  S extends z.ZodType<{ adminCredentials?: AdminCredentialsInput; agentConfiguration?: AgentConfiguration }>,
>(context: RouteContext, req: Request, res: Response, kind: OperationRequest['kind'], schema: S) {
  const { tenantId, crm } = tenantPath(context, connectionPathSchema, req, res);
  const { operationId } = operationIdOf(req, tenantId);
  const body: z.infer<S> = parseInput(schema, bodyOf(req), 'body');
  checkAgentConfiguration(body.agentConfiguration, ['agentConfiguration']);
  const refusal = isNativelyConnected(crm) ? nativeConnectionRefusal(kind) : undefined;
  if (refusal) throw problems.conflict('operation-rejected', refusal.message);
  const requestHash = sha256Hex(canonicalJson({ kind, ...body }));
  const credentials = body.adminCredentials
    ? await resolveCredentials(context, tenantId, operationId, requestHash, body.adminCredentials)
    : undefined;
  return { tenantId, crm, operationId, body, requestHash, credentials };
}

function sendAccepted(res: Response, tenantId: string, crm: Crm, accepted: OperationAccepted): void {
  const location = operationPath(tenantId, crm, accepted.operationId);
  const body: AcceptedView = {
    operationId: accepted.operationId,
    kind: accepted.kind,
    workflowId: accepted.workflowId,
    links: { operation: location, connection: connectionPath(tenantId, crm) },
  };
  res.status(202).location(location).json(body);
}

/**
 * An enable or reconnect needs objects for the agent to read, in the request or saved: without any, a 422 saying so
 * in plain words (the connection workflow would refuse it too, as a conflict it cannot explain to an admin).
 */
async function assertConfigured(
  context: RouteContext,
  tenantId: string,
  crm: Crm,
  operation: OperationRequest,
): Promise<void> {
  if (operation.kind !== 'enable' && operation.kind !== 'reconnect') return;
  if ((operation.request.agentConfiguration?.objects.length ?? 0) > 0) return;
  const state = await context.gateway.readState(tenantId, crm);
  // A reconnect of a connection never enabled is refused for that, first (the workflow says so).
  if (operation.kind === 'reconnect' && !operation.request.target && !state?.target) return;
  if ((state?.agentConfiguration?.objects.length ?? 0) > 0) return;
  throw problems.unprocessable(
    'empty-configuration',
    'Choose at least one object and field for the agent to read, then try again.',
    { errors: [{ field: 'body.agentConfiguration', message: 'names no object to read, and none is saved' }] },
  );
}

/**
 * Sends the operation and answers: 202 with the operation accepted, or 200 with the connection as it is when there is
 * nothing to do (a disable of a connection that holds nothing). A refusal or nothing to do removes the credentials
 * this request stored: refused requests leave nothing.
 */
async function submitAndAnswer(
  context: RouteContext,
  res: Response,
  tenantId: string,
  crm: Crm,
  operation: OperationRequest,
  credentials: ResolvedCredentials | undefined,
): Promise<void> {
  let submission: Submission;
  // Who asked, for the audit trail: the key's id, never the key, and the admin who signed in with Salesforce when the
  // request acts with that sign-in's credentials; not part of the request's hash.
  const salesforceUsername =
    credentials && (await signedInUsername(context.secrets, tenantId, credentials.ref.secretRef));
  const requestedBy = { apiKeyId: principalOf(res).keyId, ...(salesforceUsername ? { salesforceUsername } : {}) };
  const requested = { ...operation, request: { ...operation.request, requestedBy } } as OperationRequest;
  try {
    await assertConfigured(context, tenantId, crm, requested);
    submission = await context.gateway.submit(tenantId, crm, requested);
  } catch (err) {
    // A 503 may still be accepted later (the update is queued); only a refusal is final.
    if (credentials?.storedHere && err instanceof HttpProblem && (err.status === 409 || err.status === 422)) {
      await context.secrets.delete(credentials.ref);
    }
    throw err;
  }
  if ('nothingToDo' in submission) {
    if (credentials?.storedHere) await context.secrets.delete(credentials.ref);
    res.status(200).json(connectionView(submission.nothingToDo));
    return;
  }
  sendAccepted(res, tenantId, crm, submission.accepted);
}

/**
 * A reconnect of a working connection makes before it breaks, which needs a spare integration license for the
 * overlap. Without one, the admin must confirm break before make (`breakBeforeMake`): 409 naming the flag. The org
 * is read as its admin; if it cannot be read here, the reconnect's own checks say it.
 */
async function assertOverlapPossible(
  context: RouteContext,
  tenantId: string,
  crm: Crm,
  request: ReconnectRequest,
): Promise<void> {
  if (request.breakBeforeMake) return;
  const state = await context.gateway.readState(tenantId, crm);
  const target = request.target ?? state?.target;
  if (!state || !target || reconnectStrategy(state, request) !== 'make_before_break') return;
  let licenses;
  try {
    licenses = await readIntegrationLicenses(await context.salesforce.admin(target, StepId.plan), StepId.plan);
  } catch {
    return;
  }
  if (hasSpareLicenses(licenses)) return;
  const problem = noOverlapProblem(licenses);
  throw problems.conflict('break-before-make-required', `${problem.message} ${problem.fix}`, {
    errors: [
      {
        field: `body.${BREAK_BEFORE_MAKE_FLAG}`,
        message: 'set to true to remove the current connection before the new one exists',
      },
    ],
  });
}

/** `/v1/tenants/{tenantId}/connections/{crm}`: read the connection, and enable, disable or reconnect it. */
export function connectionsRouter(context: RouteContext): Router {
  const router = Router();

  resource(router, CONNECTION, {
    GET: [
      requireScope('read'),
      async (req, res) => {
        const { tenantId, crm } = tenantPath(context, connectionPathSchema, req, res);
        const state =
          (await context.gateway.readState(tenantId, crm, { withProgress: true, withLastCheck: true })) ??
          initialConnectionState(tenantId, crm);
        res.json(connectionView(state));
      },
    ],
  });

  resource(router, `${CONNECTION}/enable`, {
    POST: [
      requireScope('admin'),
      async (req, res) => {
        const { tenantId, crm } = tenantPath(context, connectionPathSchema, req, res);
        const { operationId } = operationIdOf(req, tenantId);
        const body = parseInput(enableBodySchema, bodyOf(req), 'body');
        checkAgentConfiguration(body.agentConfiguration, ['agentConfiguration']);
        if (isNativelyConnected(crm)) {
          // Nothing to create: the agent runs inside Dynamics. The answer says so, with the connection as it is.
          const state = (await context.gateway.readState(tenantId, crm)) ?? initialConnectionState(tenantId, crm);
          res.status(200).json(connectionView(state));
          return;
        }
        const requestHash = sha256Hex(canonicalJson({ kind: 'enable', ...body }));
        const credentials = await resolveCredentials(
          context,
          tenantId,
          operationId,
          requestHash,
          body.adminCredentials,
        );
        const target = targetOf(body, credentials) as SalesforceTarget;
        await submitAndAnswer(
          context,
          res,
          tenantId,
          crm,
          {
            kind: 'enable',
            request: {
              operationId,
              requestHash,
              target,
              appKind: body.appKind,
              agentName: body.agentName,
              agentConfiguration: body.agentConfiguration,
              readinessTimeout: body.readinessTimeout ?? context.readinessTimeout,
            },
          },
          credentials,
        );
      },
    ],
  });

  resource(router, `${CONNECTION}/disable`, {
    POST: [
      requireScope('admin'),
      async (req, res) => {
        const { tenantId, crm, operationId, requestHash, credentials } = await operationRequest(
          context,
          req,
          res,
          'disable',
          disableBodySchema,
        );
        await submitAndAnswer(
          context,
          res,
          tenantId,
          crm,
          {
            kind: 'disable',
            request: {
              operationId,
              requestHash,
              adminCredentials: credentials?.ref,
              credentialsOwnedByService: credentials?.ownedByService,
            },
          },
          credentials,
        );
      },
    ],
  });

  resource(router, `${CONNECTION}/rotate-certificate`, {
    POST: [
      requireScope('admin'),
      async (req, res) => {
        const { tenantId, crm, operationId, requestHash } = await operationRequest(
          context,
          req,
          res,
          'rotate_certificate',
          rotateCertificateBodySchema,
        );
        await submitAndAnswer(
          context,
          res,
          tenantId,
          crm,
          {
            kind: 'rotate_certificate',
            request: { operationId, requestHash, readinessTimeout: context.readinessTimeout },
          },
          undefined,
        );
      },
    ],
  });

  resource(router, `${CONNECTION}/update-access`, {
    POST: [
      requireScope('admin'),
      async (req, res) => {
        const { tenantId, crm, operationId, body, requestHash } = await operationRequest(
          context,
          req,
          res,
          'update_access',
          updateAccessBodySchema,
        );
        await submitAndAnswer(
          context,
          res,
          tenantId,
          crm,
          { kind: 'update_access', request: { operationId, requestHash, agentConfiguration: body.agentConfiguration } },
          undefined,
        );
      },
    ],
  });

  resource(router, `${CONNECTION}/reconnect`, {
    POST: [
      requireScope('admin'),
      async (req, res) => {
        const { tenantId, crm, operationId, body, requestHash, credentials } = await operationRequest(
          context,
          req,
          res,
          'reconnect',
          reconnectBodySchema,
        );
        const request: ReconnectRequest = {
          operationId,
          requestHash,
          target: credentials ? targetOf(body, credentials) : undefined,
          appKind: body.appKind,
          agentConfiguration: body.agentConfiguration,
          readinessTimeout: body.readinessTimeout ?? context.readinessTimeout,
          breakBeforeMake: body.breakBeforeMake,
          mode: body.mode,
        };
        try {
          await assertOverlapPossible(context, tenantId, crm, request);
        } catch (err) {
          if (credentials?.storedHere) await context.secrets.delete(credentials.ref);
          throw err;
        }
        await submitAndAnswer(context, res, tenantId, crm, { kind: 'reconnect', request }, credentials);
      },
    ],
  });

  return router;
}
