import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { findChromium } from '../support/chromium';
import type { ApiStack } from '../api/api-stack';
import { startApiStack } from '../api/api-stack';

const SCREENSHOTS = path.resolve(__dirname, '..', '..', 'reports', 'screenshots');
const chromiumPath = findChromium();
const describeWithBrowser = chromiumPath ? describe : describe.skip;
if (!chromiumPath) {
  console.warn(
    'SKIPPED test/e2e/docs-page.test.ts: Debian chromium is not installed and could not be installed ' +
      '(run `apt-get install -y chromium` as root, or set CHROMIUM_PATH).',
  );
}

interface OpenApi {
  paths: Record<string, Record<string, { operationId: string; tags: string[] }>>;
}

/**
 * The API reference at /docs (Swagger UI, served by the API from node_modules) in a real, headless Chromium: every
 * operation of the document is on the page, the page runs under the API's 'self'-only Content-Security-Policy
 * without a violation, and an operation opens with its request and response examples.
 */
describeWithBrowser('the API reference at /docs', () => {
  let stack: ApiStack;
  let server: Server;
  let browser: Browser;
  let page: Page;
  let base: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    // The page needs no worker: it reads the document only.
    stack = await startApiStack({ worker: false });
    server = await new Promise<Server>((resolve) => {
      const listening = stack.app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 1200 } });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await stack?.close();
  });

  it('renders every operation of the document, with no CSP violation', async () => {
    const document = (await (await fetch(`${base}/openapi.json`)).json()) as OpenApi;
    const operationIds = Object.values(document.paths)
      .flatMap((item) => Object.values(item).map((operation) => operation.operationId))
      .sort();
    expect(operationIds.length).toBeGreaterThanOrEqual(11);

    const response = await page.goto(`${base}/docs`);
    expect(response?.headers()['content-security-policy']).toMatch(/script-src 'self';.*style-src 'self';/);
    await page.locator('.opblock').first().waitFor();
    expect(await page.locator('.opblock').count()).toBe(operationIds.length);
    const shown = (await page.locator('.opblock .opblock-summary-operation-id').allTextContents()).sort();
    expect(shown).toEqual(operationIds);
    expect(await page.locator('.info .title').textContent()).toContain('agent-connections');
    expect(consoleErrors.filter((e) => /Content Security Policy|Refused to/.test(e))).toEqual([]);
  });

  it('opens an operation with its request and response examples', async () => {
    const operation = page.locator('#operations-Connections-enableConnection');
    await operation.locator('.opblock-summary').click();
    await operation.locator('.opblock-body').waitFor();
    // The request body's example and the 202's example, as the document gives them.
    await operation
      .locator('option', { hasText: 'Credentials the admin backend stored' })
      .first()
      .waitFor({ state: 'attached' });
    const text = (await operation.textContent()) ?? '';
    expect(text).toContain('tenants/acme/admin/oauth');
    expect(text).toContain('Idempotency-Key');
    for (const status of ['200', '202', '400', '409', '422', '503']) {
      await operation.locator(`tr.response[data-code="${status}"]`).waitFor();
    }
    await operation.locator('tr.response[data-code="202"]').getByText('Location', { exact: true }).waitFor();
    // The request body with its example, then the responses.
    await operation.locator('.opblock-section-request-body').evaluate((section) => {
      section.scrollIntoView();
    });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'docs.png') });
    expect(consoleErrors.filter((e) => /Content Security Policy|Refused to/.test(e))).toEqual([]);
  });
});
