import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import request from 'supertest';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { CreatedOrg } from '@agent-connections/salesforce-emulator';
import type { ConnectionView } from '../../api/schemas';
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
 * The Connectors admin page in a real, headless Chromium, against the real stack, in English and in French: choose
 * the agent's fields in the picker, turn access on, watch the steps, read the details with their Setup links, see a
 * change made through the API without reloading, confirm (or not) what removes something, meet a Salesforce failure
 * with its fix, reconnect with the steps counted right, turn access off; from the keyboard and at 375 px.
 */
describeWithBrowser('the Connectors admin page', () => {
  let stack: ApiStack;
  let server: Server;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let org: CreatedOrg;
  let origin: string;
  const tenant = uniqueTenant('page');
  const base = `/v1/tenants/${encodeURIComponent(tenant)}/connections/salesforce`;
  const notFound: string[] = [];

  const screenshot = async (name: string, on: Page = page) => {
    await on.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  };

  const readConnection = async () =>
    (await request(stack.app).get(base).set('Authorization', `Bearer ${stack.keys.admin}`)).body as ConnectionView;

  /** Opens the page in a browser of that language, with the key and the stored admin sign-in in the fragment. */
  const open = async (locale: string): Promise<{ context: BrowserContext; page: Page }> => {
    const opened = await browser.newContext({ locale, viewport: { width: 1000, height: 900 } });
    const tab = await opened.newPage();
    tab.on('response', (response) => {
      if (response.status() === 404) notFound.push(response.url());
    });
    const fragment = new URLSearchParams({
      tenant,
      key: stack.keys.admin,
      loginUrl: org.loginUrl,
      instanceUrl: org.instanceUrl,
      adminCredentialsRef: `tenants/${tenant}/admin/sign-in`,
    });
    await tab.goto(`${origin}/admin/#${fragment.toString()}`);
    return { context: opened, page: tab };
  };

  /** Chooses fields in the picker from the keyboard: search the object, open it, tick each field. */
  const pick = async (on: Page, object: string, fields: string[]) => {
    const search = on.locator('#object-search');
    await search.focus();
    await search.fill(object);
    await on.keyboard.press('Tab');
    const button = on.locator(`#object-list button[data-object="${object}"]`);
    await button.focus();
    await on.keyboard.press('Enter');
    for (const field of fields) {
      const box = on.locator(`#field-list input[data-field="${field}"]`);
      await box.waitFor();
      await box.focus();
      await on.keyboard.press('Space');
      expect(await box.isChecked()).toBe(true);
    }
  };

  beforeAll(async () => {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    stack = await startApiStack();
    // A few seconds of app propagation, so that the steps are there to watch.
    org = await stack.emulator.control.createOrg({ key: 'page', propagationDelayMs: 4000 });
    // What a sign-in leaves: the admin's tokens in the secret store, the page holding only their reference.
    await stack.secrets.put(
      `tenants/${tenant}/admin/sign-in`,
      JSON.stringify({ accessToken: org.accessToken, refreshToken: org.refreshToken }),
    );
    server = await new Promise<Server>((resolve) => {
      const listening = stack.app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
    ({ context, page } = await open('en-US'));
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await stack?.close();
  });

  it('opens in the browser’s language with access off, every control labelled, the key gone from the address', async () => {
    await page.locator('#status-badge', { hasText: /^Off$/ }).waitFor();
    expect(page.url()).not.toContain('#');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    const unlabelled: string[] = await page.evaluate(
      `[...document.querySelectorAll('input, textarea, select')]
        .filter((control) => control.labels.length === 0 && !control.getAttribute('aria-label'))
        .map((control) => control.id)`,
    );
    expect(unlabelled).toEqual([]);
    expect(await page.getByRole('switch', { name: 'Enable access' }).isChecked()).toBe(false);
    // Never enabled: no 1970 date anywhere, and the org's objects are listed from the stored sign-in.
    expect(await page.locator('body').textContent()).not.toContain('1970');
    await page.locator('#object-list button[data-object="Account"]').waitFor();
    expect(await page.locator('#object-list button[data-object="User"]').count()).toBe(0);
    const favicon = await request(stack.app).get('/favicon.ico').expect(200);
    expect(favicon.headers['content-type']).toContain('image/svg+xml');
  });

  it('says in plain words that the agent must read something, and turns access on with the picker, from the keyboard', async () => {
    const toggle = page.getByRole('switch', { name: 'Enable access' });
    await toggle.focus();
    await page.keyboard.press('Space');
    expect(await toggle.isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#form-error', { hasText: 'Choose at least one object and field' }).waitFor();

    await pick(page, 'Account', ['Industry']);
    await pick(page, 'Contact', ['Email']);
    expect(await page.locator('#picker-summary').textContent()).toContain('Account (Industry); Contact (Email)');
    expect(await page.locator('#agent-fields').inputValue()).toBe('Account: Industry\nContact: Email');
    await screenshot('admin-en-01-picker');
    await page.getByRole('button', { name: 'Save' }).focus();
    await page.keyboard.press('Enter');

    await page.locator('#progress').getByText('This may take a few minutes').waitFor();
    await page.locator('#progress-label', { hasText: /Step \d+ of 7/ }).waitFor();
    await page.locator('#progress-elapsed', { hasText: 'Salesforce usually takes 2 to 10 minutes' }).waitFor();
    await screenshot('admin-en-02-establishing');

    await page.locator('#status-badge', { hasText: 'Connected' }).waitFor({ timeout: 60_000 });
    await page.getByRole('heading', { name: 'Connection details' }).waitFor();
    expect(await page.locator('#granted-fields').textContent()).toContain('Account: Industry');
  });

  it('shows the details as Setup lists them: consumer key to copy, labels and API names, Setup links', async () => {
    const details = (await readConnection()).details!;
    expect(await page.locator('#detail-consumer-key').textContent()).toBe(details.consumerKey);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.locator('#copy-status', { hasText: 'Copied' }).waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(details.consumerKey);

    const user = await page.locator('#detail-user').textContent();
    expect(user).toContain(details.integrationUserName);
    expect(user).toContain(details.integrationUsername);
    const permissionSet = await page.locator('#detail-permission-set').textContent();
    expect(permissionSet).toContain(details.permissionSetLabel);
    expect(permissionSet).toContain(details.permissionSetName);
    const links = await page
      .locator('#details a.setup-link')
      .evaluateAll((anchors) => anchors.map((a) => (a as unknown as { href: string }).href));
    expect(links).toEqual(
      expect.arrayContaining([
        expect.stringContaining(`/lightning/setup/ManageUsers/page?address=%2F${details.integrationUserId}`),
        expect.stringContaining(`/lightning/setup/PermSets/page?address=%2F${details.permissionSetId}`),
        expect.stringContaining('/lightning/setup/ManageExternalClientApplication/home'),
      ]),
    );
    expect(await page.content()).not.toContain(org.accessToken);
    await screenshot('admin-en-03-connected');
  });

  it('shows a change made through the API within seconds, without a reload, and grants it with Update access', async () => {
    await request(stack.app)
      .put(`/v1/tenants/${encodeURIComponent(tenant)}/agent-configuration`)
      .set('Authorization', `Bearer ${stack.keys.admin}`)
      .send({
        objects: [
          { object: 'Account', fields: ['Industry'] },
          { object: 'Contact', fields: ['Email'] },
          { object: 'Opportunity', fields: ['StageName', 'Amount'] },
        ],
      })
      .expect(200);
    await page.getByRole('heading', { name: 'The agent needs more access' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('#missing-fields').textContent()).toContain('Opportunity.StageName');
    expect(await page.locator('#picker-summary').textContent()).toContain('Opportunity (StageName, Amount)');
    await page.getByRole('button', { name: 'Update access' }).click();
    await page.locator('#granted-fields', { hasText: 'Opportunity: StageName, Amount' }).waitFor({ timeout: 60_000 });
    await page.locator('#status-badge', { hasText: 'Connected' }).waitFor();
  });

  it('asks before recreating, Esc changes nothing; confirmed, it recreates with its steps counted as listed', async () => {
    await pick(page, 'Opportunity', ['CloseDate']);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'The agent needs more access' }).waitFor();

    await page.getByRole('button', { name: 'Recreate connection' }).click();
    const dialog = page.getByRole('dialog', { name: 'Recreate the connection?' });
    await dialog.waitFor();
    const details = (await readConnection()).details!;
    const text = await dialog.textContent();
    expect(text).toContain(details.permissionSetName);
    expect(text).toContain(details.integrationUsername);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect((await readConnection()).status).toBe('needs_reconnect');

    await page.getByRole('button', { name: 'Recreate connection' }).click();
    await dialog.getByRole('button', { name: 'Recreate connection' }).click();
    const deadline = Date.now() + 60_000;
    let shot = false;
    while (Date.now() < deadline) {
      // One read of the rendered progress, so that a re-render cannot fall between the label and the list.
      const { label, items, visible } = await page.evaluate<{ label: string; items: number; visible: boolean }>(`({
        label: document.getElementById('progress-label').textContent,
        items: document.querySelectorAll('#progress-steps li').length,
        visible: !document.getElementById('progress').hidden,
      })`);
      const match = /^Step (\d+) of (\d+)/.exec(label);
      if (match && visible) {
        expect(Number(match[1])).toBeLessThanOrEqual(Number(match[2]));
        expect(items).toBeLessThanOrEqual(Number(match[1]));
        if (!shot) {
          shot = true;
          await screenshot('admin-en-04-recreating');
        }
      }
      if ((await readConnection()).status === 'enabled' && !(await readConnection()).currentOperation) break;
      await page.waitForTimeout(200);
    }
    await page.locator('#granted-fields', { hasText: 'Opportunity: StageName, Amount, CloseDate' }).waitFor({
      timeout: 60_000,
    });
  });

  it('keeps the key for a new tab until it is forgotten, and fits 375 px', async () => {
    const second = await context.newPage();
    await second.goto(`${origin}/admin/`);
    await second.locator('#status-badge', { hasText: 'Connected' }).waitFor();
    expect(await second.locator('#session').getAttribute('open')).toBeNull();

    await second.setViewportSize({ width: 375, height: 800 });
    await second.waitForTimeout(200);
    expect(await second.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    const heading = (await second.locator('#salesforce-title').boundingBox())!;
    const badge = (await second.locator('#status-badge').boundingBox())!;
    const apart =
      badge.x >= heading.x + heading.width + 4 ||
      badge.y >= heading.y + heading.height ||
      heading.x >= badge.x + badge.width + 4;
    expect(apart).toBe(true);
    await screenshot('admin-en-06-375px', second);

    await second.evaluate(`document.getElementById('session').open = true`);
    await second.getByRole('button', { name: 'Forget the key' }).click();
    await second.locator('#session-notice', { hasText: 'no longer stored' }).waitFor();
    await second.close();
    const third = await context.newPage();
    await third.goto(`${origin}/admin/`);
    await third.locator('#status-message', { hasText: 'Enter the tenant ID and an API key' }).waitFor();
    await third.close();
  });

  it('asks before turning access off: Esc keeps access and the switch on; confirmed, it removes everything', async () => {
    await page.reload();
    await page.locator('#status-badge', { hasText: /.+/ }).waitFor();
    // The key was forgotten above: give it again.
    await page.evaluate(`document.getElementById('session').open = true`);
    await page.getByLabel('API key').fill(stack.keys.admin);
    await page.getByRole('button', { name: 'Use these' }).click();
    await page.locator('#status-badge', { hasText: 'Connected' }).waitFor();

    const toggle = page.getByRole('switch', { name: 'Enable access' });
    await toggle.uncheck();
    await page.getByRole('button', { name: 'Save' }).click();
    const dialog = page.getByRole('dialog', { name: 'Turn off Salesforce access?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain((await readConnection()).details!.permissionSetName);
    await screenshot('admin-en-07-confirm-turn-off');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    // The dialog's close event, which puts the switch back, is a task of its own after the dialog hides.
    await page.waitForFunction(`document.getElementById('enable-access').checked`, null, { timeout: 5_000 });
    expect(await toggle.isChecked()).toBe(true);
    expect((await readConnection()).status).toBe('enabled');

    await toggle.uncheck();
    await page.getByRole('button', { name: 'Save' }).click();
    await dialog.getByRole('button', { name: 'Turn off access' }).click();
    await page.locator('#status-badge', { hasText: /^Off$/ }).waitFor({ timeout: 60_000 });
    expect(await page.locator('#details').isHidden()).toBe(true);
    expect(await page.locator('#off-note').textContent()).toMatch(/deactivated/i);
    expect(await leftovers(stack.emulator, 'page')).toEqual([]);
  });

  it('speaks French in a French browser, with the seed’s words, and switches language', async () => {
    const fr = await open('fr-FR');
    const tab = fr.page;
    await tab.locator('#status-badge', { hasText: 'Désactivée' }).waitFor();
    expect(await tab.getAttribute('html', 'lang')).toBe('fr');
    for (const words of ['Connecteurs', 'Connexions de l’agent', 'Activer l’accès', 'Enregistrer']) {
      expect(await tab.locator('body').textContent()).toContain(words);
    }
    await tab.locator('#object-list button[data-object="Account"]').waitFor();
    await pick(tab, 'Opportunity', ['Probability']);
    expect(await tab.locator('#picker-summary').textContent()).toMatch(/^L’agent lira : .*Probability/);
    await tab.getByRole('switch', { name: 'Activer l’accès' }).check();
    await tab.getByRole('button', { name: 'Enregistrer' }).click();
    await tab.locator('#progress-label', { hasText: /Étape \d+ sur 7/ }).waitFor({ timeout: 30_000 });
    await tab.locator('#progress-elapsed', { hasText: 'Salesforce met généralement de 2 à 10 minutes' }).waitFor();
    // Stopping asks first; Esc keeps the operation running.
    await tab.getByRole('button', { name: 'Annuler' }).click();
    const stop = tab.getByRole('dialog', { name: 'Arrêter cette opération ?' });
    await stop.waitFor();
    await tab.keyboard.press('Escape');
    await stop.waitFor({ state: 'hidden' });
    await screenshot('admin-fr-01-etablissement', tab);
    await tab.locator('#status-badge', { hasText: 'Connectée' }).waitFor({ timeout: 60_000 });
    await tab.getByRole('heading', { name: 'Détails de la connexion' }).waitFor();
    expect(await tab.locator('#details').textContent()).toContain('Clé du consommateur');
    expect(await tab.locator('#details a.setup-link').first().textContent()).toBe('Ouvrir dans la Configuration');
    expect(await tab.locator('#granted-fields').textContent()).toContain('Probability');
    await screenshot('admin-fr-02-connectee', tab);

    await tab.getByRole('switch', { name: 'Activer l’accès' }).uncheck();
    await tab.getByRole('button', { name: 'Enregistrer' }).click();
    const dialog = tab.getByRole('dialog', { name: 'Désactiver l’accès à Salesforce ?' });
    await dialog.waitFor();
    await screenshot('admin-fr-03-confirmation', tab);
    await tab.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await tab.waitForFunction(`document.getElementById('enable-access').checked`, null, { timeout: 5_000 });
    expect(await tab.getByRole('switch', { name: 'Activer l’accès' }).isChecked()).toBe(true);

    // Turned off, then on again while Salesforce has no license left: the failure reads in French, then English.
    await tab.getByRole('switch', { name: 'Activer l’accès' }).uncheck();
    await tab.getByRole('button', { name: 'Enregistrer' }).click();
    await dialog.getByRole('button', { name: 'Désactiver l’accès' }).click();
    await tab.locator('#status-badge', { hasText: 'Désactivée' }).waitFor({ timeout: 60_000 });
    await stack.emulator.control.addFault({
      org: 'page',
      match: { operation: 'rest.create', object: 'User' },
      action: { kind: 'error', status: 400, errorCode: 'LICENSE_LIMIT_EXCEEDED', message: 'No licenses left' },
      times: 1,
    });
    await tab.getByRole('switch', { name: 'Activer l’accès' }).check();
    await tab.getByRole('button', { name: 'Enregistrer' }).click();
    await tab.getByRole('heading', { name: 'La connexion a échoué' }).waitFor({ timeout: 60_000 });
    expect(await tab.locator('#error-message').textContent()).toBe(
      'Aucune licence utilisateur Salesforce Integration n’est libre dans cette organisation.',
    );
    expect(await tab.locator('#error-salesforce').textContent()).toMatch(/Message de Salesforce\s*No licenses left/);
    expect(await tab.locator('#error-step').textContent()).toBe(
      'Étape en échec : Création de l’utilisateur d’intégration',
    );
    await screenshot('admin-fr-04-erreur', tab);

    await tab.locator('#language').selectOption('en');
    await tab.getByRole('heading', { name: 'The connection failed' }).waitFor();
    expect(await tab.getAttribute('html', 'lang')).toBe('en');
    expect(await tab.locator('#error-message').textContent()).toBe(
      'No Salesforce Integration user license is free in this org.',
    );
    expect(await tab.locator('#error-fix').textContent()).toMatch(/free a Salesforce Integration license/);
    expect(await tab.locator('#error-salesforce').textContent()).toMatch(/Salesforce’s message\s*No licenses left/);
    expect(await tab.locator('#error-code').textContent()).toContain('LICENSE_LIMIT_EXCEEDED');
    expect(await tab.locator('#error-step').textContent()).toBe('Failed step: Creating the integration user');
    expect(await tab.locator('#error-when').textContent()).toMatch(/^When: /);
    await screenshot('admin-en-05-error', tab);
    await tab.locator('#language').selectOption('fr');
    await tab.getByRole('heading', { name: 'La connexion a échoué' }).waitFor();
    await fr.context.close();
    expect(notFound).toEqual([]);
  });
});
