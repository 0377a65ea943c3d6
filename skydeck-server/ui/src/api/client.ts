import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';
import type {
  BulkAction, BulkItem, Checkpoint, DesiredState, Experiment, ExperimentPage, Facets, FlagInfo, Group,
  GroupSummaries, Health, Job, Link, Me, Provider, SkyEvent,
} from './types';
import { normalizeExperiment, normalizeGroupSummaries, normalizePage } from './normalize';
import { loadSettings } from '../settings';
import { parseJson, stringifyJson } from '../lib/json';

type S = components['schemas'];

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

function headers(json: boolean): Record<string, string> {
  const h: Record<string, string> = { Accept: 'application/json' };
  const token = loadSettings().token.trim();
  if (token) h.Authorization = `Bearer ${token}`;
  if (json) h['Content-Type'] = 'application/json';
  return h;
}

const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * fetch whose JSON keeps flag values exact ({@link parseJson}): openapi-fetch reads bodies with
 * `response.json()`, so the response answers that with the exact parse.
 */
async function exactFetch(input: Request): Promise<Response> {
  const res = await fetch(input);
  if (NULL_BODY.has(res.status)) return res;
  const text = await res.text();
  const out = new Response(text, { status: res.status, statusText: res.statusText, headers: res.headers });
  Object.defineProperty(out, 'json', { value: () => Promise.resolve(text ? parseJson(text) : {}) });
  return out;
}

const auth: Middleware = {
  onRequest({ request }) {
    const unsafe = request.method !== 'GET' && request.method !== 'HEAD';
    for (const [k, v] of Object.entries(headers(unsafe))) request.headers.set(k, v);
    return request;
  },
};

let cached: { base: string; client: ReturnType<typeof createClient<paths>> } | null = null;

/** The typed client of the REST API (paths, methods, parameters and bodies checked against openapi.yaml). */
export function http() {
  const b = base();
  if (!cached || cached.base !== b) {
    const client = createClient<paths>({
      baseUrl: b || (typeof location === 'undefined' ? '' : location.origin),
      fetch: exactFetch,
      bodySerializer: (body: unknown) => stringifyJson(body ?? {}),
    });
    client.use(auth);
    cached = { base: b, client };
  }
  return cached.client;
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a successful answer; an {@link ApiError} with the server's detail otherwise. */
async function ok<T>(call: Promise<Answer<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok || error !== undefined) {
    const e = typeof error === 'string' ? errorBody(error)
      : { detail: (error as { detail?: string } | undefined)?.detail ?? '', reason: (error as { reason?: string } | undefined)?.reason ?? null };
    throw new ApiError(response.status, e.detail || response.statusText || `HTTP ${response.status}`, e.reason);
  }
  return data as T;
}

/** The answer's X-Total-Count, when it has one. */
function totalOf(response: Response): number | null {
  const t = response.headers.get('X-Total-Count');
  return t === null ? null : Number(t);
}

/**
 * A query built by the table (lib/table.ts): its `flag.<name>` parameters have names the OpenAPI
 * types cannot list, so it is sent exactly as built.
 */
const raw = (params: URLSearchParams) => ({ querySerializer: () => params.toString() });

/**
 * The dashboard's calls, by name, over the typed client: the only place the dashboard talks HTTP.
 * Lists come back normalised ({@link normalizeExperiment}).
 */
export const api = {
  health: () => ok<Health>(http().GET('/api/health')),
  me: () => ok<Me>(http().GET('/api/me')),
  /** Every group with its members and the ungrouped experiments (the whole list: prefer {@link api.groupSummaries}). */
  groups: async () => {
    const r = await ok(http().GET('/api/groups'));
    if (!Array.isArray(r.ungrouped)) throw new ApiError(500, 'the server answered the group list without members');
    const groups = r.groups as S['GroupListItem'][];
    return {
      groups: groups.map((g): Group => ({
        name_prefix: null, flags: [], order: 0, collapsed: false, ...g, experiments: g.experiments?.map(normalizeExperiment) ?? null,
      })),
      ungrouped: r.ungrouped.map(normalizeExperiment),
    };
  },
  /** The groups without their members, with counts (contract §5). */
  groupSummaries: async (): Promise<GroupSummaries> =>
    normalizeGroupSummaries(await ok(http().GET('/api/groups', { params: { query: { members: false } } }))),
  /** A page of experiments for these list parameters (contract §1). */
  experimentPage: async (params: URLSearchParams): Promise<ExperimentPage> => {
    const r = await http().GET('/api/experiments', raw(params));
    const body = await ok(Promise.resolve(r));
    return normalizePage(body, totalOf(r.response));
  },
  /** Counts per state and flag value for these filters (contract §2). */
  facets: async (params: URLSearchParams): Promise<Facets> => {
    const r = await ok(http().GET('/api/experiments/facets', raw(params)));
    return { ...r, states: r.states, desired: r.desired };
  },
  experiment: async (id: number | string) =>
    ({ experiment: (await ok(http().GET('/api/experiments/{id}', { params: { path: { id: String(id) } } }))).experiment as Experiment }),
  createExperiment: async (body: Record<string, unknown>) => {
    const r = await ok(http().POST('/api/experiments', { body: body as never }));
    if (!('experiment' in r)) throw new ApiError(500, 'the server answered a single create with a list');
    return { experiment: r.experiment as Experiment };
  },
  patchExperiment: async (id: number, body: Record<string, unknown>) =>
    ({ experiment: (await ok(http().PATCH('/api/experiments/{id}', { params: { path: { id: String(id) } }, body: body as never }))).experiment as Experiment }),
  setState: async (id: number, desired: DesiredState) =>
    ({ experiment: (await ok(http().POST('/api/experiments/{id}/state', { params: { path: { id: String(id) } }, body: { desired_state: desired } }))).experiment as Experiment }),
  restart: async (id: number) =>
    ({ experiment: (await ok(http().POST('/api/experiments/{id}/restart', { params: { path: { id: String(id) } } }))).experiment as Experiment }),
  setFlags: async (id: number, flags: Record<string, unknown>) =>
    ({ experiment: (await ok(http().POST('/api/experiments/{id}/flags', { params: { path: { id: String(id) } }, body: { flags: flags as never } }))).experiment as Experiment }),
  duplicate: async (id: number, edits: Record<string, unknown>) =>
    ({ experiment: (await ok(http().POST('/api/experiments/{id}/duplicate', { params: { path: { id: String(id) } }, body: edits as never }))).experiment as Experiment }),
  star: async (id: number, starred: boolean) =>
    ({ experiment: (await ok(http().POST('/api/experiments/{id}/starred', { params: { path: { id: String(id) } }, body: { starred } }))).experiment as Experiment }),
  deleteExperiment: async (id: number) =>
    ({ experiment: (await ok(http().DELETE('/api/experiments/{id}', { params: { path: { id: String(id) } } }))).experiment as Experiment }),
  undelete: async (id: number) =>
    ({ experiment: (await ok(http().POST('/api/experiments/{id}/undelete', { params: { path: { id: String(id) } } }))).experiment as Experiment }),
  bulk: async (action: string, ids: number[]) => {
    const r = await ok(http().POST('/api/experiments/bulk', { body: { action: action.toUpperCase() as BulkAction, ids } }));
    return r as unknown as { succeeded: number; failed: number; results: BulkItem[] };
  },
  experimentJobs: async (id: number, limit = 20) =>
    ({ jobs: (await ok(http().GET('/api/experiments/{id}/jobs', { params: { path: { id: String(id) }, query: { limit } } }))).jobs as Job[] }),
  checkpoints: async (id: number, limit = 50) =>
    ({ checkpoints: (await ok(http().GET('/api/experiments/{id}/checkpoints', { params: { path: { id: String(id) }, query: { limit } } })))
      .checkpoints.map((c): Checkpoint => ({ ...c, created_at: c.created_at ?? c.synced_at ?? '' })) }),
  experimentEvents: async (id: number) =>
    ({ events: (await ok(http().GET('/api/experiments/{id}/events', { params: { path: { id: String(id) }, query: { limit: 200 } } }))).events as SkyEvent[] }),
  jobs: async (params: URLSearchParams) => {
    const r = await http().GET('/api/jobs', raw(params));
    const body = await ok(Promise.resolve(r));
    return { jobs: body.jobs as Job[], total: totalOf(r.response) ?? body.jobs.length };
  },
  job: async (id: string) => ({ job: (await ok(http().GET('/api/jobs/{id}', { params: { path: { id } } }))).job as Job }),
  cancelJob: async (id: string) =>
    ({ job: (await ok(http().POST('/api/jobs/{id}/cancel', { params: { path: { id } } }))).job as Job }),
  logsUrl: (id: string, tail: number, follow: boolean, controller = false) =>
    `${base()}/api/jobs/${encodeURIComponent(id)}/logs?tail=${tail}&follow=${follow}${controller ? '&controller=true' : ''}`,
  logHeaders: () => headers(false),
  createGroup: async (name: string, flags?: string[]) =>
    ({ group: (await ok(http().POST('/api/groups', { body: flags ? { name, flags } : { name } }))).group as Group }),
  patchGroup: async (gid: number, body: { name?: string; name_prefix?: string | null; flags?: string[] | null; collapsed?: boolean | null }) =>
    ({ group: (await ok(http().PATCH('/api/groups/{gid}', { params: { path: { gid } }, body }))).group as Group }),
  expand: async (id: number, expanded: boolean) =>
    ({ experiment: (await ok(http().POST('/api/experiments/{id}/expanded', { params: { path: { id: String(id) } }, body: { expanded } }))).experiment as Experiment }),
  deleteGroup: (gid: number) => ok(http().DELETE('/api/groups/{gid}', { params: { path: { gid } } })),
  addToGroup: async (gid: number, ids: number[], multiHome: boolean) =>
    ({ group: (await ok(http().POST('/api/groups/{gid}/experiments', { params: { path: { gid } }, body: { experiment_ids: ids, multi_home: multiHome } }))).group as Group }),
  removeFromGroup: async (gid: number, id: number) =>
    ({ group: (await ok(http().DELETE('/api/groups/{gid}/experiments/{id}', { params: { path: { gid, id: String(id) } } }))).group as Group }),
  reorderGroups: async (ids: number[]) =>
    ({ groups: (await ok(http().POST('/api/groups/reorder', { body: { group_ids: ids } }))).groups as Group[] }),
  flags: async () => ({ flags: (await ok(http().GET('/api/flag-schemas'))).flags as FlagInfo[] }),
  providers: async () => {
    const r = await ok(http().GET('/api/gpu-types'));
    return { providers: ('providers' in r ? r.providers : []) as Provider[] };
  },
  gpuType: async (instanceType: string) =>
    (await ok(http().GET('/api/gpu-types', { params: { query: { instance_type: instanceType } } }))) as unknown as
      { gpu: { model: string; count: number } | null; cloud: string | null },
  links: async () => ({ links: (await ok(http().GET('/api/links'))).links as Link[] }),
  operations: async (limit: number) =>
    ({ events: (await ok(http().GET('/api/operation-logs', { params: { query: { limit } } }))).events as SkyEvent[] }),
  base,
  headers,
  /** One group with its members (the sweep view). */
  group: async (gid: number) =>
    ({ group: (await ok(http().GET('/api/groups/{gid}', { params: { path: { gid } } }))).group as Group }),
};
