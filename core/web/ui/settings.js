// Settings: the profile (name; the address, with the password), the password, two-factor
// sign-in, sessions and API keys, communication and data-use choices, the subscription with
// auto-renew, and the rights the policy promises — a copy of one's data, deleting the
// account — with the policy itself.
import { html, useEffect, useState } from './preact-htm.js';
import { api, newIdempotencyKey } from './api.js';
import { formatDate, formatDateTime, hasMessage, t } from './i18n.js';
import { Check, Field, Loaded, Notice, Page, Submit, messageOf, useForm, useLoad } from './ui.js';

const sections = ['profile', 'security', 'communications', 'subscription', 'privacy'];

function Profile({ me, onChanged }) {
  const form = useForm({ name: me.name, email: me.email, current_password: '' });
  const [done, setDone] = useState('');
  const emailChanged = form.values.email.trim().toLowerCase() !== me.email;
  const submit = (event) => {
    event.preventDefault();
    setDone('');
    form.run(async (values) => {
      const body = { name: values.name };
      if (emailChanged) Object.assign(body, { email: values.email, current_password: values.current_password });
      const user = await api('PATCH', '/v1/me', body);
      setDone(user.pending_email ? t('profile.email_pending', { email: user.pending_email }) : t('state.saved'));
      onChanged();
    });
  };
  return html`<form class="narrow" onSubmit=${submit} novalidate>
    <${Notice} kind="error">${form.failure}</${Notice}><${Notice} kind="success">${done}</${Notice}>
    <${Field} label=${t('field.name')} name="name" value=${form.values.name} onInput=${form.set('name')} error=${form.errors.name}
      autocomplete="name" required />
    <${Field} label=${t('field.email')} name="email" type="email" value=${form.values.email} onInput=${form.set('email')}
      error=${form.errors.email} hint=${t('profile.email_hint')} autocomplete="email" required />
    ${me.pending_email && html`<p class="hint">${t('profile.email_pending', { email: me.pending_email })}</p>`}
    ${emailChanged && html`<${Field} label=${t('field.current_password')} name="current_password" type="password"
      value=${form.values.current_password} onInput=${form.set('current_password')} error=${form.errors.current_password}
      autocomplete="current-password" />`}
    <${Submit} busy=${form.busy}>${t('action.save')}</${Submit}>
  </form>`;
}

function Password() {
  const form = useForm({ current_password: '', new_password: '' });
  const [done, setDone] = useState('');
  const submit = (event) => {
    event.preventDefault();
    setDone('');
    form.run(async (values) => {
      await api('POST', '/v1/me/password', values);
      form.setValues({ current_password: '', new_password: '' });
      setDone(t('password.changed'));
    });
  };
  return html`<form class="narrow" onSubmit=${submit} novalidate aria-labelledby="password-title">
    <h2 id="password-title">${t('password.title')}</h2>
    <${Notice} kind="error">${form.failure}</${Notice}><${Notice} kind="success">${done}</${Notice}>
    <${Field} label=${t('field.current_password')} name="current_password" type="password" value=${form.values.current_password}
      onInput=${form.set('current_password')} error=${form.errors.current_password} autocomplete="current-password" required />
    <${Field} label=${t('field.new_password')} name="new_password" type="password" value=${form.values.new_password}
      onInput=${form.set('new_password')} error=${form.errors.new_password} hint=${t('signup.password_hint')}
      autocomplete="new-password" required />
    <${Submit} busy=${form.busy}>${t('password.submit')}</${Submit}>
  </form>`;
}

function TwoFactor() {
  const status = useLoad(() => api('GET', '/v1/me/two-factor'));
  const form = useForm({ current_password: '', code: '' });
  const [enrolment, setEnrolment] = useState(null);
  const [codes, setCodes] = useState(null);
  const begin = (event) => {
    event.preventDefault();
    form.run(async ({ current_password }) => {
      setEnrolment(await api('POST', '/v1/me/two-factor/totp', current_password ? { current_password } : {}));
    });
  };
  const confirm = (event) => {
    event.preventDefault();
    form.run(async ({ code }) => {
      const answer = await api('POST', '/v1/me/two-factor/totp/confirm', { code });
      setCodes(answer.recovery_codes);
      setEnrolment(null);
      status.reload();
    });
  };
  const turnOff = (event) => {
    event.preventDefault();
    form.run(async ({ current_password }) => {
      await api('DELETE', '/v1/me/two-factor', current_password ? { current_password } : {});
      status.reload();
    });
  };
  const password = html`<${Field} label=${t('field.current_password')} name="current_password" type="password"
    value=${form.values.current_password} onInput=${form.set('current_password')} error=${form.errors.current_password}
    hint=${t('two_factor.password_hint')} autocomplete="current-password" />`;
  return html`<section aria-labelledby="two-factor-title" class="narrow">
    <h2 id="two-factor-title">${t('two_factor.title')}</h2>
    <${Notice} kind="error">${form.failure}</${Notice}>
    ${codes && html`<${Notice} kind="success">${t('two_factor.on')}</${Notice}>
      <p>${t('two_factor.codes_intro')}</p><ul class="codes">${codes.map((code) => html`<li><code>${code}</code></li>`)}</ul>`}
    <${Loaded} state=${status}>${(current) => {
      if (enrolment) {
        return html`<form onSubmit=${confirm} novalidate>
          <p>${t('two_factor.scan')}</p>
          <img class="qr" src=${`data:image/svg+xml;base64,${btoa(enrolment.qr_code_svg)}`} alt=${t('two_factor.qr_alt')} />
          <p>${t('two_factor.secret')} <code>${enrolment.secret}</code></p>
          <${Field} label=${t('signin.code')} name="code" value=${form.values.code} onInput=${form.set('code')} error=${form.errors.code}
            autocomplete="one-time-code" inputmode="numeric" required />
          <${Submit} busy=${form.busy}>${t('two_factor.confirm')}</${Submit}>
        </form>`;
      }
      if (current.enabled) {
        return html`<form onSubmit=${turnOff} novalidate>
          <p>${t('two_factor.enabled_since', { date: formatDate(current.enabled_at), left: current.recovery_codes_left })}</p>
          ${password}
          <${Submit} busy=${form.busy} kind="secondary">${t('two_factor.turn_off')}</${Submit}>
        </form>`;
      }
      return html`<form onSubmit=${begin} novalidate>
        <p>${t('two_factor.off')}</p>
        ${password}
        <${Submit} busy=${form.busy}>${t('two_factor.turn_on')}</${Submit}>
      </form>`;
    }}</${Loaded}>
  </section>`;
}

function Sessions() {
  const sessions = useLoad(() => api('GET', '/v1/sessions'));
  const [failure, setFailure] = useState('');
  const revoke = async (id) => {
    try {
      await api('DELETE', `/v1/sessions/${encodeURIComponent(id)}`);
      sessions.reload();
    } catch (error) {
      setFailure(messageOf(error));
    }
  };
  return html`<section aria-labelledby="sessions-title">
    <h2 id="sessions-title">${t('sessions.title')}</h2>
    <${Notice} kind="error">${failure}</${Notice}>
    <${Loaded} state=${sessions}>${(list) => html`<table>
      <caption class="visually-hidden">${t('sessions.title')}</caption>
      <thead><tr><th scope="col">${t('sessions.client')}</th><th scope="col">${t('sessions.last_used')}</th><th scope="col"><span class="visually-hidden">${t('sessions.actions')}</span></th></tr></thead>
      <tbody>${list.data.map((session) => html`<tr key=${session.id}>
        <td>${session.client}${session.current && html` <strong>(${t('sessions.this_one')})</strong>`}</td>
        <td>${formatDateTime(session.last_used_at)}</td>
        <td>${!session.current && html`<button type="button" class="button button-quiet" onClick=${() => revoke(session.id)}
          aria-label=${t('sessions.end_named', { client: session.client })}>${t('sessions.end')}</button>`}</td>
      </tr>`)}</tbody></table>`}</${Loaded}>
  </section>`;
}

const allScopes = ['videos:read', 'videos:write', 'images:read', 'images:write', 'account:read'];

function ApiKeys() {
  const keys = useLoad(() => api('GET', '/v1/api-keys'));
  const form = useForm({ name: '', current_password: '', scopes: ['videos:read', 'videos:write', 'images:read', 'images:write'] });
  const [made, setMade] = useState(null);
  const create = (event) => {
    event.preventDefault();
    form.run(async ({ name, current_password, scopes }) => {
      const body = { name, scopes };
      if (current_password) body.current_password = current_password;
      setMade(await api('POST', '/v1/api-keys', body));
      form.setValues({ name: '', current_password: '', scopes });
      keys.reload();
    });
  };
  const toggle = (scope) => (on) => form.set('scopes')(on ? [...form.values.scopes, scope] : form.values.scopes.filter((s) => s !== scope));
  const revoke = async (id) => {
    await api('DELETE', `/v1/api-keys/${encodeURIComponent(id)}`).catch((error) => form.setFailure(messageOf(error)));
    keys.reload();
  };
  return html`<section aria-labelledby="keys-title">
    <h2 id="keys-title">${t('keys.title')}</h2>
    <p>${t('keys.intro')}</p>
    ${made && html`<${Notice} kind="success">${t('keys.made')} <code class="secret">${made.key}</code></${Notice}>`}
    <${Loaded} state=${keys}>${(list) => list.data.length > 0 && html`<table>
      <caption class="visually-hidden">${t('keys.title')}</caption>
      <thead><tr><th scope="col">${t('keys.name')}</th><th scope="col">${t('keys.scopes')}</th><th scope="col">${t('sessions.last_used')}</th><th scope="col"><span class="visually-hidden">${t('sessions.actions')}</span></th></tr></thead>
      <tbody>${list.data.map((key) => html`<tr key=${key.id}><td>${key.name}</td><td>${key.scopes.join(', ')}</td>
        <td>${key.last_used_at ? formatDateTime(key.last_used_at) : t('keys.never')}</td>
        <td><button type="button" class="button button-quiet" onClick=${() => revoke(key.id)}
          aria-label=${t('keys.revoke_named', { name: key.name })}>${t('keys.revoke')}</button></td></tr>`)}</tbody>
    </table>`}</${Loaded}>
    <form class="narrow" onSubmit=${create} novalidate>
      <h3>${t('keys.new')}</h3>
      <${Notice} kind="error">${form.failure}</${Notice}>
      <${Field} label=${t('keys.name')} name="key_name" value=${form.values.name} onInput=${form.set('name')} error=${form.errors.name} required />
      <fieldset><legend>${t('keys.scopes')}</legend>
        ${allScopes.map((scope) => html`<${Check} label=${scope} name=${`scope-${scope}`} checked=${form.values.scopes.includes(scope)}
          onChange=${toggle(scope)} />`)}
        ${form.errors.scopes && html`<p class="error">${form.errors.scopes}</p>`}
      </fieldset>
      <${Field} label=${t('field.current_password')} name="key_password" type="password" value=${form.values.current_password}
        onInput=${form.set('current_password')} error=${form.errors.current_password} hint=${t('two_factor.password_hint')}
        autocomplete="current-password" />
      <${Submit} busy=${form.busy}>${t('keys.create')}</${Submit}>
    </form>
  </section>`;
}

const categories = ['account', 'product_updates', 'marketing', 'training_use', 'sale_sharing'];

// Where a change came from, in words; a source this app does not know is shown as it is.
const sourceLabel = (source) => (hasMessage(`source.${source}`) ? t(`source.${source}`) : source);

function PreferenceHistory({ version }) {
  const history = useLoad(() => api('GET', '/v1/me/preferences/history'), [version]);
  return html`<h3>${t('communications.history')}</h3>
    <${Loaded} state=${history}>${(list) => html`<div class="table-wrap" tabindex="0" role="region" aria-label=${t('communications.history')}>
      <table><caption class="visually-hidden">${t('communications.history')}</caption>
      <thead><tr><th scope="col">${t('communications.when')}</th><th scope="col">${t('communications.choice')}</th>
        <th scope="col">${t('communications.set_to')}</th><th scope="col">${t('communications.how')}</th></tr></thead>
      <tbody>${list.data.map((change) => html`<tr><td>${formatDateTime(change.changed_at)}</td><td>${t(`category.${change.category}`)}</td>
        <td>${change.enabled ? t('communications.on') : t('communications.off')}</td><td>${sourceLabel(change.source)}</td></tr>`)}</tbody>
    </table></div>`}</${Loaded}>`;
}

function Communications() {
  const preferences = useLoad(() => api('GET', '/v1/me/preferences'));
  const [version, setVersion] = useState(0);
  const [status, setStatus] = useState('');
  const [failure, setFailure] = useState('');
  const change = (category) => async (on) => {
    setStatus('');
    setFailure('');
    try {
      await api('PUT', '/v1/me/preferences', { [category]: on });
      setStatus(t('state.saved'));
      preferences.reload();
      setVersion((v) => v + 1);
    } catch (error) {
      setFailure(messageOf(error));
    }
  };
  return html`<section aria-labelledby="communications-title" class="narrow">
    <h2 id="communications-title">${t('communications.title')}</h2>
    <p>${t('communications.intro')}</p>
    <${Notice} kind="error">${failure}</${Notice}><${Notice} kind="success">${status}</${Notice}>
    <${Loaded} state=${preferences}>${(current) => html`<fieldset><legend>${t('communications.choices')}</legend>
      ${categories.map((category) => html`<${Check} name=${category} label=${t(`category.${category}`)}
        hint=${t(`category.${category}_hint`)} checked=${current[category]} disabled=${category === 'account'}
        onChange=${change(category)} />`)}
    </fieldset>`}</${Loaded}>
    <${PreferenceHistory} version=${version} />
  </section>`;
}

function Subscription() {
  const subscription = useLoad(() => api('GET', '/v1/subscription'));
  const [failure, setFailure] = useState('');
  const [leaving, setLeaving] = useState(false);
  const setAutoRenew = async (on) => {
    setFailure('');
    try {
      await api('PATCH', '/v1/subscription', { auto_renew: on });
      subscription.reload();
    } catch (error) {
      setFailure(messageOf(error));
    }
  };
  // Paying and changing the card happen on the processor's pages; the plan changes when the
  // processor tells the server, never on the way back.
  const goTo = async (path, body, key) => {
    setFailure('');
    setLeaving(true);
    try {
      const { url } = await api('POST', path, body, key ? { headers: { 'Idempotency-Key': key } } : undefined);
      window.location.assign(url);
    } catch (error) {
      setLeaving(false);
      setFailure(messageOf(error));
    }
  };
  return html`<section aria-labelledby="subscription-title" class="narrow">
    <h2 id="subscription-title">${t('subscription.title')}</h2>
    <${Notice} kind="error">${failure}</${Notice}>
    <${Loaded} state=${subscription}>${(current) => html`<dl class="facts">
        <dt>${t('subscription.plan')}</dt><dd>${current.plan}</dd>
        <dt>${t('subscription.status')}</dt><dd>${t(`subscription.status_${current.status}`)}</dd>
        ${current.grace_until && html`<dt>${t('subscription.grace_until')}</dt><dd>${formatDate(current.grace_until)}</dd>`}
        ${current.paid_through && html`<dt>${t('subscription.paid_through')}</dt><dd>${formatDate(current.paid_through)}</dd>
          <dt>${current.auto_renew ? t('subscription.then') : t('subscription.ends')}</dt>
          <dd>${current.auto_renew ? t('subscription.renews') : formatDate(current.paid_through)}</dd>`}
        <dt>${t('subscription.allows')}</dt>
        <dd>${t('subscription.allowance', { per_day: current.entitlements.videos_per_day, seconds: current.entitlements.max_seconds,
          side: current.entitlements.max_side, days: current.entitlements.retention_days })}</dd>
      </dl>
      ${current.grace_until && html`<p>${t('subscription.grace_hint')}</p>`}
      ${(current.status === 'active' || current.status === 'grace') && current.paid_through && html`<${Check} name="auto_renew"
        label=${t('subscription.auto_renew')} hint=${t('subscription.auto_renew_hint')} checked=${current.auto_renew}
        onChange=${setAutoRenew} />`}
      ${current.payment_portal_available && html`<p><button type="button" class="button button-secondary" disabled=${leaving}
        onClick=${() => goTo('/v1/billing/portal', undefined, newIdempotencyKey())}>${t('subscription.manage_payment')}</button></p>`}
      ${current.checkout_available && current.plans_for_sale.map((plan) => html`<p><button type="button" class="button"
        disabled=${leaving} onClick=${() => goTo('/v1/billing/checkout', { plan }, newIdempotencyKey())}>
        ${t('subscription.buy', { plan })}</button></p>`)}
      ${current.checkout_available && html`<p class="hint">${t('subscription.buy_hint')}</p>`}
      ${!current.checkout_available && !current.billed_by_processor && current.status !== 'active' && current.status !== 'grace'
        && html`<p>${t('subscription.upgrade')}</p>`}`}</${Loaded}>
  </section>`;
}

const settled = ['completed', 'completed_with_exceptions', 'failed', 'canceled'];

function DataAndDeletion({ onChanged }) {
  const requests = useLoad(() => api('GET', '/v1/privacy/requests'));
  // While a request is on its way, its state is asked for again every few seconds.
  const waiting = (requests.data?.data ?? []).some((request) => !settled.includes(request.status) && request.type === 'access');
  useEffect(() => {
    if (!waiting) return undefined;
    const timer = setInterval(requests.reload, 3000);
    return () => clearInterval(timer);
  }, [waiting]);
  const [failure, setFailure] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [password, setPassword] = useState('');
  const act = (action) => async () => {
    setFailure('');
    try {
      await action();
      requests.reload();
      onChanged();
    } catch (error) {
      setFailure(messageOf(error));
    }
  };
  return html`<section aria-labelledby="data-title" class="narrow">
    <h2 id="data-title">${t('data.title')}</h2>
    <p>${t('data.intro')}</p>
    <${Notice} kind="error">${failure}</${Notice}>
    <button type="button" class="button button-secondary" onClick=${act(() => api('POST', '/v1/privacy/requests', { type: 'access' }))}>
      ${t('data.request_copy')}</button>
    <${Loaded} state=${requests}>${(list) => list.data.length > 0 && html`<h3>${t('data.requests')}</h3>
      <ul class="requests">${list.data.map((request) => html`<li key=${request.id}>
        <strong>${t(`request.type_${request.type}`)}</strong> · ${t(`request.status_${request.status}`)}
        · ${formatDateTime(request.created_at)}
        ${request.status_reason && html`<br /><span class="hint">${request.status_reason}</span>`}
        ${request.download && html`<br /><a href=${request.download.url} download>${t('data.download')}</a>
          <span class="hint"> ${t('data.until', { date: formatDateTime(request.download.expires_at) })}</span>`}
        ${request.type === 'erasure' && request.status === 'pending' && html`<br />
          <span>${t('data.deletion_starts', { date: formatDateTime(request.starts_at) })}</span>
          <button type="button" class="button button-secondary"
            onClick=${act(() => api('POST', `/v1/privacy/requests/${encodeURIComponent(request.id)}/cancel`))}>${t('data.keep_account')}</button>`}
      </li>`)}</ul>`}</${Loaded}>
    <h3>${t('delete.title')}</h3>
    <p>${t('delete.explain')}</p>
    ${confirming
      ? html`<div class="danger" role="group" aria-label=${t('delete.title')}><p>${t('delete.sure')}</p>
          <${Field} label=${t('field.current_password')} name="delete_password" type="password" value=${password} onInput=${setPassword}
            hint=${t('two_factor.password_hint')} autocomplete="current-password" />
          <button type="button" class="button button-danger" onClick=${act(async () => {
            await api('DELETE', '/v1/me', password ? { current_password: password } : undefined);
            setConfirming(false);
          })}>${t('delete.confirm')}</button>
          <button type="button" class="button button-quiet" onClick=${() => setConfirming(false)}>${t('action.cancel')}</button></div>`
      : html`<button type="button" class="button button-danger" onClick=${() => setConfirming(true)}>${t('delete.button')}</button>`}
  </section>`;
}

function Policy() {
  const policy = useLoad(() => api('GET', '/v1/privacy/policy'));
  return html`<section aria-labelledby="policy-title">
    <h2 id="policy-title">${t('frame.policy')}</h2>
    <${Loaded} state=${policy}>${(current) => html`<p>${t('policy.last_updated', { date: current.last_updated })}</p>
      <p><a href="/privacy#/policy">${t('policy.read')}</a></p>`}</${Loaded}>
  </section>`;
}

export function Settings({ me, route, onChanged }) {
  const section = sections.includes(route.parts[1]) ? route.parts[1] : 'profile';
  let content;
  if (section === 'security') content = html`<${Password} /><${TwoFactor} /><${Sessions} /><${ApiKeys} />`;
  else if (section === 'communications') content = html`<${Communications} />`;
  else if (section === 'subscription') content = html`<${Subscription} />`;
  else if (section === 'privacy') content = html`<${DataAndDeletion} onChanged=${onChanged} /><${Policy} />`;
  else content = html`<${Profile} me=${me} onChanged=${onChanged} />`;
  return html`<${Page} title=${t(`settings.${section}`)}>
    <nav aria-label=${t('settings.nav')} class="tabs"><ul>
      ${sections.map((name) => html`<li><a href=${`#/settings/${name}`} aria-current=${name === section ? 'page' : undefined}>
        ${t(`settings.${name}`)}</a></li>`)}
    </ul></nav>
    ${content}
  </${Page}>`;
}
