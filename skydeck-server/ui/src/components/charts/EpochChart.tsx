import { Text } from '@mantine/core';
import { useElementSize } from '@mantine/hooks';
import { useState, type MouseEvent } from 'react';
import { formatDuration, formatTime } from '../../lib/format';
import { integerTicks, linear, nearest, timeLabel, timeTicks } from './scale';

export interface EpochPoint {
  epoch: number;
  /** When the checkpoint was written (ISO). */
  time: string;
}

const M = { top: 10, right: 14, bottom: 34, left: 46 };
const HEIGHT = 170;

/**
 * Epoch over time, from the checkpoints: axes with round ticks in the browser's local time and
 * whole epochs, the unit on each axis, and the nearest checkpoint's values on hover. A stalled run
 * is a flat line. Its own small SVG: one line and two axes do not need a chart library.
 */
export function EpochChart({ points }: { points: EpochPoint[] }) {
  const { ref, width: measured } = useElementSize();
  const [hover, setHover] = useState<number | null>(null);
  const pts = points.map((p) => ({ epoch: p.epoch, t: Date.parse(p.time), time: p.time }))
    .filter((p) => Number.isFinite(p.t)).sort((a, b) => a.t - b.t);
  const width = Math.max(240, measured || 420);
  if (pts.length === 0) {
    return <Text size="xs" c="dimmed" data-testid="epoch-chart-empty">No checkpoints yet: the chart starts with the first one.</Text>;
  }
  let t0 = pts[0]!.t;
  let t1 = pts[pts.length - 1]!.t;
  if (t1 - t0 < 10_000) {
    t0 -= 5_000;
    t1 += 5_000;
  }
  const maxEpoch = Math.max(1, ...pts.map((p) => p.epoch));
  const yt = integerTicks(0, maxEpoch, 4);
  const x = linear([t0, t1], [M.left, width - M.right]);
  const y = linear([yt[0]!, yt[yt.length - 1]!], [HEIGHT - M.bottom, M.top]);
  const xt = timeTicks(t0, t1, Math.max(2, Math.floor(width / 110)));
  const path = pts.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.epoch).toFixed(1)}`).join(' ');
  const h = hover === null ? null : pts[hover]!;
  const first = pts[0]!;
  const last = pts[pts.length - 1]!;
  const minutes = (last.t - first.t) / 60_000;
  const rate = pts.length > 1 && minutes > 0 ? (last.epoch - first.epoch) / minutes : null;
  const onMove = (ev: MouseEvent<SVGSVGElement>) => {
    const box = ev.currentTarget.getBoundingClientRect();
    const px = ((ev.clientX - box.left) / box.width) * width;
    setHover(nearest(pts.map((p) => x(p.t)), px));
  };
  return (
    <div ref={ref} style={{ width: '100%', position: 'relative' }}>
      <svg width={width} height={HEIGHT} viewBox={`0 0 ${width} ${HEIGHT}`} data-testid="epoch-chart" role="img"
        aria-label={`epoch over time: ${pts.length} checkpoints, latest epoch ${last.epoch}`}
        onMouseMove={onMove} onMouseLeave={() => setHover(null)} style={{ display: 'block', fontSize: 10 }}>
        <g stroke="var(--mantine-color-default-border)">
          {yt.map((t) => <line key={`y${t}`} x1={M.left} x2={width - M.right} y1={y(t)} y2={y(t)} />)}
        </g>
        <g fill="var(--mantine-color-dimmed)" data-testid="epoch-y-ticks">
          {yt.map((t) => <text key={t} x={M.left - 6} y={y(t) + 3} textAnchor="end">{t}</text>)}
          <text x={12} y={(HEIGHT - M.bottom + M.top) / 2} textAnchor="middle"
            transform={`rotate(-90 12 ${(HEIGHT - M.bottom + M.top) / 2})`}>epoch</text>
        </g>
        <g fill="var(--mantine-color-dimmed)" data-testid="epoch-x-ticks">
          {xt.map((t) => (
            <g key={t}>
              <line x1={x(t)} x2={x(t)} y1={HEIGHT - M.bottom} y2={HEIGHT - M.bottom + 4} stroke="currentColor" />
              <text x={x(t)} y={HEIGHT - M.bottom + 15} textAnchor="middle">{timeLabel(t, t1 - t0)}</text>
            </g>
          ))}
          <text x={(M.left + width - M.right) / 2} y={HEIGHT - 3} textAnchor="middle">time (local)</text>
        </g>
        <line x1={M.left} x2={width - M.right} y1={HEIGHT - M.bottom} y2={HEIGHT - M.bottom} stroke="var(--mantine-color-dimmed)" />
        <line x1={M.left} x2={M.left} y1={M.top} y2={HEIGHT - M.bottom} stroke="var(--mantine-color-dimmed)" />
        <path d={path} fill="none" stroke="var(--mantine-primary-color-filled)" strokeWidth="2" />
        {pts.map((p, i) => (
          <circle key={i} cx={x(p.t)} cy={y(p.epoch)} r={hover === i ? 4.5 : 2.5} fill="var(--mantine-primary-color-filled)" />
        ))}
        {h && <line x1={x(h.t)} x2={x(h.t)} y1={M.top} y2={HEIGHT - M.bottom} stroke="var(--mantine-color-dimmed)" strokeDasharray="3 3" />}
      </svg>
      <Text size="xs" c="dimmed" data-testid="epoch-hover" mih={18}>
        {h ? `epoch ${h.epoch} at ${formatTime(h.time)} · ${formatDuration((h.t - first.t) / 1000)} after the first checkpoint`
          : `${pts.length} checkpoint${pts.length === 1 ? '' : 's'}, latest epoch ${last.epoch}`
            + (rate !== null ? ` · ${rate >= 10 ? rate.toFixed(0) : rate.toPrecision(2)} epochs/min` : '')
            + ' · hover for values'}
      </Text>
    </div>
  );
}
