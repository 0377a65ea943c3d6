-- Version 2 (issue 15; the SQLite store's version 7): pages of 100,000 experiments sorted and
-- filtered by any column, in a constant number of statements and without reading every row.
--
-- What the store derived per row on every read (the latest job's status and start, the latest
-- epoch) is kept on the experiment row by triggers, in the same transaction as the job or
-- checkpoint write; current_state mirrors ExperimentStatus#currentState. Flag values live in
-- experiment_flags, one row per flag, written by a trigger from flag_index: SkyDeck writes
-- flag_index (and search_text, what a text search looks in) with the spec, computed in Java so
-- every store agrees on a value's text. Rows of older versions get both when the store opens.
ALTER TABLE experiments ADD COLUMN latest_status text;
ALTER TABLE experiments ADD COLUMN latest_started_at bigint;
ALTER TABLE experiments ADD COLUMN latest_epoch bigint;
ALTER TABLE experiments ADD COLUMN flag_index text;
ALTER TABLE experiments ADD COLUMN search_text text COLLATE "C";
ALTER TABLE experiments ADD COLUMN current_state text COLLATE "C" GENERATED ALWAYS AS (CASE WHEN stage = 'QUEUED'
    OR latest_status = 'INIT' THEN 'PENDING' WHEN latest_status IS NULL THEN 'INIT' ELSE latest_status END) STORED;

CREATE TABLE experiment_flags (
    experiment_id bigint           NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    name          text COLLATE "C" NOT NULL,
    value_text    text COLLATE "C" NOT NULL,
    value_num     double precision,
    value_json    text             NOT NULL,
    PRIMARY KEY (experiment_id, name)
);

CREATE INDEX experiment_flags_value ON experiment_flags (name, value_text, experiment_id);
CREATE INDEX experiment_flags_sort ON experiment_flags (name, (value_num IS NULL), value_num, value_text);

CREATE INDEX experiments_name ON experiments (name);
CREATE INDEX experiments_live_state ON experiments (current_state, sort_order) WHERE deleted = FALSE;
CREATE INDEX experiments_live_name_order ON experiments (name, sort_order) WHERE deleted = FALSE;
CREATE INDEX experiments_live_created ON experiments (created_at, sort_order) WHERE deleted = FALSE;
CREATE INDEX experiments_live_updated ON experiments (updated_at, sort_order) WHERE deleted = FALSE;
CREATE INDEX experiments_live_priority ON experiments (priority, sort_order) WHERE deleted = FALSE;
CREATE INDEX experiments_live_epoch ON experiments ((latest_epoch IS NULL), latest_epoch, sort_order)
    WHERE deleted = FALSE;
CREATE INDEX experiments_live_epoch_desc ON experiments ((latest_epoch IS NOT NULL), latest_epoch, sort_order)
    WHERE deleted = FALSE;
CREATE INDEX experiments_live_started ON experiments ((latest_started_at IS NULL), latest_started_at, sort_order)
    WHERE deleted = FALSE;
CREATE INDEX experiments_live_started_desc ON experiments ((latest_started_at IS NOT NULL), latest_started_at,
    sort_order) WHERE deleted = FALSE;

UPDATE experiments SET
    latest_status = (SELECT j.status FROM jobs j WHERE j.experiment_name = experiments.name
                     ORDER BY j.created_at DESC, j.id DESC LIMIT 1),
    latest_started_at = (SELECT j.started_at FROM jobs j WHERE j.experiment_name = experiments.name
                         ORDER BY j.created_at DESC, j.id DESC LIMIT 1),
    latest_epoch = (SELECT max(c.epoch) FROM checkpoints c WHERE c.experiment_id = experiments.id
                    AND c.gone_at IS NULL);

-- an experiment's derived columns as it is written (a new one may have jobs already: they match by name)
CREATE FUNCTION skydeck_experiment_derive() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.name IS DISTINCT FROM OLD.name THEN
        SELECT j.status, j.started_at INTO NEW.latest_status, NEW.latest_started_at FROM jobs j
            WHERE j.experiment_name = NEW.name ORDER BY j.created_at DESC, j.id DESC LIMIT 1;
        IF NOT FOUND THEN
            NEW.latest_status := NULL;
            NEW.latest_started_at := NULL;
        END IF;
    END IF;
    IF TG_OP = 'INSERT' THEN
        NEW.latest_epoch := (SELECT max(c.epoch) FROM checkpoints c WHERE c.experiment_id = NEW.id
                             AND c.gone_at IS NULL);
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER experiments_derive BEFORE INSERT OR UPDATE OF name ON experiments
    FOR EACH ROW EXECUTE FUNCTION skydeck_experiment_derive();

CREATE FUNCTION skydeck_experiment_flags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.flag_index IS NOT DISTINCT FROM OLD.flag_index THEN
            RETURN NULL;
        END IF;
        DELETE FROM experiment_flags WHERE experiment_id = NEW.id;
    END IF;
    INSERT INTO experiment_flags (experiment_id, name, value_text, value_num, value_json)
        SELECT NEW.id, f.value ->> 0, f.value ->> 1, (f.value ->> 2)::double precision, f.value ->> 3
        FROM json_array_elements(coalesce(NEW.flag_index, '[]')::json) AS f(value);
    RETURN NULL;
END $$;

CREATE TRIGGER experiments_flags AFTER INSERT OR UPDATE OF flag_index ON experiments
    FOR EACH ROW EXECUTE FUNCTION skydeck_experiment_flags();

CREATE FUNCTION skydeck_job_derive() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status
            AND NEW.started_at IS NOT DISTINCT FROM OLD.started_at
            AND NEW.created_at IS NOT DISTINCT FROM OLD.created_at THEN
        RETURN NULL;
    END IF;
    UPDATE experiments e SET latest_status = l.status, latest_started_at = l.started_at
        FROM (SELECT j.status, j.started_at FROM jobs j WHERE j.experiment_name = NEW.experiment_name
              ORDER BY j.created_at DESC, j.id DESC LIMIT 1) l
        WHERE e.name = NEW.experiment_name
          AND (e.latest_status IS DISTINCT FROM l.status OR e.latest_started_at IS DISTINCT FROM l.started_at);
    RETURN NULL;
END $$;

CREATE TRIGGER jobs_derive AFTER INSERT OR UPDATE OF status, started_at, created_at ON jobs
    FOR EACH ROW EXECUTE FUNCTION skydeck_job_derive();

CREATE FUNCTION skydeck_checkpoint_derive() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    target bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.experiment_id ELSE NEW.experiment_id END;
BEGIN
    UPDATE experiments SET latest_epoch = (SELECT max(c.epoch) FROM checkpoints c WHERE c.experiment_id = target
                                           AND c.gone_at IS NULL)
        WHERE id = target;
    RETURN NULL;
END $$;

CREATE TRIGGER checkpoints_derive AFTER INSERT OR UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION skydeck_checkpoint_derive();
