// The privacy center, for anyone, signed in or not: the policy with its Last Updated date, the
// register of processors, a request for a copy or the erasure of one's data by email (with the
// mailed code), and checking a deletion receipt's signature in the browser.
import { html, useState } from './preact-htm.js';
import { api } from './api.js';
import { formatDate, t } from './i18n.js';
import { Field, Frame, Loaded, Notice, Page, Submit, useForm, useLoad, useRoute } from './ui.js';

// The policy is Markdown; shown as its paragraphs and headings, as text (never as HTML).
function PolicyText({ text }) {
  return html`<div class="policy">${text.split(/\n{2,}/).map((block) => {
    const heading = block.match(/^(#{1,4})\s+(.*)$/s);
    if (heading) return heading[1].length <= 2 ? html`<h2>${heading[2]}</h2>` : html`<h3>${heading[2]}</h3>`;
    if (/^\s*[-*]\s/.test(block)) return html`<ul>${block.split(/\n\s*[-*]\s/).map((item) => html`<li>${item.replace(/^\s*[-*]\s/, '')}</li>`)}</ul>`;
    return html`<p>${block}</p>`;
  })}</div>`;
}

function Home() {
  return html`<${Page} title=${t('privacy.title')}>
    <p>${t('privacy.intro')}</p>
    <ul class="cards">
      <li><h2>${t('privacy.access_title')}</h2><p>${t('privacy.access_text')}</p>
        <a class="button button-primary" href="#/request?type=access">${t('privacy.access_button')}</a></li>
      <li><h2>${t('privacy.erasure_title')}</h2><p>${t('privacy.erasure_text')}</p>
        <a class="button button-primary" href="#/request?type=erasure">${t('privacy.erasure_button')}</a></li>
      <li><h2>${t('privacy.choices_title')}</h2><p>${t('privacy.choices_text')}</p>
        <a class="button button-secondary" href="/#/settings/communications">${t('privacy.choices_button')}</a></li>
      <li><h2>${t('privacy.receipt_title')}</h2><p>${t('privacy.receipt_text')}</p>
        <a class="button button-secondary" href="#/receipt">${t('privacy.receipt_button')}</a></li>
    </ul>
    <p><a href="#/policy">${t('frame.policy')}</a> · <a href="#/processors">${t('processors.title')}</a></p>
  </${Page}>`;
}

function Policy() {
  const policy = useLoad(() => api('GET', '/v1/privacy/policy'));
  return html`<${Page} title=${t('frame.policy')}>
    <${Loaded} state=${policy}>${(current) => html`<p class="lead">${t('policy.last_updated', { date: current.last_updated })}</p>
      <${PolicyText} text=${current.text} />
      ${current.contact && html`<p>${t('policy.contact', { contact: current.contact })}</p>`}`}</${Loaded}>
  </${Page}>`;
}

function Processors() {
  const register = useLoad(() => api('GET', '/v1/privacy/processors'));
  return html`<${Page} title=${t('processors.title')}>
    <p>${t('processors.intro')}</p>
    <${Loaded} state=${register}>${(list) => html`<table>
      <caption class="visually-hidden">${t('processors.title')}</caption>
      <thead><tr><th scope="col">${t('processors.component')}</th><th scope="col">${t('processors.third_party')}</th>
        <th scope="col">${t('processors.categories')}</th><th scope="col">${t('processors.purpose')}</th></tr></thead>
      <tbody>${list.data.map((row) => html`<tr><td>${row.component}</td><td>${row.third_party ?? t('processors.none')}</td>
        <td>${row.categories.join(', ')}</td><td>${row.purpose}</td></tr>`)}</tbody></table>`}</${Loaded}>
  </${Page}>`;
}

function RequestByEmail({ type }) {
  const form = useForm({ email: '', type, code: '' });
  const [intake, setIntake] = useState(null);
  const [result, setResult] = useState(null);
  const start = (event) => {
    event.preventDefault();
    form.run(async ({ email, type: chosen }) => setIntake(await api('POST', '/v1/privacy/intake', { email, type: chosen })));
  };
  const verify = (event) => {
    event.preventDefault();
    form.run(async ({ code }) => setResult(await api('POST', `/v1/privacy/intake/${encodeURIComponent(intake.id)}/verify`,
      { code: code.replace(/\s/g, '') })));
  };
  if (result) {
    return html`<${Page} title=${t('intake.received')}>
      <${Notice} kind="success">${t('intake.verified', { status: t(`request.status_${result.status}`), date: formatDate(result.due_at) })}</${Notice}>
      <dl class="facts"><dt>${t('intake.reference')}</dt><dd><code>${result.id}</code></dd>
        <dt>${t('intake.status')}</dt><dd>${t(`request.status_${result.status}`)}</dd>
        <dt>${t('intake.due')}</dt><dd>${formatDate(result.due_at)}</dd></dl>
      <p>${t('intake.next')}</p>
    </${Page}>`;
  }
  return html`<${Page} title=${t('intake.title')}>
    <${Notice} kind="error">${form.failure}</${Notice}>
    ${intake
      ? html`<form class="narrow" onSubmit=${verify} novalidate>
          <${Notice} kind="success">${t('intake.code_sent')}</${Notice}>
          <${Field} label=${t('intake.code')} name="code" value=${form.values.code} onInput=${form.set('code')} error=${form.errors.code}
            hint=${t('intake.code_hint')} autocomplete="one-time-code" inputmode="numeric" required />
          <${Submit} busy=${form.busy}>${t('intake.verify')}</${Submit}>
        </form>`
      : html`<form class="narrow" onSubmit=${start} novalidate>
          <fieldset><legend>${t('intake.what')}</legend>
            ${['access', 'erasure'].map((value) => html`<div class="check"><input type="radio" id=${`type-${value}`} name="type"
              value=${value} checked=${form.values.type === value} onChange=${() => form.set('type')(value)} />
              <label for=${`type-${value}`}>${t(`intake.type_${value}`)}</label></div>`)}
          </fieldset>
          <${Field} label=${t('field.email')} name="email" type="email" value=${form.values.email} onInput=${form.set('email')}
            error=${form.errors.email} hint=${t('intake.email_hint')} autocomplete="email" required />
          <${Submit} busy=${form.busy}>${t('intake.send_code')}</${Submit}>
        </form>`}
  </${Page}>`;
}

const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

// Checks an Ed25519 signature over the payload's bytes with the key the server publishes.
async function checkReceipt(receipt) {
  const key = await api('GET', '/.well-known/framehouse-receipt-key');
  const sameKey = !receipt.key_id || receipt.key_id === key.key_id;
  const publicKey = await crypto.subtle.importKey('raw', fromBase64(key.public_key), { name: 'Ed25519' }, false, ['verify']);
  const intact = await crypto.subtle.verify({ name: 'Ed25519' }, publicKey, fromBase64(receipt.signature),
    new TextEncoder().encode(receipt.payload));
  let payload = null;
  try {
    payload = JSON.parse(receipt.payload);
  } catch {
    // shown as text
  }
  return { intact: intact && sameKey, sameKey, keyId: key.key_id, payload };
}

function Receipt() {
  const form = useForm({ receipt: '' });
  const [verdict, setVerdict] = useState(null);
  const check = (event) => {
    event.preventDefault();
    setVerdict(null);
    form.run(async ({ receipt }) => {
      let parsed;
      try {
        parsed = JSON.parse(receipt);
      } catch {
        form.setFailure(t('receipt.not_json'));
        return;
      }
      if (!crypto.subtle) {
        form.setFailure(t('receipt.needs_https'));
        return;
      }
      const inner = parsed.receipt ?? parsed;
      if (typeof inner.payload !== 'string' || typeof inner.signature !== 'string') {
        form.setFailure(t('receipt.missing'));
        return;
      }
      setVerdict(await checkReceipt(inner));
    });
  };
  return html`<${Page} title=${t('receipt.title')}>
    <p>${t('receipt.intro')}</p>
    <form onSubmit=${check} novalidate>
      <${Notice} kind="error">${form.failure}</${Notice}>
      <${Field} label=${t('receipt.paste')} name="receipt" rows="8" value=${form.values.receipt} onInput=${form.set('receipt')} required />
      <${Submit} busy=${form.busy}>${t('receipt.check')}</${Submit}>
    </form>
    ${verdict && html`<${Notice} kind=${verdict.intact ? 'success' : 'error'}>
      ${verdict.intact ? t('receipt.intact', { key: verdict.keyId }) : verdict.sameKey ? t('receipt.altered') : t('receipt.other_key', { key: verdict.keyId })}
    </${Notice}>
    ${verdict.payload && html`<dl class="facts">${Object.entries(verdict.payload).map(([name, value]) => html`<dt>${name}</dt>
      <dd>${typeof value === 'object' ? JSON.stringify(value) : String(value)}</dd>`)}</dl>`}`}
  </${Page}>`;
}

export default function PrivacyCenter() {
  const route = useRoute();
  const screen = route.parts[0] ?? '';
  const nav = [
    { id: '', href: '#/', label: t('privacy.title') },
    { id: 'policy', href: '#/policy', label: t('frame.policy') },
    { id: 'processors', href: '#/processors', label: t('processors.title') },
    { id: 'request', href: '#/request', label: t('intake.title') },
    { id: 'receipt', href: '#/receipt', label: t('receipt.title') },
  ];
  let content;
  if (screen === 'policy') content = html`<${Policy} />`;
  else if (screen === 'processors') content = html`<${Processors} />`;
  else if (screen === 'request') content = html`<${RequestByEmail} key=${route.query.get('type')} type=${route.query.get('type') ?? 'access'} />`;
  else if (screen === 'receipt') content = html`<${Receipt} />`;
  else content = html`<${Home} />`;
  return html`<${Frame} nav=${nav} current=${screen}>${content}</${Frame}>`;
}
