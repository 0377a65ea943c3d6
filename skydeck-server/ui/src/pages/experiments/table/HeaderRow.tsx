import type { PointerEvent as ReactPointerEvent, ReactNode } from 'react';
import type { Facets } from '../../../api/types';
import { headerRows } from '../../../lib/flags';
import { nextSort, type SortKey, type TableState } from '../../../lib/table';
import { FlagFilterButton } from './Filters';
import { W } from './layout';
import type { RowColumns } from './ExperimentRow';

/** A header label that sorts the table by its column (ascending, descending, then the user's order). */
export function SortLabel({ k, label, state, onChange }: {
  k: SortKey; label: ReactNode; state: TableState; onChange: (s: TableState) => void;
}) {
  const on = state.sort?.key === k ? state.sort : null;
  return (
    <span className="sort-label" role="button" tabIndex={0} data-testid="sort" data-sort={k}
      data-dir={on ? (on.desc ? 'desc' : 'asc') : 'none'}
      onClick={() => onChange({ ...state, sort: nextSort(state.sort, k) })}
      onKeyDown={(e) => { if (e.key === 'Enter') onChange({ ...state, sort: nextSort(state.sort, k) }); }}>
      {label}{on ? (on.desc ? ' ▼' : ' ▲') : ''}
    </span>
  );
}

/**
 * The column header (sticky on top): sortable labels, flag filters, multi-level flag headers, the
 * name column's resize edge. `cols` are the columns of the rows under it (`columnsOf` names the
 * group whose own columns they are, `null` for the table's); it has at least `depth` levels.
 */
export function HeaderRow({ cols, depth: minDepth = 1, columnsOf = null, state, onChange, facets, onNameWidth }: {
  cols: RowColumns; depth?: number; columnsOf?: string | null; state: TableState; onChange: (s: TableState) => void;
  facets: Facets | undefined; onNameWidth: (w: number) => void;
}) {
  const pinnedRows = headerRows(cols.pinned);
  const restRows = headerRows(cols.rest);
  const depth = Math.max(pinnedRows.length, restRows.length, minDepth);
  const pad = (rows: typeof pinnedRows, keys: string[]) =>
    (rows.length < depth ? [...Array.from({ length: depth - rows.length }, () => [{ label: '', span: keys.length, key: null }]), ...rows] : rows);
  const pr = cols.pinned.length ? pad(pinnedRows, cols.pinned) : [];
  const rr = cols.rest.length ? pad(restRows, cols.rest) : [];
  const resize = (ev: ReactPointerEvent) => {
    ev.preventDefault();
    ev.stopPropagation();
    const x0 = ev.clientX;
    const w0 = cols.nameWidth;
    const move = (e: PointerEvent) => onNameWidth(w0 + e.clientX - x0);
    const up = () => { window.removeEventListener('pointermove', move); window.removeEventListener('pointerup', up); };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  };
  const flagCell = (c: { label: string; span: number; key: string | null }, i: number, last: boolean, left?: number) => (
    <div key={i} className={`cell head${left !== undefined ? ' sticky pinned' : ''}`}
      style={{ width: c.span * W.flag, left, textAlign: last ? 'left' : 'center' }}
      data-testid={c.key ? 'flag-column' : undefined} data-key={c.key ?? undefined} title={c.key ?? c.label}>
      {last && c.key ? (
        <span className="flag-head">
          <SortLabel k={`flag:${c.key}`} label={c.label} state={state} onChange={onChange} />
          <FlagFilterButton name={c.key} facets={facets} state={state} onChange={onChange} />
        </span>
      ) : c.label}
    </div>
  );
  const fixedBefore = W.state + W.action + W.epoch + W.started + W.res + (cols.links.length ? W.links : 0);
  return (
    <div className="table-head" data-testid="header" data-columns-of={columnsOf ?? 'table'}>
      {Array.from({ length: depth }, (_, level) => {
        const last = level === depth - 1;
        let offset = 0;
        return (
          <div key={level} className="grid-row" style={{ minHeight: 22 }}>
            {last ? (
              <>
                <div className="cell head sticky" style={{ width: W.select, left: cols.lefts.select }} />
                <div className="cell head sticky" style={{ width: W.star, left: cols.lefts.star }}>★</div>
                <div className="cell head sticky name-head" style={{ width: cols.nameWidth, left: cols.lefts.name }}>
                  <SortLabel k="name" label="Name" state={state} onChange={onChange} />
                  <span className="resize" data-testid="name-resize" onPointerDown={resize} title="drag to resize" />
                </div>
              </>
            ) : <div className="cell head sticky" style={{ width: W.select + W.star + cols.nameWidth, left: 0 }} />}
            {pr[level]?.map((c, i) => {
              const left = cols.lefts.flags[offset]!;
              offset += c.span;
              return flagCell(c, i, last, left);
            })}
            {last ? (
              <>
                <div className="cell head" style={{ width: W.state }}><SortLabel k="state" label="State" state={state} onChange={onChange} /></div>
                <div className="cell head" style={{ width: W.action }} />
                <div className="cell head" style={{ width: W.epoch }}><SortLabel k="epoch" label="Epoch" state={state} onChange={onChange} /></div>
                <div className="cell head" style={{ width: W.started }}><SortLabel k="started_at" label="Started" state={state} onChange={onChange} /></div>
                <div className="cell head" style={{ width: W.res }}>Nodes×GPUs</div>
                {cols.links.length > 0 && <div className="cell head" style={{ width: W.links }}>Links</div>}
              </>
            ) : <div style={{ width: fixedBefore, flex: 'none' }} />}
            {rr[level]?.map((c, i) => flagCell(c, i, last))}
          </div>
        );
      })}
    </div>
  );
}
