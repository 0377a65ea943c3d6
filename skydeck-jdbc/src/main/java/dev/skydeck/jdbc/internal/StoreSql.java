package dev.skydeck.jdbc.internal;

import dev.skydeck.ApiToken;
import dev.skydeck.Checkpoint;
import dev.skydeck.DesiredState;
import dev.skydeck.Event;
import dev.skydeck.EventQuery;
import dev.skydeck.EventType;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentQuery;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.ExperimentStatus;
import dev.skydeck.Group;
import dev.skydeck.Job;
import dev.skydeck.JobQuery;
import dev.skydeck.JobStage;
import dev.skydeck.JobStatus;
import dev.skydeck.Page;
import dev.skydeck.Resources;
import dev.skydeck.RestartPolicy;
import dev.skydeck.SkyDeckException;
import dev.skydeck.SkyDeckException.Conflict.Reason;
import dev.skydeck.Actor;
import dev.skydeck.JobCancel;
import dev.skydeck.jdbc.Dialect;
import dev.skydeck.jdbc.SqlDatabase;
import dev.skydeck.spi.Lease;
import dev.skydeck.spi.StoreTx;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Every SQL statement of the SQL store, on one {@link Session}: the reads (in a read transaction
 * or a write one) and the writes (inside a write transaction). Each method runs a constant number
 * of statements whatever the number of rows involved. Expected conflicts (a taken name, a second
 * active launch) are found without a failing statement, so a transaction stays usable on
 * databases that abort one on its first error.
 */
public final class StoreSql implements StoreTx {
    private final Session session;
    private final SqlDatabase database;
    private final Statements statements;
    /** The highest event number once this transaction has appended (writers are serialised, so it stays exact). */
    private long lastAppended = -1;

    /** Statements over {@code session}; SQL failures are translated by {@code database}. */
    StoreSql(Session session, SqlDatabase database, Statements statements) {
        this.session = session;
        this.database = database;
        this.statements = statements;
    }

    /** Runs {@code work} in a write transaction of {@code database}, counting statements in {@code statements}. */
    public static <T> T inWrite(SqlDatabase database, Statements statements, StatementCounter counter, Function<StoreTx, T> work) {
        return database.write(connection -> {
            try (Session session = new Session(connection, counter)) {
                StoreSql tx = new StoreSql(session, database, statements);
                T result = work.apply(tx);
                tx.finish();
                return result;
            }
        });
    }

    /** Runs {@code work} in a read transaction of {@code database}. */
    public static <T> T inRead(SqlDatabase database, Statements statements, StatementCounter counter, Function<StoreSql, T> work) {
        return database.read(connection -> {
            try (Session session = new Session(connection, counter)) {
                return work.apply(new StoreSql(session, database, statements));
            }
        });
    }

    private void finish() throws SQLException {
        String wake = statements.dialect.afterEventsAppended();
        if (lastAppended >= 0 && wake != null) {
            session.control(wake);
        }
    }

    @FunctionalInterface
    private interface Work<T> {
        T run() throws SQLException;
    }

    private <T> T sql(Work<T> work) {
        try {
            return work.run();
        } catch (SQLException e) {
            throw database.translate(e);
        }
    }

    // ---- reads ----

    @Override
    public Optional<Experiment> experiment(long id) {
        return sql(() -> session.first(statements.selectExperiments + " WHERE e.id = ?", StoreSql::experimentRow, id));
    }

    @Override
    public Optional<Experiment> experimentByName(String name) {
        return sql(() -> session.first(statements.selectExperiments + " WHERE e.name = ? AND e.deleted" + statements.isFalse,
                StoreSql::experimentRow, name));
    }

    @Override
    public List<Experiment> experiments(Collection<Long> ids) {
        if (ids.isEmpty()) {
            return List.of();
        }
        return sql(() -> session.list(statements.selectExperiments + " WHERE e.id" + statements.idsIn,
                StoreSql::experimentRow, Json.write(ids.stream().distinct().toList())));
    }

    @Override
    public Map<String, Experiment> experimentsByName(Collection<String> names) {
        if (names.isEmpty()) {
            return Map.of();
        }
        List<Experiment> found = sql(() -> session.list(statements.selectExperiments
                + " WHERE e.deleted" + statements.isFalse + " AND e.name" + statements.namesIn, StoreSql::experimentRow,
                Json.write(names.stream().distinct().toList())));
        Map<String, Experiment> out = new HashMap<>();
        for (Experiment e : found) {
            out.put(e.name(), e);
        }
        return out;
    }

    @Override
    public Page<Experiment> experiments(ExperimentQuery q) {
        List<String> where = new ArrayList<>();
        List<Object> params = new ArrayList<>();
        if (!q.includeDeleted()) {
            where.add("e.deleted" + statements.isFalse);
        }
        if (q.text() != null) {
            String text = q.text().toLowerCase(Locale.ROOT);
            where.add("(" + statements.dialect.containsText("lower(e.name)") + " OR "
                    + statements.dialect.containsText("lower(coalesce(e.description, ''))") + ")");
            params.add(text);
            params.add(text);
        }
        if (q.desired() != null) {
            where.add("e.desired_state = ?");
            params.add(q.desired());
        }
        if (q.tag() != null) {
            where.add(statements.dialect.jsonArrayContains("e.tags"));
            params.add(q.tag());
        }
        if (q.createdBy() != null) {
            where.add("e.created_by = ?");
            params.add(q.createdBy());
        }
        String filter = where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where);
        String stateFilter = q.state() == null ? "" : " WHERE " + Statements.CURRENT_STATE + " = ?";
        List<Object> stateParams = new ArrayList<>(params);
        if (q.state() != null) {
            stateParams.add(q.state());
        }
        String column = switch (q.sort()) {
            case ORDER -> "sort_order";
            case NAME -> "name";
            case CREATED_AT -> "created_at";
            case UPDATED_AT -> "updated_at";
            case PRIORITY -> "priority";
        };
        String dir = q.descending() ? " DESC" : " ASC";
        String page = "SELECT * FROM (" + statements.selectExperiments + filter + ") AS x" + stateFilter
                + " ORDER BY " + column + dir + ", id" + dir + " LIMIT ? OFFSET ?";
        String count = q.state() == null
                ? "SELECT count(*) FROM experiments e" + filter
                : "SELECT count(*) FROM (SELECT e.stage, " + Statements.latestStatus("e") + " AS latest_status"
                        + " FROM experiments e" + filter + ") AS x" + stateFilter;
        List<Object> pageParams = new ArrayList<>(stateParams);
        pageParams.add(q.limit());
        pageParams.add(q.offset());
        return sql(() -> {
            List<Experiment> items = session.list(page, StoreSql::experimentRow, pageParams.toArray());
            long total = session.number(count, stateParams.toArray());
            return new Page<>(items, total);
        });
    }

    @Override
    public List<Long> experimentIdsToReconcile() {
        return sql(() -> session.list("SELECT e.id FROM experiments e WHERE e.deleted" + statements.isFalse + " OR EXISTS"
                + " (SELECT 1 FROM jobs j WHERE j.experiment_name = e.name AND j.active) ORDER BY e.id",
                rs -> rs.getLong(1)));
    }

    @Override
    public Optional<Job> job(String id) {
        return sql(() -> session.first("SELECT j.* FROM jobs j WHERE j.id = ?", StoreSql::jobRow, id));
    }

    @Override
    public Optional<Job> jobByLaunchId(String launchId) {
        return sql(() -> session.first("SELECT j.* FROM jobs j WHERE j.launch_id = ?", StoreSql::jobRow, launchId));
    }

    @Override
    public Map<String, Job> jobsByLaunchId(Collection<String> launchIds) {
        if (launchIds.isEmpty()) {
            return Map.of();
        }
        List<Job> found = sql(() -> session.list("SELECT j.* FROM jobs j WHERE j.launch_id" + statements.namesIn,
                StoreSql::jobRow, Json.write(launchIds.stream().distinct().toList())));
        Map<String, Job> out = new HashMap<>();
        for (Job j : found) {
            out.put(j.launchId(), j);
        }
        return out;
    }

    @Override
    public Map<String, Job> jobsByBackendId(String backend, Collection<String> backendJobIds) {
        if (backendJobIds.isEmpty()) {
            return Map.of();
        }
        List<Job> found = sql(() -> session.list("SELECT j.* FROM jobs j WHERE j.backend = ? AND j.backend_job_id"
                + statements.namesIn, StoreSql::jobRow, backend,
                Json.write(backendJobIds.stream().distinct().toList())));
        Map<String, Job> out = new HashMap<>();
        for (Job j : found) {
            out.put(j.backendJobId(), j);
        }
        return out;
    }

    @Override
    public Page<Job> jobs(JobQuery q) {
        List<String> where = new ArrayList<>();
        List<Object> params = new ArrayList<>();
        if (q.experimentName() != null) {
            where.add("j.experiment_name = ?");
            params.add(q.experimentName());
        }
        if (q.active() != null) {
            where.add(q.active() ? "j.active" : "NOT j.active");
        }
        if (q.launchedBy() != null) {
            where.add("j.launched_by = ?");
            params.add(q.launchedBy());
        }
        if (q.orphaned() != null) {
            where.add((q.orphaned() ? "NOT " : "")
                    + "EXISTS (SELECT 1 FROM experiments e WHERE e.name = j.experiment_name AND e.deleted"
                    + statements.isFalse + ")");
        }
        if (q.text() != null) {
            String text = q.text().toLowerCase(Locale.ROOT);
            Dialect d = statements.dialect;
            where.add("(" + d.containsText("lower(j.id)") + " OR " + d.containsText("lower(j.experiment_name)")
                    + " OR " + d.containsText("lower(coalesce(j.backend_job_id, ''))") + ")");
            params.add(text);
            params.add(text);
            params.add(text);
        }
        String filter = where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where);
        List<Object> pageParams = new ArrayList<>(params);
        pageParams.add(q.limit());
        pageParams.add(q.offset());
        return sql(() -> {
            List<Job> items = session.list("SELECT j.* FROM jobs j" + filter + Statements.NEWEST_FIRST + " LIMIT ? OFFSET ?",
                    StoreSql::jobRow, pageParams.toArray());
            long total = session.number("SELECT count(*) FROM jobs j" + filter, params.toArray());
            return new Page<>(items, total);
        });
    }

    @Override
    public List<Job> activeJobs() {
        return sql(() -> session.list("SELECT j.* FROM jobs j WHERE j.active" + Statements.NEWEST_FIRST, StoreSql::jobRow));
    }

    @Override
    public ActiveJobs activeJobStats(String backend) {
        return sql(() -> session.first("SELECT count(*), count(CASE WHEN status IN ('INIT', 'PENDING', 'STARTING') THEN 1 END),"
                + " coalesce(sum(nodes * gpus), 0) FROM jobs WHERE active AND backend = ?",
                rs -> new ActiveJobs(rs.getLong(1), rs.getLong(2), rs.getLong(3)), backend).orElseThrow());
    }

    @Override
    public List<Job> orphanedCancels() {
        return sql(() -> session.list("SELECT j.* FROM jobs j WHERE j.active AND j.cancel_requested_at IS NOT NULL"
                + " AND NOT EXISTS (SELECT 1 FROM experiments e WHERE e.name = j.experiment_name AND e.deleted"
                + statements.isFalse + ")"
                + " ORDER BY j.cancel_requested_at, j.id", StoreSql::jobRow));
    }

    @Override
    public List<Group> groups() {
        return sql(() -> session.list(statements.selectGroups + " ORDER BY g.sort_order, g.id", StoreSql::groupRow));
    }

    @Override
    public Optional<Group> group(long id) {
        return sql(() -> session.first(statements.selectGroups + " WHERE g.id = ?", StoreSql::groupRow, id));
    }

    @Override
    public List<Checkpoint> checkpoints(long experimentId, int limit) {
        return sql(() -> session.list("SELECT * FROM checkpoints WHERE experiment_id = ? ORDER BY epoch DESC LIMIT ?",
                StoreSql::checkpointRow, experimentId, limit));
    }

    @Override
    public List<Event> events(EventQuery q) {
        String sql = "SELECT * FROM events WHERE seq > ?"
                + (q.experimentId() == null ? "" : " AND experiment_id = ?")
                + " ORDER BY seq" + (q.newestFirst() ? " DESC" : " ASC") + " LIMIT ?";
        Object[] params = q.experimentId() == null
                ? new Object[] {q.afterSeq(), q.limit()}
                : new Object[] {q.afterSeq(), q.experimentId(), q.limit()};
        return sql(() -> session.list(sql, StoreSql::eventRow, params));
    }

    @Override
    public long lastEventSeq() {
        return sql(() -> session.number("SELECT coalesce(max(seq), 0) FROM events"));
    }

    @Override
    public Optional<String> setting(String key) {
        return sql(() -> session.first("SELECT value FROM settings WHERE key = ?", rs -> rs.getString(1), key));
    }

    @Override
    public StoreCounts counts() {
        return sql(() -> session.first("SELECT (SELECT count(*) FROM experiments WHERE deleted" + statements.isFalse + "),"
                + " (SELECT count(*) FROM jobs WHERE active)", rs -> new StoreCounts(rs.getLong(1), rs.getLong(2)))
                .orElseThrow());
    }

    @Override
    public Optional<Lease> lease(String name) {
        return sql(() -> session.first("SELECT * FROM leases WHERE name = ?", StoreSql::leaseRow, name));
    }

    @Override
    public Optional<ApiToken> tokenByHash(String sha256Hex) {
        return sql(() -> session.first("SELECT * FROM api_tokens WHERE hash = ?", StoreSql::tokenRow, sha256Hex));
    }

    @Override
    public List<ApiToken> tokens() {
        return sql(() -> session.list("SELECT * FROM api_tokens ORDER BY created_at, id", StoreSql::tokenRow));
    }

    // ---- writes ----

    @Override
    public Experiment insertExperiment(ExperimentSpec spec, Instant now, String createdBy) {
        String startedBy = spec.desiredState() == DesiredState.RUNNING ? createdBy : null;
        Object[] params = concat(specParams(spec), Times.toNanos(now), Times.toNanos(now), createdBy, startedBy);
        // built from what we wrote, not read back: bulk inserts skip parsing the flags again
        Optional<Experiment> inserted = sql(() -> session.first(statements.insertExperiment, rs -> {
            JobStatus latest = enumOrNull(JobStatus.class, rs.getString(3));
            // a new experiment can have jobs already: jobs match by name and may predate it
            return new Experiment(rs.getLong(1), spec, false, rs.getInt(2), false, false, now, now, 1, 1,
                    ExperimentStatus.currentState(null, latest), ExperimentStatus.NEW, null, false, createdBy, startedBy);
        }, params));
        return inserted.orElseThrow(() -> nameTaken(spec.name()));
    }

    @Override
    public Experiment importExperiment(Experiment e) {
        Object[] params = concat(new Object[] {e.id()}, specParams(e.spec()));
        params = concat(params, e.starred(), e.order(), e.expanded(), e.deleted(), Times.toNanos(e.createdAt()),
                Times.toNanos(e.updatedAt()), e.version(), e.generation(), e.createdBy(), e.startedBy());
        Object[] all = params;
        Optional<Experiment> inserted = sql(() -> session.first(statements.importExperiment, StoreSql::experimentRow, all));
        if (inserted.isPresent()) {
            return inserted.get();
        }
        if (experiment(e.id()).isPresent()) {
            throw new SkyDeckException.Conflict(Reason.ALREADY_RECORDED, "experiment " + e.id() + " already exists");
        }
        throw nameTaken(e.name());
    }

    @Override
    public Experiment updateExperiment(Experiment changed, Instant now) {
        Object[] params = concat(specParams(changed.spec()), changed.starred(), changed.order(), changed.expanded(),
                changed.deleted(), changed.generation(), changed.startedBy(), Times.toNanos(now), changed.id(),
                changed.version(),
                changed.deleted(), changed.name(), changed.id());
        Optional<Experiment> written = sql(() -> session.first(statements.updateExperiment, StoreSql::experimentRow,
                params));
        if (written.isPresent()) {
            return written.get();
        }
        Optional<Long> stored = sql(() -> session.first("SELECT version FROM experiments WHERE id = ?",
                rs -> rs.getLong(1), changed.id()));
        if (stored.isEmpty()) {
            throw new SkyDeckException.NotFound("experiment " + changed.id() + " does not exist");
        }
        if (stored.get() == changed.version()) {
            throw nameTaken(changed.name());
        }
        throw new SkyDeckException.Conflict(Reason.STALE_VERSION, "experiment '" + changed.name()
                + "' was changed by someone else"
                + " (version " + changed.version() + " is stale, the current version is " + stored.get()
                + "): reload it and apply your change again");
    }

    private static SkyDeckException nameTaken(String name) {
        return new SkyDeckException.Conflict(Reason.NAME_TAKEN, "an experiment named '" + name
                + "' already exists: choose another name, or delete that experiment first");
    }

    @Override
    public void updateStatus(long experimentId, ExperimentStatus status) {
        int changed = sql(() -> session.update("UPDATE experiments SET stage = ?, state_reason = ?,"
                + " observed_generation = ?, observed_desired = ?, launch_retries = ?, next_attempt_at = ?, settled = ?"
                + " WHERE id = ?", status.stage(), status.stateReason(), status.observedGeneration(),
                status.observedDesired(), status.launchRetries(), Times.toNanos(status.nextAttemptAt()),
                status.settled(), experimentId));
        if (changed == 0) {
            throw new SkyDeckException.NotFound("experiment " + experimentId + " does not exist");
        }
    }

    @Override
    public void updatePresentation(long experimentId, boolean starred, boolean expanded, int order) {
        int changed = sql(() -> session.update("UPDATE experiments SET starred = ?, expanded = ?, sort_order = ?"
                + " WHERE id = ?", starred, expanded, order, experimentId));
        if (changed == 0) {
            throw new SkyDeckException.NotFound("experiment " + experimentId + " does not exist");
        }
    }

    @Override
    public void reorderExperiments(List<Long> ids) {
        List<Object[]> rows = new ArrayList<>(ids.size());
        for (int i = 0; i < ids.size(); i++) {
            rows.add(new Object[] {i, ids.get(i)});
        }
        sql(() -> {
            session.batch("UPDATE experiments SET sort_order = ? WHERE id = ?", rows);
            return null;
        });
    }

    @Override
    public Job insertJob(Job job) {
        int inserted = sql(() -> session.update(statements.insertJob, jobParams(job)));
        if (inserted == 1) {
            return job;
        }
        // nothing inserted: say which unique rule the job broke
        List<Job> clashes = sql(() -> session.list("SELECT j.* FROM jobs j WHERE j.id = ? OR j.launch_id = ?"
                + " OR (j.experiment_name = ? AND j.active AND j.launch_id IS NOT NULL)", StoreSql::jobRow, job.id(),
                job.launchId(), job.experimentName()));
        for (Job other : clashes) {
            if (other.id().equals(job.id())) {
                throw new SkyDeckException.Conflict(Reason.ALREADY_RECORDED, "job " + job.id() + " already exists");
            }
        }
        for (Job other : clashes) {
            if (job.launchId() != null && job.launchId().equals(other.launchId())) {
                throw new SkyDeckException.Conflict(Reason.ALREADY_RECORDED, "launch id " + job.launchId()
                        + " is already recorded");
            }
        }
        throw activeJob(job);
    }

    private static SkyDeckException activeJob(Job job) {
        return new SkyDeckException.Conflict(Reason.ACTIVE_JOB, "experiment '" + job.experimentName()
                + "' already has an active job: at most one runs at a time");
    }

    @Override
    public Job updateJob(Job job) {
        Object[] all = jobParams(job);
        Object[] params = concat(java.util.Arrays.copyOfRange(all, 2, all.length), job.id(), job.experimentName());
        int changed = jobWrite(job, () -> session.update(statements.updateJob, params));
        if (changed == 0) {
            Optional<String> experiment = sql(() -> session.first("SELECT experiment_name FROM jobs WHERE id = ?",
                    rs -> rs.getString(1), job.id()));
            if (experiment.isEmpty()) {
                throw new SkyDeckException.NotFound("job " + job.id() + " does not exist");
            }
            throw new IllegalArgumentException("a job's experiment never changes (job " + job.id() + " belongs to '"
                    + experiment.get() + "')");
        }
        return job;
    }

    @Override
    public void updateJobs(List<Job> jobs) {
        if (jobs.isEmpty()) {
            return;
        }
        List<Object[]> rows = new ArrayList<>(jobs.size());
        for (Job job : jobs) {
            Object[] all = jobParams(job);
            rows.add(concat(java.util.Arrays.copyOfRange(all, 2, all.length), job.id(), job.experimentName()));
        }
        jobWrite(jobs.get(0), () -> atomically(() -> {
            int[] counts = session.batchCounts(statements.updateJob, rows);
            for (int i = 0; i < counts.length; i++) {
                if (counts[i] == 0) {
                    throw new SkyDeckException.NotFound("job " + jobs.get(i).id()
                            + " does not exist (or changed experiment)");
                }
            }
            return null;
        }));
    }

    /** Runs a job update; the one rule an update can break is a second active launch (a finished job made active). */
    private <T> T jobWrite(Job job, Work<T> work) {
        try {
            return work.run();
        } catch (SQLException e) {
            if (statements.dialect.isConstraintViolation(e)) {
                throw activeJob(job);
            }
            throw database.translate(e);
        }
    }

    @Override
    public Group insertGroup(Group group) {
        return sql(() -> atomically(() -> {
            checkMembers(group);
            Object[] row = session.first("INSERT INTO experiment_groups (id, name, name_prefix, flags, sort_order,"
                    + " collapsed) VALUES ((SELECT coalesce(max(id), 0) + 1 FROM experiment_groups), ?, ?, ?,"
                    + " (SELECT coalesce(max(sort_order), -1) + 1 FROM experiment_groups), ?) RETURNING id, sort_order",
                    rs -> new Object[] {rs.getLong(1), rs.getInt(2)},
                    group.name(), group.namePrefix(), Json.write(group.flags()), group.collapsed()).orElseThrow();
            long id = (Long) row[0];
            insertMembers(id, group);
            return new Group(id, group.name(), group.namePrefix(), group.flags(), (Integer) row[1], group.collapsed(),
                    group.experimentIds());
        }));
    }

    @Override
    public Group importGroup(Group group) {
        return sql(() -> atomically(() -> {
            if (group(group.id()).isPresent()) {
                throw new SkyDeckException.Conflict(Reason.ALREADY_RECORDED, "group " + group.id() + " already exists");
            }
            checkMembers(group);
            session.update("INSERT INTO experiment_groups (id, name, name_prefix, flags, sort_order, collapsed)"
                    + " VALUES (?, ?, ?, ?, ?, ?)", group.id(), group.name(), group.namePrefix(),
                    Json.write(group.flags()), group.order(), group.collapsed());
            insertMembers(group.id(), group);
            return group;
        }));
    }

    @Override
    public Group updateGroup(Group group) {
        return sql(() -> atomically(() -> {
            checkMembers(group);
            int changed = session.update("UPDATE experiment_groups SET name = ?, name_prefix = ?, flags = ?,"
                    + " sort_order = ?, collapsed = ? WHERE id = ?", group.name(), group.namePrefix(),
                    Json.write(group.flags()), group.order(), group.collapsed(), group.id());
            if (changed == 0) {
                throw new SkyDeckException.NotFound("group " + group.id() + " does not exist");
            }
            session.update("DELETE FROM group_members WHERE group_id = ?", group.id());
            insertMembers(group.id(), group);
            return group;
        }));
    }

    private void checkMembers(Group group) throws SQLException {
        if (group.experimentIds().isEmpty()) {
            return;
        }
        List<Long> distinct = group.experimentIds().stream().distinct().toList();
        long found = session.number("SELECT count(*) FROM experiments WHERE id" + statements.idsIn, Json.write(distinct));
        if (found != distinct.size()) {
            throw new SkyDeckException.NotFound("group '" + group.name() + "' lists an experiment that does not"
                    + " exist (" + group.experimentIds() + ")");
        }
    }

    private void insertMembers(long groupId, Group group) throws SQLException {
        if (!group.experimentIds().isEmpty()) {
            session.update(statements.insertMembers, groupId, Json.write(group.experimentIds()));
        }
    }

    @Override
    public void deleteGroup(long groupId) {
        int changed = sql(() -> session.update("DELETE FROM experiment_groups WHERE id = ?", groupId));
        if (changed == 0) {
            throw new SkyDeckException.NotFound("group " + groupId + " does not exist");
        }
    }

    @Override
    public void upsertCheckpoint(Checkpoint c) {
        sql(() -> {
            if (session.number("SELECT count(*) FROM experiments WHERE id = ?", c.experimentId()) == 0) {
                throw new SkyDeckException.NotFound("checkpoint of epoch " + c.epoch() + " belongs to experiment "
                        + c.experimentId() + ", which does not exist");
            }
            return session.update("INSERT INTO checkpoints (experiment_id, epoch, model_path, replay_paths,"
                    + " policy_version, size_bytes, created_at, synced_at, gone_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    + " ON CONFLICT (experiment_id, epoch) DO UPDATE SET model_path = excluded.model_path,"
                    + " replay_paths = excluded.replay_paths, policy_version = excluded.policy_version,"
                    + " size_bytes = excluded.size_bytes, created_at = excluded.created_at,"
                    + " synced_at = excluded.synced_at, gone_at = excluded.gone_at",
                    c.experimentId(), c.epoch(), c.modelPath(), Json.write(c.replayPaths()), c.policyVersion(),
                    c.sizeBytes(), Times.toNanos(c.createdAt()), Times.toNanos(c.syncedAt()),
                    Times.toNanos(c.goneAt()));
        });
    }

    @Override
    public Event appendEvent(Event draft) {
        return appendEvents(List.of(draft)).get(0);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Numbers them after the highest one stored: writers are serialised, so numbers follow
     * commit order without gaps on every database.
     */
    @Override
    public List<Event> appendEvents(List<Event> drafts) {
        if (drafts.isEmpty()) {
            return List.of();
        }
        long last = lastAppended >= 0 ? lastAppended : lastEventSeq();
        List<Event> out = new ArrayList<>(drafts.size());
        for (int from = 0; from < drafts.size(); from += Statements.EVENTS_PER_STATEMENT) {
            List<Event> chunk = drafts.subList(from, Math.min(drafts.size(), from + Statements.EVENTS_PER_STATEMENT));
            List<Object> params = new ArrayList<>(chunk.size() * 11);
            for (Event d : chunk) {
                Event numbered = d.withSeq(++last);
                out.add(numbered);
                params.addAll(java.util.Arrays.asList(numbered.seq(), Times.toNanos(d.time()), d.actor(), d.type(),
                        d.experimentId(), d.experimentName(), d.jobId(), d.success(), d.message(), d.detail(),
                        d.user()));
            }
            String values = String.join(", ", java.util.Collections.nCopies(chunk.size(),
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
            sql(() -> session.update("INSERT INTO events (seq, time, actor, type, experiment_id,"
                    + " experiment_name, job_id, success, message, detail, user_name) VALUES " + values,
                    params.toArray()));
        }
        lastAppended = last;
        return out;
    }

    @Override
    public void putSetting(String key, String value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        sql(() -> session.update("INSERT INTO settings (key, value) VALUES (?, ?)"
                + " ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value));
    }

    @Override
    public Lease acquireLease(String name, String holder, Duration ttl, Instant now, long staleToken) {
        return sql(() -> {
            long clock = storeNow(now);
            long until = clock + ttl.toNanos();
            Optional<Lease> current = session.first("SELECT * FROM leases WHERE name = ?", StoreSql::leaseRow, name);
            long token;
            if (current.isEmpty()) {
                token = 1;
            } else if (current.get().heldBy(holder)) {
                token = current.get().token();
            } else if (Times.toNanos(current.get().expiresAt()) <= clock
                    || (staleToken != 0 && current.get().token() == staleToken)) {
                token = current.get().token() + 1;
            } else {
                return current.get();
            }
            session.update("INSERT INTO leases (name, holder, token, expires_at) VALUES (?, ?, ?, ?)"
                    + " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = excluded.token,"
                    + " expires_at = excluded.expires_at", name, holder, token, until);
            return new Lease(name, holder, token, Times.fromNanos(until));
        });
    }

    @Override
    public boolean holdsLease(String name, String holder, long token, Instant now) {
        String sql = "SELECT count(*) FROM leases WHERE name = ? AND holder = ? AND token = ? AND expires_at > "
                + statements.dialect.nowNanos();
        Object[] params = statements.dialect.nowIsParameter()
                ? new Object[] {name, holder, token, Times.toNanos(now)} : new Object[] {name, holder, token};
        return sql(() -> session.number(sql, params)) > 0;
    }

    @Override
    public void releaseLease(String name, String holder, Instant now) {
        sql(() -> session.update("UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?", storeNow(now),
                name, holder));
    }

    /** The store's clock in epoch nanoseconds: {@code now}, or the database server's for a shared server. */
    private long storeNow(Instant now) throws SQLException {
        return statements.dialect.nowIsParameter() ? Times.toNanos(now)
                : session.number("SELECT " + statements.dialect.nowNanos());
    }

    @Override
    public void insertToken(ApiToken token, String sha256Hex) {
        int inserted = sql(() -> session.update("INSERT INTO api_tokens (id, user_name, hash, created_at, revoked_at)"
                + " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", token.id(), token.user(), sha256Hex,
                Times.toNanos(token.createdAt()), Times.toNanos(token.revokedAt())));
        if (inserted == 0) {
            throw new SkyDeckException.Conflict(Reason.ALREADY_RECORDED, "token " + token.id() + " already exists");
        }
    }

    @Override
    public boolean revokeToken(String id, Instant now) {
        return sql(() -> session.update("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                Times.toNanos(now), id)) > 0;
    }

    /** Runs several statements as one: all or none, even when the caller catches the failure and goes on. */
    private <T> T atomically(Work<T> work) throws SQLException {
        session.control("SAVEPOINT skydeck_op");
        boolean ok = false;
        try {
            T result = work.run();
            ok = true;
            return result;
        } finally {
            if (!ok) {
                session.control("ROLLBACK TO SAVEPOINT skydeck_op");
            }
            session.control("RELEASE SAVEPOINT skydeck_op");
        }
    }

    // ---- parameters ----

    private static Object[] specParams(ExperimentSpec s) {
        Resources r = s.resources();
        RestartPolicy p = s.restartPolicy();
        return new Object[] {s.name(), Json.write(s.flags()), s.baseCommand(), s.toolPath(), s.gitBranch(), s.nodes(),
            s.gpus(), r.cloud(), r.region(), r.instanceType(), r.accelerator(), r.spot(), r.pool(), s.desiredState(), p.mode(),
            p.maxRestarts(), p.backoff().toNanos(), p.maxBackoff().toNanos(), s.priority(), s.description(),
            Json.write(s.tags()), s.taskTemplate(), s.runName()};
    }

    private static Object[] jobParams(Job j) {
        Resources r = j.resources();
        JobCancel c = j.cancel();
        return new Object[] {j.id(), j.experimentName(), j.backend(), j.backendJobId(), j.launchId(), j.launchRef(),
            j.status(),
            j.backendStatus(), j.failureReason(), j.details(), j.stage(), Times.toNanos(j.stageSince()), j.attempt(),
            j.generation(), Json.write(j.command()), Json.write(j.flags()), j.nodes(), j.gpus(), r.cloud(), r.region(),
            r.instanceType(), r.accelerator(), r.spot(), r.pool(), j.gitRef(), j.configHash(), Times.toNanos(j.createdAt()),
            Times.toNanos(j.submittedAt()), Times.toNanos(j.startedAt()), Times.toNanos(j.endedAt()), j.exitCode(),
            j.recoveryCount(), j.clusterName(), j.cloud(), j.region(),
            c == null ? null : Times.toNanos(c.requestedAt()), c == null ? null : c.requestedBy(),
            c == null ? null : Times.toNanos(c.sentAt()), c == null ? 0 : c.attempts(), Times.toNanos(j.updatedAt()),
            j.launchedBy()};
    }

    private static Object[] concat(Object[] head, Object... tail) {
        return Stream.concat(java.util.Arrays.stream(head), java.util.Arrays.stream(tail)).toArray();
    }

    // ---- rows ----

    private static Experiment experimentRow(ResultSet rs) throws SQLException {
        ExperimentSpec spec = new ExperimentSpec(rs.getString("name"), Json.flags(rs.getString("flags")),
                rs.getString("base_command"), rs.getString("tool_path"), rs.getString("git_branch"),
                rs.getInt("nodes"), rs.getInt("gpus"),
                new Resources(rs.getString("cloud"), rs.getString("region"), rs.getString("instance_type"),
                        rs.getString("accelerator"), rs.getBoolean("spot"), rs.getString("pool")),
                DesiredState.valueOf(rs.getString("desired_state")),
                new RestartPolicy(RestartPolicy.Mode.valueOf(rs.getString("restart_mode")), rs.getInt("max_restarts"),
                        Duration.ofNanos(rs.getLong("restart_backoff_nanos")),
                        Duration.ofNanos(rs.getLong("restart_max_backoff_nanos"))),
                rs.getInt("priority"), rs.getString("description"), Json.strings(rs.getString("tags")),
                rs.getString("task_template"), rs.getString("run_name"));
        JobStage stage = enumOrNull(JobStage.class, rs.getString("stage"));
        ExperimentStatus status = new ExperimentStatus(stage, rs.getString("state_reason"),
                rs.getLong("observed_generation"), enumOrNull(DesiredState.class, rs.getString("observed_desired")),
                rs.getInt("launch_retries"), instant(rs, "next_attempt_at"), rs.getBoolean("settled"));
        JobStatus latest = enumOrNull(JobStatus.class, rs.getString("latest_status"));
        long epoch = rs.getLong("latest_epoch");
        Long latestEpoch = rs.wasNull() ? null : epoch;
        String activeHash = rs.getString("active_hash");
        return new Experiment(rs.getLong("id"), spec, rs.getBoolean("starred"), rs.getInt("sort_order"),
                rs.getBoolean("expanded"), rs.getBoolean("deleted"), instant(rs, "created_at"),
                instant(rs, "updated_at"), rs.getLong("version"), rs.getLong("generation"),
                ExperimentStatus.currentState(stage, latest), status, latestEpoch,
                activeHash != null && !activeHash.equals(spec.configHash()), rs.getString("created_by"),
                rs.getString("started_by"));
    }

    private static Job jobRow(ResultSet rs) throws SQLException {
        int exit = rs.getInt("exit_code");
        Integer exitCode = rs.wasNull() ? null : exit;
        return new Job(rs.getString("id"), rs.getString("experiment_name"), rs.getString("backend"),
                rs.getString("backend_job_id"), rs.getString("launch_id"), rs.getString("launch_ref"),
                JobStatus.valueOf(rs.getString("status")),
                rs.getString("backend_status"), rs.getString("failure_reason"), rs.getString("details"),
                JobStage.valueOf(rs.getString("stage")), instant(rs, "stage_since"), rs.getInt("attempt"),
                rs.getLong("generation"), Json.strings(rs.getString("command")), Json.flags(rs.getString("flags")),
                rs.getInt("nodes"), rs.getInt("gpus"),
                new Resources(rs.getString("res_cloud"), rs.getString("res_region"), rs.getString("res_instance_type"),
                        rs.getString("res_accelerator"), rs.getBoolean("res_spot"), rs.getString("res_pool")),
                rs.getString("git_ref"), rs.getString("config_hash"), instant(rs, "created_at"),
                instant(rs, "submitted_at"), instant(rs, "started_at"), instant(rs, "ended_at"), exitCode,
                rs.getInt("recovery_count"), rs.getString("cluster_name"), rs.getString("cloud"), rs.getString("region"),
                cancel(rs), instant(rs, "updated_at"), rs.getString("launched_by"));
    }

    private static JobCancel cancel(ResultSet rs) throws SQLException {
        Instant requested = instant(rs, "cancel_requested_at");
        return requested == null ? null : new JobCancel(requested, Actor.valueOf(rs.getString("cancel_requested_by")),
                instant(rs, "cancel_sent_at"), rs.getInt("cancel_attempts"));
    }

    private static Group groupRow(ResultSet rs) throws SQLException {
        String members = rs.getString("members");
        return new Group(rs.getLong("id"), rs.getString("name"), rs.getString("name_prefix"),
                Json.strings(rs.getString("flags")), rs.getInt("sort_order"), rs.getBoolean("collapsed"),
                members == null ? List.of() : Json.longs(members));
    }

    private static Checkpoint checkpointRow(ResultSet rs) throws SQLException {
        return new Checkpoint(rs.getLong("experiment_id"), rs.getLong("epoch"), rs.getString("model_path"),
                Json.strings(rs.getString("replay_paths")), rs.getString("policy_version"), rs.getLong("size_bytes"),
                instant(rs, "created_at"), instant(rs, "synced_at"), instant(rs, "gone_at"));
    }

    private static Event eventRow(ResultSet rs) throws SQLException {
        long experimentId = rs.getLong("experiment_id");
        Long experiment = rs.wasNull() ? null : experimentId;
        return new Event(rs.getLong("seq"), instant(rs, "time"), Actor.valueOf(rs.getString("actor")),
                EventType.valueOf(rs.getString("type")), experiment, rs.getString("experiment_name"),
                rs.getString("job_id"), rs.getBoolean("success"), rs.getString("message"), rs.getString("detail"),
                rs.getString("user_name"));
    }

    private static Lease leaseRow(ResultSet rs) throws SQLException {
        return new Lease(rs.getString("name"), rs.getString("holder"), rs.getLong("token"), instant(rs, "expires_at"));
    }

    private static ApiToken tokenRow(ResultSet rs) throws SQLException {
        return new ApiToken(rs.getString("id"), rs.getString("user_name"), instant(rs, "created_at"),
                instant(rs, "revoked_at"));
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        long nanos = rs.getLong(column);
        return rs.wasNull() ? null : Times.fromNanos(nanos);
    }

    private static <E extends Enum<E>> E enumOrNull(Class<E> type, String name) {
        return name == null ? null : Enum.valueOf(type, name);
    }
}
