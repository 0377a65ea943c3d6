package dev.skydeck.jdbc;

import dev.skydeck.SkyDeckException;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * How a database hands out connections and runs transactions for a {@link JdbcStore}: one
 * implementation per database (SQLite's single writer and reader pool, PostgreSQL's pool and
 * advisory lock).
 */
public interface SqlDatabase extends AutoCloseable {
    /** Work on a connection inside a transaction. */
    @FunctionalInterface
    interface Work<T> {
        /** Runs statements on {@code connection}; transaction control belongs to the database. */
        T run(Connection connection) throws SQLException;
    }

    /**
     * Runs {@code work} in one write transaction, serialised with every other write to this
     * database (from this process and any other), committed if it returns and rolled back if it
     * throws. Must not be nested.
     */
    <T> T write(Work<T> work);

    /** Runs {@code work} in one read-only transaction (a consistent snapshot), never waiting for writers. */
    <T> T read(Work<T> work);

    /** A SkyDeck error for a failed SQL operation, naming the database and saying what to do. */
    SkyDeckException translate(SQLException e);

    /** The database for logs and health, without credentials ({@code sqlite:/path}, {@code postgresql://host/db}). */
    String describe();

    /** Closes every connection; idempotent. */
    @Override
    void close();
}
