-- Version 8 (issue 15): SQLite counts a page's total and scans for a text search from an index
-- alone only when the index holds every column the query names, the partial index's own
-- "deleted = 0" included. Measured on 100,000 experiments: counting the live ones and a text
-- search then read the narrow index instead of every (wide) experiment row.
DROP INDEX experiments_live_search;
CREATE INDEX experiments_live_search ON experiments (search_text, deleted) WHERE deleted = 0;
DROP INDEX experiments_live_state;
CREATE INDEX experiments_live_state ON experiments (current_state, sort_order, deleted) WHERE deleted = 0;
CREATE INDEX experiments_live_order ON experiments (sort_order, deleted, current_state) WHERE deleted = 0;
