/** A Salesforce API error: REST body `[{message, errorCode, fields}]`, or a SaveResult error `{statusCode, ...}`. */
export class SfError extends Error {
  constructor(
    public readonly errorCode: string,
    message: string,
    public readonly fields: string[] = [],
    public readonly httpStatus = 400,
  ) {
    super(message);
  }
  toRest(): Record<string, unknown> {
    return { message: this.message, errorCode: this.errorCode, fields: this.fields };
  }
  toSave(): { statusCode: string; message: string; fields: string[] } {
    return { statusCode: this.errorCode, message: this.message, fields: this.fields };
  }
}

export const MSG_SESSION = 'Session expired or invalid';
export const sessionError = (): SfError => new SfError('INVALID_SESSION_ID', MSG_SESSION, [], 401);
export const notFound = (): SfError => new SfError('NOT_FOUND', 'The requested resource does not exist', [], 404);
export const INVALID_TYPE_SUFFIX =
  " If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.";
export const invalidType = (name: string, status = 400): SfError =>
  new SfError('INVALID_TYPE', `sObject type '${name}' is not supported.${INVALID_TYPE_SUFFIX}`, [], status);

/** Default HTTP status for an error code injected by a fault or raised by a rule. */
export function statusForCode(code: string): number {
  switch (code) {
    case 'INVALID_SESSION_ID':
      return 401;
    case 'REQUEST_LIMIT_EXCEEDED':
    case 'API_DISABLED_FOR_ORG':
    case 'API_CURRENTLY_DISABLED':
    case 'INSUFFICIENT_ACCESS':
    case 'TXN_SECURITY_NO_ACCESS':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'SERVER_UNAVAILABLE':
      return 503;
    case 'UNKNOWN_EXCEPTION':
      return 500;
    default:
      return 400;
  }
}

export function defaultMessage(code: string): string {
  switch (code) {
    case 'INVALID_SESSION_ID':
      return MSG_SESSION;
    case 'REQUEST_LIMIT_EXCEEDED':
      return 'TotalRequests Limit exceeded.';
    case 'SERVER_UNAVAILABLE':
      return 'Server temporarily unavailable. Please try again later.';
    case 'UNKNOWN_EXCEPTION':
      return 'An unexpected error occurred. Please include this ErrorId if you contact support: 1234567-89012 (-1234567890)';
    case 'UNABLE_TO_LOCK_ROW':
      return 'unable to obtain exclusive access to this record or 1 records';
    default:
      return `${code} (injected fault)`;
  }
}
