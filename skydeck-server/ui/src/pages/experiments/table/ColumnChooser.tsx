import { ActionIcon, Button, Checkbox, Group, Popover, ScrollArea, Select, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import type { GroupSummary } from '../../../api/types';
import type { ColumnPrefs } from '../../../lib/table';

/**
 * Shows, hides and pins flag columns: for the whole table (remembered in this browser) or for one
 * group, whose chosen flags (seed 002) become its columns and are saved on the server.
 */
export function ColumnChooser({ flags, prefs, setPrefs, groups, saveGroup }: {
  flags: string[]; prefs: ColumnPrefs; setPrefs: (p: ColumnPrefs) => void; groups: GroupSummary[];
  saveGroup: (g: GroupSummary, flags: string[]) => void;
}) {
  const [scope, setScope] = useState<string>('all');
  const group = groups.find((g) => String(g.id) === scope) ?? null;
  // a group's members' own flags first: those are what its columns are usually chosen from
  const memberFlags = group ? [...new Set([...Object.keys(group.common_flags), ...group.varying_flags])].sort() : [];
  const all = [...new Set([...memberFlags, ...(group?.flags ?? []), ...flags])].sort();
  const shown = (k: string) => (group && group.flags.length ? group.flags.includes(k) : !prefs.hidden.includes(k));
  const toggle = (k: string) => {
    if (group) {
      const base = group.flags.length ? group.flags : (memberFlags.length ? memberFlags : all).filter((x) => !prefs.hidden.includes(x));
      saveGroup(group, base.includes(k) ? base.filter((x) => x !== k) : [...base, k]);
    } else {
      setPrefs({ ...prefs, hidden: prefs.hidden.includes(k) ? prefs.hidden.filter((x) => x !== k) : [...prefs.hidden, k] });
    }
  };
  const pin = (k: string) =>
    setPrefs({ ...prefs, pinned: prefs.pinned.includes(k) ? prefs.pinned.filter((x) => x !== k) : [...prefs.pinned, k] });
  return (
    <Popover position="bottom-end" withArrow shadow="md">
      <Popover.Target>
        <Button variant="default" size="sm" data-testid="columns">Columns</Button>
      </Popover.Target>
      <Popover.Dropdown>
        <Stack gap={6} miw={260} data-testid="column-chooser">
          <Select size="xs" label="Columns of" value={scope} onChange={(v) => setScope(v ?? 'all')} allowDeselect={false}
            data={[{ value: 'all', label: 'the whole table' }, ...groups.map((g) => ({ value: String(g.id), label: `group ${g.name}` }))]}
            data-testid="column-scope" comboboxProps={{ withinPortal: false }} />
          {group && (
            <Text size="xs" c="dimmed">
              {group.flags.length ? `${group.name} shows its own ${group.flags.length} columns (saved with the group).`
                : `${group.name} shows the table's columns; tick to choose its own.`}
            </Text>
          )}
          <ScrollArea.Autosize mah={320}>
            <Stack gap={2}>
              {all.length === 0 && <Text size="xs" c="dimmed">no flags yet</Text>}
              {all.map((k) => (
                <Group key={k} gap={6} justify="space-between" wrap="nowrap">
                  <Checkbox size="xs" label={k} checked={shown(k)} onChange={() => toggle(k)} data-testid="column-option" data-key={k} />
                  <ActionIcon size="xs" variant={prefs.pinned.includes(k) ? 'filled' : 'subtle'} onClick={() => pin(k)}
                    aria-label={`pin ${k}`} title="pin: keep it beside the name when scrolling" data-testid="column-pin" data-key={k}>📌</ActionIcon>
                </Group>
              ))}
            </Stack>
          </ScrollArea.Autosize>
          {group && group.flags.length > 0 && (
            <Button size="xs" variant="subtle" onClick={() => saveGroup(group, [])}>Use the table's columns</Button>
          )}
          {!group && prefs.hidden.length + prefs.pinned.length > 0 && (
            <Button size="xs" variant="subtle" onClick={() => setPrefs({ hidden: [], pinned: [] })}>Show all, unpin all</Button>
          )}
        </Stack>
      </Popover.Dropdown>
    </Popover>
  );
}
