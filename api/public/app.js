// The Connectors admin page. It talks only to the public API, with the API key the admin gives (kept in this tab's
// sessionStorage). Everything shown from the API goes through textContent: no markup from data.
'use strict';

const RUNNING = new Set(['enabling', 'disabling', 'reconnecting']);
const CONNECTED = new Set(['enabled', 'needs_reconnect', 'error', 'rollback_incomplete']);
const POLL_WHILE_RUNNING_MS = 1000;

const $ = (id) => document.getElementById(id);
const session = {
  get tenantId() {
    return sessionStorage.getItem('tenantId') || '';
  },
  get apiKey() {
    return sessionStorage.getItem('apiKey') || '';
  },
};
let connection;
let pollTimer;

/** `#tenant=…&key=…&loginUrl=…` (what `npm start` prints) fills the page once, then leaves the address bar. */
function adoptFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.size === 0) return;
  const keep = {
    tenant: 'tenantId',
    key: 'apiKey',
    loginUrl: 'loginUrl',
    instanceUrl: 'instanceUrl',
    adminToken: 'adminToken',
    adminCredentialsRef: 'adminCredentialsRef',
  };
  for (const [param, name] of Object.entries(keep)) {
    const value = params.get(param);
    if (value) sessionStorage.setItem(name, value);
  }
  history.replaceState(null, '', location.pathname + location.search);
}

function connectionUrl(suffix = '') {
  return `/v1/tenants/${encodeURIComponent(session.tenantId)}/connections/salesforce${suffix}`;
}

async function api(method, url, body, idempotencyKey) {
  const headers = { Authorization: `Bearer ${session.apiKey}`, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const fields = Array.isArray(data.errors)
      ? ` (${data.errors.map((e) => `${e.field}: ${e.message}`).join('; ')})`
      : '';
    const error = new Error(`${data.detail || data.title || `HTTP ${response.status}`}${fields}`);
    error.status = response.status;
    throw error;
  }
  return data;
}

function show(id, visible) {
  $(id).hidden = !visible;
}

function fillList(id, items) {
  const list = $(id);
  list.replaceChildren(
    ...items.map((text) => {
      const li = document.createElement('li');
      li.textContent = text;
      return li;
    }),
  );
}

function humanize(step) {
  const text = String(step).replace(/[_-]+/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const STATUS_LABELS = {
  disabled: 'Off',
  enabling: 'Establishing…',
  enabled: 'Connected',
  needs_reconnect: 'Needs reconnect',
  error: 'Error',
  disabling: 'Turning off…',
  reconnecting: 'Reconnecting…',
  rollback_incomplete: 'Needs cleanup',
};

function configurationText(configuration) {
  return (configuration?.objects ?? []).map((o) => `${o.object}: ${o.fields.join(', ')}`).join('\n');
}

/** Parses the textarea; the API validates the names themselves and says which one is wrong. */
function parseConfiguration(text) {
  const objects = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [object, fields = ''] = line.split(':');
      return {
        object: object.trim(),
        fields: fields
          .split(',')
          .map((f) => f.trim())
          .filter(Boolean),
      };
    });
  return { objects };
}

function renderProgress(operation) {
  const step = operation.currentStep;
  const done = operation.stepsDone.length;
  const total = step?.total ?? Math.max(done, 1);
  const titles = {
    enable: 'Establishing the connection',
    disable: 'Removing the connection',
    reconnect: 'Recreating the connection',
    update_access: 'Updating the agent’s access',
  };
  $('progress-title').textContent = titles[operation.kind] ?? 'Working';
  $('progress-bar').max = total;
  $('progress-bar').value = done;
  $('progress-label').textContent = step ? `Step ${step.index} of ${step.total}: ${step.title}` : 'Starting…';
  const items = operation.stepsDone.map((s) => ({ text: `${humanize(s)} — done`, state: 'done' }));
  if (step && !operation.stepsDone.includes(step.step))
    items.push({ text: `${step.title} — in progress`, state: 'current' });
  $('progress-steps').replaceChildren(
    ...items.map(({ text, state }) => {
      const li = document.createElement('li');
      li.textContent = text;
      li.dataset.state = state;
      return li;
    }),
  );
}

function renderDetails(details, granted) {
  const appKind = details.appKind === 'connected_app' ? 'Connected App' : 'External Client App';
  $('detail-app').textContent = `${details.appLabel} (${appKind}, ${details.appApiName})`;
  $('detail-user').textContent = details.integrationUsername;
  $('detail-permission-set').textContent = details.permissionSetName;
  $('detail-org').textContent = `${details.orgId} · ${details.instanceUrl}`;
  $('detail-certificate').textContent = new Date(details.certificateExpiresAt).toLocaleDateString();
  fillList(
    'granted-fields',
    granted.map((o) => `${o.object}: ${o.fields.join(', ')}`),
  );
}

function renderHealth(health) {
  $('detail-health').textContent = health
    ? `${new Date(health.checkedAt).toLocaleString()} · ${health.ok ? 'working' : 'failing'}`
    : 'Not run yet';
  fillList(
    'health-problems',
    (health?.problems ?? []).map((p) => `${p.drift ? 'Drift' : 'Problem'}: ${p.message} ${p.fix}`),
  );
}

function render(view) {
  connection = view;
  const running = RUNNING.has(view.status) || Boolean(view.currentOperation);
  $('salesforce-card').setAttribute('aria-busy', String(running));
  $('status-badge').textContent = STATUS_LABELS[view.status] ?? view.status;
  $('status-badge').dataset.status = view.status;
  $('status-message').textContent = view.statusMessage;

  const toggle = $('enable-access');
  if (!toggle.dataset.touched) toggle.checked = view.status !== 'disabled';
  toggle.disabled = running;
  $('save').disabled = running;
  $('agent-fields').disabled = running;
  if (!$('agent-fields').dataset.touched) $('agent-fields').value = configurationText(view.agentConfiguration);
  show('org-fields', view.status === 'disabled' && toggle.checked);

  show('progress', running && Boolean(view.currentOperation));
  if (view.currentOperation) renderProgress(view.currentOperation);

  const failed = (view.status === 'error' || view.status === 'rollback_incomplete') && !running;
  show('connection-error', failed);
  if (failed) {
    $('error-message').textContent = view.lastError?.message ?? view.statusMessage;
    $('error-fix').textContent = view.lastError?.fix ?? 'Select Reconnect.';
    $('error-code').textContent = view.lastError?.salesforceCode
      ? `Salesforce error: ${view.lastError.salesforceCode}`
      : '';
  }

  show('needs-reconnect', view.needsReconnect && !running);
  if (view.needsReconnect) {
    $('needs-reconnect-reason').textContent = view.needsReconnectReason ?? '';
    fillList('missing-fields', view.missingFields);
  }

  show('details', Boolean(view.details) && !running);
  if (view.details) {
    renderDetails(view.details, view.grantedObjects);
    renderHealth(view.health);
  }
}

function reportError(id, error) {
  const box = $(id);
  box.textContent = error ? error.message : '';
  box.hidden = !error;
}

async function refresh() {
  clearTimeout(pollTimer);
  if (!session.tenantId || !session.apiKey) {
    $('session').open = true;
    $('status-message').textContent = 'Enter the tenant ID and an API key to see the connection.';
    return;
  }
  try {
    render(await api('GET', connectionUrl()));
    reportError('load-error');
  } catch (error) {
    reportError('load-error', error);
    if (error.status === 401 || error.status === 404) $('session').open = true;
  }
  const dynamics = await api(
    'GET',
    `/v1/tenants/${encodeURIComponent(session.tenantId)}/connections/dynamics365`,
  ).catch(() => undefined);
  if (dynamics) $('dynamics-message').textContent = dynamics.statusMessage;
  if (connection && (RUNNING.has(connection.status) || connection.currentOperation)) {
    pollTimer = setTimeout(refresh, POLL_WHILE_RUNNING_MS);
  }
}

function removals() {
  const details = connection?.details;
  if (!details) return ['Everything the connection created in Salesforce.'];
  return [
    `The app ${details.appLabel} (${details.appApiName}) and its certificate`,
    `The permission set ${details.permissionSetName}`,
    `The integration user ${details.integrationUsername} (deactivated)`,
  ];
}

function confirmDisable() {
  fillList('confirm-removals', removals());
  const dialog = $('confirm-disable');
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true });
    dialog.showModal();
  });
}

async function runOperation(kind, body) {
  await api('POST', connectionUrl(`/${kind}`), body, crypto.randomUUID());
  delete $('enable-access').dataset.touched;
  await refresh();
}

async function save(event) {
  event.preventDefault();
  reportError('form-error');
  const button = $('save');
  button.disabled = true;
  try {
    const wanted = $('enable-access').checked;
    const configuration = parseConfiguration($('agent-fields').value);
    const configurationChanged = configurationText(configuration) !== configurationText(connection?.agentConfiguration);
    if (configurationChanged && configuration.objects.length > 0) {
      await api('PUT', `/v1/tenants/${encodeURIComponent(session.tenantId)}/agent-configuration`, configuration);
      delete $('agent-fields').dataset.touched;
    }
    if (wanted && connection?.status === 'disabled') {
      // Without the token field (Sign in with Salesforce, sign-in.js), a token given in the fragment still works.
      const token = ($('admin-token')?.value ?? sessionStorage.getItem('adminToken') ?? '').trim();
      const loginUrl = $('login-url').value.trim();
      const instanceUrl = $('instance-url').value.trim();
      // A token typed here wins; otherwise credentials already in the service's secret store (npm start's demo org).
      const storedRef = sessionStorage.getItem('adminCredentialsRef');
      await runOperation('enable', {
        ...(loginUrl ? { loginUrl } : {}),
        ...(instanceUrl ? { instanceUrl } : {}),
        adminCredentials: token || !storedRef ? { accessToken: token } : { secretRef: storedRef },
      });
    } else if (!wanted && connection && CONNECTED.has(connection.status)) {
      if (await confirmDisable()) {
        await runOperation('disable');
      } else {
        $('enable-access').checked = true;
        delete $('enable-access').dataset.touched;
      }
    } else {
      await refresh();
    }
  } catch (error) {
    reportError('form-error', error);
    await refresh();
  } finally {
    button.disabled = Boolean(connection && RUNNING.has(connection.status));
  }
}

async function reconnect() {
  reportError('form-error');
  try {
    // With the admin who signed in with Salesforce, when there is one (sign-in.js).
    await runOperation('reconnect', globalThis.agentConnectionsSignIn?.signedInCredentials());
  } catch (error) {
    reportError('form-error', error);
  }
}

async function updateAccess() {
  reportError('form-error');
  try {
    await runOperation('update-access', {});
  } catch (error) {
    reportError('form-error', error);
  }
}

async function rotateCertificate() {
  reportError('form-error');
  try {
    await runOperation('rotate-certificate', {});
  } catch (error) {
    reportError('form-error', error);
  }
}

async function cancelOperation() {
  const operation = connection?.currentOperation;
  if (!operation) return;
  try {
    await api('POST', `${connectionUrl(`/operations/${operation.id}`)}/cancel`);
    await refresh();
  } catch (error) {
    reportError('form-error', error);
  }
}

function init() {
  adoptFragment();
  $('tenant-id').value = session.tenantId;
  $('api-key').value = session.apiKey;
  $('login-url').value = sessionStorage.getItem('loginUrl') || '';
  $('instance-url').value = sessionStorage.getItem('instanceUrl') || '';
  if ($('admin-token')) $('admin-token').value = sessionStorage.getItem('adminToken') || '';
  $('session-form').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem('tenantId', $('tenant-id').value.trim());
    sessionStorage.setItem('apiKey', $('api-key').value.trim());
    $('session').open = false;
    void refresh();
  });
  $('enable-access').addEventListener('change', () => {
    $('enable-access').dataset.touched = 'true';
    show('org-fields', connection?.status === 'disabled' && $('enable-access').checked);
  });
  $('agent-fields').addEventListener('input', () => {
    $('agent-fields').dataset.touched = 'true';
  });
  $('connection-form').addEventListener('submit', save);
  $('reconnect').addEventListener('click', reconnect);
  $('recreate').addEventListener('click', reconnect);
  $('update-access').addEventListener('click', updateAccess);
  $('cancel-operation').addEventListener('click', cancelOperation);
  $('rotate-certificate').addEventListener('click', rotateCertificate);
  void refresh();
}

document.addEventListener('DOMContentLoaded', init);
