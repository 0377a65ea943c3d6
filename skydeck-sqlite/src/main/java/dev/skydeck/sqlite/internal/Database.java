package dev.skydeck.sqlite.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.skydeck.SkyDeckException;
import dev.skydeck.jdbc.Migrations;
import dev.skydeck.jdbc.SqlDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

/**
 * The SQLite file behind a store: one writer connection (a pool of one), a read-only reader pool,
 * migrations, transactions and error translation.
 *
 * <p>Write transactions are {@code BEGIN IMMEDIATE}: the write lock is taken up front, so a
 * transaction never fails half-way because another process started writing, and
 * {@code busy_timeout} makes a second writer wait instead of failing with {@code SQLITE_BUSY}.
 * Transactions are opened and closed with explicit statements while JDBC stays in auto-commit:
 * sqlite-jdbc's {@code commit()} immediately begins the next transaction, which for an
 * {@code IMMEDIATE} connection would hold the database's write lock while the connection idles.
 */
public final class Database implements SqlDatabase {
    private static final Logger LOG = LoggerFactory.getLogger(Database.class);
    /** The version of the newest migration in {@code db/migration} (a test keeps the two equal). */
    static final int SCHEMA_VERSION = 11;
    private static final int SQLITE_BUSY = 5;
    private static final int SQLITE_LOCKED = 6;

    private final Path file;
    private final Duration busyTimeout;
    private final HikariDataSource writer;
    private final HikariDataSource readers;
    private final ReentrantLock writeLock = new ReentrantLock(true);
    private final AtomicBoolean closed = new AtomicBoolean();

    private Database(Path file, Duration busyTimeout, HikariDataSource writer, HikariDataSource readers) {
        this.file = file;
        this.busyTimeout = busyTimeout;
        this.writer = writer;
        this.readers = readers;
    }

    /**
     * Opens (creating if needed) and migrates the database file.
     *
     * @throws SkyDeckException when the file cannot be opened, is not a SkyDeck database (an original
     *                          SkyDeck's database among them: then nothing is written and the message says
     *                          how to import it), or cannot be migrated
     */
    public static Database open(Path file, Duration busyTimeout, int readerCount) {
        Path absolute = file.toAbsolutePath().normalize();
        // before the WAL switch and Flyway: a file that is not SkyDeck's is left exactly as it was
        DatabaseFile.requireNewOrSkyDeck(absolute);
        String url = "jdbc:sqlite:" + absolute;
        HikariDataSource writer = null;
        Path parent = absolute.getParent();
        try {
            if (parent != null) {
                dev.skydeck.SkyDeckHome.createPrivateDirectories(parent);
            }
            // SQLite gives its -wal and -shm files the database file's mode: 0600 for all three
            dev.skydeck.SkyDeckHome.ensurePrivateFile(absolute);
            for (String suffix : new String[] {"-wal", "-shm", "-journal"}) {
                Path side = absolute.resolveSibling(absolute.getFileName() + suffix);
                if (Files.exists(side)) {
                    dev.skydeck.SkyDeckHome.makePrivate(side);
                }
            }
        } catch (IOException e) {
            throw new SkyDeckException("cannot open the SkyDeck database " + absolute + ": cannot create its directory "
                    + parent + " (" + e.getClass().getSimpleName() + ": " + e.getMessage()
                    + "): choose a path in a writable directory", false, e);
        }
        try {
            SQLiteConfig writes = baseConfig(busyTimeout);
            writes.setJournalMode(SQLiteConfig.JournalMode.WAL);
            writes.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
            writer = pool("skydeck-sqlite-writer", url, writes, 1, false);
            Migrations.Outcome migrated = Migrations.apply(writer, Database.class.getClassLoader(), "classpath:db/migration",
                    SCHEMA_VERSION);
            SQLiteConfig reads = baseConfig(busyTimeout);
            reads.setReadOnly(true);
            HikariDataSource readers = pool("skydeck-sqlite-reader", url, reads, readerCount, true);
            LOG.info("Opened SQLite store {} (schema version {}, {} migration(s) applied)", absolute,
                    migrated.schemaVersion(), migrated.applied());
            return new Database(absolute, busyTimeout, writer, readers);
        } catch (RuntimeException e) {
            if (writer != null) {
                writer.close();
            }
            throw new SkyDeckException("cannot open the SkyDeck database " + absolute + ": " + rootMessage(e)
                    + ": check that the file is a SkyDeck SQLite database and that it and its directory are"
                    + " writable", false, e);
        }
    }

    private static SQLiteConfig baseConfig(Duration busyTimeout) {
        SQLiteConfig config = new SQLiteConfig();
        config.setBusyTimeout((int) Math.min(Integer.MAX_VALUE, busyTimeout.toMillis()));
        config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
        config.enforceForeignKeys(true);
        return config;
    }

    private static HikariDataSource pool(String name, String url, SQLiteConfig sqlite, int size, boolean readOnly) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(name);
        config.setDriverClassName("org.sqlite.JDBC");
        config.setJdbcUrl(url);
        // pragmas go in as driver properties: sqlite-jdbc applies each on every new connection
        config.setDataSourceProperties(sqlite.toProperties());
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(size);
        config.setReadOnly(readOnly);
        config.setAutoCommit(true);
        // a local file has no server that drops idle connections
        config.setMaxLifetime(0);
        config.setIdleTimeout(0);
        return new HikariDataSource(config);
    }

    /** The database file. */
    public Path file() {
        return file;
    }

    /** {@code sqlite:} and the file's path. */
    @Override
    public String describe() {
        return "sqlite:" + file;
    }

    /** Runs {@code work} in one {@code IMMEDIATE} write transaction on the single writer connection. */
    @Override
    public <T> T write(Work<T> work) {
        checkOpen();
        if (writeLock.isHeldByCurrentThread()) {
            throw new IllegalStateException("Store.write() cannot be nested: use the StoreTx you were given");
        }
        writeLock.lock();
        try (Connection connection = writer.getConnection()) {
            begin(connection);
            boolean committed = false;
            try {
                T result = work.run(connection);
                control(connection, "COMMIT");
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

    /** Runs {@code work} on a reader connection, in one read transaction (one consistent snapshot). */
    @Override
    public <T> T read(Work<T> work) {
        checkOpen();
        try (Connection connection = readers.getConnection()) {
            control(connection, "BEGIN");
            try {
                return work.run(connection);
            } finally {
                control(connection, "COMMIT");
            }
        } catch (SQLException e) {
            throw translate(e);
        }
    }

    private static void control(Connection connection, String sql) throws SQLException {
        try (Statement st = connection.createStatement()) {
            st.execute(sql);
        }
    }

    private void begin(Connection connection) throws SQLException {
        // busy_timeout already waits inside SQLite; this loop only outlasts a writer holding the lock longer
        long deadline = System.nanoTime() + busyTimeout.multipliedBy(4).toNanos();
        while (true) {
            try {
                control(connection, "BEGIN IMMEDIATE");
                return;
            } catch (SQLException e) {
                if (!isBusy(e) || System.nanoTime() - deadline > 0) {
                    throw e;
                }
                LOG.debug("SQLite database {} is busy; waiting for the other writer", file);
            }
        }
    }

    private void rollback(Connection connection) {
        try {
            control(connection, "ROLLBACK");
        } catch (SQLException e) {
            // SQLite may already have rolled back (for example after an I/O error)
            LOG.debug("rollback on {} failed: {}", file, e.getMessage());
        }
    }

    private void checkOpen() {
        if (closed.get()) {
            throw new SkyDeckException("the SQLite store " + file + " is closed: open it again with SqliteStore.open");
        }
    }

    /** A SkyDeck error for a failed SQL operation. */
    @Override
    public SkyDeckException translate(SQLException e) {
        if (closed.get()) {
            return new SkyDeckException("the SQLite store " + file + " is closed: open it again with SqliteStore.open",
                    false, e);
        }
        if (isBusy(e)) {
            return new SkyDeckException("the SQLite database " + file + " stayed busy (another process holds its"
                    + " write lock for longer than " + busyTimeout.toSeconds() + " s): try again", true, e);
        }
        return new SkyDeckException("the SQLite store " + file + " failed: " + e.getMessage(), false, e);
    }

    static boolean isBusy(SQLException e) {
        int code = e.getErrorCode() & 0xff;
        return code == SQLITE_BUSY || code == SQLITE_LOCKED;
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
            LOG.debug("Closed SQLite store {}", file);
        }
    }
}
