import {
  COLLECTIONS_PER_COMPOSITE,
  RECORDS_PER_COLLECTION,
  compositeFailure,
  compositeInsertRequests,
} from '../../activities/composite';
import type { CompositeSubresponse } from '../../activities/composite';
import { ErrorType } from '../../workflows/definitions';

const rows = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ Key: `${prefix}${i}` }));

describe('the Composite requests that insert grant rows', () => {
  it('puts up to 1,000 rows in one all-or-none, uncollated request, object permissions first', () => {
    const [request, ...more] = compositeInsertRequests('66.0', [
      { type: 'ObjectPermissions', records: rows(3, 'o') },
      { type: 'FieldPermissions', records: rows(180, 'f') },
    ]);
    expect(more).toEqual([]);
    expect(request).toMatchObject({ allOrNone: true, collateSubrequests: false });
    expect(request!.compositeRequest).toEqual([
      {
        method: 'POST',
        url: '/services/data/v66.0/composite/sobjects',
        referenceId: 'ObjectPermissions_0',
        body: {
          allOrNone: true,
          records: rows(3, 'o').map((r) => ({ attributes: { type: 'ObjectPermissions' }, ...r })),
        },
      },
      {
        method: 'POST',
        url: '/services/data/v66.0/composite/sobjects',
        referenceId: 'FieldPermissions_0',
        body: {
          allOrNone: true,
          records: rows(180, 'f').map((r) => ({ attributes: { type: 'FieldPermissions' }, ...r })),
        },
      },
    ]);
  });

  it('splits into 200-record collections, 5 per request: 10 objects × 100 fields take 2 requests', () => {
    const requests = compositeInsertRequests('66.0', [
      { type: 'ObjectPermissions', records: rows(10, 'o') },
      { type: 'FieldPermissions', records: rows(1000, 'f') },
    ]);
    expect(requests.map((r) => r.compositeRequest.map((s) => [s.referenceId, s.body.records.length]))).toEqual([
      [
        ['ObjectPermissions_0', 10],
        ['FieldPermissions_0', 200],
        ['FieldPermissions_1', 200],
        ['FieldPermissions_2', 200],
        ['FieldPermissions_3', 200],
      ],
      [['FieldPermissions_4', 200]],
    ]);
    // Every record once, in order: each object's permission comes before any field permission.
    const sent = requests.flatMap((r) => r.compositeRequest.flatMap((s) => s.body.records.map((x) => x.Key)));
    expect(sent).toEqual([...rows(10, 'o'), ...rows(1000, 'f')].map((r) => r.Key));
    for (const r of requests) {
      expect(r.compositeRequest.length).toBeLessThanOrEqual(COLLECTIONS_PER_COMPOSITE);
      for (const s of r.compositeRequest) expect(s.body.records.length).toBeLessThanOrEqual(RECORDS_PER_COLLECTION);
    }
  });

  it('the most an agent configuration allows (50 objects, 1,000 fields) still takes 2 requests', () => {
    const requests = compositeInsertRequests('66.0', [
      { type: 'ObjectPermissions', records: rows(50, 'o') },
      { type: 'FieldPermissions', records: rows(1000, 'f') },
    ]);
    expect(requests).toHaveLength(2);
  });

  it('sends nothing when no row is missing', () => {
    expect(
      compositeInsertRequests('66.0', [
        { type: 'ObjectPermissions', records: [] },
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
