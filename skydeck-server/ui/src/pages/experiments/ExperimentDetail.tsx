import { ActionIcon, Alert, Anchor, Autocomplete, Badge, Button, Code, CopyButton, Group, NumberInput, Paper, SimpleGrid, Stack, Stepper, Table, Text, Textarea, Tooltip } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../../api/client';
import { Link } from 'react-router-dom';
import type { Experiment, Flags, Job } from '../../api/types';
import { EpochChart } from '../../components/charts/EpochChart';
import { JobTimeline } from '../../components/charts/JobTimeline';
import { useNow } from '../../hooks/useNow';
import { keys } from '../../data/live';
import { useCheckpoints, useExperimentEvents, useExperimentJobs, useFlagSchema, useHealth } from '../../data/queries';
import { foreignBackendNote } from '../../lib/backend';
import { StatusBadge } from '../../components/StatusBadge';
import { formatBytes, formatDuration, formatRelative, formatTime } from '../../lib/format';
import { flagChanges, flagText, parseFlagValue } from '../../lib/flags';

const STAGES = ['QUEUED', 'SUBMITTING', 'WAITING_FOR_RESOURCES', 'PROVISIONING', 'RUNNING'];

/**
 * The launch stepper's state: the step reached, and whether it ended there in failure. A job that
 * failed (or was cancelled) stops at the stage it had reached — that step shows as failed and the
 * later ones as not done; only a job that succeeded ticks every step.
 */
export function stepperState(stage: string | null | undefined, job: Pick<Job, 'active' | 'status'> | undefined,
  reached: string | null | undefined): { active: number; failedAt: number | null } {
  if (job && !job.active) {
    if (job.status === 'SUCCEEDED') return { active: STAGES.length, failedAt: null };
    const at = Math.max(0, STAGES.indexOf(reached ?? ''));
    return { active: at, failedAt: at };
  }
  return { active: Math.max(0, STAGES.indexOf(stage ?? '')), failedAt: null };
}

function LaunchProgress({ e, job }: { e: Experiment; job: Job | undefined }) {
  const stage = job?.active ? job.stage : e.status?.stage;
  const ended = job && !job.active;
  // the stage a finished job had reached: a job that started had got to RUNNING
  const reached = ended ? (job.started_at ? 'RUNNING' : job.submitted_at ? 'WAITING_FOR_RESOURCES' : 'SUBMITTING') : null;
  const { active, failedAt } = stepperState(stage, job, reached);
  const now = useNow(1000, !!job?.active);
  const reason = job?.failure_reason ?? (job?.status === 'FAILED' ? e.status?.state_reason : null);
  return (
    <Stack gap={4} data-testid="launch-progress" data-failed={failedAt !== null ? 'true' : 'false'}>
      <Stepper active={active} size="xs" iconSize={20}>
        {STAGES.map((s, i) => (
          <Stepper.Step key={s} label={s.replace(/_/g, ' ').toLowerCase()} data-testid="launch-step"
            data-step-state={failedAt === i ? 'failed' : i < active ? 'done' : i === active && !ended ? 'current' : 'todo'}
            color={failedAt === i ? 'red' : undefined}
            icon={failedAt === i ? '✕' : undefined}
            description={failedAt === i ? job?.status.toLowerCase() : undefined} />
        ))}
      </Stepper>
      <Text size="xs" c="dimmed" data-testid="launch-since">
        {ended ? `last job ${job.status.toLowerCase()} ${formatRelative(job.ended_at, now)}`
          : job ? `${(stage ?? '').toLowerCase()} for ${formatDuration((now - Date.parse(job.stage_since)) / 1000)}`
            : 'no job yet'}
        {job?.active && job.details ? ` · ${job.details}` : ''}
        {e.status?.state_reason && !reason ? ` · ${e.status.state_reason}` : ''}
      </Text>
      {reason && <Text size="xs" c="red" data-testid="failure-reason">{reason}</Text>}
    </Stack>
  );
}

function ConfigEditor({ e }: { e: Experiment }) {
  const client = useQueryClient();
  const schema = useFlagSchema();
  const [flags, setFlags] = useState<[string, string][]>(() => Object.entries(e.flags).map(([k, v]) => [k, flagText(v)]));
  const [nodes, setNodes] = useState(e.nodes);
  const [gpus, setGpus] = useState(e.gpus);
  const [description, setDescription] = useState(e.description ?? '');
  const [busy, setBusy] = useState(false);
  const known = (schema.data?.flags ?? []).map((f) => f.key);
  const save = async () => {
    setBusy(true);
    try {
      // unchanged flags keep their exact stored value: only what was edited is sent
      const next: Flags = {};
      for (const [k, v] of flags) {
        const key = k.trim();
        if (key) next[key] = key in e.flags && flagText(e.flags[key]!) === v ? e.flags[key]! : parseFlagValue(v, key);
      }
      const changes = flagChanges(e.flags, next);
      await api.patchExperiment(e.id, { version: e.version, ...changes, nodes, gpus, description: description || null });
      notifications.show({ color: 'green', message: `Saved ${e.name}` });
      void client.invalidateQueries({ queryKey: keys.groups });
    } catch (err) {
      notifications.show({ color: 'red', title: 'Not saved', message: (err as Error).message });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Stack gap={6} data-testid="config">
      {flags.map(([k, v], i) => (
        <Group key={i} gap={4} wrap="nowrap">
          <Autocomplete size="xs" w={220} value={k} data={known} placeholder="flag"
            onChange={(nk) => setFlags(flags.map((f, j) => (j === i ? [nk, f[1]] : f)))} />
          <Autocomplete size="xs" w={140} value={v}
            data={(schema.data?.flags.find((f) => f.key === k)?.observed_values ?? []).map(String)}
            onChange={(nv) => setFlags(flags.map((f, j) => (j === i ? [f[0], nv] : f)))} />
          <ActionIcon size="sm" variant="subtle" color="red" onClick={() => setFlags(flags.filter((_, j) => j !== i))}>×</ActionIcon>
        </Group>
      ))}
      <Group gap={4}>
        <Button size="compact-xs" variant="light" onClick={() => setFlags([...flags, ['', '']])}>Add flag</Button>
      </Group>
      <Group gap={6}>
        <NumberInput size="xs" w={90} label="Nodes" min={1} value={nodes} onChange={(x) => setNodes(Number(x) || 1)} />
        <NumberInput size="xs" w={90} label="GPUs" min={0} value={gpus} onChange={(x) => setGpus(Number(x) || 0)} />
      </Group>
      <Textarea size="xs" label="Description" autosize value={description} onChange={(x) => setDescription(x.currentTarget.value)} />
      <Button size="xs" w="fit-content" onClick={() => void save()} loading={busy} data-testid="save-config">Save</Button>
    </Stack>
  );
}

/** The expanded row: configuration, progress, jobs, checkpoints, command, events. */
export function ExperimentDetail({ e, onDuplicate, onDelete, onRaw, onRestart }: {
  e: Experiment; onDuplicate: () => void; onDelete: () => void; onRaw: () => void; onRestart: () => void;
}) {
  const jobs = useExperimentJobs(e.id);
  const running = useHealth().data?.backend.kind;
  const checkpoints = useCheckpoints(e.id);
  const events = useExperimentEvents(e.id);
  const list = jobs.data?.jobs ?? [];
  const now = useNow(1000, list.some((j) => j.active));
  const cps = checkpoints.data?.checkpoints ?? [];
  return (
    <Paper p="sm" m={4} withBorder data-testid="detail" data-experiment={e.name}>
      <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="md">
        <Stack gap="sm">
          {e.drifted && (
            <Alert color="yellow" p="xs" data-testid="drift"
              title="Its running job has an older configuration">
              <Text size="xs">Editing a running experiment does not relaunch it. Restart to run the current configuration.{' '}
                <Anchor component={Link} to={`/compare?ids=${e.id}`} size="xs" data-testid="drift-compare">See what changed</Anchor></Text>
            </Alert>
          )}
          <Group gap="xs">
            <Button size="compact-xs" variant={e.drifted ? 'filled' : 'light'} color="orange" onClick={onRestart}
              data-testid="restart" title="Cancel the active job, if any, and launch this configuration once">
              Restart
            </Button>
            <Button size="compact-xs" variant="light" onClick={onDuplicate} data-testid="duplicate">Duplicate…</Button>
            <Button size="compact-xs" variant="light" color="red" onClick={onDelete} data-testid="delete">Delete</Button>
            <Button size="compact-xs" variant="subtle" onClick={onRaw}>Raw JSON</Button>
          </Group>
          <Text size="sm" fw={600}>Configuration</Text>
          <ConfigEditor key={e.version} e={e} />
          <Text size="sm" fw={600}>Command</Text>
          <Group gap={4} wrap="nowrap" align="flex-start">
            <Code block style={{ flex: 1, whiteSpace: 'pre-wrap', wordBreak: 'break-all' }} data-testid="command">{e.command}</Code>
            <CopyButton value={e.command}>
              {({ copied, copy }) => <Button size="compact-xs" onClick={copy}>{copied ? 'Copied' : 'Copy'}</Button>}
            </CopyButton>
          </Group>
        </Stack>
        <Stack gap="sm">
          <Text size="sm" fw={600}>Launch progress</Text>
          <LaunchProgress e={e} job={list[0]} />
          <Text size="sm" fw={600}>Jobs ({list.length})</Text>
          <JobTimeline lanes={[...list].reverse().map((j) => ({ lane: `attempt ${j.attempt} · ${j.id}`, jobs: [j] }))} />
          <Table fz="xs" data-testid="detail-jobs">
            <Table.Tbody>
              {list.slice(0, 8).map((j) => (
                <Table.Tr key={j.id}>
                  <Table.Td><Text size="xs" ff="monospace">{j.id}</Text></Table.Td>
                  <Table.Td><StatusBadge status={j.status} />{j.failure_reason &&
                    <Text size="xs" c="red" data-testid="job-failure-reason">{j.failure_reason}</Text>}{foreignBackendNote(j.backend, running) &&
                    <Tooltip label={foreignBackendNote(j.backend, running)} multiline w={280}>
                      <Text size="xs" c="orange">{j.backend} job, not followed here</Text>
                    </Tooltip>}</Table.Td>
                  <Table.Td>{formatTime(j.started_at)}</Table.Td>
                  <Table.Td data-testid="job-duration">{j.started_at ? formatDuration(((j.ended_at ? Date.parse(j.ended_at) : now) - Date.parse(j.started_at)) / 1000) : '-'}</Table.Td>
                  <Table.Td>exit {j.exit_code ?? '-'}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <Text size="sm" fw={600}>Checkpoints ({cps.length})</Text>
          <EpochChart points={cps.map((c) => ({ epoch: c.epoch, time: c.created_at }))} />
          <Table fz="xs" data-testid="detail-checkpoints">
            <Table.Tbody>
              {cps.slice(0, 6).map((c) => (
                <Table.Tr key={c.epoch}>
                  <Table.Td><Badge size="xs" variant="light">epoch {c.epoch}</Badge></Table.Td>
                  <Table.Td><Tooltip label={c.model_path}><Text size="xs" truncate maw={260}>{c.model_path}</Text></Tooltip></Table.Td>
                  <Table.Td>{formatBytes(c.size_bytes)}</Table.Td>
                  <Table.Td>{formatRelative(c.created_at)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <Text size="sm" fw={600}>Events</Text>
          <Stack gap={2} mah={160} style={{ overflowY: 'auto' }} data-testid="detail-events">
            {[...(events.data?.events ?? [])].reverse().slice(0, 50).map((ev) => (
              <Text key={ev.seq} size="xs" c={ev.success ? undefined : 'red'}>
                <Text span c="dimmed" size="xs">{formatTime(ev.time)} </Text>{ev.message}
              </Text>
            ))}
          </Stack>
        </Stack>
      </SimpleGrid>
    </Paper>
  );
}
