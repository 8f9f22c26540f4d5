import { Router } from 'express';
import { requireScope } from '../auth';
import { HttpProblem, problems } from '../problem';
import { bodyOf, checkIdempotencyKey, parseInput, queryOf } from '../requests';
import type { SalesforceSignIn } from '../sign-in';
import { UnknownSignInState } from '../sign-in';
import { signInBodySchema, signInCallbackQuerySchema, signInPathSchema } from '../sign-in-schemas';
import type { RouteContext } from './context';
import { tenantPath } from './context';
import { resource } from './resource';

const SIGN_IN = '/tenants/:tenantId/connections/salesforce/sign-in';

function unavailable(): HttpProblem {
  return problems.conflict(
    'sign-in-unavailable',
    'Sign in with Salesforce needs the service’s OAuth client: set SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET.',
  );
}

/** `/v1/tenants/{tenantId}/connections/salesforce/sign-in`: start Sign in with Salesforce, and read who signed in. */
export function signInRouter(context: RouteContext, signIn: SalesforceSignIn | undefined): Router {
  const router = Router();
  resource(router, SIGN_IN, {
    GET: [
      requireScope('read'),
      async (req, res) => {
        const { tenantId } = tenantPath(context, signInPathSchema, req, res);
        res.set('Cache-Control', 'no-store').json(signIn ? await signIn.status(tenantId) : { signedIn: false });
      },
    ],
    POST: [
      requireScope('admin'),
      async (req, res) => {
        const { tenantId } = tenantPath(context, signInPathSchema, req, res);
        checkIdempotencyKey(req);
        const { loginUrl } = parseInput(signInBodySchema, bodyOf(req), 'body');
        if (!signIn) throw unavailable();
        res.set('Cache-Control', 'no-store').json(await signIn.start(tenantId, loginUrl));
      },
    ],
  });
  return router;
}

/**
 * The callback Salesforce redirects the admin's browser to (no API key: the state, single-use and bound to a tenant,
 * is the proof). A state that is not one of ours is a 400 and nothing is stored; otherwise the browser goes back to
 * the admin page, with `signIn=ok` or `signInError=<OAuth error code>`.
 */
export function signInCallbackRouter(signIn: SalesforceSignIn | undefined): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const query = parseInput(signInCallbackQuerySchema, queryOf(req), 'query');
    if (!signIn) throw unavailable();
    let outcome;
    try {
      outcome = await signIn.complete(query);
    } catch (err) {
      if (err instanceof UnknownSignInState) {
        throw new HttpProblem(400, 'sign-in-state-unknown', `query.state: ${err.message}`, {
          errors: [{ field: 'query.state', message: err.message }],
        });
      }
      throw err;
    }
    const page = new URLSearchParams({ tenant: outcome.tenantId });
    if (outcome.kind === 'signed-in') page.set('signIn', 'ok');
    else page.set('signInError', outcome.error);
    const target = `/admin/?${page.toString()}`;
    res
      .set('Cache-Control', 'no-store')
      .status(303)
      .location(target)
      .type('text/plain')
      .send(`Redirecting to ${target}`);
  });
  router.all('/', (req, res) => {
    res.set('Allow', 'GET, HEAD');
    throw new HttpProblem(405, 'method-not-allowed', `${req.method} is not supported here; use GET.`);
  });
  return router;
}
