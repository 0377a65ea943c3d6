/** What the Compare view shows (pure, unit-tested): items side by side, differences marked, drift. */
import type { Experiment, Job, Resources } from '../../api/types';
import { FlagNumber } from '../../lib/json';

type FlagMap = Record<string, unknown>;

/** One column of the comparison: an experiment (with its latest job) or a job. */
export interface CompareItem {
  key: string;
  kind: 'experiment' | 'job';
  title: string;
  /** The experiment's id (a job's experiment is named only). */
  experimentId: number | null;
  flags: FlagMap;
  command: string;
  resources: Record<string, string>;
  outcome: Record<string, string>;
}

export type Section = 'Outcome' | 'Flags' | 'Command' | 'Resources';

export interface CompareRow {
  section: Section;
  label: string;
  /** One per item; null where the item has no such value. */
  values: (string | null)[];
  /** Whether the items disagree (a value missing on some counts as a difference). */
  differs: boolean;
}

const MISSING = null;

/** A flag value as text: strings as they are, numbers as the server wrote them, booleans as true/false. */
export function valueText(v: unknown): string | null {
  if (v === undefined) return MISSING;
  if (v === null) return 'null';
  if (v instanceof FlagNumber) return v.toString(); // a decimal as written: 3.0 stays 3.0
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function resourceFields(nodes: number | undefined, gpus: number | undefined, r: Partial<Resources> | null | undefined) {
  const out: Record<string, string> = {};
  out.nodes = String(nodes ?? 1);
  out.gpus = String(gpus ?? 0);
  out.cloud = r?.cloud ?? 'any';
  out.region = r?.region ?? 'any';
  out.instance_type = r?.instance_type ?? 'any';
  out.accelerator = r?.accelerator ?? 'none';
  out.spot = r?.spot ? 'yes' : 'no';
  return out;
}

/** An experiment as a column; `latest` (its newest job) gives the outcome's exit, epochs and failure. */
export function fromExperiment(e: Experiment, latest: Job | undefined, jobCount: number | null = null): CompareItem {
  const outcome: Record<string, string> = {
    state: `${e.current_state ?? 'INIT'} → ${e.desired_state ?? 'STOPPED'}`,
    'latest epoch': e.latest_epoch === null || e.latest_epoch === undefined ? '-' : String(e.latest_epoch),
    'latest job': latest ? `${latest.id} (${latest.status})` : 'none',
    exit: latest?.exit_code === null || latest?.exit_code === undefined ? '-' : String(latest.exit_code),
    'failure reason': latest?.failure_reason ?? e.status?.state_reason ?? '-',
  };
  if (jobCount !== null) outcome.jobs = String(jobCount);
  if (e.drifted) outcome.drift = 'spec changed since its job launched';
  return {
    key: `e${e.id}`, kind: 'experiment', title: e.name, experimentId: e.id,
    flags: (e.flags ?? {}), command: e.command ?? '',
    resources: resourceFields(e.nodes, e.gpus, e.resources), outcome,
  };
}

/** A job as a column: what it ran, on what, and how it ended. */
export function fromJob(j: Job): CompareItem {
  return {
    key: `j${j.id}`, kind: 'job', title: `${j.experiment_name} · ${j.id}`, experimentId: null,
    flags: (j.flags ?? {}), command: j.command_line ?? '',
    resources: resourceFields(j.nodes, j.gpus, j.resources),
    outcome: {
      state: j.status,
      attempt: String(j.attempt),
      exit: j.exit_code === null ? '-' : String(j.exit_code),
      'failure reason': j.failure_reason ?? '-',
      recoveries: String(j.recovery_count ?? 0),
    },
  };
}

function row(section: Section, label: string, values: (string | null)[]): CompareRow {
  const differs = values.some((v) => v !== values[0]);
  return { section, label, values, differs };
}

function keysOf(maps: Record<string, unknown>[], sort: boolean): string[] {
  const seen: string[] = [];
  const set = new Set<string>();
  for (const m of maps) for (const k of Object.keys(m)) if (!set.has(k)) { set.add(k); seen.push(k); }
  return sort ? seen.sort() : seen;
}

/** The rows of the side-by-side table: outcome, flags (every key any item has, sorted), command, resources. */
export function compareRows(items: CompareItem[]): CompareRow[] {
  const rows: CompareRow[] = [];
  for (const k of keysOf(items.map((i) => i.outcome), false)) rows.push(row('Outcome', k, items.map((i) => i.outcome[k] ?? MISSING)));
  for (const k of keysOf(items.map((i) => i.flags), true)) rows.push(row('Flags', k, items.map((i) => valueText(i.flags[k]))));
  rows.push(row('Command', 'command', items.map((i) => i.command)));
  for (const k of keysOf(items.map((i) => i.resources), false)) rows.push(row('Resources', k, items.map((i) => i.resources[k] ?? MISSING)));
  return rows;
}

/**
 * A command line in words, each marked when it is not in every other command (the flag that
 * differs lights up, the shared prefix does not). Words split on spaces outside quotes.
 */
export function commandWords(command: string, others: string[]): { word: string; differs: boolean }[] {
  const split = (c: string) => c.match(/(?:[^\s'"]+|'[^']*'|"[^"]*")+/g) ?? [];
  const otherSets = others.map((o) => new Set(split(o)));
  return split(command).map((word) => ({ word, differs: otherSets.some((s) => !s.has(word)) }));
}

/** One thing that changed between an experiment's spec and the job running it. */
export interface DriftChange {
  what: string;
  /** What the spec says now (null: not in the spec). */
  spec: string | null;
  /** What the active job runs (null: not in the job). */
  running: string | null;
}

/**
 * What changed since `job` (the active one) launched: flags added, removed or changed, the
 * resources, and the command line. Empty when the job runs the spec as it is.
 */
export function driftChanges(e: Experiment, job: Job): DriftChange[] {
  const out: DriftChange[] = [];
  const spec = (e.flags ?? {}) as FlagMap;
  const ran = (job.flags ?? {}) as FlagMap;
  for (const k of keysOf([spec, ran], true)) {
    const a = valueText(spec[k]);
    const b = valueText(ran[k]);
    if (a !== b) out.push({ what: `flag ${k}`, spec: a, running: b });
  }
  const rs = resourceFields(e.nodes, e.gpus, e.resources);
  const rj = resourceFields(job.nodes, job.gpus, job.resources);
  for (const k of Object.keys(rs)) if (rs[k] !== rj[k]) out.push({ what: k, spec: rs[k]!, running: rj[k]! });
  if ((e.command ?? '') !== (job.command_line ?? '') && e.command) {
    out.push({ what: 'command', spec: e.command, running: job.command_line });
  }
  return out;
}

/** Parses `?ids=1,2&jobs=a,b` (ids or names; repeated or comma-separated), dropping blanks and repeats. */
export function parseCompareParams(params: URLSearchParams): { experiments: string[]; jobs: string[] } {
  const list = (name: string) => [...new Set(params.getAll(name).flatMap((v) => v.split(',')).map((v) => v.trim())
    .filter(Boolean))];
  return { experiments: list('ids'), jobs: list('jobs') };
}
