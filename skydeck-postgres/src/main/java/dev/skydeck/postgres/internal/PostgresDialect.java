package dev.skydeck.postgres.internal;

import dev.skydeck.jdbc.Dialect;
import java.sql.SQLException;

/**
 * PostgreSQL's fragments: real booleans, JSON arrays through {@code json_array_elements_text},
 * the database server's clock for leases (the one clock every SkyDeck process sharing it agrees
 * on), and a {@code NOTIFY} that wakes every other process's event feed at commit.
 */
public final class PostgresDialect implements Dialect {
    /** The channel a write that appended events notifies (delivered at commit, never for a rollback). */
    public static final String CHANNEL = "skydeck_events";
    /** The one instance. */
    public static final PostgresDialect INSTANCE = new PostgresDialect();

    private PostgresDialect() {
    }

    @Override
    public String falseLiteral() {
        return "FALSE";
    }

    @Override
    public String jsonArrayValues(boolean integers) {
        return integers
                ? "(SELECT a.value::bigint FROM json_array_elements_text(?::json) AS a(value))"
                : "(SELECT a.value FROM json_array_elements_text(?::json) AS a(value))";
    }

    @Override
    public String jsonArrayRows() {
        return "(SELECT a.value::bigint AS value, (a.ordinality - 1)::integer AS position"
                + " FROM json_array_elements_text(?::json) WITH ORDINALITY AS a(value, ordinality)) AS t";
    }

    @Override
    public String jsonArrayAgg(String value, String orderBy) {
        return "json_agg(" + value + " ORDER BY " + orderBy + ")";
    }

    @Override
    public String jsonArrayContains(String column) {
        return "EXISTS (SELECT 1 FROM json_array_elements_text(" + column + "::json) AS t(value) WHERE t.value = ?)";
    }

    /**
     * LIKE with the needle's wildcards escaped: the same match as {@code strpos}, which the trigram
     * index of the search text (schema 5, where pg_trgm could be created) serves.
     */
    @Override
    public String containsText(String expression) {
        return expression + " LIKE '%' || replace(replace(replace(?, '\\', '\\\\'), '%', '\\%'), '_', '\\_')"
                + " || '%'";
    }

    @Override
    public String topFlagValues() {
        return "flag_names k CROSS JOIN LATERAL (SELECT x.value_text, x.experiments FROM flag_values x"
                + " WHERE x.name = k.name ORDER BY x.experiments DESC, x.value_text LIMIT ?) v";
    }

    @Override
    public String nowNanos() {
        return "(extract(epoch FROM clock_timestamp()) * 1000000000)::bigint";
    }

    @Override
    public String afterEventsAppended() {
        return "NOTIFY " + CHANNEL;
    }

    @Override
    public boolean isConstraintViolation(SQLException e) {
        return e.getSQLState() != null && e.getSQLState().startsWith("23");
    }
}
