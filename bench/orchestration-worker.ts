/**
 * The orchestration alone, for the benchmark's decomposition (`npm run bench`, third row): the product's worker —
 * same workflows, bundle, codec, interceptors and settings — with the activities that do the Salesforce work and the
 * key generation replaced by ones that answer at once what the real ones would. What remains is what the product's
 * design costs on top of Temporal: the connection workflow, update-with-start, the child saga, memos, search
 * attributes, the health-check Schedule. Never used for a figure that claims Salesforce work was done.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import type { PreflightInput, PreflightResult } from '../activities/preflight';
import { connectionTaskQueue, readinessTaskQueue } from '../workflows/definitions';
import { createActivities } from '../activities';
import type { CreateClientAppInput, ClientAppRef } from '../activities/client-app';
import type { SigningKey } from '../activities/signing-key';
import { encryptedDataConverter, loadCodecKeys } from '../codec/data-converter';
import { loadConfig } from '../config';
import { loadTemporalSettings } from '../config/temporal-connection';
import { buildActivityDependencies, workerOptionsOf, workerTuning } from '../workers/service-worker';
import { withWorkflowBundle } from '../workers/workflow-bundle';
import { componentNames } from '../workflows/naming';

const fakeId = (prefix: string) => `${prefix}${randomUUID().replace(/-/g, '').slice(0, 15)}`;

/** The Salesforce-facing activities, answering at once. */
function instantSalesforce(usernameDomain: string) {
  /* eslint-disable @typescript-eslint/require-await -- activities are async by contract */
  return {
    async preflight(input: PreflightInput): Promise<PreflightResult> {
      const orgId = '00D000000000001';
      return {
        orgId,
        names: componentNames({ ...input, orgId, usernameDomain }),
        integrationProfileId: fakeId('00e'),
        permissionSetLicenseId: fakeId('0PL'),
        grants: input.agentConfiguration.objects.map((o) => ({
          object: o.object,
          fields: o.fields,
          fieldPermissions: o.fields.map((f) => `${o.object}.${f}`),
        })),
        probeObject: input.agentConfiguration.objects[0]?.object ?? 'Account',
      };
    },
    async prepareSigningKey(input: { tenantId: string; operationId: string }): Promise<SigningKey> {
      return {
        privateKey: { secretRef: `tenants/${input.tenantId}/signing-keys/${input.operationId}` },
        certificatePem: '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----',
        expiresAt: new Date(Date.now() + 365 * 86_400_000).toISOString(),
      };
    },
    async createPermissionSet(input: { names: { permissionSetName: string } }) {
      return { id: fakeId('0PS'), name: input.names.permissionSetName };
    },
    async createIntegrationUser(input: { names: { username: string } }) {
      return { id: fakeId('005'), username: input.names.username };
    },
    async grantUserAccess(): Promise<void> {},
    async createClientApp(input: CreateClientAppInput): Promise<ClientAppRef> {
      return {
        appKind: input.appKind,
        apiName: input.names.appApiName,
        id: fakeId('0H4'),
        consumerKey: input.consumerKey,
      };
    },
    async checkReadiness(): Promise<{ instanceUrl: string }> {
      return { instanceUrl: 'https://bench.invalid' };
    },
    async awaitReadiness(): Promise<{ instanceUrl: string }> {
      return { instanceUrl: 'https://bench.invalid' };
    },
  };
  /* eslint-enable @typescript-eslint/require-await */
}

async function main(): Promise<void> {
  const config = loadConfig();
  Runtime.install({ telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } } });
  const temporal = loadTemporalSettings();
  const connection = await NativeConnection.connect(temporal.connectionOptions);
  const clientConnection = await Connection.connect(temporal.connectionOptions);
  const dataConverter = encryptedDataConverter(loadCodecKeys(config.PAYLOAD_CODEC_KEYS, config.DATA_DIR));
  try {
    const client = new Client({ connection: clientConnection, namespace: temporal.namespace, dataConverter });
    const dependencies = await buildActivityDependencies(config, {
      client,
      taskQueue: config.TASK_QUEUE,
      healthCheckInterval: config.HEALTH_CHECK_INTERVAL,
      rotateBeforeDays: config.CERTIFICATE_ROTATE_BEFORE_DAYS,
    });
    // Like the service's worker: the sagas' queue, the connection workflows' own queue and the readiness waits'.
    const workers = await withWorkflowBundle({ prebuiltPath: config.WORKFLOW_BUNDLE_PATH }, (workflowBundle) =>
      Promise.all(
        [config.TASK_QUEUE, connectionTaskQueue(config.TASK_QUEUE), readinessTaskQueue(config.TASK_QUEUE)].map(
          (taskQueue) =>
            Worker.create({
              connection,
              namespace: temporal.namespace,
              taskQueue,
              activities: {
                ...createActivities(dependencies),
                ...instantSalesforce(config.INTEGRATION_USERNAME_DOMAIN),
              },
              dataConverter,
              workflowBundle,
              // The bundle's operation interceptors report through sinks; the product's feed metrics and logs.
              sinks: { operations: { started: { fn: () => undefined }, finished: { fn: () => undefined } } },
              ...workerOptionsOf(workerTuning(config)),
            }),
        ),
      ),
    );
    console.log(`worker polling task queue "${config.TASK_QUEUE}" (orchestration only)`);
    await Promise.all(workers.map((worker) => worker.run()));
  } finally {
    await connection.close();
    await clientConnection.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
