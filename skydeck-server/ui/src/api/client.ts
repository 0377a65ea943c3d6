import type { BulkItem, Checkpoint, DesiredState, Experiment, FlagInfo, Group, Health, Job, Link, Me, Provider, SkyEvent } from './types';
import { loadSettings } from '../settings';
import { parseJson, stringifyJson } from '../lib/json';

/** An answer with an error status: the server's `detail`, and for a 409 its `reason` (`STALE_VERSION`, …). */
export class ApiError extends Error {
  constructor(readonly status: number, readonly detail: string, readonly reason: string | null = null) {
    super(detail);
  }
}

/** The `detail` of an error body, or the body itself when it is not JSON. */
export function errorDetail(body: string): string {
  return errorBody(body).detail;
}

function errorBody(body: string): { detail: string; reason: string | null } {
  try {
    const b = JSON.parse(body) as { detail?: string; reason?: string };
    return { detail: b.detail ?? body, reason: b.reason ?? null };
  } catch {
    return { detail: body, reason: null };
  }
}

function base(): string {
  const b = loadSettings().backend.trim();
  return b.endsWith('/') ? b.slice(0, -1) : b;
}

function headers(json: boolean): HeadersInit {
  const h: Record<string, string> = { Accept: 'application/json' };
  const token = loadSettings().token.trim();
  if (token) h.Authorization = `Bearer ${token}`;
  if (json) h['Content-Type'] = 'application/json';
  return h;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<{ data: T; total: number | null }> {
  const unsafe = method !== 'GET';
  const res = await fetch(base() + path, {
    method,
    headers: headers(unsafe),
    body: unsafe ? stringifyJson(body ?? {}) : undefined,
  });
  const text = await res.text();
  if (!res.ok) {
    const e = errorBody(text);
    throw new ApiError(res.status, e.detail || res.statusText, e.reason);
  }
  const total = res.headers.get('X-Total-Count');
  return { data: (text ? parseJson(text) : {}) as T, total: total === null ? null : Number(total) };
}

const get = async <T>(path: string) => (await request<T>('GET', path)).data;
const post = async <T>(path: string, body?: unknown) => (await request<T>('POST', path, body)).data;
const q = encodeURIComponent;

/** The typed client of the REST API: the only place the dashboard talks HTTP. */
export const api = {
  health: () => get<Health>('/api/health'),
  me: () => get<Me>('/api/me'),
  groups: () => get<{ groups: Group[]; ungrouped: Experiment[] }>('/api/groups'),
  experiment: (id: number | string) => get<{ experiment: Experiment }>(`/api/experiments/${q(String(id))}`),
  createExperiment: (body: Record<string, unknown>) => post<{ experiment: Experiment }>('/api/experiments', body),
  patchExperiment: (id: number, body: Record<string, unknown>) =>
    request<{ experiment: Experiment }>('PATCH', `/api/experiments/${id}`, body).then((r) => r.data),
  setState: (id: number, desired: DesiredState) =>
    post<{ experiment: Experiment }>(`/api/experiments/${id}/state`, { desired_state: desired }),
  restart: (id: number) => post<{ experiment: Experiment }>(`/api/experiments/${id}/restart`),
  setFlags: (id: number, flags: Record<string, unknown>) =>
    post<{ experiment: Experiment }>(`/api/experiments/${id}/flags`, { flags }),
  duplicate: (id: number, edits: Record<string, unknown>) =>
    post<{ experiment: Experiment }>(`/api/experiments/${id}/duplicate`, edits),
  star: (id: number, starred: boolean) => post<{ experiment: Experiment }>(`/api/experiments/${id}/starred`, { starred }),
  deleteExperiment: (id: number) =>
    request<{ experiment: Experiment }>('DELETE', `/api/experiments/${id}`).then((r) => r.data),
  undelete: (id: number) => post<{ experiment: Experiment }>(`/api/experiments/${id}/undelete`),
  bulk: (action: string, ids: number[]) =>
    post<{ succeeded: number; failed: number; results: BulkItem[] }>('/api/experiments/bulk', { action, ids }),
  experimentJobs: (id: number, limit = 20) => get<{ jobs: Job[] }>(`/api/experiments/${id}/jobs?limit=${limit}`),
  checkpoints: (id: number, limit = 50) =>
    get<{ checkpoints: Checkpoint[] }>(`/api/experiments/${id}/checkpoints?limit=${limit}`),
  experimentEvents: (id: number) => get<{ events: SkyEvent[] }>(`/api/experiments/${id}/events?limit=200`),
  jobs: async (params: URLSearchParams) => {
    const r = await request<{ jobs: Job[] }>('GET', `/api/jobs?${params.toString()}`);
    return { jobs: r.data.jobs, total: r.total ?? r.data.jobs.length };
  },
  job: (id: string) => get<{ job: Job }>(`/api/jobs/${q(id)}`),
  cancelJob: (id: string) => post<{ job: Job }>(`/api/jobs/${q(id)}/cancel`),
  logsUrl: (id: string, tail: number, follow: boolean, controller = false) =>
    `${base()}/api/jobs/${q(id)}/logs?tail=${tail}&follow=${follow}${controller ? '&controller=true' : ''}`,
  logHeaders: () => headers(false),
  createGroup: (name: string) => post<{ group: Group }>('/api/groups', { name }),
  patchGroup: (gid: number, body: Record<string, unknown>) =>
    request<{ group: Group }>('PATCH', `/api/groups/${gid}`, body).then((r) => r.data),
  expand: (id: number, expanded: boolean) =>
    post<{ experiment: Experiment }>(`/api/experiments/${id}/expanded`, { expanded }),
  deleteGroup: (gid: number) => request<unknown>('DELETE', `/api/groups/${gid}`).then((r) => r.data),
  addToGroup: (gid: number, ids: number[], multiHome: boolean) =>
    post<{ group: Group }>(`/api/groups/${gid}/experiments`, { experiment_ids: ids, multi_home: multiHome }),
  removeFromGroup: (gid: number, id: number) =>
    request<{ group: Group }>('DELETE', `/api/groups/${gid}/experiments/${id}`).then((r) => r.data),
  reorderGroups: (ids: number[]) => post<{ groups: Group[] }>('/api/groups/reorder', { group_ids: ids }),
  flags: () => get<{ flags: FlagInfo[] }>('/api/flag-schemas'),
  providers: () => get<{ providers: Provider[] }>('/api/gpu-types'),
  gpuType: (instanceType: string) =>
    get<{ gpu: { model: string; count: number } | null; cloud: string | null }>(
      `/api/gpu-types?instance_type=${q(instanceType)}`),
  links: () => get<{ links: Link[] }>('/api/links'),
  operations: (limit: number) => get<{ events: SkyEvent[] }>(`/api/operation-logs?limit=${limit}`),
  base,
  headers,
  // --- compare, sweep (16b) ---
  /** One group with its members (the sweep view). */
  group: (gid: number | string) => get<{ group: Group }>(`/api/groups/${q(String(gid))}`),
};
