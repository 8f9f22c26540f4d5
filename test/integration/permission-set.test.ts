/**
 * The permission set step against the emulator with real jsforce, its attempt number set as Temporal would: every
 * grant row in one Composite call (object permissions as single-record creates, field permissions in collections of
 * 200, at most 5 per call), retries that create only what is missing, and failures inside the composite typed by
 * their real cause.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { CreateOrgInput } from '@agent-connections/salesforce-emulator';
import { createPermissionSetActivities } from '../../activities/permission-set';
import type { CreatePermissionSetInput } from '../../activities/permission-set';
import type { FieldGrant, PermissionSetRef } from '../../salesforce/components';
import { ErrorType } from '../../workflows/definitions';
import { runAttempt, testComponentNames, useActivitySuite } from '../support/activity-suite';
import { createTestOrg } from '../support/salesforce';
import type { TestOrg } from '../support/salesforce';

const suite = useActivitySuite();
let activities: ReturnType<typeof createPermissionSetActivities>;

beforeAll(() => {
  activities = createPermissionSetActivities({ clients: suite().clients });
});

const STANDARD = ['Account', 'Contact', 'Opportunity'];
const objectNames = (n: number) => Array.from({ length: n }, (_, i) => STANDARD[i] ?? `Grant_Object_${i + 1}__c`);
const fieldNames = (n: number) => Array.from({ length: n }, (_, i) => `Grant_${i + 1}__c`);

/** An org whose `objects` objects each have `fields` custom text fields. */
function orgInput(objects: number, fields: number): CreateOrgInput {
  const defs = fieldNames(fields).map((name) => ({ name, type: 'string' }));
  const names = objectNames(objects);
  return {
    customFields: Object.fromEntries(names.filter((n) => STANDARD.includes(n)).map((n) => [n, defs])),
    customObjects: names.filter((n) => !STANDARD.includes(n)).map((name) => ({ name, fields: defs })),
  };
}

function grantsFor(objects: number, fields: number): FieldGrant[] {
  return objectNames(objects).map((object) => {
    const names = fieldNames(fields);
    return { object, fields: names, fieldPermissions: names.map((f) => `${object}.${f}`) };
  });
}

function inputFor({ target }: TestOrg, grants: FieldGrant[]): CreatePermissionSetInput {
  return { target, names: testComponentNames(), grants, description: 'test' };
}

function attempt(n: number, input: CreatePermissionSetInput): Promise<PermissionSetRef> {
  return runAttempt(n, activities.createPermissionSet, input);
}

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

const detailsOf = (f: ApplicationFailure) => f.details?.[0] as { salesforceCode: string; step: string };

/** The grant rows of a permission set, as `Object` and `Object.Field` names. */
async function rowsOf(orgKey: string, parentId: string): Promise<{ objects: string[]; fields: string[] }> {
  const objects = (await suite().emulator.control.records(orgKey, 'ObjectPermissions'))
    .filter((r) => r.ParentId === parentId)
    .map((r) => String(r.SobjectType));
  const fields = (await suite().emulator.control.records(orgKey, 'FieldPermissions'))
    .filter((r) => r.ParentId === parentId)
    .map((r) => String(r.Field));
  return { objects: objects.sort(), fields: fields.sort() };
}

const expected = (grants: FieldGrant[]) => ({
  objects: grants.map((g) => g.object).sort(),
  fields: grants.flatMap((g) => g.fieldPermissions).sort(),
});

async function permissionSetsNamed(orgKey: string, name: string) {
  return (await suite().emulator.control.records(orgKey, 'PermissionSet')).filter((p) => p.Name === name);
}

/** The permission set the input names, and its grant rows. */
async function grantRowsOf(org: TestOrg, input: CreatePermissionSetInput) {
  const [ps] = await permissionSetsNamed(org.org.key, input.names.permissionSetName);
  const permissionSetId = String(ps!.Id);
  return { permissionSetId, rows: await rowsOf(org.org.key, permissionSetId) };
}

describe('createPermissionSet (emulator, real jsforce)', () => {
  it('a first attempt writes every grant row in one Composite call', async () => {
    const org = await createTestOrg(suite().emulator, suite().secrets, orgInput(3, 20));
    const grants = grantsFor(3, 20);
    await suite().emulator.control.resetCounters(org.org.key);
    const ps = await attempt(1, inputFor(org, grants));
    expect(await rowsOf(org.org.key, ps.id)).toEqual(expected(grants));
    const counters = await suite().emulator.control.counters(org.org.key);
    expect(counters.byOperation).toEqual({ 'rest.create': 1, 'rest.composite': 1 });
  });

  it('10 objects × 100 fields (1,010 rows): one Composite call, 10 creates and 5 collections of 200', async () => {
    const org = await createTestOrg(suite().emulator, suite().secrets, orgInput(10, 100));
    const grants = grantsFor(10, 100);
    await suite().emulator.control.resetCounters(org.org.key);
    const ps = await attempt(1, inputFor(org, grants));
    expect(await rowsOf(org.org.key, ps.id)).toEqual(expected(grants));
    const counters = await suite().emulator.control.counters(org.org.key);
    expect(counters.byOperation).toEqual({ 'rest.create': 1, 'rest.composite': 1 });
  });

  it('calls per attempt do not grow with the fields: 3 × 10, 3 × 60 and 10 × 100 take the same', async () => {
    const calls: Record<string, number>[] = [];
    for (const [objects, fields] of [
      [3, 10],
      [3, 60],
      [10, 100],
    ] as const) {
      const org = await createTestOrg(suite().emulator, suite().secrets, orgInput(objects, fields));
      await suite().emulator.control.resetCounters(org.org.key);
      await attempt(1, inputFor(org, grantsFor(objects, fields)));
      calls.push((await suite().emulator.control.counters(org.org.key)).byOperation);
    }
    expect(calls).toEqual(Array(3).fill({ 'rest.create': 1, 'rest.composite': 1 }));
  });

  it('over 1,000 field rows (6 objects × 200 fields): a second Composite call, each row written once', async () => {
    const org = await createTestOrg(suite().emulator, suite().secrets, orgInput(6, 200));
    const grants = grantsFor(6, 200);
    await suite().emulator.control.resetCounters(org.org.key);
    const ps = await attempt(1, inputFor(org, grants));
    expect(await rowsOf(org.org.key, ps.id)).toEqual(expected(grants));
    expect((await suite().emulator.control.counters(org.org.key)).byOperation).toEqual({
      'rest.create': 1,
      'rest.composite': 2,
    });
  });

  it('a retry adopts the permission set and creates only the rows an earlier attempt did not', async () => {
    const org = await createTestOrg(suite().emulator, suite().secrets);
    const grants: FieldGrant[] = [
      { object: 'Account', fields: ['Industry', 'Phone'], fieldPermissions: ['Account.Industry', 'Account.Phone'] },
      { object: 'Contact', fields: ['Title'], fieldPermissions: ['Contact.Title'] },
    ];
    const input = inputFor(org, grants);
    // What a first attempt left when its response was lost: the set, one object and one field permission.
    const first = await attempt(1, { ...input, grants: [{ ...grants[0]!, fieldPermissions: ['Account.Industry'] }] });
    await suite().emulator.control.resetCounters(org.org.key);
    const retried = await attempt(2, input);
    expect(retried).toEqual(first);
    expect(await rowsOf(org.org.key, first.id)).toEqual(expected(grants));
    expect(await permissionSetsNamed(org.org.key, input.names.permissionSetName)).toHaveLength(1);
    expect((await suite().emulator.control.counters(org.org.key)).byOperation).toEqual({
      'rest.query': 3,
      'rest.composite': 1,
    });
    // A retry that finds every row makes no write at all.
    await suite().emulator.control.resetCounters(org.org.key);
    await attempt(3, input);
    expect((await suite().emulator.control.counters(org.org.key)).byOperation).toEqual({ 'rest.query': 3 });
    expect(await rowsOf(org.org.key, first.id)).toEqual(expected(grants));
  });

  it('a record failing in a later collection fails the step with its own code, and no row of the call stays', async () => {
    const org = await createTestOrg(suite().emulator, suite().secrets, orgInput(1, 250));
    const [grant] = grantsFor(1, 250);
    // The bad field is the 231st row: second collection, after 30 good rows (which Salesforce reports rolled back).
    grant!.fieldPermissions.splice(230, 0, 'Account.No_Such_Field__c');
    const input = inputFor(org, [grant!]);
    const failure = await failureOf(attempt(1, input));
    expect(failure.type).toBe(ErrorType.salesforcePermanent);
    expect(failure.nonRetryable).toBe(true);
    expect(detailsOf(failure)).toMatchObject({
      salesforceCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
      step: 'permission_set',
    });
    expect((await grantRowsOf(org, input)).rows).toEqual({ objects: [], fields: [] });
  });

  it('an object permission refused in its single-record create fails the step with its code; no row stays', async () => {
    const org = await createTestOrg(suite().emulator, suite().secrets);
    const grants: FieldGrant[] = [
      { object: 'Account', fields: ['Industry'], fieldPermissions: ['Account.Industry'] },
      // Not an object of this org (preflight would have refused it): the 2nd of the 3 creates fails.
      { object: 'No_Such_Object__c', fields: [], fieldPermissions: [] },
      { object: 'Contact', fields: ['Title'], fieldPermissions: ['Contact.Title'] },
    ];
    const input = inputFor(org, grants);
    const failure = await failureOf(attempt(1, input));
    expect(failure.type).toBe(ErrorType.salesforcePermanent);
    expect(failure.nonRetryable).toBe(true);
    expect(detailsOf(failure)).toMatchObject({
      salesforceCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
      salesforceMessage: expect.stringContaining('No_Such_Object__c'),
      step: 'permission_set',
    });
    expect((await grantRowsOf(org, input)).rows).toEqual({ objects: [], fields: [] });
  });

  it.each([
    ['a field permissions collection', 'rest.collections.create', 'FieldPermissions'],
    ['an object permission create', 'rest.create', 'ObjectPermissions'],
  ])(
    'a lock error on %s inside the Composite call is transient (not PROCESSING_HALTED); the retry adopts and completes',
    async (_what, operation, object) => {
      const org = await createTestOrg(suite().emulator, suite().secrets);
      const grants: FieldGrant[] = [
        { object: 'Account', fields: ['Industry'], fieldPermissions: ['Account.Industry'] },
        { object: 'Contact', fields: ['Title'], fieldPermissions: ['Contact.Title'] },
      ];
      const input = inputFor(org, grants);
      await suite().emulator.control.addFault({
        org: org.org.key,
        match: { operation, object },
        action: { kind: 'error', errorCode: 'UNABLE_TO_LOCK_ROW' },
      });
      await suite().emulator.control.resetCounters(org.org.key);
      const failure = await failureOf(attempt(1, input));
      expect(failure.type).toBe(ErrorType.salesforceTransient);
      expect(failure.nonRetryable).toBe(false);
      expect(detailsOf(failure).salesforceCode).toBe('UNABLE_TO_LOCK_ROW');
      // The permission set's own create, then one Composite call (the fault fired inside it).
      expect((await suite().emulator.control.counters(org.org.key)).byOperation).toEqual({
        'rest.create': 1,
        'rest.composite': 1,
      });
      // Every row written before the failed subrequest was rolled back with it.
      const { permissionSetId, rows } = await grantRowsOf(org, input);
      expect(rows).toEqual({ objects: [], fields: [] });
      const retried = await attempt(2, input);
      expect(retried.id).toBe(permissionSetId);
      expect(await rowsOf(org.org.key, retried.id)).toEqual(expected(grants));
    },
  );

  it('a failure of the whole Composite call keeps its code and type', async () => {
    const org = await createTestOrg(suite().emulator, suite().secrets);
    await suite().emulator.control.addFault({
      org: org.org.key,
      match: { operation: 'rest.composite', object: 'ObjectPermissions' },
      action: { kind: 'error', errorCode: 'INSUFFICIENT_ACCESS_OR_READONLY' },
    });
    const failure = await failureOf(
      attempt(1, inputFor(org, [{ object: 'Account', fields: ['Industry'], fieldPermissions: ['Account.Industry'] }])),
    );
    expect(failure.type).toBe(ErrorType.salesforcePermanent);
    expect(detailsOf(failure).salesforceCode).toBe('INSUFFICIENT_ACCESS_OR_READONLY');
  });
});
