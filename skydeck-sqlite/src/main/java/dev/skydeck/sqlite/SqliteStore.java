package dev.skydeck.sqlite;

import dev.skydeck.SkyDeckException;
import dev.skydeck.sqlite.internal.Database;
import dev.skydeck.sqlite.internal.SqliteDialect;
import dev.skydeck.jdbc.JdbcStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * The embedded default {@link dev.skydeck.spi.Store}: one SQLite file, in WAL mode, migrated at open.
 *
 * <pre>{@code
 * try (SqliteStore store = SqliteStore.open(Path.of("skydeck.db"))) {
 *     store.write(tx -> tx.insertExperiment(ExperimentSpec.named("ppo_4layer"), Instant.now()));
 * }
 * }</pre>
 *
 * <p>Writes go through a single connection in {@code IMMEDIATE} transactions, serialised within
 * the process and, through SQLite's lock and {@code busy_timeout}, with other processes on the
 * same file; reads use a small pool of read-only connections and never wait for a writer. Every
 * read is a constant number of SQL statements whatever the number of rows it returns. Several
 * {@code SqliteStore}s, in one process or several, may share one file.
 *
 * <p>Thread-safe. {@link #close()} is idempotent; any use after it throws {@link SkyDeckException}.
 */
public final class SqliteStore extends JdbcStore {
    /** How long a write waits for another process's write lock by default. */
    public static final Duration DEFAULT_BUSY_TIMEOUT = Duration.ofSeconds(30);
    /** Read connections by default. */
    public static final int DEFAULT_READERS = 4;

    private final Database database;

    private SqliteStore(Database database) {
        super(database, SqliteDialect.INSTANCE);
        this.database = database;
    }

    /**
     * Opens the store in {@code dbFile} with default settings, creating the file (and its parent
     * directories) if needed and migrating its schema to the current version.
     *
     * @throws SkyDeckException when the file cannot be created or opened, is not a SkyDeck
     *                          database, or holds a schema newer than this version of SkyDeck knows
     */
    public static SqliteStore open(Path dbFile) {
        return builder(dbFile).open();
    }

    /** A builder for a store in {@code dbFile}, to change the defaults before opening it. */
    public static Builder builder(Path dbFile) {
        return new Builder(dbFile);
    }

    /** Settings for {@link SqliteStore}; validated when set, used by {@link #open()}. */
    public static final class Builder {
        private final Path file;
        private Duration busyTimeout = DEFAULT_BUSY_TIMEOUT;
        private int readers = DEFAULT_READERS;

        private Builder(Path file) {
            this.file = Objects.requireNonNull(file, "dbFile");
        }

        /**
         * How long a write waits for another process holding the database's write lock
         * (default 30 s) before failing with a retryable {@link SkyDeckException}.
         */
        public Builder busyTimeout(Duration value) {
            if (value == null || value.isNegative() || value.isZero() || value.compareTo(Duration.ofHours(1)) > 0) {
                throw new SkyDeckException.InvalidInput("busy timeout " + value + " is not allowed: use 1 ms to 1 h");
            }
            this.busyTimeout = value;
            return this;
        }

        /** How many read-only connections to keep (default 4, 1 to 64). */
        public Builder readers(int value) {
            if (value < 1 || value > 64) {
                throw new SkyDeckException.InvalidInput("readers " + value + " is not allowed: use 1 to 64");
            }
            this.readers = value;
            return this;
        }

        /** Opens the store (see {@link SqliteStore#open(Path)}). */
        public SqliteStore open() {
            return new SqliteStore(Database.open(file, busyTimeout, readers));
        }
    }

    /** The database file (absolute). */
    public Path file() {
        return database.file();
    }
}
