import type { Experiment, Flags, FlagValue } from '../api/types';
import { FlagNumber } from './json';

/** A node of the multi-level column header built from dotted flag keys. */
export interface HeaderCell {
  label: string;
  span: number;
  key: string | null; // the full flag key on the last level, else null
}

/** Every flag key used by these experiments, sorted so that shared prefixes sit together. */
export function flagKeys(experiments: Experiment[]): string[] {
  const keys = new Set<string>();
  for (const e of experiments) for (const k of Object.keys(e.flags)) keys.add(k);
  return [...keys].sort();
}

/**
 * The header rows for flag columns: one row per key depth, neighbours with the same prefix
 * merged (`trainer.lr`, `trainer.wd` → `trainer` spanning `lr` and `wd`). The last part of every
 * key sits on the last row; a shorter key leaves the rows above its last part empty.
 */
export function headerRows(keys: string[]): HeaderCell[][] {
  const depth = Math.max(1, ...keys.map((k) => k.split('.').length));
  const rows: HeaderCell[][] = [];
  for (let level = 0; level < depth; level++) {
    const row: (HeaderCell & { prefix: string })[] = [];
    for (const key of keys) {
      const parts = key.split('.');
      const last = level === depth - 1;
      if (last) {
        row.push({ label: parts[parts.length - 1] ?? key, span: 1, key, prefix: key });
        continue;
      }
      const inKey = level < parts.length - 1;
      const label = inKey ? parts[level]! : '';
      const prefix = inKey ? parts.slice(0, level + 1).join('.') : `\u0000${key}`;
      const prev = row[row.length - 1];
      if (prev && inKey && prev.prefix === prefix) {
        prev.span++;
      } else {
        row.push({ label, span: 1, key: null, prefix });
      }
    }
    rows.push(row.map(({ label, span, key }) => ({ label, span, key })));
  }
  return rows;
}

/** Whether two flag values are the same value of the same type (`3` is not `3.0`). */
export function sameFlagValue(a: FlagValue | undefined, b: FlagValue | undefined): boolean {
  if (a instanceof FlagNumber || b instanceof FlagNumber) {
    return a instanceof FlagNumber && b instanceof FlagNumber && a.text === b.text;
  }
  return a === b;
}

/** The flags every one of these experiments has with the same value (shown once on the group's header). */
export function commonFlags(experiments: Experiment[]): Record<string, FlagValue> {
  if (experiments.length < 2) return {};
  const [first, ...rest] = experiments;
  const out: Record<string, FlagValue> = {};
  for (const [k, v] of Object.entries(first!.flags)) {
    if (rest.every((e) => k in e.flags && sameFlagValue(e.flags[k], v))) out[k] = v;
  }
  return out;
}

/** A flag value as a person types it back: the exact text, `true`/`false`. */
export function flagText(v: FlagValue): string {
  return String(v);
}

const LONG_MAX = 9223372036854775807n;
const LONG_MIN = -9223372036854775808n;

/**
 * Parses a flag value typed by a person: true/false, whole numbers (64-bit; larger ones are
 * refused, naming the flag), decimals (kept exactly as typed, so `3.0` stays a decimal), else a
 * string.
 *
 * @throws Error naming {@code key} when a whole number does not fit in 64 bits
 */
export function parseFlagValue(text: string, key = 'flag'): FlagValue {
  const t = text.trim();
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (/^-?\d+$/.test(t)) {
    const n = BigInt(t);
    if (n > LONG_MAX || n < LONG_MIN) {
      throw new Error(`flag ${key} = ${t} is out of range: whole numbers must fit in 64 bits; write ${t}.0 for a decimal`);
    }
    return /^-?\d{1,15}$/.test(t) ? Number(t) : new FlagNumber(t.replace(/^(-?)0+(?=\d)/, '$1'));
  }
  if (/^-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/.test(t)) {
    if (!Number.isFinite(Number(t))) throw new Error(`flag ${key} = ${t} is out of range for a decimal`);
    const normal = t.replace(/^(-?)\./, '$10.').replace(/\.$/, '.0').replace(/\.([eE])/, '.0$1');
    return new FlagNumber(/[.eE]/.test(normal) ? normal : `${normal}.0`);
  }
  return text;
}

/**
 * What changed between two flag sets, as a PATCH sends it: only the flags set or changed (by
 * value or type) and the ones removed, so the unchanged ones stay exactly as stored.
 */
export function flagChanges(before: Flags, after: Flags): { set_flags: Flags; unset_flags: string[] } {
  const set: Flags = {};
  for (const [k, v] of Object.entries(after)) if (!(k in before) || !sameFlagValue(before[k], v)) set[k] = v;
  const unset = Object.keys(before).filter((k) => !(k in after));
  return { set_flags: set, unset_flags: unset };
}
