// The first five minutes: the page the setup link opens on a fresh installation, which makes
// the first admin (the token is in the link's fragment, never sent in a URL) and signs them in.
import { html, useState } from './preact-htm.js';
import { api } from './api.js';
import { t } from './i18n.js';
import { Field, Frame, Notice, Page, Submit, useForm } from './ui.js';

export default function Setup() {
  const token = new URLSearchParams(location.hash.replace(/^#/, '')).get('token') ?? '';
  const form = useForm({ name: '', email: '', password: '' });
  const [done, setDone] = useState(false);
  const submit = (event) => {
    event.preventDefault();
    form.run(async (values) => {
      await api('POST', '/v1/setup/first-admin', { token, ...values });
      await api('POST', '/v1/sessions', { email: values.email, password: values.password, session_cookie: true });
      history.replaceState(null, '', '/setup');  // the used token leaves the address bar
      setDone(true);
    });
  };
  if (done) {
    return html`<${Frame}><${Page} title=${t('setup.done_title')}>
      <${Notice} kind="success">${t('setup.done')}</${Notice}>
      <p><a class="button button-primary" href="/admin">${t('setup.to_admin')}</a> <a class="button button-secondary" href="/">${t('setup.to_app')}</a></p>
    </${Page}></${Frame}>`;
  }
  return html`<${Frame}><${Page} title=${t('setup.title')}>
    ${!token && html`<${Notice} kind="warning">${t('setup.no_token')}</${Notice}>`}
    <p>${t('setup.intro')}</p>
    <form class="narrow" onSubmit=${submit} novalidate>
      <${Notice} kind="error">${form.failure}</${Notice}>
      <${Field} label=${t('field.name')} name="name" value=${form.values.name} onInput=${form.set('name')} error=${form.errors.name}
        autocomplete="name" required />
      <${Field} label=${t('field.email')} name="email" type="email" value=${form.values.email} onInput=${form.set('email')}
        error=${form.errors.email} autocomplete="username" required />
      <${Field} label=${t('field.new_password')} name="password" type="password" value=${form.values.password}
        onInput=${form.set('password')} error=${form.errors.password} hint=${t('signup.password_hint')} autocomplete="new-password" required />
      <${Submit} busy=${form.busy}>${t('setup.submit')}</${Submit}>
    </form>
  </${Page}></${Frame}>`;
}
