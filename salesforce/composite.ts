import type { ApplicationFailure } from '@temporalio/common';
import type { Connection } from 'jsforce';
import { failureFromResultErrors, salesforceFailure } from './errors';
import type { StepId } from '../workflows/definitions';
import type { ResultError } from './errors';

/*
 * Salesforce's limits on a Composite request (REST API Developer Guide, "Send Multiple Requests Using Composite",
 * https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_composite_post.htm,
 * note repeated under "Composite Request Body", .../api_rest/requests_composite.htm):
 *   "You can have up to 25 subrequests in a single call. Up to 5 of these subrequests can be sObject Collections or
 *    query operations, including Query and QueryAll requests."
 * and "The entire series of requests counts as a single call toward your API limits". Composite also takes "All sObject
 * resources (/services/data/vXX.X/sobjects/)"; the 5-limit names only collections and queries, so a single-record
 * create (POST .../sobjects/{type}) counts toward the 25 and not toward the 5 (as the emulator models it). An sObject
 * Collections create takes "up to 200 records" ("Create Records Using sObject Collections",
 * .../api_rest/resources_composite_sobjects_collections_create.htm).
 */
/** Salesforce's limit: a Composite request takes up to 25 subrequests. */
export const SUBREQUESTS_PER_COMPOSITE = 25;
/** Salesforce's limit: at most 5 of a Composite request's subrequests may be sObject Collections (or queries). */
export const COLLECTIONS_PER_COMPOSITE = 5;
/** Salesforce's limit: an sObject Collections request takes up to 200 records. */
export const RECORDS_PER_COLLECTION = 200;

/** Records of one sObject type to insert, in order. */
export interface InsertGroup {
  type: string;
  records: Record<string, unknown>[];
  /**
   * Send each record as its own sObject create subrequest (not one of the 5 collections) rather than in collections of
   * 200. Used for the few object permissions, so that the 5 collections are left to the field permissions.
   */
  oneByOne?: boolean;
}

/** `POST /services/data/vXX.X/sobjects/{type}`: one record, answered 201 `{id, success, errors}` or an error array. */
export interface SObjectCreateSubrequest {
  method: 'POST';
  url: string;
  referenceId: string;
  body: Record<string, unknown>;
}

/** `POST /services/data/vXX.X/composite/sobjects`: up to 200 records, answered one SaveResult per record. */
export interface CollectionInsertSubrequest {
  method: 'POST';
  url: string;
  referenceId: string;
  body: { allOrNone: true; records: Record<string, unknown>[] };
}

/** `DELETE /services/data/vXX.X/composite/sobjects?ids=…&allOrNone=true`: up to 200 records by id. */
export interface CollectionDeleteSubrequest {
  method: 'DELETE';
  url: string;
  referenceId: string;
}

export type CompositeSubrequest = SObjectCreateSubrequest | CollectionInsertSubrequest | CollectionDeleteSubrequest;

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

export const isCollectionSubrequest = (s: CompositeSubrequest): s is CollectionInsertSubrequest =>
  s.method === 'POST' && s.url.endsWith('/composite/sobjects');

/** Salesforce's 5-per-composite limit counts every sObject Collections subrequest, inserts and deletes alike. */
const countsAsCollection = (s: CompositeSubrequest): boolean => s.url.split('?')[0]!.endsWith('/composite/sobjects');

/** One sObject Collections delete per 200 ids, in order, each all or none. */
function deleteSubrequests(version: string, ids: string[]): CollectionDeleteSubrequest[] {
  const subrequests: CollectionDeleteSubrequest[] = [];
  for (let i = 0; i < ids.length; i += RECORDS_PER_COLLECTION) {
    const chunk = ids.slice(i, i + RECORDS_PER_COLLECTION);
    subrequests.push({
      method: 'DELETE',
      url: `/services/data/v${version}/composite/sobjects?ids=${chunk.join(',')}&allOrNone=true`,
      referenceId: `delete_${i}_${i + chunk.length - 1}`,
    });
  }
  return subrequests;
}

/**
 * The subrequests that insert the groups' records in the order given: a group sent one by one gives one sObject create
 * per record (`ObjectPermissions_0`, `ObjectPermissions_1`, ...), any other one sObject Collections insert per 200
 * records of its type (`FieldPermissions_0_199`, `FieldPermissions_200_399`, ...; Salesforce refuses several setup
 * types in one collection). Reference ids name the rows (0-based, per group) a subrequest carries.
 */
function insertSubrequests(version: string, groups: InsertGroup[]): CompositeSubrequest[] {
  const subrequests: CompositeSubrequest[] = [];
  for (const group of groups) {
    if (group.oneByOne) {
      group.records.forEach((record, i) => {
        subrequests.push({
          method: 'POST',
          url: `/services/data/v${version}/sobjects/${group.type}`,
          referenceId: `${group.type}_${i}`,
          body: { ...record },
        });
      });
      continue;
    }
    for (let i = 0; i < group.records.length; i += RECORDS_PER_COLLECTION) {
      const records = group.records.slice(i, i + RECORDS_PER_COLLECTION);
      subrequests.push({
        method: 'POST',
        url: `/services/data/v${version}/composite/sobjects`,
        referenceId: `${group.type}_${i}_${i + records.length - 1}`,
        body: { allOrNone: true, records: records.map((record) => ({ attributes: { type: group.type }, ...record })) },
      });
    }
  }
  return subrequests;
}

/**
 * Packs subrequests, in order, into as few Composite requests as the limits allow: each request takes subrequests
 * until the next would be its 26th, or its 6th collection. (Packing a sequence greedily into consecutive runs is
 * optimal when any part of a run that fits also fits.)
 */
function pack(subrequests: CompositeSubrequest[]): CompositeRequestBody[] {
  const requests: CompositeRequestBody[] = [];
  let current: CompositeSubrequest[] = [];
  let collections = 0;
  for (const subrequest of subrequests) {
    const collection = countsAsCollection(subrequest);
    if (current.length === SUBREQUESTS_PER_COMPOSITE || (collection && collections === COLLECTIONS_PER_COMPOSITE)) {
      requests.push({ allOrNone: true, collateSubrequests: false, compositeRequest: current });
      current = [];
      collections = 0;
    }
    current.push(subrequest);
    if (collection) collections++;
  }
  if (current.length > 0) requests.push({ allOrNone: true, collateSubrequests: false, compositeRequest: current });
  return requests;
}

/**
 * The Composite requests (all or none, uncollated) that insert the groups' records in the order given. Groups marked
 * `oneByOne` go as single-record creates, which do not count toward the 5 collections: 10 object permissions and
 * 1,000 field permissions are 10 creates and 5 collections, 15 subrequests, one request. More requests only when
 * the rows need them (more than 1,000 field permissions, or more than 25 subrequests in all). When so many records
 * are to go one by one that sending them in collections would take fewer requests (50 objects and 1,000 fields: 50
 * creates and 5 collections need 3 requests, 6 collections need 2), they go in collections.
 */
export function compositeInsertRequests(version: string, groups: InsertGroup[]): CompositeRequestBody[] {
  const preferred = pack(insertSubrequests(version, groups));
  if (!groups.some((g) => g.oneByOne && g.records.length > 0)) return preferred;
  const collections = pack(
    insertSubrequests(
      version,
      groups.map((g) => ({ ...g, oneByOne: false })),
    ),
  );
  return collections.length < preferred.length ? collections : preferred;
}

/** Codes that only say another part of the transaction failed. */
const CONSEQUENTIAL_CODES = new Set(['PROCESSING_HALTED', 'ALL_OR_NONE_OPERATION_ROLLED_BACK']);

const codeOf = (error: ResultError): string => error.statusCode ?? error.errorCode ?? 'UNKNOWN_EXCEPTION';

/** The errors of one SaveResult-like item (`{success: false, errors}`) or Salesforce error (`{errorCode, message}`). */
function itemErrors(item: unknown): ResultError[] {
  if (!item || typeof item !== 'object') return [];
  const result = item as { success?: unknown; errors?: unknown; errorCode?: unknown; message?: unknown };
  if (result.success === false) {
    if (Array.isArray(result.errors) && result.errors.length > 0) return result.errors as ResultError[];
    return [{ statusCode: 'UNKNOWN_EXCEPTION', message: 'a record failed without an error' }];
  }
  if (typeof result.errorCode === 'string') {
    return [
      { errorCode: result.errorCode, ...(typeof result.message === 'string' ? { message: result.message } : {}) },
    ];
  }
  return [];
}

/**
 * The errors of one subresponse. A failed subrequest (a single-record create, or a collection refused as a whole)
 * answers Salesforce's error array (`[{errorCode, message, fields}]`); an sObject Collections subrequest answers one
 * SaveResult per record (`{success: false, errors: [...]}` for failures); a created record answers
 * `{id, success: true, errors: []}`.
 */
function subresponseErrors(response: CompositeSubresponse): ResultError[] {
  const errors = Array.isArray(response.body)
    ? (response.body as unknown[]).flatMap(itemErrors)
    : itemErrors(response.body);
  if (errors.length === 0 && response.httpStatusCode >= 400) {
    errors.push({ errorCode: `ERROR_HTTP_${response.httpStatusCode}`, message: `HTTP ${response.httpStatusCode}` });
  }
  return errors;
}

/**
 * The typed failure of a Composite response, if any subrequest failed. With `allOrNone`, Salesforce answers
 * PROCESSING_HALTED for every other subrequest and ALL_OR_NONE_OPERATION_ROLLED_BACK for the other records of a
 * failed collection: the cause reported is the first error that is neither, whether it came from a record of a
 * collection (`statusCode`) or from a single-record create (`errorCode`), typed the same way.
 */
export function compositeFailure(response: CompositeResponse, step: StepId): ApplicationFailure | undefined {
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
 * Inserts the groups' records in as few Composite calls as Salesforce's limits allow (see `compositeInsertRequests`),
 * each one transaction: a failure anywhere in it writes nothing of it. Throws the typed failure of the first call
 * that fails.
 */
export async function insertInComposites(connection: Connection, groups: InsertGroup[], step: StepId): Promise<void> {
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

/**
 * Deletes records by id, then inserts the groups' records, in as few all-or-none Composite calls as Salesforce's
 * limits allow: changing a permission set's rows is one transaction when they fit in one call (up to 5 collections of
 * 200, 25 subrequests), so the permission set is never left half changed.
 */
export async function replaceInComposites(
  connection: Connection,
  change: { deleteIds: string[]; inserts: InsertGroup[] },
  step: StepId,
): Promise<void> {
  const subrequests = [
    ...deleteSubrequests(connection.version, change.deleteIds),
    ...insertSubrequests(connection.version, change.inserts),
  ];
  for (const body of pack(subrequests)) {
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
