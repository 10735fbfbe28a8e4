// Signing in and the screens around it: sign-in (password, then a code when two-factor sign-in
// is on, or the deployment's enterprise sign-in), sign-up with the age gate, the reset link,
// and the pages mailed links open (confirm the address, choose a new password, undo an
// address change).
import { html, useState } from './preact-htm.js';
import { api } from './api.js';
import { t } from './i18n.js';
import { Field, Loaded, Notice, Page, Submit, useForm, useLoad } from './ui.js';

export function useSession() {
  const state = useLoad(async () => {
    try {
      return await api('GET', '/v1/me');
    } catch (error) {
      if (error.status === 401) return null;
      throw error;
    }
  });
  return state;
}

export async function signOut() {
  try {
    await api('DELETE', '/v1/sessions/current');
  } finally {
    location.assign('/');
  }
}

function EnterpriseSignIn() {
  const providers = useLoad(() => api('GET', '/v1/sso'));
  return html`<${Loaded} state=${providers}>${(list) => list.data.length > 0 && html`<div class="sso">
    <p>${t('signin.or')}</p>
    ${list.data.map((provider) => html`<a class="button button-secondary"
      href=${`${provider.start}?return_to=${encodeURIComponent(location.pathname)}`}>${t('signin.with', { name: provider.name })}</a>`)}
  </div>`}</${Loaded}>`;
}

export function SignIn({ onSignedIn, title = t('signin.title') }) {
  const form = useForm({ email: '', password: '', code: '' });
  const [challenge, setChallenge] = useState(null);
  const submit = (event) => {
    event.preventDefault();
    form.run(async ({ email, password, code }) => {
      try {
        if (challenge) {
          await api('POST', '/v1/sessions/two-factor', { challenge, code, session_cookie: true });
        } else {
          await api('POST', '/v1/sessions', { email, password, session_cookie: true });
        }
        onSignedIn();
      } catch (error) {
        if (error.type === 'two-factor-required') {
          setChallenge(error.body.challenge);
          return;
        }
        if (error.type === 'invalid-credentials') error.message = t('signin.wrong');
        throw error;
      }
    });
  };
  return html`<${Page} title=${challenge ? t('signin.code_title') : title}>
    <form class="narrow" onSubmit=${submit} novalidate>
      <${Notice} kind="error">${form.failure}</${Notice}>
      ${challenge
        ? html`<${Field} label=${t('signin.code')} name="code" value=${form.values.code} onInput=${form.set('code')}
            error=${form.errors.code} hint=${t('signin.code_hint')} autocomplete="one-time-code" inputmode="numeric"
            required autofocus />`
        : html`<${Field} label=${t('field.email')} name="email" type="email" value=${form.values.email}
            onInput=${form.set('email')} error=${form.errors.email} autocomplete="username" required />
          <${Field} label=${t('field.password')} name="password" type="password" value=${form.values.password}
            onInput=${form.set('password')} error=${form.errors.password} autocomplete="current-password" required />`}
      <${Submit} busy=${form.busy}>${challenge ? t('signin.verify') : t('signin.submit')}</${Submit}>
    </form>
    ${!challenge && html`<p><a href="#/forgot">${t('signin.forgot')}</a></p>
      <p>${t('signin.new')} <a href="#/sign-up">${t('signup.title')}</a></p>
      <${EnterpriseSignIn} />`}
  </${Page}>`;
}

export function SignUp() {
  const form = useForm({ name: '', email: '', password: '', date_of_birth: '' });
  const [done, setDone] = useState('');
  const submit = (event) => {
    event.preventDefault();
    form.run(async (values) => {
      try {
        await api('POST', '/v1/accounts', values);
        setDone(values.email);
      } catch (error) {
        if (error.type === 'age-requirement') error.message = t('signup.too_young');
        throw error;
      }
    });
  };
  if (done) {
    return html`<${Page} title=${t('signup.check_mail')}>
      <${Notice} kind="success">${t('signup.sent', { email: done })}</${Notice}>
      <p>${t('signup.no_mail')} <a href="#/resend">${t('signup.resend')}</a></p>
    </${Page}>`;
  }
  return html`<${Page} title=${t('signup.title')}>
    <form class="narrow" onSubmit=${submit} novalidate>
      <${Notice} kind="error">${form.failure}</${Notice}>
      <${Field} label=${t('field.name')} name="name" value=${form.values.name} onInput=${form.set('name')}
        error=${form.errors.name} autocomplete="name" required maxlength="100" />
      <${Field} label=${t('field.email')} name="email" type="email" value=${form.values.email} onInput=${form.set('email')}
        error=${form.errors.email} autocomplete="email" required />
      <${Field} label=${t('field.new_password')} name="password" type="password" value=${form.values.password}
        onInput=${form.set('password')} error=${form.errors.password} hint=${t('signup.password_hint')}
        autocomplete="new-password" required />
      <${Field} label=${t('field.date_of_birth')} name="date_of_birth" type="date" value=${form.values.date_of_birth}
        onInput=${form.set('date_of_birth')} error=${form.errors.date_of_birth} hint=${t('signup.age_hint')}
        autocomplete="bday" required />
      <p class="hint">${t('signup.policy_before')} <a href="/privacy#/policy">${t('frame.policy')}</a>.</p>
      <${Submit} busy=${form.busy}>${t('signup.submit')}</${Submit}>
    </form>
    <p>${t('signup.have_account')} <a href="#/">${t('signin.title')}</a></p>
  </${Page}>`;
}

// Asks for a mailed link: a password reset, or the confirmation link again.
export function MailMeALink({ title, path, intro }) {
  const form = useForm({ email: '' });
  const [sent, setSent] = useState(false);
  const submit = (event) => {
    event.preventDefault();
    form.run(async ({ email }) => {
      await api('POST', path, { email });
      setSent(true);
    });
  };
  return html`<${Page} title=${title}>
    ${sent
      ? html`<${Notice} kind="success">${t('mail_link.sent')}</${Notice}>`
      : html`<form class="narrow" onSubmit=${submit} novalidate>
          <p>${intro}</p>
          <${Notice} kind="error">${form.failure}</${Notice}>
          <${Field} label=${t('field.email')} name="email" type="email" value=${form.values.email}
            onInput=${form.set('email')} error=${form.errors.email} autocomplete="email" required />
          <${Submit} busy=${form.busy}>${t('mail_link.submit')}</${Submit}>
        </form>`}
    <p><a href="/#/">${t('signin.title')}</a></p>
  </${Page}>`;
}

// A mailed link's page: one button (mail scanners that open links change nothing), then what
// happened.
export function MailedLink({ token, title, intro, button, path, done, children }) {
  const form = useForm({ password: '' });
  const [finished, setFinished] = useState(false);
  const submit = (event) => {
    event.preventDefault();
    form.run(async ({ password }) => {
      try {
        await api('POST', path, children ? { token, password } : { token });
        setFinished(true);
      } catch (error) {
        if (error.fields.token) {
          error.fields = {};
          error.message = t('mailed_link.unusable');
        }
        throw error;
      }
    });
  };
  if (finished) {
    return html`<${Page} title=${title}><${Notice} kind="success">${done}</${Notice}>
      <p><a class="button button-primary" href="/#/">${t('signin.title')}</a></p></${Page}>`;
  }
  return html`<${Page} title=${title}>
    <form class="narrow" onSubmit=${submit} novalidate>
      <p>${intro}</p>
      <${Notice} kind="error">${form.failure}</${Notice}>
      ${children && children(form)}
      <${Submit} busy=${form.busy}>${button}</${Submit}>
    </form>
  </${Page}>`;
}

export function NewPasswordField(form) {
  return html`<${Field} label=${t('field.new_password')} name="password" type="password" value=${form.values.password}
    onInput=${form.set('password')} error=${form.errors.password} hint=${t('signup.password_hint')}
    autocomplete="new-password" required />`;
}
