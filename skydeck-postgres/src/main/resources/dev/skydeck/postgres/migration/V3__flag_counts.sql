-- Version 3 (issue 15; the SQLite store's version 9): the facets of the whole deck (no filter,
-- the dashboard's first load) read from counts kept by triggers instead of counting every flag
-- row of every live experiment. flag_names: per flag, the live experiments that have it and how
-- many different values they have; flag_values: per flag and value (as text), the live
-- experiments with that value. A row goes when its count reaches 0. The trigger works from the
-- experiment row's own old and new flag_index and deleted, so it agrees with experiment_flags
-- whatever order the triggers of one statement fire in. Writers are serialised by the store's
-- advisory lock, so the counts' rows are never contended.
CREATE TABLE flag_names (
    name        text COLLATE "C" NOT NULL PRIMARY KEY,
    experiments bigint           NOT NULL,
    vals        bigint           NOT NULL
);

CREATE TABLE flag_values (
    name        text COLLATE "C" NOT NULL,
    value_text  text COLLATE "C" NOT NULL,
    experiments bigint           NOT NULL,
    PRIMARY KEY (name, value_text)
);

-- a flag's most frequent values, read from the index's start
CREATE INDEX flag_values_top ON flag_values (name, experiments DESC, value_text);

INSERT INTO flag_names (name, experiments, vals)
    SELECT f.name, count(*), count(DISTINCT f.value_text)
    FROM experiment_flags f JOIN experiments e ON e.id = f.experiment_id
    WHERE NOT e.deleted GROUP BY f.name;
INSERT INTO flag_values (name, value_text, experiments)
    SELECT f.name, f.value_text, count(*)
    FROM experiment_flags f JOIN experiments e ON e.id = f.experiment_id
    WHERE NOT e.deleted GROUP BY f.name, f.value_text;

CREATE FUNCTION skydeck_flag_value_vals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE flag_names SET vals = vals + 1 WHERE name = NEW.name;
    ELSE
        UPDATE flag_names SET vals = vals - 1 WHERE name = OLD.name;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER flag_values_vals AFTER INSERT OR DELETE ON flag_values
    FOR EACH ROW EXECUTE FUNCTION skydeck_flag_value_vals();

CREATE FUNCTION skydeck_flag_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.deleted IS NOT DISTINCT FROM OLD.deleted
            AND NEW.flag_index IS NOT DISTINCT FROM OLD.flag_index THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' AND NOT OLD.deleted THEN
        UPDATE flag_values v SET experiments = v.experiments - 1
            FROM json_array_elements(coalesce(OLD.flag_index, '[]')::json) AS f(value)
            WHERE v.name = f.value ->> 0 AND v.value_text = f.value ->> 1;
        DELETE FROM flag_values v USING json_array_elements(coalesce(OLD.flag_index, '[]')::json) AS f(value)
            WHERE v.name = f.value ->> 0 AND v.value_text = f.value ->> 1 AND v.experiments = 0;
        UPDATE flag_names n SET experiments = n.experiments - 1
            FROM json_array_elements(coalesce(OLD.flag_index, '[]')::json) AS f(value)
            WHERE n.name = f.value ->> 0;
        DELETE FROM flag_names n USING json_array_elements(coalesce(OLD.flag_index, '[]')::json) AS f(value)
            WHERE n.name = f.value ->> 0 AND n.experiments = 0;
    END IF;
    IF TG_OP <> 'DELETE' AND NOT NEW.deleted THEN
        INSERT INTO flag_names (name, experiments, vals)
            SELECT f.value ->> 0, 1, 0 FROM json_array_elements(coalesce(NEW.flag_index, '[]')::json) AS f(value)
            ON CONFLICT (name) DO UPDATE SET experiments = flag_names.experiments + 1;
        INSERT INTO flag_values (name, value_text, experiments)
            SELECT f.value ->> 0, f.value ->> 1, 1
            FROM json_array_elements(coalesce(NEW.flag_index, '[]')::json) AS f(value)
            ON CONFLICT (name, value_text) DO UPDATE SET experiments = flag_values.experiments + 1;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER experiments_count_flags AFTER INSERT OR UPDATE OF deleted, flag_index OR DELETE ON experiments
    FOR EACH ROW EXECUTE FUNCTION skydeck_flag_counts();

-- the desired states' counts of the facets, from the index alone
CREATE INDEX experiments_live_desired ON experiments (desired_state) WHERE deleted = FALSE;
