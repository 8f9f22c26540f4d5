import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import request from 'supertest';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import type { CreatedOrg } from '@agent-connections/salesforce-emulator';
import { SERVICE_OAUTH_CLIENT } from '@agent-connections/salesforce-emulator';
import type { ConnectionView } from '../../api/schemas';
import { findChromium } from '../support/chromium';
import type { ApiStack } from '../api/api-stack';
import { startApiStack, uniqueTenant } from '../api/api-stack';
import { pollUntil } from '../support/poll';

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
  const open = async (tenant: string, on: Page = page, inOrg: CreatedOrg = org) => {
    const fragment = new URLSearchParams({ tenant, key: stack.keys.admin, loginUrl: inOrg.loginUrl });
    await on.goto('about:blank');
    await on.goto(`${baseUrl}/admin/#${fragment.toString()}`);
    const french = (await on.evaluate('navigator.language')) === 'fr-FR';
    await on.locator('#status-badge', { hasText: french ? 'Désactivée' : 'Off' }).waitFor();
    await on.getByRole('switch', { name: french ? 'Activer l’accès' : 'Enable access' }).check();
  };
  /** On the emulator's sign-in page (English, as Salesforce's own follows its user's language), then back. */
  const signInOnSalesforce = async (
    button: 'Allow' | 'Deny',
    { on = page, inOrg = org, start = 'Sign in with Salesforce', shot = 'sign-in-01-salesforce-page' } = {},
  ) => {
    await on.getByRole('button', { name: start }).click();
    await on.waitForURL((url) => url.pathname.endsWith('/services/oauth2/authorize'));
    if (button === 'Allow') {
      await on.getByLabel('Username').fill(inOrg.adminUsername);
      await on.getByLabel('Password').fill(inOrg.adminPassword);
    }
    if (shot) await on.screenshot({ path: path.join(SCREENSHOTS, `${shot}.png`), fullPage: true });
    await on.getByRole('button', { name: button }).click();
    await on.waitForURL((url) => url.pathname === '/admin/');
  };
  const read = async (tenant: string) =>
    (
      await request(server)
        .get(`/v1/tenants/${tenant}/connections/salesforce`)
        .set('Authorization', `Bearer ${stack.keys.admin}`)
    ).body as ConnectionView;

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

    await page.evaluate(`document.getElementById('advanced').open = true`);
    await page.getByLabel('Objects and fields, as text').fill('Account: Name, Industry');
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

  it('from the error state, signs in with another admin and reconnects', async () => {
    // An org of its own: one connection per org, and the first test's is still there.
    const failing = await stack.emulator.control.createOrg({ key: 'signin-error' });
    const tenant = uniqueTenant('signin-page');
    await open(tenant, page, failing);
    await signInOnSalesforce('Allow', { inOrg: failing, shot: '' });
    await page.locator('#sign-in-status', { hasText: `Signed in as ${failing.adminUsername}` }).waitFor();
    await page.evaluate(`document.getElementById('advanced').open = true`);
    await page.locator('#agent-fields').fill('Account: Name');
    // No Salesforce Integration license left when the integration user is created: the enable fails.
    await stack.emulator.control.addFault({
      org: 'signin-error',
      match: { operation: 'rest.create', object: 'User' },
      action: { kind: 'error', status: 400, errorCode: 'LICENSE_LIMIT_EXCEEDED', message: 'No licenses left' },
      times: 1,
    });
    await page.getByRole('button', { name: 'Save' }).click();
    const failed = page.locator('#connection-error');
    await failed.getByRole('heading', { name: 'The connection failed' }).waitFor({ timeout: 60_000 });

    await signInOnSalesforce('Allow', { inOrg: failing, start: 'Sign in with another admin', shot: '' });
    // Back on the page, still in the error state, the new sign-in shown where the fix is.
    await failed.getByRole('heading', { name: 'The connection failed' }).waitFor();
    await failed
      .locator('[data-sign-in-status]', { hasText: `Signed in as ${failing.adminUsername} to org ${failing.orgId}` })
      .waitFor();
    expect((await read(tenant)).status).toBe('error');
    await screenshot('sign-in-05-error-signed-in-again');
    await failed.getByRole('button', { name: 'Reconnect' }).click();
    await page.getByRole('dialog', { name: 'Recreate the connection?' }).getByRole('button').last().click();
    await page.locator('#status-badge', { hasText: 'Connected' }).waitFor({ timeout: 60_000 });
    await page.getByRole('heading', { name: 'Connection details' }).waitFor();
    expect((await read(tenant)).status).toBe('enabled');
  });

  it('speaks French through the sign-in, and asks apart before a recreate that must break before it makes', async () => {
    // One Salesforce Integration license: the connection uses it, a recreate has none for the overlap.
    const short = await stack.emulator.control.createOrg({ key: 'signin-fr' });
    await stack.emulator.control.updateSettings('signin-fr', { integrationLicenses: 1 });
    const context = await browser.newContext({ locale: 'fr-FR', viewport: { width: 1000, height: 900 } });
    const tab = await context.newPage();
    const tenant = uniqueTenant('signin-fr');
    await open(tenant, tab, short);
    expect(await tab.locator('#sign-in-status').textContent()).toContain('Non connecté à Salesforce');
    await signInOnSalesforce('Allow', { on: tab, inOrg: short, start: 'Se connecter avec Salesforce', shot: '' });
    await tab
      .locator('#sign-in-status', {
        hasText: `Connecté en tant que ${short.adminUsername} à l’organisation ${short.orgId}`,
      })
      .waitFor();
    expect(
      await tab.getByRole('button', { name: 'Se connecter avec un autre administrateur' }).first().isVisible(),
    ).toBe(true);
    await tab.screenshot({ path: path.join(SCREENSHOTS, 'sign-in-fr-01-connecte.png'), fullPage: true });
    // The language switch shows the sign-in again in the other language.
    await tab.locator('#language').selectOption('en');
    await tab.locator('#sign-in-status', { hasText: `Signed in as ${short.adminUsername}` }).waitFor();
    await tab.locator('#language').selectOption('fr');
    await tab.locator('#sign-in-status', { hasText: 'Connecté en tant que' }).waitFor();

    await tab.evaluate(`document.getElementById('advanced').open = true`);
    await tab.locator('#agent-fields').fill('Account: Name');
    await tab.getByRole('button', { name: 'Enregistrer' }).click();
    await tab.locator('#status-badge', { hasText: 'Connectée' }).waitFor({ timeout: 60_000 });
    const before = (await read(tenant)).details!.consumerKey;

    // More fields through the API; Recreate asks first (the agent keeps its access), then the API says no license.
    await request(server)
      .put(`/v1/tenants/${tenant}/agent-configuration`)
      .set('Authorization', `Bearer ${stack.keys.admin}`)
      .send({ objects: [{ object: 'Account', fields: ['Name', 'Industry'] }] })
      .expect(200);
    const recreate = tab.locator('#needs-reconnect').getByRole('button', { name: 'Recréer la connexion' });
    await recreate.waitFor({ timeout: 10_000 });
    const confirm = tab.getByRole('dialog', { name: 'Recréer la connexion ?' });
    const breakFirst = tab.getByRole('dialog', { name: 'Supprimer d’abord la connexion actuelle ?' });
    await recreate.click();
    expect(await confirm.textContent()).toContain('l’agent conserve son accès');
    await confirm.getByRole('button', { name: 'Recréer la connexion' }).click();
    await breakFirst.waitFor();
    const text = await breakFirst.textContent();
    expect(text).toContain('pas de licence Salesforce Integration libre');
    expect(text).toContain('supprimée avant que la nouvelle existe');
    expect(text).toContain('de 2 à 10 minutes');
    await tab.screenshot({ path: path.join(SCREENSHOTS, 'sign-in-fr-02-sans-licence.png'), fullPage: true });
    // Esc: nothing changes, nothing started.
    await tab.keyboard.press('Escape');
    await breakFirst.waitFor({ state: 'hidden' });
    const unchanged = await read(tenant);
    expect(unchanged.status).toBe('needs_reconnect');
    expect(unchanged.currentOperation).toBeFalsy();
    expect(unchanged.details!.consumerKey).toBe(before);
    expect(await tab.locator('#form-error').isHidden()).toBe(true);

    // Confirmed: the current connection goes first, then the new one is made.
    await recreate.click();
    await confirm.getByRole('button', { name: 'Recréer la connexion' }).click();
    await breakFirst.getByRole('button', { name: 'Supprimer et recréer' }).click();
    const after = await pollUntil(
      () => read(tenant),
      (current) => current.status === 'enabled' && !current.currentOperation,
      { what: 'the recreated connection', timeoutMs: 90_000, intervalMs: 300, onTimeout: 'return' },
    );
    expect(after.status).toBe('enabled');
    expect(after.details!.consumerKey).not.toBe(before);
    await tab.locator('#granted-fields', { hasText: 'Account: Name, Industry' }).waitFor({ timeout: 10_000 });
    await tab.locator('#status-badge', { hasText: 'Connectée' }).waitFor();
    await context.close();
  });
});
