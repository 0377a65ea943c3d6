import { commonFlags, sameFlagValue } from '../lib/flags';
import type { Experiment, ExperimentListItem, ExperimentPage, GroupSummaries, GroupSummary } from './types';

/** A list item read loosely: any field, nested ones too, may be left out. */
type Loose = Partial<Omit<Experiment, 'resources' | 'restart_policy' | 'status'>> & {
  resources?: Partial<Experiment['resources']>;
  restart_policy?: Partial<Experiment['restart_policy']>;
  status?: Partial<NonNullable<Experiment['status']>> | null;
};

/**
 * List items are compact (contract §3, `ExperimentListItem` in openapi.yaml): null values, `false`,
 * `0` of non-null numbers, empty lists and objects, `base_command` `lt`, `nodes` 1, the default
 * restart policy, `status.observed_*` equal to the experiment's own, and the large derived fields
 * (`command`, `task_template`) are left out. This is the one place that fills
 * them back with their defaults, so the rest of the dashboard reads every field as present.
 * Detail views read the full experiment from `GET /api/experiments/{id}`.
 */
export function normalizeExperiment(raw: ExperimentListItem | Experiment): Experiment {
  const r = raw as Loose;
  return {
    ...r,
    id: raw.id,
    name: raw.name,
    run_name: r.run_name ?? null,
    flags: r.flags ?? {},
    base_command: r.base_command ?? 'lt',
    tool_path: r.tool_path ?? null,
    git_branch: r.git_branch ?? null,
    nodes: r.nodes ?? 1,
    gpus: r.gpus ?? 0,
    resources: {
      cloud: null, region: null, instance_type: null, accelerator: null, spot: false, pool: null, ...r.resources,
    },
    desired_state: r.desired_state ?? 'STOPPED',
    current_state: r.current_state ?? 'INIT',
    restart_policy: r.restart_policy
      ? { mode: 'NEVER', max_restarts: 0, backoff_seconds: 0, max_backoff_seconds: 0, ...r.restart_policy }
      : { mode: 'NEVER', max_restarts: 0, backoff_seconds: 10, max_backoff_seconds: 600 },
    priority: r.priority ?? 0,
    description: r.description ?? null,
    tags: r.tags ?? [],
    task_template: r.task_template ?? null,
    starred: r.starred ?? false,
    order: r.order ?? 0,
    expanded: r.expanded ?? false,
    deleted: r.deleted ?? false,
    created_at: r.created_at ?? '',
    updated_at: r.updated_at ?? r.created_at ?? '', // left out of a list item while never changed
    version: r.version ?? 0,
    generation: r.generation ?? 0,
    status: r.status ? {
      ...r.status,
      stage: r.status.stage ?? null,
      state_reason: r.status.state_reason ?? null,
      observed_generation: r.status.observed_generation ?? r.generation ?? 0,
      observed_desired: r.status.observed_desired ?? r.desired_state ?? null,
      launch_retries: r.status.launch_retries ?? 0,
      next_attempt_at: r.status.next_attempt_at ?? null,
      settled: r.status.settled ?? false,
    } : null,
    latest_epoch: r.latest_epoch ?? null,
    started_at: r.started_at ?? null,
    drifted: r.drifted ?? false,
    command: r.command ?? '',
    created_by: r.created_by ?? null,
    started_by: r.started_by ?? null,
  };
}

/** A page of list items, normalised; the total from the body, else the header, else the items. */
export function normalizePage(body: { experiments?: (ExperimentListItem | Experiment)[]; total?: number } | undefined,
  headerTotal: number | null): ExperimentPage {
  const experiments = (body?.experiments ?? []).map(normalizeExperiment);
  return { experiments, total: body?.total ?? headerTotal ?? experiments.length };
}

/**
 * Groups without members (contract §5). A server without `members=false` answers with whole
 * groups and the ungrouped experiments: their counts are derived from them.
 */
export function normalizeGroupSummaries(body: unknown): GroupSummaries {
  const b = (body ?? {}) as { groups?: Partial<GroupSummary & { experiments: ExperimentListItem[] | null; experiment_ids: number[] }>[];
    ungrouped?: { count?: number; states?: GroupSummary['states'] } | ExperimentListItem[] };
  const countStates = (list: Partial<ExperimentListItem>[]) => {
    const states: GroupSummary['states'] = {};
    for (const e of list) {
      const s = e.current_state ?? 'INIT';
      states[s] = (states[s] ?? 0) + 1;
    }
    return states;
  };
  const groups = (b.groups ?? []).map((g): GroupSummary => ({
    id: g.id ?? 0,
    name: g.name ?? '',
    name_prefix: g.name_prefix ?? null,
    flags: g.flags ?? [],
    collapsed: g.collapsed ?? false,
    order: g.order ?? 0,
    count: g.count ?? g.experiments?.length ?? g.experiment_ids?.length ?? 0,
    states: g.states ?? (g.experiments ? countStates(g.experiments) : {}),
    common_flags: g.common_flags ?? (g.experiments ? commonFlags(g.experiments.map(normalizeExperiment)) : {}),
    varying_flags: g.varying_flags ?? (g.experiments ? varyingFlags(g.experiments.map(normalizeExperiment)) : []),
  }));
  const u = b.ungrouped;
  const ungrouped = Array.isArray(u) ? { count: u.length, states: countStates(u) }
    : { count: u?.count ?? 0, states: u?.states ?? {} };
  return { groups, ungrouped };
}

/** Flag names whose values differ between these experiments (set on some, or set differently). */
function varyingFlags(list: Experiment[]): string[] {
  const names = new Set(list.flatMap((e) => Object.keys(e.flags)));
  return [...names].filter((k) => list.some((e) => !(k in e.flags) || !sameFlagValue(e.flags[k], list[0]!.flags[k]))).sort();
}
