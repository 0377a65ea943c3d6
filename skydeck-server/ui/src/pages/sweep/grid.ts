/** The sweep view's arithmetic (pure, unit-tested): which flags vary, the grid, the counts. */
import type { Experiment } from '../../api/types';
import { valueText } from '../compare/diff';

/** The text a cell shows for an experiment without the flag. */
export const NO_VALUE = '∅';

function textOf(e: Experiment, flag: string): string {
  return valueText((e.flags ?? {})[flag]) ?? NO_VALUE;
}

/**
 * Flag names whose values differ among the members (one member lacking a flag counts): those every
 * member has first, then by fewest distinct values, then by name.
 */
export function varyingFlags(members: Experiment[]): string[] {
  const values = new Map<string, Set<string>>();
  const keys = new Set<string>();
  for (const e of members) for (const k of Object.keys(e.flags ?? {})) keys.add(k);
  for (const k of keys) {
    const s = new Set<string>();
    for (const e of members) s.add(textOf(e, k));
    values.set(k, s);
  }
  // the axes a person swept first: flags every member has, then the fewest distinct values
  const partial = (k: string) => (values.get(k)!.has(NO_VALUE) ? 1 : 0);
  return [...keys].filter((k) => values.get(k)!.size > 1).sort((a, b) =>
    partial(a) - partial(b) || values.get(a)!.size - values.get(b)!.size || a.localeCompare(b));
}

/** Values in reading order: numbers numerically, then text, the missing value last. */
export function sortValues(values: string[]): string[] {
  const num = (v: string) => (v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : null);
  return [...new Set(values)].sort((a, b) => {
    if (a === NO_VALUE || b === NO_VALUE) return a === b ? 0 : a === NO_VALUE ? 1 : -1;
    const x = num(a);
    const y = num(b);
    if (x !== null && y !== null) return x - y || a.localeCompare(b);
    if (x !== null) return -1;
    if (y !== null) return 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

export interface SweepGrid {
  rowFlag: string | null;
  colFlag: string | null;
  rows: string[];
  cols: string[];
  /** cells[r][c]: the members with that pair of values (several when other flags vary too). */
  cells: Experiment[][][];
}

/** The members laid out by two flags (either may be null: one row or one column). */
export function buildGrid(members: Experiment[], rowFlag: string | null, colFlag: string | null): SweepGrid {
  const value = (e: Experiment, f: string | null) => (f === null ? '' : textOf(e, f));
  const rows = sortValues(members.map((e) => value(e, rowFlag)));
  const cols = sortValues(members.map((e) => value(e, colFlag)));
  const cells = rows.map(() => cols.map(() => [] as Experiment[]));
  for (const e of members) cells[rows.indexOf(value(e, rowFlag))]![cols.indexOf(value(e, colFlag))]!.push(e);
  return { rowFlag, colFlag, rows, cols, cells };
}

export interface SweepProgress {
  total: number;
  byState: [string, number][];
  succeeded: number;
  failed: number;
  active: number;
}

const ACTIVE = new Set(['INIT', 'PENDING', 'STARTING', 'RUNNING', 'RECOVERING', 'CANCELLING']);

/** How far the sweep is: counts per current state (most first), finished, failed and still active. */
export function progress(members: Experiment[]): SweepProgress {
  const counts = new Map<string, number>();
  for (const e of members) counts.set(e.current_state ?? 'INIT', (counts.get(e.current_state ?? 'INIT') ?? 0) + 1);
  const active = members.filter((e) => e.desired_state === 'RUNNING' && ACTIVE.has(e.current_state ?? 'INIT')).length;
  return {
    total: members.length,
    byState: [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
    succeeded: counts.get('SUCCEEDED') ?? 0,
    failed: counts.get('FAILED') ?? 0,
    active,
  };
}

/** "Restart all failed": the members whose latest job failed. */
export function failedIds(members: Experiment[]): number[] {
  return members.filter((e) => e.current_state === 'FAILED').map((e) => e.id);
}

/**
 * "Stop the rest": the members still running or waiting to (a finished one has nothing to stop; a
 * failed one is left to "restart all failed").
 */
export function runningIds(members: Experiment[]): number[] {
  return members.filter((e) => e.desired_state === 'RUNNING' && ACTIVE.has(e.current_state ?? 'INIT')).map((e) => e.id);
}
