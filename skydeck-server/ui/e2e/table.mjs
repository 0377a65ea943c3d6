// The experiments table end to end in Chromium: paging, names, the expanded row in the viewport,
// group names, group-wide flag edits, sorting, filters with counts, search, URL state, CSV, columns.
// Started by DashboardIT with a real server on an empty deck: SKYDECK_URL, CHROMIUM, SCREENSHOTS.
// Every step of a defect of issue 16 fails on the dashboard before it (see the comment of each).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { api, launchChromium, until, URL } from './harness.mjs';

const SHOTS = process.env.SCREENSHOTS ?? 'screenshots';
const T = 60_000;

// ---- the deck: a 40-run sweep with long names and 8 flags in a group, 150 single runs, 5 that fail ----
const sweep = [];
for (let i = 0; i < 40; i++) {
  const lr = [0.001, 0.003, 0.01, 0.03][i % 4];
  const wd = ['0.0', '0.1'][Math.floor(i / 4) % 2];
  sweep.push({
    name: `daveey.navigation.sweep.2026-12-01.lr_${lr}.wd_${wd}.seed_${i}`, base_command: 'true',
    flags: { 'trainer.optimizer.lr': lr, 'trainer.optimizer.wd': Number(wd), seed: i, model: 'llama', env: 'nav',
      'trainer.batch_size': 64, use_amp: true, curriculum: i % 3 ? 'easy' : 'hard' },
  });
}
await api('POST', '/api/experiments', { experiments: sweep });
const ids = (await api('GET', '/api/experiments?limit=1000&fields=full')).experiments.map((e) => e.id);
const group = (await api('POST', '/api/groups', { name: 'lr-sweep', experiment_ids: ids })).group;
await api('POST', '/api/experiments', { experiments: Array.from({ length: 150 }, (_, i) => ({
  name: `solo.run.${String(i).padStart(3, '0')}`, base_command: 'true',
  flags: { seed: i, model: ['llama', 'gpt'][i % 2], steps: 1000 * (i % 5) },
})) });
await api('POST', '/api/experiments', { experiments: Array.from({ length: 5 }, (_, i) => ({
  name: `solo.fail.${i}`, base_command: 'false', desired_state: 'RUNNING', flags: { seed: 1000 + i, model: 'gpt' },
})) });

const browser = await launchChromium();
const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, acceptDownloads: true });
await context.addInitScript(() => {
  if (!localStorage.getItem('skydeck.settings')) {
    localStorage.setItem('skydeck.settings', JSON.stringify({ refresh: 'live', backend: '', theme: 'light', token: '' }));
  }
});
const page = await context.newPage();
const errors = [];
const requests = [];
page.on('pageerror', (e) => errors.push(String(e)));
page.on('request', (r) => { if (r.url().includes('/api/')) requests.push(r.url().slice(URL.length)); });
let failed = false;
let n = 0;
const shot = (name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });

async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    failed = true;
    console.log(`FAIL ${name}: ${e.stack ?? e}`);
    await shot(`fail-table-${String(++n).padStart(2, '0')}`).catch(() => {});
  }
}

const rows = page.locator('[data-testid="exp-row"]');
const row = (name) => page.locator(`[data-testid="exp-row"][data-name="${name}"]`).first();
const names = () => rows.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-name')));
const waitRows = (pred, what) => page.waitForFunction(pred, null, { timeout: T }).catch((e) => { throw new Error(`${what}: ${e.message}`); });
/** Scrolls the table until the (virtualised) row of `name` exists, from the top. */
async function seek(name) {
  const table = page.getByTestId('table');
  await table.evaluate((t) => { t.scrollTop = 0; });
  for (let i = 0; i < 60; i++) {
    if (await row(name).count()) break;
    await table.evaluate((t) => { t.scrollTop += 600; });
    await page.waitForTimeout(120);
  }
  await row(name).waitFor({ timeout: T });
  await row(name).scrollIntoViewIfNeeded();
}
const group_ = (name) => page.locator(`[data-testid="group-row"][data-group="${name}"]`);

try {
  await step('the table loads by pages: groups without members, members 100 at a time, never the whole list', async () => {
    // before: GET /api/groups with every member and every ungrouped experiment
    await page.goto(URL);
    await row('daveey.navigation.sweep.2026-12-01.lr_0.001.wd_0.0.seed_0').waitFor({ timeout: T });
    await seek('solo.run.000');
    assert.ok(requests.some((r) => r.startsWith('/api/groups?members=false')), requests.join('\n'));
    assert.deepEqual(requests.filter((r) => r.startsWith('/api/groups') && !r.includes('members=false')), []);
    const lists = requests.filter((r) => r.startsWith('/api/experiments?'));
    assert.ok(lists.length > 0);
    for (const r of lists) assert.ok(Number(new URLSearchParams(r.split('?')[1]).get('limit')) <= 100, r);
    assert.ok(await rows.count() < 80, 'rows are virtualised');
    await shot('20-table-1600');
  });

  await step('sweep names are told apart: cut in the middle, the full name on hover', async () => {
    // before: a fixed 230 px column cut every sweep name to the same 'daveey.navigation.sweep.2…'
    const cells = await page.locator('[data-testid="exp-row"] [data-testid="exp-name"]').evaluateAll((cs) => cs
      .filter((c) => c.getAttribute('data-full').startsWith('daveey'))
      .map((c) => ({ text: c.textContent, full: c.getAttribute('data-full'), title: c.title, clipped: c.scrollWidth > c.clientWidth + 1 })));
    assert.ok(cells.length >= 10, `sweep rows on screen: ${cells.length}`);
    assert.equal(new Set(cells.map((c) => c.text)).size, cells.length, `shown names differ: ${cells.map((c) => c.text).join(' | ')}`);
    for (const c of cells) {
      assert.equal(c.clipped, false, `${c.text} fits its cell`);
      assert.ok(c.title.startsWith(c.full), 'the full name on hover');
      assert.ok(c.text.endsWith(c.full.slice(-6)), `${c.text} keeps the end of ${c.full}`);
    }
  });

  await step('the name column is resizable: wider, the full names show', async () => {
    await page.getByTestId('table').evaluate((t) => { t.scrollTop = 0; });
    const handle = page.getByTestId('name-resize');
    const box = await handle.boundingBox();
    await page.mouse.move(box.x + 3, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + 220, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    const full = 'daveey.navigation.sweep.2026-12-01.lr_0.001.wd_0.0.seed_0';
    await page.waitForFunction((f) => [...document.querySelectorAll('[data-testid="exp-name"]')]
      .some((c) => c.getAttribute('data-full') === f && c.textContent === f), full, { timeout: T });
  });

  for (const width of [1600, 1280]) {
    await step(`at ${width} px with 8 flag columns the expanded row's jobs, progress and events stay in view`, async () => {
      // before: the detail was as wide as all columns, so its right part sat off-screen
      await page.setViewportSize({ width, height: 1000 });
      const name = 'solo.fail.0';
      await page.getByTestId('search').fill(name);
      await row(name).waitFor({ timeout: T });
      await waitRows(() => document.querySelectorAll('[data-testid="exp-row"]').length === 1, 'one row');
      if (!(await page.locator('[data-testid="detail"]').count())) await row(name).click();
      const detail = page.locator('[data-testid="detail"]').first();
      await detail.waitFor({ timeout: T });
      await detail.getByTestId('detail-jobs').getByText('FAILED').first().waitFor({ timeout: T });
      // before: the Started column was '-' on every row (the list carried no start time)
      await page.waitForFunction((n) => {
        const cell = document.querySelector(`[data-testid="exp-row"][data-name="${n}"] [data-testid="started"]`);
        return cell && cell.textContent.trim() !== '-' && cell.textContent.trim() !== '';
      }, name, { timeout: T }).catch((e) => { throw new Error(`the Started cell of ${name} shows its job's start: ${e.message}`); });
      // before: the start was cut to '2026-12-02 14:27:…' in its cell; now short, in full on hover
      const started = row(name).getByTestId('started');
      assert.ok(await started.evaluate((c) => c.scrollWidth <= c.clientWidth), `the Started cell is not cut: ${await started.innerText()}`);
      assert.match(await started.getAttribute('title') ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(/, 'the full start on hover');
      for (const label of ['Started', 'Nodes×GPUs', 'Epoch']) {
        const head = page.getByTestId('header').locator('.cell.head', { hasText: label }).first();
        assert.ok(await head.evaluate((c) => c.scrollWidth <= c.clientWidth), `the ${label} header is not cut`);
      }
      const inView = async (what) => {
        for (const id of ['detail', 'detail-jobs', 'detail-events', 'launch-progress']) {
          const el = page.getByTestId(id).first();
          if (!(await el.count())) continue;
          const b = await el.boundingBox();
          assert.ok(b && b.x >= 0 && b.x + b.width <= width + 1, `${what}: ${id} spans ${b?.x}..${b && b.x + b.width} in a ${width} px window`);
        }
      };
      await inView('scrolled left');
      await page.getByTestId('table').evaluate((t) => { t.scrollLeft = t.scrollWidth; });
      await page.waitForTimeout(100);
      await inView('scrolled to the right end');
      await shot(`21-expanded-${width}`);
      await page.getByTestId('table').evaluate((t) => { t.scrollLeft = 0; });
      await row(name).click(); // collapse
      await page.getByTestId('search').fill('');
      await seek('solo.run.000');
    });
  }
  await page.setViewportSize({ width: 1600, height: 1000 });

  await step('two groups cannot share a name: the server refuses (409) and the modal says why', async () => {
    // before: window.prompt, and the server made a second 'lr-sweep'
    await page.getByTestId('table').evaluate((t) => { t.scrollTop = 0; });
    await page.getByTestId('new-group').click();
    await page.getByTestId('name-input').fill('lr-sweep');
    await page.getByTestId('name-submit').click();
    await page.getByText("a group named 'lr-sweep' already exists").waitFor({ timeout: T });
    await shot('23-group-name-taken');
    await page.keyboard.press('Escape');
    const all = (await api('GET', '/api/groups?members=false')).groups;
    assert.deepEqual(all.map((g) => g.name), ['lr-sweep']);
    await group_('lr-sweep').getByTestId('group-menu').click();
    await page.getByTestId('group-rename').click();
    await page.getByTestId('name-input').fill('lr sweep 2026');
    await page.getByTestId('name-submit').click();
    await group_('lr sweep 2026').waitFor({ timeout: T });
  });

  await step('a group-wide flag edit asks first, saying how many members change', async () => {
    // before: the popover's "Set for all" changed all 40 members at once
    const g = group_('lr sweep 2026');
    await g.locator('[data-testid="common-flag"][data-key="model"]').click();
    await page.getByTestId('common-flag-input').fill('mistral');
    await page.getByTestId('common-flag-save').click();
    const text = await page.getByTestId('confirm-text').innerText();
    assert.match(text, /all 40 experiment/);
    await shot('24-confirm-group-flag');
    await page.getByRole('button', { name: 'Cancel' }).click();
    let members = (await api('GET', `/api/experiments?group=${group.id}&limit=100`)).experiments;
    assert.equal(members.filter((e) => e.flags.model === 'mistral').length, 0, 'cancelled: nothing changed');
    await g.locator('[data-testid="common-flag"][data-key="model"]').click();
    await page.getByTestId('common-flag-input').fill('mistral');
    await page.getByTestId('common-flag-save').click();
    await page.getByTestId('confirm').click();
    await page.getByText('model=mistral on 40 of 40').waitFor({ timeout: T });
    members = (await api('GET', `/api/experiments?group=${group.id}&limit=100`)).experiments;
    assert.equal(members.filter((e) => e.flags.model === 'mistral').length, 40);
    await g.locator('[data-testid="common-flag"][data-key="model"]').filter({ hasText: 'mistral' }).waitFor({ timeout: T });
  });

  await step('sort by clicking headers: name, then a flag numerically, kept in the URL', async () => {
    const sortBy = (k) => page.locator(`[data-testid="header"] [data-testid="sort"][data-sort="${k}"]`).first().click();
    await sortBy('name');
    await sortBy('name');
    await page.waitForURL(/sort=-name/, { timeout: T });
    await seek('solo.run.149');
    const solo = (await names()).filter((x) => x.startsWith('solo.'));
    assert.deepEqual(solo.slice(0, 3), ['solo.run.149', 'solo.run.148', 'solo.run.147']);
    await page.getByTestId('table').evaluate((t) => { t.scrollTop = 0; });
    await sortBy('flag:seed');
    await sortBy('flag:seed');
    await page.waitForURL(/sort=-flag%3Aseed|sort=-flag:seed/, { timeout: T });
    // numbers numerically: 39 before 9 among the sweep (a text sort would put 9 first)
    await waitRows(() => document.querySelector('[data-testid="exp-row"]')?.dataset.name?.endsWith('seed_39'), 'seed desc');
    const sweepSeeds = await page.locator('[data-testid="exp-row"] [data-flag="seed"]').allInnerTexts();
    assert.deepEqual(sweepSeeds.slice(0, 3), ['39', '38', '37']);
    await shot('25-sorted-by-seed');
    await sortBy('flag:seed'); // back to the user's order
    await page.waitForURL((u) => !u.search.includes('sort='), { timeout: T });
  });

  await step('filter by state with counts from the server ("show me the failed ones")', async () => {
    await page.getByTestId('state-filter').click();
    const failedOption = page.locator('[data-testid="state-option"][data-state="FAILED"]');
    await failedOption.filter({ hasText: '5' }).waitFor({ timeout: T });
    await failedOption.locator('input').click();
    await page.waitForURL(/state=FAILED/, { timeout: T });
    await page.keyboard.press('Escape');
    await waitRows(() => document.querySelectorAll('[data-testid="exp-row"]').length === 5, 'five failed rows');
    assert.deepEqual((await names()).sort(), ['solo.fail.0', 'solo.fail.1', 'solo.fail.2', 'solo.fail.3', 'solo.fail.4']);
    assert.equal(await group_('lr sweep 2026').count(), 0, 'a group with none of them is hidden');
    await page.getByTestId('filter-chips').getByText('state: FAILED').waitFor();
    await shot('26-failed-only');
    await page.getByTestId('clear-filters').click();
    await page.waitForURL((u) => !u.search.includes('state='), { timeout: T });
  });

  await step('filter by a flag value offered from the data, with counts', async () => {
    await page.locator('[data-testid="flag-filter"][data-flag="model"]').click();
    const gpt = page.locator('[data-testid="flag-value"][data-value="gpt"]');
    await gpt.filter({ hasText: '80' }).waitFor({ timeout: T }); // 75 single runs and the 5 failing ones
    await page.locator('[data-testid="flag-value"][data-value="mistral"]').filter({ hasText: '40' }).waitFor();
    await gpt.locator('input').click();
    await page.waitForURL(/flag\.model=gpt/, { timeout: T });
    await page.keyboard.press('Escape');
    await waitRows(() => [...document.querySelectorAll('[data-testid="exp-row"] [data-flag="model"]')].every((c) => c.textContent === 'gpt')
      && document.querySelectorAll('[data-testid="exp-row"]').length > 5, 'only gpt rows');
    await shot('27-model-gpt');
    await page.getByTestId('clear-filters').click();
  });

  await step('search names and flag values as one types (debounced, no Enter)', async () => {
    await page.getByTestId('search').pressSequentially('solo.run.01', { delay: 30 });
    await waitRows(() => document.querySelectorAll('[data-testid="exp-row"]').length === 10, 'ten rows');
    assert.ok((await names()).every((x) => x.startsWith('solo.run.01')));
    await page.waitForURL(/q=solo\.run\.01/, { timeout: T });
  });

  await step('the filters live in the URL: a reload shows the same table', async () => {
    await page.goto(page.url().replace(/\?.*$/, '') + '?q=solo.run.01&sort=-name&flag.steps=1000');
    await waitRows(() => document.querySelectorAll('[data-testid="exp-row"]').length === 2, 'two rows');
    assert.deepEqual(await names(), ['solo.run.016', 'solo.run.011']);
    assert.equal(await page.getByTestId('search').inputValue(), 'solo.run.01');
    await page.getByTestId('filter-chips').getByText('steps: 1000').waitFor();
  });

  await step('CSV export of what is shown, fetched from the server', async () => {
    await page.goto(URL + '/?q=solo.run.01');
    await waitRows(() => document.querySelectorAll('[data-testid="exp-row"]').length === 10, 'ten rows');
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: T }), page.getByTestId('export-csv').click()]);
    const csv = await readFile(await download.path(), 'utf8');
    const lines = csv.trimEnd().split('\r\n');
    assert.equal(lines.length, 11, csv);
    assert.match(lines[0], /^name,state,desired,epoch,started,nodes,gpus,.*model.*seed/);
    assert.ok(lines.slice(1).every((l) => l.startsWith('solo.run.01')));
  });

  await step('the column chooser hides and pins flag columns', async () => {
    await page.goto(URL);
    await seek('solo.run.000');
    await page.getByTestId('columns').click();
    await page.locator('[data-testid="column-option"][data-key="env"]').click();
    await page.locator('[data-testid="column-pin"][data-key="seed"]').click();
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('[data-testid="flag-column"][data-key="env"]').count(), 0);
    await page.getByTestId('table').evaluate((t) => { t.scrollLeft = t.scrollWidth; });
    await page.waitForTimeout(100);
    const seed = await row('solo.run.000').locator('[data-flag="seed"]').boundingBox();
    const nameBox = await row('solo.run.000').getByTestId('exp-name').boundingBox();
    assert.ok(seed.x < nameBox.x + nameBox.width + 5, `the pinned seed column stays beside the name (${seed.x})`);
    assert.ok(nameBox.x >= 0 && nameBox.x < 400, 'the name stays at the left');
    await shot('28-pinned-seed');
    await page.getByTestId('table').evaluate((t) => { t.scrollLeft = 0; });
  });

  await step("a group's own columns (seed 002) are chosen in the chooser and saved on the group", async () => {
    await page.getByTestId('table').evaluate((t) => { t.scrollTop = 0; });
    await page.getByTestId('columns').click();
    await page.getByTestId('column-scope').click();
    await page.getByRole('option', { name: 'group lr sweep 2026' }).click();
    await page.locator('[data-testid="column-option"][data-key="curriculum"]').click();
    await page.keyboard.press('Escape');
    await group_('lr sweep 2026').getByTestId('group-columns').waitFor({ timeout: T });
    const saved = (await api('GET', `/api/groups/${group.id}`)).group.flags;
    assert.ok(saved.length > 0 && !saved.includes('curriculum'), saved.join(','));
    const member = row('daveey.navigation.sweep.2026-12-01.lr_0.001.wd_0.0.seed_0');
    assert.equal(await member.locator('[data-flag="curriculum"]').count(), 0);
    // before: scrolled into the group, the sticky header kept the table's labels over the group's own columns
    await member.evaluate((el) => {
      const t = el.closest('[data-testid="table"]');
      const head = t.querySelector('[data-testid="header"]');
      t.scrollTop += el.getBoundingClientRect().top - t.getBoundingClientRect().top - head.offsetHeight + 2;
    });
    await page.locator('[data-testid="header"][data-columns-of="lr sweep 2026"]').waitFor({ timeout: T });
    const keysOf = (loc, attr) => loc.evaluateAll((els, a) => els.map((x) => x.getAttribute(a)), attr);
    assert.deepEqual(await keysOf(page.locator('[data-testid="header"] [data-testid="flag-column"]'), 'data-key'),
      await keysOf(member.locator('[data-flag]'), 'data-flag'), 'the sticky header names the cells under it');
    await shot('29-group-columns-sticky');
    await page.getByTestId('table').evaluate((t) => { t.scrollTop = 0; });
    await page.locator('[data-testid="header"][data-columns-of="table"]').waitFor({ timeout: T });
    await seek('solo.run.000');
    assert.equal(await row('solo.run.000').locator('[data-flag="steps"]').count(), 1, 'other rows keep the table columns');
    await shot('29-group-columns');
  });

  await step('scrolling fetches the next pages (offset=100) and reaches the last row', async () => {
    requests.length = 0;
    for (let i = 0; i < 40 && !(await row('solo.run.149').count()); i++) {
      await page.getByTestId('table').evaluate((t) => { t.scrollTop += 1500; });
      await page.waitForTimeout(150);
    }
    await row('solo.run.149').waitFor({ timeout: T });
    assert.ok(requests.some((r) => r.startsWith('/api/experiments?') && r.includes('group=none') && r.includes('offset=100')), requests.join('\n'));
  });

  await step('starring is instant (optimistic) and saved', async () => {
    await seek('solo.run.000');
    const star = row('solo.run.000').getByTestId('star');
    await star.click();
    await row('solo.run.000').locator('[data-testid="star"][data-starred="true"]').waitFor({ timeout: 2000 });
    await until('the star saved', async () => (await api('GET', '/api/experiments/solo.run.000')).experiment.starred, T);
  });

  assert.deepEqual(errors, []);
} catch (e) {
  failed = true;
  console.log(`FAIL ${e.stack ?? e}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
