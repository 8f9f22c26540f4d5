import { Worker } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { ActivityDependencies } from '../activities';
import { SalesforceClients } from '../activities/salesforce-clients';
import { openSecretStore } from '../activities/secret-store';
import type { AppConfig } from '../config';

export async function buildActivityDependencies(
  config: AppConfig,
  warn?: (m: string) => void,
): Promise<ActivityDependencies> {
  const secrets = await openSecretStore({
    dir: config.secretsDir,
    masterKeys: config.SECRETS_MASTER_KEYS,
    dataDir: config.DATA_DIR,
    warn,
  });
  const oauthClient =
    config.SALESFORCE_CLIENT_ID && config.SALESFORCE_CLIENT_SECRET
      ? { clientId: config.SALESFORCE_CLIENT_ID, clientSecret: config.SALESFORCE_CLIENT_SECRET }
      : undefined;
  return {
    clients: new SalesforceClients(secrets, { apiVersion: config.SALESFORCE_API_VERSION, oauthClient }),
    secrets,
    usernameDomain: config.INTEGRATION_USERNAME_DOMAIN,
    contactEmail: config.CONTACT_EMAIL,
    certificateValidityDays: config.CERTIFICATE_VALIDITY_DAYS,
  };
}

export interface ServiceWorkerOptions {
  connection: NativeConnection;
  dataConverter: DataConverter;
  namespace: string;
  taskQueue: string;
  dependencies: ActivityDependencies;
  /** A prebuilt bundle (tests build one per run); otherwise the workflows are bundled from source. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  tuning?: Partial<
    Pick<
      WorkerOptions,
      'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions' | 'maxCachedWorkflows'
    >
  >;
}

/** The one worker of the service: every workflow and activity on one task queue. */
export async function createServiceWorker(options: ServiceWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities(options.dependencies),
    dataConverter: options.dataConverter,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
    ...options.tuning,
  });
}
