import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../workflows/definitions';
import { isDuplicate, isNotFound, isUnansweredCall, toActivityFailure } from '../../salesforce/errors';

function salesforceError(errorCode: string, message = 'message') {
  return Object.assign(new Error(message), { name: errorCode, errorCode });
}

describe('the error taxonomy at the activity boundary', () => {
  it.each([
    'UNABLE_TO_LOCK_ROW',
    'REQUEST_LIMIT_EXCEEDED',
    'SERVER_UNAVAILABLE',
    'INVALID_SESSION_ID',
    'ERROR_HTTP_503',
  ])('%s is transient: retried with backoff', (code) => {
    const failure = toActivityFailure(salesforceError(code), 'permission_set');
    expect(failure.type).toBe(ErrorType.salesforceTransient);
    expect(failure.nonRetryable).toBe(false);
  });

  it.each([
    'INSUFFICIENT_ACCESS',
    'LICENSE_LIMIT_EXCEEDED',
    'INVALID_FIELD',
    'FIELD_INTEGRITY_EXCEPTION',
    'DUPLICATE_USERNAME',
  ])('%s is permanent: fails fast, carrying the code, an admin message and the fix', (code) => {
    const failure = toActivityFailure(salesforceError(code, 'Salesforce says no'), 'integration_user');
    expect(failure.type).toBe(ErrorType.salesforcePermanent);
    expect(failure.nonRetryable).toBe(true);
    const details = failure.details?.[0] as {
      salesforceCode: string;
      salesforceMessage: string;
      step: string;
      message: string;
      fix: string;
    };
    expect(details.salesforceCode).toBe(code);
    expect(details.salesforceMessage).toBe('Salesforce says no');
    expect(details.step).toBe('integration_user');
    expect(details.message.length).toBeGreaterThan(10);
    expect(details.fix.length).toBeGreaterThan(10);
  });

  it('strips the sf: prefix of SOAP fault codes', () => {
    expect(
      (
        toActivityFailure(salesforceError('sf:INVALID_SESSION_ID'), 'client_app').details?.[0] as {
          salesforceCode: string;
        }
      ).salesforceCode,
    ).toBe('INVALID_SESSION_ID');
  });

  it('treats network errors (a dropped response) as transient', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(toActivityFailure(reset, 'client_app').type).toBe(ErrorType.salesforceTransient);
    const wrapped = Object.assign(new TypeError('fetch failed'), { cause: reset });
    expect(toActivityFailure(wrapped, 'client_app').nonRetryable).toBe(false);
  });

  it('treats OAuth refusals (named after the OAuth error) as permanent', () => {
    const refused = Object.assign(new Error('expired access/refresh token'), { name: 'invalid_grant' });
    const failure = toActivityFailure(refused, 'preflight');
    expect(failure.nonRetryable).toBe(true);
    expect((failure.details?.[0] as { salesforceCode: string }).salesforceCode).toBe('invalid_grant');
  });

  it('passes typed failures through untouched', () => {
    const typed = ApplicationFailure.create({ type: 'ConnectionNotReady', nonRetryable: false });
    expect(toActivityFailure(typed, 'readiness')).toBe(typed);
  });

  it('recognises "already there" and "already gone" for idempotent steps', () => {
    expect(isDuplicate(salesforceError('DUPLICATE_VALUE'))).toBe(true);
    expect(isDuplicate(salesforceError('INVALID_FIELD'))).toBe(false);
    expect(isNotFound(salesforceError('NOT_FOUND'))).toBe(true);
    expect(isNotFound(salesforceError('ENTITY_IS_DELETED'))).toBe(true);
  });

  it('tells calls that got no answer (repeated in place when idempotent) from answers', () => {
    const reset = Object.assign(new Error('request failed, reason: socket hang up'), {
      name: 'FetchError',
      code: 'ECONNRESET',
    });
    expect(isUnansweredCall(reset)).toBe(true);
    expect(isUnansweredCall(salesforceError('sf:SERVER_UNAVAILABLE'))).toBe(true);
    expect(isUnansweredCall(salesforceError('ERROR_HTTP_503'))).toBe(true);
    // The token endpoint's errors are named after their code.
    expect(isUnansweredCall(Object.assign(new Error('chaos'), { name: 'SERVER_UNAVAILABLE' }))).toBe(true);
    expect(isUnansweredCall(Object.assign(new Error('inactive user'), { name: 'invalid_grant' }))).toBe(false);
    expect(isUnansweredCall(salesforceError('INSUFFICIENT_ACCESS', 'network admins only'))).toBe(false);
    expect(isUnansweredCall(salesforceError('UNABLE_TO_LOCK_ROW'))).toBe(false);
    expect(isUnansweredCall(salesforceError('INVALID_SESSION_ID'))).toBe(false);
  });
});
