import { ActionIcon, Badge, Button, Checkbox, Group, Menu, Modal, Popover, Table, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useQueryClient } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useCallback, useEffect, useMemo, useRef, useState, type DragEvent, type MouseEvent } from 'react';
import { Link } from 'react-router-dom';
import { api } from '../../api/client';
import type { BulkItem, Experiment, FlagValue, Group as SkyGroup } from '../../api/types';
import { keys } from '../../data/live';
import { useGroups, useLinks, useMe } from '../../data/queries';
import { QueryState } from '../../components/QueryState';
import { statusColor } from '../../components/StatusBadge';
import { JsonDrawer } from '../../components/JsonDrawer';
import { commonFlags, flagKeys, headerRows, parseFlagValue } from '../../lib/flags';
import { formatFlag } from '../../lib/format';
import { CreateExperimentModal, type CreateRequest } from './CreateExperimentModal';
import { ExperimentDetail } from './ExperimentDetail';

type Row =
  | { kind: 'group'; group: SkyGroup | null; members: Experiment[] }
  | { kind: 'exp'; exp: Experiment; groupId: number | null }
  | { kind: 'detail'; exp: Experiment };

const ROW_HEIGHT = 37;
const GROUP_HEIGHT = 42;
const W = { select: 34, star: 30, name: 230, state: 210, action: 70, epoch: 60, res: 80, links: 120, flag: 110 };
const DRAG_TYPE = 'application/x-skydeck-experiments';

function matches(e: Experiment, text: string): boolean {
  if (!text) return true;
  const t = text.toLowerCase();
  return e.name.toLowerCase().includes(t) || (e.description ?? '').toLowerCase().includes(t)
    || e.tags.some((x) => x.toLowerCase().includes(t))
    || Object.entries(e.flags).some(([k, v]) => `${k}=${String(v)}`.toLowerCase().includes(t));
}

function FlagCell({ value }: { value: FlagValue | undefined }) {
  const cls = value === true ? 'flag-true' : value === false ? 'flag-false' : undefined;
  return <span className={cls}>{formatFlag(value)}</span>;
}

/** A flag shared by a whole group, edited in place for every member. */
function CommonFlagPill({ k, v, members }: { k: string; v: FlagValue; members: Experiment[] }) {
  const client = useQueryClient();
  const [opened, setOpened] = useState(false);
  const [text, setText] = useState(String(v));
  const save = async () => {
    let value: FlagValue;
    try {
      value = parseFlagValue(text, k);
    } catch (err) {
      notifications.show({ color: 'red', title: 'Not saved', message: (err as Error).message });
      return;
    }
    // only this flag is sent: the members' other flags stay exactly as stored
    const results = await Promise.allSettled(members.map((e) => api.patchExperiment(e.id, { set_flags: { [k]: value } })));
    const failed = results.filter((r) => r.status === 'rejected').length;
    notifications.show({ color: failed ? 'red' : 'green', message: `${k}=${String(value)} on ${members.length - failed} of ${members.length}` });
    setOpened(false);
    void client.invalidateQueries({ queryKey: keys.groups });
  };
  return (
    <Popover opened={opened} onChange={setOpened} withArrow>
      <Popover.Target>
        <Badge variant="light" size="sm" style={{ cursor: 'pointer', textTransform: 'none' }} onClick={() => setOpened((o) => !o)}
          data-testid="common-flag">{k}={formatFlag(v)}</Badge>
      </Popover.Target>
      <Popover.Dropdown>
        <Group gap={4}>
          <TextInput size="xs" value={text} onChange={(e) => setText(e.currentTarget.value)}
            onKeyDown={(e) => { if (e.key === 'Enter') void save(); }} />
          <Button size="xs" onClick={() => void save()}>Set for all</Button>
        </Group>
      </Popover.Dropdown>
    </Popover>
  );
}

interface RowActions {
  toggleExpand: (e: Experiment) => void;
  select: (e: Experiment, ev: { shiftKey: boolean }) => void;
  toggleState: (e: Experiment) => void;
  star: (e: Experiment) => void;
  dragIds: (e: Experiment) => number[];
}

/** One experiment's row; memoised, so scrolling renders only the rows that come into view. */
const ExperimentRowView = memo(function ExperimentRowView({ index, start, e, groupId, selected, highlighted, flagCols,
  linkList, actions }: {
  index: number; start: number; e: Experiment; groupId: number | null; selected: boolean; highlighted: boolean;
  flagCols: string[]; linkList: { label: string; url_template: string }[]; actions: { current: RowActions };
}) {
  return (
    <div data-index={index}
      style={{ position: 'absolute', top: 0, left: 0, width: '100%', height: ROW_HEIGHT, transform: `translateY(${start}px)` }}
      className={`grid-row${selected ? ' selected' : ''}${highlighted ? ' highlighted' : ''}`}
      data-testid="exp-row" data-name={e.name} draggable
      onDragStart={(ev) => {
        ev.dataTransfer.setData(DRAG_TYPE, JSON.stringify({ ids: actions.current.dragIds(e), from: groupId }));
        ev.dataTransfer.effectAllowed = 'copyMove';
      }}
      onClick={() => actions.current.toggleExpand(e)}>
      <div className="cell" style={{ width: W.select }} onClick={(ev) => { ev.stopPropagation(); actions.current.select(e, ev); }}>
        <input type="checkbox" checked={selected} readOnly data-testid="select" aria-label={`select ${e.name}`} />
      </div>
      <div className="cell" style={{ width: W.star }} onClick={(ev) => { ev.stopPropagation(); actions.current.star(e); }}>
        <span style={{ cursor: 'pointer', color: e.starred ? 'var(--mantine-color-yellow-filled)' : 'var(--mantine-color-dimmed)' }}>
          {e.starred ? '★' : '☆'}</span>
      </div>
      <div className="cell name" style={{ width: W.name }} title={e.description ?? e.name}>{e.name}</div>
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
      <div className="cell" style={{ width: W.action }} onClick={(ev) => ev.stopPropagation()}>
        <button type="button" className={`mini-btn ${e.desired_state === 'RUNNING' ? 'stop' : 'start'}`} data-testid="toggle"
          onClick={() => actions.current.toggleState(e)}>{e.desired_state === 'RUNNING' ? 'Stop' : 'Start'}</button>
      </div>
      <div className="cell" style={{ width: W.epoch }} data-testid="epoch">{e.latest_epoch ?? '-'}</div>
      <div className="cell" style={{ width: W.res }}>{e.nodes}×{e.gpus}</div>
      {linkList.length > 0 && (
        <div className="cell" style={{ width: W.links }} onClick={(ev) => ev.stopPropagation()}>
          {linkList.map((l) => (
            <Badge key={l.label} size="xs" variant="outline" component="a" target="_blank" rel="noreferrer"
              href={l.url_template.replace('{name}', encodeURIComponent(e.name))} style={{ cursor: 'pointer' }}>{l.label}</Badge>
          ))}
        </div>
      )}
      {flagCols.map((k) => (
        <div key={k} className="cell" style={{ width: W.flag }} data-flag={k} title={`${k}=${String(e.flags[k] ?? '')}`}>
          <FlagCell value={e.flags[k]} />
        </div>
      ))}
    </div>
  );
});

export function ExperimentsPage() {
  const client = useQueryClient();
  const groups = useGroups();
  const links = useLinks();
  const [search, setSearch] = useState('');
  const me = useMe().data;
  const [mineOnly, setMineOnly] = useState(() => localStorage.getItem('skydeck.mine') === '1');
  const mine = mineOnly && me?.user ? me.user : null;
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [anchor, setAnchor] = useState<number | null>(null);
  const [expanded, setExpanded] = useState<Set<number>>(new Set());
  const [collapsed, setCollapsed] = useState<Set<number>>(new Set());
  const [highlight, setHighlight] = useState(0);
  const [create, setCreate] = useState<CreateRequest | null>(null);
  const [bulkResult, setBulkResult] = useState<{ action: string; items: BulkItem[] } | null>(null);
  const [raw, setRaw] = useState<Experiment | null>(null);
  const [dropTarget, setDropTarget] = useState<string | null>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const scrollRef = useRef<HTMLDivElement>(null);

  const data = groups.data;
  const all = useMemo(() => {
    if (!data) return [] as Experiment[];
    const seen = new Map<number, Experiment>();
    for (const g of data.groups) for (const e of g.experiments ?? []) seen.set(e.id, e);
    for (const e of data.ungrouped) seen.set(e.id, e);
    return [...seen.values()];
  }, [data]);
  const flagCols = useMemo(() => flagKeys(all), [all]);
  const header = useMemo(() => headerRows(flagCols), [flagCols]);
  const linkList = links.data?.links ?? [];

  useEffect(() => {
    if (data) {
      setExpanded((prev) => {
        const next = new Set(prev);
        for (const e of all) if (e.expanded) next.add(e.id);
        return next.size === prev.size ? prev : next;
      });
      setCollapsed(new Set(data.groups.filter((g) => g.collapsed).map((g) => g.id)));
    }
    // only on first load of each group set
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [data === undefined]);

  const rows = useMemo(() => {
    const out: Row[] = [];
    if (!data) return out;
    const add = (group: SkyGroup | null, members: Experiment[]) => {
      const shown = members.filter((e) => matches(e, search) && (mine === null || e.created_by === mine));
      if ((search || mine !== null) && shown.length === 0) return;
      out.push({ kind: 'group', group, members: shown });
      if (group && collapsed.has(group.id)) return;
      for (const e of shown) {
        out.push({ kind: 'exp', exp: e, groupId: group?.id ?? null });
        if (expanded.has(e.id)) out.push({ kind: 'detail', exp: e });
      }
    };
    for (const g of data.groups) add(g, g.experiments ?? []);
    add(null, data.ungrouped);
    return out;
  }, [data, search, mine, collapsed, expanded]);
  const expRows = useMemo(() => rows.flatMap((r, i) => (r.kind === 'exp' ? [{ i, e: r.exp }] : [])), [rows]);

  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) => (rows[i]?.kind === 'detail' ? 460 : rows[i]?.kind === 'group' ? GROUP_HEIGHT : ROW_HEIGHT),
    overscan: 12,
    getItemKey: (i) => {
      const r = rows[i]!;
      return r.kind === 'group' ? `g${r.group?.id ?? 'u'}` : r.kind === 'exp' ? `e${r.exp.id}:${r.groupId}` : `d${r.exp.id}`;
    },
  });

  const refresh = useCallback(() => void client.invalidateQueries({ queryKey: keys.groups }), [client]);

  const toggleExpand = (e: Experiment) => {
    setExpanded((prev) => {
      const next = new Set(prev);
      const open = !next.has(e.id);
      if (open) next.add(e.id);
      else next.delete(e.id);
      void api.expand(e.id, open).catch(() => undefined);
      return next;
    });
  };

  const select = (e: Experiment, ev: MouseEvent | { shiftKey: boolean }) => {
    setSelected((prev) => {
      const next = new Set(prev);
      if (ev.shiftKey && anchor !== null) {
        const order = expRows.map((r) => r.e.id);
        const a = order.indexOf(anchor);
        const b = order.indexOf(e.id);
        if (a >= 0 && b >= 0) {
          for (let i = Math.min(a, b); i <= Math.max(a, b); i++) next.add(order[i]!);
          return next;
        }
      }
      if (next.has(e.id)) next.delete(e.id);
      else next.add(e.id);
      return next;
    });
    setAnchor(e.id);
  };

  const setState = async (e: Experiment) => {
    const target = e.desired_state === 'RUNNING' ? 'STOPPED' : 'RUNNING';
    try {
      await api.setState(e.id, target);
      refresh();
    } catch (err) {
      notifications.show({ color: 'red', title: `Could not ${target === 'RUNNING' ? 'start' : 'stop'} ${e.name}`, message: (err as Error).message });
    }
  };

  const restart = async (e: Experiment) => {
    try {
      await api.restart(e.id);
      notifications.show({ color: 'green', message: `Restarting ${e.name}: an active job is cancelled first` });
      refresh();
    } catch (err) {
      notifications.show({ color: 'red', title: `Could not restart ${e.name}`, message: (err as Error).message });
    }
  };

  const remove = async (e: Experiment) => {
    try {
      await api.deleteExperiment(e.id);
      refresh();
      notifications.show({
        id: `deleted-${e.id}`, autoClose: 8000, title: `Deleted ${e.name}`,
        message: (
          <Button size="compact-xs" variant="light" data-testid="undo" onClick={async () => {
            notifications.hide(`deleted-${e.id}`);
            try {
              await api.undelete(e.id);
              refresh();
            } catch (err) {
              notifications.show({ color: 'red', title: 'Undo failed', message: (err as Error).message });
            }
          }}>Undo</Button>
        ),
      });
    } catch (err) {
      notifications.show({ color: 'red', title: 'Delete failed', message: (err as Error).message });
    }
  };

  const bulk = async (action: string) => {
    const ids = [...selected];
    try {
      const r = await api.bulk(action, ids);
      setBulkResult({ action, items: r.results });
      if (action === 'delete') setSelected(new Set());
      refresh();
    } catch (err) {
      notifications.show({ color: 'red', title: `Bulk ${action} failed`, message: (err as Error).message });
    }
  };

  const onDrop = async (ev: DragEvent, target: SkyGroup | null) => {
    ev.preventDefault();
    setDropTarget(null);
    const raw = ev.dataTransfer.getData(DRAG_TYPE);
    if (!raw) return;
    const { ids, from } = JSON.parse(raw) as { ids: number[]; from: number | null };
    const keep = ev.altKey; // Alt keeps it in the group it came from too
    try {
      if (target) await api.addToGroup(target.id, ids, keep);
      else if (from !== null && !keep) await Promise.all(ids.map((id) => api.removeFromGroup(from, id)));
      refresh();
    } catch (err) {
      notifications.show({ color: 'red', title: 'Move failed', message: (err as Error).message });
    }
  };

  // keyboard: / search, j/k move, x select, Enter expand
  useEffect(() => {
    const onKey = (ev: KeyboardEvent) => {
      const t = ev.target as HTMLElement | null;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return;
      if (ev.key === '/') {
        ev.preventDefault();
        searchRef.current?.focus();
      } else if (ev.key === 'j' || ev.key === 'k') {
        setHighlight((h) => {
          const next = Math.max(0, Math.min(expRows.length - 1, h + (ev.key === 'j' ? 1 : -1)));
          const row = expRows[next];
          if (row) virtualizer.scrollToIndex(row.i, { align: 'auto' });
          return next;
        });
      } else if (ev.key === 'x') {
        const row = expRows[highlight];
        if (row) select(row.e, { shiftKey: ev.shiftKey });
      } else if (ev.key === 'Enter') {
        const row = expRows[highlight];
        if (row) toggleExpand(row.e);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const actions = useRef<RowActions>(null as unknown as RowActions);
  actions.current = {
    toggleExpand,
    select,
    toggleState: (e) => void setState(e),
    star: (e) => void api.star(e.id, !e.starred).then(refresh),
    dragIds: (e) => (selected.has(e.id) ? [...selected] : [e.id]),
  };

  const fixedWidth = W.select + W.star + W.name + W.state + W.action + W.epoch + W.res + (linkList.length ? W.links : 0);
  const width = fixedWidth + flagCols.length * W.flag;
  const highlightedId = expRows[highlight]?.e.id;

  return (
    <>
      <Group justify="space-between" mb="sm">
        <Title order={2}>Experiments</Title>
        <Group>
          <TextInput ref={searchRef} placeholder="Search ( / )" value={search} onChange={(e) => setSearch(e.currentTarget.value)}
            data-testid="search" w={260} />
          {me?.user && <Checkbox label={`Mine (${me.user})`} checked={mineOnly} data-testid="experiments-mine"
            onChange={(e) => {
              const on = e.currentTarget.checked;
              localStorage.setItem('skydeck.mine', on ? '1' : '0');
              setMineOnly(on);
            }} />}
          <Button variant="light" onClick={async () => {
            const name = window.prompt('Group name');
            if (name) {
              try {
                await api.createGroup(name);
                refresh();
              } catch (err) {
                notifications.show({ color: 'red', title: 'Group not created', message: (err as Error).message });
              }
            }
          }} data-testid="new-group">New group</Button>
          <Button onClick={() => setCreate({ source: null, groupId: null })} data-testid="new-experiment">New experiment</Button>
        </Group>
      </Group>
      {selected.size > 0 && (
        <Group mb="sm" gap="xs" data-testid="bulk-bar">
          <Text size="sm">{selected.size} selected</Text>
          <Button size="xs" onClick={() => void bulk('start')} data-testid="bulk-start">Start</Button>
          <Button size="xs" variant="light" onClick={() => void bulk('stop')} data-testid="bulk-stop">Stop</Button>
          <Button size="xs" variant="light" color="orange" onClick={() => void bulk('restart')} data-testid="bulk-restart">
            Restart
          </Button>
          <Button size="xs" variant="light" component={Link} data-testid="bulk-compare"
            to={`/compare?ids=${[...selected].join(',')}`}>Compare</Button>
          <Button size="xs" variant="light" onClick={() => void bulk('duplicate')}>Duplicate</Button>
          <Button size="xs" variant="light" color="red" onClick={() => void bulk('delete')}>Delete</Button>
          <Button size="xs" variant="subtle" onClick={() => setSelected(new Set())}>Clear</Button>
        </Group>
      )}
      <QueryState loading={groups.isLoading} error={groups.error} hasData={!!data} empty={!!data && all.length === 0}
        emptyHint="No experiments yet: create one with “New experiment”, or run ./skydeck demo." retry={() => void groups.refetch()}>
        <div ref={scrollRef} style={{ height: 'calc(100vh - 150px)', overflow: 'auto' }} data-testid="table">
          <div style={{ width, minWidth: '100%' }}>
            <div style={{ position: 'sticky', top: 0, zIndex: 2, background: 'var(--mantine-color-body)' }} data-testid="header">
              {header.map((hr, level) => (
                <div key={level} className="grid-row" style={{ minHeight: 22 }}>
                  {level === header.length - 1 ? (
                    <>
                      <div className="cell head" style={{ width: W.select }} />
                      <div className="cell head" style={{ width: W.star }}>★</div>
                      <div className="cell head" style={{ width: W.name }}>Name</div>
                      <div className="cell head" style={{ width: W.state }}>State</div>
                      <div className="cell head" style={{ width: W.action }} />
                      <div className="cell head" style={{ width: W.epoch }}>Epoch</div>
                      <div className="cell head" style={{ width: W.res }}>Nodes×GPUs</div>
                      {linkList.length > 0 && <div className="cell head" style={{ width: W.links }}>Links</div>}
                    </>
                  ) : <div style={{ width: fixedWidth, flex: 'none' }} />}
                  {hr.map((c, i) => (
                    <div key={i} className="cell head" style={{ width: c.span * W.flag, textAlign: level === header.length - 1 ? 'left' : 'center' }}
                      data-testid={c.key ? 'flag-column' : undefined} data-key={c.key ?? undefined} title={c.key ?? c.label}>
                      {c.label}
                    </div>
                  ))}
                </div>
              ))}
            </div>
            <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
              {virtualizer.getVirtualItems().map((vi) => {
                const row = rows[vi.index]!;
                const style = { position: 'absolute' as const, top: 0, left: 0, width: '100%', transform: `translateY(${vi.start}px)` };
                if (row.kind === 'group') {
                  const gid = row.group ? `g${row.group.id}` : 'u';
                  const common = row.group ? commonFlags(row.members) : {};
                  return (
                    <div key={vi.key} data-index={vi.index} style={{ ...style, height: GROUP_HEIGHT }}
                      className={`group-row${dropTarget === gid ? ' drop' : ''}`} data-testid="group-row"
                      data-group={row.group?.name ?? 'Ungrouped'}
                      onDragOver={(ev) => { ev.preventDefault(); ev.dataTransfer.dropEffect = ev.altKey ? 'copy' : 'move'; setDropTarget(gid); }}
                      onDragLeave={() => setDropTarget(null)} onDrop={(ev) => void onDrop(ev, row.group)}>
                      {row.group && (
                        <ActionIcon size="sm" variant="subtle" onClick={() => {
                          const g = row.group!;
                          const next = new Set(collapsed);
                          if (next.has(g.id)) next.delete(g.id);
                          else next.add(g.id);
                          setCollapsed(next);
                          void api.patchGroup(g.id, { collapsed: next.has(g.id) }).catch(() => undefined);
                        }}>{collapsed.has(row.group.id) ? '▸' : '▾'}</ActionIcon>
                      )}
                      <Text fw={600} size="sm">{row.group?.name ?? 'Ungrouped'}</Text>
                      <Text size="xs" c="dimmed">{row.members.length}</Text>
                      {Object.entries(common).map(([k, v]) => <CommonFlagPill key={k} k={k} v={v} members={row.members} />)}
                      {row.group && (
                        <Menu>
                          <Menu.Target><ActionIcon size="sm" variant="subtle">⋯</ActionIcon></Menu.Target>
                          <Menu.Dropdown>
                            <Menu.Item component={Link} to={`/groups/${row.group.id}/sweep`} data-testid="open-sweep">Sweep view</Menu.Item>
                            <Menu.Item onClick={() => setCreate({ source: null, groupId: row.group!.id })}>New experiment here</Menu.Item>
                            <Menu.Item onClick={async () => {
                              const name = window.prompt('New name', row.group!.name);
                              if (name) { await api.patchGroup(row.group!.id, { name }); refresh(); }
                            }}>Rename</Menu.Item>
                            <Menu.Item onClick={async () => {
                              const ids = data!.groups.map((g) => g.id);
                              const i = ids.indexOf(row.group!.id);
                              if (i > 0) { [ids[i - 1], ids[i]] = [ids[i]!, ids[i - 1]!]; await api.reorderGroups(ids); refresh(); }
                            }}>Move up</Menu.Item>
                            <Menu.Item color="red" onClick={async () => { await api.deleteGroup(row.group!.id); refresh(); }}>
                              Delete group (keeps experiments)</Menu.Item>
                          </Menu.Dropdown>
                        </Menu>
                      )}
                    </div>
                  );
                }
                if (row.kind === 'detail') {
                  return (
                    <div key={vi.key} ref={virtualizer.measureElement} data-index={vi.index} style={style}>
                      <ExperimentDetail e={row.exp} onRaw={() => setRaw(row.exp)} onRestart={() => void restart(row.exp)}
                        onDuplicate={() => setCreate({ source: row.exp, groupId: null })} onDelete={() => void remove(row.exp)} />
                    </div>
                  );
                }
                return (
                  <ExperimentRowView key={vi.key} index={vi.index} start={vi.start} e={row.exp} groupId={row.groupId}
                    selected={selected.has(row.exp.id)} highlighted={highlightedId === row.exp.id} flagCols={flagCols}
                    linkList={linkList} actions={actions} />
                );
              })}
            </div>
          </div>
        </div>
      </QueryState>
      <CreateExperimentModal request={create} onClose={() => setCreate(null)} onDone={(e) => {
        setCreate(null);
        notifications.show({ color: 'green', message: `Created ${e.name}` });
        refresh();
      }} />
      <Modal opened={bulkResult !== null} onClose={() => setBulkResult(null)} title={`Bulk ${bulkResult?.action ?? ''}`}
        data-testid="bulk-summary">
        <Text size="sm" mb="xs">{bulkResult?.items.filter((i) => i.ok).length} of {bulkResult?.items.length} done</Text>
        <Table fz="xs">
          <Table.Tbody>
            {bulkResult?.items.map((i, n) => (
              <Table.Tr key={n}><Table.Td>{i.experiment?.name ?? i.ref}</Table.Td>
                <Table.Td>{i.ok ? <Badge color="green" size="xs">ok</Badge> : <Badge color="red" size="xs">failed</Badge>}</Table.Td>
                <Table.Td>{i.detail}</Table.Td></Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Modal>
      <JsonDrawer value={raw} title="Experiment" onClose={() => setRaw(null)} />
    </>
  );
}
