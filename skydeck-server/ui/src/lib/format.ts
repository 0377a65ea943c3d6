import { FlagNumber } from './json';
/** Formatting rules of the dashboard (SPEC §11), in one place. */

const pad = (n: number) => String(n).padStart(2, '0');

/** The time an ISO string names, or null for none or an unreadable one. */
function parseTime(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}
const monthDay = (d: Date) => `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const hourMinute = (d: Date) => `${pad(d.getHours())}:${pad(d.getMinutes())}`;

/** Local time as `YYYY-MM-DD HH:mm:ss`; '-' for none. */
export function formatTime(iso: string | null | undefined): string {
  const d = parseTime(iso);
  return d ? `${d.getFullYear()}-${monthDay(d)} ${hourMinute(d)}:${pad(d.getSeconds())}` : '-';
}

/**
 * A local time short enough for a table cell: `HH:mm:ss` today, `MM-DD HH:mm` this year,
 * `YYYY-MM-DD` before; `-` for none. The cell's title gives {@link formatTime} in full.
 */
export function formatShortTime(iso: string | null | undefined, now: Date = new Date()): string {
  const d = parseTime(iso);
  if (!d) return '-';
  if (d.getFullYear() !== now.getFullYear()) return `${d.getFullYear()}-${monthDay(d)}`;
  if (monthDay(d) !== monthDay(now)) return `${monthDay(d)} ${hourMinute(d)}`;
  return `${hourMinute(d)}:${pad(d.getSeconds())}`;
}

/** A duration in seconds as `1h 30m 15s` (largest units first, zeros left out; `0s` for nothing). */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '-';
  let s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts: string[] = [];
  if (d) parts.push(`${d}d`);
  if (h) parts.push(`${h}h`);
  if (m) parts.push(`${m}m`);
  if (s || parts.length === 0) parts.push(`${s}s`);
  return parts.join(' ');
}

/** Time since `iso` as `3m ago` (or `in 3m` for the future). */
export function formatRelative(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return '-';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '-';
  const diff = Math.round((now - t) / 1000);
  const abs = Math.abs(diff);
  let text: string;
  if (abs < 5) return 'just now';
  if (abs < 60) text = `${abs}s`;
  else if (abs < 3600) text = `${Math.floor(abs / 60)}m`;
  else if (abs < 86400) text = `${Math.floor(abs / 3600)}h`;
  else text = `${Math.floor(abs / 86400)}d`;
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}

/** Large numbers as `1.5K`, `2M`, `50B`; small ones unchanged. */
export function formatNumber(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-';
  const abs = Math.abs(n);
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'K']];
  for (const [size, unit] of units) {
    if (abs >= size) {
      const v = n / size;
      const text = Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1);
      return `${text.replace(/\.0$/, '')}${unit}`;
    }
  }
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(6)));
}

/**
 * A flag value as a cell shows it: booleans as ✓/✗ (the cell colours them), everything else
 * exactly as stored (`3.0`, `1e-05`, `12345`): compact units are for sizes and counts only.
 */
export function formatFlag(v: unknown): string {
  if (v === true) return '✓';
  if (v === false) return '✗';
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return v instanceof FlagNumber ? v.text : JSON.stringify(v);
}

/** Bytes as `1.5 KB`, `3 MB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1).replace(/\.0$/, '')} ${units[i]}`;
}
