/**
 * Composite requests whose subrequests are sObject Collections inserts, as the permission set step sends them:
 * one transaction with allOrNone, PROCESSING_HALTED for the other subrequests, one call in the counters, faults.
 */
import type { Connection } from 'jsforce';
import type { RunningEmulator } from '../../emulator';
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
