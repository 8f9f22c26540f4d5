import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ErrorType } from '../../workflows/definitions';
import type { SagaFailureDetails } from '../../workflows/definitions';
import { enableConnection } from '../../workflows';
import {
  devServerEnvironment,
  recordHistory,
  startServiceWorker,
  temporarySecretStore,
  testDependencies,
} from '../support/harness';

describe('enable saga on the real dev server', () => {
  let env: TestWorkflowEnvironment;
  let stop: () => Promise<void>;
  let taskQueue: string;

  beforeAll(async () => {
    env = await devServerEnvironment();
    const { store } = await temporarySecretStore();
    const started = await startServiceWorker(env, testDependencies({ secrets: store }));
    taskQueue = started.taskQueue;
    stop = started.stop;
  });

  afterAll(async () => {
    await stop?.();
    await env?.teardown();
  });

  it('fails fast with a typed, admin-readable error when the admin credentials are not in the secret store, and undoes nothing it did not do', async () => {
    const operationId = randomUUID();
    const handle = await env.client.workflow.start(enableConnection, {
      taskQueue,
      workflowId: `enable:test:${operationId}`,
      args: [
        {
          tenantId: 'tenant-missing-creds',
          operationId,
          parentWorkflowId: '',
          target: {
            loginUrl: 'http://127.0.0.1:9',
            instanceUrl: 'http://127.0.0.1:9/orgs/none',
            adminCredentials: { secretRef: 'tenants/none/admin' },
          },
          appKind: 'external_client_app',
          agentName: 'Copilot for Sales',
          agentConfiguration: { objects: [{ object: 'Account', fields: ['Industry'] }] },
        },
      ],
    });
    const failure = await handle.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause as { type?: string; details?: unknown[] };
    expect(cause.type).toBe(ErrorType.salesforcePermanent);
    const details = cause.details?.[0] as SagaFailureDetails;
    expect(details.error.salesforceCode).toBe('ADMIN_CREDENTIALS_MISSING');
    expect(details.error.step).toBe('preflight');
    expect(details.stepsDone).toEqual([]);
    expect(details.stepsCompensated).toEqual([]);
    expect(details.remaining).toEqual([]);

    await recordHistory('enable-missing-credentials', handle);
    // The activity ran once: a permanent failure is not retried.
    const history = await handle.fetchHistory();
    const activityStarts = history.events?.filter((e) => e.activityTaskStartedEventAttributes) ?? [];
    expect(activityStarts).toHaveLength(1);
    expect(activityStarts[0]?.activityTaskStartedEventAttributes?.attempt).toBe(1);
  });
});
