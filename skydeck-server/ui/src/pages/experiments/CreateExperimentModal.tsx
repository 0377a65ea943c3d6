import { Alert, Button, Checkbox, Code, Group, Modal, NumberInput, Select, SimpleGrid, Switch, Text, Textarea, TextInput } from '@mantine/core';
import { useEffect, useMemo, useState } from 'react';
import { api } from '../../api/client';
import type { Experiment, Flags } from '../../api/types';
import { useProviders } from '../../data/queries';
import { renderCommand } from '../../lib/command';
import { parseFlagValue } from '../../lib/flags';

export interface CreateRequest {
  /** Duplicating this experiment (null: a new one). */
  source: Experiment | null;
  groupId: number | null;
}

function flagsToText(flags: Flags): string {
  return Object.entries(flags).map(([k, v]) => `${k}=${String(v)}`).join('\n');
}

function textToFlags(text: string): { flags: Flags; error: string | null } {
  const flags: Flags = {};
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) return { flags, error: `line ${i + 1}: write key=value` };
    const key = line.slice(0, eq).trim();
    try {
      flags[key] = parseFlagValue(line.slice(eq + 1), key);
    } catch (e) {
      return { flags, error: `line ${i + 1}: ${(e as Error).message}` };
    }
  }
  return { flags, error: null };
}

/** The create form, also used to duplicate with edits. */
export function CreateExperimentModal({ request, onClose, onDone }: {
  request: CreateRequest | null; onClose: () => void; onDone: (e: Experiment) => void;
}) {
  const providers = useProviders();
  const src = request?.source ?? null;
  const [name, setName] = useState('');
  const [command, setCommand] = useState('lt');
  const [tool, setTool] = useState('');
  const [branch, setBranch] = useState('');
  const [nodes, setNodes] = useState<number>(1);
  const [gpus, setGpus] = useState<number>(0);
  const [cloud, setCloud] = useState<string | null>(null);
  const [region, setRegion] = useState<string | null>(null);
  const [instanceType, setInstanceType] = useState<string | null>(null);
  const [spot, setSpot] = useState(false);
  const [flagText, setFlagText] = useState('');
  const [start, setStart] = useState(false);
  const [gpu, setGpu] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!request) return;
    setName(src ? `${src.name}.copy` : '');
    setCommand(src?.base_command ?? 'lt');
    setTool(src?.tool_path ?? '');
    setBranch(src?.git_branch ?? '');
    setNodes(src?.nodes ?? 1);
    setGpus(src?.gpus ?? 0);
    setCloud(src?.resources.cloud ?? null);
    setRegion(src?.resources.region ?? null);
    setInstanceType(src?.resources.instance_type ?? null);
    setSpot(src?.resources.spot ?? false);
    setFlagText(src ? flagsToText(src.flags) : '');
    setStart(false);
    setError(null);
  }, [request, src]);

  const provider = providers.data?.providers.find((p) => p.cloud === cloud) ?? null;
  useEffect(() => {
    if (!instanceType) {
      setGpu(null);
      return;
    }
    let live = true;
    api.gpuType(instanceType).then((r) => {
      if (!live) return;
      setGpu(r.gpu ? `${r.gpu.count} × ${r.gpu.model}` : null);
      if (r.gpu) setGpus(r.gpu.count);
    }).catch(() => setGpu(null));
    return () => { live = false; };
  }, [instanceType]);

  const parsed = textToFlags(flagText);
  const preview = useMemo(() => renderCommand({ base_command: command, gpus, nodes, git_branch: branch || null,
    tool_path: tool || null, name: name || '<name>', flags: parsed.flags }), [command, gpus, nodes, branch, tool, name, parsed.flags]);

  const submit = async () => {
    if (parsed.error) {
      setError(`Flags: ${parsed.error}`);
      return;
    }
    setBusy(true);
    setError(null);
    const body: Record<string, unknown> = {
      name, base_command: command, tool_path: tool || null, git_branch: branch || null, nodes, gpus,
      resources: { cloud, region, instance_type: instanceType, spot }, flags: parsed.flags,
    };
    if (start) body.desired_state = 'RUNNING';
    try {
      const r = src ? await api.duplicate(src.id, body)
        : await api.createExperiment(request?.groupId ? { ...body, group_id: request.groupId } : body);
      onDone(r.experiment);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal opened={request !== null} onClose={onClose} size="xl"
      title={src ? `Duplicate ${src.name}` : 'New experiment'} data-testid="create-modal">
      <SimpleGrid cols={2}>
        <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} data-testid="f-name"
          description="letters, digits, . _ -" />
        <TextInput label="Command" value={command} onChange={(e) => setCommand(e.currentTarget.value)} data-testid="f-command" />
        <TextInput label="Tool path" value={tool} onChange={(e) => setTool(e.currentTarget.value)} />
        <TextInput label="Git branch" value={branch} onChange={(e) => setBranch(e.currentTarget.value)} />
        <NumberInput label="Nodes" min={1} value={nodes} onChange={(v) => setNodes(Number(v) || 1)} />
        <NumberInput label="GPUs per node" min={0} value={gpus} onChange={(v) => setGpus(Number(v) || 0)} />
        <Select label="Cloud" clearable value={cloud} onChange={(v) => { setCloud(v); setRegion(null); setInstanceType(null); }}
          data={(providers.data?.providers ?? []).map((p) => ({ value: p.cloud, label: p.display_name }))} />
        <Select label="Region" clearable searchable value={region} onChange={setRegion} data={provider?.regions ?? []}
          placeholder={provider?.regions[0] ?? 'any'} />
        <Select label="Instance type" clearable searchable value={instanceType} onChange={setInstanceType}
          data={provider?.instance_types ?? []} description={gpu ? `detected GPU: ${gpu}` : 'any'} />
        <Switch label="Spot capacity" checked={spot} onChange={(e) => setSpot(e.currentTarget.checked)} mt="lg" />
      </SimpleGrid>
      <Textarea label="Flags" description="one key=value per line; true/false and numbers are typed" autosize minRows={3}
        value={flagText} onChange={(e) => setFlagText(e.currentTarget.value)} data-testid="f-flags" mt="sm"
        styles={{ input: { fontFamily: 'monospace' } }} />
      <Text size="sm" fw={500} mt="sm">Command</Text>
      <Code block data-testid="f-preview">{preview}</Code>
      {error && <Alert color="red" mt="sm" data-testid="f-error">{error}</Alert>}
      <Group justify="space-between" mt="md">
        <Checkbox label="Start immediately" checked={start} onChange={(e) => setStart(e.currentTarget.checked)} data-testid="f-start" />
        <Button onClick={() => void submit()} loading={busy} data-testid="f-submit">{src ? 'Duplicate' : 'Create'}</Button>
      </Group>
    </Modal>
  );
}
