// The end-user app: make videos (prompt, model, length, size, an optional image, a seed, or a
// remix), watch them being made, keep and manage them, and every setting and right the privacy
// policy promises — signed in with the session cookie.
import { html, useState } from './preact-htm.js';
import { api } from './api.js';
import { t } from './i18n.js';
import { MailedLink, MailMeALink, NewPasswordField, SignIn, SignUp, signOut, useSession } from './auth.js';
import { Frame, Loaded, Notice, useRoute } from './ui.js';
import { CreateVideo } from './create.js';
import { Videos } from './videos.js';
import { Settings } from './settings.js';

// The pages mailed links open: the token is in the query.
function LinkLanding() {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  switch (location.pathname) {
    case '/verify-email':
      return html`<${MailedLink} token=${token} path="/v1/accounts/verify-email" title=${t('verify.title')}
        intro=${t('verify.intro')} button=${t('verify.button')} done=${t('verify.done')} />`;
    case '/revert-email':
      return html`<${MailedLink} token=${token} path="/v1/accounts/revert-email" title=${t('revert.title')}
        intro=${t('revert.intro')} button=${t('revert.button')} done=${t('revert.done')} />`;
    case '/reset-password':
      if (!token) {
        return html`<${MailMeALink} title=${t('reset.request_title')} path="/v1/password-reset" intro=${t('reset.request_intro')} />`;
      }
      return html`<${MailedLink} token=${token} path="/v1/password-reset/confirm" title=${t('reset.title')}
        intro=${t('reset.intro')} button=${t('reset.button')} done=${t('reset.done')}>${NewPasswordField}</${MailedLink}>`;
    default:
      return null;
  }
}

function SignedOut({ onSignedIn }) {
  const route = useRoute();
  switch (route.parts[0]) {
    case 'sign-up': return html`<${SignUp} />`;
    case 'forgot':
      return html`<${MailMeALink} title=${t('reset.request_title')} path="/v1/password-reset" intro=${t('reset.request_intro')} />`;
    case 'resend':
      return html`<${MailMeALink} title=${t('resend.title')} path="/v1/accounts/verification-email" intro=${t('resend.intro')} />`;
    default: return html`<${SignIn} onSignedIn=${onSignedIn} />`;
  }
}

// Shown until the person acknowledges a new version of the privacy policy. In the flow of the
// page (not over it), so that it never hides the focused control.
function PolicyBanner({ update, onAcknowledged }) {
  const [failure, setFailure] = useState('');
  const acknowledge = async () => {
    try {
      await api('POST', '/v1/privacy/policy/acknowledge');
      onAcknowledged();
    } catch (error) {
      setFailure(error.message);
    }
  };
  return html`<div class="banner" role="region" aria-label=${t('policy_banner.label')}>
    <p>${t('policy_banner.text', { date: update.last_updated })}
      <a href="/privacy#/policy">${t('policy_banner.read')}</a></p>
    <button type="button" class="button button-secondary" onClick=${acknowledge}>${t('policy_banner.acknowledge')}</button>
    <${Notice} kind="error">${failure}</${Notice}>
  </div>`;
}

function SignedIn({ me, reload }) {
  const route = useRoute();
  const screen = route.parts[0] ?? 'create';
  const nav = [
    { id: 'create', href: '#/', label: t('nav.create') },
    { id: 'videos', href: '#/videos', label: t('nav.videos') },
    { id: 'settings', href: '#/settings', label: t('nav.settings') },
  ];
  if (me.permissions.length > 0) nav.push({ id: 'admin', href: '/admin', label: t('nav.admin') });
  const end = html`<span class="who">${me.name}</span>
    <button type="button" class="button button-quiet" onClick=${signOut}>${t('action.sign_out')}</button>`;
  const banner = me.policy_update && html`<${PolicyBanner} update=${me.policy_update} onAcknowledged=${reload} />`;
  let content;
  if (screen === 'videos') content = html`<${Videos} route=${route} />`;
  else if (screen === 'settings') content = html`<${Settings} me=${me} route=${route} onChanged=${reload} />`;
  else content = html`<${CreateVideo} me=${me} route=${route} />`;
  return html`<${Frame} nav=${nav} current=${screen === 'create' || !screen ? 'create' : screen} end=${end} banner=${banner}>
    ${!me.email_verified && html`<${Notice} kind="warning">${t('unverified.text')} <a href="#/settings/profile">${t('unverified.link')}</a></${Notice}>`}
    ${content}
  </${Frame}>`;
}

export default function App() {
  const session = useSession();
  const landing = LinkLanding();
  if (landing) return html`<${Frame}>${landing}</${Frame}>`;
  return html`<${Loaded} state=${session}>${(me) => (me
    ? html`<${SignedIn} me=${me} reload=${session.reload} />`
    : html`<${Frame}><${SignedOut} onSignedIn=${session.reload} /></${Frame}>`)}</${Loaded}>`;
}
