-- Version 5 (issue 14): who did what, and which process drives the engine.
-- Experiments record who created them and who last asked them to run; jobs, on whose behalf
-- they were launched; events, the user who acted. Tokens belong to users and are kept as the
-- SHA-256 of their secret. A lease with a fencing token says which process may reconcile, poll
-- and sync when several share this database.
ALTER TABLE experiments ADD COLUMN created_by TEXT;
ALTER TABLE experiments ADD COLUMN started_by TEXT;
ALTER TABLE jobs ADD COLUMN launched_by TEXT;
ALTER TABLE events ADD COLUMN user_name TEXT;

CREATE INDEX experiments_created_by ON experiments (created_by) WHERE created_by IS NOT NULL;
CREATE INDEX jobs_launched_by ON jobs (launched_by, created_at, id) WHERE launched_by IS NOT NULL;

CREATE TABLE leases (
    name       TEXT    NOT NULL PRIMARY KEY,
    holder     TEXT    NOT NULL,
    token      INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE api_tokens (
    id         TEXT    NOT NULL PRIMARY KEY,
    user_name  TEXT    NOT NULL,
    hash       TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT, WITHOUT ROWID;
