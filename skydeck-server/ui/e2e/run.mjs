// End-to-end tests of the dashboard in Debian's headless Chromium, driven by playwright-core.
// Started by DashboardIT (the Maven test run) with a real server: SKYDECK_URL, TOY_COMMAND, CHROMIUM, SCREENSHOTS.
import assert from 'node:assert/strict';
import path from 'node:path';
import { api, launchChromium, until, URL } from './harness.mjs';

const TOY = process.env.TOY_COMMAND;
const SHOTS = process.env.SCREENSHOTS ?? 'screenshots';
const T = 90_000;

const browser = await launchChromium();
const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
const page = await context.newPage();
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
// requests not answered yet, printed when a step fails (a hung fetch keeps the table stale)
const pending = new Map();
page.on('request', (r) => pending.set(r, Date.now()));
for (const ev of ['requestfinished', 'requestfailed']) page.on(ev, (r) => pending.delete(r));
const stillPending = () => [...pending].map(([r, t]) => `  ${r.method()} ${r.url()} (${Date.now() - t} ms)`).join('\n');
let failed = false;
let n = 0;
const shot = (name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });

async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    failed = true;
    console.log(`FAIL ${name}: ${e.stack ?? e}`);
    if (pending.size) console.log(`requests still pending:\n${stillPending()}`);
    await shot(`fail-${String(++n).padStart(2, '0')}`).catch(() => {});
    throw e;
  }
}

const row = (name) => page.locator(`[data-testid="exp-row"][data-name="${name}"]`).first();
const state = (name) => row(name).locator('[data-testid="state"]');

try {
  await step('the app shell loads and is online', async () => {
    await page.goto(URL);
    await page.getByTestId('nav-experiments').waitFor();
    await page.getByTestId('empty').waitFor({ timeout: T });
    await page.locator('[data-testid="connection"][data-state="Online"]').waitFor({ timeout: T });
    await shot('00-empty');
  });

  await step('create an experiment in the form and start it', async () => {
    await page.getByTestId('new-experiment').click();
    await page.getByTestId('f-name').fill('e2e.first');
    await page.getByTestId('f-command').fill(TOY);
    await page.getByTestId('f-flags').fill('epochs=3\nsleep_ms=400\ntrainer.optimizer.lr=0.01\ntrainer.layers=4\nuse_amp=true');
    await assert.match(await page.getByTestId('f-preview').innerText(), /run=e2e\.first .*trainer\.optimizer\.lr=0\.01/s);
    await page.getByTestId('f-start').check();
    await page.getByTestId('f-submit').click();
    await row('e2e.first').waitFor({ timeout: T });
  });

  await step('it reaches SUCCEEDED live, without a reload', async () => {
    await page.locator('[data-testid="exp-row"][data-name="e2e.first"] [data-current="RUNNING"], [data-testid="exp-row"][data-name="e2e.first"] [data-current="SUCCEEDED"]')
      .first().waitFor({ timeout: T });
    await state('e2e.first').and(page.locator('[data-current="SUCCEEDED"]')).waitFor({ timeout: T });
    await shot('01-experiments');
  });

  await step('its flags are columns, dotted keys under multi-level headers', async () => {
    for (const key of ['epochs', 'trainer.optimizer.lr', 'trainer.layers', 'use_amp']) {
      await page.locator(`[data-testid="flag-column"][data-key="${key}"]`).waitFor();
    }
    const header = await page.getByTestId('header').innerText();
    assert.match(header, /trainer/);
    assert.match(header, /optimizer/);
    assert.equal(await row('e2e.first').locator('[data-flag="trainer.optimizer.lr"]').innerText(), '0.01');
    assert.equal(await row('e2e.first').locator('[data-flag="use_amp"]').innerText(), '✓');
  });

  await step('expanding it shows its job, checkpoints and command', async () => {
    await row('e2e.first').locator('[data-testid="epoch"]').filter({ hasText: '3' }).waitFor({ timeout: T });
    await row('e2e.first').click();
    const detail = page.locator('[data-testid="detail"][data-experiment="e2e.first"]');
    await detail.waitFor();
    await detail.getByTestId('detail-jobs').getByText('SUCCEEDED').waitFor({ timeout: T });
    await detail.getByTestId('detail-checkpoints').getByText('epoch 3').waitFor({ timeout: T });
    assert.match(await detail.getByTestId('command').innerText(), /ToyTrainer .*run=e2e\.first/s);
    await detail.getByTestId('job-timeline').waitFor();
    await shot('02-expanded');
  });

  await step('duplicate with edits', async () => {
    const detail = page.locator('[data-testid="detail"][data-experiment="e2e.first"]');
    await detail.getByTestId('duplicate').click();
    assert.equal(await page.getByTestId('f-name').inputValue(), 'e2e.first.copy');
    await page.getByTestId('f-flags').fill('epochs=2\nsleep_ms=100\ntrainer.optimizer.lr=0.02');
    await page.getByTestId('f-submit').click();
    await row('e2e.first.copy').waitFor({ timeout: T });
    assert.equal(await row('e2e.first.copy').locator('[data-flag="trainer.optimizer.lr"]').innerText(), '0.02');
    await row('e2e.first').click(); // collapse
  });

  await step('delete, then undo', async () => {
    await row('e2e.first.copy').click();
    const detail = page.locator('[data-testid="detail"][data-experiment="e2e.first.copy"]');
    await detail.getByTestId('delete').click();
    await row('e2e.first.copy').waitFor({ state: 'detached', timeout: T });
    await page.getByTestId('undo').click();
    await row('e2e.first.copy').waitFor({ timeout: T });
    await row('e2e.first.copy').click(); // collapse it again
    await page.locator('[data-testid="detail"][data-experiment="e2e.first.copy"]').waitFor({ state: 'detached', timeout: T });
  });

  await step('saving another field keeps a decimal a decimal (3.0 stays 3.0)', async () => {
    await api('POST', '/api/experiments', { name: 'typed.flags', flags: { lr: 3.0, layers: 3 } });
    // the e2e client's JSON.stringify would send 3: write the decimal by hand, as a script would
    const patched = await fetch(`${URL}/api/experiments/typed.flags`, {
      method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: '{"set_flags": {"lr": 3.0}}',
    });
    assert.equal(patched.status, 200, await patched.text());
    await row('typed.flags').waitFor({ timeout: T });
    // the row may first show the create (3), then the patch arrives live
    await row('typed.flags').locator('[data-flag="lr"]', { hasText: /^3\.0$/ }).waitFor({ timeout: T });
    await row('typed.flags').click();
    const detail = page.locator('[data-testid="detail"][data-experiment="typed.flags"]');
    await detail.getByTestId('config').waitFor();
    await detail.getByLabel('Description').fill('only the description changes');
    await detail.getByTestId('save-config').click();
    await page.getByText('Saved typed.flags').waitFor({ timeout: T });
    const raw = await (await fetch(`${URL}/api/experiments/typed.flags`)).text();
    assert.match(raw, /"lr":3\.0[,}]/, `lr is still the decimal 3.0: ${raw}`);
    assert.match(raw, /"command":"[^"]*lr=3\.0/, `the command line still says lr=3.0: ${raw}`);
    assert.equal(await row('typed.flags').locator('[data-flag="lr"]').innerText(), '3.0');
    await row('typed.flags').click(); // collapse: later steps drag rows by position
    await page.locator('[data-testid="detail"][data-experiment="typed.flags"]').waitFor({ state: 'detached', timeout: T });
  });

  await step('a 30-digit integer is refused in the form, naming the flag', async () => {
    await page.getByTestId('new-experiment').click();
    await page.getByTestId('f-name').fill('e2e.huge');
    await page.getByTestId('f-flags').fill('seed=123456789012345678901234567890');
    await page.getByTestId('f-submit').click();
    const error = await page.getByTestId('f-error').innerText();
    assert.match(error, /seed/);
    assert.match(error, /64 bits/);
    await page.keyboard.press('Escape');
    const missing = await fetch(`${URL}/api/experiments/e2e.huge`);
    assert.equal(missing.status, 404, 'nothing was created');
  });

  await step('editing a running experiment shows drift, and Restart applies it', async () => {
    await api('POST', '/api/experiments', { name: 'drifting', base_command: TOY, desired_state: 'RUNNING',
      flags: { epochs: 1000, sleep_ms: 300 } });
    await state('drifting').and(page.locator('[data-current="RUNNING"]')).waitFor({ timeout: T });
    await api('PATCH', '/api/experiments/drifting', { set_flags: { note: 'changed' } });
    await row('drifting').click();
    const detail = page.locator('[data-testid="detail"][data-experiment="drifting"]');
    await detail.getByTestId('drift').waitFor({ timeout: T });
    await shot('09-drift');
    await detail.getByTestId('restart').click();
    await until('a second job of drifting', async () => (await api('GET', '/api/experiments/drifting/jobs')).jobs.length === 2, T);
    await detail.getByTestId('drift').waitFor({ state: 'detached', timeout: T });
    await api('POST', '/api/experiments/drifting/state', { desired_state: 'STOPPED' });
    await state('drifting').and(page.locator('[data-current="CANCELLED"]')).waitFor({ timeout: T });
    await row('drifting').click();
    await detail.waitFor({ state: 'detached', timeout: T });
  });

  await step('bulk start and stop with a shift-click range', async () => {
    for (const name of ['bulk.a', 'bulk.b', 'bulk.c']) {
      await api('POST', '/api/experiments', { name, base_command: TOY, flags: { epochs: 1000, sleep_ms: 500 } });
    }
    await row('bulk.c').waitFor({ timeout: T });
    await row('bulk.a').getByTestId('select').click();
    await row('bulk.c').getByTestId('select').click({ modifiers: ['Shift'] });
    assert.match(await page.getByTestId('bulk-bar').innerText(), /3 selected/);
    await page.getByTestId('bulk-start').click();
    await page.getByText('3 of 3 done').waitFor();
    await shot('03-bulk-summary');
    await page.keyboard.press('Escape');
    for (const name of ['bulk.a', 'bulk.b', 'bulk.c']) {
      await state(name).and(page.locator('[data-current="RUNNING"]')).waitFor({ timeout: T });
    }
    await page.getByTestId('bulk-stop').click();
    await page.getByText('3 of 3 done').waitFor();
    await page.keyboard.press('Escape');
    for (const name of ['bulk.a', 'bulk.b', 'bulk.c']) {
      await state(name).and(page.locator('[data-current="CANCELLED"]')).waitFor({ timeout: T });
    }
  });

  await step('drag an experiment between groups (Alt keeps it in both)', async () => {
    await page.getByTestId('bulk-bar').getByText('Clear').click(); // drag one row, not the selection
    const one = (await api('POST', '/api/groups', { name: 'group one', experiment_ids: [] })).group;
    const two = (await api('POST', '/api/groups', { name: 'group two', experiment_ids: [] })).group;
    await page.locator('[data-testid="group-row"][data-group="group two"]').waitFor({ timeout: T });
    // drags start where the row is: nothing may scroll between the press and the drop
    await page.locator('[data-testid="group-row"][data-group="group one"]').scrollIntoViewIfNeeded();
    const members = async (gid) => (await api('GET', `/api/groups/${gid}`)).group.experiments.map((e) => e.name);
    const holds = async (a, b) => JSON.stringify([await members(one.id), await members(two.id)]) === JSON.stringify([a, b]);
    const rows = page.locator('[data-testid="exp-row"][data-name="bulk.a"]');
    const inGroup = (gid) => page.locator(`[data-testid="exp-row"][data-name="bulk.a"][data-group-id="${gid}"]`);
    // the table has caught up before the next press: rows must not move under the mouse
    const caughtUp = async (gids) => {
      for (const gid of gids) await inGroup(gid).waitFor({ timeout: T });
      await until(`bulk.a shown in ${gids.length} place(s) only`, async () => (await rows.count()) === gids.length, T);
    };
    await row('bulk.a').dragTo(page.locator('[data-testid="group-row"][data-group="group one"]'));
    await until('bulk.a in group one', () => holds(['bulk.a'], []), T);
    await caughtUp([one.id]);
    // moved: from group one to group two
    await inGroup(one.id).dragTo(page.locator('[data-testid="group-row"][data-group="group two"]'));
    await until('bulk.a moved to group two', () => holds([], ['bulk.a']), T);
    await page.locator('[data-testid="group-row"][data-group="group one"] [data-testid="group-count"]')
      .filter({ hasText: /^0$/ }).waitFor({ timeout: T });
    await caughtUp([two.id]);
    // with Alt held it stays in group two and joins group one
    await page.keyboard.down('Alt');
    await inGroup(two.id).dragTo(page.locator('[data-testid="group-row"][data-group="group one"]'));
    await page.keyboard.up('Alt');
    await until('bulk.a in both groups', () => holds(['bulk.a'], ['bulk.a']), T);
    await caughtUp([one.id, two.id]);
    await shot('04-groups');
  });

  await step('the Jobs page filters through the URL', async () => {
    await page.goto(`${URL}/jobs?q=e2e.first`);
    await page.getByTestId('jobs-table').waitFor({ timeout: T });
    const names = await page.locator('[data-testid="job-row"] [data-testid="job-experiment"]').allInnerTexts();
    assert.ok(names.length >= 1, 'some jobs');
    assert.ok(names.every((x) => x.startsWith('e2e.first')), `only e2e.first jobs: ${names}`);
    assert.equal(await page.getByTestId('jobs-search').inputValue(), 'e2e.first');
    await page.goto(`${URL}/jobs?active=1`);
    await page.getByTestId('empty').waitFor({ timeout: T });
    assert.ok(await page.getByLabel('Active only').isChecked());
    await page.goto(`${URL}/jobs`);
    await page.waitForURL(/active=1/); // remembered
    await page.getByLabel('Active only').click(); // controlled by the URL: it changes once the route does
    await page.waitForURL((u) => !u.search.includes('active'));
    await page.getByTestId('jobs-table').waitFor({ timeout: T });
    await shot('05-jobs');
  });

  await step("open a job's log", async () => {
    await page.goto(`${URL}/jobs?q=e2e.first`);
    await page.locator('[data-testid="job-row"]').first().getByTestId('open-log').click();
    await page.getByTestId('log-text').filter({ hasText: 'epoch 3/3' }).waitFor({ timeout: T });
    await page.waitForFunction(() => {
      const d = document.querySelector('.mantine-Drawer-content');
      return d !== null && getComputedStyle(d).opacity === '1'
        && Math.abs(d.getBoundingClientRect().right - window.innerWidth) < 2;
    }); // the drawer has finished sliding in
    await shot('06-log');
    await page.keyboard.press('Escape');
  });

  await step('the Operations page lists events', async () => {
    await page.goto(`${URL}/operations`);
    await page.getByTestId('ops-table').getByText('created experiment e2e.first').first().waitFor({ timeout: T });
    await shot('07-operations');
  });

  await step('switch the theme, and it stays after a reload', async () => {
    await page.goto(`${URL}/settings`);
    await page.getByTestId('theme').getByText('Dark').click();
    await page.waitForFunction(() => document.documentElement.getAttribute('data-mantine-color-scheme') === 'dark');
    await page.reload();
    await page.getByTestId('theme').waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.getAttribute('data-mantine-color-scheme')), 'dark');
    await page.goto(URL);
    await row('e2e.first').waitFor({ timeout: T });
    await shot('08-dark');
  });

  await step('keyboard help opens with ?', async () => {
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('?');
    await page.getByText('Keyboard shortcuts').waitFor();
    await page.keyboard.press('Escape');
  });

  const real = errors.filter((e) => !/Failed to load resource/.test(e));
  assert.deepEqual(real, [], 'no errors in the page');
} catch (e) {
  failed = true;
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
