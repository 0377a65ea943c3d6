package dev.skydeck.sqlite;

import dev.skydeck.Checkpoint;
import dev.skydeck.Event;
import dev.skydeck.EventQuery;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentQuery;
import dev.skydeck.Group;
import dev.skydeck.Job;
import dev.skydeck.JobQuery;
import dev.skydeck.Page;
import dev.skydeck.SkyDeckException;
import dev.skydeck.sqlite.internal.Database;
import dev.skydeck.sqlite.internal.StoreSql;
import dev.skydeck.spi.Store;
import dev.skydeck.spi.StoreTx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * The embedded default {@link Store}: one SQLite file, in WAL mode, migrated at open.
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
public final class SqliteStore implements Store {
    /** How long a write waits for another process's write lock by default. */
    public static final Duration DEFAULT_BUSY_TIMEOUT = Duration.ofSeconds(30);
    /** Read connections by default. */
    public static final int DEFAULT_READERS = 4;

    private final Database database;

    private SqliteStore(Database database) {
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

    /**
     * How many SQL statements this store has executed since it was opened (transaction control
     * excluded); for tests and benchmarks that check reads cost a constant number of statements.
     */
    public long statementCount() {
        return database.statementCount();
    }

    /**
     * {@inheritDoc}
     *
     * <p>Runs in an {@code IMMEDIATE} transaction on the single writer connection. Must not be
     * nested: inside {@code work}, use the {@link StoreTx} given.
     */
    @Override
    public <T> T write(Function<StoreTx, T> work) {
        return StoreSql.inWrite(database, work);
    }

    /** {@code sqlite:} and the file's path. */
    @Override
    public String describe() {
        return "sqlite:" + database.file();
    }

    /** Closes every connection; idempotent. */
    @Override
    public void close() {
        database.close();
    }

    @Override
    public Optional<Experiment> experiment(long id) {
        return StoreSql.inRead(database, r -> r.experiment(id));
    }

    @Override
    public Optional<Experiment> experimentByName(String name) {
        return StoreSql.inRead(database, r -> r.experimentByName(name));
    }

    @Override
    public List<Experiment> experiments(Collection<Long> ids) {
        return StoreSql.inRead(database, r -> r.experiments(ids));
    }

    @Override
    public Map<String, Experiment> experimentsByName(Collection<String> names) {
        return StoreSql.inRead(database, r -> r.experimentsByName(names));
    }

    @Override
    public Page<Experiment> experiments(ExperimentQuery query) {
        return StoreSql.inRead(database, r -> r.experiments(query));
    }

    @Override
    public List<Long> experimentIdsToReconcile() {
        return StoreSql.inRead(database, StoreSql::experimentIdsToReconcile);
    }

    @Override
    public Optional<Job> job(String id) {
        return StoreSql.inRead(database, r -> r.job(id));
    }

    @Override
    public Optional<Job> jobByLaunchId(String launchId) {
        return StoreSql.inRead(database, r -> r.jobByLaunchId(launchId));
    }

    @Override
    public Map<String, Job> jobsByLaunchId(Collection<String> launchIds) {
        return StoreSql.inRead(database, r -> r.jobsByLaunchId(launchIds));
    }

    @Override
    public Map<String, Job> jobsByBackendId(String backend, Collection<String> backendJobIds) {
        return StoreSql.inRead(database, r -> r.jobsByBackendId(backend, backendJobIds));
    }

    @Override
    public Page<Job> jobs(JobQuery query) {
        return StoreSql.inRead(database, r -> r.jobs(query));
    }

    @Override
    public List<Job> activeJobs() {
        return StoreSql.inRead(database, StoreSql::activeJobs);
    }

    @Override
    public ActiveJobs activeJobStats(String backend) {
        return StoreSql.inRead(database, r -> r.activeJobStats(backend));
    }

    @Override
    public List<Job> orphanedCancels() {
        return StoreSql.inRead(database, StoreSql::orphanedCancels);
    }

    @Override
    public List<Group> groups() {
        return StoreSql.inRead(database, StoreSql::groups);
    }

    @Override
    public Optional<Group> group(long id) {
        return StoreSql.inRead(database, r -> r.group(id));
    }

    @Override
    public List<Checkpoint> checkpoints(long experimentId, int limit) {
        return StoreSql.inRead(database, r -> r.checkpoints(experimentId, limit));
    }

    @Override
    public List<Event> events(EventQuery query) {
        return StoreSql.inRead(database, r -> r.events(query));
    }

    @Override
    public long lastEventSeq() {
        return StoreSql.inRead(database, StoreSql::lastEventSeq);
    }

    @Override
    public Optional<String> setting(String key) {
        return StoreSql.inRead(database, r -> r.setting(key));
    }

    @Override
    public StoreCounts counts() {
        return StoreSql.inRead(database, StoreSql::counts);
    }
}
