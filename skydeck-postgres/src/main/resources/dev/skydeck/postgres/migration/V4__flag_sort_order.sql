-- Version 4 (issue 15; the SQLite store's version 10): a page sorted by a flag follows an index
-- instead of sorting every live experiment. Ties between equal flag values are broken by the
-- user's order (sort_order, then id), which lived on the experiment row only; experiment_flags
-- now carries its experiment's sort_order, kept by the flags trigger in the same transaction as
-- the experiment's write, and one index holds the whole sort key.
ALTER TABLE experiment_flags ADD COLUMN sort_order integer NOT NULL DEFAULT 0;

UPDATE experiment_flags f SET sort_order = e.sort_order FROM experiments e WHERE e.id = f.experiment_id;

DROP INDEX experiment_flags_sort;
CREATE INDEX experiment_flags_sort ON experiment_flags (name, (value_num IS NULL), value_num, value_text, sort_order,
    experiment_id);

CREATE OR REPLACE FUNCTION skydeck_experiment_flags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.flag_index IS NOT DISTINCT FROM OLD.flag_index THEN
            -- a star or an expand writes sort_order unchanged: only a real move touches the flag rows
            IF NEW.sort_order IS DISTINCT FROM OLD.sort_order THEN
                UPDATE experiment_flags SET sort_order = NEW.sort_order WHERE experiment_id = NEW.id;
            END IF;
            RETURN NULL;
        END IF;
        DELETE FROM experiment_flags WHERE experiment_id = NEW.id;
    END IF;
    INSERT INTO experiment_flags (experiment_id, name, value_text, value_num, value_json, sort_order)
        SELECT NEW.id, f.value ->> 0, f.value ->> 1, (f.value ->> 2)::double precision, f.value ->> 3, NEW.sort_order
        FROM json_array_elements(coalesce(NEW.flag_index, '[]')::json) AS f(value);
    RETURN NULL;
END $$;

DROP TRIGGER experiments_flags ON experiments;
CREATE TRIGGER experiments_flags AFTER INSERT OR UPDATE OF flag_index, sort_order ON experiments
    FOR EACH ROW EXECUTE FUNCTION skydeck_experiment_flags();
