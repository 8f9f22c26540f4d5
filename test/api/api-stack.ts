import fs from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { RunningEmulator } from '@agent-connections/salesforce-emulator';
import { SERVICE_OAUTH_CLIENT, startEmulator } from '@agent-connections/salesforce-emulator';
import type { EncryptedFileSecretStore } from '../../secrets/secret-store';
import type { ApiConfig, AppDependencies } from '../../api/app';
import { createApp } from '../../api/app';
import type { ApiKey } from '../../api/auth';
import { generateApiKey, hashApiKey } from '../../api/auth';
import type { ApiClient, Connection } from '@agent-connections/api-client';
import type { AuditStore } from '../../audit/audit-store';
import type { ServiceWorker, WorkerTuning } from '../../workers/service-worker';
import { createApiClient } from '@agent-connections/api-client';
import { devServerEnvironment, startServiceWorker, temporarySecretStore, testDependencies } from '../support/harness';
import { pollUntil } from '../support/poll';

/** One raw key per role; `acmeAdmin` is bound to tenant "acme". */
export interface TestKeys {
  admin: string;
  read: string;
  agent: string;
  acmeAdmin: string;
}

export interface ApiStack {
  app: Express;
  /** `app`, listening on a free loopback port: for the typed client and browsers. */
  baseUrl: string;
  /** The typed client (generated from the OpenAPI document) of `app`, with one of the keys. */
  client(key: string): ApiClient;
  env: TestWorkflowEnvironment;
  emulator: RunningEmulator;
  secrets: EncryptedFileSecretStore;
  secretsDir: string;
  taskQueue: string;
  /** The service's worker (both its SDK workers), unless started with `worker: false`. */
  serviceWorker?: ServiceWorker;
  keys: TestKeys;
  apiKeys: ApiKey[];
  config: ApiConfig;
  /** Another app on the same stack, e.g. with other limits or another client. */
  appWith(overrides: Partial<AppDependencies>): Express;
  close(): Promise<void>;
}

export function testKeys(): { keys: TestKeys; apiKeys: ApiKey[] } {
  const keys: TestKeys = {
    admin: generateApiKey(),
    read: generateApiKey(),
    agent: generateApiKey(),
    acmeAdmin: generateApiKey(),
  };
  const apiKeys: ApiKey[] = [
    { id: 'backend', sha256: hashApiKey(keys.admin), scopes: ['admin'] },
    { id: 'dashboard', sha256: hashApiKey(keys.read), scopes: ['read'] },
    { id: 'agent', sha256: hashApiKey(keys.agent), scopes: ['agent'] },
    { id: 'acme-backend', sha256: hashApiKey(keys.acmeAdmin), scopes: ['admin'], tenantId: 'acme' },
  ];
  return { keys, apiKeys };
}

/**
 * The real stack: the dev server of the Jest global setup, a worker of the real service on its own task queue, the
 * Salesforce emulator, and the API in front of them. With `worker: false`, nothing polls the task queue.
 */
export async function startApiStack(
  options: { worker?: boolean; config?: Partial<ApiConfig>; workerTuning?: WorkerTuning; audit?: AuditStore } = {},
): Promise<ApiStack> {
  const env = await devServerEnvironment();
  const { store: secrets, dir } = await temporarySecretStore();
  const emulator = await startEmulator({ port: 0, controlPort: 0 });
  const worker =
    options.worker === false
      ? undefined
      : await startServiceWorker(
          env,
          { ...testDependencies({ secrets, oauthClient: SERVICE_OAUTH_CLIENT }), audit: options.audit },
          {
            tuning: options.workerTuning,
          },
        );
  const taskQueue = worker?.taskQueue ?? `no-worker-${Date.now()}`;
  const { keys, apiKeys } = testKeys();
  const config: ApiConfig = {
    TASK_QUEUE: taskQueue,
    API_TENANTS: undefined,
    API_RATE_LIMIT_PER_MINUTE: 100_000,
    API_UPDATE_TIMEOUT_MS: 10_000,
    API_MAX_BODY_BYTES: 65_536,
    AGENT_TOKEN_TTL_SECONDS: 900,
    SALESFORCE_API_VERSION: '66.0',
    ...options.config,
  };
  const dependencies: AppDependencies = { client: env.client, secrets, config, apiKeys, audit: options.audit };
  const app = createApp(dependencies);
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    app,
    baseUrl,
    client: (key) => createApiClient({ baseUrl, apiKey: key }),
    env,
    emulator,
    secrets,
    secretsDir: dir,
    taskQueue,
    serviceWorker: worker?.worker,
    keys,
    apiKeys,
    config,
    appWith: (overrides) => createApp({ ...dependencies, ...overrides }),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      if (worker) {
        worker.worker.shutdown();
        await worker.running;
      }
      await emulator.close();
      await env.teardown();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

let tenantCounter = 0;

/** A tenant id no other test uses (workflow IDs are per tenant, and the dev server lives for the whole run). */
export function uniqueTenant(prefix = 't'): string {
  tenantCounter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${tenantCounter}`;
}

export const AGENT_CONFIGURATION = {
  objects: [
    { object: 'Account', fields: ['Name', 'Industry'] },
    { object: 'Contact', fields: ['Email'] },
  ],
};

/** The path parameters of a tenant's Salesforce connection, as the typed client takes them. */
export function salesforceOf(tenantId: string): { tenantId: string; crm: 'salesforce' } {
  return { tenantId, crm: 'salesforce' };
}

/** The body of an answer the test expects to succeed; a problem fails the test with its status and detail. */
export function ok<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined || result.error !== undefined) {
    throw new Error(`expected success, got ${result.response.status}: ${JSON.stringify(result.error)}`);
  }
  return result.data;
}

/** Polls until the connection satisfies `done`, or fails with the last state seen. */
export async function waitForConnection(
  read: () => Promise<Connection>,
  done: (connection: Connection) => boolean,
  timeoutMs = 90_000,
): Promise<Connection> {
  return pollUntil(read, done, { what: 'the expected connection state', timeoutMs });
}
