import { ActionIcon, Button, Checkbox, Group, Pagination, Table, Text, TextInput, Title, Tooltip } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useDebouncedCallback } from '@mantine/hooks';
import { useEffect, useRef, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router-dom';
import { api } from '../../api/client';
import type { Job } from '../../api/types';
import { keys } from '../../data/live';
import { useHealth, useMe, useRefetchInterval } from '../../data/queries';
import { foreignBackendNote } from '../../lib/backend';
import { QueryState } from '../../components/QueryState';
import { StatusBadge } from '../../components/StatusBadge';
import { JsonDrawer } from '../../components/JsonDrawer';
import { formatDuration, formatRelative, formatTime } from '../../lib/format';
import { JOB_PAGE_SIZE, jobFiltersToApi, jobFiltersToParams, parseJobFilters, type JobFilters } from '../../lib/urlFilters';
import { LogDrawer } from './LogDrawer';
import { useNow } from '../../hooks/useNow';

const REMEMBER = 'skydeck.jobFilters';

/** How long it ran (or has been running, by the ticking `now`). */
function duration(j: Job, now: number): string {
  if (!j.started_at) return '-';
  const end = j.ended_at ? Date.parse(j.ended_at) : now;
  return formatDuration((end - Date.parse(j.started_at)) / 1000);
}

export function JobsPage() {
  const [params, setParams] = useSearchParams();
  const filters = parseJobFilters(params);
  const interval = useRefetchInterval();
  const me = useMe().data;
  const running = useHealth().data?.backend.kind;
  const client = useQueryClient();
  const [logJob, setLogJob] = useState<Job | null>(null);
  const [raw, setRaw] = useState<Job | null>(null);
  const [search, setSearch] = useState(filters.q);
  const [experiment, setExperiment] = useState(filters.experiment);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const navigate = useNavigate();
  // the inputs follow the URL when it changes from elsewhere (back/forward, a restored filter):
  // adjusted while rendering, as React advises, instead of in an effect that renders twice
  const [urlSeen, setUrlSeen] = useState({ q: filters.q, experiment: filters.experiment });
  if (urlSeen.q !== filters.q || urlSeen.experiment !== filters.experiment) {
    setUrlSeen({ q: filters.q, experiment: filters.experiment });
    setSearch(filters.q);
    setExperiment(filters.experiment);
  }

  // the filters live in the URL; arriving without any restores the last ones used
  const arrived = useRef(false);
  useEffect(() => {
    if (arrived.current) return;
    arrived.current = true;
    if (params.toString() === '') {
      const saved = localStorage.getItem(REMEMBER);
      if (saved) setParams(new URLSearchParams(saved), { replace: true });
    } else {
      localStorage.setItem(REMEMBER, params.toString());
    }
  }, [params, setParams]);

  const set = (f: Partial<JobFilters>) => {
    const next = jobFiltersToParams({ ...filters, page: 0, ...f });
    localStorage.setItem(REMEMBER, next.toString());
    setParams(next);
  };

  const q = useQuery({
    queryKey: [...keys.jobs, jobFiltersToApi(filters).toString()],
    queryFn: () => api.jobs(jobFiltersToApi(filters)),
    refetchInterval: interval,
  });
  const cancel = useMutation({
    mutationFn: (id: string) => api.cancelJob(id),
    onSuccess: (r) => {
      notifications.show({ color: 'green', message: `Cancel requested for ${r.job.id}` });
      void client.invalidateQueries({ queryKey: keys.jobs });
    },
    onError: (e) => notifications.show({ color: 'red', title: 'Cancel failed', message: (e).message }),
  });
  const jobs = q.data?.jobs ?? [];
  const total = q.data?.total ?? 0;
  const now = useNow(1000, jobs.some((j) => j.active));
  // typing filters as it goes: the URL (and the query) follow 300 ms after the last key
  const applySearch = useDebouncedCallback((value: string) => set({ q: value }), 300);
  const applyExperiment = useDebouncedCallback((value: string) => set({ experiment: value.trim() }), 300);

  return (
    <>
      <Title order={2} mb="sm">Jobs</Title>
      <Group mb="sm">
        <TextInput placeholder="Search jobs" value={search} data-testid="jobs-search"
          onChange={(e) => { setSearch(e.currentTarget.value); applySearch(e.currentTarget.value); }}
          onKeyDown={(e) => { if (e.key === 'Enter') { applySearch.cancel(); set({ q: search }); } }} />
        <Checkbox label="Active only" checked={filters.active} data-testid="jobs-active"
          onChange={(e) => set({ active: e.currentTarget.checked })} />
        <Checkbox label="Orphaned" checked={filters.orphaned} onChange={(e) => set({ orphaned: e.currentTarget.checked })} />
        {me?.user && <Checkbox label={`Mine (${me.user})`} checked={filters.mine} data-testid="jobs-mine"
          onChange={(e) => set({ mine: e.currentTarget.checked })} />}
        <TextInput placeholder="Experiment (name or id)" value={experiment}
          onChange={(e) => { setExperiment(e.currentTarget.value); applyExperiment(e.currentTarget.value); }}
          onKeyDown={(e) => { if (e.key === 'Enter') { applyExperiment.cancel(); set({ experiment: experiment.trim() }); } }} />
        <Text size="sm" c="dimmed" data-testid="jobs-total">{total} jobs</Text>
        {picked.size > 0 && (
          <Group gap={4}>
            <Button size="xs" disabled={picked.size < 2} data-testid="jobs-compare"
              onClick={() => navigate(`/compare?jobs=${[...picked].map(encodeURIComponent).join(',')}`)}>
              Compare {picked.size}</Button>
            <Button size="xs" variant="subtle" onClick={() => setPicked(new Set())}>Clear</Button>
          </Group>
        )}
      </Group>
      <QueryState loading={q.isLoading} error={q.error} hasData={!!q.data} empty={jobs.length === 0}
        emptyHint="No jobs match: clear the filters, or start an experiment." retry={() => void q.refetch()}>
        <Table.ScrollContainer minWidth={900}>
        <Table striped highlightOnHover data-testid="jobs-table" className="one-line">
          <Table.Thead>
            <Table.Tr>
              <Table.Th w={30} /><Table.Th>Job</Table.Th><Table.Th>Experiment</Table.Th><Table.Th>Status</Table.Th><Table.Th>Backend</Table.Th>{me?.user && <Table.Th>By</Table.Th>}
              <Table.Th>Started</Table.Th><Table.Th>Duration</Table.Th><Table.Th>Exit</Table.Th><Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {jobs.map((j) => (
              <Table.Tr key={j.id} data-testid="job-row" data-job={j.id}>
                <Table.Td><Checkbox size="xs" aria-label={`select ${j.id}`} data-testid="job-select" checked={picked.has(j.id)}
                  onChange={() => setPicked((prev) => {
                    const next = new Set(prev);
                    if (next.has(j.id)) next.delete(j.id);
                    else next.add(j.id);
                    return next;
                  })} /></Table.Td>
                <Table.Td><Text size="xs" ff="monospace">{j.id}</Text></Table.Td>
                <Table.Td className="clip" title={j.experiment_name} data-testid="job-experiment">{j.experiment_name}</Table.Td>
                <Table.Td className="clip" title={j.failure_reason ?? undefined}>
                  <Group gap={6} wrap="nowrap"><div style={{ flex: 'none' }}><StatusBadge status={j.status} /></div>{j.failure_reason &&
                    <Text span size="xs" c="red" data-testid="job-failure-reason" truncate title={j.failure_reason}>{j.failure_reason}</Text>}</Group></Table.Td>
                <Table.Td className="clip"><Text span size="xs">{j.backend}{j.backend_job_id && j.backend_job_id !== j.id ? `:${j.backend_job_id}` : ''}</Text>
                  {foreignBackendNote(j.backend, running) && <Tooltip label={foreignBackendNote(j.backend, running)} multiline w={280}>
                    <Text span size="xs" c="orange" ml={6} data-testid="foreign-backend">{j.backend} job, not followed here</Text>
                  </Tooltip>}</Table.Td>
                {me?.user && <Table.Td><Text size="xs" data-testid="job-launched-by">{j.launched_by ?? '-'}</Text></Table.Td>}
                <Table.Td title={formatRelative(j.started_at)}>{formatTime(j.started_at)}</Table.Td>
                <Table.Td data-testid="job-duration">{duration(j, now)}</Table.Td>
                <Table.Td>{j.exit_code ?? '-'}</Table.Td>
                <Table.Td>
                  <Group gap={4} wrap="nowrap">
                    <Button size="compact-xs" variant="light" onClick={() => setLogJob(j)} data-testid="open-log"
                      disabled={!j.backend_job_id}>Log</Button>
                    {j.active && <Button size="compact-xs" color="red" variant="light"
                      onClick={() => cancel.mutate(j.id)}>Cancel</Button>}
                    <Tooltip label="Raw JSON"><ActionIcon size="sm" variant="subtle" onClick={() => setRaw(j)}>{'{}'}</ActionIcon></Tooltip>
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        </Table.ScrollContainer>
        {total > JOB_PAGE_SIZE && (
          <Pagination mt="sm" total={Math.ceil(total / JOB_PAGE_SIZE)} value={filters.page + 1}
            onChange={(p) => setParams(jobFiltersToParams({ ...filters, page: p - 1 }))} />
        )}
      </QueryState>
      <LogDrawer job={logJob} onClose={() => setLogJob(null)} />
      <JsonDrawer value={raw} title="Job" onClose={() => setRaw(null)} />
    </>
  );
}
