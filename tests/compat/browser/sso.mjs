// Signs in through an OpenID Connect provider in Debian's Chromium, as a person would: opens
// the server's SSO start link, types a login name into the provider's form, consents, answers
// the server's birth-date or two-factor code question if it asks, and prints where the
// browser ended up.
//   START=http://…/v1/sso/corp/start?return_to=/v1/me LOGIN=ann [BIRTH_DATE=1990-01-01] [CODE=123456] node sso.mjs
// Prints one JSON line: {"url": …, "status": …, "text": …}.
import { chromium } from 'playwright-core';

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
});
try {
  const page = await browser.newPage();
  let response = await page.goto(process.env.START);
  const start = new URL(process.env.START);
  for (let step = 0; step < 8; step += 1) {
    const onServer = new URL(page.url()).origin === start.origin;
    if (onServer && (await page.$('[name="date_of_birth"]'))) {
      await page.fill('[name="date_of_birth"]', process.env.BIRTH_DATE ?? '');
    } else if (onServer && (await page.$('[name="code"]')) && process.env.CODE) {
      await page.fill('[name="code"]', process.env.CODE);
      delete process.env.CODE;  // once: a second question means the code was refused
    } else if (onServer || !(await page.$('button[type="submit"]'))) {
      break;  // back on the server with nothing more to answer
    } else if (await page.$('[name="login"]')) {
      await page.fill('[name="login"]', process.env.LOGIN);
      await page.fill('[name="password"]', 'not checked by the development login');
    }
    [response] = await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  }
  console.log(JSON.stringify({ url: page.url(), status: response?.status(), text: await page.textContent('body') }));
} finally {
  await browser.close();
}
