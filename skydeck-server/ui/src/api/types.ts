/** The REST API's JSON shapes (see /api/openapi.json). */
import type { FlagNumber } from '../lib/json';

/** A flag value: decimals and large integers arrive as {@link FlagNumber}s holding their exact text. */
export type FlagValue = string | number | boolean | FlagNumber;
export type Flags = Record<string, FlagValue>;
export type DesiredState = 'RUNNING' | 'STOPPED' | 'TERMINATED';
export type JobStatus =
  | 'INIT' | 'PENDING' | 'STARTING' | 'RUNNING' | 'RECOVERING' | 'CANCELLING'
  | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'UNKNOWN';
export type JobStage =
  | 'QUEUED' | 'SUBMITTING' | 'WAITING_FOR_RESOURCES' | 'PROVISIONING' | 'RUNNING'
  | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

export interface Resources {
  cloud: string | null;
  region: string | null;
  instance_type: string | null;
  accelerator: string | null;
  spot: boolean;
}

export interface Experiment {
  id: number;
  name: string;
  flags: Flags;
  base_command: string;
  tool_path: string | null;
  git_branch: string | null;
  nodes: number;
  gpus: number;
  resources: Resources;
  desired_state: DesiredState;
  current_state: JobStatus;
  restart_policy: { mode: string; max_restarts: number; backoff_seconds: number; max_backoff_seconds: number };
  priority: number;
  description: string | null;
  tags: string[];
  task_template: string | null;
  starred: boolean;
  order: number;
  expanded: boolean;
  deleted: boolean;
  created_at: string;
  updated_at: string;
  /** Who created it (null on a deck without users). */
  created_by: string | null;
  /** Who last started or restarted it. */
  started_by: string | null;
  version: number;
  generation: number;
  status: {
    stage: JobStage | null;
    state_reason: string | null;
    observed_generation: number;
    observed_desired: DesiredState | null;
    launch_retries: number;
    next_attempt_at: string | null;
    settled: boolean;
  } | null;
  latest_epoch: number | null;
  /** Its active job runs an older configuration than its spec: restart to apply. */
  drifted: boolean;
  command: string;
}

export interface Job {
  id: string;
  experiment_name: string;
  backend: string;
  backend_job_id: string | null;
  launch_id: string | null;
  status: JobStatus;
  active: boolean;
  backend_status: string | null;
  failure_reason: string | null;
  details: string | null;
  stage: JobStage;
  stage_since: string;
  attempt: number;
  generation: number;
  command: string[];
  command_line: string;
  flags: Flags;
  nodes: number;
  gpus: number;
  resources: Resources;
  git_ref: string | null;
  created_at: string;
  submitted_at: string | null;
  started_at: string | null;
  ended_at: string | null;
  exit_code: number | null;
  recovery_count: number;
  cluster_name: string | null;
  cloud: string | null;
  region: string | null;
  updated_at: string;
  /** On whose behalf it was launched (null without users). */
  launched_by: string | null;
}

/** Who the dashboard's user is: null on a deck without users. */
export interface Me {
  user: string | null;
  users_enabled: boolean;
}

export interface Group {
  id: number;
  name: string;
  name_prefix: string | null;
  flags: string[];
  order: number;
  collapsed: boolean;
  experiment_ids: number[];
  experiments: Experiment[] | null;
}

export interface Checkpoint {
  experiment_id: number;
  epoch: number;
  model_path: string;
  replay_paths: string[];
  policy_version: string | null;
  size_bytes: number;
  created_at: string;
  synced_at: string;
  gone_at: string | null;
}

export interface SkyEvent {
  seq: number;
  time: string;
  actor: string;
  type: string;
  experiment_id: number | null;
  experiment_name: string | null;
  job_id: string | null;
  success: boolean;
  message: string;
  detail: string | null;
}

export interface BulkItem {
  id: number | null;
  ref: string;
  ok: boolean;
  detail: string;
  experiment: Experiment | null;
}

export interface FlagInfo {
  key: string;
  type: string;
  default_value: FlagValue | null;
  required: boolean;
  description: string | null;
  choices: string[];
  observed_values: FlagValue[];
  observed_count: number;
  declared: boolean;
}

export interface Component {
  last_success: string | null;
  stale_seconds: number | null;
  last_failure: string | null;
  last_error: string | null;
}

export interface Health {
  status: string;
  version: string;
  store: string;
  backend: { kind: string; reason: string; healthy: boolean; detail: string | null };
  checkpoint_source: string;
  poller: Component;
  reconciler: Component;
  syncer: Component;
  experiments: number;
  active_jobs: number;
  time: string;
  uptime_seconds: number;
  /** Which process drives the engine when several servers share one database. */
  engine: { role: 'leader' | 'standby'; process: string; since: string | null; leader: string | null } | null;
}

export interface Provider {
  cloud: string;
  display_name: string;
  regions: string[];
  instance_types: string[];
  accelerators: string[];
}

export interface Link {
  label: string;
  url_template: string;
}
