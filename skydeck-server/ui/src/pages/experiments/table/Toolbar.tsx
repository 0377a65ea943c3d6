import { Button, Checkbox, Group, Switch, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedCallback } from '@mantine/hooks';
import { useState, type ReactNode, type RefObject } from 'react';
import type { Facets } from '../../../api/types';
import type { TableState } from '../../../lib/table';
import { Link } from 'react-router-dom';
import { StateFilter } from './Filters';

/** The search box: the table follows as one types (debounced), not only on Enter. */
function SearchBox({ value, onSearch, inputRef }: { value: string; onSearch: (q: string) => void; inputRef: RefObject<HTMLInputElement | null> }) {
  const [text, setText] = useState(value);
  const later = useDebouncedCallback(onSearch, 250);
  return (
    <TextInput ref={inputRef} placeholder="Search names and flags ( / )" value={text} data-testid="search" w={260}
      onChange={(e) => { setText(e.currentTarget.value); later(e.currentTarget.value); }}
      onKeyDown={(e) => { if (e.key === 'Enter') onSearch(text); if (e.key === 'Escape') { setText(''); onSearch(''); } }} />
  );
}

export function Toolbar({ state, onChange, facets, searchRef, searchKey, mine, onMine, user, columns, onExport, exporting,
  onNewGroup, onNewExperiment }: {
  state: TableState; onChange: (s: TableState) => void; facets: Facets | undefined;
  searchRef: RefObject<HTMLInputElement | null>; searchKey: number; mine: boolean; onMine: (on: boolean) => void;
  user: string | null; columns: ReactNode; onExport: () => void; exporting: boolean; onNewGroup: () => void; onNewExperiment: () => void;
}) {
  return (
    <Group justify="space-between" mb="xs" wrap="wrap" gap="xs">
      <Group gap="xs">
        <Title order={2}>Experiments</Title>
        {facets && <Text size="sm" c="dimmed" data-testid="total">{facets.total} shown</Text>}
      </Group>
      <Group gap="xs">
        <SearchBox key={searchKey} value={state.q} inputRef={searchRef} onSearch={(q) => onChange({ ...state, q })} />
        <StateFilter facets={facets} state={state} onChange={onChange} />
        <Switch label="Groups" checked={!state.flat} onChange={(e) => onChange({ ...state, flat: !e.currentTarget.checked })}
          data-testid="view-groups" />
        {columns}
        <Button variant="default" onClick={onExport} loading={exporting} data-testid="export-csv">Export CSV</Button>
        {user && <Checkbox label={`Mine (${user})`} checked={mine} data-testid="experiments-mine"
          onChange={(e) => onMine(e.currentTarget.checked)} />}
        <Button variant="light" onClick={onNewGroup} data-testid="new-group">New group</Button>
        <Button onClick={onNewExperiment} data-testid="new-experiment">New experiment</Button>
      </Group>
    </Group>
  );
}

export function BulkBar({ count, onAction, onClear, compareHref }: {
  count: number; onAction: (action: string) => void; onClear: () => void; compareHref: string;
}) {
  if (count === 0) return null;
  return (
    <Group mb="xs" gap="xs" data-testid="bulk-bar">
      <Text size="sm">{count} selected</Text>
      <Button size="xs" onClick={() => onAction('start')} data-testid="bulk-start">Start</Button>
      <Button size="xs" variant="light" onClick={() => onAction('stop')} data-testid="bulk-stop">Stop</Button>
      <Button size="xs" variant="light" color="orange" onClick={() => onAction('restart')} data-testid="bulk-restart">Restart</Button>
      <Button size="xs" variant="light" component={Link} to={compareHref} data-testid="bulk-compare">Compare</Button>
      <Button size="xs" variant="light" onClick={() => onAction('duplicate')}>Duplicate</Button>
      <Button size="xs" variant="light" color="red" onClick={() => onAction('delete')}>Delete</Button>
      <Button size="xs" variant="subtle" onClick={onClear}>Clear</Button>
    </Group>
  );
}
