-- Version 5 (issue 15; the SQLite store's version 11): a text search finds its experiments from a
-- trigram index of the search text (pg_trgm's GIN operator class) instead of reading every
-- experiment's search text. The store looks for the needle with LIKE, which the index serves and
-- PostgreSQL rechecks row by row, so what matches is what matched before. pg_trgm ships with
-- PostgreSQL's contrib modules and is a trusted extension (the database's owner may create it);
-- where it cannot be created, the migration says so and text searches read every row as before.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX experiments_search_trgm ON experiments USING gin (search_text gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'SkyDeck: no trigram index for text search (%): searches read every experiment; '
        'to add it, install PostgreSQL''s contrib modules, then run as the database owner: CREATE EXTENSION '
        'pg_trgm; CREATE INDEX experiments_search_trgm ON experiments USING gin (search_text gin_trgm_ops);',
        SQLERRM;
END $$;
