import { ActionIcon, Badge, Button, Group, Menu, Popover, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState, type DragEvent } from 'react';
import { Link } from 'react-router-dom';
import type { FlagValue, GroupSummary } from '../../../api/types';
import { statusColor } from '../../../components/StatusBadge';
import { parseFlagValue } from '../../../lib/flags';
import { formatFlag } from '../../../lib/format';
import type { Section, TableState } from '../../../lib/table';
import type { RowColumns } from './ExperimentRow';
import { SortLabel } from './HeaderRow';
import { W } from './layout';

export interface GroupActions {
  collapse: (g: GroupSummary) => void;
  rename: (g: GroupSummary) => void;
  remove: (g: GroupSummary) => void;
  moveUp: (g: GroupSummary) => void;
  newHere: (g: GroupSummary) => void;
  setCommonFlag: (g: GroupSummary, key: string, value: FlagValue) => void;
  drop: (ev: DragEvent, g: GroupSummary | null) => void;
}

/** A flag shared by a whole group: click to set it for every member (after a confirmation). */
function CommonFlagPill({ k, v, onSet }: { k: string; v: FlagValue; onSet: (value: FlagValue) => void }) {
  const [opened, setOpened] = useState(false);
  const [text, setText] = useState(String(v));
  const save = () => {
    try {
      const value = parseFlagValue(text, k);
      setOpened(false);
      onSet(value);
    } catch (err) {
      notifications.show({ color: 'red', title: 'Not saved', message: (err as Error).message });
    }
  };
  return (
    <Popover opened={opened} onChange={setOpened} withArrow>
      <Popover.Target>
        <Badge variant="light" size="sm" style={{ cursor: 'pointer', textTransform: 'none' }} onClick={() => setOpened((o) => !o)}
          data-testid="common-flag" data-key={k}>{k}={formatFlag(v)}</Badge>
      </Popover.Target>
      <Popover.Dropdown>
        <Group gap={4}>
          <TextInput size="xs" value={text} onChange={(e) => setText(e.currentTarget.value)} data-testid="common-flag-input"
            onKeyDown={(e) => { if (e.key === 'Enter') save(); }} />
          <Button size="xs" onClick={save} data-testid="common-flag-save">Set for all</Button>
        </Group>
      </Popover.Dropdown>
    </Popover>
  );
}

/** A group's (or "Ungrouped"'s) header row: name, counts by state, shared flags, its menu; a drop target. */
export function GroupHeader({ section, filtered, ownColumns, cols, state, onChange, actions, dropping, setDropping }: {
  section: Section; filtered: boolean; ownColumns: boolean; cols: RowColumns; state: TableState;
  onChange: (s: TableState) => void; actions: GroupActions; dropping: boolean; setDropping: (key: string | null) => void;
}) {
  const g = section.group;
  const name = g?.name ?? 'Ungrouped';
  const states = Object.entries(g?.states ?? {}).filter(([, n]) => (n ?? 0) > 0);
  const count = section.counted && filtered && g ? `${section.count} of ${g.count}` : String(section.count);
  return (
    <div className={`group-block${dropping ? ' drop' : ''}`} data-testid="group-row" data-group={name}
      onDragOver={(ev) => { ev.preventDefault(); ev.dataTransfer.dropEffect = ev.altKey ? 'copy' : 'move'; setDropping(section.key); }}
      onDragLeave={() => setDropping(null)} onDrop={(ev) => actions.drop(ev, g)}>
      <div className="group-row">
        <div className="group-title">
          {g && (
            <ActionIcon size="sm" variant="subtle" aria-label={section.collapsed ? 'expand group' : 'collapse group'}
              data-testid="group-collapse" onClick={() => actions.collapse(g)}>{section.collapsed ? '▸' : '▾'}</ActionIcon>
          )}
          <Text fw={600} size="sm" data-testid="group-name">{name}</Text>
          <Text size="xs" c="dimmed" data-testid="group-count">{count}</Text>
          {states.map(([s, n]) => <span key={s} className={`pill c-${statusColor(s)}`} title={s}>{n} {s.toLowerCase()}</span>)}
          {g && Object.entries(g.common_flags).map(([k, v]) => (
            <CommonFlagPill key={k} k={k} v={v} onSet={(value) => actions.setCommonFlag(g, k, value)} />
          ))}
          {g && (
            <Menu>
              <Menu.Target><ActionIcon size="sm" variant="subtle" aria-label="group menu" data-testid="group-menu">⋯</ActionIcon></Menu.Target>
              <Menu.Dropdown>
                <Menu.Item component={Link} to={`/groups/${g.id}/sweep`} data-testid="open-sweep">Sweep view</Menu.Item>
                <Menu.Item onClick={() => actions.newHere(g)}>New experiment here</Menu.Item>
                <Menu.Item onClick={() => actions.rename(g)} data-testid="group-rename">Rename</Menu.Item>
                <Menu.Item onClick={() => actions.moveUp(g)}>Move up</Menu.Item>
                <Menu.Item color="red" onClick={() => actions.remove(g)}>Delete group (keeps experiments)</Menu.Item>
              </Menu.Dropdown>
            </Menu>
          )}
        </div>
      </div>
      {ownColumns && !section.collapsed && (
        <div className="grid-row group-columns" data-testid="group-columns">
          <div className="cell head sticky" style={{ width: W.select + W.star + cols.nameWidth, left: 0 }}>
            <Text span size="xs" c="dimmed">this group's columns</Text>
          </div>
          {cols.pinned.map((k, i) => (
            <div key={k} className="cell head sticky pinned" style={{ width: W.flag, left: cols.lefts.flags[i] }} data-key={k}>
              <SortLabel k={`flag:${k}`} label={k} state={state} onChange={onChange} />
            </div>
          ))}
          <div style={{ width: W.state + W.action + W.epoch + W.started + W.res + (cols.links.length ? W.links : 0), flex: 'none' }} />
          {cols.rest.map((k) => (
            <div key={k} className="cell head" style={{ width: W.flag }} data-key={k} title={k}>
              <SortLabel k={`flag:${k}`} label={k} state={state} onChange={onChange} />
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
