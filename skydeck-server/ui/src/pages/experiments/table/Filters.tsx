import { ActionIcon, Badge, Button, Checkbox, CloseButton, Group, Popover, ScrollArea, Stack, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import type { Facets, JobStatus } from '../../../api/types';
import { statusColor } from '../../../components/StatusBadge';
import { toggleFlagValue, toggleState, type TableState } from '../../../lib/table';

const STATES: JobStatus[] = ['INIT', 'PENDING', 'STARTING', 'RUNNING', 'RECOVERING', 'CANCELLING', 'SUCCEEDED', 'FAILED',
  'CANCELLED', 'UNKNOWN'];

/** The values of one flag with their counts (from /facets); ticking one filters by it. */
export function FlagValues({ name, facets, state, onChange }: {
  name: string; facets: Facets | undefined; state: TableState; onChange: (s: TableState) => void;
}) {
  const [find, setFind] = useState('');
  const facet = facets?.flags.find((f) => f.name === name);
  const chosen = state.flags[name] ?? [];
  const values = [...(facet?.values ?? [])];
  for (const v of chosen) if (!values.some((x) => x.value === v)) values.push({ value: v, count: 0 });
  const missing = facets && facet ? facets.total - facet.count : 0;
  const shown = values.filter((v) => v.value.toLowerCase().includes(find.toLowerCase()));
  return (
    <Stack gap={4} data-testid="flag-values" data-flag={name} miw={200}>
      <Text size="xs" fw={600}>{name}</Text>
      {values.length > 8 && <TextInput size="xs" placeholder="find a value" value={find} onChange={(e) => setFind(e.currentTarget.value)} />}
      <ScrollArea.Autosize mah={260}>
        <Stack gap={2}>
          {shown.map((v) => (
            <div key={v.value} data-testid="flag-value" data-value={v.value}>
              <Checkbox size="xs" checked={chosen.includes(v.value)}
                label={<Group gap={6} wrap="nowrap"><span>{v.value}</span><Text span size="xs" c="dimmed">{v.count}</Text></Group>}
                onChange={() => onChange(toggleFlagValue(state, name, v.value))} />
            </div>
          ))}
          {(missing > 0 || chosen.includes('~')) && (
            <div data-testid="flag-value" data-value="~">
              <Checkbox size="xs" checked={chosen.includes('~')}
                label={<Group gap={6}><i>not set</i><Text span size="xs" c="dimmed">{missing}</Text></Group>}
                onChange={() => onChange(toggleFlagValue(state, name, '~'))} />
            </div>
          )}
        </Stack>
      </ScrollArea.Autosize>
      {facet?.truncated && <Text size="xs" c="dimmed">{facet.distinct} values: the most common are listed; search narrows the table.</Text>}
      {!facet && <Text size="xs" c="dimmed">no counts for this flag</Text>}
    </Stack>
  );
}

/** The ▾ on a flag column's header: its values to filter by. */
export function FlagFilterButton({ name, facets, state, onChange }: {
  name: string; facets: Facets | undefined; state: TableState; onChange: (s: TableState) => void;
}) {
  const active = (state.flags[name]?.length ?? 0) > 0;
  return (
    <Popover position="bottom-start" withArrow shadow="md" trapFocus={false}>
      <Popover.Target>
        <ActionIcon size="xs" variant={active ? 'filled' : 'subtle'} aria-label={`filter ${name}`} data-testid="flag-filter"
          data-flag={name}>▾</ActionIcon>
      </Popover.Target>
      <Popover.Dropdown>
        <FlagValues name={name} facets={facets} state={state} onChange={onChange} />
      </Popover.Dropdown>
    </Popover>
  );
}

/** The state filter: every state with how many experiments are in it under the other filters. */
export function StateFilter({ facets, state, onChange }: {
  facets: Facets | undefined; state: TableState; onChange: (s: TableState) => void;
}) {
  const counts = facets?.states ?? {};
  const listed = STATES.filter((s) => (counts[s] ?? 0) > 0 || state.states.includes(s));
  return (
    <Popover position="bottom-start" withArrow shadow="md">
      <Popover.Target>
        <Button variant={state.states.length ? 'filled' : 'default'} size="sm" data-testid="state-filter">
          State{state.states.length ? `: ${state.states.join(', ')}` : ''} ▾
        </Button>
      </Popover.Target>
      <Popover.Dropdown>
        <Stack gap={4} data-testid="state-options">
          {listed.length === 0 && <Text size="xs" c="dimmed">no experiments</Text>}
          {listed.map((s) => (
            <div key={s} data-testid="state-option" data-state={s}>
              <Checkbox size="xs" checked={state.states.includes(s)}
                label={<Group gap={6}><span className={`pill c-${statusColor(s)}`}>{s}</span><Text span size="xs" c="dimmed">{counts[s] ?? 0}</Text></Group>}
                onChange={() => onChange(toggleState(state, s))} />
            </div>
          ))}
        </Stack>
      </Popover.Dropdown>
    </Popover>
  );
}

/** The active filters as chips, each removable, and "clear all". */
export function FilterChips({ state, onChange, onClear }: { state: TableState; onChange: (s: TableState) => void; onClear: () => void }) {
  const chips: { label: string; drop: () => TableState }[] = [];
  if (state.q.trim()) chips.push({ label: `“${state.q.trim()}”`, drop: () => ({ ...state, q: '' }) });
  if (state.states.length) chips.push({ label: `state: ${state.states.join(', ')}`, drop: () => ({ ...state, states: [] }) });
  for (const [name, values] of Object.entries(state.flags)) {
    chips.push({
      label: `${name}: ${values.map((v) => (v === '~' ? 'not set' : v)).join(', ')}`,
      drop: () => { const flags = { ...state.flags }; delete flags[name]; return { ...state, flags }; },
    });
  }
  if (!chips.length) return null;
  return (
    <Group gap={6} mb="xs" data-testid="filter-chips">
      {chips.map((c) => (
        <Badge key={c.label} variant="light" size="lg" style={{ textTransform: 'none' }} data-testid="filter-chip"
          rightSection={<CloseButton size="xs" aria-label={`remove ${c.label}`} onClick={() => onChange(c.drop())} />}>
          {c.label}
        </Badge>
      ))}
      <Button size="compact-xs" variant="subtle" onClick={onClear} data-testid="clear-filters">Clear all</Button>
    </Group>
  );
}
