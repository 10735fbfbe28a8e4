// Buys Premium in the app in Debian's Chromium, as a person would: signs in, opens the
// subscription screen, subscribes, pays on the payment processor's page (the Stripe stand-in's
// Checkout), comes back to the app and waits for the plan, then opens the processor's portal
// for the card. axe-core checks the screen before and after (zero WCAG 2.x A/AA violations).
//   ORIGIN=http://… EMAIL=… PASSWORD=… [SCREENSHOTS=dir] node checkout.mjs
// Prints one JSON line: {"before", "after", "checkout", "portal", "violations"}.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const { ORIGIN, EMAIL, PASSWORD, SCREENSHOTS } = process.env;
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

async function violations(page) {
  await page.waitForLoadState('networkidle');
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
  }));
  return result.violations.map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
});
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${ORIGIN}/`);
  await page.getByLabel('Email address').fill(EMAIL);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Create a video' }).waitFor();

  await page.goto(`${ORIGIN}/#/settings/subscription`);
  const subscribe = page.getByRole('button', { name: 'Subscribe to premium' });
  await subscribe.waitFor();
  const found = await violations(page);
  const before = await page.locator('dl.facts').textContent();

  await Promise.all([page.waitForURL((url) => url.origin !== ORIGIN), subscribe.click()]);
  const checkout = page.url();
  await page.getByRole('heading', { name: 'Pay for your subscription' }).waitFor();
  await Promise.all([page.waitForURL((url) => url.origin === ORIGIN), page.getByRole('button', { name: 'Pay' }).click()]);
  // Back in the app: the plan is there once the processor's events were applied.
  const manage = page.getByRole('button', { name: 'Payment method and invoices' });
  await manage.waitFor();
  found.push(...await violations(page));
  const after = await page.locator('dl.facts').textContent();
  if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'subscription-paid.png'), fullPage: true });

  await Promise.all([page.waitForURL((url) => url.origin !== ORIGIN), manage.click()]);
  await page.getByRole('heading', { name: 'Your billing' }).waitFor();
  console.log(JSON.stringify({ before, after, checkout, portal: page.url(), violations: found, errors }));
} finally {
  await browser.close();
}
