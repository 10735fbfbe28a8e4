// What every screen is made of: the hash router, form fields that show their own errors, the
// page frame with its skip link and live region, and dialogs. Accessible by construction:
// every control has a label, errors are tied to their field, focus moves to each new page.
import { html, useCallback, useEffect, useRef, useState } from './preact-htm.js';
import { ApiError } from './api.js';
import { t } from './i18n.js';

// "#/videos/abc?x=1" -> { parts: ['videos', 'abc'], query: URLSearchParams }
function parseHash() {
  const [path, search = ''] = location.hash.replace(/^#\/?/, '').split('?');
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(search) };
}

export function useRoute() {
  const [route, setRoute] = useState(parseHash);
  useEffect(() => {
    const changed = () => setRoute(parseHash());
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return route;
}

export const navigate = (hash) => {
  location.hash = hash;
};

// The values of a form, its errors by field, and its submission: `run` awaits the action and
// turns an ApiError into errors at the fields it names (or one message for the form).
export function useForm(initial) {
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState({});
  const [failure, setFailure] = useState('');
  const [busy, setBusy] = useState(false);
  const set = useCallback((name) => (value) => setValues((old) => ({ ...old, [name]: value })), []);
  const run = async (action) => {
    setBusy(true);
    setErrors({});
    setFailure('');
    try {
      return await action(values);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      setErrors(error.fields);
      setFailure(Object.keys(error.fields).length > 0 ? t('form.fix_fields') : messageOf(error));
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { values, setValues, set, errors, failure, setFailure, busy, run };
}

// What to tell a person about a failed call.
export function messageOf(error) {
  if (!(error instanceof ApiError)) return t('error.unexpected');
  if (error.status === 0) return t('error.network');
  if (error.message && !error.message.startsWith('HTTP ')) return error.message;
  if (error.status === 401) return t('error.signed_out');
  if (error.status === 429) return t('error.too_many');
  return t('error.status', { status: error.status });
}

let fieldCount = 0;
const useId = (name) => useRef(`${name}-${++fieldCount}`).current;

// A labelled input, select or textarea with its hint and error tied to it (aria-describedby).
export function Field({ label, name, type = 'text', value, onInput, error, hint, options, rows, ...rest }) {
  const id = useId(name);
  const described = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined;
  const common = {
    id, name, 'aria-invalid': error ? 'true' : undefined, 'aria-describedby': described, ...rest,
  };
  let control;
  if (options) {
    control = html`<select ...${common} value=${value} onChange=${(event) => onInput(event.currentTarget.value)}>
      ${options.map((option) => html`<option value=${option.value}>${option.label}</option>`)}
    </select>`;
  } else if (rows) {
    control = html`<textarea ...${common} rows=${rows} value=${value}
      onInput=${(event) => onInput(event.currentTarget.value)}></textarea>`;
  } else {
    control = html`<input ...${common} type=${type} value=${value} onInput=${(event) => onInput(event.currentTarget.value)} />`;
  }
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
    ${control}
    ${error && html`<p class="error" id=${`${id}-error`}>${error}</p>`}
  </div>`;
}

export function Check({ label, name, checked, onChange, hint, disabled }) {
  const id = useId(name);
  return html`<div class="check">
    <input type="checkbox" id=${id} name=${name} checked=${checked} disabled=${disabled}
      aria-describedby=${hint ? `${id}-hint` : undefined} onChange=${(event) => onChange(event.currentTarget.checked)} />
    <label for=${id}>${label}</label>
    ${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
  </div>`;
}

// A form's own message: an error (announced at once) or a success (announced politely).
export function Notice({ kind = 'info', children }) {
  if (!children) return null;
  return html`<div class=${`notice notice-${kind}`} role=${kind === 'error' ? 'alert' : 'status'}>${children}</div>`;
}

export function Submit({ busy, children, kind = 'primary' }) {
  return html`<button type="submit" class=${`button button-${kind}`} disabled=${busy} aria-busy=${busy ? 'true' : undefined}>
    ${children}
  </button>`;
}

// A screen: sets the tab's title and moves focus to its heading when it opens, so that a
// screen reader announces the new page and keyboard users start at its top.
export function Page({ title, titlePrefix = '', children, actions }) {
  const heading = useRef(null);
  useEffect(() => {
    heading.current?.focus({ preventScroll: false });
  }, [title]);
  useEffect(() => {
    document.title = `${titlePrefix}${title} · ${appName()}`;
  }, [title, titlePrefix]);
  return html`<section class="page">
    <div class="page-head">
      <h1 tabindex="-1" ref=${heading}>${title}</h1>
      ${actions}
    </div>
    ${children}
  </section>`;
}

export const appName = () => document.querySelector('meta[name="application-name"]')?.content || 'Framehouse';

// The frame of every area: skip link, header with the app's name and the area's navigation,
// and the main region.
export function Frame({ nav = [], current, end, banner, children }) {
  return html`<a class="skip" href="#main" onClick=${(event) => {
    event.preventDefault();
    document.getElementById('main')?.focus();
  }}>${t('frame.skip')}</a>
    <header class="top">
      <a class="brand" href="/">${appName()}</a>
      ${nav.length > 0 && html`<nav aria-label=${t('frame.nav')}>
        <ul>${nav.map((item) => html`<li><a href=${item.href}
          aria-current=${item.id === current ? 'page' : undefined}>${item.label}</a></li>`)}</ul>
      </nav>`}
      <div class="top-end">${end}</div>
    </header>
    ${banner}
    <main id="main" tabindex="-1">${children}</main>
    <footer class="bottom">
      <a href="/privacy">${t('frame.privacy_center')}</a>
      <a href="/privacy#/policy">${t('frame.policy')}</a>
    </footer>`;
}

// A modal dialog (the browser's own: focus trapped, Escape closes, focus returns on close).
export function Dialog({ open, title, onClose, children }) {
  const dialog = useRef(null);
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) element.showModal();
    if (!open && element.open) element.close();
  }, [open]);
  const titleId = useId('dialog');
  return html`<dialog ref=${dialog} aria-labelledby=${titleId} onClose=${onClose} class="dialog">
    ${open && html`<div class="dialog-head"><h2 id=${titleId}>${title}</h2>
      <button type="button" class="button button-quiet" onClick=${onClose}>${t('action.close')}</button></div>
      ${children}`}
  </dialog>`;
}

// Runs `load` when `deps` change; { data, error, loading, reload }.
export function useLoad(load, deps = []) {
  const [state, setState] = useState({ data: undefined, error: null, loading: true });
  const generation = useRef(0);
  const reload = useCallback(() => {
    const mine = ++generation.current;
    setState((old) => ({ ...old, loading: true }));
    load().then(
      (data) => mine === generation.current && setState({ data, error: null, loading: false }),
      (error) => mine === generation.current && setState({ data: undefined, error, loading: false }),
    );
  }, deps);
  useEffect(reload, [reload]);
  return { ...state, reload };
}

// Loading, error, or the content.
export function Loaded({ state, children }) {
  if (state.error) return html`<${Notice} kind="error">${messageOf(state.error)}</${Notice}>`;
  if (state.data === undefined) return html`<p class="loading" role="status">${t('state.loading')}</p>`;
  return children(state.data);
}
