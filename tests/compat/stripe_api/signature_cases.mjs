// Webhook signature cases made by the official stripe package, each with its own verdict
// (stripe.webhooks.constructEvent, the default 300 s tolerance), printed as JSON for the C++
// verifier's test to reach the same verdicts.
import Stripe from 'stripe';
import { randomBytes } from 'node:crypto';

const stripe = new Stripe('sk_test_signature_cases_make_no_calls');
const secret = `whsec_${randomBytes(24).toString('base64url')}`;
const otherSecret = `whsec_${randomBytes(24).toString('base64url')}`;
const now = Math.floor(Date.now() / 1000);
const payload = JSON.stringify({
  id: 'evt_signature_case', object: 'event', type: 'invoice.paid', created: now,
  data: { object: { id: 'in_1', object: 'invoice', customer: 'cus_1', amount_paid: 1900, currency: 'eur' } },
});
const header = (options) => stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: now, ...options });
const v1 = (h) => h.split(',').find((item) => item.startsWith('v1=')).slice(3);
const right = header();
const wrong = header({ secret: otherSecret });

const cases = [
  { name: 'valid', header: right },
  { name: 'one byte of the body changed', header: right, payload: payload.replace('1900', '1901') },
  { name: 'signed 299 s ago', header: header({ timestamp: now - 299 }) },
  { name: 'signed 301 s ago', header: header({ timestamp: now - 301 }) },
  { name: 'a wrong v1 before the right one (secret rotation)', header: `t=${now},v1=${v1(wrong)},v1=${v1(right)}` },
  { name: 'a wrong v1 after the right one', header: `t=${now},v1=${v1(right)},v1=${v1(wrong)}` },
  { name: 'only a wrong v1', header: wrong },
  { name: 'v0 only', header: header({ scheme: 'v0' }) },
  { name: 'missing t', header: `v1=${v1(right)}` },
  { name: 'a t of another time', header: `t=${now + 1},v1=${v1(right)}` },
  { name: 'an empty header', header: '' },
  { name: 'the v1 in upper case', header: `t=${now},v1=${v1(right).toUpperCase()}` },
  { name: 'a truncated v1', header: `t=${now},v1=${v1(right).slice(0, 63)}` },
];

for (const testCase of cases) {
  testCase.payload ??= payload;
  try {
    stripe.webhooks.constructEvent(testCase.payload, testCase.header, secret);
    testCase.accepted = true;
  } catch (error) {
    testCase.accepted = false;
    testCase.message = error.message;
  }
}
process.stdout.write(JSON.stringify({ now, secret, cases }));
