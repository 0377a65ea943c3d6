package dev.skydeck.jdbc;

import java.sql.SQLException;

/**
 * What differs between the SQL databases a {@link JdbcStore} runs on. Everything else (every
 * statement, row mapping and rule) is shared. Fragments are SQL text with {@code ?} where the
 * store binds a parameter.
 */
public interface Dialect {
    /** Literal SQL for {@code false} in a comparison with a boolean column ({@code 0} for SQLite, so partial indexes match). */
    String falseLiteral();

    /**
     * A subquery yielding the elements of a JSON array bound as one text parameter, as a column
     * named {@code value}: integers when {@code integers}, else text.
     */
    String jsonArrayValues(boolean integers);

    /**
     * A {@code FROM} item over the integer elements of a JSON array bound as one text parameter,
     * aliased {@code t}, with columns {@code value} and {@code position} (0-based).
     */
    String jsonArrayRows();

    /** An aggregate: the JSON array text of {@code value} over the group's rows, in {@code orderBy} order. */
    String jsonArrayAgg(String value, String orderBy);

    /** A condition: the JSON array of strings held as text in {@code column} contains the bound text parameter. */
    String jsonArrayContains(String column);

    /** A condition: the bound text parameter occurs in {@code expression}. */
    String containsText(String expression);

    /**
     * A condition: experiment {@code id} is one whose search text holds the bound needle (the same
     * as {@code needle}), found from a text index without reading the text: exactly what
     * {@link #containsText} of the search text answers. {@code null} when the database has no such
     * index or cannot look {@code needle} up in it (the store then checks {@link #containsText}).
     */
    default String textMatches(String id, String needle) {
        return null;
    }

    /**
     * {@code expression} in a form the planner does not look up in an index (the same value), for
     * a condition a page should check row by row while it follows its sort's index.
     */
    default String offIndex(String expression) {
        return expression;
    }

    /**
     * A {@code FROM} item: each {@code flag_names} row (aliased {@code k}) with its flag's first
     * {@code flag_values} rows by {@code experiments} descending then {@code value_text}, as
     * many as the bound parameter says (aliased {@code v}, with those two columns), read from
     * the {@code flag_values_top} index rather than by ranking every value.
     */
    String topFlagValues();

    /**
     * The current time as epoch nanoseconds, by the clock leases are measured with: {@code ?}
     * when the caller's clock is used (the store binds it), or an expression of the database
     * server's own clock for a database that several machines share.
     */
    String nowNanos();

    /** Whether {@link #nowNanos()} is a parameter the store binds. */
    default boolean nowIsParameter() {
        return "?".equals(nowNanos());
    }

    /** A statement to run in a write transaction that appended events (a wake-up for other processes), or {@code null}. */
    default String afterEventsAppended() {
        return null;
    }

    /**
     * Whether the store keeps its prepared statements on each connection from one transaction to
     * the next ({@code false}: prepared per transaction). Worth it where preparing costs: SQLite
     * compiles a statement and every trigger it fires on each prepare, a few milliseconds for a
     * write of an experiment. PostgreSQL's driver keeps parsed statements itself.
     */
    default boolean keepsStatements() {
        return false;
    }

    /** Whether {@code e} is a constraint violation (unique, foreign key, check). */
    boolean isConstraintViolation(SQLException e);
}
