import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import request from 'supertest';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import type { CreatedOrg } from '@agent-connections/salesforce-emulator';
import { findChromium } from '../support/chromium';
import { leftovers } from '../support/salesforce';
import type { ApiStack } from '../api/api-stack';
import { startApiStack, uniqueTenant } from '../api/api-stack';

const SCREENSHOTS = path.resolve(__dirname, '..', '..', 'reports', 'screenshots');
const chromiumPath = findChromium();
const describeWithBrowser = chromiumPath ? describe : describe.skip;
if (!chromiumPath) {
  console.warn(
    'SKIPPED test/e2e/admin-page.test.ts: Debian chromium is not installed and could not be installed ' +
      '(run `apt-get install -y chromium` as root, or set CHROMIUM_PATH).',
  );
}

/**
 * The Connectors admin page in a real, headless Chromium, against the real stack: turn access on, watch the steps,
 * read the details, ask for more fields, meet a Salesforce failure with its fix, reconnect, turn access off.
 */
describeWithBrowser('the Connectors admin page', () => {
  let stack: ApiStack;
  let server: Server;
  let browser: Browser;
  let page: Page;
  let org: CreatedOrg;
  const tenant = uniqueTenant('page');

  const screenshot = async (name: string) => {
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  };

  beforeAll(async () => {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    stack = await startApiStack();
    // A few seconds of app propagation, so that the steps are there to watch.
    org = await stack.emulator.control.createOrg({ key: 'page', propagationDelayMs: 4000 });
    server = await new Promise<Server>((resolve) => {
      const listening = stack.app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await stack?.close();
  });

  it('opens with access off, every control labelled', async () => {
    const { port } = server.address() as AddressInfo;
    const fragment = new URLSearchParams({
      tenant,
      key: stack.keys.admin,
      loginUrl: org.loginUrl,
      instanceUrl: org.instanceUrl,
      adminToken: org.accessToken,
    });
    await page.goto(`http://127.0.0.1:${port}/admin/#${fragment.toString()}`);
    await page.getByText('Off', { exact: true }).waitFor();
    // The key and token left the address bar as soon as the page read them.
    expect(page.url()).not.toContain('#');
    const unlabelled: string[] = await page.evaluate(
      `[...document.querySelectorAll('input, textarea, select')]
        .filter((control) => control.labels.length === 0 && !control.getAttribute('aria-label'))
        .map((control) => control.id)`,
    );
    expect(unlabelled).toEqual([]);
    expect(await page.getByRole('switch', { name: 'Enable access' }).isChecked()).toBe(false);
  });

  it('turns access on from the keyboard, shows progress by step, then the connection details', async () => {
    await page.getByLabel('Objects and fields the agent reads').fill('Account: Name, Industry\nContact: Email');
    const toggle = page.getByRole('switch', { name: 'Enable access' });
    await toggle.focus();
    await page.keyboard.press('Space');
    expect(await toggle.isChecked()).toBe(true);
    await page.getByLabel('Login URL').waitFor();
    await page.getByRole('button', { name: 'Save' }).click();

    await page.locator('#progress').getByText('This may take a few minutes').waitFor();
    await page.locator('#progress-label', { hasText: /Step \d+ of \d+/ }).waitFor();
    await screenshot('01-establishing');

    await page.locator('#status-badge', { hasText: 'Connected' }).waitFor({ timeout: 60_000 });
    await page.getByRole('heading', { name: 'Connection details' }).waitFor();
    const user = await page.locator('#detail-user').textContent();
    expect(user).toMatch(/@/);
    expect(await page.locator('#granted-fields').textContent()).toContain('Account: Name, Industry');
    expect(await page.content()).not.toContain(org.accessToken);
    await screenshot('02-connected');

    // Rotate the JWT certificate from the page: the connection stays connected with a new certificate.
    const certificateBefore = await page.locator('#detail-certificate').textContent();
    expect(certificateBefore).toBeTruthy();
    await page.getByRole('button', { name: 'Rotate certificate now' }).click();
    const operationsUrl = `/v1/tenants/${encodeURIComponent(tenant)}/connections/salesforce/operations`;
    const deadline = Date.now() + 60_000;
    let latest: { kind?: string; status?: string } | undefined;
    do {
      await new Promise((r) => setTimeout(r, 250));
      const response = await request(stack.app).get(operationsUrl).set('Authorization', `Bearer ${stack.keys.admin}`);
      latest = (response.body as { operations: { kind: string; status: string }[] }).operations[0];
    } while (!(latest?.kind === 'rotate_certificate' && latest.status !== 'running') && Date.now() < deadline);
    expect(latest).toMatchObject({ kind: 'rotate_certificate', status: 'succeeded' });
    await page.locator('#status-badge', { hasText: 'Connected' }).waitFor();
  });

  it('says the agent needs more access when the fields grow, and grants it in place with Update access', async () => {
    await page
      .getByLabel('Objects and fields the agent reads')
      .fill('Account: Name, Industry\nContact: Email\nOpportunity: StageName, Amount');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'The agent needs more access' }).waitFor();
    expect(await page.locator('#missing-fields').textContent()).toContain('Opportunity.StageName');
    await screenshot('03-needs-reconnect');
    const componentsBefore = await page.locator('#detail-app, #detail-user').allTextContents();
    await page.getByRole('button', { name: 'Update access' }).click();
    await page.locator('#granted-fields', { hasText: 'Opportunity: StageName, Amount' }).waitFor({ timeout: 60_000 });
    await page.locator('#status-badge', { hasText: 'Connected' }).waitFor();
    expect(await page.locator('#needs-reconnect').isHidden()).toBe(true);
    expect(await page.locator('#detail-app, #detail-user').allTextContents()).toEqual(componentsBefore);
  });

  it('shows a Salesforce failure with its fix, and Reconnect repairs the connection', async () => {
    await page
      .getByLabel('Objects and fields the agent reads')
      .fill('Account: Name, Industry\nContact: Email\nOpportunity: StageName, Amount, CloseDate');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'The agent needs more access' }).waitFor();
    await stack.emulator.control.addFault({
      org: 'page',
      match: { operation: 'rest.create', object: 'User' },
      action: { kind: 'error', status: 400, errorCode: 'LICENSE_LIMIT_EXCEEDED', message: 'No licenses left' },
      times: 1,
    });
    await page.getByRole('button', { name: 'Recreate connection' }).click();
    const failure = page.getByRole('heading', { name: 'The connection failed' });
    await failure.waitFor({ timeout: 60_000 });
    expect(await page.locator('#error-message').textContent()).toMatch(/Integration user license/);
    expect(await page.locator('#error-fix').textContent()).toMatch(/Reconnect/);
    expect(await page.locator('#error-code').textContent()).toContain('LICENSE_LIMIT_EXCEEDED');
    await screenshot('04-error');

    await page.getByRole('button', { name: 'Reconnect' }).click();
    await page.locator('#status-badge', { hasText: 'Reconnecting' }).waitFor();
    await page.locator('#status-badge', { hasText: 'Connected' }).waitFor({ timeout: 60_000 });
    expect(await page.locator('#granted-fields').textContent()).toContain('Opportunity: StageName, Amount, CloseDate');
    expect(await page.locator('#needs-reconnect').isHidden()).toBe(true);
    await screenshot('05-reconnected');
  });

  it('asks before turning access off, says what will be removed, and removes it', async () => {
    await page.getByRole('switch', { name: 'Enable access' }).uncheck();
    await page.getByRole('button', { name: 'Save' }).click();
    const dialog = page.getByRole('dialog', { name: 'Turn off Salesforce access?' });
    await dialog.waitFor();
    const permissionSet = await page.locator('#detail-permission-set').textContent();
    expect(await dialog.textContent()).toContain(permissionSet ?? '<none>');
    await screenshot('06-confirm-turn-off');

    // Declining keeps everything.
    await dialog.getByRole('button', { name: 'Keep access' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.waitForFunction(`document.getElementById('enable-access').checked`);

    await page.getByRole('switch', { name: 'Enable access' }).uncheck();
    await page.getByRole('button', { name: 'Save' }).click();
    await dialog.getByRole('button', { name: 'Turn off access' }).click();
    await page.locator('#status-badge', { hasText: /^Off$/ }).waitFor({ timeout: 60_000 });
    expect(await page.locator('#details').isHidden()).toBe(true);
    await screenshot('07-off');
    expect(await leftovers(stack.emulator, 'page')).toEqual([]);
  });
});
