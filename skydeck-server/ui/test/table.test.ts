import { describe, expect, it } from 'vitest';
import {
  EMPTY_STATE, csvColumns, filterParams, fitMiddle, flagColumns, flagValueText, isFiltered, layout, locate, middleEllipsis,
  nextSort, pageParams, pagesFor, parseColumnPrefs, parseTableState, tableStateToParams, toCsv, toggleFlagValue, toggleState,
  type Section, type TableState,
} from '../src/lib/table';
import { normalizeExperiment, normalizeGroupSummaries, normalizePage } from '../src/api/normalize';
import { FlagNumber } from '../src/lib/json';
import type { Experiment } from '../src/api/types';

const item = (id: number, name: string, flags: Experiment['flags'] = {}) =>
  normalizeExperiment({ id, name, flags, desired_state: 'STOPPED', current_state: 'INIT', created_at: '', updated_at: '', version: 1, generation: 0 });

describe('the table state in the URL', () => {
  it('reads sort, search, states (repeated or comma-separated), flag values and the flat view', () => {
    const s = parseTableState(new URLSearchParams('q=lr&state=FAILED,running&state=FAILED&flag.lr=0.1&flag.lr=0.01&flag.opt=~&sort=-flag:lr&view=flat'));
    expect(s).toEqual({ q: 'lr', states: ['FAILED', 'RUNNING'], flags: { lr: ['0.1', '0.01'], opt: ['~'] },
      sort: { key: 'flag:lr', desc: true }, flat: true });
  });
  it('writes the same state back and keeps other parameters; a clean state is a clean URL', () => {
    const s: TableState = { q: 'x y', states: ['FAILED'], flags: { 'trainer.lr': ['0.1'] }, sort: { key: 'name', desc: false }, flat: false };
    const p = tableStateToParams(s, new URLSearchParams('tab=jobs&sort=old'));
    expect(p.toString()).toBe('tab=jobs&q=x+y&state=FAILED&flag.trainer.lr=0.1&sort=name');
    expect(parseTableState(p)).toEqual(s);
    expect(tableStateToParams(EMPTY_STATE).toString()).toBe('');
    expect(parseTableState(new URLSearchParams('sort=order')).sort).toBeNull();
  });
  it('says when a filter narrows the list', () => {
    expect(isFiltered(EMPTY_STATE)).toBe(false);
    expect(isFiltered({ ...EMPTY_STATE, sort: { key: 'name', desc: true } })).toBe(false);
    expect(isFiltered({ ...EMPTY_STATE, q: ' a ' })).toBe(true);
    expect(isFiltered(toggleFlagValue(EMPTY_STATE, 'lr', '0.1'))).toBe(true);
  });
});

describe('sorting and filtering', () => {
  it('cycles a header through ascending, descending and the user order', () => {
    const a = nextSort(null, 'epoch');
    expect(a).toEqual({ key: 'epoch', desc: false });
    const d = nextSort(a, 'epoch');
    expect(d).toEqual({ key: 'epoch', desc: true });
    expect(nextSort(d, 'epoch')).toBeNull();
    expect(nextSort(d, 'name')).toEqual({ key: 'name', desc: false });
  });
  it('toggles states and flag values', () => {
    const s = toggleState(toggleState(EMPTY_STATE, 'FAILED'), 'RUNNING');
    expect(s.states).toEqual(['FAILED', 'RUNNING']);
    expect(toggleState(s, 'FAILED').states).toEqual(['RUNNING']);
    const f = toggleFlagValue(toggleFlagValue(EMPTY_STATE, 'lr', '0.1'), 'lr', '0.01');
    expect(f.flags).toEqual({ lr: ['0.1', '0.01'] });
    expect(toggleFlagValue(toggleFlagValue(f, 'lr', '0.1'), 'lr', '0.01').flags).toEqual({});
  });
  it('asks the server for one page of a section, sorted and filtered (contract §1)', () => {
    const s: TableState = { q: ' nav ', states: ['FAILED', 'RUNNING'], flags: { lr: ['0.1', '~'] }, sort: { key: 'flag:lr', desc: true }, flat: false };
    expect(pageParams(s, 3, 2, 100).toString())
      .toBe('q=nav&state=FAILED%2CRUNNING&flag.lr=0.1&flag.lr=%7E&group=3&sort=-flag%3Alr&limit=100&offset=200');
    expect(pageParams(EMPTY_STATE, 'none', 0, 50, 'alice').toString()).toBe('group=none&created_by=alice&sort=order&limit=50&offset=0');
    expect(pageParams(EMPTY_STATE, 'all', 0, 50).has('group')).toBe(false);
    expect(filterParams(s).has('sort')).toBe(false);
  });
  it('writes flag values as the filter compares them', () => {
    expect(flagValueText(0.1)).toBe('0.1');
    expect(flagValueText(new FlagNumber('3.0'))).toBe('3.0');
    expect(flagValueText(true)).toBe('true');
    expect(flagValueText(undefined)).toBe('~');
  });
});

describe('the layout of groups and pages', () => {
  const sec = (key: string, count: number, extra: Partial<Section> = {}): Section =>
    ({ key, scope: 0, group: null, count, counted: true, collapsed: false, header: true, ...extra });
  const l = layout([sec('a', 3), sec('b', 250, { collapsed: true }), sec('c', 250)]);
  it('places headers and members without a list of rows', () => {
    expect(l.total).toBe(4 + 1 + 251);
    expect(locate(l, 0)).toMatchObject({ kind: 'header', section: { key: 'a' } });
    expect(locate(l, 3)).toMatchObject({ kind: 'member', index: 2, section: { key: 'a' } });
    expect(locate(l, 4)).toMatchObject({ kind: 'header', section: { key: 'b' } });
    expect(locate(l, 5)).toMatchObject({ kind: 'header', section: { key: 'c' } });
    expect(locate(l, 255)).toMatchObject({ kind: 'member', index: 249 });
    expect(locate(l, 256)).toBeNull();
  });
  it('fetches only the pages of the rows in view (and never a collapsed group)', () => {
    expect(pagesFor(l, 0, 30, 100).map((p) => `${p.section.key}:${p.page}`)).toEqual(['a:0', 'c:0']);
    expect(pagesFor(l, 100, 210, 100).map((p) => `${p.section.key}:${p.page}`)).toEqual(['c:0', 'c:1', 'c:2']);
  });
  it('lays out 100,000 rows in constant space', () => {
    const big = layout([sec('all', 100_000, { header: false })]);
    expect(big.total).toBe(100_000);
    expect(locate(big, 99_999)).toMatchObject({ kind: 'member', index: 99_999 });
  });
});

describe('columns', () => {
  it('shows every flag but the hidden ones, pinned ones first', () => {
    expect(flagColumns(['a', 'b', 'c', 'd'], { hidden: ['b'], pinned: ['d'] })).toEqual({ pinned: ['d'], rest: ['a', 'c'] });
  });
  it('gives a group its own chosen flags (seed 002), in its order, hidden ones included', () => {
    expect(flagColumns(['a', 'b', 'c'], { hidden: ['c'], pinned: ['c'] }, ['c', 'a'])).toEqual({ pinned: ['c'], rest: ['a'] });
  });
  it('reads stored preferences defensively', () => {
    expect(parseColumnPrefs('{"hidden":["x",3],"pinned":"y"}')).toEqual({ hidden: ['x'], pinned: [] });
    expect(parseColumnPrefs('not json')).toEqual({ hidden: [], pinned: [] });
  });
});

describe('CSV export', () => {
  it('writes what is shown, quoting commas, quotes and line breaks, and neutralising formulas', () => {
    const started = { ...item(2, '=cmd()', { lr: 2 }), started_at: '2026-06-01T10:00:00Z' };
    const rows = [item(1, 'a,b', { lr: new FlagNumber('0.10'), note: 'say "hi"\nbye', neg: -1 }), started];
    const csv = toCsv(csvColumns(['lr', 'note', 'neg']), rows);
    expect(csv.split('\r\n')).toEqual([
      'name,state,desired,epoch,started,nodes,gpus,lr,note,neg',
      '"a,b",INIT,STOPPED,,,1,0,0.10,"say ""hi""\nbye",-1',
      "'=cmd(),INIT,STOPPED,,2026-06-01T10:00:00Z,1,0,2,,",
      '',
    ]);
  });
});

describe('names cut in the middle', () => {
  it('keeps the start and a little more of the end, where sweep names differ', () => {
    expect(middleEllipsis('short', 10)).toBe('short');
    expect(middleEllipsis('daveey.nav.sweep.lr_0.001.seed_3', 16)).toBe('daveey…01.seed_3');
    const a = middleEllipsis('daveey.navigation.sweep.lr_0.001.seed_3', 20);
    const b = middleEllipsis('daveey.navigation.sweep.lr_0.003.seed_4', 20);
    expect(a).toHaveLength(20);
    expect(a).not.toBe(b);
    expect(a.startsWith('daveey.n')).toBe(true);
    expect(a.endsWith('001.seed_3')).toBe(true);
  });
  it('fits the longest form into a width', () => {
    const measure = (s: string) => s.length * 7;
    expect(fitMiddle('abcdefghij', 70, measure)).toBe('abcdefghij');
    const out = fitMiddle('abcdefghijklmnopqrstuvwxyz', 70, measure);
    expect(out).toHaveLength(10);
    expect(out).toContain('…');
  });
});

describe('compact list items (contract §3)', () => {
  it('fills every left-out field with its default', () => {
    const e = normalizeExperiment({ id: 7, name: 'x', desired_state: 'RUNNING', current_state: 'RUNNING', created_at: 't', updated_at: 't',
      version: 2, generation: 3, status: { stage: 'RUNNING' } as never });
    expect(e).toMatchObject({ flags: {}, tags: [], nodes: 1, gpus: 0, base_command: 'lt', starred: false, expanded: false,
      latest_epoch: null, description: null, command: '', task_template: null, drifted: false,
      resources: { cloud: null, spot: false }, restart_policy: { mode: 'NEVER', backoff_seconds: 10, max_backoff_seconds: 600 } });
    expect(e.status).toMatchObject({ stage: 'RUNNING', observed_generation: 3, observed_desired: 'RUNNING', settled: false, launch_retries: 0 });
    expect(normalizeExperiment({ ...e, latest_epoch: 0 }).latest_epoch).toBe(0);
    // never changed: the server leaves updated_at out, it is created_at
    const fresh: Record<string, unknown> = { ...e, created_at: '2026-12-02T10:00:00Z' };
    delete fresh.updated_at;
    expect(normalizeExperiment(fresh as never).updated_at).toBe('2026-12-02T10:00:00Z');
    expect(normalizeExperiment({ ...e, updated_at: 'u' }).updated_at).toBe('u');
  });
  it('reads the page total from the body or the header', () => {
    expect(normalizePage({ experiments: [], total: 12 }, 5).total).toBe(12);
    expect(normalizePage({ experiments: [] }, 5).total).toBe(5);
  });
  it('derives group counts from whole groups when the server has no members=false', () => {
    const s = normalizeGroupSummaries({ groups: [{ id: 1, name: 'g', experiment_ids: [1, 2],
      experiments: [{ id: 1, name: 'a', current_state: 'FAILED' }, { id: 2, name: 'b' }] }],
      ungrouped: [{ id: 3, name: 'c', current_state: 'RUNNING' }] });
    expect(s.groups[0]).toMatchObject({ count: 2, states: { FAILED: 1, INIT: 1 }, flags: [], collapsed: false });
    expect(s.ungrouped).toEqual({ count: 1, states: { RUNNING: 1 } });
  });
});
