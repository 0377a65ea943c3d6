// Dashboard benchmark (SPEC §15 / issue 6): with a server holding many experiments, measures time to
// first render and to interactive, frame times while scrolling, and bytes fetched per minute while idle
// with live updates. Run by dev.skydeck.bench.DashboardBenchmark (SKYDECK_URL, CHROMIUM, SCREENSHOTS).
import { chromium } from 'playwright-core';
import path from 'node:path';

const URL = process.env.SKYDECK_URL;
const IDLE_SECONDS = Number(process.env.IDLE_SECONDS ?? 60);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
const page = await context.newPage();
const cdp = await context.newCDPSession(page);
await cdp.send('Network.enable');
let bytes = 0;
cdp.on('Network.dataReceived', (e) => { bytes += e.encodedDataLength; });
cdp.on('Network.responseReceived', () => {});

const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

for (let round = 0; round < 3; round++) {
  bytes = 0;
  const t0 = Date.now();
  await page.goto(URL, { waitUntil: 'commit' });
  await page.locator('[data-testid="exp-row"]').first().waitFor({ timeout: 120_000 });
  const firstRender = Date.now() - t0;
  const rowsInDom = await page.locator('[data-testid="exp-row"]').count();
  await page.locator('[data-testid="exp-row"]').nth(3).click();
  await page.locator('[data-testid="detail"]').first().waitFor({ timeout: 120_000 });
  const interactive = Date.now() - t0;
  console.log(`load ${round + 1}: first rows ${firstRender} ms, interactive (a row expanded) ${interactive} ms,`
    + ` ${rowsInDom} rows in the DOM (virtualised), ${(bytes / 1024).toFixed(0)} KB fetched`);
  await page.locator('[data-testid="exp-row"]').nth(3).click(); // collapse
}
await page.screenshot({ path: path.join(process.env.SCREENSHOTS ?? '.', 'bench-10000.png') });

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

// idle with live updates
bytes = 0;
await page.waitForTimeout(IDLE_SECONDS * 1000);
console.log(`idle with live updates: ${bytes} bytes in ${IDLE_SECONDS} s (${Math.round(bytes * 60 / IDLE_SECONDS)} bytes per minute)`);
await browser.close();
