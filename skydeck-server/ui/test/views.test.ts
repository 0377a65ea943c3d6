import { describe, expect, it } from 'vitest';
import type { Experiment, Job } from '../src/api/types';
import { integerTicks, layoutTimeline, linear, nearest, niceTicks, timeLabel, timeTicks } from '../src/components/charts/scale';
import { commandWords, compareRows, driftChanges, fromExperiment, fromJob, parseCompareParams } from '../src/pages/compare/diff';
import { buildGrid, failedIds, NO_VALUE, progress, runningIds, sortValues, varyingFlags } from '../src/pages/sweep/grid';
import { checkBackendAddress } from '../src/pages/settings/backendAddress';
import { stepperState } from '../src/pages/experiments/ExperimentDetail';
import { FlagNumber } from '../src/lib/json';

const resources = { cloud: null, region: null, instance_type: null, accelerator: null, spot: false };

function exp(id: number, name: string, flags: Record<string, unknown>, more: Partial<Experiment> = {}): Experiment {
  return {
    id, name, flags, base_command: 'train', nodes: 1, gpus: 1, resources, desired_state: 'STOPPED', current_state: 'INIT',
    latest_epoch: null, drifted: false, command: `train ${Object.entries(flags).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`,
    status: null, ...more,
  } as unknown as Experiment;
}

function job(id: string, more: Partial<Job> = {}): Job {
  return {
    id, experiment_name: 'a', status: 'RUNNING', active: true, flags: {}, nodes: 1, gpus: 1, resources, attempt: 1,
    command_line: 'train', exit_code: null, failure_reason: null, recovery_count: 0, created_at: '2026-01-01T10:00:00Z',
    started_at: '2026-01-01T10:00:00Z', ended_at: null, submitted_at: null, updated_at: '2026-01-01T10:00:00Z', ...more,
  } as unknown as Job;
}

describe('compare', () => {
  it('marks the rows whose values differ, a flag missing on one side included', () => {
    const a = fromExperiment(exp(1, 'a', { lr: 0.1, layers: 4 }), undefined);
    const b = fromExperiment(exp(2, 'b', { lr: 0.01, layers: 4, wd: 0.5 }), undefined);
    const rows = compareRows([a, b]);
    const flag = (k: string) => rows.find((r) => r.section === 'Flags' && r.label === k)!;
    expect(flag('lr')).toMatchObject({ values: ['0.1', '0.01'], differs: true });
    expect(flag('layers')).toMatchObject({ values: ['4', '4'], differs: false });
    expect(flag('wd')).toMatchObject({ values: [null, '0.5'], differs: true });
    expect(rows.filter((r) => r.section === 'Flags').map((r) => r.label)).toEqual(['layers', 'lr', 'wd']);
    expect(rows.find((r) => r.section === 'Command')!.differs).toBe(true);
    expect(rows.find((r) => r.label === 'gpus')!.differs).toBe(false);
  });

  it('keeps a decimal as written: 3.0 and 3 differ', () => {
    const rows = compareRows([fromExperiment(exp(1, 'a', { lr: new FlagNumber('3.0') }), undefined),
      fromExperiment(exp(2, 'b', { lr: 3 }), undefined)]);
    expect(rows.find((r) => r.label === 'lr')).toMatchObject({ values: ['3.0', '3'], differs: true });
  });

  it("takes an experiment's outcome from its latest job, and a job's from itself", () => {
    const failed = job('j1', { status: 'FAILED', active: false, exit_code: 3, failure_reason: 'exit code 3' });
    const item = fromExperiment(exp(1, 'a', {}, { current_state: 'FAILED', latest_epoch: 7 }), failed, 2);
    expect(item.outcome).toMatchObject({ exit: '3', 'failure reason': 'exit code 3', 'latest epoch': '7', jobs: '2' });
    expect(fromJob(failed).outcome).toMatchObject({ state: 'FAILED', exit: '3', 'failure reason': 'exit code 3' });
  });

  it('lights up the words of a command that the others lack', () => {
    const words = commandWords('train lr=0.1 layers=4', ['train lr=0.01 layers=4']);
    expect(words.filter((w) => w.differs).map((w) => w.word)).toEqual(['lr=0.1']);
    expect(commandWords("run 'a b' x", ["run 'a b' y"]).map((w) => w.word)).toEqual(['run', "'a b'", 'x']);
  });

  it('lists what changed between the spec and the active job', () => {
    const e = exp(1, 'a', { lr: 0.1, note: 'changed' }, { gpus: 2, command: 'train lr=0.1 note=changed' });
    const running = job('j1', { flags: { lr: 0.1, old: true }, gpus: 1, command_line: 'train lr=0.1 old=true' });
    expect(driftChanges(e, running)).toEqual([
      { what: 'flag note', spec: 'changed', running: null },
      { what: 'flag old', spec: null, running: 'true' },
      { what: 'gpus', spec: '2', running: '1' },
      { what: 'command', spec: 'train lr=0.1 note=changed', running: 'train lr=0.1 old=true' },
    ]);
    expect(driftChanges(exp(2, 'b', {}, { command: 'train' }), job('j2'))).toEqual([]);
  });

  it('reads ids and jobs from the URL, comma separated or repeated', () => {
    expect(parseCompareParams(new URLSearchParams('ids=1,2&ids=3&ids=2&jobs=a,,b'))).toEqual({ experiments: ['1', '2', '3'], jobs: ['a', 'b'] });
  });
});

describe('sweep grid', () => {
  const members = [
    exp(1, 's1', { lr: 0.1, wd: 0, model: 'x' }, { current_state: 'SUCCEEDED', latest_epoch: 10 }),
    exp(2, 's2', { lr: 0.01, wd: 0, model: 'x' }, { current_state: 'FAILED', desired_state: 'RUNNING' }),
    exp(3, 's3', { lr: 0.1, wd: 0.5, model: 'x' }, { current_state: 'RUNNING', desired_state: 'RUNNING' }),
    exp(4, 's4', { lr: 1, model: 'x' }, { current_state: 'PENDING', desired_state: 'RUNNING' }),
  ];
  it('offers the flags that vary, not the shared ones', () => {
    expect(varyingFlags(members)).toEqual(['lr', 'wd']); // wd: s4 has none, so after lr
    expect(varyingFlags([members[0]!, members[2]!])).toEqual(['wd']);
    const withExtra = [...members.slice(0, 3), exp(5, 's5', { lr: 0.1, wd: 0, model: 'x', fail_at_epoch: 2 })];
    expect(varyingFlags(withExtra)).toEqual(['lr', 'wd', 'fail_at_epoch']);
  });
  it('sorts values numerically, text after numbers, the missing value last', () => {
    expect(sortValues(['0.1', '1', 'abc', NO_VALUE, '0.01', '10'])).toEqual(['0.01', '0.1', '1', '10', 'abc', NO_VALUE]);
  });
  it('places each member in the cell of its two values', () => {
    const g = buildGrid(members, 'lr', 'wd');
    expect(g.rows).toEqual(['0.01', '0.1', '1']);
    expect(g.cols).toEqual(['0', '0.5', NO_VALUE]);
    expect(g.cells[1]![0]!.map((e) => e.name)).toEqual(['s1']);
    expect(g.cells[1]![1]!.map((e) => e.name)).toEqual(['s3']);
    expect(g.cells[2]![2]!.map((e) => e.name)).toEqual(['s4']);
    expect(g.cells[0]![1]).toEqual([]);
    const one = buildGrid(members, 'lr', null);
    expect(one.cols).toEqual(['']);
    expect(one.cells[1]![0]!.map((e) => e.name)).toEqual(['s1', 's3']);
  });
  it('counts progress and picks the targets of the two bulk actions', () => {
    const p = progress(members);
    expect(p).toMatchObject({ total: 4, succeeded: 1, failed: 1, active: 2 });
    expect(failedIds(members)).toEqual([2]);
    expect(runningIds(members)).toEqual([3, 4]);
    expect(runningIds([exp(9, 'done', {}, { current_state: 'SUCCEEDED', desired_state: 'RUNNING' })])).toEqual([]);
  });
});

describe('charts', () => {
  it('maps a domain onto pixels', () => {
    const x = linear([0, 10], [100, 200]);
    expect(x(5)).toBe(150);
    expect(linear([3, 3], [0, 10])(3)).toBe(0);
  });
  it('ticks at round numbers, whole epochs only', () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0, 1, 4)).toEqual([0, 0.5, 1]);
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(integerTicks(0, 3, 5)).toEqual([0, 1, 2, 3]);
    expect(integerTicks(0, 1, 5)).toEqual([0, 1]);
    expect(integerTicks(0, 5, 4)).toEqual([0, 2, 4, 6]); // reaches past the latest epoch
    expect(integerTicks(0, 1000, 4)).toEqual([0, 500, 1000]);
    expect(integerTicks(0, 37, 4)).toEqual([0, 10, 20, 30, 40]);
  });
  it('ticks time at round clock times', () => {
    const t0 = Date.UTC(2026, 0, 1, 10, 0, 7);
    const ticks = timeTicks(t0, t0 + 60_000, 5);
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    for (const t of ticks) expect(new Date(t).getSeconds() % 15).toBe(0);
    expect(timeLabel(t0, 60_000)).toMatch(/^\d\d:\d\d:\d\d$/);
    expect(timeLabel(t0, 3_600_000)).toMatch(/^\d\d:\d\d$/);
  });
  it('finds the nearest point for hover values', () => {
    expect(nearest([0, 10, 20], 14)).toBe(1);
    expect(nearest([0, 10, 20], 16)).toBe(2);
    expect(nearest([], 3)).toBe(-1);
  });
  it('lays attempts out in lanes, a running one reaching now', () => {
    const now = 1_000_000;
    const l = layoutTimeline([
      { id: 'a', lane: 'x', start: 900_000, end: 950_000 },
      { id: 'b', lane: 'y', start: 960_000, end: null },
      { id: 'c', lane: 'x', start: 955_000, end: 958_000 },
    ], now);
    expect(l.lanes).toEqual(['x', 'y']);
    expect(l.bars.map((b) => b.lane)).toEqual([0, 1, 0]);
    expect(l.bars[1]).toMatchObject({ end: now, running: true });
    expect([l.t0, l.t1]).toEqual([900_000, now]);
    const short = layoutTimeline([{ id: 'a', lane: 'x', start: 0, end: 1000 }], 5000, 10_000);
    expect(short.t1 - short.t0).toBe(10_000);
  });
});

describe('the launch stepper', () => {
  it('shows a failed job failed at the step it reached, later steps not done', () => {
    expect(stepperState('FAILED', { active: false, status: 'FAILED' }, 'RUNNING')).toEqual({ active: 4, failedAt: 4 });
    expect(stepperState('FAILED', { active: false, status: 'FAILED' }, 'SUBMITTING')).toEqual({ active: 1, failedAt: 1 });
    expect(stepperState('SUCCEEDED', { active: false, status: 'SUCCEEDED' }, 'RUNNING')).toEqual({ active: 5, failedAt: null });
    expect(stepperState('PROVISIONING', { active: true, status: 'STARTING' }, null)).toEqual({ active: 3, failedAt: null });
  });
});

describe('the backend address', () => {
  it('takes an origin or nothing', () => {
    expect(checkBackendAddress('')).toEqual({ ok: true, value: '' });
    expect(checkBackendAddress(' http://127.0.0.1:8000/ ')).toEqual({ ok: true, value: 'http://127.0.0.1:8000' });
  });
  it('refuses what cannot be an address, saying how to write one', () => {
    for (const bad of ['nonsense', 'localhost:8000', 'ftp://x', 'http://', 'http://a/b', 'http://u:p@a']) {
      const r = checkBackendAddress(bad);
      expect(r.ok, bad).toBe(false);
    }
    const refused = checkBackendAddress('localhost:8000');
    expect(refused.ok ? '' : refused.error).toContain('http://host:port');
  });
});
