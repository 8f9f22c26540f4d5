import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { RunningEmulator } from '@agent-connections/salesforce-emulator';
import { createApp } from '../../api/app';
import { createApiServer } from '../../api/http-server';
import { EncryptionCodec } from '../../codec/encryption-codec';
import { ensureTool } from '../../scripts/temporal-tools.cjs';
import { startDevServer } from '../../scripts/temporal-dev-server';
import type { RunningDevServer } from '../../scripts/temporal-dev-server';
import { SEARCH_ATTRIBUTE_TYPES } from '../../workflows/definitions';
import { findChromium } from '../support/chromium';
import { Connections } from '../support/connections';
import { freePort } from '../support/free-port';
import {
  TEST_PAYLOAD_KEY,
  startServiceWorker,
  temporarySecretStore,
  testDataConverter,
  testDependencies,
} from '../support/harness';
import { SERVICE_OAUTH_CLIENT, createTestOrg, enableRequest, startTestEmulator } from '../support/salesforce';

const SCREENSHOTS = path.resolve(__dirname, '..', '..', 'reports', 'screenshots');
const chromiumPath = findChromium();
const describeWithBrowser = chromiumPath ? describe : describe.skip;
if (!chromiumPath) {
  console.warn('SKIPPED test/e2e/web-ui-codec.test.ts: Debian chromium is not installed (see admin-page.test.ts).');
}

/**
 * The local Web UI as `npm start` runs it: the dev server's UI with `--ui-codec-endpoint` at the API's /codec, in a
 * real headless Chromium. Without a key (CODEC_AUTH=key-or-local-ui), the UI decodes an enable's payloads and its
 * encrypted failure (the message Salesforce's answer gave) through the endpoint.
 */
describeWithBrowser('the local Temporal Web UI decodes through /codec', () => {
  let devServer: RunningDevServer;
  let env: TestWorkflowEnvironment;
  let emulator: RunningEmulator;
  let api: Server;
  let browser: Browser;
  let stopWorker: () => Promise<void>;
  let uiPort: number;
  const decodeRequests: { origin?: string; authorization?: string }[] = [];

  beforeAll(async () => {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    const apiPort = await freePort();
    uiPort = await freePort();
    const { store: secrets } = await temporarySecretStore();
    const app = createApp({
      client: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) }),
      secrets,
      config: {
        TASK_QUEUE: 'web-ui',
        API_TENANTS: undefined,
        API_RATE_LIMIT_PER_MINUTE: 1000,
        API_UPDATE_TIMEOUT_MS: 10_000,
        API_MAX_BODY_BYTES: 65_536,
        AGENT_TOKEN_TTL_SECONDS: 900,
        SALESFORCE_API_VERSION: '66.0',
      },
      apiKeys: [],
      codec: {
        codec: new EncryptionCodec([TEST_PAYLOAD_KEY]),
        namespace: 'default',
        allowedOrigins: [`http://localhost:${uiPort}`, `http://127.0.0.1:${uiPort}`],
        auth: 'key-or-local-ui',
        apiOnLoopback: true,
        maxBodyBytes: 4_194_304,
      },
    });
    api = createApiServer(
      (req, res) => {
        if (req.url?.startsWith('/codec/decode') && req.method === 'POST') {
          decodeRequests.push({ origin: req.headers.origin, authorization: req.headers.authorization });
        }
        app(req, res);
      },
      { API_HEADERS_TIMEOUT_MS: 10_000, API_REQUEST_TIMEOUT_MS: 30_000, API_KEEP_ALIVE_TIMEOUT_MS: 5_000 },
    );
    await new Promise<void>((resolve) => api.listen(apiPort, '127.0.0.1', resolve));
    devServer = await startDevServer({
      binary: ensureTool('cli'),
      port: await freePort(),
      uiPort,
      searchAttributes: SEARCH_ATTRIBUTE_TYPES,
      codecEndpoint: `http://127.0.0.1:${apiPort}/codec`,
    });
    env = await TestWorkflowEnvironment.createFromExistingServer({
      address: devServer.address,
      client: { dataConverter: testDataConverter },
    });
    emulator = await startTestEmulator();
    const worker = await startServiceWorker(env, testDependencies({ secrets, oauthClient: SERVICE_OAUTH_CLIENT }));
    stopWorker = worker.stop;
    const connections = new Connections(env.client, worker.taskQueue);
    const { target } = await createTestOrg(emulator, secrets);
    const tenantId = `t-${randomUUID()}`;
    const state = await connections.enableAndSettle(
      tenantId,
      enableRequest(target, { agentConfiguration: { objects: [{ object: 'Account', fields: ['NoSuchField__c'] }] } }),
    );
    expect(state.lastError?.message).toContain('Account.NoSuchField__c');
    sagaId = state.operations[0]!.workflowId;
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
  });

  let sagaId: string;

  afterAll(async () => {
    await browser?.close();
    await stopWorker?.();
    await emulator?.close();
    await env?.teardown();
    await devServer?.stop();
    api?.closeAllConnections();
    await new Promise((resolve) => api?.close(resolve));
  });

  it('shows the failed enable’s decoded failure message, through /codec/decode without a key', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    try {
      await page.goto(`http://127.0.0.1:${uiPort}/namespaces/default/workflows/${encodeURIComponent(sagaId)}`);
      await page.getByText('Account.NoSuchField__c', { exact: false }).first().waitFor({ timeout: 60_000 });
      await page.screenshot({ path: path.join(SCREENSHOTS, 'web-ui-decoded-failure.png'), fullPage: true });
    } finally {
      await page.close();
    }
    expect(decodeRequests.length).toBeGreaterThan(0);
    expect(decodeRequests.every((r) => r.authorization === undefined)).toBe(true);
    expect(decodeRequests.some((r) => r.origin === `http://127.0.0.1:${uiPort}`)).toBe(true);
  });
});
