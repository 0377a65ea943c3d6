/** The arithmetic of the dashboard's charts (pure, unit-tested): scales, ticks, timeline lanes. */

/** A linear map from a domain to a pixel range. */
export interface Scale {
  (v: number): number;
  domain: [number, number];
  range: [number, number];
}

export function linear(domain: [number, number], range: [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0 || 1;
  const f = ((v: number) => r0 + ((v - d0) / span) * (r1 - r0)) as Scale;
  f.domain = domain;
  f.range = range;
  return f;
}

/** Round tick values (1, 2, 5 × 10^k) covering [min, max], about `count` of them. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max < min) [min, max] = [max, min];
  if (max === min) return [min];
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/**
 * Whole-number ticks for counts such as epochs (never a fractional epoch), from `min` up to the
 * first round value at or above `max`, so the axis always reaches the largest value.
 */
export function integerTicks(min: number, max: number, count = 5): number[] {
  const lo = Math.floor(min);
  const hi = Math.max(lo + 1, Math.ceil(max));
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.max(0, Math.floor(Math.log10(raw)));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag);
  const out: number[] = [];
  for (let v = Math.floor(lo / step) * step; ; v += step) {
    out.push(v);
    if (v >= hi) break;
  }
  return out;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TIME_STEPS = [SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND, MINUTE, 2 * MINUTE,
  5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY];

/** Ticks on a time axis (epoch ms) at round clock times: every 5 s, 10 min, 1 h, 1 d … */
export function timeTicks(t0: number, t1: number, count = 5): number[] {
  if (!(t1 > t0)) return [t0];
  const raw = (t1 - t0) / Math.max(1, count);
  const step = TIME_STEPS.find((s) => s >= raw) ?? Math.ceil(raw / DAY) * DAY;
  // round in local time, so a tick at 10:00 reads 10:00 in the browser's zone
  const offset = new Date(t0).getTimezoneOffset() * MINUTE;
  const first = Math.ceil((t0 - offset) / step) * step + offset;
  const out: number[] = [];
  for (let t = first; t <= t1; t += step) out.push(t);
  return out;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A time-axis label: `HH:mm:ss` for spans under ten minutes, `HH:mm` under two days, else `MM-DD HH:mm`. */
export function timeLabel(t: number, span: number): string {
  const d = new Date(t);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (span < 10 * MINUTE) return `${hm}:${pad(d.getSeconds())}`;
  if (span < 2 * DAY) return hm;
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}`;
}

/** The index of the point whose x is nearest to `x` (points sorted by x); -1 for none. */
export function nearest(xs: number[], x: number): number {
  if (xs.length === 0) return -1;
  let lo = 0;
  let hi = xs.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < x) lo = mid;
    else hi = mid;
  }
  return Math.abs(xs[lo]! - x) <= Math.abs(xs[hi]! - x) ? lo : hi;
}

/** One attempt on a timeline. */
export interface Span {
  id: string;
  lane: string;
  start: number;
  /** null while it runs: it reaches `now`. */
  end: number | null;
}

export interface TimelineLayout<T extends Span> {
  lanes: string[];
  t0: number;
  t1: number;
  bars: { span: T; lane: number; start: number; end: number; running: boolean }[];
}

/**
 * Lays attempts out as bars: one lane per distinct `lane` (in order of first appearance), the time
 * range covering every bar (a running one reaches `now`), at least `minSpan` ms wide so a single
 * short attempt is not one pixel.
 */
export function layoutTimeline<T extends Span>(spans: T[], now: number, minSpan = 10_000): TimelineLayout<T> {
  const lanes: string[] = [];
  const index = new Map<string, number>();
  const bars = spans.map((span) => {
    let lane = index.get(span.lane);
    if (lane === undefined) {
      lane = lanes.length;
      index.set(span.lane, lane);
      lanes.push(span.lane);
    }
    const end = span.end ?? Math.max(now, span.start);
    return { span, lane, start: span.start, end: Math.max(end, span.start), running: span.end === null };
  });
  if (bars.length === 0) return { lanes, t0: now - minSpan, t1: now, bars };
  let t0 = Math.min(...bars.map((b) => b.start));
  let t1 = Math.max(...bars.map((b) => b.end));
  if (t1 - t0 < minSpan) {
    const grow = (minSpan - (t1 - t0)) / 2;
    t0 -= grow;
    t1 += grow;
  }
  return { lanes, t0, t1, bars };
}
