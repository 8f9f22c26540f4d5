/**
 * Composite requests as the permission set step sends them: single-record sObject creates (object permissions) and
 * sObject Collections inserts (field permissions) in one transaction with allOrNone; PROCESSING_HALTED for the other
 * subrequests, one call in the counters, the 25-subrequest and 5-collection limits, faults.
 */
import type { Connection } from 'jsforce';
import type { RunningEmulator } from '../src';
import { failure, newOrg, start, unique } from './helpers';

let emu: RunningEmulator;
beforeAll(async () => {
  emu = await start();
});
afterAll(async () => {
  await emu.close();
});

interface SaveResult {
  id: string | null;
  success: boolean;
  errors: { statusCode: string; message: string }[];
}
interface Subresponse {
  body: unknown;
  httpStatusCode: number;
  referenceId: string;
}
interface CompositeResponse {
  compositeResponse: Subresponse[];
}

const COLLECTIONS = '/services/data/v66.0/composite/sobjects';

/** The Composite call as the service makes it: jsforce's `request`, JSON body. */
function composite(conn: Connection, body: unknown): Promise<CompositeResponse> {
  return conn.request<CompositeResponse>({
    method: 'POST',
    url: '/composite',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
}

const objectRow = (parentId: string, object: string) => ({
  attributes: { type: 'ObjectPermissions' },
  ParentId: parentId,
  SobjectType: object,
  PermissionsRead: true,
});
const fieldRow = (parentId: string, field: string) => ({
  attributes: { type: 'FieldPermissions' },
  ParentId: parentId,
  SobjectType: field.split('.')[0],
  Field: field,
  PermissionsRead: true,
});
const SOBJECTS = '/services/data/v66.0/sobjects';
/** A single-record create subrequest: the record's fields as the body, no `attributes`. */
const create = (referenceId: string, type: string, record: Record<string, unknown>) => ({
  method: 'POST',
  url: `${SOBJECTS}/${type}`,
  referenceId,
  body: record,
});
const objectCreate = (referenceId: string, parentId: string, object: string) => {
  const { attributes: _type, ...record } = objectRow(parentId, object);
  return create(referenceId, 'ObjectPermissions', record);
};
const insert = (referenceId: string, records: unknown[], allOrNone = true) => ({
  method: 'POST',
  url: COLLECTIONS,
  referenceId,
  body: { allOrNone, records },
});

async function permissionSet(conn: Connection): Promise<string> {
  const name = unique('PS_');
  const r = await conn.sobject('PermissionSet').create({ Name: name, Label: name });
  return r.id!;
}

async function rows(conn: Connection, parentId: string): Promise<{ objects: number; fields: number }> {
  const objects = await conn.query(`SELECT Id FROM ObjectPermissions WHERE ParentId = '${parentId}'`);
  const fields = await conn.query(`SELECT Id FROM FieldPermissions WHERE ParentId = '${parentId}'`);
  return { objects: objects.totalSize, fields: fields.totalSize };
}

const codes = (s: Subresponse): string[] =>
  (s.body as ({ errorCode?: string } & Partial<SaveResult>)[]).map(
    (x) => x.errorCode ?? (x.success ? 'OK' : x.errors![0]!.statusCode),
  );

describe('Composite with sObject Collections subrequests', () => {
  test('object then field permissions in one call: every row written, counted as one rest.composite', async () => {
    const fields = Array.from({ length: 250 }, (_, i) => ({ name: `F_${i}__c`, type: 'string' }));
    const { org, conn } = await newOrg(emu, { customFields: { Account: fields } });
    const ps = await permissionSet(conn);
    await emu.control.resetCounters(org.key);
    const r = await composite(conn, {
      allOrNone: true,
      collateSubrequests: false,
      compositeRequest: [
        insert('objects', [objectRow(ps, 'Account'), objectRow(ps, 'Contact')]),
        insert(
          'fields0',
          fields.slice(0, 200).map((f) => fieldRow(ps, `Account.${f.name}`)),
        ),
        insert('fields1', [
          ...fields.slice(200).map((f) => fieldRow(ps, `Account.${f.name}`)),
          fieldRow(ps, 'Contact.Title'),
        ]),
      ],
    });
    expect(r.compositeResponse.map((s) => [s.referenceId, s.httpStatusCode])).toEqual([
      ['objects', 200],
      ['fields0', 200],
      ['fields1', 200],
    ]);
    for (const s of r.compositeResponse) expect((s.body as SaveResult[]).every((x) => x.success && x.id)).toBe(true);
    expect(await rows(conn, ps)).toEqual({ objects: 2, fields: 251 });
    const counters = await emu.control.counters(org.key);
    expect(counters.byOperation).toEqual({ 'rest.composite': 1, 'rest.query': 2 });
    expect(counters.byOperationAndObject['rest.composite']).toEqual({ ObjectPermissions: 1, FieldPermissions: 1 });
  });

  test('allOrNone: a record failing in the 3rd subrequest undoes the 1st and 2nd; the others are PROCESSING_HALTED', async () => {
    const { conn } = await newOrg(emu);
    const ps = await permissionSet(conn);
    const r = await composite(conn, {
      allOrNone: true,
      collateSubrequests: false,
      compositeRequest: [
        insert('objects', [objectRow(ps, 'Account'), objectRow(ps, 'Contact')]),
        insert('fields0', [fieldRow(ps, 'Account.Industry'), fieldRow(ps, 'Contact.Title')]),
        insert('fields1', [fieldRow(ps, 'Account.Phone'), fieldRow(ps, 'Account.NoSuchField__c')]),
        insert('fields2', [fieldRow(ps, 'Contact.Email')]),
      ],
    });
    const [objects, fields0, fields1, fields2] = r.compositeResponse;
    expect([objects, fields0, fields2].map((s) => [s!.httpStatusCode, codes(s!)])).toEqual([
      [400, ['PROCESSING_HALTED']],
      [400, ['PROCESSING_HALTED']],
      [400, ['PROCESSING_HALTED']],
    ]);
    // The failed collection answers as a collection does: 200, the real error, the rest rolled back.
    expect(fields1!.httpStatusCode).toBe(200);
    expect(codes(fields1!)).toEqual(['ALL_OR_NONE_OPERATION_ROLLED_BACK', 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST']);
    expect(await rows(conn, ps)).toEqual({ objects: 0, fields: 0 });
  });

  test("the composite's allOrNone overrides a collection's allOrNone=false: nothing is written", async () => {
    const { conn } = await newOrg(emu);
    const ps = await permissionSet(conn);
    const r = await composite(conn, {
      allOrNone: true,
      compositeRequest: [
        insert('objects', [objectRow(ps, 'Account')]),
        insert('fields', [fieldRow(ps, 'Account.Industry'), fieldRow(ps, 'Account.NoSuchField__c')], false),
      ],
    });
    expect(codes(r.compositeResponse[0]!)).toEqual(['PROCESSING_HALTED']);
    expect(codes(r.compositeResponse[1]!)).toEqual([
      'ALL_OR_NONE_OPERATION_ROLLED_BACK',
      'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
    ]);
    expect(await rows(conn, ps)).toEqual({ objects: 0, fields: 0 });
  });

  test("without the composite's allOrNone, each collection follows its own allOrNone", async () => {
    const { conn } = await newOrg(emu);
    const ps = await permissionSet(conn);
    const r = await composite(conn, {
      allOrNone: false,
      compositeRequest: [
        insert('objects', [objectRow(ps, 'Account'), objectRow(ps, 'Contact')]),
        insert('atomic', [fieldRow(ps, 'Account.Industry'), fieldRow(ps, 'Account.NoSuchField__c')], true),
        insert('partial', [fieldRow(ps, 'Contact.Title'), fieldRow(ps, 'Contact.NoSuchField__c')], false),
      ],
    });
    expect(r.compositeResponse.map((s) => s.httpStatusCode)).toEqual([200, 200, 200]);
    expect(codes(r.compositeResponse[2]!)).toEqual(['OK', 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST']);
    expect(await rows(conn, ps)).toEqual({ objects: 2, fields: 1 });
  });

  test('at most 5 sObject Collections subrequests per composite', async () => {
    const { conn } = await newOrg(emu);
    const ps = await permissionSet(conn);
    const objects = ['Account', 'Contact', 'Opportunity', 'Lead', 'Case', 'Campaign'];
    const e = await failure(
      composite(conn, {
        allOrNone: true,
        compositeRequest: objects.map((o, i) => insert(`r${i}`, [objectRow(ps, o)])),
      }),
    );
    expect(e.errorCode).toBe('LIMIT_EXCEEDED');
    expect(await rows(conn, ps)).toEqual({ objects: 0, fields: 0 });
  });

  test('a fault on rest.composite matched by a record type fails the whole call; nothing is written', async () => {
    const { org, conn } = await newOrg(emu);
    const ps = await permissionSet(conn);
    await emu.control.addFault({
      org: org.key,
      match: { operation: 'rest.composite', object: 'FieldPermissions' },
      action: { kind: 'error', errorCode: 'SERVER_UNAVAILABLE' },
    });
    const e = await failure(
      composite(conn, {
        allOrNone: true,
        compositeRequest: [
          insert('objects', [objectRow(ps, 'Account')]),
          insert('fields', [fieldRow(ps, 'Account.Industry')]),
        ],
      }),
    );
    expect(e.errorCode).toBe('SERVER_UNAVAILABLE');
    expect(await rows(conn, ps)).toEqual({ objects: 0, fields: 0 });
  });

  test('an error fault naming the collections operation fails that subrequest inside the composite', async () => {
    const { org, conn } = await newOrg(emu);
    const ps = await permissionSet(conn);
    await emu.control.resetCounters(org.key);
    await emu.control.addFault({
      org: org.key,
      match: { operation: 'rest.collections.create', object: 'FieldPermissions' },
      action: { kind: 'error', errorCode: 'UNABLE_TO_LOCK_ROW' },
    });
    const body = {
      allOrNone: true,
      collateSubrequests: false,
      compositeRequest: [
        insert('objects', [objectRow(ps, 'Account')]),
        insert('fields', [fieldRow(ps, 'Account.Industry')]),
      ],
    };
    const r = await composite(conn, body);
    expect(r.compositeResponse.map((s) => [s.httpStatusCode, codes(s)])).toEqual([
      [400, ['PROCESSING_HALTED']],
      [400, ['UNABLE_TO_LOCK_ROW']],
    ]);
    expect(await rows(conn, ps)).toEqual({ objects: 0, fields: 0 });
    expect((await emu.control.counters(org.key)).byOperation).toEqual({ 'rest.composite': 1, 'rest.query': 2 });
    // The fault fired once (times defaults to 1): the same request now goes through.
    const again = await composite(conn, body);
    expect(again.compositeResponse.map((s) => s.httpStatusCode)).toEqual([200, 200]);
    expect(await rows(conn, ps)).toEqual({ objects: 1, fields: 1 });
  });

  test('subrequest faults also apply to composite/batch subrequests; other fault kinds do not', async () => {
    const { org, conn } = await newOrg(emu);
    await emu.control.addFault({
      org: org.key,
      match: { operation: 'rest.describe', object: 'Contact' },
      action: { kind: 'error', errorCode: 'SERVER_UNAVAILABLE' },
    });
    await emu.control.addFault({
      org: org.key,
      match: { operation: 'rest.describe' },
      action: { kind: 'dropBeforeCommit' },
    });
    const r = await conn.requestPost<{ hasErrors: boolean; results: { statusCode: number; result: unknown }[] }>(
      '/composite/batch',
      {
        batchRequests: [
          { method: 'GET', url: 'v66.0/sobjects/Account/describe' },
          { method: 'GET', url: 'v66.0/sobjects/Contact/describe' },
        ],
      },
    );
    expect(r.results.map((x) => x.statusCode)).toEqual([200, 503]);
    expect((r.results[1]!.result as { errorCode: string }[])[0]!.errorCode).toBe('SERVER_UNAVAILABLE');
    const left = (await emu.control.listFaults()) as { org?: string; action: { kind: string } }[];
    expect(left.filter((f) => f.org === org.key).map((f) => f.action.kind)).toEqual(['dropBeforeCommit']);
    await emu.control.clearFaults();
  });
});

interface RestError {
  errorCode: string;
  message: string;
  fields: string[];
}

describe('Composite with single-record sObject create subrequests', () => {
  /** 10 grantable objects (3 standard, 7 custom) of 100 custom text fields each. */
  const OBJECTS = ['Account', 'Contact', 'Opportunity', ...Array.from({ length: 7 }, (_, i) => `Grant_${i + 1}__c`)];
  const FIELDS = Array.from({ length: 100 }, (_, i) => ({ name: `F_${i}__c`, type: 'string' }));
  const bigOrg = () =>
    newOrg(emu, {
      customFields: Object.fromEntries(OBJECTS.slice(0, 3).map((o) => [o, FIELDS])),
      customObjects: OBJECTS.slice(3).map((name) => ({ name, fields: FIELDS })),
    });

  test('10 creates and 5 collections of 200 in one call: 201 with id and Location, one rest.composite', async () => {
    const { org, conn } = await bigOrg();
    const ps = await permissionSet(conn);
    const fieldRows = OBJECTS.flatMap((o) => FIELDS.map((f) => fieldRow(ps, `${o}.${f.name}`)));
    await emu.control.resetCounters(org.key);
    const r = await composite(conn, {
      allOrNone: true,
      collateSubrequests: false,
      compositeRequest: [
        ...OBJECTS.map((o, i) => objectCreate(`ObjectPermissions_${i}`, ps, o)),
        ...[0, 1, 2, 3, 4].map((c) => insert(`FieldPermissions_${c}`, fieldRows.slice(c * 200, c * 200 + 200))),
      ],
    });
    expect(r.compositeResponse).toHaveLength(15);
    const creates = r.compositeResponse.slice(0, 10) as (Subresponse & { httpHeaders: Record<string, string> })[];
    expect(creates.map((s) => [s.referenceId, s.httpStatusCode])).toEqual(
      OBJECTS.map((_, i) => [`ObjectPermissions_${i}`, 201]),
    );
    for (const s of creates) {
      const body = s.body as { id: string; success: boolean; errors: unknown[] };
      expect(body).toEqual({ id: expect.stringMatching(/^110[A-Za-z0-9]{15}$/), success: true, errors: [] });
      expect(s.httpHeaders.Location).toBe(`${SOBJECTS}/ObjectPermissions/${body.id}`);
    }
    for (const s of r.compositeResponse.slice(10)) {
      expect(s.httpStatusCode).toBe(200);
      expect((s.body as SaveResult[]).every((x) => x.success && x.id)).toBe(true);
    }
    // Counted before the checks below query the org: the whole request is one call.
    const counters = await emu.control.counters(org.key);
    expect(counters.byOperation).toEqual({ 'rest.composite': 1 });
    expect(counters.byOperationAndObject['rest.composite']).toEqual({ ObjectPermissions: 1, FieldPermissions: 1 });
    expect(await rows(conn, ps)).toEqual({ objects: 10, fields: 1000 });
    // The ids answered are the rows written.
    const ids = creates.map((s) => (s.body as { id: string }).id).sort();
    const written = await conn.query<{ Id: string }>(`SELECT Id FROM ObjectPermissions WHERE ParentId = '${ps}'`);
    expect(written.records.map((x) => x.Id).sort()).toEqual(ids);
  });

  test('single-record creates do not count toward the 5 collections, but toward the 25 subrequests', async () => {
    const fields = Array.from({ length: 26 }, (_, i) => ({ name: `F_${i}__c`, type: 'string' }));
    const { conn } = await newOrg(emu, { customFields: { Account: fields } });
    const ps = await permissionSet(conn);
    const fieldCreate = (i: number) => {
      const { attributes: _type, ...record } = fieldRow(ps, `Account.${fields[i]!.name}`);
      return create(`field${i}`, 'FieldPermissions', record);
    };
    const collections = ['Industry', 'Phone', 'Website', 'Type', 'AnnualRevenue'].map((f, i) =>
      insert(`collection${i}`, [fieldRow(ps, `Account.${f}`)]),
    );
    // 20 creates + 5 collections = 25 subrequests: accepted.
    const ok = await composite(conn, {
      allOrNone: true,
      collateSubrequests: false,
      compositeRequest: [...Array.from({ length: 20 }, (_, i) => fieldCreate(i)), ...collections],
    });
    expect(ok.compositeResponse.map((s) => s.httpStatusCode)).toEqual([...Array(20).fill(201), ...Array(5).fill(200)]);
    expect(await rows(conn, ps)).toEqual({ objects: 0, fields: 25 });
    // 21 creates + 5 collections = 26 subrequests: the whole request is refused, nothing runs.
    const e = await failure(
      composite(conn, {
        allOrNone: true,
        compositeRequest: [
          ...Array.from({ length: 21 }, (_, i) => fieldCreate(i + 5)),
          ...collections.map((c) => ({ ...c, referenceId: `again_${c.referenceId}` })),
        ],
      }),
    );
    expect(e.errorCode).toBe('LIMIT_EXCEEDED');
    expect(await rows(conn, ps)).toEqual({ objects: 0, fields: 25 });
  });

  test('allOrNone: a failed create answers its error array; all rolled back, the others PROCESSING_HALTED', async () => {
    const { org, conn } = await newOrg(emu);
    const ps = await permissionSet(conn);
    await emu.control.resetCounters(org.key);
    const r = await composite(conn, {
      allOrNone: true,
      collateSubrequests: false,
      compositeRequest: [
        objectCreate('obj0', ps, 'Account'),
        objectCreate('obj1', ps, 'No_Such_Object__c'),
        objectCreate('obj2', ps, 'Contact'),
        insert('fields', [fieldRow(ps, 'Account.Industry')]),
      ],
    });
    expect(r.compositeResponse.map((s) => [s.referenceId, s.httpStatusCode])).toEqual([
      ['obj0', 400],
      ['obj1', 400],
      ['obj2', 400],
      ['fields', 400],
    ]);
    const [obj0, obj1, obj2, fields] = r.compositeResponse.map((s) => s.body as RestError[]);
    // The create that succeeded before the failure is reported halted (and rolled back), as are those after it.
    for (const body of [obj0, obj2, fields]) {
      expect(body).toEqual([
        {
          errorCode: 'PROCESSING_HALTED',
          message: 'The transaction was rolled back since another operation in the same transaction failed.',
        },
      ]);
    }
    // The failed create answers Salesforce's error array: errorCode, message, fields.
    expect(obj1).toEqual([
      {
        errorCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
        message: expect.stringContaining('No_Such_Object__c'),
        fields: ['SobjectType'],
      },
    ]);
    expect(await rows(conn, ps)).toEqual({ objects: 0, fields: 0 });
    expect((await emu.control.counters(org.key)).byOperation).toEqual({ 'rest.composite': 1, 'rest.query': 2 });
  });

  test('a duplicate object permission fails its create (DUPLICATE_VALUE); the collection before is undone', async () => {
    const { conn } = await newOrg(emu);
    const ps = await permissionSet(conn);
    await conn.sobject('ObjectPermissions').create({ ParentId: ps, SobjectType: 'Account', PermissionsRead: true });
    const r = await composite(conn, {
      allOrNone: true,
      collateSubrequests: false,
      compositeRequest: [insert('fields', [fieldRow(ps, 'Contact.Title')]), objectCreate('obj', ps, 'Account')],
    });
    expect(r.compositeResponse.map((s) => [s.httpStatusCode, codes(s)])).toEqual([
      [400, ['PROCESSING_HALTED']],
      [400, ['DUPLICATE_VALUE']],
    ]);
    expect(await rows(conn, ps)).toEqual({ objects: 1, fields: 0 });
  });

  test("a later subrequest can use a create's id through its referenceId", async () => {
    const { conn } = await newOrg(emu);
    const ps = await permissionSet(conn);
    const r = await composite(conn, {
      allOrNone: true,
      collateSubrequests: false,
      compositeRequest: [
        objectCreate('newObject', ps, 'Account'),
        { method: 'GET', url: `${SOBJECTS}/ObjectPermissions/@{newObject.id}`, referenceId: 'readBack' },
      ],
    });
    const [created, readBack] = r.compositeResponse;
    expect([created!.httpStatusCode, readBack!.httpStatusCode]).toEqual([201, 200]);
    expect(readBack!.body).toMatchObject({
      Id: (created!.body as { id: string }).id,
      ParentId: ps,
      SobjectType: 'Account',
      PermissionsRead: true,
    });
  });

  test('without allOrNone, a failed create does not undo the independent ones', async () => {
    const { conn } = await newOrg(emu);
    const ps = await permissionSet(conn);
    const r = await composite(conn, {
      allOrNone: false,
      collateSubrequests: false,
      compositeRequest: [
        objectCreate('obj0', ps, 'Account'),
        objectCreate('obj1', ps, 'No_Such_Object__c'),
        objectCreate('obj2', ps, 'Contact'),
      ],
    });
    expect(r.compositeResponse.map((s) => s.httpStatusCode)).toEqual([201, 400, 201]);
    expect(await rows(conn, ps)).toEqual({ objects: 2, fields: 0 });
  });

  test('an error fault naming rest.create fails that create in the composite; one call, nothing written', async () => {
    const { org, conn } = await newOrg(emu);
    const ps = await permissionSet(conn);
    await emu.control.resetCounters(org.key);
    await emu.control.addFault({
      org: org.key,
      match: { operation: 'rest.create', object: 'ObjectPermissions' },
      action: { kind: 'error', errorCode: 'UNABLE_TO_LOCK_ROW' },
    });
    const body = {
      allOrNone: true,
      collateSubrequests: false,
      compositeRequest: [objectCreate('obj', ps, 'Account'), insert('fields', [fieldRow(ps, 'Account.Industry')])],
    };
    const r = await composite(conn, body);
    expect(r.compositeResponse.map((s) => [s.httpStatusCode, codes(s)])).toEqual([
      [400, ['UNABLE_TO_LOCK_ROW']],
      [400, ['PROCESSING_HALTED']],
    ]);
    expect(await rows(conn, ps)).toEqual({ objects: 0, fields: 0 });
    expect((await emu.control.counters(org.key)).byOperation).toEqual({ 'rest.composite': 1, 'rest.query': 2 });
    const again = await composite(conn, body);
    expect(again.compositeResponse.map((s) => s.httpStatusCode)).toEqual([201, 200]);
    expect(await rows(conn, ps)).toEqual({ objects: 1, fields: 1 });
  });
});
