// A local stand-in of the Stripe API for Framehouse's payment tests (stripe-mock cannot be
// installed here). It speaks Stripe's wire format as documented: form-encoded bodies with
// bracketed keys, a bearer secret key, Stripe-Version, idempotency keys on POST (a repeated key
// with the same parameters gets the first answer again with `Idempotent-Replayed: true`, with
// other parameters a 400 idempotency_error), errors as {"error": {type, code, message}}, and
// objects in the shapes of API version 2025-03-31.basil and later. It sends events to the
// server's webhook endpoint signed by the official stripe package.
//
// Environment: API_KEY, WEBHOOK_SECRET, WEBHOOK_URL, PRICES (comma-separated Price ids).
// Besides Stripe's routes, /test/... lets a test act as the paying person and Stripe's
// scheduler: pay a checkout, renew (or fail to), resend an event (to several endpoints at once),
// read what was asked, make the next calls fail.
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import qs from 'qs';
import Stripe from 'stripe';

const { API_KEY, WEBHOOK_SECRET, WEBHOOK_URL } = process.env;
const prices = new Set((process.env.PRICES ?? '').split(',').filter(Boolean));
const signer = new Stripe('sk_test_stand_in_signer');
const DAY = 24 * 3600;

const customers = new Map();
const sessions = new Map();
const subscriptions = new Map();
const events = new Map();
const idempotency = new Map();
const requests = [];
const faults = [];  // {path, status, times}

const newId = (prefix) => `${prefix}_${randomBytes(12).toString('hex')}`;
const now = () => Math.floor(Date.now() / 1000);

class StripeError extends Error {
  constructor(status, type, message, code) {
    super(message);
    Object.assign(this, { status, type, code });
  }
}
const missing = (kind, id) => new StripeError(404, 'invalid_request_error', `No such ${kind}: '${id}'`, 'resource_missing');
const required = (name) => new StripeError(400, 'invalid_request_error', `Missing required param: ${name}.`, 'parameter_missing');

function subscriptionObject(subscription) {
  return {
    id: subscription.id, object: 'subscription', customer: subscription.customer, status: subscription.status,
    cancel_at_period_end: subscription.cancel_at_period_end, metadata: subscription.metadata, created: subscription.created,
    items: { object: 'list', data: [{ id: `si_${subscription.id.slice(4)}`, object: 'subscription_item',
      price: { id: subscription.price, object: 'price' }, current_period_start: subscription.period_start,
      current_period_end: subscription.period_end }] },
  };
}

function invoiceObject(subscription, status) {
  return {
    id: newId('in'), object: 'invoice', customer: subscription.customer, status, billing_reason: 'subscription_cycle',
    parent: { type: 'subscription_details', subscription_details: { subscription: subscription.id, metadata: subscription.metadata } },
    lines: { object: 'list', data: [{ object: 'line_item', period: { start: subscription.period_start, end: subscription.period_end },
      pricing: { type: 'price_details', price_details: { price: subscription.price } } }] },
  };
}

async function deliver(event, url = WEBHOOK_URL) {
  const payload = JSON.stringify(event);
  const header = signer.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
  try {
    const response = await fetch(url, { method: 'POST', body: payload,
      headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': header, 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' } });
    return { id: event.id, type: event.type, status: response.status, body: await response.text() };
  } catch (error) {
    return { id: event.id, type: event.type, status: 0, body: String(error) };
  }
}

function makeEvent(type, object, created = now()) {
  const event = { id: newId('evt'), object: 'event', api_version: '2025-08-27.basil', created, type, livemode: false,
    pending_webhooks: 1, request: { id: null, idempotency_key: null }, data: { object } };
  events.set(event.id, event);
  return event;
}

// The person pays an open checkout: the subscription starts and its events go out — the
// invoice first when `invoiceFirst`, as Stripe does not promise any order.
async function pay(id, invoiceFirst) {
  const session = sessions.get(id);
  if (!session || session.status !== 'open') throw missing('checkout session', id);
  const start = now();
  const subscription = { id: newId('sub'), customer: session.customer, status: 'active', cancel_at_period_end: false,
    metadata: session.subscription_metadata, price: session.price, created: start, period_start: start, period_end: start + 30 * DAY };
  subscriptions.set(subscription.id, subscription);
  Object.assign(session, { status: 'complete', payment_status: 'paid', subscription: subscription.id });
  const { url, price, subscription_metadata, ...sessionObject } = session;
  const completed = makeEvent('checkout.session.completed', sessionObject);
  const paid = makeEvent('invoice.paid', invoiceObject(subscription, 'paid'));
  const deliveries = [];
  for (const event of invoiceFirst ? [paid, completed] : [completed, paid]) deliveries.push(await deliver(event));
  return { subscription: subscription.id, deliveries, success_url: session.success_url };
}

// The pages a person sees at Stripe: Checkout (one button: pay) and the Customer Portal.
const page = (title, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body><main><h1>${title}</h1>${body}</main></body></html>`;
async function personPage(request, url, raw) {
  const checkout = url.pathname.match(/^\/pay\/([^/]+)$/);
  if (checkout && request.method === 'GET') {
    const session = sessions.get(checkout[1]);
    if (!session) return [404, page('No such checkout', '')];
    return [200, page('Pay for your subscription', `<p>Price ${session.price}</p><form method="post"><button type="submit">Pay</button></form>` +
      (session.cancel_url ? `<p><a href="${session.cancel_url}">Back</a></p>` : ''))];
  }
  if (checkout && request.method === 'POST') {
    const paid = await pay(checkout[1], false);
    return [303, '', { location: paid.success_url }];
  }
  const portal = url.pathname.match(/^\/portal\/([^/]+)$/);
  if (portal) return [200, page('Your billing', `<p>Customer ${portal[1]}</p>`)];
  return null;
}

// Stripe's own routes.
const routes = [
  ['POST', /^\/v1\/customers$/, (form) => {
    const customer = { id: newId('cus'), object: 'customer', created: now(), email: form.email ?? null, name: form.name ?? null,
      metadata: form.metadata ?? {} };
    customers.set(customer.id, customer);
    return customer;
  }],
  ['GET', /^\/v1\/customers\/([^/]+)$/, (form, id) => {
    const customer = customers.get(id);
    if (!customer) throw missing('customer', id);
    return customer.deleted ? { id, object: 'customer', deleted: true } : customer;
  }],
  ['POST', /^\/v1\/customers\/([^/]+)$/, (form, id) => {
    const customer = customers.get(id);
    if (!customer || customer.deleted) throw missing('customer', id);
    for (const key of ['email', 'name']) if (key in form) customer[key] = form[key];
    return customer;
  }],
  ['DELETE', /^\/v1\/customers\/([^/]+)$/, async (form, id) => {
    const customer = customers.get(id);
    if (!customer || customer.deleted) throw missing('customer', id);
    // Deleting a customer deletes its payment details and cancels its subscriptions at once.
    for (const key of Object.keys(customer)) if (!['id', 'object'].includes(key)) delete customer[key];
    customer.deleted = true;
    for (const subscription of subscriptions.values()) {
      if (subscription.customer === id && subscription.status !== 'canceled') {
        subscription.status = 'canceled';
        await deliver(makeEvent('customer.subscription.deleted', subscriptionObject(subscription)));
      }
    }
    return { id, object: 'customer', deleted: true };
  }],
  ['POST', /^\/v1\/checkout\/sessions$/, (form) => {
    for (const name of ['mode', 'success_url', 'line_items']) if (!(name in form)) throw required(name);
    if (form.mode !== 'subscription') throw new StripeError(400, 'invalid_request_error', 'Only subscription mode is offered here.');
    const price = form.line_items?.[0]?.price;
    if (!prices.has(price)) throw missing('price', price);
    if (form.customer && (!customers.has(form.customer) || customers.get(form.customer).deleted)) throw missing('customer', form.customer);
    const session = { id: newId('cs_test'), object: 'checkout.session', mode: 'subscription', status: 'open', customer: form.customer ?? null,
      client_reference_id: form.client_reference_id ?? null, success_url: form.success_url, cancel_url: form.cancel_url ?? null,
      metadata: form.metadata ?? {}, subscription_metadata: form.subscription_data?.metadata ?? {}, price, subscription: null,
      payment_status: 'unpaid' };
    session.url = `http://${serverAddress}/pay/${session.id}`;
    sessions.set(session.id, session);
    return session;
  }],
  ['POST', /^\/v1\/billing_portal\/sessions$/, (form) => {
    if (!form.customer) throw required('customer');
    if (!customers.has(form.customer) || customers.get(form.customer).deleted) throw missing('customer', form.customer);
    return { id: newId('bps'), object: 'billing_portal.session', customer: form.customer, return_url: form.return_url ?? null,
      url: `http://${serverAddress}/portal/${form.customer}` };
  }],
  ['GET', /^\/v1\/subscriptions\/([^/]+)$/, (form, id) => {
    const subscription = subscriptions.get(id);
    if (!subscription) throw missing('subscription', id);
    return subscriptionObject(subscription);
  }],
  ['POST', /^\/v1\/subscriptions\/([^/]+)$/, async (form, id) => {
    const subscription = subscriptions.get(id);
    if (!subscription) throw missing('subscription', id);
    if (subscription.status === 'canceled') {
      throw new StripeError(400, 'invalid_request_error', 'A canceled subscription can only update its cancellation_details and metadata.');
    }
    if ('cancel_at_period_end' in form) subscription.cancel_at_period_end = form.cancel_at_period_end === 'true';
    await deliver(makeEvent('customer.subscription.updated', subscriptionObject(subscription)));
    return subscriptionObject(subscription);
  }],
  ['DELETE', /^\/v1\/subscriptions\/([^/]+)$/, async (form, id) => {
    const subscription = subscriptions.get(id);
    if (!subscription) throw missing('subscription', id);
    subscription.status = 'canceled';
    await deliver(makeEvent('customer.subscription.deleted', subscriptionObject(subscription)));
    return subscriptionObject(subscription);
  }],
];

// The test's controls: the person paying, Stripe's renewal scheduler, redelivery, the log.
const controls = [
  // Pays an open checkout: the subscription starts and its events go out — the invoice first
  // when ?invoice_first=1, as Stripe does not promise any order.
  ['POST', /^\/test\/checkout\/([^/]+)\/pay$/, (query, id) => pay(id, query.invoice_first === '1')],
  // The period ends: the renewal is charged (?fail=1: declined, and the subscription is past due;
  // ?hold=1: the events are made but not sent, for /test/events/:id/deliver).
  ['POST', /^\/test\/subscriptions\/([^/]+)\/renew$/, async (query, id) => {
    const subscription = subscriptions.get(id);
    if (!subscription) throw missing('subscription', id);
    subscription.period_start = subscription.period_end;
    subscription.period_end += 30 * DAY;
    const failed = query.fail === '1';
    subscription.status = failed ? 'past_due' : 'active';
    const made = [makeEvent(failed ? 'invoice.payment_failed' : 'invoice.paid', invoiceObject(subscription, failed ? 'open' : 'paid')),
      makeEvent('customer.subscription.updated', subscriptionObject(subscription))];
    if (query.hold === '1') return { events: made.map((event) => event.id) };
    const deliveries = [];
    for (const event of made) deliveries.push(await deliver(event));
    return { deliveries };
  }],
  // One event sent to several endpoints at the same moment (?to=url,url,…): a retry racing the
  // first delivery, or two nodes behind a balancer that both got it.
  ['POST', /^\/test\/events\/([^/]+)\/deliver$/, async (query, id) => {
    if (!events.has(id)) throw missing('event', id);
    const targets = (query.to ?? '').split(',').filter(Boolean);
    return { deliveries: await Promise.all(targets.map((target) => deliver(events.get(id), target))) };
  }],
  // Stripe's last retry failed: the subscription is canceled.
  ['POST', /^\/test\/subscriptions\/([^/]+)\/give-up$/, async (query, id) => {
    const subscription = subscriptions.get(id);
    if (!subscription) throw missing('subscription', id);
    subscription.status = 'canceled';
    return { deliveries: [await deliver(makeEvent('customer.subscription.deleted', subscriptionObject(subscription)))] };
  }],
  ['POST', /^\/test\/events\/([^/]+)\/resend$/, async (query, id) => {
    if (!events.has(id)) throw missing('event', id);
    return { deliveries: [await deliver(events.get(id))] };
  }],
  // Any event of a type, made now but dated `created` (to arrive after newer ones).
  ['POST', /^\/test\/subscriptions\/([^/]+)\/stale-update$/, async (query, id) => {
    const subscription = subscriptions.get(id);
    if (!subscription) throw missing('subscription', id);
    const object = { ...subscriptionObject(subscription), cancel_at_period_end: query.cancel_at_period_end === 'true' };
    return { deliveries: [await deliver(makeEvent('customer.subscription.updated', object, Number(query.created)))] };
  }],
  ['POST', /^\/test\/faults$/, (query) => {
    faults.push({ path: query.path, status: Number(query.status), times: Number(query.times) });
    return { ok: true };
  }],
  ['GET', /^\/test\/requests$/, () => ({ requests })],
  ['GET', /^\/test\/customers\/([^/]+)$/, (query, id) => customers.get(id) ?? { id, missing: true }],
];

let serverAddress = '';

const server = http.createServer(async (request, response) => {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  const raw = Buffer.concat(chunks).toString('utf8');
  const url = new URL(request.url, 'http://stand-in');
  const answer = (status, body, headers = {}) => {
    response.writeHead(status, { 'content-type': 'application/json', 'request-id': newId('req'), ...headers });
    response.end(JSON.stringify(body));
  };
  const fail = (error) => answer(error.status ?? 500, { error: { type: error.type ?? 'api_error', code: error.code, message: error.message } });

  const shown = await personPage(request, url, raw).catch((error) => [500, page('Error', String(error.message))]);
  if (shown) {
    const [status, html, headers = {}] = shown;
    response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers });
    return response.end(html);
  }
  if (url.pathname.startsWith('/test/')) {
    const control = controls.find(([method, pattern]) => method === request.method && pattern.test(url.pathname));
    if (!control) return answer(404, { error: { message: 'no such control' } });
    try {
      return answer(200, await control[2](Object.fromEntries(url.searchParams), ...url.pathname.match(control[1]).slice(1)));
    } catch (error) {
      return fail(error);
    }
  }

  const idempotencyKey = request.headers['idempotency-key'] ?? null;
  const entry = { method: request.method, path: url.pathname, idempotency_key: idempotencyKey, stripe_version: request.headers['stripe-version'] ?? null,
    content_type: request.headers['content-type'] ?? null, form: qs.parse(raw), replayed: false, status: 0 };
  requests.push(entry);
  const done = (status, body, headers = {}) => {
    entry.status = status;
    answer(status, body, headers);
  };
  if (request.headers.authorization !== `Bearer ${API_KEY}`) {
    return done(401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided.' } });
  }
  const fault = faults.find((candidate) => candidate.times > 0 && candidate.path === url.pathname);
  if (fault) {
    fault.times -= 1;
    return done(fault.status, { error: { type: 'api_error', message: 'An injected failure.' } });
  }
  if (request.method === 'POST' && raw.length > 0 && !String(request.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
    return done(400, { error: { type: 'invalid_request_error', message: 'Invalid request: the body must be form-encoded.' } });
  }
  const fingerprint = createHash('sha256').update(`${request.method} ${url.pathname} ${raw}`).digest('hex');
  if (idempotencyKey && request.method === 'POST' && idempotency.has(idempotencyKey)) {
    const first = idempotency.get(idempotencyKey);
    if (first.fingerprint !== fingerprint) {
      return done(400, { error: { type: 'idempotency_error', message: 'Keys for idempotent requests can only be used with the same parameters they were first used with.' } });
    }
    entry.replayed = true;
    return done(first.status, first.body, { 'idempotent-replayed': 'true' });
  }
  const route = routes.find(([method, pattern]) => method === request.method && pattern.test(url.pathname));
  let status = 200, body;
  try {
    if (!route) throw new StripeError(404, 'invalid_request_error', `Unrecognized request URL (${request.method}: ${url.pathname}).`);
    body = await route[2](entry.form, ...url.pathname.match(route[1]).slice(1));
  } catch (error) {
    status = error.status ?? 500;
    body = { error: { type: error.type ?? 'api_error', code: error.code, message: error.message } };
  }
  // Stripe keeps the first answer of a key, errors of the request's own making included.
  if (idempotencyKey && request.method === 'POST' && status < 500) idempotency.set(idempotencyKey, { fingerprint, status, body });
  done(status, body);
});

server.listen(0, '127.0.0.1', () => {
  serverAddress = `127.0.0.1:${server.address().port}`;
  console.log(`listening on http://${serverAddress}`);
});
