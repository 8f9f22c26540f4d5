import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ErrorType } from '../../workflows/definitions';
import { Connections } from '../support/connections';
import {
  devServerEnvironment,
  recordHistory,
  startServiceWorker,
  temporarySecretStore,
  testDependencies,
} from '../support/harness';

describe('Dynamics 365 Sales', () => {
  let env: TestWorkflowEnvironment;
  let connections: Connections;
  let stopWorker: () => Promise<void>;

  beforeAll(async () => {
    env = await devServerEnvironment();
    const { store } = await temporarySecretStore();
    const started = await startServiceWorker(env, testDependencies({ secrets: store }));
    connections = new Connections(env.client, started.taskQueue);
    stopWorker = started.stop;
  });

  afterAll(async () => {
    await stopWorker?.();
    await env?.teardown();
  });

  it('is connected already: enable creates nothing and succeeds, disable is refused, and the state reads without a worker', async () => {
    const tenantId = `dyn-${randomUUID()}`;
    const operationId = randomUUID();
    const accepted = await connections.enable(
      tenantId,
      {
        operationId,
        appKind: 'external_client_app',
        target: { loginUrl: 'unused', instanceUrl: 'unused', adminCredentials: { secretRef: 'unused' } },
      },
      'dynamics365',
    );
    expect(accepted).toMatchObject({ operationId, kind: 'enable' });

    // The enable holds nothing, so its run ends once it is recorded; the record stays readable in its memo.
    expect((await connections.state(tenantId, 'dynamics365')).operations).toEqual([
      expect.objectContaining({ id: operationId, kind: 'enable', status: 'succeeded', stepsDone: [] }),
    ]);

    await expect(connections.disable(tenantId, { operationId: randomUUID() }, 'dynamics365')).rejects.toMatchObject({
      cause: { type: ErrorType.operationRejected, message: expect.stringContaining('Dynamics 365') },
    });

    await recordHistory('connection-dynamics', env.client.workflow.getHandle(`connection:${tenantId}:dynamics365`));
    await stopWorker();
    const state = await connections.state(tenantId, 'dynamics365');
    expect(state.status).toBe('enabled');
    expect(state.statusMessage).toMatch(/Dynamics 365 Sales.*already connected/);
    expect(state.details).toBeUndefined();
  });
});
