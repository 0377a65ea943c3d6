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

    /** Every process on a SQLite file runs on one machine, under one clock: the caller's. */
    @Override
    public String nowNanos() {
        return "?";
    }

    @Override
    public boolean isConstraintViolation(SQLException e) {
        return (e.getErrorCode() & 0xff) == SQLITE_CONSTRAINT;
    }
}
