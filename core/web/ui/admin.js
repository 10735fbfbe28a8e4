// The admin console: each screen shown only to roles with its permission (GET /v1/me says
// which; the API checks every call anyway) — accounts, the privacy request queue, legal holds,
// disclosures, announcements, analytics, the audit log, outgoing mail and the plugins' health.
import { html, useState } from './preact-htm.js';
import { api } from './api.js';
import { formatDate, formatDateTime, t } from './i18n.js';
import { SignIn, signOut, useSession } from './auth.js';
import { Check, Field, Frame, Loaded, Notice, Page, Submit, useForm, useLoad, useRoute } from './ui.js';

const enc = encodeURIComponent;
const roles = ['user', 'support', 'billing', 'privacy', 'analyst', 'communications', 'admin'];
const openStatuses = ['unverified', 'pending', 'in_progress', 'on_hold', 'failed'];

// One table from rows and [heading, cell] columns.
function Table({ caption, columns, rows, empty }) {
  if (rows.length === 0) return html`<p>${empty ?? t('admin.none')}</p>`;
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${caption}><table><caption class="visually-hidden">${caption}</caption>
    <thead><tr>${columns.map(([heading]) => html`<th scope="col">${heading}</th>`)}</tr></thead>
    <tbody>${rows.map((row) => html`<tr>${columns.map(([, cell]) => html`<td>${cell(row)}</td>`)}</tr>`)}</tbody>
  </table></div>`;
}

// A form whose fields are given as [name, label, props] and that calls `action(values)`.
function ActionForm({ title, fields, action, submit, done, kind }) {
  const form = useForm(Object.fromEntries(fields.map(([name, , props]) => [name, props?.initial ?? ''])));
  const [message, setMessage] = useState('');
  const run = (event) => {
    event.preventDefault();
    setMessage('');
    form.run(async (values) => {
      await action(values);
      setMessage(done ?? t('state.saved'));
    });
  };
  return html`<form class="narrow action-form" onSubmit=${run} novalidate>
    ${title && html`<h3>${title}</h3>`}
    <${Notice} kind="error">${form.failure}</${Notice}><${Notice} kind="success">${message}</${Notice}>
    ${fields.map(([name, label, props = {}]) => html`<${Field} label=${label} name=${name} value=${form.values[name]}
      onInput=${form.set(name)} error=${form.errors[name]} ...${{ ...props, initial: undefined }} />`)}
    <${Submit} busy=${form.busy} kind=${kind}>${submit}</${Submit}>
  </form>`;
}

const passwordField = () => ['current_password', t('field.current_password'), { type: 'password', autocomplete: 'current-password',
  hint: t('two_factor.password_hint') }];
const withPassword = (values) => {
  const { current_password: password, ...rest } = values;
  return password ? { ...rest, current_password: password } : rest;
};

function UserDetail({ id, me }) {
  const user = useLoad(() => api('GET', `/v1/admin/users/${enc(id)}`), [id]);
  const credentials = useLoad(() => api('GET', `/v1/admin/users/${enc(id)}/credentials`), [id]);
  const requests = useLoad(() => (me.permissions.includes('privacy_requests')
    ? api('GET', '/v1/admin/privacy/requests').then((list) => list.data.filter((request) => request.subject_id === id))
    : Promise.resolve([])), [id]);
  const subscription = useLoad(() => api('GET', `/v1/admin/users/${enc(id)}/subscription`), [id]);
  const may = (permission) => me.permissions.includes(permission);
  const changed = () => { user.reload(); credentials.reload(); };
  return html`<${Loaded} state=${user}>${(account) => html`<${Page} title=${account.name}>
    <p><a href="#/users">${t('admin.back_to_users')}</a></p>
    <dl class="facts">
      <dt>${t('field.email')}</dt><dd>${account.email}${account.email_verified ? '' : ` (${t('admin.unverified')})`}</dd>
      <dt>${t('admin.role')}</dt><dd>${account.role}</dd>
      <dt>${t('admin.state')}</dt><dd>${account.suspended ? t('admin.suspended') : t('admin.active')}</dd>
      <dt>${t('admin.created')}</dt><dd>${formatDateTime(account.created_at)}</dd>
      <dt>${t('admin.plan')}</dt><dd><${Loaded} state=${subscription}>${(plan) => html`${t('admin.plan_value', {
        plan: plan.plan, status: t(`subscription.status_${plan.status}`), used: plan.usage.videos_last_24_hours })}
        ${plan.paid_through ? ` ${t('admin.plan_until', { date: formatDate(plan.paid_through) })}` : ''}`}</${Loaded}></dd>
    </dl>
    <h2>${t('sessions.title')}</h2>
    <${Loaded} state=${credentials}>${(list) => html`<${Table} caption=${t('sessions.title')} rows=${[...list.sessions, ...list.api_keys]}
      columns=${[[t('admin.credential'), (row) => row.client ?? row.name], [t('sessions.last_used'), (row) => formatDateTime(row.last_used_at)],
        [t('sessions.actions'), (row) => may('manage_accounts') && html`<button type="button" class="button button-quiet"
          onClick=${() => api('DELETE', `/v1/admin/users/${enc(id)}/credentials/${enc(row.id)}`).then(changed)}>${t('sessions.end')}</button>`]]} />`}
    </${Loaded}>
    ${may('privacy_requests') && html`<h2>${t('admin.requests')}</h2><${Loaded} state=${requests}>${(list) => html`<${Table}
      caption=${t('admin.requests')} rows=${list} columns=${[[t('admin.request'), (row) => html`<a href=${`#/requests/${enc(row.id)}`}>${t(`request.type_${row.type}`)}</a>`],
        [t('intake.status'), (row) => t(`request.status_${row.status}`)], [t('intake.due'), (row) => formatDate(row.due_at)]]} />`}</${Loaded}>`}
    ${may('manage_roles') && html`<div class="panels">
      ${account.suspended
        ? html`<${ActionForm} title=${t('admin.unsuspend')} fields=${[]} submit=${t('admin.unsuspend')}
            action=${() => api('POST', `/v1/admin/users/${enc(id)}/unsuspend`).then(changed)} />`
        : html`<${ActionForm} title=${t('admin.suspend')} kind="danger" submit=${t('admin.suspend')}
            fields=${[['reason', t('admin.reason'), { required: true }], passwordField()]}
            action=${(values) => api('POST', `/v1/admin/users/${enc(id)}/suspend`, withPassword(values)).then(changed)} />`}
      <${ActionForm} title=${t('admin.change_role')} submit=${t('admin.change_role')}
        fields=${[['role', t('admin.role'), { options: roles.map((role) => ({ value: role, label: role })), initial: account.role }],
          passwordField()]}
        action=${(values) => api('PUT', `/v1/admin/users/${enc(id)}/role`, withPassword(values)).then(changed)} />
    </div>`}
    ${may('grant_plans') && html`<div class="panels">
      <${ActionForm} title=${t('admin.grant')} submit=${t('admin.grant')}
        fields=${[['plan', t('subscription.plan'), { required: true }], ['periods', t('admin.periods'), { type: 'number', min: 1, max: 120, initial: '1' }]]}
        action=${(values) => api('POST', `/v1/admin/users/${enc(id)}/subscription`, { plan: values.plan, periods: Number(values.periods) })
          .then(subscription.reload)} />
      <${ActionForm} title=${t('admin.revoke_plan')} kind="danger" submit=${t('admin.revoke_plan')}
        fields=${[['reason', t('admin.reason'), { required: true }], passwordField()]}
        action=${(values) => api('DELETE', `/v1/admin/users/${enc(id)}/subscription`, withPassword(values)).then(subscription.reload)} />
    </div>`}
  </${Page}>`}</${Loaded}>`;
}

function Users() {
  const [query, setQuery] = useState('');
  const [pages, setPages] = useState(['']);
  const after = pages[pages.length - 1];
  const list = useLoad(() => api('GET', `/v1/admin/users?limit=50&q=${enc(query)}${after ? `&after=${enc(after)}` : ''}`), [query, after]);
  const search = useForm({ q: '' });
  return html`<${Page} title=${t('admin.users')}>
    <form class="filters" role="search" onSubmit=${(event) => { event.preventDefault(); setPages(['']); setQuery(search.values.q); }}>
      <${Field} label=${t('admin.search_users')} name="q" type="search" value=${search.values.q} onInput=${search.set('q')} />
      <button type="submit" class="button button-secondary">${t('gallery.filter')}</button>
    </form>
    <${Loaded} state=${list}>${(page) => html`<${Table} caption=${t('admin.users')} rows=${page.data}
      columns=${[[t('field.name'), (user) => html`<a href=${`#/users/${enc(user.id)}`}>${user.name}</a>`], [t('field.email'), (user) => user.email],
        [t('admin.role'), (user) => user.role], [t('admin.state'), (user) => (user.suspended ? t('admin.suspended') : t('admin.active'))]]} />
      <div class="pager">
        ${pages.length > 1 && html`<button type="button" class="button button-secondary" onClick=${() => setPages(pages.slice(0, -1))}>${t('admin.previous')}</button>`}
        ${page.has_more && html`<button type="button" class="button button-secondary"
          onClick=${() => setPages([...pages, page.data[page.data.length - 1].id])}>${t('admin.next')}</button>`}
      </div>`}</${Loaded}>
  </${Page}>`;
}

const isOverdue = (request) => openStatuses.includes(request.status) && request.due_at * 1000 < Date.now();

function Requests() {
  const [filters, setFilters] = useState({ status: '', type: '', unverified: false });
  const list = useLoad(() => api('GET', `/v1/admin/privacy/requests?${new URLSearchParams(
    Object.entries({ status: filters.status, type: filters.type }).filter(([, value]) => value))}`), [filters.status, filters.type]);
  const set = (name) => (value) => setFilters((old) => ({ ...old, [name]: value }));
  return html`<${Page} title=${t('admin.requests')}>
    <div class="filters">
      <${Field} label=${t('intake.status')} name="status" value=${filters.status} onInput=${set('status')}
        options=${[{ value: '', label: t('admin.any') }, ...[...openStatuses, 'completed', 'completed_with_exceptions', 'canceled']
          .map((value) => ({ value, label: t(`request.status_${value}`) }))]} />
      <${Field} label=${t('admin.type')} name="type" value=${filters.type} onInput=${set('type')}
        options=${[{ value: '', label: t('admin.any') }, ...['access', 'erasure', 'rectification', 'opt_out', 'opt_in']
          .map((value) => ({ value, label: t(`request.type_${value}`) }))]} />
      <${Check} name="unverified" label=${t('admin.show_unverified')} checked=${filters.unverified} onChange=${set('unverified')} />
    </div>
    <${Loaded} state=${list}>${(page) => {
      const rows = page.data.filter((request) => filters.unverified || filters.status === 'unverified' || request.status !== 'unverified')
        .sort((a, b) => Number(isOverdue(b)) - Number(isOverdue(a)) || a.due_at - b.due_at);
      return html`<${Table} caption=${t('admin.requests')} rows=${rows} columns=${[
        [t('admin.request'), (row) => html`<a href=${`#/requests/${enc(row.id)}`}>${t(`request.type_${row.type}`)} ${row.id}</a>`],
        [t('intake.status'), (row) => t(`request.status_${row.status}`)],
        [t('intake.due'), (row) => html`${formatDate(row.due_at)}${isOverdue(row) ? html` <strong class="overdue">${t('admin.overdue')}</strong>` : ''}`],
        [t('admin.source'), (row) => row.source]]} />`;
    }}</${Loaded}>
  </${Page}>`;
}

function RequestDetail({ id }) {
  const request = useLoad(() => api('GET', `/v1/admin/privacy/requests/${enc(id)}`), [id]);
  const act = (verb) => (values) => api('POST', `/v1/admin/privacy/requests/${enc(id)}/${verb}`, values.reason ? { reason: values.reason } : {})
    .then(request.reload);
  return html`<${Loaded} state=${request}>${(current) => html`<${Page} title=${t('admin.request_title', { type: t(`request.type_${current.type}`) })}>
    <p><a href="#/requests">${t('admin.back_to_requests')}</a></p>
    <dl class="facts"><dt>${t('intake.reference')}</dt><dd><code>${current.id}</code></dd>
      <dt>${t('intake.status')}</dt><dd>${t(`request.status_${current.status}`)}${current.status_reason ? ` — ${current.status_reason}` : ''}</dd>
      <dt>${t('admin.subject')}</dt><dd>${current.subject_id ? html`<a href=${`#/users/${enc(current.subject_id)}`}>${current.subject_id}</a>` : '—'}</dd>
      <dt>${t('intake.due')}</dt><dd>${formatDate(current.due_at)}${current.extension_reason ? ` (${current.extension_reason})` : ''}</dd></dl>
    <h2>${t('admin.participants')}</h2>
    <${Table} caption=${t('admin.participants')} rows=${current.tasks ?? []} columns=${[
      [t('admin.participant'), (task) => task.participant], [t('intake.status'), (task) => task.status],
      [t('admin.attempts'), (task) => task.attempts], [t('admin.outcome'), (task) => task.last_error ?? (task.outcome ? JSON.stringify(task.outcome) : '')]]} />
    <div class="panels">
      <${ActionForm} title=${t('admin.retry')} fields=${[]} submit=${t('admin.retry')} action=${act('retry')} />
      <${ActionForm} title=${t('admin.extend')} fields=${[['reason', t('admin.reason'), { required: true }]]} submit=${t('admin.extend')} action=${act('extend')} />
      <${ActionForm} title=${t('admin.cancel_request')} kind="danger" fields=${[['reason', t('admin.reason')]]} submit=${t('admin.cancel_request')} action=${act('cancel')} />
    </div>
  </${Page}>`}</${Loaded}>`;
}

function Holds() {
  const holds = useLoad(() => api('GET', '/v1/admin/legal-holds'));
  const reasons = ['legal_claims', 'legal_obligation', 'freedom_of_expression', 'public_health', 'archiving_research_statistics'];
  return html`<${Page} title=${t('admin.holds')}>
    <${Loaded} state=${holds}>${(list) => html`<${Table} caption=${t('admin.holds')} rows=${list.data} columns=${[
      [t('admin.subject'), (hold) => hold.user_id], [t('admin.reason'), (hold) => hold.reason], [t('admin.reference'), (hold) => hold.reference],
      [t('admin.placed'), (hold) => formatDate(hold.placed_at)],
      [t('sessions.actions'), (hold) => !hold.lifted_at && html`<button type="button" class="button button-quiet"
        onClick=${() => api('DELETE', `/v1/admin/legal-holds/${enc(hold.id)}`).then(holds.reload)}>${t('admin.lift')}</button>`]]} />`}</${Loaded}>
    <${ActionForm} title=${t('admin.place_hold')} submit=${t('admin.place_hold')}
      fields=${[['user_id', t('admin.subject'), { required: true }], ['reason', t('admin.reason'), { options: reasons.map((value) => ({ value, label: value })), initial: reasons[0] }],
        ['reference', t('admin.reference'), { required: true }]]}
      action=${(values) => api('POST', '/v1/admin/legal-holds', values).then(holds.reload)} />
  </${Page}>`;
}

function Disclosures() {
  const log = useLoad(() => api('GET', '/v1/admin/disclosures'));
  return html`<${Page} title=${t('admin.disclosures')}>
    <${Loaded} state=${log}>${(list) => html`<${Table} caption=${t('admin.disclosures')} rows=${list.data} columns=${[
      [t('admin.subject'), (row) => row.user_id], [t('admin.authority'), (row) => row.authority], [t('admin.legal_basis'), (row) => row.legal_basis],
      [t('admin.categories'), (row) => row.categories.join(', ')], [t('admin.disclosed'), (row) => formatDate(row.disclosed_at)]]} />`}</${Loaded}>
    <${ActionForm} title=${t('admin.record_disclosure')} submit=${t('admin.record_disclosure')}
      fields=${[['user_id', t('admin.subject'), { required: true }], ['authority', t('admin.authority'), { required: true }],
        ['legal_basis', t('admin.legal_basis'), { required: true }], ['reference', t('admin.reference'), { required: true }],
        ['categories', t('admin.categories'), { required: true, hint: t('admin.categories_hint') }]]}
      action=${(values) => api('POST', '/v1/admin/disclosures', { ...values, categories: values.categories.split(',').map((c) => c.trim()).filter(Boolean) })
        .then(log.reload)} />
  </${Page}>`;
}

function Announcements() {
  return html`<${Page} title=${t('admin.announcements')}>
    <${ActionForm} submit=${t('admin.send')} done=${t('admin.queued')}
      fields=${[['category', t('admin.category'), { options: ['product_updates', 'marketing', 'account'].map((value) => ({ value, label: t(`category.${value}`) })),
        initial: 'product_updates' }], ['subject', t('admin.subject_line'), { required: true, maxlength: 200 }], ['body', t('admin.body'), { rows: 8, required: true }]]}
      action=${(values) => api('POST', '/v1/admin/announcements', values)} />
  </${Page}>`;
}

// Bars as an SVG drawing, with the numbers in a table beside it for screen readers and print.
function Chart({ cells, label }) {
  const max = Math.max(1, ...cells.map((cell) => cell.value ?? 0));
  const width = Math.max(cells.length * 14, 100);
  return html`<figure class="chart"><svg viewBox=${`0 0 ${width} 100`} role="img" aria-label=${label} preserveAspectRatio="none">
      ${cells.map((cell, i) => html`<rect x=${i * 14 + 2} width="10" y=${100 - ((cell.value ?? 0) / max) * 100}
        height=${((cell.value ?? 0) / max) * 100} class=${cell.suppressed ? 'bar-suppressed' : 'bar'} />`)}
    </svg><figcaption>${label}</figcaption></figure>`;
}

function Analytics() {
  const [metric, setMetric] = useState('signups');
  const data = useLoad(() => api('GET', `/v1/admin/analytics/${metric}?period=day`), [metric]);
  return html`<${Page} title=${t('admin.analytics')}>
    <${Field} label=${t('admin.metric')} name="metric" value=${metric} onInput=${setMetric}
      options=${['signups', 'active_users', 'videos_created', 'plan_mix'].map((value) => ({ value, label: t(`metric.${value}`) }))} />
    <${Loaded} state=${data}>${(result) => html`<p>${t('admin.min_group', { k: result.min_group })}</p>
      <${Chart} cells=${result.data} label=${t(`metric.${metric}`)} />
      <${Table} caption=${t(`metric.${metric}`)} rows=${result.data} columns=${[[t('admin.period'), (cell) => formatDate(cell.period_start)],
        [t('subscription.plan'), (cell) => cell.plan ?? ''],
        [t('admin.value'), (cell) => (cell.suppressed ? t('admin.suppressed', { k: result.min_group }) : cell.value)]]} />`}</${Loaded}>
  </${Page}>`;
}

function Audit() {
  const log = useLoad(() => api('GET', '/v1/admin/audit?limit=200'));
  const verification = useLoad(() => api('GET', '/v1/admin/audit/verification'));
  return html`<${Page} title=${t('admin.audit')}>
    <p>${t('admin.audit_intro')}</p>
    <${Loaded} state=${verification}>${(report) => (report.intact
      ? html`<${Notice} kind="success">${t('admin.audit_intact', { entries: report.entries })}</${Notice}>`
      : html`<${Notice} kind="error">${t('admin.audit_broken', { count: report.problems.length })}
          <ul>${report.problems.map((problem) => html`<li>${problem}</li>`)}</ul></${Notice}>`)}</${Loaded}>
    <${Loaded} state=${log}>${(list) => html`<${Table} caption=${t('admin.audit')} rows=${list.data} columns=${[
      [t('admin.seq'), (row) => row.seq], [t('admin.when'), (row) => formatDateTime(row.occurred_at)], [t('admin.actor'), (row) => row.actor],
      [t('admin.action'), (row) => row.action], [t('admin.target'), (row) => row.target]]} />`}</${Loaded}>
  </${Page}>`;
}

function Outbox() {
  const [state, setState] = useState('dead');
  const list = useLoad(() => api('GET', `/v1/admin/outbox?state=${state}`), [state]);
  return html`<${Page} title=${t('admin.outbox')}>
    <${Field} label=${t('intake.status')} name="state" value=${state} onInput=${setState}
      options=${['dead', 'ready', 'running', 'done'].map((value) => ({ value, label: t(`outbox.${value}`) }))} />
    <${Loaded} state=${list}>${(page) => html`<${Table} caption=${t('admin.outbox')} rows=${page.data} columns=${[
      [t('admin.about'), (row) => row.about], [t('admin.attempts'), (row) => row.attempts], [t('admin.outcome'), (row) => row.last_error ?? ''],
      [t('admin.when'), (row) => formatDateTime(row.created_at)]]} />`}</${Loaded}>
  </${Page}>`;
}

// The job queues' gauges, from the Prometheus text at /metrics: waiting, retrying, running
// and failed-for-good jobs by queue.
async function queueGauges() {
  const text = await (await fetch('/metrics')).text();
  const queues = {};
  for (const match of text.matchAll(/^framehouse_jobs_(due|scheduled|running|dead)\{queue="([^"]+)"\} (\d+)/gm)) {
    const [, gauge, queue, value] = match;
    queues[queue] = { ...queues[queue], [gauge]: Number(value) };
  }
  return Object.entries(queues).map(([queue, gauges]) => ({ queue, ...gauges }));
}

function Health() {
  const ready = useLoad(() => fetch('/readyz').then((response) => response.json()));
  const queues = useLoad(queueGauges);
  return html`<${Page} title=${t('admin.health')}>
    <${Loaded} state=${ready}>${(report) => html`<dl class="facts">
      <dt>${t('admin.server')}</dt><dd>${report.status}</dd>
      ${Object.entries(report.checks ?? {}).flatMap(([name, value]) => (typeof value === 'object'
        ? Object.entries(value).map(([plugin, health]) => html`<dt>${plugin}</dt><dd>${health}</dd>`)
        : [html`<dt>${name}</dt><dd>${value}</dd>`]))}
    </dl>`}</${Loaded}>
    <h2>${t('admin.queues')}</h2>
    <${Loaded} state=${queues}>${(rows) => html`<${Table} caption=${t('admin.queues')} rows=${rows} columns=${[
      [t('admin.queue'), (row) => row.queue], [t('admin.due'), (row) => row.due ?? 0], [t('admin.scheduled'), (row) => row.scheduled ?? 0],
      [t('admin.running'), (row) => row.running ?? 0], [t('admin.dead'), (row) => row.dead ?? 0]]} />`}</${Loaded}>
  </${Page}>`;
}

const screens = [
  { id: 'users', permission: 'view_users', render: () => html`<${Users} />` },
  { id: 'requests', permission: 'privacy_requests', render: () => html`<${Requests} />` },
  { id: 'holds', permission: 'legal_holds', render: () => html`<${Holds} />` },
  { id: 'disclosures', permission: 'disclosures', render: () => html`<${Disclosures} />` },
  { id: 'announcements', permission: 'announcements', render: () => html`<${Announcements} />` },
  { id: 'analytics', permission: 'analytics', render: () => html`<${Analytics} />` },
  { id: 'audit', permission: 'read_audit_log', render: () => html`<${Audit} />` },
  { id: 'outbox', permission: 'view_outbox', render: () => html`<${Outbox} />` },
  { id: 'health', permission: '', render: () => html`<${Health} />` },
];

function Console({ me }) {
  const route = useRoute();
  const mine = screens.filter((screen) => !screen.permission || me.permissions.includes(screen.permission));
  const current = mine.find((screen) => screen.id === route.parts[0]) ?? mine[0];
  const nav = mine.map((screen) => ({ id: screen.id, href: `#/${screen.id}`, label: t(`admin.${screen.id}`) }));
  const end = html`<a href="/">${t('admin.to_app')}</a>
    <button type="button" class="button button-quiet" onClick=${signOut}>${t('action.sign_out')}</button>`;
  let content = current.render();
  if (route.parts[1] && current.id === 'users') content = html`<${UserDetail} id=${route.parts[1]} me=${me} />`;
  if (route.parts[1] && current.id === 'requests') content = html`<${RequestDetail} id=${route.parts[1]} />`;
  return html`<${Frame} nav=${nav} current=${current.id} end=${end}>${content}</${Frame}>`;
}

export default function Admin() {
  const session = useSession();
  return html`<${Loaded} state=${session}>${(me) => {
    if (!me) return html`<${Frame}><${SignIn} title=${t('admin.sign_in')} onSignedIn=${session.reload} /></${Frame}>`;
    if (me.permissions.length === 0) {
      return html`<${Frame}><${Page} title=${t('admin.title')}><${Notice} kind="warning">${t('admin.no_permission')}</${Notice}>
        <p><a href="/">${t('admin.to_app')}</a></p></${Page}></${Frame}>`;
    }
    return html`<${Console} me=${me} />`;
  }}</${Loaded}>`;
}
