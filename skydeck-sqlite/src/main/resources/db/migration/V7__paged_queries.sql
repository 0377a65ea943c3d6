-- Version 7 (issue 15): pages of 100,000 experiments sorted and filtered by any column, in a
-- constant number of statements and without reading every row.
--
-- What the store derived per row on every read (the latest job's status and start, the latest
-- epoch) is kept on the experiment row by triggers, in the same transaction as the job or
-- checkpoint write, so it can be filtered, sorted and indexed; current_state mirrors
-- ExperimentStatus#currentState. Flag values live in experiment_flags, one row per flag (its
-- text, its number, its JSON), written by triggers from flag_index: SkyDeck writes flag_index
-- (and search_text, what a text search looks in) with the experiment's spec, computed in Java so
-- every store agrees on a value's text. Rows of older versions get both when the store opens.
ALTER TABLE experiments ADD COLUMN latest_status TEXT;
ALTER TABLE experiments ADD COLUMN latest_started_at INTEGER;
ALTER TABLE experiments ADD COLUMN latest_epoch INTEGER;
ALTER TABLE experiments ADD COLUMN flag_index TEXT;
ALTER TABLE experiments ADD COLUMN search_text TEXT;
ALTER TABLE experiments ADD COLUMN current_state TEXT GENERATED ALWAYS AS (CASE WHEN stage = 'QUEUED'
    OR latest_status = 'INIT' THEN 'PENDING' WHEN latest_status IS NULL THEN 'INIT' ELSE latest_status END) VIRTUAL;

CREATE TABLE experiment_flags (
    experiment_id INTEGER NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    value_text    TEXT    NOT NULL,
    value_num     REAL,
    value_json    TEXT    NOT NULL,
    PRIMARY KEY (experiment_id, name)
) STRICT, WITHOUT ROWID;

CREATE INDEX experiment_flags_value ON experiment_flags (name, value_text, experiment_id);
CREATE INDEX experiment_flags_sort ON experiment_flags (name, (value_num IS NULL), value_num, value_text);

-- jobs match experiments by name, deleted ones included
CREATE INDEX experiments_name ON experiments (name);
CREATE INDEX experiments_live_state ON experiments (current_state, sort_order) WHERE deleted = 0;
CREATE INDEX experiments_live_name_order ON experiments (name, sort_order) WHERE deleted = 0;
CREATE INDEX experiments_live_created ON experiments (created_at, sort_order) WHERE deleted = 0;
CREATE INDEX experiments_live_updated ON experiments (updated_at, sort_order) WHERE deleted = 0;
CREATE INDEX experiments_live_priority ON experiments (priority, sort_order) WHERE deleted = 0;
CREATE INDEX experiments_live_epoch ON experiments ((latest_epoch IS NULL), latest_epoch, sort_order) WHERE deleted = 0;
CREATE INDEX experiments_live_epoch_desc ON experiments ((latest_epoch IS NOT NULL), latest_epoch, sort_order)
    WHERE deleted = 0;
CREATE INDEX experiments_live_started ON experiments ((latest_started_at IS NULL), latest_started_at, sort_order)
    WHERE deleted = 0;
CREATE INDEX experiments_live_started_desc ON experiments ((latest_started_at IS NOT NULL), latest_started_at,
    sort_order) WHERE deleted = 0;
CREATE INDEX experiments_live_search ON experiments (search_text) WHERE deleted = 0;

UPDATE experiments SET
    latest_status = (SELECT j.status FROM jobs j WHERE j.experiment_name = experiments.name
                     ORDER BY j.created_at DESC, j.id DESC LIMIT 1),
    latest_started_at = (SELECT j.started_at FROM jobs j WHERE j.experiment_name = experiments.name
                         ORDER BY j.created_at DESC, j.id DESC LIMIT 1),
    latest_epoch = (SELECT max(c.epoch) FROM checkpoints c WHERE c.experiment_id = experiments.id
                    AND c.gone_at IS NULL);

CREATE TRIGGER experiments_derive_on_insert AFTER INSERT ON experiments BEGIN
    UPDATE experiments SET
        latest_status = (SELECT j.status FROM jobs j WHERE j.experiment_name = NEW.name
                         ORDER BY j.created_at DESC, j.id DESC LIMIT 1),
        latest_started_at = (SELECT j.started_at FROM jobs j WHERE j.experiment_name = NEW.name
                             ORDER BY j.created_at DESC, j.id DESC LIMIT 1),
        latest_epoch = (SELECT max(c.epoch) FROM checkpoints c WHERE c.experiment_id = NEW.id AND c.gone_at IS NULL)
    WHERE id = NEW.id;
    INSERT INTO experiment_flags (experiment_id, name, value_text, value_num, value_json)
        SELECT NEW.id, json_extract(f.value, '$[0]'), json_extract(f.value, '$[1]'), json_extract(f.value, '$[2]'),
               json_extract(f.value, '$[3]')
        FROM json_each(coalesce(NEW.flag_index, '[]')) f;
END;

CREATE TRIGGER experiments_derive_on_rename AFTER UPDATE OF name ON experiments WHEN OLD.name IS NOT NEW.name BEGIN
    UPDATE experiments SET
        latest_status = (SELECT j.status FROM jobs j WHERE j.experiment_name = NEW.name
                         ORDER BY j.created_at DESC, j.id DESC LIMIT 1),
        latest_started_at = (SELECT j.started_at FROM jobs j WHERE j.experiment_name = NEW.name
                             ORDER BY j.created_at DESC, j.id DESC LIMIT 1)
    WHERE id = NEW.id;
END;

CREATE TRIGGER experiments_flags_on_update AFTER UPDATE OF flag_index ON experiments
        WHEN OLD.flag_index IS NOT NEW.flag_index BEGIN
    DELETE FROM experiment_flags WHERE experiment_id = NEW.id;
    INSERT INTO experiment_flags (experiment_id, name, value_text, value_num, value_json)
        SELECT NEW.id, json_extract(f.value, '$[0]'), json_extract(f.value, '$[1]'), json_extract(f.value, '$[2]'),
               json_extract(f.value, '$[3]')
        FROM json_each(coalesce(NEW.flag_index, '[]')) f;
END;

CREATE TRIGGER jobs_derive_on_insert AFTER INSERT ON jobs BEGIN
    UPDATE experiments SET
        latest_status = (SELECT j.status FROM jobs j WHERE j.experiment_name = NEW.experiment_name
                         ORDER BY j.created_at DESC, j.id DESC LIMIT 1),
        latest_started_at = (SELECT j.started_at FROM jobs j WHERE j.experiment_name = NEW.experiment_name
                             ORDER BY j.created_at DESC, j.id DESC LIMIT 1)
    WHERE name = NEW.experiment_name;
END;

CREATE TRIGGER jobs_derive_on_update AFTER UPDATE OF status, started_at, created_at ON jobs
        WHEN OLD.status IS NOT NEW.status OR OLD.started_at IS NOT NEW.started_at
            OR OLD.created_at IS NOT NEW.created_at BEGIN
    UPDATE experiments SET
        latest_status = (SELECT j.status FROM jobs j WHERE j.experiment_name = NEW.experiment_name
                         ORDER BY j.created_at DESC, j.id DESC LIMIT 1),
        latest_started_at = (SELECT j.started_at FROM jobs j WHERE j.experiment_name = NEW.experiment_name
                             ORDER BY j.created_at DESC, j.id DESC LIMIT 1)
    WHERE name = NEW.experiment_name;
END;

CREATE TRIGGER checkpoints_derive_on_insert AFTER INSERT ON checkpoints BEGIN
    UPDATE experiments SET latest_epoch = (SELECT max(c.epoch) FROM checkpoints c
        WHERE c.experiment_id = NEW.experiment_id AND c.gone_at IS NULL) WHERE id = NEW.experiment_id;
END;

CREATE TRIGGER checkpoints_derive_on_update AFTER UPDATE ON checkpoints BEGIN
    UPDATE experiments SET latest_epoch = (SELECT max(c.epoch) FROM checkpoints c
        WHERE c.experiment_id = NEW.experiment_id AND c.gone_at IS NULL) WHERE id = NEW.experiment_id;
END;

CREATE TRIGGER checkpoints_derive_on_delete AFTER DELETE ON checkpoints BEGIN
    UPDATE experiments SET latest_epoch = (SELECT max(c.epoch) FROM checkpoints c
        WHERE c.experiment_id = OLD.experiment_id AND c.gone_at IS NULL) WHERE id = OLD.experiment_id;
END;
