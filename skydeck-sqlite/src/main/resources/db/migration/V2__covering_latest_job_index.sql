-- An experiment's current state comes from its newest job's status. With the status in the
-- index, listing experiments reads it from the index alone instead of one job row each.
DROP INDEX jobs_experiment;
CREATE INDEX jobs_experiment ON jobs (experiment_name, created_at, id, status);
