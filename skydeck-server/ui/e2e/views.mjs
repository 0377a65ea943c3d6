// End-to-end tests of the Compare and Sweep views, the charts, and the defects of issue 16 outside
// the experiments table, in Debian's headless Chromium driven by playwright-core.
// Started by DashboardIT with a real server whose SKYDECK_ALLOWED_ORIGINS lists both of its own
// names (so a page from one may use the other as its "Backend address"): SKYDECK_URL
// (http://127.0.0.1:PORT), ALT_URL (http://localhost:PORT), TOY_COMMAND, CHROMIUM, SCREENSHOTS.
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { api, launchChromium, URL } from './harness.mjs';

const ALT = process.env.ALT_URL ?? URL.replace('127.0.0.1', 'localhost');
const TOY = process.env.TOY_COMMAND;
const SHOTS = process.env.SCREENSHOTS ?? 'screenshots';
const T = 90_000;

/** Polls the API until `check` holds (for set-up, not for what the page shows). */
async function until(what, check, timeout = T) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
const experiment = async (name) => (await api('GET', `/api/experiments/${encodeURIComponent(name)}`)).experiment;
const jobsOf = async (name) => (await api('GET', `/api/experiments/${encodeURIComponent(name)}/jobs`)).jobs;

/** A pass-through proxy to the server that can be cut off (every socket dropped, new ones refused) and restored. */
function cuttableProxy(target) {
  const t = new globalThis.URL(target);
  let cut = false;
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    if (cut) {
      req.socket.destroy();
      return;
    }
    const up = http.request({ host: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`,
    cut() {
      cut = true;
      for (const s of sockets) s.destroy();
    },
    restore() { cut = false; },
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  })));
}

const browser = await launchChromium();
const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
await context.addInitScript(() => {
  if (!localStorage.getItem('skydeck.settings')) {
    localStorage.setItem('skydeck.settings', JSON.stringify({ refresh: 'live', backend: '', theme: 'light', token: '' }));
  }
});
const page = await context.newPage();
const errors = [];
const watch = (p) => {
  p.on('pageerror', (e) => errors.push(String(e)));
  p.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
};
watch(page);
let failed = false;
let n = 0;
const shot = (name, p = page) => p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });

async function step(name, fn) {
  if (process.env.ONLY && !new RegExp(process.env.ONLY).test(name)) return; // a subset, when developing
  const started = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    failed = true;
    console.log(`FAIL ${name}: ${e.stack ?? e}`);
    await shot(`views-fail-${String(++n).padStart(2, '0')}`).catch(() => {});
  }
}

const row = (name) => page.locator(`[data-testid="exp-row"][data-name="${name}"]`).first();
const detail = (name) => page.locator(`[data-testid="detail"][data-experiment="${name}"]`);
async function expand(name) {
  await row(name).waitFor({ timeout: T });
  if (await detail(name).count() === 0) await row(name).click();
  await detail(name).waitFor({ timeout: T });
}
async function collapse(name) {
  if (await detail(name).count() > 0) await row(name).click();
  await detail(name).waitFor({ state: 'detached', timeout: T });
}

try {
  // first, while nothing else runs (so no other event re-renders the page): one job whose epochs take a minute
  await api('POST', '/api/experiments', { name: 'clock.run', base_command: TOY, desired_state: 'RUNNING',
    flags: { epochs: 1000, sleep_ms: 60000 } });
  await until('clock.run running', async () => (await jobsOf('clock.run')).some((j) => j.status === 'RUNNING'));

  await step('"running for 56s" advances by itself, in the detail and on the Jobs page', async () => {
    await page.goto(URL);
    await expand('clock.run');
    // selectors the dashboard had before this test, so the step fails on behaviour, not on a missing hook
    const text = (sel) => document.querySelector(sel)?.textContent;
    const changes = async (sel) => {
      const before = await page.evaluate(text, sel);
      // no event arrives meanwhile (no epoch ends for a minute): only a ticking clock changes the text
      await page.waitForFunction(([s, b]) => document.querySelector(s)?.textContent !== b, [sel, before], { timeout: 5000 });
      return before;
    };
    await detail('clock.run').getByTestId('launch-progress').filter({ hasText: /running for/ }).waitFor({ timeout: T });
    await changes('[data-testid="launch-progress"]');
    await changes('[data-testid="detail-jobs"] tr td:nth-child(4)');
    await collapse('clock.run');
    await page.goto(`${URL}/jobs?q=clock.run`);
    await page.locator('[data-testid="job-row"]').first().waitFor({ timeout: T });
    const col = await page.locator('[data-testid="jobs-table"] th').evaluateAll((ths) => ths.findIndex((th) => th.textContent === 'Duration'));
    const j1 = await changes(`[data-testid="job-row"] td:nth-child(${col + 1})`);
    assert.match(j1, /^\d+s$|^\d+m/, `a duration: ${j1}`);
    await api('POST', '/api/experiments/clock.run/state', { desired_state: 'STOPPED' });
  });

  await step('the epoch chart has axes, units and hover values', async () => {
    await api('POST', '/api/experiments', { name: 'chart.run', base_command: TOY, desired_state: 'RUNNING',
      flags: { epochs: 5, sleep_ms: 700 } });
    await until('chart.run with 5 checkpoints', async () =>
      (await api('GET', `/api/experiments/${(await experiment('chart.run')).id}/checkpoints`)).checkpoints.length === 5);
    await page.goto(URL);
    await expand('chart.run');
    const chart = detail('chart.run').getByTestId('epoch-chart');
    await chart.waitFor({ timeout: T });
    const y = await detail('chart.run').getByTestId('epoch-y-ticks').textContent(); // SVG text: no innerText
    assert.match(y, /epoch/, 'the y axis says its unit');
    const yTicks = (await detail('chart.run').getByTestId('epoch-y-ticks').locator('text').allTextContents())
      .map(Number).filter(Number.isFinite);
    assert.ok(yTicks.length >= 3 && Math.max(...yTicks) >= 5, `the y axis reaches the latest epoch: ${yTicks}`);
    const x = await detail('chart.run').getByTestId('epoch-x-ticks').textContent();
    assert.match(x, /time \(local\)/);
    assert.match(x, /\d\d:\d\d:\d\d/, 'the x axis reads clock times');
    const box = await chart.boundingBox();
    await page.mouse.move(box.x + box.width - 16, box.y + box.height / 2);
    await detail('chart.run').getByTestId('epoch-hover').filter({ hasText: /^epoch 5 at \d{4}-\d\d-\d\d / }).waitFor({ timeout: 5000 });
    await page.mouse.move(box.x + 50, box.y + box.height / 2);
    await detail('chart.run').getByTestId('epoch-hover').filter({ hasText: /^epoch 1 at / }).waitFor({ timeout: 5000 });
    await detail('chart.run').scrollIntoViewIfNeeded();
    await shot('20-epoch-chart');
  });

  await step("the experiment's jobs timeline: one bar per attempt, coloured by status", async () => {
    await api('POST', '/api/experiments/chart.run/restart');
    await until('a second chart.run job', async () => (await jobsOf('chart.run')).length === 2);
    const bars = detail('chart.run').getByTestId('job-timeline').locator('[data-testid="timeline-bar"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="detail"] [data-testid="timeline-bar"]').length === 2,
      null, { timeout: T });
    assert.ok(['SUCCEEDED', 'RUNNING', 'PENDING', 'STARTING'].includes(await bars.first().getAttribute('data-status')));
    await bars.first().hover();
    await detail('chart.run').getByTestId('job-timeline-hover').filter({ hasText: /attempt 1 · SUCCEEDED/ }).waitFor({ timeout: 5000 });
    await shot('21-job-timeline');
    await collapse('chart.run');
  });

  await step('a failed job: the stepper shows the failed step (later ones not done) and the reason inline', async () => {
    await api('POST', '/api/experiments', { name: 'fail.run', base_command: TOY, desired_state: 'RUNNING',
      flags: { epochs: 3, sleep_ms: 200, fail_at_epoch: 2 } });
    await until('fail.run FAILED', async () => (await experiment('fail.run')).current_state === 'FAILED');
    await row('fail.run').getByTestId('row-failure-reason').filter({ hasText: /exited with code 1/ }).waitFor({ timeout: T });
    await expand('fail.run');
    const progress = detail('fail.run').getByTestId('launch-progress');
    await progress.and(page.locator('[data-failed="true"]')).waitFor({ timeout: T });
    const states = await progress.getByTestId('launch-step').evaluateAll((els) => els.map((e) => e.getAttribute('data-step-state')));
    assert.deepEqual(states, ['done', 'done', 'done', 'done', 'failed'], 'it failed while running: the last step failed');
    assert.match(await detail('fail.run').getByTestId('failure-reason').innerText(), /exited with code 1/);
    assert.match(await detail('fail.run').getByTestId('job-failure-reason').first().innerText(), /exited with code 1/);
    assert.ok(await detail('fail.run').getByTestId('failure-reason').isVisible(), 'shown, not only on hover');
    await shot('22-failed-stepper');
    await collapse('fail.run');
  });

  await step('Jobs rows stay one line at 1280 px, and the search applies while typing', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${URL}/jobs`);
    // the Jobs page remembers its last filters (an earlier step searched for clock.run): every job here
    await page.getByTestId('jobs-search').fill('');
    await page.locator('[data-testid="job-row"]').nth(2).waitFor({ timeout: T });
    const heights = await page.locator('[data-testid="job-row"]').evaluateAll((rows) => rows.map((r) => r.getBoundingClientRect().height));
    assert.ok(Math.max(...heights) <= 44, `every row is one line: ${heights.join(', ')} px`);
    await page.getByTestId('jobs-search').fill('fail.run'); // no Enter, no blur
    await page.waitForURL(/q=fail\.run/, { timeout: 5000 });
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('[data-testid="job-row"] [data-testid="job-experiment"]')];
      return rows.length > 0 && rows.every((td) => td.textContent === 'fail.run');
    }, null, { timeout: T });
    const first = page.locator('[data-testid="job-row"]').first();
    assert.match(await first.getByTestId('job-failure-reason').innerText(), /^exited with/, 'the reason is on the row');
    assert.equal(await first.getByTestId('job-failure-reason').getAttribute('title'), 'exited with code 1', 'in full on hover');
    const badge = await first.getByTestId('status-badge').evaluate((b) => [b.textContent, b.scrollWidth <= b.clientWidth + 1,
      [...b.querySelectorAll('*')].every((e) => e.scrollWidth <= e.clientWidth + 1)]);
    assert.deepEqual(badge, ['FAILED', true, true], 'the status badge is whole');
    await shot('23-jobs-one-line');
    await page.getByTestId('jobs-search').fill(''); // the page remembers it: leave no search for later steps
    await page.waitForURL((u) => !u.search.includes('q='), { timeout: 5000 });
    await page.setViewportSize({ width: 1600, height: 1000 });
  });

  await step('the Operations page shows whole type badges', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${URL}/operations`);
    await page.getByTestId('ops-table').getByText('created experiment clock.run').first().waitFor({ timeout: T });
    const typeBadges = page.getByTestId('ops-table').locator('tbody td:nth-child(3) .mantine-Badge-root');
    const cut = await typeBadges.evaluateAll((badges) => badges
      .filter((b) => [b, ...b.querySelectorAll('*')].some((e) => e.scrollWidth > e.clientWidth + 1))
      .map((b) => b.textContent));
    assert.deepEqual(cut, [], 'no badge is cut');
    const types = await typeBadges.allInnerTexts();
    assert.ok(types.some((t) => /^JOB_STATUS$/i.test(t)), `JOB_STATUS in full among ${[...new Set(types)]}`);
    await shot('24-operations-badges');
    await page.setViewportSize({ width: 1600, height: 1000 });
  });

  // a sweep: lr × wd, one of them failing, and one more member that runs long
  const sweep = [];
  for (const lr of [0.1, 0.01]) {
    for (const wd of [0, 0.5]) {
      const name = `sw.lr${lr}.wd${wd}`;
      const flags = { lr, wd, epochs: 3, sleep_ms: 300 };
      if (lr === 0.01 && wd === 0.5) flags.fail_at_epoch = 2;
      sweep.push((await api('POST', '/api/experiments', { name, base_command: TOY, flags })).experiment);
    }
  }
  sweep.push((await api('POST', '/api/experiments', { name: 'sw.lr1.wd0', base_command: TOY,
    flags: { lr: 1, wd: 0, epochs: 1000, sleep_ms: 1000 } })).experiment);
  // its chosen flag columns (seed 002) are the sweep's axes (epochs varies too, for the long member)
  const group = (await api('POST', '/api/groups', { name: 'lr sweep', experiment_ids: sweep.map((e) => e.id),
    flags: ['lr', 'wd'] })).group;

  await step('Compare two experiments: flags, command, resources and outcome side by side, differences marked', async () => {
    await page.goto(URL);
    await row('sw.lr0.1.wd0').getByTestId('select').click();
    await row('sw.lr0.01.wd0').getByTestId('select').click();
    await page.getByTestId('bulk-bar').getByText('2 selected').waitFor({ timeout: T });
    await page.getByTestId('bulk-compare').click();
    await page.waitForURL(/\/compare\?ids=[^&]+,/);
    await page.getByTestId('compare-table').waitFor({ timeout: T });
    assert.equal(await page.getByTestId('compare-column').count(), 2);
    const r = (label) => page.locator(`[data-testid="compare-row"][data-label="${label}"]`);
    await r('lr').waitFor({ timeout: T });
    assert.equal(await r('lr').getAttribute('data-differs'), 'true');
    assert.deepEqual(await r('lr').getByTestId('compare-cell').allInnerTexts(), ['0.1', '0.01']);
    assert.equal(await r('wd').getAttribute('data-differs'), 'false');
    assert.equal(await r('gpus').getAttribute('data-differs'), 'false');
    assert.equal(await r('command').getAttribute('data-differs'), 'true');
    const words = await r('command').locator('.diff-word').allInnerTexts();
    assert.deepEqual(words.filter((w) => w.startsWith('lr=')), ['lr=0.1', 'lr=0.01'], 'the differing flag lights up');
    assert.ok(!words.some((w) => /^(wd|epochs)=/.test(w)), `shared words do not: ${words}`);
    for (const label of ['state', 'latest epoch', 'exit', 'failure reason', 'nodes', 'instance_type']) await r(label).waitFor();
    await shot('25-compare');
    await page.getByTestId('only-differences').click();
    await r('wd').waitFor({ state: 'detached' });
    await r('lr').waitFor();
  });

  await step('Compare two jobs from the Jobs page', async () => {
    await page.goto(`${URL}/jobs?q=chart.run`);
    // the rows of this search, not those of the last one shown before it answers
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('[data-testid="job-row"] [data-testid="job-experiment"]')];
      return rows.length >= 2 && rows.every((td) => td.textContent === 'chart.run');
    }, null, { timeout: T });
    await page.locator('[data-testid="job-row"]').nth(0).getByTestId('job-select').check();
    await page.locator('[data-testid="job-row"]').nth(1).getByTestId('job-select').check();
    await page.getByTestId('jobs-compare').click();
    await page.waitForURL(/\/compare\?jobs=/);
    await page.getByTestId('compare-table').waitFor({ timeout: T });
    assert.equal(await page.getByTestId('compare-column').count(), 2);
    const attempt = page.locator('[data-testid="compare-row"][data-label="attempt"]');
    assert.equal(await attempt.getAttribute('data-differs'), 'true');
    assert.equal(await page.locator('[data-testid="compare-row"][data-label="epochs"]').getAttribute('data-differs'), 'false');
  });

  await step('a drifted experiment: Compare shows what changed since its job launched, and Restart applies it', async () => {
    await api('POST', '/api/experiments', { name: 'drift.run', base_command: TOY, desired_state: 'RUNNING',
      flags: { epochs: 1000, sleep_ms: 500, lr: 0.1 } });
    await until('drift.run running', async () => (await jobsOf('drift.run')).some((j) => j.status === 'RUNNING'));
    await api('PATCH', '/api/experiments/drift.run', { set_flags: { lr: 0.2, note: 'changed' } });
    await page.goto(URL);
    await expand('drift.run');
    await detail('drift.run').getByTestId('drift-compare').click();
    await page.waitForURL(/\/compare\?ids=/);
    const card = page.locator('[data-testid="compare-drift"][data-experiment="drift.run"]');
    await card.waitFor({ timeout: T });
    const change = (what) => card.locator(`[data-testid="drift-change"][data-what="${what}"]`);
    assert.match(await change('flag lr').innerText(), /0\.2\s+0\.1/);
    assert.match(await change('flag note').innerText(), /changed\s+\(not set\)/);
    await change('command').waitFor();
    await shot('26-compare-drift');
    await card.getByTestId('compare-restart').click();
    await page.getByText('Restarting drift.run').waitFor({ timeout: T });
    await until('a second drift.run job', async () => (await jobsOf('drift.run')).length === 2);
    await card.waitFor({ state: 'detached', timeout: T });
    await api('POST', '/api/experiments/drift.run/state', { desired_state: 'STOPPED' });
  });

  await step('the Sweep view: lr × wd coloured by state with epochs, progress, restart failed and stop the rest', async () => {
    await api('POST', '/api/experiments/bulk', { action: 'start', ids: sweep.map((e) => e.id) });
    await until('the sweep settled', async () => {
      const states = await Promise.all(sweep.slice(0, 4).map(async (e) => (await experiment(e.name)).current_state));
      return states.filter((s) => s === 'SUCCEEDED').length === 3 && states.includes('FAILED');
    });
    await page.goto(URL);
    const header = page.locator(`[data-testid="group-row"][data-group="lr sweep"]`);
    await header.waitFor({ timeout: T });
    await header.locator('button').filter({ hasText: '⋯' }).click();
    await page.getByTestId('open-sweep').click();
    await page.waitForURL(new RegExp(`/groups/${group.id}/sweep`));
    await page.getByTestId('sweep-grid').waitFor({ timeout: T });
    // the axes default to the flags every member has and that vary: lr rows, wd columns
    assert.equal(await page.getByTestId('sweep-rows').inputValue(), 'lr');
    assert.equal(await page.getByTestId('sweep-cols').inputValue(), 'wd');
    assert.deepEqual(await page.getByTestId('sweep-row').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-value'))),
      ['0.01', '0.1', '1']);
    assert.deepEqual(await page.getByTestId('sweep-col').allInnerTexts(), ['0', '0.5']);
    const cell = (name) => page.locator(`[data-testid="sweep-cell"][data-name="${name}"]`);
    await cell('sw.lr0.01.wd0.5').and(page.locator('[data-state="FAILED"]')).waitFor({ timeout: T });
    await cell('sw.lr0.1.wd0').and(page.locator('[data-state="SUCCEEDED"]')).waitFor({ timeout: T });
    // its last checkpoint is synced after the job ends; with live updates (no polling of its own) the
    // checkpoint event refreshes the view: wait for it
    await cell('sw.lr0.1.wd0').getByTestId('sweep-epoch').filter({ hasText: /^epoch 3$/ }).waitFor({ timeout: T });
    await cell('sw.lr1.wd0').and(page.locator('[data-state="RUNNING"]')).waitFor({ timeout: T });
    await page.getByTestId('sweep-progress').filter({ hasText: '3 of 5 succeeded · 1 failed · 1 active' }).waitFor({ timeout: T });
    await page.getByTestId('group-timeline').locator('[data-testid="timeline-bar"]').nth(4).waitFor({ timeout: T });
    await shot('27-sweep');

    await page.getByTestId('restart-failed').click();
    const summary = page.getByTestId('bulk-summary');
    await summary.getByTestId('bulk-counts').filter({ hasText: '1 succeeded, 0 failed' }).waitFor({ timeout: T });
    assert.match(await summary.getByTestId('bulk-item').first().innerText(), /sw\.lr0\.01\.wd0\.5\s+ok/i);
    await shot('28-sweep-restart-summary');
    await page.keyboard.press('Escape');
    await until('the failed member relaunched', async () => (await jobsOf('sw.lr0.01.wd0.5')).length === 2);

    await page.getByTestId('stop-rest').click();
    await summary.getByTestId('bulk-counts').filter({ hasText: /^\d+ succeeded, 0 failed$/ }).waitFor({ timeout: T });
    assert.ok(await summary.getByTestId('bulk-item').filter({ hasText: 'sw.lr1.wd0' }).count() === 1, 'the long one was stopped');
    await page.keyboard.press('Escape');
    await cell('sw.lr1.wd0').and(page.locator('[data-state="CANCELLED"]')).waitFor({ timeout: T });
  });

  await step('Settings refuses an address that is none, saying how to write one', async () => {
    await page.goto(`${URL}/settings`);
    await page.getByTestId('backend-address').fill('localhost:8000');
    await page.getByTestId('settings-error').filter({ hasText: 'http://host:port' }).waitFor();
    assert.ok(await page.getByTestId('save-settings').isDisabled(), 'it cannot be saved');
    await page.getByTestId('backend-address').fill('');
  });

  await step('"Backend address" works: a page of this server talks to the server under another name', async () => {
    // ALT (http://localhost:PORT) and URL (http://127.0.0.1:PORT) are two origins; the server lists both
    const other = await context.newPage();
    watch(other);
    await other.goto(`${ALT}/settings`);
    await other.getByTestId('backend-address').fill(URL);
    await other.getByTestId('test-backend').click();
    await other.getByTestId('backend-test').filter({ hasText: /^ok: SkyDeck/ }).waitFor({ timeout: T });
    await other.getByTestId('save-settings').click();
    await other.getByTestId('nav-experiments').click();
    await other.locator('[data-testid="exp-row"][data-name="chart.run"]').waitFor({ timeout: T });
    await other.locator('[data-testid="connection"][data-state="Online"]').waitFor({ timeout: T });
    assert.match(await other.getByTestId('connection').innerText(), new RegExp(URL.replace(/[.:/]/g, '\\$&')));
    // an unsafe request across the origins works too (Origin allowed, CORS preflight answered)
    await other.locator('[data-testid="exp-row"][data-name="chart.run"]').getByTestId('select').click();
    await other.getByTestId('bulk-stop').click();
    await other.getByText('1 of 1 done').waitFor({ timeout: T });
    await shot('29-backend-address', other);
    await other.evaluate(() => localStorage.removeItem('skydeck.settings'));
    await other.close();
  });

  await step('a server that never answers ends in an error, not an endless skeleton', async () => {
    const hung = await context.newPage();
    await hung.route('**/api/groups*', () => {}); // never answered
    await hung.goto(URL);
    await hung.getByTestId('skeleton').waitFor({ timeout: T });
    await hung.getByTestId('load-error').filter({ hasText: /has not answered/ }).waitFor({ timeout: 20_000 });
    await shot('30-no-answer', hung);
    await hung.close();
  });

  await step('when refreshes fail, "may be stale" appears and stays until they work again', async () => {
    const proxy = await cuttableProxy(URL);
    const cut = await context.newPage();
    watch(cut);
    try {
      await cut.goto(proxy.url);
      await cut.locator('[data-testid="exp-row"][data-name="clock.run"]').waitFor({ timeout: T });
      await cut.locator('[data-testid="connection"][data-state="Online"]').waitFor({ timeout: T });
      proxy.cut();
      const toast = cut.getByText(/it may be stale/);
      await toast.waitFor({ timeout: 20_000 });
      await cut.waitForTimeout(6000); // past a notification's usual auto-close
      assert.ok(await toast.isVisible(), 'it stays while the server is unreachable');
      await shot('31-stale-toast', cut);
      proxy.restore();
      await cut.locator('[data-testid="connection"][data-state="Online"]').waitFor({ timeout: T });
      await toast.waitFor({ state: 'hidden', timeout: T });
    } finally {
      await cut.close();
      proxy.close();
    }
  });

  await step('polling every 5 s, a failing refresh says "may be stale" until one works again', async () => {
    const polled = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    await polled.addInitScript(() => localStorage.setItem('skydeck.settings',
      JSON.stringify({ refresh: '5', backend: '', theme: 'light', token: '' })));
    const p = await polled.newPage();
    try {
      await p.goto(URL);
      await p.locator('[data-testid="exp-row"][data-name="clock.run"]').waitFor({ timeout: T });
      await p.route('**/api/groups*', (r) => r.fulfill({ status: 503, contentType: 'application/json',
        body: '{"detail": "the store is busy"}' }));
      const toast = p.getByText(/the store is busy\. Showing data from .*; it may be stale\./);
      await toast.waitFor({ timeout: 20_000 });
      await p.waitForTimeout(6000);
      assert.ok(await toast.isVisible(), 'it stays while refreshes fail');
      assert.ok(await p.locator('[data-testid="exp-row"][data-name="clock.run"]').isVisible(), 'the old data stays on screen');
      await p.unroute('**/api/groups*');
      await toast.waitFor({ state: 'hidden', timeout: 20_000 });
    } finally {
      await polled.close();
    }
  });

  const real = errors.filter((e) => !/Failed to load resource|ERR_|net::|Failed to fetch/.test(e));
  assert.deepEqual(real, [], 'no errors in the page');
} catch (e) {
  failed = true;
  console.log(`FAIL ${e.stack ?? e}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
