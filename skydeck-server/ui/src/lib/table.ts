/**
 * The experiments table's logic, kept apart from React so it is tested on its own: the filter and
 * sort state (and its URL form), the list and facet queries it sends, the layout of groups and
 * their pages, columns, CSV and the middle ellipsis of long names.
 */
import type { Experiment, FlagValue, GroupSummary, JobStatus } from '../api/types';
import { formatFlag } from './format';

/** A column the server sorts by: `name`, `state`, `epoch`, `started_at`, `created_at` or `flag:<name>`. */
export type SortKey = string;

export interface Sort {
  key: SortKey;
  desc: boolean;
}

/** What the table shows: every part of it lives in the URL. */
export interface TableState {
  /** Case-insensitive substring of names, descriptions and flag values. */
  q: string;
  /** Only these current states (none: every state). */
  states: JobStatus[];
  /** Only experiments whose flag has one of these values (as text; `~` for "no such flag"). */
  flags: Record<string, string[]>;
  /** null: the user's order. */
  sort: Sort | null;
  /** One list instead of groups. */
  flat: boolean;
}

export const EMPTY_STATE: TableState = { q: '', states: [], flags: {}, sort: null, flat: false };

/** The value text of a flag as the server's `flag.<name>` filter compares it. */
export function flagValueText(v: FlagValue | null | undefined): string {
  if (v === undefined) return '~';
  if (v === null) return 'null';
  return String(v);
}

export function parseSort(text: string | null): Sort | null {
  if (!text) return null;
  const desc = text.startsWith('-');
  const key = desc ? text.slice(1) : text;
  return key && key !== 'order' ? { key, desc } : null;
}

export function sortText(s: Sort | null): string | null {
  return s ? `${s.desc ? '-' : ''}${s.key}` : null;
}

/** The table's state from the page's URL query. */
export function parseTableState(params: URLSearchParams): TableState {
  const states = params.getAll('state').flatMap((s) => s.split(',')).map((s) => s.trim().toUpperCase())
    .filter(Boolean) as JobStatus[];
  const flags: Record<string, string[]> = {};
  for (const [k, v] of params) {
    if (!k.startsWith('flag.') || k.length <= 5) continue;
    const list = (flags[k.slice(5)] ??= []);
    if (!list.includes(v)) list.push(v);
  }
  return {
    q: params.get('q') ?? '',
    states: [...new Set(states)],
    flags,
    sort: parseSort(params.get('sort')),
    flat: params.get('view') === 'flat',
  };
}

/** The page's URL query for a state (defaults left out: a clean URL is the plain table). */
export function tableStateToParams(s: TableState, keep?: URLSearchParams): URLSearchParams {
  const p = new URLSearchParams();
  // parameters of other features (another page's, a detail's) stay as they were
  if (keep) for (const [k, v] of keep) if (!['q', 'state', 'sort', 'view'].includes(k) && !k.startsWith('flag.')) p.append(k, v);
  if (s.q) p.set('q', s.q);
  if (s.states.length) p.set('state', s.states.join(','));
  for (const [name, values] of Object.entries(s.flags)) for (const v of values) p.append(`flag.${name}`, v);
  const sort = sortText(s.sort);
  if (sort) p.set('sort', sort);
  if (s.flat) p.set('view', 'flat');
  return p;
}

/** The filters of the list and facet queries (contract §1, §2). */
export function filterParams(s: TableState): URLSearchParams {
  const p = new URLSearchParams();
  if (s.q.trim()) p.set('q', s.q.trim());
  if (s.states.length) p.set('state', s.states.join(','));
  for (const [name, values] of Object.entries(s.flags)) for (const v of values) p.append(`flag.${name}`, v);
  return p;
}

/** Whether any filter narrows the list (then empty groups are hidden and every group's count is fetched). */
export function isFiltered(s: TableState): boolean {
  return s.q.trim() !== '' || s.states.length > 0 || Object.values(s.flags).some((v) => v.length > 0);
}

/** Which members a section lists: a group's, the ungrouped ones, or every experiment. */
export type SectionScope = number | 'none' | 'all';

/** The list query for one page of a section. */
export function pageParams(s: TableState, scope: SectionScope, page: number, size: number, mine: string | null = null): URLSearchParams {
  const p = filterParams(s);
  if (scope !== 'all') p.set('group', String(scope));
  if (mine) p.set('created_by', mine);
  p.set('sort', sortText(s.sort) ?? 'order');
  p.set('limit', String(size));
  p.set('offset', String(page * size));
  return p;
}

/** A click on a column's header: ascending, then descending, then back to the user's order. */
export function nextSort(current: Sort | null, key: SortKey): Sort | null {
  if (!current || current.key !== key) return { key, desc: false };
  if (!current.desc) return { key, desc: true };
  return null;
}

/** The state with one flag value added to or taken from its filter. */
export function toggleFlagValue(s: TableState, name: string, value: string): TableState {
  const now = s.flags[name] ?? [];
  const next = now.includes(value) ? now.filter((v) => v !== value) : [...now, value];
  const flags = { ...s.flags };
  if (next.length) flags[name] = next;
  else delete flags[name];
  return { ...s, flags };
}

export function toggleState(s: TableState, state: JobStatus): TableState {
  return { ...s, states: s.states.includes(state) ? s.states.filter((x) => x !== state) : [...s.states, state] };
}

// ---- sections and their pages ----

/** A block of the table: a group (or the ungrouped experiments, or the flat list) and its members. */
export interface Section {
  key: string;
  scope: SectionScope;
  group: GroupSummary | null;
  /** Members matching the filters: exact once the first page arrived, else the group's own count. */
  count: number;
  /** Whether the count is the server's answer for the current filters. */
  counted: boolean;
  collapsed: boolean;
  /** Whether a header row leads the section (not in the flat list). */
  header: boolean;
}

/** Where every section starts in the table's row index space. */
export interface Layout {
  sections: Section[];
  starts: number[];
  total: number;
}

export function layout(sections: Section[]): Layout {
  const starts: number[] = [];
  let n = 0;
  for (const s of sections) {
    starts.push(n);
    n += (s.header ? 1 : 0) + (s.collapsed ? 0 : s.count);
  }
  return { sections, starts, total: n };
}

export type Located = { section: Section; kind: 'header' } | { section: Section; kind: 'member'; index: number };

/** What the row at `i` is: a section's header or its `index`-th member (binary search, no row list). */
export function locate(l: Layout, i: number): Located | null {
  if (i < 0 || i >= l.total) return null;
  let lo = 0;
  let hi = l.starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (l.starts[mid]! <= i) lo = mid;
    else hi = mid - 1;
  }
  const section = l.sections[lo]!;
  const local = i - l.starts[lo]!;
  if (section.header && local === 0) return { section, kind: 'header' };
  return { section, kind: 'member', index: local - (section.header ? 1 : 0) };
}

/** The pages (of `size` members) that rows `from`..`to` need, per section key. */
export function pagesFor(l: Layout, from: number, to: number, size: number): { section: Section; page: number }[] {
  const out = new Map<string, { section: Section; page: number }>();
  for (let i = Math.max(0, from); i <= Math.min(to, l.total - 1); i++) {
    const at = locate(l, i)!;
    const index = at.kind === 'member' ? at.index : 0; // a header asks for the first page: it holds the count
    if (at.kind === 'header' && at.section.collapsed) continue;
    const page = Math.floor(index / size);
    out.set(`${at.section.key}:${page}`, { section: at.section, page });
  }
  return [...out.values()];
}

// ---- columns ----

/** Which flag columns the user hid and pinned (kept in localStorage). */
export interface ColumnPrefs {
  hidden: string[];
  pinned: string[];
}

export const DEFAULT_COLUMNS: ColumnPrefs = { hidden: [], pinned: [] };

/**
 * The flag columns of a section: a group's own chosen flags (seed 002) when it has any, else
 * every known flag the user did not hide; pinned ones first (they stay in view when scrolling).
 */
export function flagColumns(all: string[], prefs: ColumnPrefs, groupFlags: string[] = []): { pinned: string[]; rest: string[] } {
  const base = groupFlags.length ? groupFlags : all.filter((k) => !prefs.hidden.includes(k));
  const pinned = prefs.pinned.filter((k) => base.includes(k));
  return { pinned, rest: base.filter((k) => !pinned.includes(k)) };
}

export function parseColumnPrefs(text: string | null): ColumnPrefs {
  try {
    const p = JSON.parse(text ?? '') as Partial<ColumnPrefs>;
    const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
    return { hidden: strings(p.hidden), pinned: strings(p.pinned) };
  } catch {
    return DEFAULT_COLUMNS;
  }
}

// ---- CSV ----

export interface CsvColumn {
  header: string;
  value: (e: Experiment) => string;
}

/** The CSV columns for what the table shows: the fixed columns and the given flag columns. */
export function csvColumns(flags: string[]): CsvColumn[] {
  return [
    { header: 'name', value: (e) => e.name },
    { header: 'state', value: (e) => e.current_state },
    { header: 'desired', value: (e) => e.desired_state },
    { header: 'epoch', value: (e) => (e.latest_epoch === null ? '' : String(e.latest_epoch)) },
    { header: 'started', value: (e) => e.started_at ?? '' },
    { header: 'nodes', value: (e) => String(e.nodes) },
    { header: 'gpus', value: (e) => String(e.gpus) },
    ...flags.map((k) => ({ header: k, value: (e: Experiment) => (k in e.flags ? String(e.flags[k]) : '') })),
  ];
}

function csvField(text: string): string {
  // a cell a spreadsheet would run as a formula is written as text
  const safe = /^[=+@\t\r]/.test(text) || (/^-/.test(text) && !/^-[\d.]/.test(text)) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** RFC 4180 CSV (CRLF line ends) of these experiments. */
export function toCsv(columns: CsvColumn[], rows: Experiment[]): string {
  const lines = [columns.map((c) => csvField(c.header)).join(',')];
  for (const e of rows) lines.push(columns.map((c) => csvField(c.value(e))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

// ---- names ----

/**
 * `text` shortened in the middle to at most `max` characters (`daveey.sweep.lr…wd_0.1.seed_3`):
 * sweep names share their beginning and differ at the end, so the end keeps a little more.
 */
export function middleEllipsis(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  if (max <= 1) return '…';
  const keep = max - 1;
  const head = Math.floor(keep * 0.45);
  const tail = keep - head;
  return `${chars.slice(0, head).join('')}…${chars.slice(chars.length - tail).join('')}`;
}

/** The longest middle-ellipsis form of `text` whose measured width fits in `width`. */
export function fitMiddle(text: string, width: number, measure: (s: string) => number): string {
  if (measure(text) <= width) return text;
  let lo = 1;
  let hi = [...text].length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (measure(middleEllipsis(text, mid)) <= width) lo = mid;
    else hi = mid - 1;
  }
  return middleEllipsis(text, lo);
}

/** A flag value as a cell shows it. */
export function cellText(v: FlagValue | undefined): string {
  return formatFlag(v);
}
