import type { RunningEmulator } from '../src';
import { failure, newOrg, start } from './helpers';

let emu: RunningEmulator;
beforeAll(async () => {
  emu = await start();
});
afterAll(async () => {
  await emu.close();
});

type CompositeResponse = { compositeResponse: { body: unknown; httpStatusCode: number; referenceId: string }[] };

describe('Composite', () => {
  test('subrequests can reference earlier results with @{ref.id} and @{ref.records[0].Id}', async () => {
    const { conn } = await newOrg(emu);
    const r = await conn.requestPost<CompositeResponse>('/composite', {
      allOrNone: true,
      compositeRequest: [
        {
          method: 'GET',
          url: "/services/data/v66.0/query?q=SELECT+Id+FROM+Account+WHERE+Name+=+'Acme+Corporation'",
          referenceId: 'acct',
        },
        {
          method: 'POST',
          url: '/services/data/v66.0/sobjects/Contact',
          referenceId: 'c1',
          body: { LastName: 'Ref', AccountId: '@{acct.records[0].Id}' },
        },
        { method: 'GET', url: '/services/data/v66.0/sobjects/Contact/@{c1.id}', referenceId: 'read' },
      ],
    });
    expect(r.compositeResponse.map((x) => x.httpStatusCode)).toEqual([200, 201, 200]);
    expect((r.compositeResponse[2]!.body as { LastName: string }).LastName).toBe('Ref');
  });

  test('allOrNone=true: a failure rolls everything back and the others get PROCESSING_HALTED', async () => {
    const { conn } = await newOrg(emu);
    const r = await conn.requestPost<CompositeResponse>('/composite', {
      allOrNone: true,
      compositeRequest: [
        {
          method: 'POST',
          url: '/services/data/v66.0/sobjects/Account',
          referenceId: 'ok',
          body: { Name: 'Rolled Back Co' },
        },
        { method: 'POST', url: '/services/data/v66.0/sobjects/Account', referenceId: 'bad', body: { Bogus: 1 } },
        { method: 'POST', url: '/services/data/v66.0/sobjects/Account', referenceId: 'after', body: { Name: 'Never' } },
      ],
    });
    expect(r.compositeResponse[0]!.httpStatusCode).toBe(400);
    expect((r.compositeResponse[0]!.body as { errorCode: string }[])[0]!.errorCode).toBe('PROCESSING_HALTED');
    expect((r.compositeResponse[1]!.body as { errorCode: string }[])[0]!.errorCode).toBe('INVALID_FIELD');
    expect((r.compositeResponse[2]!.body as { errorCode: string }[])[0]!.errorCode).toBe('PROCESSING_HALTED');
    const q = await conn.query("SELECT Id FROM Account WHERE Name = 'Rolled Back Co'");
    expect(q.totalSize).toBe(0);
  });

  test('allOrNone=false: independent subrequests still commit; a reference to a failed one is halted', async () => {
    const { conn } = await newOrg(emu);
    const r = await conn.requestPost<CompositeResponse>('/composite', {
      compositeRequest: [
        { method: 'POST', url: '/services/data/v66.0/sobjects/Account', referenceId: 'bad', body: { Bogus: 1 } },
        { method: 'POST', url: '/services/data/v66.0/sobjects/Account', referenceId: 'ok', body: { Name: 'Kept Co' } },
        { method: 'GET', url: '/services/data/v66.0/sobjects/Account/@{bad.id}', referenceId: 'dep' },
      ],
    });
    expect(r.compositeResponse.map((x) => x.httpStatusCode)).toEqual([400, 201, 400]);
    expect((r.compositeResponse[2]!.body as { errorCode: string }[])[0]!.errorCode).toBe('PROCESSING_HALTED');
    expect((await conn.query("SELECT Id FROM Account WHERE Name = 'Kept Co'")).totalSize).toBe(1);
  });

  test('more than 25 subrequests are refused', async () => {
    const { conn } = await newOrg(emu);
    const reqs = Array.from({ length: 26 }, (_, i) => ({
      method: 'GET',
      url: '/services/data/v66.0/limits',
      referenceId: `r${i}`,
    }));
    expect((await failure(conn.requestPost('/composite', { compositeRequest: reqs }))).errorCode).toBe(
      'LIMIT_EXCEEDED',
    );
  });

  test('composite/batch runs independent subrequests including describe and query', async () => {
    const { conn } = await newOrg(emu);
    const r = await conn.requestPost<{ hasErrors: boolean; results: { statusCode: number; result: unknown }[] }>(
      '/composite/batch',
      {
        batchRequests: [
          { method: 'GET', url: 'v66.0/sobjects/Account/describe' },
          { method: 'GET', url: 'v66.0/query?q=SELECT+Id+FROM+Account' },
          { method: 'GET', url: 'v66.0/sobjects/Nope__c/describe' },
        ],
      },
    );
    expect(r.hasErrors).toBe(true);
    expect(r.results.map((x) => x.statusCode)).toEqual([200, 200, 404]);
    expect((r.results[0]!.result as { name: string }).name).toBe('Account');
  });
});

describe('sObject Collections', () => {
  test('create/update/delete up to 200 records; results use statusCode', async () => {
    const { conn } = await newOrg(emu);
    const created = await conn.sobject('Account').create([{ Name: 'C1' }, { Name: 'C2' }, { Bogus: 1 }]);
    expect(created.map((r) => r.success)).toEqual([true, true, false]);
    const err = (created[2] as unknown as { errors: { statusCode: string }[] }).errors[0]!;
    expect(err.statusCode).toBe('INVALID_FIELD');
    const ids = created.filter((r) => r.success).map((r) => r.id);
    const upd = await conn.sobject('Account').update(ids.map((Id) => ({ Id, Industry: 'Energy' })));
    expect(upd.every((r) => r.success)).toBe(true);
    const del = await conn.sobject('Account').destroy(ids);
    expect(del.every((r) => r.success)).toBe(true);
  });

  test('allOrNone: one bad record rolls back all with ALL_OR_NONE_OPERATION_ROLLED_BACK', async () => {
    const { conn } = await newOrg(emu);
    const res = await conn
      .sobject('Account')
      .create([{ Name: 'AON 1' }, { Name: 'x'.repeat(300) }], { allOrNone: true });
    expect(res[0]!.success).toBe(false);
    expect((res[0] as unknown as { errors: { statusCode: string }[] }).errors[0]!.statusCode).toBe(
      'ALL_OR_NONE_OPERATION_ROLLED_BACK',
    );
    expect((res[1] as unknown as { errors: { statusCode: string }[] }).errors[0]!.statusCode).toBe('STRING_TOO_LONG');
    expect((await conn.query("SELECT Id FROM Account WHERE Name = 'AON 1'")).totalSize).toBe(0);
  });

  test('mixing several object types with a setup object in one collections call is refused', async () => {
    const { conn } = await newOrg(emu);
    const res = await conn.requestPost<{ success: boolean; errors: { statusCode: string }[] }[]>(
      '/composite/sobjects',
      {
        records: [
          { attributes: { type: 'PermissionSet' }, Name: 'Mixed_PS', Label: 'Mixed' },
          { attributes: { type: 'Account' }, Name: 'Mixed Account' },
        ],
      },
    );
    expect(res.every((r) => !r.success && r.errors[0]!.statusCode === 'MIXED_DML_OPERATION')).toBe(true);
    expect((await conn.query("SELECT Id FROM PermissionSet WHERE Name = 'Mixed_PS'")).totalSize).toBe(0);
  });

  test('more than 200 records are refused', async () => {
    const { conn } = await newOrg(emu);
    const records = Array.from({ length: 201 }, (_, i) => ({ attributes: { type: 'Account' }, Name: `N${i}` }));
    expect((await failure(conn.requestPost('/composite/sobjects', { records }))).errorCode).toBe('EXCEEDED_ID_LIMIT');
  });

  test('retrieve many records by ids', async () => {
    const { conn } = await newOrg(emu);
    const [a] = await conn.sobject('Account').create([{ Name: 'R1' }]);
    const recs = (await conn.sobject('Account').retrieve([a!.id!], { fields: ['Name'] })) as { Name: string }[];
    expect(recs[0]!.Name).toBe('R1');
  });
});
