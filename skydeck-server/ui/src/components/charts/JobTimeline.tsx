import { Text } from '@mantine/core';
import { useElementSize } from '@mantine/hooks';
import { useState } from 'react';
import type { Job } from '../../api/types';
import { useNow } from '../../hooks/useNow';
import { formatDuration, formatTime } from '../../lib/format';
import { statusColor } from '../StatusBadge';
import { layoutTimeline, linear, timeLabel, timeTicks, type Span } from './scale';

const LANE = 18;
const LABEL = 150;
const AXIS = 26;

/** A job as a bar: from its start (or creation, while it waits) to its end (or now). */
export function jobSpan(j: Job, lane: string): Span & { job: Job } {
  const start = Date.parse(j.started_at ?? j.submitted_at ?? j.created_at);
  const end = j.ended_at ? Date.parse(j.ended_at) : j.active ? null : Date.parse(j.updated_at);
  return { id: j.id, lane, start, end, job: j };
}

/**
 * Attempts as bars over time, one lane per `lane` (an experiment's jobs: one lane per attempt; a
 * group's: one lane per experiment), coloured by status, with a time axis, a legend of the statuses
 * shown and the attempt's details on hover. Running bars grow with the clock.
 */
export function JobTimeline({ lanes, testId = 'job-timeline' }: { lanes: { lane: string; jobs: Job[] }[]; testId?: string }) {
  const { ref, width: measured } = useElementSize();
  const spans = lanes.flatMap((l) => l.jobs.map((j) => jobSpan(j, l.lane))).filter((s) => Number.isFinite(s.start));
  const running = spans.some((s) => s.end === null);
  const now = useNow(1000, running);
  const [hover, setHover] = useState<string | null>(null);
  if (spans.length === 0) return <Text size="xs" c="dimmed" data-testid={`${testId}-empty`}>No jobs yet.</Text>;
  const layout = layoutTimeline(spans, now);
  const width = Math.max(320, measured || 600);
  const x = linear([layout.t0, layout.t1], [LABEL, width - 10]);
  const height = layout.lanes.length * LANE + AXIS;
  const ticks = timeTicks(layout.t0, layout.t1, Math.max(2, Math.floor((width - LABEL) / 100)));
  const statuses = [...new Set(spans.map((s) => s.job.status))];
  const shown = layout.bars.find((b) => b.span.id === hover);
  return (
    <div ref={ref} style={{ width: '100%' }}>
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} data-testid={testId} role="img"
        aria-label={`timeline of ${spans.length} jobs`} style={{ display: 'block', fontSize: 10 }}
        onMouseLeave={() => setHover(null)}>
        {ticks.map((t) => (
          <g key={t}>
            <line x1={x(t)} x2={x(t)} y1={0} y2={height - AXIS + 4} stroke="var(--mantine-color-default-border)" />
            <text x={x(t)} y={height - AXIS + 15} textAnchor="middle" fill="var(--mantine-color-dimmed)">
              {timeLabel(t, layout.t1 - layout.t0)}</text>
          </g>
        ))}
        {layout.lanes.map((l, i) => (
          <text key={l} x={LABEL - 6} y={i * LANE + LANE / 2 + 3} textAnchor="end" fill="var(--mantine-color-text)">
            <title>{l}</title>{l.length > 24 ? `${l.slice(0, 10)}…${l.slice(-12)}` : l}</text>
        ))}
        {layout.bars.map((b) => (
          <rect key={b.span.id} data-testid="timeline-bar" data-status={b.span.job.status} data-job={b.span.id}
            x={x(b.start)} width={Math.max(3, x(b.end) - x(b.start))} y={b.lane * LANE + 3} height={LANE - 6} rx={2}
            fill={`var(--mantine-color-${statusColor(b.span.job.status)}-filled)`}
            stroke={hover === b.span.id ? 'var(--mantine-color-text)' : 'none'}
            onMouseEnter={() => setHover(b.span.id)}>
            <title>{`${b.span.id} · ${b.span.job.status}`}</title>
          </rect>
        ))}
      </svg>
      <Text size="xs" c="dimmed" data-testid={`${testId}-hover`} mih={18}>
        {shown ? `${shown.span.id} · attempt ${shown.span.job.attempt} · ${shown.span.job.status} · `
          + `${formatTime(new Date(shown.start).toISOString())} → ${shown.running ? 'now' : formatTime(new Date(shown.end).toISOString())}`
          + ` (${formatDuration((shown.end - shown.start) / 1000)})`
          + (shown.span.job.exit_code !== null ? ` · exit ${shown.span.job.exit_code}` : '')
          + (shown.span.job.failure_reason ? ` · ${shown.span.job.failure_reason}` : '')
          : ['time (local)', ...statuses].map((s, i) => i === 0 ? <span key="t" style={{ marginRight: 10 }}>{s}:</span> : (
            <span key={s} style={{ marginRight: 10 }}>
              <span style={{ color: `var(--mantine-color-${statusColor(s)}-filled)` }}>■</span> {s.toLowerCase()}
            </span>
          ))}
      </Text>
    </div>
  );
}
