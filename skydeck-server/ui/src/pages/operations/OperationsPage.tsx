import { Badge, Group, Select, Table, Text, TextInput, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { api } from '../../api/client';
import { keys } from '../../data/live';
import { useRefetchInterval } from '../../data/queries';
import { QueryState } from '../../components/QueryState';
import { formatRelative, formatTime } from '../../lib/format';

export function OperationsPage() {
  const interval = useRefetchInterval();
  const q = useQuery({ queryKey: keys.operations, queryFn: () => api.operations(1000), refetchInterval: interval });
  const [text, setText] = useState('');
  const [type, setType] = useState<string | null>(null);
  const events = useMemo(() => q.data?.events ?? [], [q.data]);
  const types = useMemo(() => [...new Set(events.map((e) => e.type))].sort(), [events]);
  const shown = events.filter((e) => (!type || e.type === type)
    && (!text || `${e.message} ${e.experiment_name ?? ''} ${e.detail ?? ''}`.toLowerCase().includes(text.toLowerCase())));
  return (
    <>
      <Title order={2} mb="sm">Operations</Title>
      <Group mb="sm">
        <TextInput placeholder="Filter" value={text} onChange={(e) => setText(e.currentTarget.value)} data-testid="ops-filter" />
        <Select placeholder="Any type" clearable data={types} value={type} onChange={setType} />
        <Text size="sm" c="dimmed">{shown.length} of {events.length}</Text>
      </Group>
      <QueryState loading={q.isLoading} error={q.error} hasData={!!q.data} empty={shown.length === 0}
        emptyHint="No events yet: create or start an experiment." retry={() => void q.refetch()}>
        <Table striped highlightOnHover data-testid="ops-table" className="one-line">
          <Table.Thead><Table.Tr><Table.Th>Time</Table.Th><Table.Th>Actor</Table.Th><Table.Th>Type</Table.Th>
            <Table.Th>Experiment</Table.Th><Table.Th>Message</Table.Th></Table.Tr></Table.Thead>
          <Table.Tbody>
            {shown.map((e) => (
              <Table.Tr key={e.seq}>
                <Table.Td title={formatRelative(e.time)}>{formatTime(e.time)}</Table.Td>
                <Table.Td>{e.actor}</Table.Td>
                {/* the whole type, never cut: the badge sizes to its text and the column to the badge */}
                <Table.Td><Badge color={e.success ? 'gray' : 'red'} variant="light" data-testid="ops-type"
                  styles={{ root: { overflow: 'visible', maxWidth: 'none' }, label: { overflow: 'visible', textOverflow: 'clip' } }}>{e.type}</Badge></Table.Td>
                <Table.Td className="clip" title={e.experiment_name ?? undefined}>{e.experiment_name ?? '-'}</Table.Td>
                <Table.Td style={{ whiteSpace: 'normal' }}>{e.message}{e.detail ? <Text size="xs" c="dimmed">{e.detail}</Text> : null}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </QueryState>
    </>
  );
}
