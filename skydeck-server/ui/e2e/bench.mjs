// Dashboard benchmark (SPEC §15, issues 6 and 15): with a server holding many experiments, measures
// time to the first rows and to interactive, a sort and a search answered by the server, frame
// times while scrolling, the time to show rows after a jump to the middle (pages fetched on
// demand), the tab's JS heap, and bytes fetched per minute while idle with live updates.
// Run by dev.skydeck.bench.DashboardBenchmark (SKYDECK_URL, CHROMIUM, SCREENSHOTS, COUNT).
import path from 'node:path';
import { launchChromium } from './harness.mjs';

const URL = process.env.SKYDECK_URL;
const COUNT = process.env.COUNT ?? '10000';
const IDLE_SECONDS = Number(process.env.IDLE_SECONDS ?? 60);
const browser = await launchChromium();
const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
const page = await context.newPage();
const cdp = await context.newCDPSession(page);
await cdp.send('Network.enable');
await cdp.send('Performance.enable');
let bytes = 0;
cdp.on('Network.dataReceived', (e) => { bytes += e.encodedDataLength; });
cdp.on('Network.responseReceived', () => {});

const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const heap = async () => {
  await cdp.send('HeapProfiler.collectGarbage').catch(() => {});
  const { metrics } = await cdp.send('Performance.getMetrics');
  const used = metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0;
  return `${(used / 1024 / 1024).toFixed(1)} MB`;
};
const rows = page.locator('[data-testid="exp-row"]');
const firstName = () => rows.first().getAttribute('data-name');

for (let round = 0; round < 3; round++) {
  bytes = 0;
  const t0 = Date.now();
  await page.goto(URL, { waitUntil: 'commit' });
  await rows.first().waitFor({ timeout: 120_000 });
  const firstRender = Date.now() - t0;
  const rowsInDom = await rows.count();
  await rows.nth(3).click();
  await page.locator('[data-testid="detail"]').first().waitFor({ timeout: 120_000 });
  const interactive = Date.now() - t0;
  console.log(`load ${round + 1}: first rows ${firstRender} ms, interactive (a row expanded) ${interactive} ms,`
    + ` ${rowsInDom} rows in the DOM (virtualised), ${(bytes / 1024).toFixed(0)} KB fetched`);
  await rows.nth(3).click(); // collapse
}
console.log(`JS heap after load: ${await heap()}`);
await page.screenshot({ path: path.join(process.env.SCREENSHOTS ?? '.', `bench-${COUNT}.png`) });

// a sort and a search, each answered by the server (first rows changed)
for (let round = 0; round < 3; round++) {
  const before = await firstName();
  let t = Date.now();
  await page.locator('[data-testid="header"] [data-sort="name"]').click();
  await page.locator('[data-testid="header"] [data-sort="name"]').click(); // descending
  await page.waitForFunction((b) => document.querySelector('[data-testid="exp-row"]')?.dataset.name !== b, before, { timeout: 120_000 });
  const sorted = Date.now() - t;
  await page.locator('[data-testid="header"] [data-sort="name"]').click(); // back to the user's order
  await page.waitForFunction((b) => document.querySelector('[data-testid="exp-row"]')?.dataset.name === b, before, { timeout: 120_000 });
  const target = `exp-${Math.floor(Number(COUNT) / 2) + round}`;
  t = Date.now();
  await page.getByTestId('search').fill(target);
  await page.waitForFunction((n) => document.querySelector('[data-testid="exp-row"]')?.dataset.name === n, target, { timeout: 120_000 });
  const searched = Date.now() - t; // includes the 250 ms debounce
  await page.getByTestId('search').fill('');
  await page.waitForFunction((b) => document.querySelector('[data-testid="exp-row"]')?.dataset.name === b, before, { timeout: 120_000 });
  console.log(`sort by name (descending): ${sorted} ms to new first rows; search "${target}": ${searched} ms (250 ms of it the debounce)`);
}

// frame times while scrolling the table
const frames = await page.evaluate(async () => {
  const el = document.querySelector('[data-testid="table"]');
  const deltas = [];
  let last = performance.now();
  let running = true;
  const loop = (t) => { deltas.push(t - last); last = t; if (running) requestAnimationFrame(loop); };
  requestAnimationFrame(loop);
  const end = performance.now() + 4000;
  while (performance.now() < end) {
    el.scrollTop += 600;
    if (el.scrollTop + el.clientHeight >= el.scrollHeight) el.scrollTop = 0;
    await new Promise((r) => requestAnimationFrame(r));
  }
  running = false;
  return deltas.slice(5);
});
console.log(`scrolling (600 px per frame for 4 s): ${frames.length} frames, frame time p50 ${pct(frames, 0.5).toFixed(1)} ms,`
  + ` p95 ${pct(frames, 0.95).toFixed(1)} ms, max ${Math.max(...frames).toFixed(1)} ms`);

// a jump into the middle: the rows there arrive as one page
for (const at of [0.5, 0.9]) {
  const t = Date.now();
  await page.getByTestId('table').evaluate((el, f) => { el.scrollTop = el.scrollHeight * f; }, at);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="pending-row"]').length === 0
    && document.querySelectorAll('[data-testid="exp-row"]').length > 10, null, { timeout: 120_000 });
  console.log(`jump to ${at * 100}% of the list: rows shown in ${Date.now() - t} ms (first: ${await firstName()})`);
}
console.log(`JS heap after scrolling: ${await heap()}`);

// idle with live updates
bytes = 0;
await page.waitForTimeout(IDLE_SECONDS * 1000);
console.log(`idle with live updates: ${bytes} bytes in ${IDLE_SECONDS} s (${Math.round(bytes * 60 / IDLE_SECONDS)} bytes per minute)`);
console.log(`JS heap after idling: ${await heap()}`);
await browser.close();
