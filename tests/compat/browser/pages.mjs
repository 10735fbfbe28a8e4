// Opens the server's HTML pages in Debian's Chromium as a person would: follows each link,
// fills the named fields, presses the form's button, and checks what the next page says.
// Fails on any page that the browser refuses to work with (a Content-Security-Policy
// violation, a script or console error) or that can be framed by another site.
//   PAGES='[{"url":"http://…","fill":{"password":"…"},"expect":"…"}]' node pages.mjs
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const steps = JSON.parse(process.env.PAGES);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  // Root in a container has no user namespaces for Chromium's sandbox.
  args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
});
try {
  for (const step of steps) {
    const page = await browser.newPage();
    const problems = [];
    page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()); });
    page.on('pageerror', (error) => problems.push(error.message));

    const opened = await page.goto(step.url);
    assert.equal(opened.status(), 200, step.url);
    assert.match(opened.headers()['content-security-policy'] ?? '', /frame-ancestors 'none'/);
    for (const [name, value] of Object.entries(step.fill ?? {})) await page.fill(`[name="${name}"]`, value);
    const [answer] = await Promise.all([page.waitForNavigation(), page.click('form button[type="submit"]')]);
    assert.equal(answer.status(), 200, `${step.url}: ${await page.textContent('body')}`);
    const text = await page.textContent('body');
    assert.ok(text.includes(step.expect), `${step.url}: expected "${step.expect}", got "${text}"`);
    assert.deepEqual(problems, [], `${step.url}: the browser reported problems`);
    await page.close();
  }
} finally {
  await browser.close();
}
console.log(`browser: ${steps.length} pages opened, filled, submitted and answered`);
