-- Version 4 (issue 11): a launch whose request is still in flight at the backend keeps the
-- backend's handle on it (a SkyPilot request id), so any process can follow or cancel it; and
-- experiments and jobs may name a pool of warm workers to run on.
ALTER TABLE jobs ADD COLUMN launch_ref TEXT;
ALTER TABLE jobs ADD COLUMN res_pool TEXT;
ALTER TABLE experiments ADD COLUMN pool TEXT;
