// The Connectors admin page. It talks only to the public API, with the API key the admin gives. Everything shown goes
// through textContent: no markup from data. Every string comes from the message catalogues (locales/*.json) through
// i18next, served by the API itself (the page's Content-Security-Policy is 'self' only).
'use strict';

const RUNNING = new Set(['enabling', 'disabling', 'reconnecting']);
const CONNECTED = new Set(['enabled', 'needs_reconnect', 'error', 'rollback_incomplete']);
/** Conditional polling: the API answers 304 (ETag) while nothing changed, so an idle page costs one small request. */
const POLL_WHILE_RUNNING_MS = 1000;
const POLL_IDLE_MS = 3000;
const LANGUAGES = ['en', 'fr'];
/** Objects shown at once in the picker; the search finds the others. */
const OBJECTS_SHOWN = 60;

const $ = (id) => document.getElementById(id);
const t = (key, options) => window.i18next.t(key, options);

/**
 * The API key and tenant are kept in localStorage, so that a new tab does not ask again, until "Forget the key": the
 * page runs no third-party script (CSP 'self'), and a cookie session would need server-side sessions and CSRF
 * protection for a key the API already takes as a bearer token. Admin tokens stay in this tab only (sessionStorage).
 */
const session = {
  get tenantId() {
    return localStorage.getItem('agentConnections.tenantId') || '';
  },
  get apiKey() {
    return localStorage.getItem('agentConnections.apiKey') || '';
  },
  set(tenantId, apiKey) {
    localStorage.setItem('agentConnections.tenantId', tenantId);
    localStorage.setItem('agentConnections.apiKey', apiKey);
  },
  forget() {
    localStorage.removeItem('agentConnections.apiKey');
  },
};

let connection;
let pollTimer;
let formError;
let loadError;
const picker = {
  /** `loading`, `ready`, `unavailable`, or undefined before the first load. */
  state: undefined,
  /** Which credentials the objects were read with: reread when they change. */
  source: undefined,
  objects: [],
  fields: new Map(),
  /** object name → Set of field names: what Save sends. */
  selection: new Map(),
  active: undefined,
  touched: false,
};

/** `#tenant=…&key=…&loginUrl=…` (what `npm start` prints) fills the page once, then leaves the address bar. */
function adoptFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.size === 0) return;
  if (params.get('tenant') && params.get('key')) session.set(params.get('tenant'), params.get('key'));
  for (const name of ['loginUrl', 'instanceUrl', 'adminToken', 'adminCredentialsRef']) {
    const value = params.get(name);
    if (value) sessionStorage.setItem(name, value);
  }
  history.replaceState(null, '', location.pathname + location.search);
}

function tenantUrl(suffix) {
  return `/v1/tenants/${encodeURIComponent(session.tenantId)}${suffix}`;
}

function connectionUrl(suffix = '') {
  return tenantUrl(`/connections/salesforce${suffix}`);
}

class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function api(method, url, body, idempotencyKey) {
  const headers = { Authorization: `Bearer ${session.apiKey}`, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      // Revalidate every read: the browser sends If-None-Match and the API answers 304 while nothing changed.
      cache: 'no-cache',
    });
  } catch {
    const error = new ApiError(0);
    error.network = true;
    throw error;
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** A problem from the API in the page's language, by its stable code; the API's own words as the detail. */
function problemText(error) {
  if (!error) return '';
  if (error.network) return t('problems.network');
  if (error.localKey) return t(error.localKey);
  const problem = error.problem ?? {};
  const code =
    problem.code ??
    String(problem.type ?? '')
      .split('/')
      .pop();
  const fields = Array.isArray(problem.errors) ? problem.errors.map((e) => `${e.field}: ${e.message}`).join('; ') : '';
  const detail = problem.detail || fields || problem.title || '';
  if (code && window.i18next.exists(`problems.${code}`)) return t(`problems.${code}`, { detail });
  return t('problems.other', { status: error.status, detail });
}

function show(id, visible) {
  $(id).hidden = !visible;
}

function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

function fillList(id, items) {
  $(id).replaceChildren(...items.map((text) => element('li', text)));
}

function formatDate(iso, withTime = true) {
  const options = withTime ? { dateStyle: 'medium', timeStyle: 'short' } : { dateStyle: 'medium' };
  return new Intl.DateTimeFormat(window.i18next.language, options).format(new Date(iso));
}

function formatElapsed(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  if (total < 60) return t('time.seconds', { count: total });
  return t('time.minutes', { minutes: Math.floor(total / 60), seconds: total % 60 });
}

function stepTitle(step) {
  return window.i18next.exists(`steps.${step}`) ? t(`steps.${step}`) : String(step).replace(/[_-]+/g, ' ');
}

// ——— Language ———

function chooseLanguage() {
  const saved = localStorage.getItem('agentConnections.language');
  if (LANGUAGES.includes(saved)) return saved;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return 'en';
}

async function loadCatalogue(language) {
  if (window.i18next.hasResourceBundle(language, 'translation')) return;
  const response = await fetch(`locales/${language}.json`);
  window.i18next.addResourceBundle(language, 'translation', await response.json());
}

function translateStatic() {
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-aria-label]')) {
    node.setAttribute('aria-label', t(node.dataset.i18nAriaLabel));
  }
  $('health-problems').setAttribute('aria-label', t('details.findings'));
  document.title = t('page.title');
}

async function setLanguage(language) {
  await loadCatalogue(language);
  if (language !== 'en') await loadCatalogue('en');
  await window.i18next.changeLanguage(language);
  document.documentElement.lang = language;
  $('language').value = language;
  translateStatic();
  if (connection) render(connection);
  else if (!session.apiKey) $('status-message').textContent = t('session.needed');
  renderPicker();
  reportError('form-error', formError);
  reportError('load-error', loadError);
  // The sign-in module (sign-in.js) shows its own lines again in the new language.
  document.dispatchEvent(new CustomEvent('agent-connections:language', { detail: { language } }));
}

// ——— The object and field picker ———

function configurationOf(selection) {
  const objects = [...selection.entries()]
    .filter(([, fields]) => fields.size > 0)
    .map(([object, fields]) => ({ object, fields: [...fields] }));
  return { objects };
}

function configurationText(configuration) {
  return (configuration?.objects ?? []).map((o) => `${o.object}: ${o.fields.join(', ')}`).join('\n');
}

function selectionFrom(configuration) {
  return new Map((configuration?.objects ?? []).map((o) => [o.object, new Set(o.fields)]));
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

/** The credentials the picker reads the org with: the connection's, or a stored sign-in before any connection. */
function catalogueQuery() {
  if (connection && connection.status !== 'disabled') return '';
  const secretRef = sessionStorage.getItem('adminCredentialsRef');
  const loginUrl = $('login-url').value.trim() || sessionStorage.getItem('loginUrl') || '';
  const instanceUrl = $('instance-url').value.trim() || sessionStorage.getItem('instanceUrl') || '';
  if (!secretRef || !(loginUrl || instanceUrl)) return undefined;
  const query = new URLSearchParams({ secretRef });
  if (loginUrl) query.set('loginUrl', loginUrl);
  if (instanceUrl) query.set('instanceUrl', instanceUrl);
  return `?${query.toString()}`;
}

async function loadObjects() {
  const query = catalogueQuery();
  // Read again when the credentials or the connection's status change (an enable gives the connection its own).
  const source = query === undefined ? 'none' : `${session.tenantId}${query}|${connection?.status}`;
  if (source === picker.source && picker.state !== undefined) return;
  picker.source = source;
  if (query === undefined) {
    picker.state = 'unavailable';
    renderPicker();
    return;
  }
  // A reread (the connection's status changed) keeps the list it has on screen until the new one arrives.
  if (picker.state !== 'ready') {
    picker.state = 'loading';
    renderPicker();
  }
  try {
    const data = await api('GET', connectionUrl(`/objects${query}`));
    if (picker.source !== source) return;
    picker.objects = data.objects;
    picker.fields.clear();
    picker.state = 'ready';
    if (picker.active) void loadFields(picker.active);
  } catch {
    if (picker.source !== source) return;
    // The same org read a moment ago stays listed; the fields are reread when opened.
    if (picker.state !== 'ready') picker.state = 'unavailable';
  }
  renderPicker();
}

async function loadFields(name) {
  if (picker.fields.has(name)) return;
  try {
    const data = await api('GET', connectionUrl(`/objects/${encodeURIComponent(name)}/fields${catalogueQuery()}`));
    picker.fields.set(name, data.fields);
  } catch (error) {
    picker.fields.set(name, { error });
  }
  renderPicker();
}

async function chooseObject(name) {
  picker.active = name;
  $('field-search').value = '';
  renderPicker();
  await loadFields(name);
}

function selectedCount(name) {
  return picker.selection.get(name)?.size ?? 0;
}

function renderObjectList() {
  const search = $('object-search').value.trim().toLowerCase();
  const known = new Set(picker.objects.map((o) => o.name));
  // Objects of the configuration the org does not list stay visible, so that they can be unselected.
  const all = [
    ...picker.objects,
    ...[...picker.selection.keys()].filter((n) => !known.has(n)).map((n) => ({ name: n, label: n })),
  ];
  const matching = all
    .filter((o) => !search || o.label.toLowerCase().includes(search) || o.name.toLowerCase().includes(search))
    .sort((a, b) => Number(selectedCount(b.name) > 0) - Number(selectedCount(a.name) > 0));
  const shown = matching.slice(0, OBJECTS_SHOWN);
  $('object-list').replaceChildren(
    ...shown.map((o) => {
      const button = element('button', undefined, {
        type: 'button',
        'aria-pressed': String(picker.active === o.name),
        'data-object': o.name,
      });
      const name = element('span', o.label === o.name ? o.name : `${o.label} (${o.name})`);
      button.append(name);
      const count = selectedCount(o.name);
      if (count > 0) button.append(element('span', t('picker.selectedCount', { count }), { class: 'count' }));
      button.addEventListener('click', () => void chooseObject(o.name));
      const li = element('li');
      li.append(button);
      return li;
    }),
  );
  $('object-more').textContent =
    matching.length === 0
      ? t('picker.noMatch')
      : matching.length > shown.length
        ? t('picker.more', { count: matching.length - shown.length })
        : '';
}

function renderFieldList() {
  const name = picker.active;
  const fields = name ? picker.fields.get(name) : undefined;
  show('field-tools', Boolean(name && Array.isArray(fields)));
  if (!name) {
    $('field-pane-title').textContent = t('picker.chooseObject');
    $('field-list').replaceChildren();
    return;
  }
  const label = picker.objects.find((o) => o.name === name)?.label ?? name;
  $('field-pane-title').textContent = t('picker.fieldsOf', { object: label });
  if (!fields) {
    $('field-list').replaceChildren(element('li', t('picker.loadingFields')));
    return;
  }
  if (!Array.isArray(fields)) {
    $('field-list').replaceChildren(element('li', problemText(fields.error)));
    return;
  }
  const search = $('field-search').value.trim().toLowerCase();
  const selected = picker.selection.get(name) ?? new Set();
  $('field-list').replaceChildren(
    ...fields
      .filter((f) => !search || f.label.toLowerCase().includes(search) || f.name.toLowerCase().includes(search))
      .map((f) => {
        const id = `field-${name}-${f.name}`;
        const box = element('input', undefined, { type: 'checkbox', id, 'data-field': f.name });
        box.checked = selected.has(f.name);
        box.addEventListener('change', () => toggleField(name, f.name, box.checked));
        const text = element('label', f.label, { for: id });
        const apiName = element('span', ` ${f.name}${f.custom ? ` · ${t('picker.custom')}` : ''}`, {
          class: 'api-name',
        });
        text.append(apiName);
        const li = element('li');
        li.append(box, text);
        return li;
      }),
  );
}

function toggleField(object, field, on) {
  const fields = picker.selection.get(object) ?? new Set();
  if (on) fields.add(field);
  else fields.delete(field);
  if (fields.size > 0) picker.selection.set(object, fields);
  else picker.selection.delete(object);
  picker.touched = true;
  $('agent-fields').value = configurationText(configurationOf(picker.selection));
  renderObjectList();
  renderSummary();
}

function renderSummary() {
  const { objects } = configurationOf(picker.selection);
  $('picker-summary').textContent =
    objects.length === 0
      ? t('picker.summaryNone')
      : t('picker.summary', { list: objects.map((o) => `${o.object} (${o.fields.join(', ')})`).join('; ') });
}

function renderPicker() {
  const state = picker.state;
  $('picker-status').textContent =
    state === 'loading' ? t('picker.loading') : state === 'unavailable' ? t('picker.unavailable') : '';
  show('picker-panes', state === 'ready');
  if (state === 'unavailable') $('advanced').open = true;
  if (state === 'ready') {
    renderObjectList();
    renderFieldList();
  }
  renderSummary();
}

/** The configuration the API holds, unless the admin is editing: what a change made elsewhere shows here. */
function adoptConfiguration(configuration) {
  if (picker.touched) return;
  const text = configurationText(configuration);
  if (text === configurationText(configurationOf(picker.selection)) && $('agent-fields').value === text) return;
  picker.selection = selectionFrom(configuration);
  $('agent-fields').value = text;
  if (picker.state === 'ready') {
    renderObjectList();
    renderFieldList();
  }
  renderSummary();
}

// ——— The connection ———

function statusMessage(view) {
  if (view.status === 'enabled') {
    const granted = view.grantedObjects ?? [];
    const count = granted.reduce((sum, o) => sum + o.fields.length, 0);
    return t('statusMessage.enabled', { count, objects: granted.map((o) => o.object).join(', ') });
  }
  return t(`statusMessage.${view.status}`);
}

let elapsedFrom;

function renderElapsed() {
  const node = $('progress-elapsed');
  node.hidden = !elapsedFrom;
  if (elapsedFrom) node.textContent = t('progress.elapsed', { elapsed: formatElapsed(Date.now() - elapsedFrom) });
}

function renderProgress(operation) {
  const step = operation.currentStep;
  const total = operation.progress?.total ?? step?.total ?? Math.max(operation.stepsDone.length, 1);
  const done = Math.min(operation.progress?.done ?? operation.stepsDone.length, total);
  const title = `progress.${operation.kind}`;
  $('progress-title').textContent = window.i18next.exists(title) ? t(title) : t('progress.working');
  $('progress-bar').max = total;
  $('progress-bar').value = done;
  $('progress-label').textContent = step
    ? t('progress.step', { index: step.index, total: step.total, title: stepTitle(step.step) })
    : t('progress.starting');
  // Every step before the current one is behind (a step with nothing to do is passed over): as many items as the
  // step's number says.
  const behind = step && operation.steps ? operation.steps.slice(0, step.index - 1) : operation.stepsDone;
  const items = behind.map((s) => ({ text: `${stepTitle(s)} — ${t('progress.done')}`, state: 'done' }));
  if (step) items.push({ text: `${stepTitle(step.step)} — ${t('progress.inProgress')}`, state: 'current' });
  $('progress-steps').replaceChildren(
    ...items.map(({ text, state }) => {
      const li = element('li', text);
      li.dataset.state = state;
      if (state === 'current') li.setAttribute('aria-current', 'step');
      return li;
    }),
  );
  elapsedFrom = step?.step === 'readiness' ? Date.parse(step.startedAt) : undefined;
  renderElapsed();
}

function setupLink(href) {
  const link = element('a', t('details.openInSetup'), { href, target: '_blank', rel: 'noopener noreferrer' });
  link.classList.add('setup-link');
  return link;
}

function detailRow(id, main, secondary, href) {
  const node = $(id);
  node.replaceChildren(element('span', main));
  if (secondary) node.append(element('span', ` · ${secondary}`, { class: 'api-name' }));
  if (href) node.append(' ', setupLink(href));
}

function renderDetails(details, granted) {
  const appKind = details.appKind === 'connected_app' ? t('details.connectedApp') : t('details.externalClientApp');
  const links = details.setupLinks ?? {};
  detailRow(
    'detail-app',
    `${details.appLabel} (${appKind})`,
    `${t('details.apiName')} ${details.appApiName}`,
    links.app,
  );
  $('detail-consumer-key').textContent = details.consumerKey ?? '';
  detailRow(
    'detail-user',
    details.integrationUserName ?? details.integrationUsername,
    details.integrationUsername,
    links.integrationUser,
  );
  detailRow(
    'detail-permission-set',
    details.permissionSetLabel ?? details.permissionSetName,
    `${t('details.apiName')} ${details.permissionSetName}`,
    links.permissionSet,
  );
  $('detail-org').textContent = `${details.orgId} · ${details.instanceUrl}`;
  detailRow('detail-certificate', formatDate(details.certificateExpiresAt, false), undefined, links.certificate);
  fillList(
    'granted-fields',
    granted.map((o) => `${o.object}: ${o.fields.join(', ')}`),
  );
}

function renderHealth(health) {
  $('detail-health').textContent = health
    ? t(health.ok ? 'details.healthOk' : 'details.healthFailing', { when: formatDate(health.checkedAt) })
    : t('details.healthNever');
  fillList(
    'health-problems',
    (health?.problems ?? []).map((p) => `${t(p.drift ? 'details.drift' : 'details.problem')}: ${p.message} ${p.fix}`),
  );
}

function renderError(view) {
  const error = view.lastError;
  const known = [error?.salesforceCode, error?.type].find((code) => code && window.i18next.exists(`errors.${code}`));
  const english = window.i18next.language === 'en';
  $('error-message').textContent = known
    ? t(`errors.${known}.message`)
    : english && error?.message
      ? error.message
      : t('error.generic');
  $('error-fix').textContent = known
    ? t(`errors.${known}.fix`)
    : english && error?.fix
      ? error.fix
      : t('error.genericFix');
  // Salesforce's own words, apart and labelled; our English sentence there when it has no translation.
  const salesforceSaid = error?.salesforceMessage ?? (!known && !english ? error?.message : undefined);
  show('error-salesforce', Boolean(salesforceSaid));
  $('error-salesforce-message').textContent = salesforceSaid ?? '';
  $('error-code').textContent = error?.salesforceCode ? t('error.code', { code: error.salesforceCode }) : '';
  $('error-step').textContent = error?.step ? t('error.step', { step: stepTitle(error.step) }) : '';
  $('error-when').textContent = error?.at ? t('error.when', { when: formatDate(error.at) }) : '';
  const remaining = view.leftovers ?? [];
  $('error-rollback').textContent = remaining.length > 0 ? t('error.remains') : t('error.rolledBack');
  fillList(
    'error-remaining',
    remaining.map((c) => `${c.name}${c.id ? ` (${c.id})` : ''}`),
  );
}

function render(view) {
  connection = view;
  const running = RUNNING.has(view.status) || Boolean(view.currentOperation);
  $('salesforce-card').setAttribute('aria-busy', String(running));
  $('status-badge').textContent = window.i18next.exists(`status.${view.status}`) ? t(`status.${view.status}`) : '';
  $('status-badge').dataset.status = view.status;
  const message = statusMessage(view);
  if ($('status-message').textContent !== message) $('status-message').textContent = message;
  // Off after a connection existed: its deactivated users remain in Salesforce, which cannot delete users.
  show('off-note', view.status === 'disabled' && Boolean(view.updatedAt));
  $('off-note').textContent = `${t('off.nothingLeft')} ${t('off.deactivatedUsers')}`;

  const toggle = $('enable-access');
  if (!toggle.dataset.touched) toggle.checked = view.status !== 'disabled';
  toggle.disabled = running;
  $('save').disabled = running;
  $('agent-fields').disabled = running;
  show('org-fields', view.status === 'disabled' && toggle.checked);
  adoptConfiguration(view.agentConfiguration);

  show('progress', running && Boolean(view.currentOperation));
  if (view.currentOperation) renderProgress(view.currentOperation);
  else elapsedFrom = undefined;

  const failed = (view.status === 'error' || view.status === 'rollback_incomplete') && !running;
  show('connection-error', failed);
  if (failed) renderError(view);

  show('needs-reconnect', view.needsReconnect && !running);
  if (view.needsReconnect) fillList('missing-fields', view.missingFields);

  show('details', Boolean(view.details) && !running);
  if (view.details) {
    renderDetails(view.details, view.grantedObjects);
    renderHealth(view.health);
    $('detail-updated').textContent = view.updatedAt ? t('details.updated', { when: formatDate(view.updatedAt) }) : '';
  }
}

function reportError(id, error) {
  const box = $(id);
  box.textContent = problemText(error);
  box.hidden = !error;
}

function setFormError(error) {
  formError = error;
  reportError('form-error', error);
}

function schedule() {
  clearTimeout(pollTimer);
  if (document.hidden || !session.apiKey) return;
  const running = connection && (RUNNING.has(connection.status) || connection.currentOperation);
  pollTimer = setTimeout(() => void refresh(), running ? POLL_WHILE_RUNNING_MS : POLL_IDLE_MS);
}

let dynamicsRead = false;

async function refresh() {
  clearTimeout(pollTimer);
  if (!session.tenantId || !session.apiKey) {
    $('session').open = true;
    $('status-message').textContent = t('session.needed');
    return;
  }
  try {
    render(await api('GET', connectionUrl()));
    loadError = undefined;
    reportError('load-error');
    void loadObjects();
  } catch (error) {
    loadError = error;
    reportError('load-error', error);
    if (error.status === 401 || error.status === 404) $('session').open = true;
  }
  if (!dynamicsRead) {
    dynamicsRead = true;
    await api('GET', tenantUrl('/connections/dynamics365')).catch(() => undefined);
  }
  schedule();
}

// ——— Confirmations ———

function removals() {
  const details = connection?.details;
  if (!details) return [t('dialog.removeAll')];
  return [
    t('dialog.removeApp', { label: details.appLabel, apiName: details.appApiName }),
    t('dialog.removePermissionSet', {
      label: details.permissionSetLabel ?? details.permissionSetName,
      apiName: details.permissionSetName,
    }),
    t('dialog.removeUser', {
      name: details.integrationUserName ?? details.integrationUsername,
      username: details.integrationUsername,
    }),
  ];
}

/** Asks before an action that removes something; Esc, like the cancel button, answers no. */
function confirmRemoval(kind) {
  const dialog = $('confirm');
  $('confirm-title').textContent = t(`dialog.${kind}Title`);
  $('confirm-intro').textContent = t(`dialog.${kind}Intro`);
  fillList('confirm-removals', kind === 'cancel' ? [t('dialog.cancelRemoval')] : removals());
  const after = { reconnect: 'dialog.reconnectAfter', breakBeforeMake: 'dialog.breakBeforeMakeAfter' }[kind];
  $('confirm-after').textContent = after ? t(after) : '';
  show('confirm-after', Boolean(after));
  const cancelLabels = { disable: 'dialog.keep', cancel: 'dialog.keepRunning' };
  $('confirm-cancel').textContent = t(cancelLabels[kind] ?? 'dialog.cancel');
  $('confirm-button').textContent = t(`dialog.${kind}Confirm`);
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true });
    dialog.showModal();
  });
}

// ——— Actions ———

async function runOperation(kind, body) {
  await api('POST', connectionUrl(`/${kind}`), body, crypto.randomUUID());
  delete $('enable-access').dataset.touched;
  await refresh();
}

function keepAccessOn() {
  $('enable-access').checked = true;
  delete $('enable-access').dataset.touched;
  if (connection) render(connection);
}

async function save(event) {
  event.preventDefault();
  setFormError();
  const button = $('save');
  button.disabled = true;
  try {
    const wanted = $('enable-access').checked;
    const configuration = configurationOf(picker.selection);
    if (wanted && connection?.status === 'disabled' && configuration.objects.length === 0) {
      setFormError({ localKey: 'picker.empty' });
      return;
    }
    const configurationChanged = configurationText(configuration) !== configurationText(connection?.agentConfiguration);
    if (configurationChanged && configuration.objects.length > 0) {
      await api('PUT', tenantUrl('/agent-configuration'), configuration);
      picker.touched = false;
    }
    if (wanted && connection?.status === 'disabled') {
      // Without the token field (Sign in with Salesforce, sign-in.js), a token given in the fragment still works.
      const token = ($('admin-token')?.value ?? sessionStorage.getItem('adminToken') ?? '').trim();
      const loginUrl = $('login-url').value.trim();
      const instanceUrl = $('instance-url').value.trim();
      // A token typed here wins; otherwise credentials already in the service's secret store (a sign-in, npm start).
      const storedRef = sessionStorage.getItem('adminCredentialsRef');
      await runOperation('enable', {
        ...(loginUrl ? { loginUrl } : {}),
        ...(instanceUrl ? { instanceUrl } : {}),
        adminCredentials: token || !storedRef ? { accessToken: token } : { secretRef: storedRef },
      });
    } else if (!wanted && connection && CONNECTED.has(connection.status)) {
      if (await confirmRemoval('disable')) await runOperation('disable');
      else keepAccessOn();
    } else {
      await refresh();
    }
  } catch (error) {
    setFormError(error);
    await refresh();
  } finally {
    button.disabled = Boolean(connection && RUNNING.has(connection.status));
  }
}

function problemCode(error) {
  const problem = error?.problem ?? {};
  return (
    problem.code ??
    String(problem.type ?? '')
      .split('/')
      .pop()
  );
}

async function reconnect() {
  setFormError();
  if (!(await confirmRemoval('reconnect'))) return;
  // With the admin who signed in with Salesforce, when there is one (sign-in.js).
  const credentials = globalThis.agentConnectionsSignIn?.signedInCredentials();
  try {
    await runOperation('reconnect', credentials);
  } catch (error) {
    if (problemCode(error) !== 'break-before-make-required') {
      setFormError(error);
      return;
    }
    // No spare integration license for the overlap: removing the current connection first is the admin's call, asked
    // apart; cancel (or Esc) leaves everything as it is.
    if (!(await confirmRemoval('breakBeforeMake'))) return;
    try {
      await runOperation('reconnect', { ...(credentials ?? {}), breakBeforeMake: true });
    } catch (retryError) {
      setFormError(retryError);
    }
  }
}

async function simpleOperation(kind) {
  setFormError();
  try {
    await runOperation(kind, {});
  } catch (error) {
    setFormError(error);
  }
}

async function cancelOperation() {
  const operation = connection?.currentOperation;
  if (!operation || !(await confirmRemoval('cancel'))) return;
  try {
    await api('POST', `${connectionUrl(`/operations/${operation.id}`)}/cancel`);
    await refresh();
  } catch (error) {
    setFormError(error);
  }
}

async function copyConsumerKey() {
  const key = $('detail-consumer-key').textContent;
  try {
    await navigator.clipboard.writeText(key);
    $('copy-status').textContent = t('details.copied');
  } catch {
    const range = document.createRange();
    range.selectNodeContents($('detail-consumer-key'));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    $('copy-status').textContent = t('details.copyFailed');
  }
}

/** For the sign-in module: credentials it stored, by reference; the picker then reads the org with them. */
function useAdminCredentials({ secretRef, loginUrl, instanceUrl }) {
  sessionStorage.setItem('adminCredentialsRef', secretRef);
  if (loginUrl) {
    sessionStorage.setItem('loginUrl', loginUrl);
    $('login-url').value = loginUrl;
  }
  if (instanceUrl) {
    sessionStorage.setItem('instanceUrl', instanceUrl);
    $('instance-url').value = instanceUrl;
  }
  void loadObjects();
}

function bind() {
  $('session-form').addEventListener('submit', (event) => {
    event.preventDefault();
    session.set($('tenant-id').value.trim(), $('api-key').value.trim());
    $('session').open = false;
    $('session-notice').textContent = '';
    picker.state = undefined;
    void refresh();
  });
  $('forget-key').addEventListener('click', () => {
    session.forget();
    $('api-key').value = '';
    $('session-notice').textContent = t('session.forgotten');
    clearTimeout(pollTimer);
  });
  $('language').addEventListener('change', () => {
    localStorage.setItem('agentConnections.language', $('language').value);
    void setLanguage($('language').value);
  });
  $('enable-access').addEventListener('change', () => {
    $('enable-access').dataset.touched = 'true';
    show('org-fields', connection?.status === 'disabled' && $('enable-access').checked);
  });
  $('agent-fields').addEventListener('input', () => {
    picker.touched = true;
    picker.selection = selectionFrom(parseConfiguration($('agent-fields').value));
    if (picker.state === 'ready') {
      renderObjectList();
      renderFieldList();
    }
    renderSummary();
  });
  $('object-search').addEventListener('input', renderObjectList);
  $('field-search').addEventListener('input', renderFieldList);
  for (const id of ['login-url', 'instance-url']) $(id).addEventListener('change', () => void loadObjects());
  $('connection-form').addEventListener('submit', save);
  $('reconnect').addEventListener('click', reconnect);
  $('recreate').addEventListener('click', reconnect);
  $('update-access').addEventListener('click', () => void simpleOperation('update-access'));
  $('rotate-certificate').addEventListener('click', () => void simpleOperation('rotate-certificate'));
  $('cancel-operation').addEventListener('click', cancelOperation);
  $('copy-consumer-key').addEventListener('click', copyConsumerKey);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) void refresh();
  });
  setInterval(() => {
    if (elapsedFrom) renderElapsed();
  }, 1000);
}

async function init() {
  adoptFragment();
  await window.i18next.init({
    lng: 'en',
    fallbackLng: 'en',
    resources: {},
    interpolation: { escapeValue: false },
    showSupportNotice: false,
  });
  bind();
  $('tenant-id').value = session.tenantId;
  $('api-key').value = session.apiKey;
  $('login-url').value = sessionStorage.getItem('loginUrl') || '';
  $('instance-url').value = sessionStorage.getItem('instanceUrl') || '';
  if ($('admin-token')) $('admin-token').value = sessionStorage.getItem('adminToken') || '';
  await setLanguage(chooseLanguage());
  window.agentConnectionsPage = { useAdminCredentials, refresh };
  void refresh();
}

document.addEventListener('DOMContentLoaded', () => void init());
