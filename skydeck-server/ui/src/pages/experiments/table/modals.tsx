import { Badge, Button, Group, Modal, Table, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { modals } from '@mantine/modals';
import { useState } from 'react';
import type { BulkItem } from '../../../api/types';

/** A name typed into a modal; the server's refusal (a taken name: 409) shows under the field. */
function NameForm({ initial, label, submitLabel, save, onDone }: {
  initial: string; label: string; submitLabel: string; save: (name: string) => Promise<unknown>; onDone: () => void;
}) {
  const form = useForm({ initialValues: { name: initial }, validate: { name: (v) => (v.trim() ? null : 'a name is needed') } });
  const [busy, setBusy] = useState(false);
  const submit = form.onSubmit(({ name }) => {
    setBusy(true);
    save(name.trim()).then(onDone, (err: Error) => form.setFieldError('name', err.message)).finally(() => setBusy(false));
  });
  return (
    <form onSubmit={submit}>
      <TextInput label={label} data-autofocus data-testid="name-input" {...form.getInputProps('name')} />
      <Group justify="flex-end" mt="md">
        <Button variant="default" onClick={onDone}>Cancel</Button>
        <Button type="submit" loading={busy} data-testid="name-submit">{submitLabel}</Button>
      </Group>
    </form>
  );
}

/** Asks for a group's name (new or renamed) in a modal and saves it with `save`. */
export function openGroupNameModal(opts: { title: string; initial?: string; submitLabel: string; save: (name: string) => Promise<unknown> }) {
  const id = modals.open({
    title: opts.title,
    children: <NameForm initial={opts.initial ?? ''} label="Group name" submitLabel={opts.submitLabel} save={opts.save}
      onDone={() => modals.close(id)} />,
  });
}

/** Confirms a change that touches every member of a group, saying how many change. */
export function confirmGroupChange(opts: { title: string; message: string; confirm: string; onConfirm: () => void; danger?: boolean }) {
  modals.openConfirmModal({
    title: opts.title,
    children: <Text size="sm" data-testid="confirm-text">{opts.message}</Text>,
    labels: { confirm: opts.confirm, cancel: 'Cancel' },
    confirmProps: { color: opts.danger ? 'red' : undefined, 'data-testid': 'confirm' } as never,
    onConfirm: opts.onConfirm,
  });
}

/** Per-item outcome of a bulk action (or a group-wide flag edit). */
export function BulkResultModal({ result, onClose }: { result: { action: string; items: BulkItem[] } | null; onClose: () => void }) {
  return (
    <Modal opened={result !== null} onClose={onClose} title={result?.action ?? ''} data-testid="bulk-summary">
      <Text size="sm" mb="xs">{result?.items.filter((i) => i.ok).length} of {result?.items.length} done</Text>
      <Table fz="xs">
        <Table.Tbody>
          {result?.items.map((i, n) => (
            <Table.Tr key={n}><Table.Td>{i.experiment?.name ?? i.ref}</Table.Td>
              <Table.Td>{i.ok ? <Badge color="green" size="xs">ok</Badge> : <Badge color="red" size="xs">failed</Badge>}</Table.Td>
              <Table.Td>{i.detail}</Table.Td></Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Modal>
  );
}
