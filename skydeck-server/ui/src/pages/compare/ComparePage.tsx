import { Alert, Badge, Button, Code, Group, Paper, Stack, Table, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueries, useQueryClient } from '@tanstack/react-query';
import { Fragment } from 'react';
import { useSearchParams } from 'react-router-dom';
import { api } from '../../api/client';
import type { Experiment, Job } from '../../api/types';
import { keys } from '../../data/live';
import { useRefetchInterval } from '../../data/queries';
import { commandWords, compareRows, driftChanges, fromExperiment, fromJob, parseCompareParams, type CompareItem } from './diff';

interface Loaded {
  experiment: Experiment;
  jobs: Job[];
}

/** Spec against the job it runs: what a restart would change, and the Restart button. */
function DriftCard({ experiment: e, jobs }: Loaded) {
  const client = useQueryClient();
  const active = jobs.find((j) => j.active);
  const restart = useMutation({
    mutationFn: () => api.restart(e.id),
    onSuccess: () => {
      notifications.show({ color: 'green', title: `Restarting ${e.name}`,
        message: 'Its active job is cancelled first, then the current spec launches.' });
      void client.invalidateQueries({ queryKey: keys.experiment(e.id) });
      void client.invalidateQueries({ queryKey: keys.groups });
    },
    onError: (err) => notifications.show({ color: 'red', title: `Could not restart ${e.name}`, message: (err).message }),
  });
  const changes = active ? driftChanges(e, active) : [];
  return (
    <Alert color="yellow" title={`${e.name}: its spec changed since job ${active?.id ?? '?'} launched`} data-testid="compare-drift"
      data-experiment={e.name}>
      {changes.length === 0 ? (
        <Text size="sm">The spec's generation is newer than the running job's, but flags, command and resources read the same
          (a change was undone, or only a field the job does not show changed).</Text>
      ) : (
        <Table fz="xs" withTableBorder maw={900} data-testid="drift-changes">
          <Table.Thead><Table.Tr><Table.Th>What</Table.Th><Table.Th>Spec now</Table.Th><Table.Th>Active job runs</Table.Th></Table.Tr></Table.Thead>
          <Table.Tbody>
            {changes.map((c) => (
              <Table.Tr key={c.what} data-testid="drift-change" data-what={c.what}>
                <Table.Td fw={600}>{c.what}</Table.Td>
                <Table.Td className="diff-new" style={{ wordBreak: 'break-all' }}>{c.spec ?? <Text span c="dimmed" size="xs">(not set)</Text>}</Table.Td>
                <Table.Td className="diff-old" style={{ wordBreak: 'break-all' }}>{c.running ?? <Text span c="dimmed" size="xs">(not set)</Text>}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <Button mt="sm" size="xs" color="orange" loading={restart.isPending} onClick={() => restart.mutate()}
        data-testid="compare-restart">Restart with the current spec</Button>
    </Alert>
  );
}

function Cell({ value, differs, command, others }: { value: string | null; differs: boolean; command: boolean; others: string[] }) {
  if (value === null) return <Text span size="xs" c="dimmed">(not set)</Text>;
  if (command) {
    return (
      <Code block style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all', fontSize: 11 }}>
        {commandWords(value, others).map((w, i) => (
          <Fragment key={i}>{i > 0 ? ' ' : ''}<span className={w.differs ? 'diff-word' : undefined}>{w.word}</span></Fragment>
        ))}
      </Code>
    );
  }
  return <Text span size="sm" fw={differs ? 600 : undefined} style={{ wordBreak: 'break-all' }}>{value}</Text>;
}

/**
 * Two or more experiments (`?ids=`) or jobs (`?jobs=`) side by side: outcome, flags, command and
 * resources, rows that differ highlighted (and only those, on request); a drifted experiment
 * shows what a restart would change.
 */
export function ComparePage() {
  const [params, setParams] = useSearchParams();
  const wanted = parseCompareParams(params);
  const onlyDiff = params.get('diff') === '1';
  const interval = useRefetchInterval();
  const exps = useQueries({
    queries: wanted.experiments.map((id) => ({
      queryKey: keys.compareExperiment(id),
      refetchInterval: interval,
      queryFn: async (): Promise<Loaded> => {
        const { experiment } = await api.experiment(id);
        const { jobs } = await api.experimentJobs(experiment.id, 20);
        return { experiment, jobs };
      },
    })),
  });
  const jobs = useQueries({
    queries: wanted.jobs.map((id) => ({ queryKey: keys.job(id), refetchInterval: interval, queryFn: () => api.job(id) })),
  });
  const errors = [...exps, ...jobs].map((q, i) => ({ q, ref: i < exps.length ? wanted.experiments[i] : wanted.jobs[i - exps.length] }))
    .filter((x) => x.q.error);
  const loaded = exps.map((q) => q.data).filter((x): x is Loaded => !!x);
  const items: CompareItem[] = [
    ...loaded.map((l) => fromExperiment(l.experiment, l.jobs[0], l.jobs.length)),
    ...jobs.map((q) => q.data?.job).filter((j): j is Job => !!j).map(fromJob),
  ];
  const rows = compareRows(items);
  const shown = onlyDiff ? rows.filter((r) => r.differs) : rows;
  const differing = rows.filter((r) => r.differs).length;
  const loading = [...exps, ...jobs].some((q) => q.isLoading);
  const total = wanted.experiments.length + wanted.jobs.length;

  if (total === 0) {
    return (
      <Stack>
        <Title order={2}>Compare</Title>
        <Text c="dimmed" data-testid="compare-empty">Select two or more experiments (the checkboxes on Experiments) or jobs (on Jobs)
          and press Compare.</Text>
      </Stack>
    );
  }
  return (
    <Stack gap="sm" data-testid="compare">
      <Group justify="space-between">
        <Title order={2}>Compare {total} {wanted.jobs.length && !wanted.experiments.length ? 'jobs' : 'experiments'}</Title>
        <Group>
          <Text size="sm" c="dimmed" data-testid="compare-summary">{differing} of {rows.length} rows differ</Text>
          <Button size="xs" variant={onlyDiff ? 'filled' : 'light'} data-testid="only-differences" onClick={() => {
            const next = new URLSearchParams(params);
            if (onlyDiff) next.delete('diff');
            else next.set('diff', '1');
            setParams(next, { replace: true });
          }}>{onlyDiff ? 'Show all rows' : 'Only differences'}</Button>
        </Group>
      </Group>
      {errors.map(({ q, ref }) => (
        <Alert key={ref} color="red" title={`Could not load ${ref}`} data-testid="compare-error">{(q.error as Error).message}</Alert>
      ))}
      {loaded.filter((l) => l.experiment.drifted).map((l) => <DriftCard key={l.experiment.id} {...l} />)}
      {loading ? <Text c="dimmed" data-testid="compare-loading">Loading {total} side by side…</Text> : (
        <Paper withBorder style={{ overflowX: 'auto' }}>
          <Table fz="sm" data-testid="compare-table" style={{ tableLayout: 'fixed', minWidth: 180 + items.length * 240 }}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th w={180} />
                {items.map((i) => (
                  <Table.Th key={i.key} data-testid="compare-column">
                    <Text span size="sm" fw={600}>{i.title}</Text>
                    <Badge ml={6} size="xs" variant="light">{i.kind}</Badge>
                  </Table.Th>
                ))}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {shown.map((r, n) => (
                <Fragment key={`${r.section}:${r.label}`}>
                  {(n === 0 || shown[n - 1]!.section !== r.section) && (
                    <Table.Tr><Table.Td colSpan={items.length + 1} bg="var(--mantine-color-default-hover)">
                      <Text size="xs" fw={700} tt="uppercase" c="dimmed">{r.section}</Text></Table.Td></Table.Tr>
                  )}
                  <Table.Tr data-testid="compare-row" data-section={r.section} data-label={r.label}
                    data-differs={r.differs ? 'true' : 'false'} className={r.differs ? 'diff-row' : undefined}>
                    <Table.Td><Text size="xs" ff="monospace" fw={r.differs ? 700 : undefined}>{r.label}</Text></Table.Td>
                    {r.values.map((v, i) => (
                      <Table.Td key={i} data-testid="compare-cell">
                        <Cell value={v} differs={r.differs} command={r.section === 'Command'}
                          others={r.values.filter((_, j) => j !== i).map((x) => x ?? '')} />
                      </Table.Td>
                    ))}
                  </Table.Tr>
                </Fragment>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
      )}
    </Stack>
  );
}
