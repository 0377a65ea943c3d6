/**
 * The REST API's JSON shapes, generated from the server's OpenAPI document (`npm run gen` writes
 * `schema.d.ts` from skydeck-server/src/main/resources/dev/skydeck/server/openapi.yaml; every build
 * and test run regenerates it). Only the flag values are refined: decimals and large integers
 * arrive as {@link FlagNumber}s holding their exact text (see lib/json.ts).
 */
import type { FlagNumber } from '../lib/json';
import type { components } from './schema';

type S = components['schemas'];
type WithFlags<T> = Omit<T, 'flags'> & { flags: Flags };

/** A flag value: decimals and large integers arrive as {@link FlagNumber}s holding their exact text. */
export type FlagValue = S['FlagValue'] | FlagNumber;
export type Flags = Record<string, FlagValue>;
export type DesiredState = S['DesiredState'];
export type JobStatus = S['JobStatus'];
export type JobStage = S['JobStage'];
export type Resources = S['Resources'];
export type Experiment = WithFlags<S['Experiment']>;
export type Job = WithFlags<S['Job']>;
/** An experiment as list endpoints write it: compact (see api/normalize.ts). */
export type ExperimentListItem = Omit<S['ExperimentListItem'], 'flags'> & { flags?: Flags };
export type Me = S['Me'];
export type Group = Omit<S['Group'], 'experiments'> & { experiments: Experiment[] | null };
/** A checkpoint; `created_at` falls back to when it was synced where the store has no object time (see api.checkpoints). */
export type Checkpoint = Omit<S['Checkpoint'], 'created_at'> & { created_at: string };
export type SkyEvent = S['Event'];
export type BulkItem = Omit<S['BulkItem'], 'experiment'> & { experiment: Experiment | null };
export type BulkAction = S['BulkAction'];
export type FlagInfo = Omit<S['Flag'], 'default_value' | 'observed_values'> & {
  default_value: FlagValue | null; observed_values: FlagValue[];
};
export type Component = S['Component'];
export type Health = S['Health'];
export type Provider = S['Provider'];
export type Link = S['Link'];

// The paged list (contract §1, §2, §5 of the issue-15/16 API contract).

/** A state count map: `{"RUNNING": 4, "SUCCEEDED": 36}`. */
export type StateCounts = Partial<Record<JobStatus, number>>;

/** A group without its members (`GET /api/groups?members=false`). */
export type GroupSummary = Omit<S['GroupSummary'], 'common_flags' | 'states'> & { common_flags: Flags; states: StateCounts };

export interface GroupSummaries {
  groups: GroupSummary[];
  ungrouped: { count: number; states: StateCounts };
}

/** One flag's values with counts (`GET /api/experiments/facets`). */
export type FlagFacet = S['FlagFacet'];

export type Facets = Omit<S['ExperimentFacets'], 'states' | 'desired'> & {
  states: StateCounts; desired: Partial<Record<DesiredState, number>>;
};

/** A page of experiments: the items and how many match in all. */
export interface ExperimentPage {
  experiments: Experiment[];
  total: number;
}
