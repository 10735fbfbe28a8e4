// Every word the app shows comes from a message catalogue: messages-en.js is the one shipped;
// "pseudo" (?lang=pseudo) is English made strange but still readable, so that any text that
// was not taken from the catalogue stands out on a screen.
import en from './messages-en.js';

const catalogues = { en };
let messages = en;
let locale = 'en';

const accents = { a: 'á', e: 'ë', i: 'ï', o: 'ô', u: 'ü', A: 'Å', E: 'É', I: 'Î', O: 'Ø', U: 'Û', c: 'ç', n: 'ñ', s: 'š', y: 'ý' };
// Accented letters, {placeholders} kept, in ⟦…⟧ with 30 % more length, as translations run longer.
function pseudo(text) {
  const body = text.replace(/\{[a-z_]+\}|./gi, (part) => (part.length > 1 ? part : accents[part] ?? part));
  return `⟦${body}${'·'.repeat(Math.ceil(text.length * 0.3))}⟧`;
}

export function chooseLocale() {
  const asked = new URLSearchParams(location.search).get('lang');
  if (asked) localStorage.setItem('lang', asked);
  const wanted = asked ?? localStorage.getItem('lang') ?? navigator.language.slice(0, 2);
  if (wanted === 'pseudo') {
    messages = Object.fromEntries(Object.entries(en).map(([key, text]) => [key, pseudo(text)]));
    locale = 'en';
    document.documentElement.lang = 'en-XA';
    return;
  }
  locale = catalogues[wanted] ? wanted : 'en';
  messages = catalogues[locale];
  document.documentElement.lang = locale;
}

// The message `key` with {name} placeholders filled from `values`.
export function t(key, values = {}) {
  const text = messages[key] ?? en[key];
  if (text === undefined) {
    console.warn(`no message ${key}`);
    return key;
  }
  return text.replace(/\{([a-z_]+)\}/gi, (whole, name) => (name in values ? String(values[name]) : whole));
}

export const hasMessage = (key) => key in en;

// One formatter per locale and style: making one costs far more than using it, and a gallery
// formats a date per card.
const formatters = new Map();
function formatter(style) {
  const key = `${locale} ${style}`;
  if (!formatters.has(key)) {
    formatters.set(key, new Intl.DateTimeFormat(locale, style === 'date' ? { dateStyle: 'medium' } : { dateStyle: 'medium', timeStyle: 'short' }));
  }
  return formatters.get(key);
}
export const formatDate = (unixSeconds) => (unixSeconds ? formatter('date').format(new Date(unixSeconds * 1000)) : '');
export const formatDateTime = (unixSeconds) => (unixSeconds ? formatter('date-time').format(new Date(unixSeconds * 1000)) : '');
