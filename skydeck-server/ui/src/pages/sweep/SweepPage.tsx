import { Alert, Badge, Button, Group, Modal, Paper, Progress, Select, Stack, Table, Text, Title, Tooltip } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { api } from '../../api/client';
import type { BulkItem, Experiment } from '../../api/types';
import { JobTimeline } from '../../components/charts/JobTimeline';
import { statusColor } from '../../components/StatusBadge';
import { keys } from '../../data/live';
import { useRefetchInterval } from '../../data/queries';
import { buildGrid, failedIds, progress, runningIds, varyingFlags } from './grid';

/** Members whose jobs the group timeline fetches (one request each). */
const TIMELINE_MEMBERS = 60;

function CellChip({ e }: { e: Experiment }) {
  const state = e.current_state ?? 'INIT';
  return (
    <Tooltip label={`${e.name}: ${state} → ${e.desired_state ?? 'STOPPED'}${e.status?.state_reason ? ` · ${e.status.state_reason}` : ''}`} multiline maw={360}>
      <div className={`sweep-cell c-${statusColor(state)}`} data-testid="sweep-cell" data-name={e.name} data-state={state}>
        <Text size="xs" fw={700}>{state}</Text>
        <Text size="xs" data-testid="sweep-epoch">{e.latest_epoch === null || e.latest_epoch === undefined ? 'no epoch' : `epoch ${e.latest_epoch}`}</Text>
      </div>
    </Tooltip>
  );
}

/**
 * A group as a sweep: its members in a grid of two flags that vary (chosen here), each cell
 * coloured by state with its latest epoch; the progress counts; "restart all failed" and "stop the
 * rest" as bulk actions with the per-item summary; and the members' jobs on a timeline.
 */
export function SweepPage() {
  const { gid } = useParams();
  const client = useQueryClient();
  const interval = useRefetchInterval();
  // under the groups' key: live updates refetch it whenever one of the deck's experiments changes
  const q = useQuery({ queryKey: keys.group(Number(gid)), queryFn: () => api.group(Number(gid)), refetchInterval: interval,
    enabled: !!gid });
  const members = (q.data?.group.experiments ?? []).filter((e) => !e.deleted);
  const found = varyingFlags(members);
  // the group's chosen flag columns (seed 002) come first, when they vary
  const chosen = (q.data?.group.flags ?? []).filter((f) => found.includes(f));
  const varying = [...chosen, ...found.filter((f) => !chosen.includes(f))];
  // the axes live in the URL (?rows=lr&cols=wd): a sweep view can be shared and reloaded
  const [params, setParams] = useSearchParams();
  const rowPick = params.get('rows');
  const colPick = params.get('cols');
  const pick = (name: 'rows' | 'cols', value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.set(name, '');
    setParams(next, { replace: true });
  };
  const rowFlag = rowPick && varying.includes(rowPick) ? rowPick : varying[0] ?? null;
  const colFlag = colPick === '' ? null : colPick && varying.includes(colPick) && colPick !== rowFlag ? colPick
    : varying.find((f) => f !== rowFlag) ?? null;
  const grid = buildGrid(members, rowFlag, colFlag);
  const p = progress(members);
  const [summary, setSummary] = useState<{ title: string; succeeded: number; failed: number; items: BulkItem[] } | null>(null);
  const bulk = useMutation({
    mutationFn: ({ action, ids }: { action: string; ids: number[]; title: string }) => api.bulk(action, ids),
    onSuccess: (r, v) => {
      setSummary({ title: v.title, succeeded: r.succeeded, failed: r.failed, items: r.results });
      void client.invalidateQueries({ queryKey: keys.groups });
    },
    onError: (err, v) => notifications.show({ color: 'red', title: `${v.title} failed`, message: (err).message }),
  });
  const timeline = useQueries({
    queries: members.slice(0, TIMELINE_MEMBERS).map((e) => ({
      queryKey: keys.experimentJobs(e.id), refetchInterval: interval, queryFn: () => api.experimentJobs(e.id),
    })),
  });
  const failed = failedIds(members);
  const rest = runningIds(members);

  if (q.error && !q.data) {
    return <Alert color="red" title="Could not load the group" data-testid="load-error">{(q.error).message}</Alert>;
  }
  if (!q.data) return <Text c="dimmed">Loading…</Text>;
  const g = q.data.group;
  return (
    <Stack gap="sm" data-testid="sweep" data-group={g.name}>
      <Group justify="space-between">
        <Title order={2}>Sweep: {g.name}</Title>
        <Button component={Link} to="/" variant="subtle" size="xs">Back to experiments</Button>
      </Group>
      <Paper withBorder p="sm">
        <Group justify="space-between" align="flex-start">
          <Stack gap={4} style={{ flex: 1 }}>
            <Text size="sm" data-testid="sweep-progress">
              {p.succeeded} of {p.total} succeeded · {p.failed} failed · {p.active} active
            </Text>
            <Progress.Root size="lg" maw={520}>
              {p.byState.map(([s, n]) => (
                <Tooltip key={s} label={`${n} ${s}`}>
                  <Progress.Section value={(n / Math.max(1, p.total)) * 100} color={statusColor(s)} />
                </Tooltip>
              ))}
            </Progress.Root>
            <Group gap={6}>
              {p.byState.map(([s, n]) => <Badge key={s} color={statusColor(s)} variant="light" data-testid="sweep-count" data-state={s}>{s} {n}</Badge>)}
            </Group>
          </Stack>
          <Group gap="xs">
            <Button size="xs" color="orange" disabled={failed.length === 0} loading={bulk.isPending && bulk.variables?.action === 'restart'}
              data-testid="restart-failed" onClick={() => bulk.mutate({ action: 'restart', ids: failed, title: 'Restart all failed' })}>
              Restart all failed ({failed.length})</Button>
            <Button size="xs" color="red" variant="light" disabled={rest.length === 0} loading={bulk.isPending && bulk.variables?.action === 'stop'}
              data-testid="stop-rest" onClick={() => bulk.mutate({ action: 'stop', ids: rest, title: 'Stop the rest' })}>
              Stop the rest ({rest.length})</Button>
          </Group>
        </Group>
      </Paper>
      {members.length === 0 ? <Text c="dimmed" data-testid="empty">This group has no experiments yet.</Text> : (
        <>
          <Group>
            <Select size="xs" label="Rows" data={varying} value={rowFlag} onChange={(v) => pick('rows', v)} data-testid="sweep-rows"
              placeholder={varying.length ? undefined : 'no flag varies'} allowDeselect={false} w={220} />
            <Select size="xs" label="Columns" data={varying.filter((f) => f !== rowFlag)} value={colFlag} onChange={(v) => pick('cols', v)}
              data-testid="sweep-cols" placeholder="(one column)" clearable w={220} />
            <Text size="xs" c="dimmed" mt={18}>{varying.length} flag{varying.length === 1 ? '' : 's'} vary among {members.length} members</Text>
          </Group>
          <Paper withBorder style={{ overflowX: 'auto' }}>
            <Table withColumnBorders data-testid="sweep-grid" style={{ width: 'auto' }}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th><Text size="xs" c="dimmed">{rowFlag ?? ''}{colFlag ? ` ↓ · ${colFlag} →` : ''}</Text></Table.Th>
                  {grid.cols.map((c) => <Table.Th key={c} data-testid="sweep-col"><Text size="xs" ff="monospace">{colFlag ? c : ''}</Text></Table.Th>)}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {grid.rows.map((r, ri) => (
                  <Table.Tr key={r} data-testid="sweep-row" data-value={r}>
                    <Table.Th><Text size="xs" ff="monospace">{r}</Text></Table.Th>
                    {grid.cols.map((c, ci) => (
                      <Table.Td key={c} miw={110} style={{ verticalAlign: 'top' }}>
                        <Stack gap={4}>{grid.cells[ri]![ci]!.map((e) => <CellChip key={e.id} e={e} />)}</Stack>
                      </Table.Td>
                    ))}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Paper>
          <Text size="sm" fw={600}>Jobs over time{members.length > TIMELINE_MEMBERS ? ` (first ${TIMELINE_MEMBERS} members)` : ''}</Text>
          <JobTimeline testId="group-timeline" lanes={members.slice(0, TIMELINE_MEMBERS).map((e, i) => ({
            lane: e.name, jobs: [...(timeline[i]?.data?.jobs ?? [])].reverse(),
          }))} />
        </>
      )}
      <Modal opened={summary !== null} onClose={() => setSummary(null)} title={summary?.title} data-testid="bulk-summary">
        <Text size="sm" mb="xs" data-testid="bulk-counts">{summary?.succeeded} succeeded, {summary?.failed} failed</Text>
        <Table fz="xs">
          <Table.Tbody>
            {summary?.items.map((i, n) => (
              <Table.Tr key={n} data-testid="bulk-item" data-ok={i.ok ? 'true' : 'false'}>
                <Table.Td>{i.experiment?.name ?? i.ref}</Table.Td>
                <Table.Td>{i.ok ? <Badge color="green" size="xs">ok</Badge> : <Badge color="red" size="xs">failed</Badge>}</Table.Td>
                <Table.Td>{i.detail}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Modal>
    </Stack>
  );
}
