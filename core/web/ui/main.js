// The app's entry: the locale, then the area the path names — the end-user app (/ and the
// pages mailed links open), the privacy center (/privacy), the admin console (/admin) or the
// first-admin setup (/setup) — each loaded only when opened.
import { html, render } from './preact-htm.js';
import { chooseLocale } from './i18n.js';

const areas = {
  '/privacy': () => import('./privacy.js'),
  '/admin': () => import('./admin.js'),
  '/setup': () => import('./setup.js'),
};

chooseLocale();
const load = areas[location.pathname] ?? (() => import('./app.js'));
const { default: Area } = await load();
render(html`<${Area} />`, document.getElementById('app'));
