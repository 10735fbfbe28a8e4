// The app's one way to the server's HTTP API: same origin, the session cookie, the session's
// CSRF token on every request that changes something, and every error turned into an
// ApiError that names its fields (RFC 9457 problems and OpenAI's error shape alike).

export class ApiError extends Error {
  constructor(status, { type = '', title = '', detail = '', fields = {}, body = {} } = {}) {
    super(detail || title || `HTTP ${status}`);
    this.status = status;
    this.type = type; // the problem's slug ("validation-failed") or OpenAI's code ("plan_limit")
    this.fields = fields; // field name -> what is wrong with it
    this.body = body;
  }
}

function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return '';
}

// fh_csrf over plain HTTP, __Host-fh_csrf over TLS (the server sets one of them at sign-in).
const csrfToken = () => cookie('__Host-fh_csrf') || cookie('fh_csrf');

async function errorOf(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    // not JSON: the status says enough
  }
  if (body.error && typeof body.error === 'object') {
    // OpenAI's shape: one message, the first field it names in `param`.
    const fields = {};
    for (const item of body.errors ?? []) fields[item.field] = item.message;
    if (body.error.param && !fields[body.error.param]) fields[body.error.param] = body.error.message;
    return new ApiError(response.status, { type: body.error.code ?? '', detail: body.error.message, fields, body });
  }
  const fields = {};
  for (const item of body.errors ?? []) fields[item.field] = item.message;
  const type = (body.type ?? '').replace(/^urn:framehouse:problem:/, '');
  return new ApiError(response.status, { type, title: body.title, detail: body.detail, fields, body });
}

// method, path, and a JSON body, a FormData (multipart), or nothing. Resolves with the parsed
// JSON (null for 204), rejects with an ApiError.
export async function api(method, path, body, { headers = {} } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers }, credentials: 'same-origin' };
  if (method !== 'GET' && method !== 'HEAD') init.headers['X-CSRF-Token'] = csrfToken();
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, { type: 'network', detail: '' });
  }
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') ?? '';
  return type.includes('json') ? response.json() : response.text();
}

// A fresh Idempotency-Key. crypto.randomUUID exists only in secure contexts (HTTPS, localhost);
// getRandomValues everywhere, so that the app works on a plain-HTTP address of the LAN too.
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
