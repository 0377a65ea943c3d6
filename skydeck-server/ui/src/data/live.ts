import type { QueryClient } from '@tanstack/react-query';
import type { Experiment, Group, SkyEvent } from '../api/types';

/** Query keys of the data layer. */
export const keys = {
  groups: ['groups'] as const,
  /** The groups without members (a prefix of {@link keys.groups}: invalidating groups reloads them too). */
  groupSummaries: ['groups', 'summaries'] as const,
  /** One group with its members (the Sweep view; under {@link keys.groups}, so it follows every change to an experiment). */
  group: (id: number) => ['groups', 'one', id] as const,
  /** Every list query of experiments: pages, facets, exports. */
  experimentLists: ['experiments'] as const,
  experimentPage: (params: string) => ['experiments', 'page', params] as const,
  facets: (params: string) => ['experiments', 'facets', params] as const,
  health: ['health'] as const,
  jobs: ['jobs'] as const,
  operations: ['operations'] as const,
  experiment: (id: number) => ['experiment', id] as const,
  experimentJobs: (id: number) => ['experiment', id, 'jobs'] as const,
  checkpoints: (id: number) => ['experiment', id, 'checkpoints'] as const,
  experimentEvents: (id: number) => ['experiment', id, 'events'] as const,
  /**
   * An experiment with its recent jobs (Compare), by id or name: an id's under {@link keys.experiment}
   * (its own events refresh it), a name's under {@link keys.experimentLists} (any change does).
   */
  compareExperiment: (ref: string): readonly unknown[] => (/^\d+$/.test(ref) ? ['experiment', Number(ref), 'compare']
    : ['experiments', 'by-name', ref, 'compare']),
  /** One job (Compare; under {@link keys.jobs}, so every job event refreshes it). */
  job: (id: string) => ['jobs', 'one', id] as const,
};

/** Events that add, remove or regroup experiments: only these reload the whole list. */
const STRUCTURAL = new Set(['CREATE', 'DELETE', 'UNDELETE']);

/** At most this many experiments are refreshed one by one; more reload the list once. */
export const MAX_PATCHES = 50;

/** How to bring the data layer up to date after a batch of events. */
export interface Plan {
  /** Queries to refetch (only those mounted refetch). */
  invalidate: (readonly unknown[])[];
  /** Experiments to fetch one by one and patch into the list. */
  patch: number[];
  /** Whether the whole experiment list must be reloaded. */
  reloadList: boolean;
}

/**
 * What a batch of events makes stale. A change to one experiment (its state, a job, a checkpoint)
 * refetches that experiment alone and patches it into the list, so a busy server never makes the
 * dashboard download 10,000 experiments per event; only experiments appearing or disappearing
 * (or a burst touching very many) reload the list.
 */
export function planFor(events: SkyEvent[]): Plan {
  const invalidate = new Map<string, readonly unknown[]>();
  const add = (k: readonly unknown[]) => invalidate.set(JSON.stringify(k), k);
  const patch = new Set<number>();
  let reloadList = false;
  add(keys.operations);
  for (const e of events) {
    const id = e.experiment_id;
    if (STRUCTURAL.has(e.type) || id === null) {
      reloadList = true;
      add(keys.health);
    } else {
      patch.add(id);
      add(keys.experiment(id));
      add(keys.experimentEvents(id));
    }
    if (['JOB_STATUS', 'LAUNCH', 'LAUNCH_FAILED', 'CANCEL'].includes(e.type)) {
      add(keys.jobs);
      add(keys.health);
      if (id !== null) add(keys.experimentJobs(id));
    }
    if (e.type === 'CHECKPOINT' && id !== null) add(keys.checkpoints(id));
  }
  if (patch.size > MAX_PATCHES) reloadList = true;
  return { invalidate: [...invalidate.values()], patch: reloadList ? [] : [...patch], reloadList };
}

/**
 * Carries out a plan: refetches what it names, and with any experiment changed, the table's pages
 * on screen, its facets and the groups (a Sweep view's group among them; cheap, and 304 when
 * nothing they show changed); pages out of view refetch when seen again.
 */
export function applyPlan(client: QueryClient, plan: Plan) {
  for (const key of plan.invalidate) void client.invalidateQueries({ queryKey: key as unknown[] });
  if (plan.reloadList || plan.patch.length) {
    void client.invalidateQueries({ queryKey: keys.experimentLists });
    void client.invalidateQueries({ queryKey: keys.groups });
  }
}

/** The experiment list with one experiment replaced wherever it appears (a group or "Ungrouped"). */
export function patchExperiment(
  data: { groups: Group[]; ungrouped: Experiment[] }, e: Experiment,
): { groups: Group[]; ungrouped: Experiment[] } {
  const swap = (list: Experiment[]) => {
    const i = list.findIndex((x) => x.id === e.id);
    if (i < 0) return list;
    const copy = list.slice();
    copy[i] = e;
    return copy;
  };
  return {
    groups: data.groups.map((g) => {
      if (!g.experiments) return g;
      const next = swap(g.experiments);
      return next === g.experiments ? g : { ...g, experiments: next };
    }),
    ungrouped: swap(data.ungrouped),
  };
}
