import type { SkyEvent } from '../api/types';

/** Query keys of the data layer. */
export const keys = {
  groups: ['groups'] as const,
  health: ['health'] as const,
  jobs: ['jobs'] as const,
  operations: ['operations'] as const,
  experiment: (id: number) => ['experiment', id] as const,
  experimentJobs: (id: number) => ['experiment', id, 'jobs'] as const,
  checkpoints: (id: number) => ['experiment', id, 'checkpoints'] as const,
  experimentEvents: (id: number) => ['experiment', id, 'events'] as const,
};

/**
 * What an event makes stale: only the queries it touches, so that a busy server does not make
 * the dashboard refetch everything on every event. The experiment list is refreshed at most once
 * per batch of events (the caller coalesces).
 */
export function staleQueries(e: SkyEvent): (readonly unknown[])[] {
  const out: (readonly unknown[])[] = [keys.operations];
  const id = e.experiment_id;
  switch (e.type) {
    case 'JOB_STATUS':
    case 'LAUNCH':
    case 'LAUNCH_FAILED':
    case 'CANCEL':
      out.push(keys.groups, keys.jobs, keys.health);
      if (id !== null) out.push(keys.experiment(id), keys.experimentJobs(id));
      break;
    case 'CHECKPOINT':
      out.push(keys.groups);
      if (id !== null) out.push(keys.checkpoints(id), keys.experiment(id));
      break;
    default:
      out.push(keys.groups, keys.health);
      if (id !== null) out.push(keys.experiment(id));
  }
  if (id !== null) out.push(keys.experimentEvents(id));
  return out;
}

/** Merges the stale keys of a batch of events into a unique list. */
export function staleForBatch(events: SkyEvent[]): (readonly unknown[])[] {
  const seen = new Map<string, readonly unknown[]>();
  for (const e of events) for (const k of staleQueries(e)) seen.set(JSON.stringify(k), k);
  return [...seen.values()];
}
