// The gallery with many videos, in Debian's Chromium (a benchmark, run by tests/bench/gallery.sh,
// never by ctest): signs in, opens My videos, and measures the first page on screen, every
// further page ("Older", click to cards, in the page) to the last, and a scroll of the page — the longest
// task the main thread ran (a "long task" is jank: over 50 ms) and the frame times while
// scrolling.
//   ORIGIN=http://… EMAIL=… PASSWORD=… node gallery_bench.mjs
// Prints one JSON line.
import { chromium } from 'playwright-core';

const { ORIGIN, EMAIL, PASSWORD } = process.env;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.addInitScript(() => {
    window.longTasks = [];
    new PerformanceObserver((list) => window.longTasks.push(...list.getEntries().map((entry) => entry.duration)))
      .observe({ type: 'longtask', buffered: true });
  });
  await page.goto(`${ORIGIN}/`);
  await page.getByLabel('Email address').fill(EMAIL);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Create a video' }).waitFor();
  await page.evaluate(() => { window.longTasks = []; });

  const started = Date.now();
  await page.goto(`${ORIGIN}/#/videos`);
  await page.locator('ul.gallery li.card').first().waitFor();
  const firstPageMs = Date.now() - started;

  // Every further page, as a person pressing "Older" would, timed in the page from the click to
  // the next page's cards in the list (Playwright's own waits would add their polling).
  const paging = await page.evaluate(async () => {
    const list = document.querySelector('ul.gallery');
    const older = () => [...document.querySelectorAll('button')].find((button) => button.textContent.trim() === 'Older');
    const times = [];
    for (let button = older(); button && !button.disabled; button = older()) {
      const first = list.firstElementChild;
      const replaced = new Promise((resolve) => {
        const watcher = new MutationObserver(() => {
          if (list.firstElementChild !== first) {
            watcher.disconnect();
            resolve();
          }
        });
        watcher.observe(list, { childList: true });
      });
      const started = performance.now();
      button.click();
      await replaced;
      times.push(performance.now() - started);
      // The buttons are disabled while a page loads.
      while (older()?.disabled && document.querySelector('.count')?.textContent.includes('Loading')) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    return times;
  });
  const pages = paging.length + 1;
  const pageTurnMs = paging.length ? Math.round(paging.reduce((sum, ms) => sum + ms, 0) / paging.length) : 0;
  const pageMax = Math.round(Math.max(0, ...paging));
  const cards = await page.locator('ul.gallery li.card').count();  // on the last page

  // A scroll from top to bottom, 100 px a frame, timing each frame.
  const frames = await page.evaluate(async () => {
    window.scrollTo(0, 0);
    const times = [];
    let last = performance.now();
    const step = 100;  // a brisk scroll with the wheel: 100 px a frame
    while (window.scrollY + window.innerHeight < document.body.scrollHeight - 1) {
      window.scrollBy(0, step);
      await new Promise((resolve) => requestAnimationFrame(resolve));
      const now = performance.now();
      times.push(now - last);
      last = now;
    }
    return times;
  });
  frames.sort((a, b) => a - b);
  const longTasks = await page.evaluate(() => window.longTasks);
  const at = (share) => frames[Math.min(frames.length - 1, Math.floor(frames.length * share))] ?? 0;
  console.log(JSON.stringify({
    cards, pages, first_page_ms: firstPageMs, page_turn_ms: pageTurnMs, slowest_page_ms: pageMax,
    longest_task_ms: Math.round(Math.max(0, ...longTasks)), long_tasks: longTasks.length,
    scroll_frames: frames.length, frame_p50_ms: Math.round(at(0.5) * 10) / 10, frame_p95_ms: Math.round(at(0.95) * 10) / 10,
    frame_max_ms: Math.round((frames[frames.length - 1] ?? 0) * 10) / 10,
  }));
} finally {
  await browser.close();
}
