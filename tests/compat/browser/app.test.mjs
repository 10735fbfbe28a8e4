// The web app as people use it, in Debian's Chromium: every area end to end, axe-core on
// every screen (zero WCAG 2.x A/AA violations), the page's CSP, and no console error.
//   ORIGIN=http://127.0.0.1:PORT SETUP_URL=… OUTBOX=<email_outbox folder> [SCREENSHOTS=dir] node --test app.test.mjs
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readFileSync, readdirSync, statSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';

const { ORIGIN, SETUP_URL, OUTBOX, SCREENSHOTS, POLICY_USER } = process.env;
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const PASSWORD = 'correct horse battery';
// A small 16:9 PNG made by ffmpeg (the test server takes small bodies only).
const PNG = execFileSync('/usr/bin/ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=48x27', '-frames:v', '1',
  '-f', 'image2', '-c:v', 'png', 'pipe:1']);

let browser;
const contexts = {};
const problems = [];

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
  if (SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true });
});
after(async () => {
  await browser?.close();
  assert.deepEqual(problems, [], 'the browser reported errors');
});

// One person's browser: a context with its own cookies, and a page that records errors.
async function person(name, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  page.on('console', (message) => {
    // A 4xx the app asked for and handles (a wrong password, a 401 while signed out) is logged
    // by Chromium as a failed resource; real script errors are not of that kind.
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) problems.push(`${name}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${name}: ${error.message}`));
  contexts[name] = page;
  return page;
}

async function open(page, path) {
  const response = await page.goto(path.startsWith('http') ? path : ORIGIN + path);
  if (response === null) return null;  // only the fragment changed: the app moved to another screen
  assert.equal(response.status(), 200, path);
  const csp = response.headers()['content-security-policy'] ?? '';
  for (const rule of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"]) {
    assert.ok(csp.includes(rule), `${path}: CSP lacks ${rule}: ${csp}`);
  }
  assert.ok(!/unsafe-(inline|eval)/.test(csp), csp);
  return response;
}

// axe-core on what the page shows now; a screenshot of it for the docs.
async function audit(page, name) {
  await page.waitForLoadState('networkidle');
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
  }));
  const found = result.violations.map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(found, [], `${name}: axe found WCAG violations`);
  if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

// The newest mail to `address` whose subject matches, once the server's outbox delivered it.
async function mailTo(address, subject) {
  for (let i = 0; i < 200; ++i) {
    // An erasure deletes the person's mail files from the outbox plugin while we look.
    const readable = (read) => { try { return read(); } catch { return null; } };
    const found = readdirSync(OUTBOX).filter((name) => name.endsWith('.eml')).map((name) => join(OUTBOX, name))
      .map((file) => readable(() => ({ at: statSync(file).mtimeMs, text: readFileSync(file, 'utf8') })))
      .filter(Boolean).sort((a, b) => a.at - b.at).map((mail) => mail.text)
      .filter((text) => new RegExp(`^To: .*${address}`, 'mi').test(text) && subject.test(text.match(/^Subject: (.*)$/m)?.[1] ?? ''));
    if (found.length > 0) return found[found.length - 1];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no mail to ${address} about ${subject}`);
}
const linkIn = (text, path) => text.match(new RegExp(`https?://[^\\s<>"]+${path}[^\\s<>"]*`))?.[0];

// Waits for a locator; on a timeout the error says what the screen showed instead.
async function shown(page, locator, options) {
  try {
    await locator.waitFor(options);
  } catch (error) {
    error.message += `\n--- the screen said: ${(await page.textContent('body').catch(() => '')).slice(0, 1500)}`;
    throw error;
  }
}

async function signIn(page, email, password) {
  await open(page, '/');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Create a video' }).waitFor();
}

test('the first admin is made with the setup link the server printed', async () => {
  const page = await person('admin');
  await open(page, SETUP_URL);
  await audit(page, 'setup');
  await page.getByLabel('Name').fill('Root Admin');
  await page.getByLabel('Email address').fill('root@example.org');
  await page.getByLabel('New password').fill('an admin pass phrase');
  await page.getByRole('button', { name: 'Create admin' }).click();
  await shown(page, page.getByText('You are the admin and signed in'));
  assert.ok(!page.url().includes('token='), 'the used token left the address bar');
  // The link works once.
  const again = await page.request.post(`${ORIGIN}/v1/setup/first-admin`, {
    data: { token: new URL(SETUP_URL).hash.slice('#token='.length), name: 'Mallory', email: 'm@example.org', password: 'another pass phrase' },
  });
  assert.equal(again.status(), 403);
});

test('sign-up through the mailed link, then sign-in', async () => {
  const page = await person('alice');
  await open(page, '/#/sign-up');
  await audit(page, 'sign-up');
  await page.getByLabel('Name').fill('Alice');
  await page.getByLabel('Email address').fill('alice@example.org');
  await page.getByLabel('New password').fill('short');
  await page.getByLabel('Date of birth').fill('1990-05-01');
  await page.getByRole('button', { name: 'Create account' }).click();
  // The server's error lands at its field.
  await page.locator('#' + await page.getByLabel('New password').getAttribute('aria-describedby').then((ids) => ids.split(' ').pop()))
    .waitFor();
  await page.getByLabel('New password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await shown(page, page.getByRole('heading', { name: 'Check your mailbox' }));

  const link = linkIn(await mailTo('alice@example.org', /confirm/i), '/verify-email');
  assert.ok(link, 'the mail links into the app');
  await open(page, link);
  await audit(page, 'verify-email');
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByText('Your email address is confirmed').waitFor();
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await audit(page, 'sign-in');
  await page.getByLabel('Email address').fill('alice@example.org');
  await page.getByLabel('Password', { exact: true }).fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('The email address or password is not correct').waitFor();
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Create a video' }).waitFor();
});

test('make a video from a prompt and an image, watch it, play it and download it', async () => {
  const page = contexts.alice;
  await page.getByText(/0 of 1000 videos in the last 24 hours/).waitFor();
  await audit(page, 'create');
  await page.getByLabel('Prompt').fill('A lighthouse at dawn');
  await page.getByLabel('Start from an image (optional)').setInputFiles({ name: 'start.png', mimeType: 'image/png', buffer: PNG });
  await page.getByRole('img', { name: 'The image the video starts from' }).waitFor();
  await page.getByRole('button', { name: 'Create video' }).click();
  await page.getByText('Your video is on its way').waitFor();
  const play = page.getByRole('button', { name: 'Play “A lighthouse at dawn”' });
  await play.waitFor({ timeout: 60_000 });
  await audit(page, 'videos');
  await play.click();
  const player = page.locator('dialog video.player');
  await player.waitFor();
  // The player has the video's metadata: its first Range request was answered. (Waited for with
  // an event, not waitForFunction, whose polling needs eval — which the page's CSP forbids.)
  await player.evaluate((video) => new Promise((resolve) => {
    if (video.readyState >= 1) resolve();
    else video.addEventListener('loadedmetadata', resolve, { once: true });
  }));
  await audit(page, 'player');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download MP4' }).click()]);
  const bytes = readFileSync(await download.path());
  assert.equal(bytes.subarray(4, 8).toString(), 'ftyp', 'the download is an MP4');
  await page.keyboard.press('Escape');
  await player.waitFor({ state: 'hidden' });
});

test('remix, reuse settings, and cancel a video in the queue', async () => {
  const page = contexts.alice;
  await page.getByRole('link', { name: 'Remix' }).first().click();
  await page.getByText('Remixing “A lighthouse at dawn”').waitFor();
  await page.getByLabel('Prompt').fill('A lighthouse at night');
  await page.getByRole('button', { name: 'Create remix' }).click();
  await page.getByRole('button', { name: 'Play “A lighthouse at night”' }).waitFor({ timeout: 60_000 });
  const list = await (await page.request.get(`${ORIGIN}/v1/videos`)).json();
  const remix = list.data.find((video) => video.prompt === 'A lighthouse at night');
  assert.ok(remix.remixed_from_video_id, 'made as a remix');

  await page.getByRole('link', { name: 'Reuse settings' }).first().click();
  await page.getByRole('heading', { name: 'Create a video' }).waitFor();
  assert.equal(await page.getByLabel('Prompt').inputValue(), 'A lighthouse at night');
  assert.equal(await page.getByLabel('Seed').inputValue(), String(remix.seed));
  await page.getByLabel('Prompt').fill('A long slow pan over the sea');
  await page.getByLabel('Length').selectOption('20');
  await page.getByRole('button', { name: 'Create video' }).click();
  await page.getByText('Your video is on its way').waitFor();
  const cancel = page.getByRole('button', { name: 'Cancel' });
  await cancel.click({ timeout: 10_000 });
  await page.getByText('Canceled.').or(page.getByRole('heading', { name: 'In progress' })).first().waitFor();
  let state;
  for (let i = 0; i < 100; ++i) {
    state = (await (await page.request.get(`${ORIGIN}/v1/videos?q=slow%20pan`)).json()).data[0];
    if (state.status === 'failed') break;
    await page.waitForTimeout(100);
  }
  assert.equal(state.error?.code, 'canceled');
});

test('the gallery filters by prompt words and dates', async () => {
  const page = contexts.alice;
  await open(page, '/#/videos');
  await page.getByLabel('Prompt contains').fill('dawn');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('button', { name: 'Play “A lighthouse at night”' }).waitFor({ state: 'detached' });
  await page.getByRole('button', { name: 'Play “A lighthouse at dawn”' }).waitFor();
  await page.getByLabel('Made until').fill('2001-01-01');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('No video matches.').waitFor();
});

test('settings changes reach the API', async () => {
  const page = contexts.alice;
  await open(page, '/#/settings/profile');
  await audit(page, 'settings-profile');
  await page.getByLabel('Name').fill('Alice Liddell');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved.').waitFor();
  assert.equal((await (await page.request.get(`${ORIGIN}/v1/me`)).json()).name, 'Alice Liddell');

  await open(page, '/#/settings/communications');
  await page.getByLabel('Offers and news').click();
  await page.getByText('Saved.').waitFor();
  await shown(page, page.getByRole('cell', { name: 'In settings' }).first());
  assert.equal((await (await page.request.get(`${ORIGIN}/v1/me/preferences`)).json()).marketing, true);
  await audit(page, 'settings-communications');
  for (const section of ['security', 'subscription']) {
    await open(page, `/#/settings/${section}`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    await audit(page, `settings-${section}`);
  }
});

test('download my data: request, wait, download the ZIP', async () => {
  const page = contexts.alice;
  await open(page, '/#/settings/privacy');
  await page.getByRole('button', { name: 'Request a copy of my data' }).click();
  // The app asks again by itself while the request is on its way.
  const link = page.getByRole('link', { name: 'Download the copy' });
  await shown(page, link, { timeout: 60_000 });
  await audit(page, 'settings-privacy');
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  assert.equal(readFileSync(await download.path()).subarray(0, 2).toString(), 'PK', 'a ZIP archive');
});

test('the privacy center: policy, processors, a request by email with the mailed code', async () => {
  const page = await person('visitor');
  await open(page, '/privacy');
  await audit(page, 'privacy-center');
  await open(page, '/privacy#/policy');
  await page.getByText(/^Last Updated: /).first().waitFor();
  await audit(page, 'privacy-policy');
  await open(page, '/privacy#/processors');
  await page.getByRole('table').waitFor();
  await audit(page, 'privacy-processors');
  await open(page, '/privacy#/request?type=access');
  await page.getByLabel('Email address').fill('alice@example.org');
  await page.getByRole('button', { name: 'Send me a code' }).click();
  const code = (await mailTo('alice@example.org', /code/i)).match(/\b(\d{6})\b/)[1];
  const field = page.getByLabel('Code from the mail');
  assert.equal(await field.getAttribute('autocomplete'), 'one-time-code');
  await field.fill(` ${code.slice(0, 3)} ${code.slice(3)} `);  // pasted with spaces
  await audit(page, 'privacy-code');
  await page.getByRole('button', { name: 'Confirm the request' }).click();
  await page.getByRole('heading', { name: 'Request received' }).waitFor();
  await audit(page, 'privacy-received');
});

test('an admin finds a user, suspends them, and handles a privacy request', async () => {
  const page = contexts.admin;
  await open(page, '/admin#/users');
  await audit(page, 'admin-users');
  await page.getByLabel('Address or name starts with').fill('alice');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('link', { name: 'Alice Liddell' }).click();
  await page.getByRole('heading', { name: 'Alice Liddell' }).waitFor();
  await shown(page, page.getByText(/videos in the last 24 hours/));
  await audit(page, 'admin-user');

  await open(page, '/admin#/requests');
  await page.getByRole('table').waitFor();
  await audit(page, 'admin-requests');
  await page.getByRole('link', { name: /^Copy of data/ }).first().click();
  await page.getByRole('heading', { name: 'Every participant' }).waitFor();
  await audit(page, 'admin-request');

  // An unverified request (asked by email, code never entered) is hidden until asked for;
  // the admin cancels it with a reason.
  await page.request.post(`${ORIGIN}/v1/privacy/intake`, { data: { email: 'nobody-yet@example.org', type: 'erasure' } });
  await open(page, '/admin#/requests');
  await page.getByRole('table').waitFor();
  assert.equal(await page.getByRole('cell', { name: 'Waiting for the code' }).count(), 0, 'unverified hidden by default');
  await page.getByLabel('Show unverified requests').click();
  await shown(page, page.getByRole('cell', { name: 'Waiting for the code' }));
  await page.getByRole('row', { name: /Waiting for the code/ }).getByRole('link').click();
  const cancel = page.locator('form', { has: page.getByRole('heading', { name: 'Cancel the request' }) });
  await cancel.getByLabel('Reason').fill('duplicate of a ticket');
  await cancel.getByRole('button', { name: 'Cancel the request' }).click();
  await shown(page, page.getByRole('definition').filter({ hasText: /^Canceled/ }));

  // A marketing mail from the announcements screen reaches Alice (she opted in), and its
  // one-click unsubscribe page works in the browser.
  await open(page, '/admin#/announcements');
  await page.getByLabel('Category').selectOption('marketing');
  await page.getByLabel('Subject').fill('Longer videos');
  await page.getByLabel('Text').fill('Premium now makes 20 second videos.');
  await page.getByRole('button', { name: 'Send' }).click();
  await shown(page, page.getByText('Queued. It goes to everyone who may receive it.'));
  const unsubscribe = linkIn(await mailTo('alice@example.org', /Longer videos/), '/v1/unsubscribe/');
  const reader = contexts.alice;
  // The server's own page (no script at all): nothing but a form that posts to itself.
  const landing = await reader.goto(unsubscribe);
  assert.equal(landing.status(), 200);
  assert.match(landing.headers()['content-security-policy'], /default-src 'none'.*frame-ancestors 'none'/);
  await reader.getByRole('button', { name: 'Unsubscribe' }).click();
  await shown(reader, reader.getByRole('heading', { name: 'Unsubscribed' }));
  assert.equal((await (await reader.request.get(`${ORIGIN}/v1/me/preferences`)).json()).marketing, false);
  for (const screen of ['holds', 'disclosures', 'announcements', 'analytics', 'audit', 'outbox', 'health']) {
    await open(page, `/admin#/${screen}`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    if (screen === 'audit') await shown(page, page.getByText(/^The chain is intact: \d+ entries/));
    if (screen === 'health') await shown(page, page.getByRole('cell', { name: 'announcements' }));
    await audit(page, `admin-${screen}`);
  }

  // Bob signs up (by the API) so that the admin can suspend him in the browser.
  await page.request.post(`${ORIGIN}/v1/accounts`, { data: { name: 'Bob', email: 'bob@example.org', password: PASSWORD, date_of_birth: '1985-01-01' } });
  const token = linkIn(await mailTo('bob@example.org', /confirm/i), '/verify-email').split('token=')[1];
  assert.equal((await page.request.post(`${ORIGIN}/v1/accounts/verify-email`, { data: { token } })).status(), 200);
  await open(page, '/admin#/users');
  await page.getByLabel('Address or name starts with').fill('bob@');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('link', { name: 'Bob' }).click();
  await page.getByRole('heading', { name: 'Bob' }).waitFor();
  await page.getByLabel('Reason').first().fill('abuse report 42');
  await page.getByRole('button', { name: 'Suspend' }).click();
  await page.getByText('Suspended', { exact: true }).waitFor();
  const bob = await browser.newContext();
  const refused = await bob.request.post(`${ORIGIN}/v1/sessions`, { data: { email: 'bob@example.org', password: PASSWORD } });
  assert.equal(refused.status(), 403, 'a suspended account cannot sign in');
  await bob.close();
});

test('delete my account, and check the deletion receipt in the browser', async () => {
  const page = contexts.alice;
  await open(page, '/#/settings/privacy');
  await page.getByRole('button', { name: 'Delete my account…' }).click();
  await page.getByRole('button', { name: 'Yes, delete my account' }).click();
  const mail = await mailTo('alice@example.org', /deleted|erased|receipt/i);
  const receiptLink = linkIn(mail, '/v1/privacy/receipts/');
  assert.ok(receiptLink, 'the last mail links the receipt');
  const receipt = await (await page.request.get(receiptLink)).text();

  const visitor = contexts.visitor;
  await open(visitor, '/privacy#/receipt');
  await visitor.getByLabel('Receipt (JSON)').fill(receipt);
  await visitor.getByRole('button', { name: 'Check' }).click();
  await visitor.getByText(/^Intact: signed by this server’s key/).waitFor();
  await audit(visitor, 'privacy-receipt');
  const parsed = JSON.parse(receipt);
  parsed.payload = parsed.payload.replace('"', '" ');
  await visitor.getByLabel('Receipt (JSON)').fill(JSON.stringify(parsed));
  await visitor.getByRole('button', { name: 'Check' }).click();
  await visitor.getByText('Not intact: the receipt was changed after it was signed.').waitFor();
});

test('every word comes from the catalogue (pseudo-locale), and the app works at 320 px', async () => {
  const page = await person('narrow', { width: 320, height: 640 });
  await open(page, '/?lang=pseudo#/sign-up');
  await page.getByRole('heading', { level: 1 }).waitFor();
  const untranslated = await page.evaluate(() => {
    const name = document.querySelector('meta[name="application-name"]').content;
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const left = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.parentElement.closest('noscript')) continue;  // for browsers without scripts, which cannot switch
      const text = node.textContent.trim();
      if (text && text !== name && !text.includes('⟦') && !/^[.:·,—()]+$/.test(text)) left.push(text);
    }
    return left;
  });
  assert.deepEqual(untranslated, [], 'text that does not come from the message catalogue');
  await open(page, '/?lang=en#/sign-up');
  await page.getByRole('heading', { name: 'Create an account' }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `no sideways scrolling at 320 px (${overflow} px too wide)`);
  await audit(page, 'sign-up-320px');
});

test('assets: immutable, compressed, and the first load is small', async () => {
  const page = await person('fresh');
  const sizes = [];
  page.on('requestfinished', async (request) => {
    if (/\.(js|css)$/.test(request.url())) sizes.push((await request.sizes()).responseBodySize);
  });
  const started = Date.now();
  await open(page, '/');
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  const interactive = Date.now() - started;
  await page.waitForLoadState('networkidle');
  const total = sizes.reduce((sum, size) => sum + size, 0);
  console.log(`first load: ${sizes.length} JS/CSS files, ${(total / 1024).toFixed(1)} KB compressed, sign-in form shown after ${interactive} ms`);
  assert.ok(total < 150 * 1024, `first load ${total} bytes of JS+CSS`);
  const css = await page.evaluate(() => document.querySelector('link[rel="stylesheet"]').href);
  const answer = await page.request.get(css, { headers: { 'Accept-Encoding': 'gzip' } });
  assert.match(answer.headers()['cache-control'], /immutable/);
  const stale = await page.request.get(css.replace(/\/assets\/[0-9a-f]+\//, '/assets/0000000000000000/'));
  assert.equal(stale.status(), 404, 'another build’s URL is not served as this one');
});

test('keyboard only: sign in and make a video without a mouse, focus always visible', async () => {
  const page = await person('keyboard');
  await open(page, '/');
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  // Tab until the control named `name` has the focus; its focus ring must show.
  const tabTo = async (name) => {
    for (let i = 0; i < 30; ++i) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const element = document.activeElement;
        return { name: element.getAttribute('name') ?? element.textContent.trim(), outline: getComputedStyle(element).outlineStyle };
      });
      if (focused.name === name) {
        assert.notEqual(focused.outline, 'none', `the focus on ${name} is visible`);
        return;
      }
    }
    throw new Error(`Tab never reached ${name}`);
  };
  await tabTo('email');
  await page.keyboard.type('root@example.org');
  await tabTo('password');
  await page.keyboard.type('an admin pass phrase');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Create a video' }).waitFor();
  await tabTo('prompt');
  await page.keyboard.type('Typed without a mouse');
  await tabTo('Create video');
  await page.keyboard.press('Enter');
  await shown(page, page.getByText('Your video is on its way'));
  await shown(page, page.getByRole('button', { name: 'Play “Typed without a mouse”' }), { timeout: 60_000 });
});

test('two-factor sign-in: turned on in settings with an authenticator code, then a sign-in with a recovery code', async () => {
  const page = contexts.keyboard;
  await open(page, '/#/settings/security');
  await page.getByRole('button', { name: 'Turn on' }).click();
  const secret = (await page.locator('p', { hasText: 'Secret:' }).locator('code').textContent()).trim();
  await page.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
  const code = execFileSync('/usr/bin/oathtool', ['--totp', '-b', secret], { encoding: 'utf8' }).trim();
  await page.getByLabel('Code').fill(code);
  await page.getByRole('button', { name: 'Confirm and turn on' }).click();
  await shown(page, page.getByText('Two-factor sign-in is on.'));
  const recovery = (await page.locator('.codes code').first().textContent()).trim();
  await audit(page, 'settings-two-factor');

  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Email address').fill('root@example.org');
  await page.getByLabel('Password', { exact: true }).fill('an admin pass phrase');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await shown(page, page.getByRole('heading', { name: 'Enter your code' }));
  assert.equal(await page.getByLabel('Code').getAttribute('autocomplete'), 'one-time-code');
  await page.getByLabel('Code').fill(recovery);
  await page.getByRole('button', { name: 'Continue' }).click();
  await shown(page, page.getByRole('heading', { name: 'Create a video' }));
});

test('least privilege: an analyst given the role in the console sees only the screens of that role', async () => {
  const admin = contexts.admin;
  await admin.request.post(`${ORIGIN}/v1/accounts`, { data: { name: 'Ana', email: 'ana@example.org', password: PASSWORD, date_of_birth: '1980-02-02' } });
  const token = linkIn(await mailTo('ana@example.org', /confirm/i), '/verify-email').split('token=')[1];
  assert.equal((await admin.request.post(`${ORIGIN}/v1/accounts/verify-email`, { data: { token } })).status(), 200);
  await open(admin, '/admin#/users');
  await admin.getByLabel('Address or name starts with').fill('ana@');
  await admin.getByRole('button', { name: 'Search' }).click();
  await admin.getByRole('link', { name: 'Ana', exact: true }).click();
  await admin.getByRole('heading', { name: 'Ana', exact: true }).waitFor();
  await admin.getByLabel('Role').selectOption('analyst');
  await admin.getByRole('button', { name: 'Change the role' }).click();
  await shown(admin, admin.getByRole('definition').filter({ hasText: /^analyst$/ }));

  const page = await person('analyst');
  await open(page, '/admin');
  await page.getByLabel('Email address').fill('ana@example.org');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await shown(page, page.getByRole('heading', { name: 'Analytics' }));
  const screens = await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
  assert.deepEqual(screens, ['Analytics', 'Health and queues']);
  // The API refuses what the console does not show.
  assert.equal((await page.request.get(`${ORIGIN}/v1/admin/users`)).status(), 403);
});

test('a new policy version is announced in the app until it is acknowledged', async () => {
  const page = await person('pat');
  await signIn(page, POLICY_USER, PASSWORD);
  const banner = page.getByRole('region', { name: 'Privacy policy update' });
  await shown(page, banner);
  // In the page's flow, so that it never covers the control that has the focus.
  assert.equal(await banner.evaluate((element) => getComputedStyle(element).position), 'static');
  await audit(page, 'policy-banner');
  await banner.getByRole('button', { name: 'I have read it' }).click();
  await banner.waitFor({ state: 'detached' });
  assert.equal((await (await page.request.get(`${ORIGIN}/v1/me`)).json()).policy_update, undefined);
});
