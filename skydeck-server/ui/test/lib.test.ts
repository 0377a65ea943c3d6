import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatFlag, formatNumber, formatRelative, formatShortTime, formatTime } from '../src/lib/format';
import { commonFlags, flagChanges, flagKeys, headerRows, parseFlagValue, sameFlagValue } from '../src/lib/flags';
import { FlagNumber, parseJson, stringifyJson } from '../src/lib/json';
import { formatValue, quote, renderCommand } from '../src/lib/command';
import { DEFAULT_JOB_FILTERS, jobFiltersToApi, jobFiltersToParams, parseJobFilters } from '../src/lib/urlFilters';
import { QueryClient } from '@tanstack/react-query';
import { MAX_PATCHES, applyPlan, keys, patchExperiment, planFor } from '../src/data/live';
import { parseSse } from '../src/api/events';
import type { Experiment, Group, SkyEvent } from '../src/api/types';

describe('format', () => {
  it('writes short local times for table cells: the time today, the day this year, the date before', () => {
    const now = new Date(2026, 11, 2, 15, 0, 0);
    expect(formatShortTime(new Date(2026, 11, 2, 9, 8, 7).toISOString(), now)).toBe('09:08:07');
    expect(formatShortTime(new Date(2026, 0, 2, 3, 4, 5).toISOString(), now)).toBe('01-02 03:04');
    expect(formatShortTime(new Date(2025, 11, 2, 15, 0, 0).toISOString(), now)).toBe('2025-12-02');
    expect(formatShortTime(null, now)).toBe('-');
    expect(formatShortTime('not a time', now)).toBe('-');
  });

  it('writes local times as YYYY-MM-DD HH:mm:ss', () => {
    const d = new Date(2026, 0, 2, 3, 4, 5);
    expect(formatTime(d.toISOString())).toBe('2026-01-02 03:04:05');
    expect(formatTime(null)).toBe('-');
    expect(formatTime('not a time')).toBe('-');
  });
  it('writes durations with the largest units first', () => {
    expect(formatDuration(5415)).toBe('1h 30m 15s');
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(60)).toBe('1m');
    expect(formatDuration(90061)).toBe('1d 1h 1m 1s');
    expect(formatDuration(-1)).toBe('-');
  });
  it('writes relative times', () => {
    const now = Date.parse('2026-01-01T00:10:00Z');
    expect(formatRelative('2026-01-01T00:07:00Z', now)).toBe('3m ago');
    expect(formatRelative('2026-01-01T00:09:58Z', now)).toBe('just now');
    expect(formatRelative('2025-12-31T22:10:00Z', now)).toBe('2h ago');
    expect(formatRelative('2026-01-01T00:13:00Z', now)).toBe('in 3m');
  });
  it('abbreviates large numbers', () => {
    expect(formatNumber(1500)).toBe('1.5K');
    expect(formatNumber(2_000_000)).toBe('2M');
    expect(formatNumber(50_000_000_000)).toBe('50B');
    expect(formatNumber(999)).toBe('999');
    expect(formatNumber(0.001)).toBe('0.001');
  });
  it('shows booleans as check marks and keeps small integers', () => {
    expect(formatFlag(true)).toBe('✓');
    expect(formatFlag(false)).toBe('✗');
    expect(formatFlag(64)).toBe('64');
    expect(formatFlag(250000)).toBe('250000'); // flag values exactly as stored; K/M are for counts
    expect(formatFlag(12345)).toBe('12345');
    expect(formatFlag('adam')).toBe('adam');
    expect(formatBytes(1536)).toBe('1.5 KB');
  });
});

const exp = (id: number, flags: Experiment['flags']): Experiment => ({ id, name: `e${id}`, flags } as Experiment);

describe('flag columns', () => {
  it('sorts keys so that prefixes sit together', () => {
    expect(flagKeys([exp(1, { 'trainer.lr': 1, epochs: 2 }), exp(2, { 'trainer.a.b': 3 })]))
      .toEqual(['epochs', 'trainer.a.b', 'trainer.lr']);
  });
  it('builds multi-level headers with merged prefixes', () => {
    const rows = headerRows(['epochs', 'trainer.opt.lr', 'trainer.opt.wd', 'trainer.steps']);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toEqual([
      { label: '', span: 1, key: null },
      { label: 'trainer', span: 3, key: null },
    ]);
    expect(rows[1]).toEqual([
      { label: '', span: 1, key: null },
      { label: 'opt', span: 2, key: null },
      { label: '', span: 1, key: null },
    ]);
    expect(rows[2]!.map((c) => c.label)).toEqual(['epochs', 'lr', 'wd', 'steps']);
    expect(rows[2]!.map((c) => c.key)).toEqual(['epochs', 'trainer.opt.lr', 'trainer.opt.wd', 'trainer.steps']);
  });
  it('finds the flags a whole group shares', () => {
    expect(commonFlags([exp(1, { a: 1, b: 2, c: true }), exp(2, { a: 1, b: 3, c: true })])).toEqual({ a: 1, c: true });
    expect(commonFlags([exp(1, { a: 1 })])).toEqual({});
  });
  it('types values a person enters', () => {
    expect(parseFlagValue('true')).toBe(true);
    expect(parseFlagValue('42')).toBe(42);
    expect(parseFlagValue('0.001')).toEqual(new FlagNumber('0.001'));
    expect(parseFlagValue('3.0')).toEqual(new FlagNumber('3.0'));
    expect(parseFlagValue('3.')).toEqual(new FlagNumber('3.0'));
    expect(parseFlagValue('1e-5')).toEqual(new FlagNumber('1e-5'));
    expect(parseFlagValue('9007199254740993')).toEqual(new FlagNumber('9007199254740993'));
    expect(() => parseFlagValue('123456789012345678901234567890', 'seed')).toThrow(/seed.*64 bits/);
    expect(parseFlagValue('adam')).toBe('adam');
  });
});

describe('command rendering', () => {
  it('quotes like a POSIX shell', () => {
    expect(quote('lr=0.1')).toBe('lr=0.1');
    expect(quote('a b')).toBe("'a b'");
    expect(quote("it's")).toBe(`'it'"'"'s'`);
    expect(quote('=x')).toBe("'=x'");
  });
  it('writes doubles like Python', () => {
    expect(formatValue(0.1)).toBe('0.1');
    expect(formatValue(1e-5)).toBe('1e-05');
    expect(formatValue(4)).toBe('4');
  });
  it('renders the whole command in order with sorted flags', () => {
    expect(renderCommand({ base_command: 'lt', gpus: 4, nodes: 2, git_branch: 'main', tool_path: 'tools/run.py',
      name: 'ppo', flags: { z: 'a b', a: true } }))
      .toBe("lt --gpus=4 --nodes=2 --git-ref=main tools/run.py run=ppo a=true 'z=a b'");
  });
});

describe('job filters in the URL', () => {
  it('round-trips through the URL and leaves defaults out', () => {
    const f = { q: 'ppo', active: true, orphaned: false, experiment: 'exp-1', mine: true, page: 2 };
    const params = jobFiltersToParams(f);
    expect(params.toString()).toBe('q=ppo&active=1&experiment=exp-1&mine=1&page=2');
    expect(parseJobFilters(params)).toEqual(f);
    expect(jobFiltersToParams(DEFAULT_JOB_FILTERS).toString()).toBe('');
  });
  it('reads lenient values and ignores bad pages', () => {
    expect(parseJobFilters(new URLSearchParams('active=true&orphaned=yes&page=-3'))).toEqual(
      { q: '', active: true, orphaned: true, experiment: '', mine: false, page: 0 });
  });
  it('asks the API for one page', () => {
    const p = jobFiltersToApi({ ...DEFAULT_JOB_FILTERS, active: true, page: 1 });
    expect(p.get('active')).toBe('true');
    expect(p.get('mine')).toBeNull();
    expect(jobFiltersToApi({ ...DEFAULT_JOB_FILTERS, mine: true }).get('mine')).toBe('true');
    expect(p.get('offset')).toBe('50');
    expect(p.get('limit')).toBe('50');
  });
});

const ev = (type: SkyEvent['type'], experiment_id: number | null): SkyEvent =>
  ({ seq: 1, time: '', actor: 'POLLER', type, experiment_id, experiment_name: null, job_id: null, success: true,
    message: '', detail: null, user: null });

describe('the data layer and events', () => {
  const has = (plan: { invalidate: (readonly unknown[])[] }, key: readonly unknown[]) =>
    plan.invalidate.some((k) => JSON.stringify(k) === JSON.stringify(key));
  it('refetches only the changed experiment and its jobs on a job status change', () => {
    const plan = planFor([ev('JOB_STATUS', 7)]);
    expect(plan.reloadList).toBe(false);
    expect(plan.patch).toEqual([7]);
    expect(has(plan, keys.jobs)).toBe(true);
    expect(has(plan, keys.experimentJobs(7))).toBe(true);
    expect(has(plan, keys.groups)).toBe(false);
    expect(has(plan, keys.checkpoints(7))).toBe(false);
  });
  it('refreshes checkpoints only on a checkpoint event', () => {
    const plan = planFor([ev('CHECKPOINT', 3)]);
    expect(has(plan, keys.checkpoints(3))).toBe(true);
    expect(has(plan, keys.jobs)).toBe(false);
  });
  it('reloads the list when experiments appear or disappear', () => {
    expect(planFor([ev('CREATE', 1)]).reloadList).toBe(true);
    expect(planFor([ev('DELETE', 1)]).reloadList).toBe(true);
    expect(planFor([ev('UPDATE', null)]).reloadList).toBe(true);
  });
  it('coalesces a burst: each experiment once, and one reload when too many changed', () => {
    const few = planFor(Array.from({ length: 100 }, (_, i) => ev('JOB_STATUS', i % 2)));
    expect(few.patch.sort()).toEqual([0, 1]);
    expect(few.invalidate.filter((k) => JSON.stringify(k) === JSON.stringify(keys.jobs))).toHaveLength(1);
    const many = planFor(Array.from({ length: MAX_PATCHES + 1 }, (_, i) => ev('START', i)));
    expect(many.reloadList).toBe(true);
    expect(many.patch).toEqual([]);
  });
  it('refreshes the Sweep and Compare views on the events that change what they show', () => {
    const client = new QueryClient();
    const seen: (readonly unknown[])[] = [keys.group(2), keys.compareExperiment('7'), keys.job('j7'),
      keys.compareExperiment('8'), keys.health, keys.compareExperiment('by-name')];
    const stale = () => seen.map((k) => client.getQueryState([...k])?.isInvalidated);
    const reset = () => seen.forEach((k) => client.setQueryData([...k], { any: 'data' }));
    reset();
    applyPlan(client, planFor([ev('JOB_STATUS', 7)]));
    // the sweep's group (any experiment may be its member), experiment 7 and the jobs; not 8
    expect(stale()).toEqual([true, true, true, false, true, true]);
    reset();
    applyPlan(client, planFor([ev('CHECKPOINT', 8)]));
    expect(stale()).toEqual([true, false, false, true, false, true]);
    reset();
    applyPlan(client, planFor([]));
    expect(stale()).toEqual([false, false, false, false, false, false]);
  });
  it('patches one experiment into every group that holds it', () => {
    const a = { ...exp(1, { x: 1 }), current_state: 'RUNNING' } as Experiment;
    const b = exp(2, {});
    const group = { id: 9, experiments: [a, b] } as unknown as Group;
    const data = { groups: [group], ungrouped: [a] };
    const changed = { ...a, current_state: 'SUCCEEDED' } as Experiment;
    const next = patchExperiment(data, changed);
    expect(next.groups[0]!.experiments![0]!.current_state).toBe('SUCCEEDED');
    expect(next.groups[0]!.experiments![1]).toBe(b);
    expect(next.ungrouped[0]!.current_state).toBe('SUCCEEDED');
    expect(data.groups[0]!.experiments![0]!.current_state).toBe('RUNNING');
  });
  it('parses server-sent events across chunk boundaries', () => {
    const first = parseSse('retry: 2000\n\nid: 5\ndata: {"seq":5}\n\nid: 6\nda');
    expect(first.events).toEqual([{ id: '5', data: '{"seq":5}' }]);
    const second = parseSse(first.rest + 'ta: {"seq":6}\n\n: ping\n\n');
    expect(second.events).toEqual([{ id: '6', data: '{"seq":6}' }]);
    expect(second.rest).toBe('');
  });
});

describe('exact flag values', () => {
  const body = '{"experiments":[{"id":1,"version":3,"flags":{"lr":3.0,"layers":3,"seed":9007199254740993,"tiny":1e-05},'
    + '"status":{"settled":true}}],"uptime_seconds":12.5,"flag":{"default_value":0.1,"observed_values":[1.0,2]}}';

  it('keeps decimals and large integers in flags as their text, and other numbers plain', () => {
    const d = parseJson(body) as { experiments: { id: number; flags: Record<string, unknown> }[]; uptime_seconds: number;
      flag: { default_value: unknown; observed_values: unknown[] } };
    const f = d.experiments[0]!.flags;
    expect(f.lr).toEqual(new FlagNumber('3.0'));
    expect(f.layers).toBe(3);
    expect(String(f.seed)).toBe('9007199254740993');
    expect(String(f.tiny)).toBe('1e-05');
    expect(d.experiments[0]!.id).toBe(1);
    expect(d.uptime_seconds).toBe(12.5);
    expect(d.flag.default_value).toEqual(new FlagNumber('0.1'));
    expect(d.flag.observed_values).toEqual([new FlagNumber('1.0'), 2]);
  });

  it('writes them back byte for byte', () => {
    const d = parseJson(body) as { experiments: { flags: Record<string, unknown> }[] };
    expect(stringifyJson({ set_flags: d.experiments[0]!.flags }))
      .toBe('{"set_flags":{"lr":3.0,"layers":3,"seed":9007199254740993,"tiny":1e-05}}');
    expect(stringifyJson({ a: [1, 'x', null, true], b: undefined, c: 'q"uote' })).toBe('{"a":[1,"x",null,true],"c":"q\\"uote"}');
  });

  it('tells 3 from 3.0 and sends only what changed', () => {
    expect(sameFlagValue(new FlagNumber('3.0'), 3)).toBe(false);
    expect(sameFlagValue(new FlagNumber('3.0'), new FlagNumber('3.0'))).toBe(true);
    const before = { lr: new FlagNumber('3.0'), layers: 3, old: 'x' };
    expect(flagChanges(before, { lr: new FlagNumber('3.0'), layers: 4, added: true }))
      .toEqual({ set_flags: { layers: 4, added: true }, unset_flags: ['old'] });
  });
});
