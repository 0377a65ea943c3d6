package dev.skydeck.sqlite.internal;

import dev.skydeck.jdbc.Dialect;
import java.sql.SQLException;

/** SQLite's fragments: booleans are 0/1, JSON arrays through {@code json_each}, the caller's clock. */
public final class SqliteDialect implements Dialect {
    /** The one instance. */
    public static final SqliteDialect INSTANCE = new SqliteDialect();
    private static final int SQLITE_CONSTRAINT = 19;

    private SqliteDialect() {
    }

    @Override
    public String falseLiteral() {
        return "0";
    }

    @Override
    public String jsonArrayValues(boolean integers) {
        return "(SELECT value FROM json_each(?))";
    }

    @Override
    public String jsonArrayRows() {
        return "(SELECT value, key AS position FROM json_each(?)) AS t";
    }

    @Override
    public String jsonArrayAgg(String value, String orderBy) {
        return "json_group_array(" + value + " ORDER BY " + orderBy + ")";
    }

    @Override
    public String jsonArrayContains(String column) {
        return "EXISTS (SELECT 1 FROM json_each(" + column + ") t WHERE t.value = ?)";
    }

    @Override
    public String containsText(String expression) {
        return "instr(" + expression + ", ?) > 0";
    }

    /**
     * The FTS5 trigram index of the search text (schema 11, trigrams in their case), for a needle of
     * three characters or more: the needle as one quoted phrase, its trigrams one after another, which
     * is where the needle occurs.
     */
    @Override
    public String textMatches(String id, String needle) {
        if (needle.codePointCount(0, needle.length()) < 3) {
            return null;
        }
        return id + " IN (SELECT rowid FROM experiment_search WHERE experiment_search MATCH"
                + " '\"' || replace(?, '\"', '\"\"') || '\"')";
    }

    /** SQLite's unary plus: the same value, never an index's. */
    @Override
    public String offIndex(String expression) {
        return "+" + expression;
    }

    /** SQLite has no lateral join: the join probes the ids a correlated subquery takes from the index. */
    @Override
    public String topFlagValues() {
        return "flag_names k JOIN flag_values v ON v.id IN (SELECT x.id FROM flag_values x WHERE x.name = k.name"
                + " ORDER BY x.experiments DESC, x.value_text LIMIT ?)";
    }

    /** Every process on a SQLite file runs on one machine, under one clock: the caller's. */
    @Override
    public String nowNanos() {
        return "?";
    }

    /** Preparing a write compiles its triggers (flag counts, the trigram index): keep them per connection. */
    @Override
    public boolean keepsStatements() {
        return true;
    }

    @Override
    public boolean isConstraintViolation(SQLException e) {
        return (e.getErrorCode() & 0xff) == SQLITE_CONSTRAINT;
    }
}
