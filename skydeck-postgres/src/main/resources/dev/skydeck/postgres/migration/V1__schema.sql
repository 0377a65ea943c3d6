-- SkyDeck's PostgreSQL schema, version 1: the same tables as the SQLite store's (version 5).
-- Times are bigint nanoseconds since the epoch (UTC): exact for java.time.Instant, and the same
-- as SQLite's, so a deck moves between the two without losing a digit. Flags and lists are JSON
-- text (json would keep it too, jsonb would reorder flags). Names and ids sort by byte ("C"), as
-- on SQLite, whatever the database's collation.
-- Ids are assigned by SkyDeck (one more than the highest, under its write lock), so imported and
-- migrated rows keep theirs and no sequence needs moving.

CREATE TABLE experiments (
    id                        bigint  NOT NULL PRIMARY KEY,
    name                      text    COLLATE "C" NOT NULL,
    flags                     text    NOT NULL,
    base_command              text    NOT NULL,
    tool_path                 text,
    git_branch                text,
    nodes                     integer NOT NULL,
    gpus                      integer NOT NULL,
    cloud                     text,
    region                    text,
    instance_type             text,
    accelerator               text,
    spot                      boolean NOT NULL,
    pool                      text,
    desired_state             text    NOT NULL,
    restart_mode              text    NOT NULL,
    max_restarts              integer NOT NULL,
    restart_backoff_nanos     bigint  NOT NULL,
    restart_max_backoff_nanos bigint  NOT NULL,
    priority                  integer NOT NULL,
    description               text,
    tags                      text    NOT NULL,
    task_template             text,
    starred                   boolean NOT NULL,
    sort_order                integer NOT NULL,
    expanded                  boolean NOT NULL,
    deleted                   boolean NOT NULL,
    created_at                bigint  NOT NULL,
    updated_at                bigint  NOT NULL,
    version                   bigint  NOT NULL,
    generation                bigint  NOT NULL,
    -- the reconciler's observations (ExperimentStatus)
    stage                     text,
    state_reason              text,
    observed_generation       bigint  NOT NULL,
    observed_desired          text,
    launch_retries            integer NOT NULL,
    next_attempt_at           bigint,
    settled                   boolean NOT NULL,
    -- who: the user who created it and who last asked it to run
    created_by                text,
    started_by                text,
    -- passed as run= instead of the name (an experiment imported from the original SkyDeck)
    run_name                  text
);

-- A name is unique among live experiments only: soft-deleting one frees its name.
CREATE UNIQUE INDEX experiments_live_name ON experiments (name) WHERE deleted = FALSE;
CREATE INDEX experiments_sort_order ON experiments (sort_order);
CREATE INDEX experiments_created_by ON experiments (created_by) WHERE created_by IS NOT NULL;

CREATE TABLE jobs (
    id                  text    COLLATE "C" NOT NULL PRIMARY KEY,
    -- jobs match experiments by name (jobs launched by hand are adopted; unmatched ones are orphans)
    experiment_name     text    COLLATE "C" NOT NULL,
    backend             text    NOT NULL,
    backend_job_id      text,
    launch_id           text,
    launch_ref          text,
    status              text    NOT NULL,
    -- mirrors JobStatus.isActive(): every status but the terminal ones
    active              boolean GENERATED ALWAYS AS (status NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED')) STORED,
    backend_status      text,
    failure_reason      text,
    details             text,
    stage               text    NOT NULL,
    stage_since         bigint  NOT NULL,
    attempt             integer NOT NULL,
    generation          bigint  NOT NULL,
    command             text    NOT NULL,
    flags               text    NOT NULL,
    nodes               integer NOT NULL,
    gpus                integer NOT NULL,
    res_cloud           text,
    res_region          text,
    res_instance_type   text,
    res_accelerator     text,
    res_spot            boolean NOT NULL,
    res_pool            text,
    git_ref             text,
    config_hash         text,
    created_at          bigint  NOT NULL,
    submitted_at        bigint,
    started_at          bigint,
    ended_at            bigint,
    exit_code           integer,
    recovery_count      integer NOT NULL,
    cluster_name        text,
    cloud               text,
    region              text,
    cancel_requested_at bigint,
    cancel_requested_by text,
    cancel_sent_at      bigint,
    cancel_attempts     integer NOT NULL DEFAULT 0,
    updated_at          bigint  NOT NULL,
    launched_by         text
);

-- SPEC §4: at most one active SkyDeck launch per experiment, enforced by the database itself so
-- that double clicks, bulk starts and any number of SkyDeck processes can never launch twice.
CREATE UNIQUE INDEX jobs_one_active_launch ON jobs (experiment_name) WHERE active AND launch_id IS NOT NULL;
CREATE UNIQUE INDEX jobs_launch_id ON jobs (launch_id) WHERE launch_id IS NOT NULL;
-- the latest job of an experiment (current state, from the index alone) and its job list
CREATE INDEX jobs_experiment ON jobs (experiment_name, created_at, id) INCLUDE (status);
CREATE INDEX jobs_backend ON jobs (backend, backend_job_id);
CREATE INDEX jobs_newest ON jobs (created_at, id);
CREATE INDEX jobs_active_newest ON jobs (created_at, id) WHERE active;
CREATE INDEX jobs_launched_by ON jobs (launched_by, created_at, id) WHERE launched_by IS NOT NULL;

CREATE TABLE experiment_groups (
    id          bigint  NOT NULL PRIMARY KEY,
    name        text    NOT NULL,
    name_prefix text,
    flags       text    NOT NULL,
    sort_order  integer NOT NULL,
    collapsed   boolean NOT NULL
);

CREATE TABLE group_members (
    group_id      bigint  NOT NULL REFERENCES experiment_groups (id) ON DELETE CASCADE,
    experiment_id bigint  NOT NULL REFERENCES experiments (id),
    position      integer NOT NULL,
    PRIMARY KEY (group_id, experiment_id)
);

CREATE INDEX group_members_experiment ON group_members (experiment_id);

CREATE TABLE checkpoints (
    experiment_id  bigint NOT NULL REFERENCES experiments (id),
    epoch          bigint NOT NULL,
    model_path     text   NOT NULL,
    replay_paths   text   NOT NULL,
    policy_version text,
    size_bytes     bigint NOT NULL,
    created_at     bigint,
    synced_at      bigint,
    gone_at        bigint,
    PRIMARY KEY (experiment_id, epoch)
);

-- Numbered by SkyDeck in commit order, without gaps (writers hold one advisory lock).
CREATE TABLE events (
    seq             bigint  NOT NULL PRIMARY KEY,
    time            bigint  NOT NULL,
    actor           text    NOT NULL,
    type            text    NOT NULL,
    experiment_id   bigint,
    experiment_name text,
    job_id          text,
    success         boolean NOT NULL,
    message         text    NOT NULL,
    detail          text,
    user_name       text
);

CREATE INDEX events_experiment ON events (experiment_id, seq);

CREATE TABLE settings (
    key   text NOT NULL PRIMARY KEY,
    value text NOT NULL
);

-- Which SkyDeck process may reconcile, poll and sync; measured by this server's clock.
CREATE TABLE leases (
    name       text   NOT NULL PRIMARY KEY,
    holder     text   NOT NULL,
    token      bigint NOT NULL,
    expires_at bigint NOT NULL
);

CREATE TABLE api_tokens (
    id         text   NOT NULL PRIMARY KEY,
    user_name  text   NOT NULL,
    hash       text   NOT NULL UNIQUE,
    created_at bigint NOT NULL,
    revoked_at bigint
);
