import {
  COLLECTIONS_PER_COMPOSITE,
  RECORDS_PER_COLLECTION,
  SUBREQUESTS_PER_COMPOSITE,
  compositeFailure,
  compositeInsertRequests,
  isCollectionSubrequest,
} from '../../salesforce/composite';
import type { CompositeRequestBody, CompositeSubresponse, InsertGroup } from '../../salesforce/composite';
import { ErrorType } from '../../workflows/definitions';

const rows = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ Key: `${prefix}${i}` }));

/** The grant rows of `objects` objects × `fields` fields per object, as the permission set step groups them. */
const grants = (objects: number, fields: number): InsertGroup[] => [
  { type: 'ObjectPermissions', records: rows(objects, 'o'), oneByOne: true },
  { type: 'FieldPermissions', records: rows(objects * fields, 'f') },
];

/** Each request as [referenceId, rows carried] per subrequest. */
const shape = (requests: CompositeRequestBody[]) =>
  requests.map((r) =>
    r.compositeRequest.map((s) => [s.referenceId, isCollectionSubrequest(s) ? s.body.records.length : 1]),
  );

/** Every record sent, in order, by its Key. */
const sentKeys = (requests: CompositeRequestBody[]) =>
  requests.flatMap((r) =>
    r.compositeRequest.flatMap((s) =>
      (isCollectionSubrequest(s) ? s.body.records : 'body' in s ? [s.body] : []).map((x) => x.Key),
    ),
  );

function expectWithinLimits(requests: CompositeRequestBody[]) {
  for (const r of requests) {
    expect(r).toMatchObject({ allOrNone: true, collateSubrequests: false });
    expect(r.compositeRequest.length).toBeLessThanOrEqual(SUBREQUESTS_PER_COMPOSITE);
    const collections = r.compositeRequest.filter(isCollectionSubrequest);
    expect(collections.length).toBeLessThanOrEqual(COLLECTIONS_PER_COMPOSITE);
    for (const s of collections) expect(s.body.records.length).toBeLessThanOrEqual(RECORDS_PER_COLLECTION);
    expect(new Set(r.compositeRequest.map((s) => s.referenceId)).size).toBe(r.compositeRequest.length);
  }
}

describe('the Composite requests that insert grant rows', () => {
  it('object permissions as single-record creates, then field permissions in collections: one request', () => {
    const [request, ...more] = compositeInsertRequests('66.0', [
      { type: 'ObjectPermissions', records: rows(3, 'o'), oneByOne: true },
      { type: 'FieldPermissions', records: rows(180, 'f') },
    ]);
    expect(more).toEqual([]);
    expect(request).toEqual({
      allOrNone: true,
      collateSubrequests: false,
      compositeRequest: [
        ...rows(3, 'o').map((r, i) => ({
          method: 'POST',
          url: '/services/data/v66.0/sobjects/ObjectPermissions',
          referenceId: `ObjectPermissions_${i}`,
          body: r,
        })),
        {
          method: 'POST',
          url: '/services/data/v66.0/composite/sobjects',
          referenceId: 'FieldPermissions_0_179',
          body: {
            allOrNone: true,
            records: rows(180, 'f').map((r) => ({ attributes: { type: 'FieldPermissions' }, ...r })),
          },
        },
      ],
    });
  });

  it.each([
    [3, 10, 1],
    [3, 60, 1],
    [10, 100, 1],
    [20, 50, 1],
    [1, 1000, 1],
  ])('%i objects × %i fields: %i request', (objects, fields, count) => {
    const requests = compositeInsertRequests('66.0', grants(objects, fields));
    expect(requests).toHaveLength(count);
    expectWithinLimits(requests);
    expect(sentKeys(requests)).toEqual([...rows(objects, 'o'), ...rows(objects * fields, 'f')].map((r) => r.Key));
  });

  it('10 objects × 100 fields (1,010 rows): 10 creates and 5 collections of 200, one request', () => {
    expect(shape(compositeInsertRequests('66.0', grants(10, 100)))).toEqual([
      [
        ...Array.from({ length: 10 }, (_, i) => [`ObjectPermissions_${i}`, 1]),
        ['FieldPermissions_0_199', 200],
        ['FieldPermissions_200_399', 200],
        ['FieldPermissions_400_599', 200],
        ['FieldPermissions_600_799', 200],
        ['FieldPermissions_800_999', 200],
      ],
    ]);
  });

  it('more requests only when needed: past 1,000 field rows, or past 25 subrequests', () => {
    // 1,001 field rows: 6 collections.
    const past1000 = compositeInsertRequests('66.0', [
      { type: 'ObjectPermissions', records: rows(3, 'o'), oneByOne: true },
      { type: 'FieldPermissions', records: rows(1001, 'f') },
    ]);
    expect(shape(past1000).map((r) => r.length)).toEqual([8, 1]);
    expect(shape(past1000)[1]).toEqual([['FieldPermissions_1000_1000', 1]]);
    // 21 objects × 40 fields: 21 creates and 5 collections are 26 subrequests.
    const past25 = compositeInsertRequests('66.0', grants(21, 40));
    expect(shape(past25).map((r) => r.length)).toEqual([25, 1]);
    expect(shape(past25)[1]).toEqual([['FieldPermissions_800_839', 40]]);
    // 20 objects × 50 fields: 20 creates and 5 collections, exactly 25 subrequests.
    expect(compositeInsertRequests('66.0', grants(20, 50))).toHaveLength(1);
    for (const requests of [past1000, past25]) expectWithinLimits(requests);
  });

  it('many objects with many fields: object rows in a collection when that takes fewer requests', () => {
    // The most an agent configuration allows, 50 objects and 1,000 fields: 50 creates and 5 collections would need 3
    // requests (55 subrequests); a collection of 50 object rows and 5 of field rows need 2.
    const requests = compositeInsertRequests('66.0', [
      { type: 'ObjectPermissions', records: rows(50, 'o'), oneByOne: true },
      { type: 'FieldPermissions', records: rows(1000, 'f') },
    ]);
    expect(shape(requests)).toEqual([
      [
        ['ObjectPermissions_0_49', 50],
        ['FieldPermissions_0_199', 200],
        ['FieldPermissions_200_399', 200],
        ['FieldPermissions_400_599', 200],
        ['FieldPermissions_600_799', 200],
      ],
      [['FieldPermissions_800_999', 200]],
    ]);
    expectWithinLimits(requests);
    expect(sentKeys(requests)).toEqual([...rows(50, 'o'), ...rows(1000, 'f')].map((r) => r.Key));
    // 30 objects × 2 fields: 30 creates and a collection would need 2 requests; 2 collections need 1.
    expect(shape(compositeInsertRequests('66.0', grants(30, 2)))).toEqual([
      [
        ['ObjectPermissions_0_29', 30],
        ['FieldPermissions_0_59', 60],
      ],
    ]);
    // When collections would take as many requests, object rows go one by one: 21 objects × 40 fields take 2
    // requests either way (26 subrequests, or 6 collections).
    const tie = compositeInsertRequests('66.0', grants(21, 40));
    expect(tie.flatMap((r) => r.compositeRequest).filter((s) => !isCollectionSubrequest(s))).toHaveLength(21);
  });

  it('sends nothing when no row is missing', () => {
    expect(
      compositeInsertRequests('66.0', [
        { type: 'ObjectPermissions', records: [], oneByOne: true },
        { type: 'FieldPermissions', records: [] },
      ]),
    ).toEqual([]);
  });
});

const halted = (referenceId: string): CompositeSubresponse => ({
  referenceId,
  httpStatusCode: 400,
  body: [
    {
      errorCode: 'PROCESSING_HALTED',
      message: 'The transaction was rolled back since another operation in the same transaction failed.',
    },
  ],
});
const ok = (referenceId: string): CompositeSubresponse => ({
  referenceId,
  httpStatusCode: 200,
  body: [{ id: '0PS000000000001', success: true, errors: [] }],
});
const created = (referenceId: string): CompositeSubresponse => ({
  referenceId,
  httpStatusCode: 201,
  body: { id: '110000000000001AAA', success: true, errors: [] },
});
const rolledBack = {
  id: null,
  success: false,
  errors: [{ statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK', message: 'Record rolled back', fields: [] }],
};

function details(failure: ReturnType<typeof compositeFailure>) {
  return {
    type: failure?.type,
    nonRetryable: failure?.nonRetryable,
    ...(failure?.details?.[0] as { salesforceCode: string; salesforceMessage: string; step: string }),
  };
}

describe('the failure of a Composite response', () => {
  it('is none when every subrequest succeeded', () => {
    expect(compositeFailure({ compositeResponse: [ok('a'), ok('b')] }, 'permission_set')).toBeUndefined();
  });

  it('is none when single-record creates (201) and collections all succeeded', () => {
    expect(
      compositeFailure(
        { compositeResponse: [created('ObjectPermissions_0'), ok('FieldPermissions_0_0')] },
        'permission_set',
      ),
    ).toBeUndefined();
  });

  it('a single-record create failing: its error, typed as the same error of a record in a collection', () => {
    const restricted = {
      code: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
      message: 'Sobject Type Name: bad value for restricted picklist field: No_Such__c',
    };
    const fromCreate = compositeFailure(
      {
        compositeResponse: [
          halted('ObjectPermissions_0'),
          {
            referenceId: 'ObjectPermissions_1',
            httpStatusCode: 400,
            body: [{ errorCode: restricted.code, message: restricted.message, fields: ['SobjectType'] }],
          },
          halted('ObjectPermissions_2'),
          halted('FieldPermissions_0_199'),
        ],
      },
      'permission_set',
    );
    const fromCollection = compositeFailure(
      {
        compositeResponse: [
          {
            referenceId: 'ObjectPermissions_0_2',
            httpStatusCode: 200,
            body: [
              rolledBack,
              { id: null, success: false, errors: [{ statusCode: restricted.code, message: restricted.message }] },
            ],
          },
          halted('FieldPermissions_0_199'),
        ],
      },
      'permission_set',
    );
    expect(details(fromCreate)).toEqual({
      type: ErrorType.salesforcePermanent,
      nonRetryable: true,
      salesforceCode: restricted.code,
      salesforceMessage: restricted.message,
      message: expect.any(String),
      fix: expect.any(String),
      step: 'permission_set',
    });
    expect(details(fromCreate)).toEqual(details(fromCollection));
    expect(fromCreate!.message).toBe(fromCollection!.message);
  });

  it('a single-record create refused with a lock error is transient; a duplicate is permanent', () => {
    const failed = (errorCode: string) =>
      compositeFailure(
        {
          compositeResponse: [
            halted('ObjectPermissions_0'),
            { referenceId: 'ObjectPermissions_1', httpStatusCode: 400, body: [{ errorCode, message: errorCode }] },
            halted('FieldPermissions_0_9'),
          ],
        },
        'permission_set',
      );
    expect(details(failed('UNABLE_TO_LOCK_ROW'))).toMatchObject({
      type: ErrorType.salesforceTransient,
      nonRetryable: false,
      salesforceCode: 'UNABLE_TO_LOCK_ROW',
    });
    expect(details(failed('DUPLICATE_VALUE'))).toMatchObject({
      type: ErrorType.salesforcePermanent,
      salesforceCode: 'DUPLICATE_VALUE',
    });
  });

  it('a record failing inside a collection: its error, not the rolled-back records nor PROCESSING_HALTED', () => {
    const failure = compositeFailure(
      {
        compositeResponse: [
          halted('ObjectPermissions_0'),
          halted('FieldPermissions_0'),
          {
            referenceId: 'FieldPermissions_1',
            httpStatusCode: 200,
            body: [
              rolledBack,
              {
                id: null,
                success: false,
                errors: [
                  {
                    statusCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
                    message: 'Field Name: bad value for restricted picklist field: Account.Nope__c',
                    fields: ['Field'],
                  },
                ],
              },
            ],
          },
          halted('FieldPermissions_2'),
        ],
      },
      'permission_set',
    );
    expect(details(failure)).toMatchObject({
      type: ErrorType.salesforcePermanent,
      nonRetryable: true,
      salesforceCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
      salesforceMessage: 'Field Name: bad value for restricted picklist field: Account.Nope__c',
      step: 'permission_set',
    });
  });

  it('a failed subrequest: its error, typed as before (a lock is transient)', () => {
    const failure = compositeFailure(
      {
        compositeResponse: [
          halted('ObjectPermissions_0'),
          {
            referenceId: 'FieldPermissions_0',
            httpStatusCode: 400,
            body: [{ errorCode: 'UNABLE_TO_LOCK_ROW', message: 'unable to obtain exclusive access to this record' }],
          },
        ],
      },
      'permission_set',
    );
    expect(details(failure)).toMatchObject({
      type: ErrorType.salesforceTransient,
      nonRetryable: false,
      salesforceCode: 'UNABLE_TO_LOCK_ROW',
    });
  });

  it('the same failure in the first subrequest (everything after it halted)', () => {
    const failure = compositeFailure(
      {
        compositeResponse: [
          {
            referenceId: 'ObjectPermissions_0',
            httpStatusCode: 200,
            body: [
              {
                id: null,
                success: false,
                errors: [{ statusCode: 'INSUFFICIENT_ACCESS_OR_READONLY', message: 'no access', fields: [] }],
              },
              rolledBack,
            ],
          },
          halted('FieldPermissions_0'),
        ],
      },
      'permission_set',
    );
    expect(details(failure)).toMatchObject({ salesforceCode: 'INSUFFICIENT_ACCESS_OR_READONLY' });
  });

  it('a failed subrequest without an error body: the HTTP status', () => {
    const failure = compositeFailure(
      { compositeResponse: [{ referenceId: 'a', httpStatusCode: 503, body: null }, halted('b')] },
      'permission_set',
    );
    expect(details(failure)).toMatchObject({ type: ErrorType.salesforceTransient, salesforceCode: 'ERROR_HTTP_503' });
  });

  it('only PROCESSING_HALTED: reported as it is rather than hidden', () => {
    const failure = compositeFailure({ compositeResponse: [halted('a')] }, 'permission_set');
    expect(details(failure)).toMatchObject({ salesforceCode: 'PROCESSING_HALTED' });
  });

  it('an answer without subresponses is a transient failure', () => {
    expect(details(compositeFailure({}, 'permission_set'))).toMatchObject({
      type: ErrorType.salesforceTransient,
      salesforceCode: 'UNKNOWN_EXCEPTION',
    });
  });
});
