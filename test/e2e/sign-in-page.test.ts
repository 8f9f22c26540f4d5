import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import type { CreatedOrg } from '@agent-connections/salesforce-emulator';
import { SERVICE_OAUTH_CLIENT } from '@agent-connections/salesforce-emulator';
import { findChromium } from '../support/chromium';
import type { ApiStack } from '../api/api-stack';
import { startApiStack, uniqueTenant } from '../api/api-stack';

const SCREENSHOTS = path.resolve(__dirname, '..', '..', 'reports', 'screenshots');
const chromiumPath = findChromium();
const describeWithBrowser = chromiumPath ? describe : describe.skip;
if (!chromiumPath) {
  console.warn(
    'SKIPPED test/e2e/sign-in-page.test.ts: Debian chromium is not installed and could not be installed ' +
      '(run `apt-get install -y chromium` as root, or set CHROMIUM_PATH).',
  );
}

/**
 * Sign in with Salesforce from the admin page, in headless Chromium: the button, the emulator's sign-in page, the
 * callback, back on the page signed in, then access turned on with the signed-in admin's reference. And a denial.
 */
describeWithBrowser('Sign in with Salesforce on the admin page', () => {
  let stack: ApiStack;
  let server: http.Server;
  let baseUrl: string;
  let browser: Browser;
  let page: Page;
  let org: CreatedOrg;

  const screenshot = async (name: string) => {
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  };
  const open = async (tenant: string) => {
    const fragment = new URLSearchParams({ tenant, key: stack.keys.admin, loginUrl: org.loginUrl });
    await page.goto('about:blank');
    await page.goto(`${baseUrl}/admin/#${fragment.toString()}`);
    await page.getByText('Off', { exact: true }).waitFor();
    await page.getByRole('switch', { name: 'Enable access' }).check();
  };
  const signInOnSalesforce = async (button: 'Allow' | 'Deny') => {
    await page.getByRole('button', { name: 'Sign in with Salesforce' }).click();
    await page.waitForURL((url) => url.pathname.endsWith('/services/oauth2/authorize'));
    if (button === 'Allow') {
      await page.getByLabel('Username').fill(org.adminUsername);
      await page.getByLabel('Password').fill(org.adminPassword);
    }
    await screenshot('sign-in-01-salesforce-page');
    await page.getByRole('button', { name: button }).click();
    await page.waitForURL((url) => url.pathname === '/admin/');
  };

  beforeAll(async () => {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    stack = await startApiStack();
    org = await stack.emulator.control.createOrg({ key: 'signin' });
    server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const callbackUrl = `${baseUrl}/v1/oauth/salesforce/callback`;
    server.on(
      'request',
      stack.appWith({ salesforceOAuthClient: SERVICE_OAUTH_CLIENT, signInCallbackUrl: callbackUrl }),
    );
    await stack.emulator.control.setServiceCallbackUrls([callbackUrl]);
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await stack?.close();
  });

  it('signs in through Salesforce’s page and turns access on as the signed-in admin', async () => {
    const tenant = uniqueTenant('signin-page');
    await open(tenant);
    expect(await page.locator('#sign-in-status').textContent()).toContain('Not signed in');
    await signInOnSalesforce('Allow');
    // Back on the page, with the enable form open: the address bar is clean, the page says who signed in, to which org.
    expect(page.url()).toBe(`${baseUrl}/admin/`);
    expect(await page.getByRole('switch', { name: 'Enable access' }).isChecked()).toBe(true);
    await page
      .locator('#sign-in-status', { hasText: `Signed in as ${org.adminUsername} to org ${org.orgId}` })
      .waitFor();
    expect(await page.getByRole('button', { name: 'Sign in with another admin' }).first().isVisible()).toBe(true);
    await screenshot('sign-in-02-signed-in');

    await page.getByLabel('Objects and fields the agent reads').fill('Account: Name, Industry');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#status-badge', { hasText: 'Connected' }).waitFor({ timeout: 60_000 });
    const ref = await page.evaluate<string | null>(`sessionStorage.getItem('adminCredentialsRef')`);
    expect(ref).toMatch(new RegExp(`^tenants/${tenant}/admin/sign-in-`));
    const stored = JSON.parse((await stack.secrets.get({ secretRef: ref ?? '' })) ?? '{}') as { accessToken: string };
    expect(await page.content()).not.toContain(stored.accessToken);
    expect(JSON.stringify(await page.evaluate<Record<string, string>>(`({ ...sessionStorage })`))).not.toContain(
      stored.accessToken,
    );
    await screenshot('sign-in-03-connected');
  });

  it('says so when the admin denies access in Salesforce', async () => {
    await open(uniqueTenant('signin-page'));
    await signInOnSalesforce('Deny');
    await page.locator('#sign-in-error', { hasText: 'Access was denied in Salesforce' }).waitFor();
    await screenshot('sign-in-04-denied');
  });
});
