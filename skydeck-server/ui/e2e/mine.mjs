// The dashboard on a deck with users: the "Mine" filters of the experiments table and the Jobs page.
// Started by DashboardIT with a server whose deck has tokens: SKYDECK_URL, ALICE_TOKEN, CHROMIUM, SCREENSHOTS.
// alice created "alice.one" and "shared.run", bob created "bob.one"; bob started "shared.run" and "bob.one".
import assert from 'node:assert/strict';
import path from 'node:path';
import { launchChromium } from './harness.mjs';

const URL = process.env.SKYDECK_URL;
const TOKEN = process.env.ALICE_TOKEN;
const SHOTS = process.env.SCREENSHOTS ?? 'screenshots';
const T = 60_000;

const browser = await launchChromium();
const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
await context.addInitScript((token) => {
  localStorage.setItem('skydeck.settings', JSON.stringify({ refresh: 'live', backend: '', theme: 'light', token }));
}, TOKEN);
const page = await context.newPage();
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
const names = async () => (await page.locator('[data-testid="exp-row"]').evaluateAll(
  (rows) => rows.map((r) => r.getAttribute('data-name')))).sort();
let failed = false;
try {
  await page.goto(URL);
  await page.locator('[data-testid="exp-row"]').first().waitFor({ timeout: T });
  assert.deepEqual(await names(), ['alice.one', 'bob.one', 'shared.run']);
  await page.getByLabel('Mine (alice)').check();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="exp-row"]').length === 2, null, { timeout: T });
  assert.deepEqual(await names(), ['alice.one', 'shared.run']);
  await page.screenshot({ path: path.join(SHOTS, '10-mine-experiments.png') });
  console.log('ok   the experiments table shows only what alice created');

  await page.goto(URL + '/jobs');
  await page.locator('[data-testid="job-row"]').first().waitFor({ timeout: T });
  const all = await page.locator('[data-testid="job-row"]').count();
  assert.equal(all, 2);
  // the filter lives in the URL: the box follows once the router has moved
  await page.getByLabel('Mine (alice)').click();
  await page.waitForURL(/mine=1/, { timeout: T });
  await page.getByTestId('jobs-total').filter({ hasText: '0 jobs' }).waitFor({ timeout: T });
  await page.getByLabel('Mine (alice)').click();
  await page.waitForURL((u) => !u.search.includes('mine'), { timeout: T });
  await page.locator('[data-testid="job-row"]').nth(1).waitFor({ timeout: T });
  const by = await page.locator('[data-testid="job-launched-by"]').allTextContents();
  assert.deepEqual(by, ['bob', 'bob']);
  await page.screenshot({ path: path.join(SHOTS, '11-mine-jobs.png') });
  console.log('ok   the Jobs page filters to the jobs launched for alice (none) and shows who launched each');
  assert.deepEqual(errors, []);
} catch (e) {
  failed = true;
  console.log(`FAIL ${e.stack ?? e}`);
  await page.screenshot({ path: path.join(SHOTS, 'fail-mine.png') }).catch(() => {});
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
