package dev.skydeck.postgres.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.skydeck.SkyDeckException;
import dev.skydeck.jdbc.Migrations;
import dev.skydeck.jdbc.SqlDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL database behind a store: a writer pool and a reader pool, migrations, and
 * transactions.
 *
 * <p>Every write transaction first takes one transaction-level advisory lock, so writes from
 * every SkyDeck process on the database run one after another, exactly as on SQLite: reads
 * inside a write see everything committed before it, ids and event numbers assigned as "one
 * more than the highest" are exact, and events are numbered in commit order without gaps. The
 * lock is released by the commit itself (after the commit is visible), or by the server when a
 * process dies. Reads run in {@code REPEATABLE READ} read-only transactions: one snapshot per
 * read, never waiting for a writer.
 */
public final class PgDatabase implements SqlDatabase {
    private static final Logger LOG = LoggerFactory.getLogger(PgDatabase.class);
    /** The version of the newest migration in {@code dev/skydeck/postgres/migration} (a test keeps the two equal). */
    static final int SCHEMA_VERSION = 5;
    /** The advisory lock every writer takes: "skydeck" in ASCII. */
    static final long WRITE_LOCK = 0x736b796465636bL;

    private final String url;
    private final String describe;
    private final Properties properties;
    private final HikariDataSource writer;
    private final HikariDataSource readers;
    private final ReentrantLock writeLock = new ReentrantLock(true);
    private final AtomicBoolean closed = new AtomicBoolean();

    private PgDatabase(String url, String describe, Properties properties, HikariDataSource writer,
                       HikariDataSource readers) {
        this.url = url;
        this.describe = describe;
        this.properties = properties;
        this.writer = writer;
        this.readers = readers;
    }

    /**
     * Connects, and migrates the schema to the current version unless it is there already
     * ({@link Migrations}; Flyway takes its own advisory lock, so processes starting at once
     * migrate once).
     *
     * @param properties driver properties: credentials among them, never logged
     * @throws SkyDeckException when the server cannot be reached, refuses the credentials, or a
     *                          migration fails
     */
    public static PgDatabase open(String url, Properties properties, int readerCount, Duration connectTimeout) {
        String describe = describe(url);
        HikariDataSource writer = null;
        HikariDataSource readers = null;
        try {
            writer = pool("skydeck-pg-writer", url, properties, 2, false, connectTimeout);
            Migrations.Outcome migrated = Migrations.apply(writer, PgDatabase.class.getClassLoader(),
                    "classpath:dev/skydeck/postgres/migration", SCHEMA_VERSION);
            readers = pool("skydeck-pg-reader", url, properties, readerCount, true, connectTimeout);
            LOG.info("Opened PostgreSQL store {} (schema version {}, {} migration(s) applied)", describe,
                    migrated.schemaVersion(), migrated.applied());
            return new PgDatabase(url, describe, properties, writer, readers);
        } catch (RuntimeException e) {
            if (readers != null) {
                readers.close();
            }
            if (writer != null) {
                writer.close();
            }
            throw new SkyDeckException("cannot open the SkyDeck database " + describe + ": " + rootMessage(e)
                    + ": check that the server is running, that the URL names an existing database, and the"
                    + " credentials (in the URL, PGUSER/PGPASSWORD or ~/.pgpass)", isConnectionProblem(e), e);
        }
    }

    private static HikariDataSource pool(String name, String url, Properties properties, int size, boolean readOnly,
                                         Duration connectTimeout) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(name);
        config.setDriverClassName("org.postgresql.Driver");
        config.setJdbcUrl(url);
        config.setDataSourceProperties(properties);
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(Math.min(size, 2));
        config.setReadOnly(readOnly);
        config.setAutoCommit(false);
        config.setTransactionIsolation(readOnly ? "TRANSACTION_REPEATABLE_READ" : "TRANSACTION_READ_COMMITTED");

        config.setConnectionTimeout(Math.max(250, connectTimeout.toMillis()));
        // fail at open, with the server's own reason, when the database cannot be reached
        config.setInitializationFailTimeout(Math.max(1, connectTimeout.toMillis()));
        return new HikariDataSource(config);
    }

    /** The JDBC URL without its parameters (where credentials may be): {@code postgresql://host:port/db}. */
    static String describe(String url) {
        String s = url.startsWith("jdbc:") ? url.substring(5) : url;
        int q = s.indexOf('?');
        if (q >= 0) {
            s = s.substring(0, q);
        }
        int at = s.indexOf('@');
        int slash = s.indexOf("//");
        if (at >= 0 && slash >= 0 && at > slash) {
            s = s.substring(0, slash + 2) + s.substring(at + 1);
        }
        return s;
    }

    /** The URL, with credentials, for the listener's own connection. */
    String url() {
        return url;
    }

    /** The driver properties, credentials among them. */
    Properties properties() {
        return properties;
    }

    @Override
    public String describe() {
        return describe;
    }

    @Override
    public <T> T write(Work<T> work) {
        checkOpen();
        if (writeLock.isHeldByCurrentThread()) {
            throw new IllegalStateException("Store.write() cannot be nested: use the StoreTx you were given");
        }
        writeLock.lock();
        try (Connection connection = writer.getConnection()) {
            boolean committed = false;
            try {
                try (Statement st = connection.createStatement()) {
                    // a process that stops mid-write (frozen, paused, cut off) must not hold the lock for ever:
                    // for this transaction only, the server ends the session after 5 s idle inside it, which
                    // releases the lock; a writer waiting for the lock gives up after 60 s instead of hanging
                    st.execute("SELECT set_config('idle_in_transaction_session_timeout', '5s', true),"
                            + " set_config('lock_timeout', '60s', true), pg_advisory_xact_lock(" + WRITE_LOCK + ")");
                }
                T result = work.run(connection);
                connection.commit();
                committed = true;
                return result;
            } finally {
                if (!committed) {
                    rollback(connection);
                }
            }
        } catch (SQLException e) {
            throw translate(e);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public <T> T read(Work<T> work) {
        checkOpen();
        try (Connection connection = readers.getConnection()) {
            boolean done = false;
            try {
                T result = work.run(connection);
                connection.commit();
                done = true;
                return result;
            } finally {
                if (!done) {
                    rollback(connection);
                }
            }
        } catch (SQLException e) {
            throw translate(e);
        }
    }

    private void rollback(Connection connection) {
        try {
            connection.rollback();
        } catch (SQLException e) {
            // the connection may be gone; the server rolls back what it had
            LOG.debug("rollback on {} failed: {}", describe, e.getMessage());
        }
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new SkyDeckException("the PostgreSQL store " + describe + " is closed: open it again with"
                    + " PostgresStore.open");
        }
    }

    @Override
    public SkyDeckException translate(SQLException e) {
        if (closed.get()) {
            return new SkyDeckException("the PostgreSQL store " + describe + " is closed: open it again with"
                    + " PostgresStore.open", false, e);
        }
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        if (isConnectionProblem(e)) {
            return new SkyDeckException("the PostgreSQL server of " + describe + " cannot be reached ("
                    + e.getMessage() + "): SkyDeck retries; check the server if this goes on", true, e);
        }
        if (state.equals("40001") || state.equals("40P01") || state.equals("55P03") || state.equals("57014")) {
            return new SkyDeckException("the PostgreSQL store " + describe + " gave up on a busy operation ("
                    + e.getMessage() + "): try again", true, e);
        }
        return new SkyDeckException("the PostgreSQL store " + describe + " failed: " + e.getMessage(), false, e);
    }

    /** A lost or refused connection, or a server shutting down (SQLSTATE classes 08, 57P0x). */
    static boolean isConnectionProblem(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLException s && s.getSQLState() != null
                    && (s.getSQLState().startsWith("08") || s.getSQLState().startsWith("57P0"))) {
                return true;
            }
        }
        return false;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    /** Closes both pools; idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            readers.close();
            writer.close();
            LOG.debug("Closed PostgreSQL store {}", describe);
        }
    }
}
