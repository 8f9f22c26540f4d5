import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../workflows/definitions';
import type { StepId } from '../workflows/definitions';
import { ORG_CONTROL_GUIDANCE } from './org-controls';

/**
 * The error taxonomy at the activity boundary. jsforce raises one class for every REST error (its `errorCode` holds
 * Salesforce's code), plain errors named after the OAuth error for token calls, and prefixed SOAP fault codes
 * (`sf:INVALID_SESSION_ID`). Temporal would otherwise type all of them "HttpApiError", so each is turned here into
 * an ApplicationFailure whose type says whether retrying can help, with the code, an admin message and the fix.
 */

interface Guidance {
  message: string;
  fix: string;
}

/** Codes that a later attempt can get past: locks, limits, outages, expired sessions (re-authenticated on retry). */
const TRANSIENT_CODES = new Set([
  'UNABLE_TO_LOCK_ROW',
  'REQUEST_LIMIT_EXCEEDED',
  'SERVER_UNAVAILABLE',
  'ALREADY_IN_PROCESS',
  'QUERY_TIMEOUT',
  'REQUEST_RUNNING_TOO_LONG',
  'UNKNOWN_EXCEPTION',
  'INVALID_SESSION_ID',
  'ERROR_HTTP_420',
  'ERROR_HTTP_429',
  'ERROR_HTTP_500',
  'ERROR_HTTP_502',
  'ERROR_HTTP_503',
  'ERROR_HTTP_504',
]);

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

const GUIDANCE: Record<string, Guidance> = {
  INSUFFICIENT_ACCESS: {
    message: 'The Salesforce admin account lacks a permission the connection needs.',
    fix: 'Sign in with a Salesforce admin who has Manage Users, Customize Application, Modify All Data and Manage Profiles and Permission Sets, then retry.',
  },
  INSUFFICIENT_ACCESS_OR_READONLY: {
    message: 'The Salesforce admin account may not change this record.',
    fix: 'Sign in with a Salesforce admin who has Manage Users, Customize Application and Modify All Data, then retry.',
  },
  INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY: {
    message: 'The Salesforce admin account cannot use a record this step refers to.',
    fix: 'Check that the admin can see the integration profile and permission set licenses, then retry.',
  },
  LICENSE_LIMIT_EXCEEDED: {
    message: 'No Salesforce Integration user license is free in this org.',
    fix: 'In Salesforce Setup > Company Information, free a Salesforce Integration license (deactivate an unused integration user) or buy more, then select Reconnect.',
  },
  FIELD_INTEGRITY_EXCEPTION: {
    message: 'Salesforce refused a value because it conflicts with the org’s license or setup rules.',
    fix: 'Check that a Salesforce API Integration permission set license is available, then select Reconnect.',
  },
  INVALID_FIELD: {
    message: 'The agent is configured to read a field that does not exist in this org.',
    fix: 'Remove the field from the agent configuration or create it in Salesforce, then select Reconnect.',
  },
  INVALID_TYPE: {
    message: 'The agent is configured to read an object that does not exist in this org.',
    fix: 'Remove the object from the agent configuration or enable it in Salesforce, then select Reconnect.',
  },
  INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: {
    message: 'Salesforce refused a field permission: the field cannot be granted.',
    fix: 'Remove the field from the agent configuration, then select Reconnect.',
  },
  DUPLICATE_USERNAME: {
    message: 'The integration user’s username is already taken in Salesforce.',
    fix: 'Select Reconnect: a new username is chosen for a new operation.',
  },
  API_DISABLED_FOR_ORG: {
    message: 'API access is not enabled for this Salesforce org or edition.',
    fix: 'Use an edition with API access (Enterprise, Unlimited, Performance or Developer) or ask Salesforce to enable it.',
  },
  FUNCTIONALITY_NOT_ENABLED: {
    message: 'A Salesforce feature this connection needs is turned off in the org.',
    fix: 'Turn on External Client Apps (Setup > External Client App Settings), then select Reconnect.',
  },
  CONNECTED_APP_CREATION_BLOCKED: {
    message: 'This org does not allow creating new connected apps (blocked since Spring ’26).',
    fix: 'Use an External Client App (the default), or ask Salesforce Support to allow connected app creation.',
  },
  invalid_grant: {
    message: 'Salesforce refused the sign-in of the integration user.',
    fix: 'Check that the integration user is active and assigned the connection’s permission set, then select Reconnect.',
  },
  invalid_client: {
    message: 'The service’s Salesforce OAuth client was refused; the admin sign-in cannot be refreshed.',
    fix: 'Sign in to Salesforce again from the Connectors page and retry.',
  },
  REQUEST_LIMIT_EXCEEDED: {
    message: 'The org has used up its daily Salesforce API requests.',
    fix: 'Wait for the org’s API usage to fall (it is a rolling 24-hour limit) or raise the limit; the operation retries by itself.',
  },
  // A Transaction Security policy refused a call (help "Exempt Users from Transaction Security Policies").
  TXN_SECURITY_NO_ACCESS: {
    message: 'A Transaction Security policy in the org blocked the call.',
    fix: 'In Salesforce Setup > Transaction Security Policies, make the blocking policy’s condition exclude the integration user (for example its profile “Minimum Access - API Only Integrations”), then select Reconnect. Giving the connection’s permission set “Exempt from Transaction Security” also works, but Reconnect recreates that permission set without it.',
  },
  // The JWT bearer sign-in of a user the app does not pre-authorize, e.g. under API Access Control.
  invalid_app_access: {
    message: 'Salesforce refused the integration user’s sign-in: the app does not pre-authorize it.',
    fix: 'In Salesforce Setup > External Client App Manager, set the app’s Permitted Users to “Admin approved users are pre-authorized” with the connection’s permission set selected, check the integration user still has that permission set, then select Reconnect.',
  },
  ...ORG_CONTROL_GUIDANCE,
};

const DEFAULT_GUIDANCE: Guidance = {
  message: 'Salesforce refused the request.',
  fix: 'Check the Salesforce message below; fix the org setup, then select Reconnect.',
};

function guidanceFor(code: string): Guidance {
  return GUIDANCE[code] ?? DEFAULT_GUIDANCE;
}

/** Details attached to every Salesforce failure, read by the workflow and shown to admins. */
export interface SalesforceFailureDetails {
  salesforceCode: string;
  salesforceMessage: string;
  message: string;
  fix: string;
  step: StepId;
}

function errorCodeOf(err: unknown): string | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { errorCode?: unknown; name?: unknown; code?: unknown; cause?: unknown };
  if (typeof e.errorCode === 'string') return e.errorCode.replace(/^sf:/, '');
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
  if (e.cause) return errorCodeOf(e.cause);
  return undefined;
}

function isNetworkError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown; type?: unknown };
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  if (e.name === 'AbortError' || e.name === 'TimeoutError' || e.name === 'FetchError') return true;
  if (e.type === 'system' || e.type === 'request-timeout') return true;
  if (
    typeof e.message === 'string' &&
    /socket hang up|network|ECONNRESET|other side closed|fetch failed/i.test(e.message)
  )
    return true;
  return e.cause ? isNetworkError(e.cause) : false;
}

/**
 * Failures that say nothing about the request, only that Salesforce or the network could not answer it this time:
 * the connection was reset or refused, or the server was unavailable or failed internally (5xx). OAuth errors carry
 * their code in the error's name.
 */
const UNANSWERED_CODES = new Set([
  'SERVER_UNAVAILABLE',
  'UNKNOWN_EXCEPTION',
  'ERROR_HTTP_500',
  'ERROR_HTTP_502',
  'ERROR_HTTP_503',
  'ERROR_HTTP_504',
]);

/** True when a call failed without an answer from Salesforce (network, 5xx): repeating it may succeed at once. */
export function isUnansweredCall(err: unknown): boolean {
  // Salesforce's code first, as toActivityFailure reads it: an answer with a code was an answer.
  const code = errorCodeOf(err);
  if (code !== undefined && !NETWORK_CODES.has(code)) return UNANSWERED_CODES.has(code);
  if (isNetworkError(err)) return true;
  return err instanceof Error && UNANSWERED_CODES.has(err.name);
}

/** True for the "already there" codes that idempotent creates treat as success after a re-query. */
export function isDuplicate(err: unknown): boolean {
  const code = errorCodeOf(err);
  return code === 'DUPLICATE_VALUE' || code === 'DUPLICATE_DEVELOPER_NAME';
}

export function isNotFound(err: unknown): boolean {
  const code = errorCodeOf(err);
  return code === 'NOT_FOUND' || code === 'ENTITY_IS_DELETED' || code === 'INVALID_CROSS_REFERENCE_KEY';
}

/** Builds the typed failure for a Salesforce code. */
export function salesforceFailure(
  code: string,
  salesforceMessage: string,
  step: StepId,
  options: { transient?: boolean; cause?: Error } = {},
): ApplicationFailure {
  const transient = options.transient ?? TRANSIENT_CODES.has(code);
  const guidance = guidanceFor(code);
  const details: SalesforceFailureDetails = {
    salesforceCode: code,
    salesforceMessage,
    message: guidance.message,
    fix: guidance.fix,
    step,
  };
  return ApplicationFailure.create({
    type: transient ? ErrorType.salesforceTransient : ErrorType.salesforcePermanent,
    message: `${step}: ${code}: ${salesforceMessage}`,
    nonRetryable: !transient,
    details: [details],
    cause: options.cause,
  });
}

/**
 * Converts anything jsforce or the network threw into a typed ApplicationFailure. Errors that are already
 * ApplicationFailures pass through unchanged.
 */
export function toActivityFailure(err: unknown, step: StepId): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const message = err instanceof Error ? err.message : String(err);
  const name = err instanceof Error ? err.name : undefined;
  const code = errorCodeOf(err);
  if (code && !NETWORK_CODES.has(code)) return salesforceFailure(code, message, step);
  if (isNetworkError(err)) {
    return salesforceFailure(code ?? 'NETWORK_ERROR', message, step, { transient: true });
  }
  if (name && /^(invalid_|unsupported_|inactive_)/.test(name)) {
    return salesforceFailure(name, message, step, { transient: false });
  }
  if (/Unable to refresh session/i.test(message)) {
    // jsforce hides the OAuth error of a failed refresh; the admin must sign in again.
    return salesforceFailure('invalid_client', message, step, { transient: false });
  }
  return ApplicationFailure.create({
    type: ErrorType.salesforceTransient,
    message: `${step}: ${message}`,
    nonRetryable: false,
    details: [
      {
        salesforceCode: 'UNEXPECTED',
        salesforceMessage: message,
        message: 'An unexpected error occurred while talking to Salesforce.',
        fix: 'The step is retried automatically; if it keeps failing, select Reconnect.',
        step,
      } satisfies SalesforceFailureDetails,
    ],
  });
}

/** Wraps an activity body so that every failure leaves it typed. */
export async function asSalesforceStep<T>(step: StepId, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    throw toActivityFailure(err, step);
  }
}

/** Raises the first error of a Metadata API SaveResult/DeleteResult or an sObject Collections result. */
export interface ResultError {
  statusCode?: string;
  errorCode?: string;
  message?: string;
}

export function failureFromResultErrors(
  errors: ResultError[] | ResultError | undefined,
  step: StepId,
): ApplicationFailure {
  const list = Array.isArray(errors) ? errors : errors ? [errors] : [];
  const first = list[0];
  const code = first?.statusCode ?? first?.errorCode ?? 'UNKNOWN_EXCEPTION';
  return salesforceFailure(code, first?.message ?? 'no message', step);
}
