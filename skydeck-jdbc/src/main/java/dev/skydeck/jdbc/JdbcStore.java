package dev.skydeck.jdbc;

import dev.skydeck.ApiToken;
import dev.skydeck.Checkpoint;
import dev.skydeck.Event;
import dev.skydeck.EventQuery;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentQuery;
import dev.skydeck.Group;
import dev.skydeck.Job;
import dev.skydeck.JobQuery;
import dev.skydeck.Page;
import dev.skydeck.jdbc.internal.Statements;
import dev.skydeck.jdbc.internal.StoreSql;
import dev.skydeck.spi.Lease;
import dev.skydeck.SkyDeckException;
import dev.skydeck.spi.Store;
import dev.skydeck.spi.StoreTx;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * A {@link Store} on a SQL database: every read and write of the {@code Store} contract, written
 * once; a subclass supplies the {@link SqlDatabase} (connections and transactions) and the
 * {@link Dialect}. Every read is a constant number of SQL statements whatever the number of rows
 * it returns. Thread-safe.
 */
public abstract class JdbcStore implements Store {
    private final SqlDatabase database;
    private final Statements statements;
    private final dev.skydeck.jdbc.internal.StatementCounter executed = new dev.skydeck.jdbc.internal.StatementCounter();

    /** A store on {@code database}, speaking {@code dialect}; it owns the database and closes it. */
    protected JdbcStore(SqlDatabase database, Dialect dialect) {
        this.database = Objects.requireNonNull(database, "database");
        this.statements = new Statements(Objects.requireNonNull(dialect, "dialect"));
        // experiments written before schema 7 (SQLite) / 2 (PostgreSQL) get their flag rows and search text
        if (StoreSql.inRead(database, statements, executed, StoreSql::hasUnindexedRows)) {
            StoreSql.inWrite(database, statements, executed, tx -> {
                ((StoreSql) tx).indexOlderRows();
                return null;
            });
        }
    }

    /**
     * How many SQL statements this store has executed since it was opened (transaction control
     * excluded); for tests and benchmarks that check reads cost a constant number of statements.
     */
    public final long statementCount() {
        return executed.total();
    }

    /**
     * How many SQL statements this store has executed on threads whose name starts with
     * {@code threadNamePrefix} ({@code skydeck-poller}, say): the cost of one part of the engine,
     * without what the others run meanwhile.
     */
    public final long statementCount(String threadNamePrefix) {
        return executed.onThreads(threadNamePrefix);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Must not be nested: inside {@code work}, use the {@link StoreTx} given.
     */
    @Override
    public final <T> T write(Function<StoreTx, T> work) {
        return StoreSql.inWrite(database, statements, executed, work);
    }

    private <T> T read(Function<StoreSql, T> work) {
        return StoreSql.inRead(database, statements, executed, work);
    }

    /**
     * Copies everything this store holds into {@code target}, an empty SkyDeck database (of any
     * kind: SQLite into PostgreSQL to move up), ids, history and tokens included, in one
     * transaction, and checks the row counts of both afterwards. Stop every process that writes
     * to this store first: the copy is of one snapshot.
     *
     * @return the rows copied per table
     * @throws SkyDeckException.InvalidInput when {@code target} is not empty or its schema lacks a
     *                                       column of this one; nothing is written then
     */
    public final java.util.Map<String, Long> copyInto(JdbcStore target) {
        if (target == this) {
            throw new SkyDeckException.InvalidInput("cannot copy a store into itself");
        }
        return dev.skydeck.jdbc.internal.Copy.copy(database, target.database);
    }

    /** The database, without credentials. */
    @Override
    public String describe() {
        return database.describe();
    }

    /** Closes every connection; idempotent. */
    @Override
    public void close() {
        database.close();
    }

    @Override
    public final Optional<Experiment> experiment(long id) {
        return read(r -> r.experiment(id));
    }

    @Override
    public final Optional<Experiment> experimentByName(String name) {
        return read(r -> r.experimentByName(name));
    }

    @Override
    public final List<Experiment> experiments(Collection<Long> ids) {
        return read(r -> r.experiments(ids));
    }

    @Override
    public final Map<String, Experiment> experimentsByName(Collection<String> names) {
        return read(r -> r.experimentsByName(names));
    }

    @Override
    public final Page<Experiment> experiments(ExperimentQuery query) {
        return read(r -> r.experiments(query));
    }

    @Override
    public final dev.skydeck.ExperimentFacets experimentFacets(ExperimentQuery query, int maxValues) {
        return read(r -> r.experimentFacets(query, maxValues));
    }

    @Override
    public final dev.skydeck.GroupSummary.All groupSummaries() {
        return read(StoreSql::groupSummaries);
    }

    @Override
    public final List<Long> experimentIdsToReconcile() {
        return read(StoreSql::experimentIdsToReconcile);
    }

    @Override
    public final List<Long> experimentIdsUnsettled() {
        return read(StoreSql::experimentIdsUnsettled);
    }

    @Override
    public final Optional<Job> job(String id) {
        return read(r -> r.job(id));
    }

    @Override
    public final Optional<Job> jobByLaunchId(String launchId) {
        return read(r -> r.jobByLaunchId(launchId));
    }

    @Override
    public final Map<String, Job> jobsByLaunchId(Collection<String> launchIds) {
        return read(r -> r.jobsByLaunchId(launchIds));
    }

    @Override
    public final Map<String, Job> jobsByBackendId(String backend, Collection<String> backendJobIds) {
        return read(r -> r.jobsByBackendId(backend, backendJobIds));
    }

    @Override
    public final Page<Job> jobs(JobQuery query) {
        return read(r -> r.jobs(query));
    }

    @Override
    public final List<Job> activeJobs() {
        return read(StoreSql::activeJobs);
    }

    @Override
    public final ActiveJobs activeJobStats(String backend) {
        return read(r -> r.activeJobStats(backend));
    }

    @Override
    public final List<Job> orphanedCancels() {
        return read(StoreSql::orphanedCancels);
    }

    @Override
    public final List<Group> groups() {
        return read(StoreSql::groups);
    }

    @Override
    public final Optional<Group> group(long id) {
        return read(r -> r.group(id));
    }

    @Override
    public final List<Checkpoint> checkpoints(long experimentId, int limit) {
        return read(r -> r.checkpoints(experimentId, limit));
    }

    @Override
    public final List<Event> events(EventQuery query) {
        return read(r -> r.events(query));
    }

    @Override
    public final long lastEventSeq() {
        return read(StoreSql::lastEventSeq);
    }

    @Override
    public final Optional<String> setting(String key) {
        return read(r -> r.setting(key));
    }

    @Override
    public final StoreCounts counts() {
        return read(StoreSql::counts);
    }

    @Override
    public final Optional<Lease> lease(String name) {
        return read(r -> r.lease(name));
    }

    @Override
    public final Optional<ApiToken> tokenByHash(String sha256Hex) {
        return read(r -> r.tokenByHash(sha256Hex));
    }

    @Override
    public final List<ApiToken> tokens() {
        return read(StoreSql::tokens);
    }
}
