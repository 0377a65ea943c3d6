import { Badge } from '@mantine/core';
import { memo, type MouseEvent } from 'react';
import type { Experiment, Link } from '../../../api/types';
import { statusColor } from '../../../components/StatusBadge';
import { formatFlag, formatRelative, formatShortTime, formatTime } from '../../../lib/format';
import { DRAG_TYPE, ROW_HEIGHT, W } from './layout';
import { NameCell } from './NameCell';

/** What a row can do; a ref's current value, so rows need not re-render when handlers change. */
export interface RowActions {
  toggleExpand: (e: Experiment) => void;
  select: (e: Experiment, ev: { shiftKey: boolean }) => void;
  toggleState: (e: Experiment) => void;
  star: (e: Experiment) => void;
  dragIds: (e: Experiment) => number[];
}

export interface RowColumns {
  nameWidth: number;
  lefts: { select: number; star: number; name: number; flags: number[] };
  pinned: string[];
  rest: string[];
  links: Link[];
}

/** The time the experiment's latest job started, where the list carries it. */
export const startedAt = (e: Experiment) => e.started_at ?? null;

/** One experiment's cells; memoised, so scrolling renders only the rows that come into view. */
export const ExperimentRow = memo(function ExperimentRow({ e, groupId, selected, highlighted, cols, actions }: {
  e: Experiment; groupId: number | null; selected: boolean; highlighted: boolean; cols: RowColumns;
  actions: { current: RowActions };
}) {
  const stop = (ev: MouseEvent) => ev.stopPropagation();
  const started = startedAt(e);
  return (
    <div style={{ height: ROW_HEIGHT }} className={`grid-row${selected ? ' selected' : ''}${highlighted ? ' highlighted' : ''}`}
      data-testid="exp-row" data-name={e.name} data-id={e.id} data-group-id={groupId ?? 'none'} draggable
      onDragStart={(ev) => {
        ev.dataTransfer.setData(DRAG_TYPE, JSON.stringify({ ids: actions.current.dragIds(e), from: groupId }));
        ev.dataTransfer.effectAllowed = 'copyMove';
      }}
      onClick={() => actions.current.toggleExpand(e)}>
      <div className="cell sticky" style={{ width: W.select, left: cols.lefts.select }}
        onClick={(ev) => { stop(ev); actions.current.select(e, ev); }}>
        <input type="checkbox" checked={selected} readOnly data-testid="select" aria-label={`select ${e.name}`} />
      </div>
      <div className="cell sticky" style={{ width: W.star, left: cols.lefts.star }} data-testid="star" data-starred={e.starred}
        onClick={(ev) => { stop(ev); actions.current.star(e); }}>
        <span style={{ cursor: 'pointer', color: e.starred ? 'var(--mantine-color-yellow-filled)' : 'var(--mantine-color-dimmed)' }}>
          {e.starred ? '★' : '☆'}</span>
      </div>
      <NameCell name={e.name} description={e.description} width={cols.nameWidth} left={cols.lefts.name} />
      {cols.pinned.map((k, i) => (
        <div key={k} className="cell sticky pinned" style={{ width: W.flag, left: cols.lefts.flags[i] }} data-flag={k}
          title={`${k}=${String(e.flags[k] ?? '')}`}>
          <FlagCell value={e.flags[k]} />
        </div>
      ))}
      <div className="cell" style={{ width: W.state }} title={e.status?.state_reason ?? undefined}>
        {/* plain elements in rows: thousands of them scroll by, Mantine components cost too much per row */}
        <span data-testid="state" data-current={e.current_state} data-desired={e.desired_state}>
          <span className={`pill c-${statusColor(e.current_state)}`}>{e.current_state}</span>
          <span className="arrow">→</span>
          <span className={`pill outline c-${e.desired_state === 'RUNNING' ? 'blue' : 'gray'}`}>{e.desired_state}</span>
        </span>
        {/* why it failed, on the row itself (the full text on hover) */}
        {e.current_state === 'FAILED' && e.status?.state_reason
          && <div className="row-reason" data-testid="row-failure-reason">{e.status.state_reason.replace(/^job \S+ failed: /, '')}</div>}
      </div>
      <div className="cell" style={{ width: W.action }} onClick={stop}>
        <button type="button" className={`mini-btn ${e.desired_state === 'RUNNING' ? 'stop' : 'start'}`} data-testid="toggle"
          onClick={() => actions.current.toggleState(e)}>{e.desired_state === 'RUNNING' ? 'Stop' : 'Start'}</button>
      </div>
      <div className="cell" style={{ width: W.epoch }} data-testid="epoch">{e.latest_epoch ?? '-'}</div>
      <div className="cell" style={{ width: W.started }} data-testid="started"
        title={started ? `${formatTime(started)} (${formatRelative(started)})` : undefined}>
        {formatShortTime(started)}
      </div>
      <div className="cell" style={{ width: W.res }}>{e.nodes}×{e.gpus}</div>
      {cols.links.length > 0 && (
        <div className="cell" style={{ width: W.links }} onClick={stop}>
          {cols.links.map((l) => (
            <Badge key={l.label} size="xs" variant="outline" component="a" target="_blank" rel="noreferrer"
              href={l.url_template.replace('{name}', encodeURIComponent(e.name))} style={{ cursor: 'pointer' }}>{l.label}</Badge>
          ))}
        </div>
      )}
      {cols.rest.map((k) => (
        <div key={k} className="cell" style={{ width: W.flag }} data-flag={k} title={`${k}=${String(e.flags[k] ?? '')}`}>
          <FlagCell value={e.flags[k]} />
        </div>
      ))}
    </div>
  );
});

function FlagCell({ value }: { value: Experiment['flags'][string] | undefined }) {
  const cls = value === true ? 'flag-true' : value === false ? 'flag-false' : undefined;
  return <span className={cls}>{formatFlag(value)}</span>;
}

/** A row whose page has not arrived yet. */
export function PendingRow() {
  return (
    <div style={{ height: ROW_HEIGHT }} className="grid-row pending" data-testid="pending-row">
      <div className="cell" style={{ width: W.select + W.star }} />
      <div className="cell"><span className="pending-bar" /></div>
    </div>
  );
}
