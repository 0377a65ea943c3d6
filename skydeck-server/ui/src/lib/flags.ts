import type { Experiment, FlagValue } from '../api/types';

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

/** The flags every one of these experiments has with the same value (shown once on the group's header). */
export function commonFlags(experiments: Experiment[]): Record<string, FlagValue> {
  if (experiments.length < 2) return {};
  const [first, ...rest] = experiments;
  const out: Record<string, FlagValue> = {};
  for (const [k, v] of Object.entries(first!.flags)) {
    if (rest.every((e) => k in e.flags && e.flags[k] === v)) out[k] = v;
  }
  return out;
}

/** Parses a flag value typed by a person: true/false, integers, decimals, else a string. */
export function parseFlagValue(text: string): FlagValue {
  const t = text.trim();
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (/^-?\d{1,15}$/.test(t)) return Number(t);
  if (/^-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
  return text;
}
