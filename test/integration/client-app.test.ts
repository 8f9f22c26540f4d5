/**
 * The client app's Metadata API calls against the emulator with real jsforce: every one is a SOAP POST, which jsforce
 * never repeats, so a call that gets no answer (a lost response, a 503) is repeated in place by the activity, and
 * one attempt gets through; an answer, even a refusal, is never repeated.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { createClientAppActivities } from '../../activities/client-app';
import type { CreateClientAppInput } from '../../activities/client-app';
import { createSigningKeyActivities } from '../../activities/signing-key';
import { runAttempt, testComponentNames, useActivitySuite } from '../support/activity-suite';
import { createTestOrg } from '../support/salesforce';
import type { TestOrg } from '../support/salesforce';

const suite = useActivitySuite();
let activities: ReturnType<typeof createClientAppActivities>;
let certificatePem: string;

beforeAll(async () => {
  const { clients, secrets } = suite();
  activities = createClientAppActivities({ clients, contactEmail: 'admin@example.com' });
  const signing = createSigningKeyActivities({ secrets, validityDays: 30 });
  ({ certificatePem } = await runAttempt(1, signing.prepareSigningKey, {
    tenantId: 't-client-app',
    operationId: randomUUID(),
    commonName: 'client-app test',
  }));
});

function inputFor({ target }: TestOrg): CreateClientAppInput {
  return {
    target,
    appKind: 'external_client_app',
    names: testComponentNames(),
    certificatePem,
    consumerKey: 'unused-for-an-external-client-app',
    description: 'test',
  };
}

const APP_KINDS = new Set([
  'ExternalClientApplication',
  'ExtlClntAppConfigurablePolicies',
  'ExtlClntAppOauthSettings',
  'ExtlClntAppGlobalOauthSettings',
  'ExtlClntAppOauthConfigurablePolicies',
]);

async function appParts(orgKey: string): Promise<string[]> {
  return (await suite().emulator.control.components(orgKey)).filter((c) => APP_KINDS.has(c.kind)).map((c) => c.kind);
}

describe('client app Metadata calls under lost answers (emulator, real jsforce)', () => {
  it('a deploy whose status checks get no answer is asked about again, not deployed again', async () => {
    const { emulator, secrets } = suite();
    const org = await createTestOrg(emulator, secrets);
    const match = { operation: 'metadata.checkDeployStatus' };
    await emulator.control.addFault({ org: org.org.key, match, action: { kind: 'commitThenDrop' } });
    await emulator.control.addFault({
      org: org.org.key,
      match,
      action: { kind: 'error', status: 503, errorCode: 'SERVER_UNAVAILABLE' },
    });
    const app = await runAttempt(1, activities.createClientApp, inputFor(org));
    expect(app.consumerKey).toBeTruthy();
    expect((await emulator.control.counters(org.org.key)).byOperation['metadata.deploy']).toBe(1);
    expect(await appParts(org.org.key)).toHaveLength(5);
    expect(await emulator.control.listFaults()).toEqual([]);
  });

  it('the one deploy switches the app and its OAuth plugin on explicitly; a second deploy converges on the same parts', async () => {
    const { emulator, secrets } = suite();
    const org = await createTestOrg(emulator, secrets);
    const input = inputFor(org);
    const first = await runAttempt(1, activities.createClientApp, input);
    const again = await runAttempt(1, activities.createClientApp, input);
    expect(again.consumerKey).toBe(first.consumerKey);
    const counters = await emulator.control.counters(org.org.key);
    expect(counters.byOperation['metadata.deploy']).toBe(2);
    const components = await emulator.control.components(org.org.key);
    const switches = components.filter((c) => c.kind === 'ExtlClntAppConfigurablePolicies');
    expect(switches).toHaveLength(1);
    expect(switches[0]).toMatchObject({
      name: `${input.names.appApiName}_plcy`,
      details: { externalClientApplication: input.names.appApiName, isEnabled: true, isOauthPluginEnabled: true },
    });
    expect(await appParts(org.org.key)).toHaveLength(5);
  });

  it('removing the app repeats the reads and deletes that got no answer: one attempt removes every part', async () => {
    const { emulator, secrets } = suite();
    const org = await createTestOrg(emulator, secrets);
    const input = inputFor(org);
    await runAttempt(1, activities.createClientApp, input);
    const key = org.org.key;
    await emulator.control.addFault({
      org: key,
      match: { operation: 'metadata.read' },
      action: { kind: 'error', status: 503, errorCode: 'SERVER_UNAVAILABLE' },
    });
    await emulator.control.addFault({
      org: key,
      match: { operation: 'metadata.delete' },
      action: { kind: 'commitThenDrop' },
    });
    await emulator.control.addFault({
      org: key,
      match: { operation: 'metadata.delete' },
      action: { kind: 'error', status: 503, errorCode: 'SERVER_UNAVAILABLE' },
    });
    const removed = await runAttempt(1, activities.deleteClientApp, {
      target: input.target,
      appKind: 'external_client_app',
      apiName: input.names.appApiName,
    });
    expect(removed).toBe(true);
    expect(await appParts(key)).toEqual([]);
    expect(await emulator.control.listFaults()).toEqual([]);
  });

  it('an answer is not repeated: a refused read fails the attempt at once, typed permanent', async () => {
    const { emulator, secrets } = suite();
    const org = await createTestOrg(emulator, secrets);
    await emulator.control.addFault({
      org: org.org.key,
      match: { operation: 'metadata.read' },
      action: { kind: 'error', status: 500, errorCode: 'INSUFFICIENT_ACCESS' },
    });
    const error = await runAttempt(1, activities.deleteClientApp, {
      target: org.target,
      appKind: 'external_client_app',
      apiName: 'Nothing_here',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((await emulator.control.counters(org.org.key)).byOperation['metadata.read']).toBe(1);
  });
});
