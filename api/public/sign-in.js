// Sign in with Salesforce on the admin page: start the sign-in (the browser goes to Salesforce's page in this tab),
// come back from it, and show who is signed in. The page never sees a token: the API keeps them and answers a
// reference (adminCredentials.secretRef) that enable, reconnect and disable accept.
//
// Used by the page through the exported functions; the elements it wires, when present:
//   [data-sign-in-status]  "Signed in as … to org …" (or "Not signed in")
//   [data-sign-in-button]  starts the sign-in ("Sign in with Salesforce", "Sign in with another admin")
//   [data-sign-in-error]   why the last sign-in did not work
// Everything from the API goes through textContent.

const DEFAULT_LOGIN_URL = 'https://login.salesforce.com';

/**
 * Every string comes from the page's message catalogues (locales/*.json, key `signIn.*`) through i18next, which app.js
 * sets up; until it has, and for a key it lacks, the English below.
 */
const ENGLISH = {
  'signIn.notSignedIn': 'Not signed in to Salesforce. Sign in as an admin of the org to connect.',
  'signIn.signedIn': 'Signed in as {{username}} to org {{orgId}} ({{instanceUrl}}).',
  'signIn.signedInAt': 'Signed in as {{username}} to org {{orgId}} ({{instanceUrl}}), {{when}}.',
  'signIn.signIn': 'Sign in with Salesforce',
  'signIn.another': 'Sign in with another admin',
  'signIn.errors.other': 'The sign-in did not complete ({{code}}). Sign in again.',
};

function translate(key, options = {}) {
  const i18next = globalThis.i18next;
  if (i18next?.isInitialized && i18next.exists(key)) return i18next.t(key, options);
  const text = ENGLISH[key] ?? ENGLISH['signIn.errors.other'];
  return text.replace(/\{\{(\w+)\}\}/g, (_, name) => String(options[name] ?? ''));
}

function language() {
  return globalThis.i18next?.isInitialized ? globalThis.i18next.language : 'en';
}

/** What was last shown, so that a change of language shows it again in the new one. */
const shown = { status: undefined, error: undefined };

/** The tenant and API key the page uses (app.js keeps them in localStorage); this tab's own, from older pages. */
function tenantOf() {
  return localStorage.getItem('agentConnections.tenantId') || sessionStorage.getItem('tenantId') || '';
}

function apiKeyOf() {
  return localStorage.getItem('agentConnections.apiKey') || sessionStorage.getItem('apiKey') || '';
}

function signInUrl(tenantId) {
  return `/v1/tenants/${encodeURIComponent(tenantId)}/connections/salesforce/sign-in`;
}

async function call(method, url, body) {
  const headers = { Authorization: `Bearer ${apiKeyOf()}`, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.detail || data.title || `HTTP ${response.status}`);
    error.code =
      data.code ??
      String(data.type ?? '')
        .split('/')
        .pop();
    error.detail = data.detail || data.title || '';
    throw error;
  }
  return data;
}

/** Starts the sign-in: the API answers Salesforce's page, which opens in this tab. */
export async function startSignIn(loginUrl = DEFAULT_LOGIN_URL, tenantId = tenantOf()) {
  const { authorizeUrl } = await call('POST', signInUrl(tenantId), { loginUrl });
  location.assign(authorizeUrl);
}

/** Who is signed in for the tenant (`{ signedIn: false }` when nobody is); remembers the reference for the page. */
export async function readSignIn(tenantId = tenantOf()) {
  const status = await call('GET', signInUrl(tenantId));
  if (status.signedIn) {
    sessionStorage.setItem('adminCredentialsRef', status.adminCredentials.secretRef);
    sessionStorage.setItem('loginUrl', status.loginUrl);
    sessionStorage.setItem('instanceUrl', status.instanceUrl);
    sessionStorage.setItem('signInTenant', tenantId);
  } else if (sessionStorage.getItem('signInTenant')) {
    // A reference from another tenant's sign-in (this tab served it before) is not this tenant's.
    sessionStorage.removeItem('adminCredentialsRef');
    sessionStorage.removeItem('signInTenant');
  }
  return status;
}

/** The org and credentials of the sign-in, as enable and reconnect take them; undefined when nobody signed in. */
export function signedInCredentials() {
  const secretRef = sessionStorage.getItem('adminCredentialsRef');
  const loginUrl = sessionStorage.getItem('loginUrl');
  if (!secretRef || !loginUrl || sessionStorage.getItem('signInTenant') !== tenantOf()) return undefined;
  const instanceUrl = sessionStorage.getItem('instanceUrl');
  return { loginUrl, ...(instanceUrl ? { instanceUrl } : {}), adminCredentials: { secretRef } };
}

/** "Signed in as … to org …", or how to sign in. */
export function describeSignIn(status) {
  if (!status?.signedIn) return translate('signIn.notSignedIn');
  const values = { username: status.username, orgId: status.orgId, instanceUrl: status.instanceUrl };
  if (!status.signedInAt) return translate('signIn.signedIn', values);
  const when = new Intl.DateTimeFormat(language(), { dateStyle: 'medium', timeStyle: 'short' }).format(
    new Date(status.signedInAt),
  );
  return translate('signIn.signedInAt', { ...values, when });
}

/** Renders the status into the page's sign-in elements; buttons read "Sign in with another admin" once signed in. */
export function renderSignIn(status, root = document) {
  shown.status = status;
  for (const element of root.querySelectorAll('[data-sign-in-status]')) element.textContent = describeSignIn(status);
  for (const button of root.querySelectorAll('[data-sign-in-button]')) {
    // A button's own label (data-sign-in-button="another") stays; the others read "another admin" once signed in.
    const label = button.dataset.signInButton === 'another' || status?.signedIn ? 'signIn.another' : 'signIn.signIn';
    button.textContent = translate(label);
  }
}

/** The message for a sign-in error code the callback sent back. */
export function signInErrorMessage(code) {
  return translate(`signIn.errors.${code}`, { code });
}

/** An error from the API in the page's language, by its problem code when the catalogues know it. */
function apiErrorMessage(error) {
  const key = `problems.${error.code}`;
  if (error.code && globalThis.i18next?.isInitialized && globalThis.i18next.exists(key)) {
    return globalThis.i18next.t(key, { detail: error.detail });
  }
  return error.message;
}

/**
 * Back from Salesforce: `/admin/?tenant=…&signIn=ok` or `&signInError=<code>`. Takes the tenant, leaves the address
 * bar clean, and answers the error code, if any.
 */
export function adoptSignInReturn() {
  const params = new URLSearchParams(location.search);
  if (!params.has('signIn') && !params.has('signInError')) return undefined;
  const tenant = params.get('tenant');
  if (tenant) {
    sessionStorage.setItem('tenantId', tenant);
    localStorage.setItem('agentConnections.tenantId', tenant);
  }
  history.replaceState(null, '', location.pathname + location.hash);
  return { error: params.get('signInError') || undefined };
}

/** The page's org fields, when it has them, follow the sign-in. */
function fillOrgFields(status) {
  const login = document.getElementById('login-url');
  const instance = document.getElementById('instance-url');
  if (login) login.value = status.loginUrl;
  if (instance) instance.value = status.instanceUrl;
}

/** Shows why the sign-in did not work: `{ code }` (the callback's) or `{ error }` (the API's); undefined clears. */
function showError(what) {
  shown.error = what;
  const message = !what ? '' : what.code ? signInErrorMessage(what.code) : apiErrorMessage(what.error);
  for (const element of document.querySelectorAll('[data-sign-in-error]')) {
    element.textContent = message || '';
    element.hidden = !message;
  }
}

/** Wires the page's sign-in elements: the buttons start a sign-in, the status shows who is signed in. */
export function mountSignIn({ loginUrl = () => sessionStorage.getItem('loginUrl') || DEFAULT_LOGIN_URL } = {}) {
  const back = adoptSignInReturn();
  if (back?.error) showError({ code: back.error });
  for (const button of document.querySelectorAll('[data-sign-in-button]')) {
    button.addEventListener('click', async () => {
      showError(undefined);
      button.disabled = true;
      try {
        await startSignIn(loginUrl());
      } catch (error) {
        showError({ error });
        button.disabled = false;
      }
    });
  }
  const show = async () => {
    if (!tenantOf() || !apiKeyOf()) return;
    try {
      const status = await readSignIn();
      renderSignIn(status);
      if (status.signedIn) fillOrgFields(status);
    } catch (error) {
      showError({ error });
    }
  };
  // The page's language is set (and changed) by app.js: show the same things again in it.
  document.addEventListener('agent-connections:language', () => {
    renderSignIn(shown.status);
    if (shown.error) showError(shown.error);
  });
  // After the page's own start-up (app.js adopts the tenant of the address's fragment on DOMContentLoaded, which
  // fires after this module ran; `load` comes after it).
  if (document.readyState === 'complete') void show();
  else window.addEventListener('load', () => void show(), { once: true });
  return { refresh: show };
}

// The classic app.js reaches the sign-in through this (reconnect with the signed-in admin).
globalThis.agentConnectionsSignIn = { signedInCredentials, readSignIn, renderSignIn };

if (document.querySelector('[data-sign-in-button]')) {
  const loginUrlInput = document.getElementById('login-url');
  // Back from Salesforce: the enable form stays open (app.js shows it for a touched, checked switch).
  const toggle = document.getElementById('enable-access');
  if (toggle && new URLSearchParams(location.search).has('tenant')) {
    toggle.checked = true;
    toggle.dataset.touched = 'true';
  }
  mountSignIn({
    loginUrl: () => loginUrlInput?.value.trim() || sessionStorage.getItem('loginUrl') || DEFAULT_LOGIN_URL,
  });
}
