-- SkyDeck's SQLite schema, version 1.
-- Times are INTEGER nanoseconds since the epoch (UTC): exact for java.time.Instant, sortable,
-- and cheap to index. Lists and flag maps are JSON text (flag order and value types preserved).
-- Booleans are 0/1.

CREATE TABLE experiments (
    id                        INTEGER PRIMARY KEY,
    name                      TEXT    NOT NULL,
    flags                     TEXT    NOT NULL,
    base_command              TEXT    NOT NULL,
    tool_path                 TEXT,
    git_branch                TEXT,
    nodes                     INTEGER NOT NULL,
    gpus                      INTEGER NOT NULL,
    cloud                     TEXT,
    region                    TEXT,
    instance_type             TEXT,
    accelerator               TEXT,
    spot                      INTEGER NOT NULL,
    desired_state             TEXT    NOT NULL,
    restart_mode              TEXT    NOT NULL,
    max_restarts              INTEGER NOT NULL,
    restart_backoff_nanos     INTEGER NOT NULL,
    restart_max_backoff_nanos INTEGER NOT NULL,
    priority                  INTEGER NOT NULL,
    description               TEXT,
    tags                      TEXT    NOT NULL,
    task_template             TEXT,
    starred                   INTEGER NOT NULL,
    sort_order                INTEGER NOT NULL,
    expanded                  INTEGER NOT NULL,
    deleted                   INTEGER NOT NULL CHECK (deleted IN (0, 1)),
    created_at                INTEGER NOT NULL,
    updated_at                INTEGER NOT NULL,
    version                   INTEGER NOT NULL,
    generation                INTEGER NOT NULL,
    -- the reconciler's observations (ExperimentStatus)
    stage                     TEXT,
    state_reason              TEXT,
    observed_generation       INTEGER NOT NULL,
    launch_retries            INTEGER NOT NULL,
    next_attempt_at           INTEGER,
    settled                   INTEGER NOT NULL
) STRICT;

-- A name is unique among live experiments only: soft-deleting one frees its name.
CREATE UNIQUE INDEX experiments_live_name ON experiments (name) WHERE deleted = 0;
CREATE INDEX experiments_sort_order ON experiments (sort_order);

CREATE TABLE jobs (
    id                TEXT    NOT NULL PRIMARY KEY,
    -- jobs match experiments by name (jobs launched by hand are adopted; unmatched ones are orphans)
    experiment_name   TEXT    NOT NULL,
    backend           TEXT    NOT NULL,
    backend_job_id    TEXT,
    launch_id         TEXT,
    status            TEXT    NOT NULL,
    -- mirrors JobStatus.isActive(): every status but the terminal ones
    active            INTEGER GENERATED ALWAYS AS (status NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED')) VIRTUAL,
    backend_status    TEXT,
    failure_reason    TEXT,
    details           TEXT,
    stage             TEXT    NOT NULL,
    stage_since       INTEGER NOT NULL,
    attempt           INTEGER NOT NULL,
    generation        INTEGER NOT NULL,
    command           TEXT    NOT NULL,
    flags             TEXT    NOT NULL,
    nodes             INTEGER NOT NULL,
    gpus              INTEGER NOT NULL,
    res_cloud         TEXT,
    res_region        TEXT,
    res_instance_type TEXT,
    res_accelerator   TEXT,
    res_spot          INTEGER NOT NULL,
    git_ref           TEXT,
    created_at        INTEGER NOT NULL,
    submitted_at      INTEGER,
    started_at        INTEGER,
    ended_at          INTEGER,
    exit_code         INTEGER,
    recovery_count    INTEGER NOT NULL,
    cluster_name      TEXT,
    cloud             TEXT,
    region            TEXT,
    updated_at        INTEGER NOT NULL
) STRICT;

-- SPEC §4: at most one active SkyDeck launch per experiment, enforced by the database itself so
-- that double clicks, bulk starts and two processes on one file can never launch twice.
CREATE UNIQUE INDEX jobs_one_active_launch ON jobs (experiment_name) WHERE active AND launch_id IS NOT NULL;
CREATE UNIQUE INDEX jobs_launch_id ON jobs (launch_id) WHERE launch_id IS NOT NULL;
-- the latest job of an experiment (current state) and its job list
CREATE INDEX jobs_experiment ON jobs (experiment_name, created_at, id);
CREATE INDEX jobs_backend ON jobs (backend, backend_job_id);
CREATE INDEX jobs_newest ON jobs (created_at, id);
CREATE INDEX jobs_active ON jobs (experiment_name) WHERE active;
-- the poller lists active jobs often: only those, newest first, without scanning the history
CREATE INDEX jobs_active_newest ON jobs (created_at, id) WHERE active;

CREATE TABLE experiment_groups (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    name_prefix TEXT,
    flags       TEXT    NOT NULL,
    sort_order  INTEGER NOT NULL,
    collapsed   INTEGER NOT NULL
) STRICT;

CREATE TABLE group_members (
    group_id      INTEGER NOT NULL REFERENCES experiment_groups (id) ON DELETE CASCADE,
    experiment_id INTEGER NOT NULL REFERENCES experiments (id),
    position      INTEGER NOT NULL,
    PRIMARY KEY (group_id, experiment_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX group_members_experiment ON group_members (experiment_id);

CREATE TABLE checkpoints (
    experiment_id  INTEGER NOT NULL REFERENCES experiments (id),
    epoch          INTEGER NOT NULL,
    model_path     TEXT    NOT NULL,
    replay_paths   TEXT    NOT NULL,
    policy_version TEXT,
    size_bytes     INTEGER NOT NULL,
    created_at     INTEGER,
    synced_at      INTEGER,
    gone_at        INTEGER,
    PRIMARY KEY (experiment_id, epoch)
) STRICT, WITHOUT ROWID;

CREATE TABLE events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    time            INTEGER NOT NULL,
    actor           TEXT    NOT NULL,
    type            TEXT    NOT NULL,
    experiment_id   INTEGER,
    experiment_name TEXT,
    job_id          TEXT,
    success         INTEGER NOT NULL,
    message         TEXT    NOT NULL,
    detail          TEXT
) STRICT;

CREATE INDEX events_experiment ON events (experiment_id, seq);

CREATE TABLE settings (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
) STRICT, WITHOUT ROWID;
