-- Version 6 (issue 12): the value passed as run= when it is not the experiment's name (the
-- original SkyDeck's run_name, kept by its importer).
ALTER TABLE experiments ADD COLUMN run_name TEXT;
