-- Version 11 (issue 15): a text search finds its experiments from an index of the search text's
-- trigrams (FTS5) instead of scanning every experiment's search text (36 ms at 100,000
-- experiments for a needle matching 1,100). The index holds the trigrams only (its text is the
-- experiments table's own search_text, an external-content table), kept by triggers in the same
-- transaction as the experiment's write. A needle of three characters or more is looked up in
-- it as one phrase: consecutive trigrams, which is a substring match. The trigrams keep their
-- case (SkyDeck lower-cases the search text and the needle itself), so the index answers exactly
-- what a substring search of the text answers, character for character, and the store reads no
-- experiment's text to check it. Shorter needles scan as before.
CREATE VIRTUAL TABLE experiment_search USING fts5(search_text, content = 'experiments', content_rowid = 'id',
    tokenize = 'trigram case_sensitive 1');

INSERT INTO experiment_search (experiment_search) VALUES ('rebuild');

CREATE TRIGGER experiments_search_on_insert AFTER INSERT ON experiments BEGIN
    INSERT INTO experiment_search (rowid, search_text) VALUES (NEW.id, NEW.search_text);
END;

CREATE TRIGGER experiments_search_on_update AFTER UPDATE OF search_text ON experiments
        WHEN OLD.search_text IS NOT NEW.search_text BEGIN
    INSERT INTO experiment_search (experiment_search, rowid, search_text) VALUES ('delete', OLD.id, OLD.search_text);
    INSERT INTO experiment_search (rowid, search_text) VALUES (NEW.id, NEW.search_text);
END;

CREATE TRIGGER experiments_search_on_delete AFTER DELETE ON experiments BEGIN
    INSERT INTO experiment_search (experiment_search, rowid, search_text) VALUES ('delete', OLD.id, OLD.search_text);
END;
