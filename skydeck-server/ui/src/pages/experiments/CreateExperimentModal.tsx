import { Alert, Button, Checkbox, Code, Group, Modal, NumberInput, Select, SimpleGrid, Switch, Text, Textarea, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
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

/** The flags of the form's text (one `key=value` a line), or the first line's problem. */
export function textToFlags(text: string): { flags: Flags; error: string | null } {
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

interface Values {
  name: string;
  command: string;
  tool: string;
  branch: string;
  nodes: number;
  gpus: number;
  cloud: string | null;
  region: string | null;
  instanceType: string | null;
  spot: boolean;
  flags: string;
  start: boolean;
}

function initialValues(src: Experiment | null): Values {
  return {
    name: src ? `${src.name}.copy` : '',
    command: src?.base_command || 'lt',
    tool: src?.tool_path ?? '',
    branch: src?.git_branch ?? '',
    nodes: src?.nodes ?? 1,
    gpus: src?.gpus ?? 0,
    cloud: src?.resources.cloud ?? null,
    region: src?.resources.region ?? null,
    instanceType: src?.resources.instance_type ?? null,
    spot: src?.resources.spot ?? false,
    flags: src ? flagsToText(src.flags) : '',
    start: false,
  };
}

/** The form itself, mounted afresh for every request (so its initial values are the request's). */
function CreateForm({ request, onDone }: { request: CreateRequest; onDone: (e: Experiment) => void }) {
  const providers = useProviders();
  const client = useQueryClient();
  const src = request.source;
  const form = useForm<Values>({
    initialValues: initialValues(src),
    validate: {
      name: (v) => (v.trim() ? null : 'a name is needed'),
      flags: (v) => {
        const e = textToFlags(v).error;
        return e ? `Flags: ${e}` : null;
      },
    },
  });
  const v = form.getValues();
  const gpu = useQuery({
    queryKey: ['gpu-type', v.instanceType],
    queryFn: () => api.gpuType(v.instanceType!),
    enabled: !!v.instanceType,
    staleTime: Infinity,
  });
  const detected = v.instanceType && gpu.data?.gpu ? `${gpu.data.gpu.count} × ${gpu.data.gpu.model}` : null;
  const provider = providers.data?.providers.find((p) => p.cloud === v.cloud) ?? null;

  const create = useMutation({
    mutationFn: (values: Values) => {
      const body: Record<string, unknown> = {
        name: values.name, base_command: values.command, tool_path: values.tool || null, git_branch: values.branch || null,
        nodes: values.nodes, gpus: values.gpus, flags: textToFlags(values.flags).flags,
        resources: { cloud: values.cloud, region: values.region, instance_type: values.instanceType, spot: values.spot },
      };
      if (values.start) body.desired_state = 'RUNNING';
      return src ? api.duplicate(src.id, body)
        : api.createExperiment(request.groupId ? { ...body, group_id: request.groupId } : body);
    },
    onSuccess: (r) => onDone(r.experiment),
  });

  const chooseInstance = (type: string | null) => {
    form.setFieldValue('instanceType', type);
    if (!type) return;
    // the detected GPU count becomes the default; a failed lookup leaves the count as typed
    client.fetchQuery({ queryKey: ['gpu-type', type], queryFn: () => api.gpuType(type), staleTime: Infinity })
      .then((r) => { if (r.gpu && form.getValues().instanceType === type) form.setFieldValue('gpus', r.gpu.count); })
      .catch(() => undefined);
  };

  const parsed = textToFlags(v.flags);
  const preview = renderCommand({ base_command: v.command, gpus: v.gpus, nodes: v.nodes, git_branch: v.branch || null,
    tool_path: v.tool || null, name: v.name || '<name>', flags: parsed.flags });
  const error = create.error?.message ?? (form.errors.flags as string | undefined) ?? null;

  return (
    <form onSubmit={form.onSubmit((values) => create.mutate(values))}>
      <SimpleGrid cols={2}>
        <TextInput label="Name" required {...form.getInputProps('name')} data-testid="f-name"
          description="letters, digits, . _ -" />
        <TextInput label="Command" {...form.getInputProps('command')} data-testid="f-command" />
        <TextInput label="Tool path" {...form.getInputProps('tool')} />
        <TextInput label="Git branch" {...form.getInputProps('branch')} />
        <NumberInput label="Nodes" min={1} {...form.getInputProps('nodes')} />
        <NumberInput label="GPUs per node" min={0} {...form.getInputProps('gpus')} />
        <Select label="Cloud" clearable value={v.cloud}
          onChange={(c) => form.setValues({ cloud: c, region: null, instanceType: null })}
          data={(providers.data?.providers ?? []).map((p) => ({ value: p.cloud, label: p.display_name }))} />
        <Select label="Region" clearable searchable {...form.getInputProps('region')} data={provider?.regions ?? []}
          placeholder={provider?.regions[0] ?? 'any'} />
        <Select label="Instance type" clearable searchable value={v.instanceType} onChange={chooseInstance}
          data={provider?.instance_types ?? []} description={detected ? `detected GPU: ${detected}` : 'any'} />
        <Switch label="Spot capacity" {...form.getInputProps('spot', { type: 'checkbox' })} mt="lg" />
      </SimpleGrid>
      <Textarea label="Flags" description="one key=value per line; true/false and numbers are typed" autosize minRows={3}
        {...form.getInputProps('flags')} error={undefined} data-testid="f-flags" mt="sm"
        styles={{ input: { fontFamily: 'monospace' } }} />
      <Text size="sm" fw={500} mt="sm">Command</Text>
      <Code block data-testid="f-preview">{preview}</Code>
      {error && <Alert color="red" mt="sm" data-testid="f-error">{error}</Alert>}
      <Group justify="space-between" mt="md">
        <Checkbox label="Start immediately" {...form.getInputProps('start', { type: 'checkbox' })} data-testid="f-start" />
        <Button type="submit" loading={create.isPending} data-testid="f-submit">{src ? 'Duplicate' : 'Create'}</Button>
      </Group>
    </form>
  );
}

/** The create form, also used to duplicate with edits. */
export function CreateExperimentModal({ request, onClose, onDone }: {
  request: CreateRequest | null; onClose: () => void; onDone: (e: Experiment) => void;
}) {
  return (
    <Modal opened={request !== null} onClose={onClose} size="xl"
      title={request?.source ? `Duplicate ${request.source.name}` : 'New experiment'} data-testid="create-modal">
      {request && <CreateForm key={`${request.source?.id ?? 'new'}:${request.groupId ?? ''}`} request={request} onDone={onDone} />}
    </Modal>
  );
}
