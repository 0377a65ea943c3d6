import { Button } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { api } from '../../../api/client';
import type { BulkItem, DesiredState, Experiment, ExperimentPage, FlagValue, GroupSummaries } from '../../../api/types';
import { keys } from '../../../data/live';

const fail = (title: string) => (err: Error) => notifications.show({ color: 'red', title, message: err.message });

/** Everything a change to experiments or groups can make stale: lists, facets, groups, the full list. */
export function invalidateLists(client: QueryClient): Promise<void> {
  return Promise.all([
    client.invalidateQueries({ queryKey: keys.experimentLists }),
    client.invalidateQueries({ queryKey: keys.groups }),
  ]).then(() => undefined);
}

/** Applies `change` to the experiment wherever a cached page holds it; returns how to undo that. */
function patchPages(client: QueryClient, id: number, change: (e: Experiment) => Experiment): () => void {
  const before = client.getQueriesData<ExperimentPage>({ queryKey: ['experiments', 'page'] });
  for (const [key, page] of before) {
    if (!page?.experiments.some((e) => e.id === id)) continue;
    client.setQueryData<ExperimentPage>(key, { ...page, experiments: page.experiments.map((e) => (e.id === id ? change(e) : e)) });
  }
  return () => { for (const [key, page] of before) client.setQueryData(key, page); };
}

/**
 * An optimistic change of one experiment: shown at once in every page, undone (with a
 * notification) when the server refuses, and the lists refetched either way.
 */
function useOptimistic<V>(title: (e: Experiment) => string, send: (e: Experiment, v: V) => Promise<unknown>,
  apply: (e: Experiment, v: V) => Experiment) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ e, v }: { e: Experiment; v: V }) => send(e, v),
    onMutate: async ({ e, v }) => {
      await client.cancelQueries({ queryKey: ['experiments', 'page'] });
      return { undo: patchPages(client, e.id, (x) => apply(x, v)) };
    },
    onError: (err, { e }, ctx) => {
      ctx?.undo();
      fail(title(e))(err);
    },
    onSettled: () => invalidateLists(client),
  });
}

/** The writes of the experiments table, each through a mutation with notifications and invalidation. */
export function useExperimentMutations() {
  const client = useQueryClient();
  const star = useOptimistic<boolean>((e) => `Could not star ${e.name}`, (e, v) => api.star(e.id, v),
    (e, v) => ({ ...e, starred: v }));
  const expand = useOptimistic<boolean>((e) => `Could not save the expansion of ${e.name}`, (e, v) => api.expand(e.id, v),
    (e, v) => ({ ...e, expanded: v }));
  const setDesired = useOptimistic<DesiredState>((e) => `Could not change ${e.name}`, (e, v) => api.setState(e.id, v),
    (e, v) => ({ ...e, desired_state: v }));
  const restart = useMutation({
    mutationFn: (e: Experiment) => api.restart(e.id),
    onSuccess: (_r, e) => notifications.show({ color: 'green', message: `Restarting ${e.name}: an active job is cancelled first` }),
    onError: (err, e) => fail(`Could not restart ${e.name}`)(err),
    onSettled: () => invalidateLists(client),
  });
  const undelete = useMutation({
    mutationFn: (e: Experiment) => api.undelete(e.id),
    onError: fail('Undo failed'),
    onSettled: () => invalidateLists(client),
  });
  const remove = useMutation({
    mutationFn: (e: Experiment) => api.deleteExperiment(e.id),
    onSuccess: (_r, e) => notifications.show({
      id: `deleted-${e.id}`, autoClose: 8000, title: `Deleted ${e.name}`,
      message: (
        <Button size="compact-xs" variant="light" data-testid="undo"
          onClick={() => { notifications.hide(`deleted-${e.id}`); undelete.mutate(e); }}>Undo</Button>
      ),
    }),
    onError: fail('Delete failed'),
    onSettled: () => invalidateLists(client),
  });
  const bulk = useMutation({
    mutationFn: ({ action, ids }: { action: string; ids: number[] }) => api.bulk(action, ids),
    onError: (err, { action }) => fail(`Bulk ${action} failed`)(err),
    onSettled: () => invalidateLists(client),
  });
  const move = useMutation({
    mutationFn: async ({ ids, from, to, keep }: { ids: number[]; from: number | null; to: number | null; keep: boolean }) => {
      if (to !== null) await api.addToGroup(to, ids, keep);
      else if (from !== null && !keep) await Promise.all(ids.map((id) => api.removeFromGroup(from, id)));
    },
    onError: fail('Move failed'),
    onSettled: () => invalidateLists(client),
  });
  return { star, expand, setDesired, restart, remove, undelete, bulk, move };
}

/** The writes on groups. */
export function useGroupMutations() {
  const client = useQueryClient();
  const create = useMutation({
    mutationFn: (name: string) => api.createGroup(name),
    onSuccess: (r) => notifications.show({ color: 'green', message: `Created group ${r.group.name}` }),
    onSettled: () => invalidateLists(client),
  });
  const rename = useMutation({
    mutationFn: ({ gid, name }: { gid: number; name: string }) => api.patchGroup(gid, { name }),
    onSettled: () => invalidateLists(client),
  });
  const setColumns = useMutation({
    mutationFn: ({ gid, flags }: { gid: number; flags: string[] }) => api.patchGroup(gid, { flags }),
    onError: fail('Columns not saved'),
    onSettled: () => invalidateLists(client),
  });
  const collapse = useMutation({
    mutationFn: ({ gid, collapsed }: { gid: number; collapsed: boolean }) => api.patchGroup(gid, { collapsed }),
    onMutate: async ({ gid, collapsed }) => {
      await client.cancelQueries({ queryKey: keys.groupSummaries });
      const before = client.getQueryData<GroupSummaries>(keys.groupSummaries);
      if (before) {
        client.setQueryData<GroupSummaries>(keys.groupSummaries,
          { ...before, groups: before.groups.map((g) => (g.id === gid ? { ...g, collapsed } : g)) });
      }
      return { before };
    },
    onError: (err, _v, ctx) => {
      if (ctx?.before) client.setQueryData(keys.groupSummaries, ctx.before);
      fail('Could not collapse the group')(err);
    },
    onSettled: () => client.invalidateQueries({ queryKey: keys.groupSummaries }),
  });
  const reorder = useMutation({
    mutationFn: (ids: number[]) => api.reorderGroups(ids),
    onError: fail('Could not move the group'),
    onSettled: () => invalidateLists(client),
  });
  const remove = useMutation({
    mutationFn: (gid: number) => api.deleteGroup(gid),
    onError: fail('Could not delete the group'),
    onSettled: () => invalidateLists(client),
  });
  /** One flag set on every member of a group (only that flag is sent: the others stay as stored). */
  const setCommonFlag = useMutation({
    mutationFn: async ({ gid, key, value }: { gid: number; key: string; value: FlagValue }): Promise<BulkItem[]> => {
      const members: Experiment[] = [];
      for (let offset = 0; ; offset += 1000) {
        const page = await api.experimentPage(new URLSearchParams({ group: String(gid), sort: 'order', limit: '1000', offset: String(offset) }));
        members.push(...page.experiments);
        if (page.experiments.length === 0 || members.length >= page.total) break;
      }
      const out: BulkItem[] = [];
      // a few at a time: a group of thousands must not open thousands of connections
      for (let i = 0; i < members.length; i += 8) {
        const chunk = members.slice(i, i + 8);
        const done = await Promise.allSettled(chunk.map((e) => api.patchExperiment(e.id, { set_flags: { [key]: value } })));
        done.forEach((r, j) => {
          const e = chunk[j]!;
          out.push(r.status === 'fulfilled'
            ? { id: e.id, ref: e.name, ok: true, detail: `${key}=${String(value)}`, experiment: r.value.experiment }
            : { id: e.id, ref: e.name, ok: false, detail: (r.reason as Error).message, experiment: null });
        });
      }
      return out;
    },
    onError: fail('Flag not set'),
    onSettled: () => invalidateLists(client),
  });
  return { create, rename, setColumns, collapse, reorder, remove, setCommonFlag };
}
