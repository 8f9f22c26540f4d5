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

const MESSAGES = {
  access_denied: 'Access was denied in Salesforce. Sign in again and choose Allow to continue.',
  invalid_grant: 'Salesforce refused the sign-in (it expired or was already used). Sign in again.',
  redirect_uri_mismatch: 'The service’s callback URL is not registered on its Salesforce app. Contact support.',
  identity_unavailable: 'Salesforce did not say who signed in. Sign in again.',
  salesforce_unreachable: 'Salesforce could not be reached. Try again in a moment.',
};

function tenantOf() {
  return sessionStorage.getItem('tenantId') || '';
}

function signInUrl(tenantId) {
  return `/v1/tenants/${encodeURIComponent(tenantId)}/connections/salesforce/sign-in`;
}

async function call(method, url, body) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem('apiKey') || ''}`, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.detail || data.title || `HTTP ${response.status}`);
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
  if (!status?.signedIn) return 'Not signed in to Salesforce. Sign in as an admin of the org to connect.';
  const when = status.signedInAt ? new Date(status.signedInAt).toLocaleString() : '';
  return `Signed in as ${status.username} to org ${status.orgId} (${status.instanceUrl})${when ? `, ${when}` : ''}.`;
}

/** Renders the status into the page's sign-in elements; buttons read "Sign in with another admin" once signed in. */
export function renderSignIn(status, root = document) {
  for (const element of root.querySelectorAll('[data-sign-in-status]')) element.textContent = describeSignIn(status);
  for (const button of root.querySelectorAll('[data-sign-in-button]')) {
    if (!button.dataset.signInLabel) button.dataset.signInLabel = button.textContent;
    button.textContent = status?.signedIn ? 'Sign in with another admin' : button.dataset.signInLabel;
  }
}

/** The message for a sign-in error code the callback sent back. */
export function signInErrorMessage(code) {
  return MESSAGES[code] || `The sign-in did not complete (${code}). Sign in again.`;
}

/**
 * Back from Salesforce: `/admin/?tenant=…&signIn=ok` or `&signInError=<code>`. Takes the tenant, leaves the address
 * bar clean, and answers the error code, if any.
 */
export function adoptSignInReturn() {
  const params = new URLSearchParams(location.search);
  if (!params.has('signIn') && !params.has('signInError')) return undefined;
  const tenant = params.get('tenant');
  if (tenant) sessionStorage.setItem('tenantId', tenant);
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

function showError(message) {
  for (const element of document.querySelectorAll('[data-sign-in-error]')) {
    element.textContent = message || '';
    element.hidden = !message;
  }
}

/** Wires the page's sign-in elements: the buttons start a sign-in, the status shows who is signed in. */
export function mountSignIn({ loginUrl = () => sessionStorage.getItem('loginUrl') || DEFAULT_LOGIN_URL } = {}) {
  const back = adoptSignInReturn();
  if (back?.error) showError(signInErrorMessage(back.error));
  for (const button of document.querySelectorAll('[data-sign-in-button]')) {
    button.addEventListener('click', async () => {
      showError('');
      button.disabled = true;
      try {
        await startSignIn(loginUrl());
      } catch (error) {
        showError(error.message);
        button.disabled = false;
      }
    });
  }
  const show = async () => {
    if (!tenantOf() || !sessionStorage.getItem('apiKey')) return;
    try {
      const status = await readSignIn();
      renderSignIn(status);
      if (status.signedIn) fillOrgFields(status);
    } catch (error) {
      showError(error.message);
    }
  };
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
