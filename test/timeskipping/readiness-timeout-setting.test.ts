import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Express } from 'express';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import type { RunningEmulator } from '@agent-connections/salesforce-emulator';
import type { EncryptedFileSecretStore } from '../../secrets/secret-store';
import { createApp } from '../../api/app';
import type { ConnectionView } from '../../api/schemas';
import { ErrorType, SEARCH_ATTRIBUTE_TYPES, StepId } from '../../workflows/definitions';
import type { SagaFailureDetails } from '../../workflows/definitions';
import { testKeys, waitForConnection } from '../api/api-stack';
import { startServiceWorker, temporarySecretStore, testDataConverter, testDependencies } from '../support/harness';
import { DEFAULT_AGENT_CONFIGURATION, SERVICE_OAUTH_CLIENT, startTestEmulator } from '../support/salesforce';

const MINUTE = 60_000;
const ONE_PROBE_A_MINUTE = { intervalMs: MINUTE, windowMs: 0 };

/**
 * READINESS_TIMEOUT, set on the API, bounds how long enable, reconnect and certificate rotation wait for Salesforce
 * to make an app (or a new certificate) usable. The emulator's orgs here would take an hour; the time-skipping
 * server lets the configured 3 minutes pass in a moment, every attempt still a real JWT request to the emulator.
 */
describe('READINESS_TIMEOUT (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  let emulator: RunningEmulator;
  let secrets: EncryptedFileSecretStore;
  let worker: Awaited<ReturnType<typeof startServiceWorker>>;
  let app: Express;
  let adminKey: string;

  beforeAll(async () => {
    const path = process.env.TEMPORAL_TEST_SERVER_PATH;
    if (!path) throw new Error('TEMPORAL_TEST_SERVER_PATH is not set: run the tests through `npm test`');
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path } },
      client: { dataConverter: testDataConverter },
    });
    // The connection workflow and its sagas carry search attributes; this server needs them declared first.
    await env.connection.operatorService.addSearchAttributes({
      namespace: 'default',
      searchAttributes: Object.fromEntries(
        Object.keys(SEARCH_ATTRIBUTE_TYPES).map((name) => [
          name,
          temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
        ]),
      ),
    });
    emulator = await startTestEmulator();
    secrets = (await temporarySecretStore()).store;
    worker = await startServiceWorker(env, {
      ...testDependencies({ secrets, oauthClient: SERVICE_OAUTH_CLIENT }),
      // One probe per attempt, a minute apart: the time-skipping server skips the minutes between attempts, not a
      // wait inside one.
      readinessPolling: ONE_PROBE_A_MINUTE,
    });
    const { keys, apiKeys } = testKeys();
    adminKey = keys.admin;
    app = createApp({
      client: env.client,
      secrets,
      apiKeys,
      config: {
        TASK_QUEUE: worker.taskQueue,
        API_TENANTS: undefined,
        API_RATE_LIMIT_PER_MINUTE: 100_000,
        API_UPDATE_TIMEOUT_MS: 10_000,
        API_MAX_BODY_BYTES: 65_536,
        AGENT_TOKEN_TTL_SECONDS: 900,
        SALESFORCE_API_VERSION: '66.0',
        READINESS_TIMEOUT: '3 minutes',
      },
    });
  });

  afterAll(async () => {
    await worker?.stop();
    await emulator?.close();
    await env?.teardown();
  });

  const post = (path: string, body: object) =>
    request(app).post(path).set('Authorization', `Bearer ${adminKey}`).set('Idempotency-Key', randomUUID()).send(body);

  /** Waits (in skipped time) for the saga of an accepted operation; answers its failure and how long it ran. */
  async function sagaFailure(workflowId: string): Promise<{ details: SagaFailureDetails; minutes: number }> {
    const handle = env.client.workflow.getHandle(workflowId);
    const failure = (await handle.result().then(
      () => undefined,
      (err: unknown) => err,
    )) as { cause?: { details?: unknown[] } } | undefined;
    const details = failure?.cause?.details?.[0] as SagaFailureDetails;
    const { startTime } = await handle.describe();
    return { details, minutes: (Date.parse(details.error.at) - startTime.getTime()) / MINUTE };
  }

  it('an enable gives up after the configured 3 minutes, not the default 15', async () => {
    const org = await emulator.control.createOrg({ propagationDelayMs: 3_600_000 });
    const tenant = `rt-${randomUUID().slice(0, 8)}`;
    const accepted = await post(`/v1/tenants/${tenant}/connections/salesforce/enable`, {
      loginUrl: org.loginUrl,
      instanceUrl: org.instanceUrl,
      adminCredentials: { accessToken: org.accessToken, refreshToken: org.refreshToken },
      agentConfiguration: DEFAULT_AGENT_CONFIGURATION,
    });
    expect(accepted.status).toBe(202);
    const { details, minutes } = await sagaFailure(accepted.body.workflowId as string);
    expect(details.error).toMatchObject({ type: ErrorType.readinessTimeout, step: StepId.readiness });
    // Temporal gives up once the next retry would start past the timeout: a little before 3 minutes, far from 15.
    expect(minutes).toBeGreaterThan(2);
    expect(minutes).toBeLessThan(4);
  });

  it('a certificate rotation waits the configured 3 minutes, then leaves the connection working as before', async () => {
    const org = await emulator.control.createOrg({ propagationDelayMs: 0 });
    const tenant = `rt-${randomUUID().slice(0, 8)}`;
    const base = `/v1/tenants/${tenant}/connections/salesforce`;
    const read = async () =>
      (await request(app).get(base).set('Authorization', `Bearer ${adminKey}`)).body as ConnectionView;
    const enabled = await post(`${base}/enable`, {
      loginUrl: org.loginUrl,
      instanceUrl: org.instanceUrl,
      adminCredentials: { accessToken: org.accessToken, refreshToken: org.refreshToken },
      agentConfiguration: DEFAULT_AGENT_CONFIGURATION,
    });
    expect(enabled.status).toBe(202);
    await env.client.workflow.getHandle(enabled.body.workflowId as string).result();
    await waitForConnection(read, (c) => c.status === 'enabled' && !c.currentOperation);

    await emulator.control.updateSettings(org.key, { propagationDelayMs: 3_600_000 });
    const rotation = await post(`${base}/rotate-certificate`, {});
    expect(rotation.status).toBe(202);
    const { details, minutes } = await sagaFailure(rotation.body.workflowId as string);
    expect(details.error.type).toBe(ErrorType.readinessTimeout);
    // Temporal gives up once the next retry would start past the timeout: a little before 3 minutes, far from 15.
    expect(minutes).toBeGreaterThan(2);
    expect(minutes).toBeLessThan(4);
    const connection = (await request(app).get(base).set('Authorization', `Bearer ${adminKey}`)).body as ConnectionView;
    expect(connection.status).toBe('enabled');
  });
});
