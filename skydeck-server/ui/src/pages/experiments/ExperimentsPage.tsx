import { useElementSize, useHotkeys, useLocalStorage, useMergedRef } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useMemo, useRef, useState, type DragEvent } from 'react';
import { api } from '../../api/client';
import type { BulkItem, Experiment, ExperimentPage, GroupSummary } from '../../api/types';
import { JsonDrawer } from '../../components/JsonDrawer';
import { QueryState } from '../../components/QueryState';
import { keys } from '../../data/live';
import { headerRows } from '../../lib/flags';
import { useLinks, useMe } from '../../data/queries';
import { PAGE_SIZE, pageQuery, useFacets, useGroupSummaries, usePages } from '../../data/tableQueries';
import {
  EMPTY_STATE, csvColumns, flagColumns, isFiltered, layout, locate, pageParams, pagesFor, toCsv, type Section,
} from '../../lib/table';
import { CreateExperimentModal, type CreateRequest } from './CreateExperimentModal';
import { ExperimentDetail } from './ExperimentDetail';
import { ColumnChooser } from './table/ColumnChooser';
import { ExperimentRow, PendingRow, type RowActions, type RowColumns } from './table/ExperimentRow';
import { FilterChips } from './table/Filters';
import { GroupHeader, type GroupActions } from './table/GroupHeader';
import { HeaderRow } from './table/HeaderRow';
import { useColumnPrefs, useNameWidth, useSelection, useTableState } from './table/hooks';
import { DRAG_TYPE, GROUP_HEIGHT, GROUP_HEIGHT_COLUMNS, ROW_HEIGHT, W, fixedWidth, stickyLefts } from './table/layout';
import { BulkResultModal, confirmGroupChange, openGroupNameModal } from './table/modals';
import { useExperimentMutations, useGroupMutations } from './table/mutations';
import { BulkBar, Toolbar } from './table/Toolbar';

/** An expanded row's details, read in full from `GET /api/experiments/{id}` (list items are compact). */
function DetailRow({ e, width, onRaw, onRestart, onDuplicate, onDelete }: {
  e: Experiment; width: number; onRaw: (e: Experiment) => void; onRestart: (e: Experiment) => void;
  onDuplicate: (e: Experiment) => void; onDelete: (e: Experiment) => void;
}) {
  const full = useQuery({ queryKey: keys.experiment(e.id), queryFn: () => api.experiment(e.id) }).data?.experiment;
  const x = full ?? e;
  return (
    // sticky at the left edge and as wide as the visible table: the details stay in view however wide the columns are
    <div className="detail-wrap" style={{ width }} data-testid="detail-wrap">
      <ExperimentDetail e={x} onRaw={() => onRaw(x)} onRestart={() => onRestart(x)} onDuplicate={() => onDuplicate(x)}
        onDelete={() => onDelete(x)} />
    </div>
  );
}

export function ExperimentsPage() {
  const client = useQueryClient();
  const [state, setState] = useTableState();
  const [prefs, setPrefs] = useColumnPrefs();
  const [nameWidth, setNameWidth] = useNameWidth();
  const me = useMe().data;
  const [mineOnly, setMineOnly] = useLocalStorage({ key: 'skydeck.mine', defaultValue: false, getInitialValueInEffect: false,
    serialize: (v) => (v ? '1' : '0'), deserialize: (v) => v === '1' });
  const mine = mineOnly && me?.user ? me.user : null;
  const filtered = isFiltered(state) || mine !== null;
  const summaries = useGroupSummaries();
  const facets = useFacets(state, mine);
  const links = useLinks().data?.links ?? [];
  const experiments = useExperimentMutations();
  const groupOps = useGroupMutations();
  const [create, setCreate] = useState<CreateRequest | null>(null);
  const [bulkResult, setBulkResult] = useState<{ action: string; items: BulkItem[] } | null>(null);
  const [raw, setRaw] = useState<Experiment | null>(null);
  const [dropping, setDropping] = useState<string | null>(null);
  const [highlight, setHighlight] = useState<number | null>(null);
  const [exporting, setExporting] = useState(false);
  const [searchKey, setSearchKey] = useState(0);
  const searchRef = useRef<HTMLInputElement>(null);
  const scrollRef = useRef<HTMLDivElement>(null);
  const { ref: sizeRef, width: viewWidth } = useElementSize();
  const tableRef = useMergedRef(scrollRef, sizeRef);

  // ---- sections: the groups (members by pages) and the ungrouped ones, or one flat list ----
  const firstPage = useCallback((s: Pick<Section, 'scope'>) =>
    client.getQueryData<ExperimentPage>(pageQuery(state, s, 0, mine).queryKey), [client, state, mine]);
  const data = summaries.data;
  const sections: Section[] = [];
  if (data) {
    const add = (key: string, scope: Section['scope'], group: GroupSummary | null, estimate: number, header: boolean) => {
      const first = firstPage({ scope });
      const count = first ? first.total : filtered ? Math.min(estimate, PAGE_SIZE) : estimate;
      if (filtered && header && first && first.total === 0) return; // nothing of it matches
      sections.push({ key, scope, group, count, counted: !!first, collapsed: group?.collapsed ?? false, header });
    };
    if (state.flat) {
      add('all', 'all', null, data.groups.reduce((n, g) => n + g.count, data.ungrouped.count), false);
    } else {
      for (const g of data.groups) add(`g${g.id}`, g.id, g, g.count, true);
      add('u', 'none', null, data.ungrouped.count, true);
    }
  }
  // the layout changes only when a section's count, collapse or columns do (the virtualizer re-measures on every change)
  const signature = JSON.stringify(sections);
  const lay = useMemo(() => layout(JSON.parse(signature) as Section[]), [signature]);

  // ---- columns ----
  const facetFlags = useMemo(() => facets.data?.flags.map((f) => f.name) ?? [], [facets.data]);
  const lefts = (pinned: number) => stickyLefts(nameWidth, pinned);
  const columnsFor = (group: GroupSummary | null): RowColumns => {
    const c = flagColumns(facetFlags.length ? facetFlags : loadedFlags(), prefs, group?.flags ?? []);
    return { nameWidth, lefts: lefts(c.pinned.length), pinned: c.pinned, rest: c.rest, links };
  };
  // without facets (an older server) the columns come from the rows loaded so far
  const loadedFlags = () => {
    const out = new Set<string>();
    for (const [, page] of client.getQueriesData<ExperimentPage>({ queryKey: ['experiments', 'page'] })) {
      for (const e of page?.experiments ?? []) for (const k of Object.keys(e.flags)) out.add(k);
    }
    return [...out].sort();
  };
  const tableCols = columnsFor(null);
  const ownColumns = (g: GroupSummary | null) => !!g && g.flags.length > 0;
  const widest = Math.max(tableCols.pinned.length + tableCols.rest.length,
    ...sections.map((s) => (ownColumns(s.group) ? s.group!.flags.length : 0)));
  const width = stickyLefts(nameWidth, 0).end + fixedWidth(links.length > 0) + widest * W.flag;

  // ---- rows: virtualised over the layout; only the pages in view are fetched ----
  const memberAt = (i: number): { e: Experiment | undefined; section: Section; index: number } | null => {
    const at = locate(lay, i);
    if (!at || at.kind !== 'member') return null;
    const page = client.getQueryData<ExperimentPage>(pageQuery(state, at.section, Math.floor(at.index / PAGE_SIZE), mine).queryKey);
    return { e: page?.experiments[at.index % PAGE_SIZE], section: at.section, index: at.index };
  };
  // cheap and stable per layout: the virtualizer calls these for every row (100,000 of them) when they change;
  // rows are measured once shown, so an expanded one gets its real height
  const estimateSize = useCallback((i: number) => {
    const at = locate(lay, i);
    if (at?.kind === 'header') return (at.section.group?.flags.length ?? 0) > 0 && !at.section.collapsed ? GROUP_HEIGHT_COLUMNS : GROUP_HEIGHT;
    return ROW_HEIGHT;
  }, [lay]);
  const getItemKey = useCallback((i: number) => {
    const at = locate(lay, i);
    if (!at) return i;
    return at.kind === 'header' ? `h:${at.section.key}` : `${at.section.key}:${at.index}`;
  }, [lay]);
  // TanStack Virtual returns fresh functions by design, so the React compiler leaves this component unmemoized
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: lay.total,
    getScrollElement: () => scrollRef.current,
    estimateSize,
    overscan: 10,
    getItemKey,
  });
  const items = virtualizer.getVirtualItems();
  const wanted = pagesFor(lay, items[0]?.index ?? 0, items[items.length - 1]?.index ?? 30, PAGE_SIZE);
  if (filtered) {
    // every section's count under the filters decides the layout: its first page carries it
    for (const s of lay.sections) if (!s.collapsed && !wanted.some((w) => w.section.key === s.key && w.page === 0)) wanted.push({ section: s, page: 0 });
  }
  const pages = usePages(state, wanted, mine);
  // the sticky header names the columns of the rows under it: a group's own columns while its members are at the top
  const offset = virtualizer.scrollOffset ?? 0;
  const topRow = items.find((vi) => vi.end > offset);
  const topAt = topRow ? locate(lay, topRow.index) : null;
  const headGroup = topAt?.kind === 'member' && ownColumns(topAt.section.group) ? topAt.section.group : null;
  const headCols = headGroup ? columnsFor(headGroup) : tableCols;
  const depthOf = (c: RowColumns) => Math.max(headerRows(c.pinned).length, headerRows(c.rest).length);
  // as deep as the deepest header it may show, so switching never moves the rows
  const headDepth = Math.max(depthOf(tableCols), ...lay.sections.filter((x) => ownColumns(x.group)).map((x) => depthOf(columnsFor(x.group))));

  /** The loaded rows' ids, top to bottom (for shift-click ranges and keyboard moves). */
  const order = useCallback(() => {
    const ids: number[] = [];
    for (const s of lay.sections) {
      if (s.collapsed) continue;
      for (let p = 0; p * PAGE_SIZE < s.count; p++) {
        const page = client.getQueryData<ExperimentPage>(pageQuery(state, s, p, mine).queryKey);
        for (const e of page?.experiments ?? []) ids.push(e.id);
      }
    }
    return ids;
  }, [lay.sections, client, state, mine]);
  const selection = useSelection(order);

  // ---- actions ----
  const toggleExpand = (e: Experiment) => experiments.expand.mutate({ e, v: !e.expanded });
  const actions = useRef<RowActions>(null as unknown as RowActions);
  actions.current = {
    toggleExpand,
    select: (e, ev) => selection.toggle(e.id, ev.shiftKey),
    toggleState: (e) => experiments.setDesired.mutate({ e, v: e.desired_state === 'RUNNING' ? 'STOPPED' : 'RUNNING' }),
    star: (e) => experiments.star.mutate({ e, v: !e.starred }),
    dragIds: (e) => (selection.selected.has(e.id) ? [...selection.selected] : [e.id]),
  };

  const groupActions: GroupActions = {
    collapse: (g) => groupOps.collapse.mutate({ gid: g.id, collapsed: !g.collapsed }),
    rename: (g) => openGroupNameModal({ title: `Rename ${g.name}`, initial: g.name, submitLabel: 'Rename',
      save: (name) => groupOps.rename.mutateAsync({ gid: g.id, name }) }),
    remove: (g) => confirmGroupChange({ title: `Delete group ${g.name}?`, confirm: 'Delete group', danger: true,
      message: `The group goes; its ${g.count} experiment(s) stay (in other groups or ungrouped).`,
      onConfirm: () => groupOps.remove.mutate(g.id) }),
    moveUp: (g) => {
      const ids = (data?.groups ?? []).map((x) => x.id);
      const i = ids.indexOf(g.id);
      if (i > 0) {
        [ids[i - 1], ids[i]] = [ids[i]!, ids[i - 1]!];
        groupOps.reorder.mutate(ids);
      }
    },
    newHere: (g) => setCreate({ source: null, groupId: g.id }),
    setCommonFlag: (g, key, value) => confirmGroupChange({
      title: `Set ${key} on every member of ${g.name}?`, confirm: `Set on ${g.count}`,
      message: `${key} becomes ${String(value)} on all ${g.count} experiment(s) of ${g.name}; their other flags stay as they are.`
        + ' Running ones keep their job until restarted.',
      onConfirm: () => groupOps.setCommonFlag.mutate({ gid: g.id, key, value }, {
        onSuccess: (items) => {
          const failed = items.filter((i) => !i.ok).length;
          notifications.show({ color: failed ? 'red' : 'green', message: `${key}=${String(value)} on ${items.length - failed} of ${items.length}` });
          if (failed) setBulkResult({ action: `${key} on ${g.name}`, items });
        },
      }),
    }),
    drop: (ev: DragEvent, target) => {
      ev.preventDefault();
      setDropping(null);
      const text = ev.dataTransfer.getData(DRAG_TYPE);
      if (!text) return;
      const { ids, from } = JSON.parse(text) as { ids: number[]; from: number | null };
      experiments.move.mutate({ ids, from, to: target?.id ?? null, keep: ev.altKey }); // Alt keeps it where it was too
    },
  };

  const bulk = (action: string) => {
    const ids = [...selection.selected];
    experiments.bulk.mutate({ action, ids }, {
      onSuccess: (r) => {
        setBulkResult({ action: `Bulk ${action}`, items: r.results });
        if (action === 'delete') selection.clear();
      },
    });
  };

  const exportCsv = async () => {
    setExporting(true);
    try {
      const rows: Experiment[] = [];
      for (let page = 0; ; page++) {
        const p = pageParams(state, 'all', page, 10_000, mine);
        const r = await api.experimentPage(p);
        rows.push(...r.experiments);
        if (r.experiments.length === 0 || rows.length >= r.total) break;
      }
      const csv = toCsv(csvColumns([...tableCols.pinned, ...tableCols.rest]), rows);
      const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = 'experiments.csv';
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      notifications.show({ color: 'green', message: `Exported ${rows.length} experiment(s)` });
    } catch (err) {
      notifications.show({ color: 'red', title: 'Export failed', message: (err as Error).message });
    } finally {
      setExporting(false);
    }
  };

  // ---- keys: / search, j/k move, x select, Enter expand (one subscription, handlers read through a ref) ----
  const keysRef = useRef<(key: string, shift: boolean) => void>(() => undefined);
  keysRef.current = (key, shift) => {
    if (key === '/') { searchRef.current?.focus(); return; }
    const ids = lay.total;
    const member = (i: number) => locate(lay, i)?.kind === 'member';
    if (key === 'j' || key === 'k') {
      let i = highlight ?? -1;
      do i += key === 'j' ? 1 : -1; while (i >= 0 && i < ids && !member(i));
      if (i >= 0 && i < ids) {
        setHighlight(i);
        virtualizer.scrollToIndex(i, { align: 'auto' });
      }
      return;
    }
    const m = highlight === null ? null : memberAt(highlight);
    if (!m?.e) return;
    if (key === 'x') selection.toggle(m.e.id, shift);
    if (key === 'Enter') toggleExpand(m.e);
  };
  const hotkeys = useMemo(() => (['/', 'j', 'k', 'x', 'shift+x', 'Enter'] as const).map((k) =>
    [k, (ev: KeyboardEvent) => { ev.preventDefault(); keysRef.current(k === 'shift+x' ? 'x' : k, ev.shiftKey); }] as [string, (ev: KeyboardEvent) => void]), []);
  useHotkeys(hotkeys);

  const clearFilters = () => { setState({ ...EMPTY_STATE, flat: state.flat, sort: state.sort }); setSearchKey((n) => n + 1); };
  const pagesError = pages.error;
  const empty = !!data && !filtered && data.groups.length === 0 && data.ungrouped.count === 0;

  return (
    <>
      <Toolbar state={state} onChange={setState} facets={facets.data} searchRef={searchRef} searchKey={searchKey}
        mine={mineOnly} onMine={setMineOnly} user={me?.user ?? null} onExport={() => void exportCsv()} exporting={exporting}
        onNewGroup={() => openGroupNameModal({ title: 'New group', submitLabel: 'Create',
          save: (name) => groupOps.create.mutateAsync(name) })}
        onNewExperiment={() => setCreate({ source: null, groupId: null })}
        columns={<ColumnChooser flags={facetFlags.length ? facetFlags : loadedFlags()} prefs={prefs} setPrefs={setPrefs}
          groups={data?.groups ?? []} saveGroup={(g, flags) => groupOps.setColumns.mutate({ gid: g.id, flags })} />} />
      <FilterChips state={state} onChange={setState} onClear={clearFilters} />
      <BulkBar count={selection.selected.size} onAction={bulk} onClear={selection.clear}
        compareHref={`/compare?ids=${[...selection.selected].join(',')}`} />
      <QueryState loading={summaries.isLoading} error={summaries.error ?? pagesError} hasData={!!data} empty={empty}
        emptyHint="No experiments yet: create one with “New experiment”, or run ./skydeck demo." retry={() => void summaries.refetch()}>
        <div ref={tableRef} className="table-scroll" data-testid="table">
          <div style={{ width, minWidth: '100%' }}>
            <HeaderRow cols={headCols} depth={headDepth} columnsOf={headGroup?.name ?? null} state={state} onChange={setState}
              facets={facets.data} onNameWidth={setNameWidth} />
            {filtered && facets.data?.total === 0 && <div className="no-match" data-testid="no-match">Nothing matches these filters.</div>}
            <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
              {items.map((vi) => {
                const at = locate(lay, vi.index);
                if (!at) return null;
                const style = { position: 'absolute' as const, top: 0, left: 0, width: '100%', transform: `translateY(${vi.start}px)` };
                const cols = columnsFor(at.section.group);
                if (at.kind === 'header') {
                  return (
                    <div key={vi.key} data-index={vi.index} ref={virtualizer.measureElement} style={style}>
                      <GroupHeader section={at.section} filtered={filtered} ownColumns={ownColumns(at.section.group)} cols={cols}
                        state={state} onChange={setState} actions={groupActions} dropping={dropping === at.section.key} setDropping={setDropping} />
                    </div>
                  );
                }
                const page = pages.pages.get(`${at.section.key}:${Math.floor(at.index / PAGE_SIZE)}`);
                const e = page?.experiments[at.index % PAGE_SIZE];
                if (!e) return <div key={vi.key} data-index={vi.index} style={style}><PendingRow /></div>;
                return (
                  <div key={vi.key} data-index={vi.index} ref={virtualizer.measureElement} style={style}>
                    <ExperimentRow e={e} groupId={typeof at.section.scope === 'number' ? at.section.scope : null}
                      selected={selection.selected.has(e.id)} highlighted={highlight === vi.index} cols={cols} actions={actions} />
                    {e.expanded && (
                      <DetailRow e={e} width={viewWidth || 1000} onRaw={setRaw} onRestart={(x) => experiments.restart.mutate(x)}
                        onDuplicate={(x) => setCreate({ source: x, groupId: null })} onDelete={(x) => experiments.remove.mutate(x)} />
                    )}
                  </div>
                );
              })}
            </div>
          </div>
        </div>
      </QueryState>
      <CreateExperimentModal request={create} onClose={() => setCreate(null)} onDone={(e) => {
        setCreate(null);
        notifications.show({ color: 'green', message: `Created ${e.name}` });
        void client.invalidateQueries({ queryKey: keys.experimentLists });
        void client.invalidateQueries({ queryKey: keys.groups });
      }} />
      <BulkResultModal result={bulkResult} onClose={() => setBulkResult(null)} />
      <JsonDrawer value={raw} title="Experiment" onClose={() => setRaw(null)} />
    </>
  );
}
