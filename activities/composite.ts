import type { ApplicationFailure } from '@temporalio/common';
import type { Connection } from 'jsforce';
import { failureFromResultErrors, salesforceFailure } from './salesforce-errors';
import type { ResultError } from './salesforce-errors';

/** Salesforce's limit: an sObject Collections request takes up to 200 records. */
export const RECORDS_PER_COLLECTION = 200;
/**
 * Salesforce's limit: a Composite request takes up to 25 subrequests, but at most 5 of them may be sObject
 * Collections (or query) subrequests. So one Composite call writes at most 5 × 200 = 1,000 rows.
 */
export const COLLECTIONS_PER_COMPOSITE = 5;
export const ROWS_PER_COMPOSITE = RECORDS_PER_COLLECTION * COLLECTIONS_PER_COMPOSITE;

/** Records of one sObject type to insert, in order. */
export interface InsertGroup {
  type: string;
  records: Record<string, unknown>[];
}

export interface CompositeSubrequest {
  method: 'POST';
  url: string;
  referenceId: string;
  body: { allOrNone: true; records: Record<string, unknown>[] };
}

export interface CompositeRequestBody {
  allOrNone: true;
  /** Subrequests run in the order given (Salesforce may reorder collated ones). */
  collateSubrequests: false;
  compositeRequest: CompositeSubrequest[];
}

export interface CompositeSubresponse {
  body: unknown;
  httpStatusCode: number;
  referenceId: string;
}

export interface CompositeResponse {
  compositeResponse?: CompositeSubresponse[];
}

/**
 * The Composite requests that insert the groups' records in the order given: one sObject Collections subrequest per
 * 200 records of one type (Salesforce refuses several setup types in one collection), 5 of them per Composite
 * request. Up to 1,000 rows need one request; each further 1,000 rows, one more.
 */
export function compositeInsertRequests(version: string, groups: InsertGroup[]): CompositeRequestBody[] {
  const subrequests: CompositeSubrequest[] = [];
  for (const group of groups) {
    for (let i = 0; i < group.records.length; i += RECORDS_PER_COLLECTION) {
      subrequests.push({
        method: 'POST',
        url: `/services/data/v${version}/composite/sobjects`,
        referenceId: `${group.type}_${i / RECORDS_PER_COLLECTION}`,
        body: {
          allOrNone: true,
          records: group.records
            .slice(i, i + RECORDS_PER_COLLECTION)
            .map((record) => ({ attributes: { type: group.type }, ...record })),
        },
      });
    }
  }
  const requests: CompositeRequestBody[] = [];
  for (let i = 0; i < subrequests.length; i += COLLECTIONS_PER_COMPOSITE) {
    requests.push({
      allOrNone: true,
      collateSubrequests: false,
      compositeRequest: subrequests.slice(i, i + COLLECTIONS_PER_COMPOSITE),
    });
  }
  return requests;
}

/** Codes that only say another part of the transaction failed. */
const CONSEQUENTIAL_CODES = new Set(['PROCESSING_HALTED', 'ALL_OR_NONE_OPERATION_ROLLED_BACK']);

const codeOf = (error: ResultError): string => error.statusCode ?? error.errorCode ?? 'UNKNOWN_EXCEPTION';

/**
 * The errors of one subresponse: a failed subrequest answers Salesforce's error array (`[{errorCode, message}]`), an
 * sObject Collections subrequest answers one SaveResult per record (`{success: false, errors: [...]}` for failures).
 */
function subresponseErrors(response: CompositeSubresponse): ResultError[] {
  const errors: ResultError[] = [];
  if (Array.isArray(response.body)) {
    for (const item of response.body as unknown[]) {
      if (!item || typeof item !== 'object') continue;
      const result = item as { success?: unknown; errors?: unknown; errorCode?: unknown; message?: unknown };
      if (result.success === false) {
        if (Array.isArray(result.errors) && result.errors.length > 0) errors.push(...(result.errors as ResultError[]));
        else errors.push({ statusCode: 'UNKNOWN_EXCEPTION', message: 'a record failed without an error' });
      } else if (typeof result.errorCode === 'string') {
        errors.push({
          errorCode: result.errorCode,
          ...(typeof result.message === 'string' ? { message: result.message } : {}),
        });
      }
    }
  }
  if (errors.length === 0 && response.httpStatusCode >= 400) {
    errors.push({ errorCode: `ERROR_HTTP_${response.httpStatusCode}`, message: `HTTP ${response.httpStatusCode}` });
  }
  return errors;
}

/**
 * The typed failure of a Composite response, if any subrequest failed. With `allOrNone`, Salesforce answers
 * PROCESSING_HALTED for every other subrequest and ALL_OR_NONE_OPERATION_ROLLED_BACK for the other records of the
 * failed collection: the cause reported is the first error that is neither.
 */
export function compositeFailure(response: CompositeResponse, step: string): ApplicationFailure | undefined {
  const subresponses = response.compositeResponse;
  if (!Array.isArray(subresponses)) {
    return salesforceFailure('UNKNOWN_EXCEPTION', 'the composite request was answered without subresponses', step);
  }
  const errors = subresponses.flatMap(subresponseErrors);
  if (errors.length === 0) return undefined;
  const cause = errors.find((e) => !CONSEQUENTIAL_CODES.has(codeOf(e))) ?? errors[0];
  return failureFromResultErrors(cause, step);
}

/**
 * Inserts the groups' records in one Composite call per 1,000 rows (see `compositeInsertRequests`), each one
 * transaction: a failure anywhere in it writes nothing of it. Throws the typed failure of the first call that fails.
 */
export async function insertInComposites(connection: Connection, groups: InsertGroup[], step: string): Promise<void> {
  for (const body of compositeInsertRequests(connection.version, groups)) {
    const response = await connection.request<CompositeResponse>({
      method: 'POST',
      url: '/composite',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    const failure = compositeFailure(response, step);
    if (failure) throw failure;
  }
}
