-- Version 3 (issue 10): the desired state each reconcile pass acted on, the configuration a job
-- was launched from (drift: its experiment's spec changed since), and cancels as intent (asked
-- for, sent, confirmed by the job's next observed status).
ALTER TABLE experiments ADD COLUMN observed_desired TEXT;

ALTER TABLE jobs ADD COLUMN config_hash TEXT;
ALTER TABLE jobs ADD COLUMN cancel_requested_at INTEGER;
ALTER TABLE jobs ADD COLUMN cancel_requested_by TEXT;
ALTER TABLE jobs ADD COLUMN cancel_sent_at INTEGER;
ALTER TABLE jobs ADD COLUMN cancel_attempts INTEGER NOT NULL DEFAULT 0;
