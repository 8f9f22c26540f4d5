import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { RunningEmulator } from '@agent-connections/salesforce-emulator';
import type { EncryptedFileSecretStore } from '../../secrets/secret-store';
import { createServiceWorker } from '../../workers/service-worker';
import { enableConnection } from '../../workflows';
import { ErrorType } from '../../workflows/definitions';
import type { SagaFailureDetails } from '../../workflows/definitions';
import { temporarySecretStore, testDataConverter, testDependencies, workflowBundle } from '../support/harness';
import {
  DEFAULT_AGENT_CONFIGURATION,
  SERVICE_OAUTH_CLIENT,
  createTestOrg,
  leftovers,
  startTestEmulator,
} from '../support/salesforce';

/**
 * The readiness wait is 15 minutes of attempts: on the time-skipping test server those minutes pass in a moment, while
 * every attempt is still a real JWT request to the emulator.
 */
describe('readiness timeout (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  let emulator: RunningEmulator;
  let secrets: EncryptedFileSecretStore;

  beforeAll(async () => {
    const path = process.env.TEMPORAL_TEST_SERVER_PATH;
    if (!path) throw new Error('TEMPORAL_TEST_SERVER_PATH is not set: run the tests through `npm test`');
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path } },
      client: { dataConverter: testDataConverter },
    });
    emulator = await startTestEmulator();
    secrets = (await temporarySecretStore()).store;
  });

  afterAll(async () => {
    await emulator?.close();
    await env?.teardown();
  });

  it('an app Salesforce never makes usable fails after the readiness timeout and is rolled back completely', async () => {
    // Salesforce says 2-10 minutes; this org would take an hour, longer than the 15-minute readiness timeout.
    const { org, target } = await createTestOrg(emulator, secrets, { propagationDelayMs: 3_600_000 });
    const taskQueue = `ts-${randomUUID()}`;
    const worker = await createServiceWorker({
      connection: env.nativeConnection,
      dataConverter: testDataConverter,
      namespace: 'default',
      taskQueue,
      dependencies: {
        ...testDependencies({ secrets, oauthClient: SERVICE_OAUTH_CLIENT }),
        // One probe per attempt, a minute apart: the time-skipping server skips the minutes between attempts, not a
        // wait inside one.
        readinessPolling: { intervalMs: 60_000, windowMs: 0 },
        temporal: { client: env.client, taskQueue, healthCheckInterval: '1 hour', rotateBeforeDays: 30 },
      },
      workflowBundle: await workflowBundle(),
    });
    const operationId = randomUUID();
    const failure = await worker.runUntil(
      env.client.workflow
        .execute(enableConnection, {
          taskQueue,
          workflowId: `enable:ts:${operationId}`,
          args: [
            {
              tenantId: 'timeskipping',
              operationId,
              parentWorkflowId: '',
              target,
              appKind: 'external_client_app',
              agentName: 'Copilot for Sales',
              agentConfiguration: DEFAULT_AGENT_CONFIGURATION,
            },
          ],
        })
        .then(
          () => undefined,
          (err: unknown) => err,
        ),
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause as { type?: string; details?: unknown[] };
    const details = cause.details?.[0] as SagaFailureDetails;
    expect(details.error.type).toBe(ErrorType.readinessTimeout);
    expect(details.error.step).toBe('readiness');
    // With no readiness timeout in the request, the default 15 minutes (Temporal gives up once the next retry would
    // start past it).
    const { startTime } = await env.client.workflow.getHandle(`enable:ts:${operationId}`).describe();
    expect((Date.parse(details.error.at) - startTime.getTime()) / 60_000).toBeGreaterThan(12);
    expect(details.stepsCompensated).toEqual([
      'client_app',
      'user_access',
      'integration_user',
      'permission_set',
      'signing_key',
    ]);
    expect(details.remaining).toEqual([]);
    expect(await leftovers(emulator, org.key)).toEqual([]);
    // Many real token requests were made, spread over the skipped 15 minutes.
    const counters = await emulator.control.counters();
    expect(counters.byOperation['oauth.token']).toBeGreaterThan(10);
  });
});
