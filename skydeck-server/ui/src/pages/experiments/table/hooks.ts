import { useLocalStorage } from '@mantine/hooks';
import { useCallback, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { parseColumnPrefs, parseTableState, tableStateToParams, type ColumnPrefs, type TableState } from '../../../lib/table';

/** The table's filters and sort, read from and written to the URL (so a view can be shared and reloaded). */
export function useTableState(): [TableState, (next: TableState) => void] {
  const [params, setParams] = useSearchParams();
  const text = params.toString();
  const state = useMemo(() => parseTableState(new URLSearchParams(text)), [text]);
  const set = useCallback((next: TableState) => {
    setParams((prev) => tableStateToParams(next, prev), { replace: true });
  }, [setParams]);
  return [state, set];
}

/** Hidden and pinned flag columns, remembered in this browser. */
export function useColumnPrefs(): [ColumnPrefs, (p: ColumnPrefs) => void] {
  const [text, setText] = useLocalStorage<string>({ key: 'skydeck.columns', defaultValue: '{}', getInitialValueInEffect: false,
    serialize: (v) => v, deserialize: (v) => v ?? '{}' });
  const prefs = useMemo(() => parseColumnPrefs(text), [text]);
  return [prefs, useCallback((p: ColumnPrefs) => setText(JSON.stringify(p)), [setText])];
}

/** The name column's width in px, dragged by its header's edge and remembered. */
export function useNameWidth(): [number, (w: number) => void] {
  const [w, setW] = useLocalStorage<number>({ key: 'skydeck.nameWidth', defaultValue: 300, getInitialValueInEffect: false });
  return [w, useCallback((n: number) => setW(Math.round(Math.max(120, Math.min(900, n)))), [setW])];
}

/**
 * Selected experiments: click toggles one, shift-click the run from the last clicked one, in the
 * order the table shows them (`order()` gives the loaded rows' ids top to bottom).
 */
export function useSelection(order: () => number[]) {
  const [selected, setSelected] = useState<ReadonlySet<number>>(new Set());
  const [anchor, setAnchor] = useState<number | null>(null);
  const toggle = useCallback((id: number, range: boolean) => {
    const ids = range && anchor !== null ? order() : [];
    const a = ids.indexOf(anchor ?? -1);
    const b = ids.indexOf(id);
    setSelected((prev) => {
      const next = new Set(prev);
      if (a >= 0 && b >= 0) {
        for (let i = Math.min(a, b); i <= Math.max(a, b); i++) next.add(ids[i]!);
      } else if (next.has(id)) {
        next.delete(id);
      } else {
        next.add(id);
      }
      return next;
    });
    setAnchor(id);
  }, [anchor, order]);
  const clear = useCallback(() => setSelected(new Set()), []);
  return { selected, toggle, clear };
}
