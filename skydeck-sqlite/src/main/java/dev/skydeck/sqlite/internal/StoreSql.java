package dev.skydeck.sqlite.internal;

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
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Every SQL statement of the SQLite store, on one {@link Session}: the reads (on a reader or the
 * writer) and the writes (on the writer, inside a transaction). Each method runs a constant
 * number of statements whatever the number of rows involved.
 */
public final class StoreSql implements StoreTx {
    // ---- experiments ----

    private static final List<String> SPEC_COLUMNS = List.of("name", "flags", "base_command", "tool_path",
            "git_branch", "nodes", "gpus", "cloud", "region", "instance_type", "accelerator", "spot", "pool",
            "desired_state",
            "restart_mode", "max_restarts", "restart_backoff_nanos", "restart_max_backoff_nanos", "priority",
            "description", "tags", "task_template", "run_name");

    /** The status of the experiment's latest job (by creation time, then id); uses jobs_experiment. */
    private static String latestStatus(String experiment) {
        return "(SELECT j.status FROM jobs j WHERE j.experiment_name = " + experiment + ".name"
                + " ORDER BY j.created_at DESC, j.id DESC LIMIT 1)";
    }

    /** The highest epoch among present checkpoints; uses the checkpoints primary key. */
    private static String latestEpoch(String experiment) {
        return "(SELECT max(c.epoch) FROM checkpoints c WHERE c.experiment_id = " + experiment + ".id"
                + " AND c.gone_at IS NULL)";
    }

    /** The config hash of the experiment's active SkyDeck launch; uses jobs_one_active_launch. */
    private static String activeHash(String experiment) {
        return "(SELECT j.config_hash FROM jobs j WHERE j.experiment_name = " + experiment + ".name"
                + " AND j.active AND j.launch_id IS NOT NULL)";
    }

    /** Mirrors {@link ExperimentStatus#currentState}, for filtering in SQL. */
    private static final String CURRENT_STATE = "(CASE WHEN stage = 'QUEUED' OR latest_status = 'INIT' THEN 'PENDING'"
            + " WHEN latest_status IS NULL THEN 'INIT' ELSE latest_status END)";

    private static final String SELECT_EXPERIMENTS = "SELECT e.*, " + latestStatus("e") + " AS latest_status, "
            + latestEpoch("e") + " AS latest_epoch, " + activeHash("e") + " AS active_hash FROM experiments e";

    private static final String RETURNING_EXPERIMENT = " RETURNING *, " + latestStatus("experiments")
            + " AS latest_status, " + latestEpoch("experiments") + " AS latest_epoch, "
            + activeHash("experiments") + " AS active_hash";

    private static final String INSERT_EXPERIMENT = "INSERT INTO experiments (" + String.join(", ", SPEC_COLUMNS)
            + ", starred, sort_order, expanded, deleted, created_at, updated_at, version, generation,"
            + " stage, state_reason, observed_generation, observed_desired, launch_retries, next_attempt_at, settled)"
            + " VALUES (" + marks(SPEC_COLUMNS.size())
            + ", 0, (SELECT coalesce(max(sort_order), -1) + 1 FROM experiments), 0, 0, ?, ?, 1, 1,"
            + " NULL, NULL, 0, NULL, 0, NULL, 0) RETURNING id, sort_order, " + latestStatus("experiments");

    private static final String IMPORT_EXPERIMENT = "INSERT INTO experiments (id, " + String.join(", ", SPEC_COLUMNS)
            + ", starred, sort_order, expanded, deleted, created_at, updated_at, version, generation,"
            + " stage, state_reason, observed_generation, observed_desired, launch_retries, next_attempt_at, settled)"
            + " VALUES (?, " + marks(SPEC_COLUMNS.size()) + ", ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, 0, NULL, 0, NULL, 0)"
            + RETURNING_EXPERIMENT;

    private static final String UPDATE_EXPERIMENT = "UPDATE experiments SET "
            + SPEC_COLUMNS.stream().map(c -> c + " = ?").collect(Collectors.joining(", "))
            + ", starred = ?, sort_order = ?, expanded = ?, deleted = ?, generation = ?, updated_at = ?,"
            + " version = version + 1 WHERE id = ? AND version = ?" + RETURNING_EXPERIMENT;

    // ---- jobs ----

    private static final List<String> JOB_COLUMNS = List.of("id", "experiment_name", "backend", "backend_job_id",
            "launch_id", "launch_ref", "status", "backend_status", "failure_reason", "details", "stage", "stage_since", "attempt",
            "generation", "command", "flags", "nodes", "gpus", "res_cloud", "res_region", "res_instance_type",
            "res_accelerator", "res_spot", "res_pool", "git_ref", "config_hash", "created_at", "submitted_at", "started_at",
            "ended_at", "exit_code", "recovery_count", "cluster_name", "cloud", "region", "cancel_requested_at",
            "cancel_requested_by", "cancel_sent_at", "cancel_attempts", "updated_at");

    private static final String INSERT_JOB = "INSERT INTO jobs (" + String.join(", ", JOB_COLUMNS) + ") VALUES ("
            + marks(JOB_COLUMNS.size()) + ")";

    private static final String UPDATE_JOB = "UPDATE jobs SET "
            + JOB_COLUMNS.subList(2, JOB_COLUMNS.size()).stream().map(c -> c + " = ?").collect(Collectors.joining(", "))
            + " WHERE id = ? AND experiment_name = ?";

    private static final String NEWEST_FIRST = " ORDER BY j.created_at DESC, j.id DESC";

    // ---- groups ----

    private static final String SELECT_GROUPS = "SELECT g.*, (SELECT json_group_array(m.experiment_id ORDER BY"
            + " m.position) FROM group_members m WHERE m.group_id = g.id) AS members FROM experiment_groups g";

    private static final String INSERT_MEMBERS = "INSERT INTO group_members (group_id, experiment_id, position)"
            + " SELECT ?, value, key FROM json_each(?)";

    /** Rows per multi-row event insert: 9 parameters each, well under SQLite's variable limit. */
    private static final int EVENTS_PER_STATEMENT = 1000;

    private final Session session;
    private final Database database;

    /** Statements over {@code session}; SQL failures are translated by {@code database}. */
    StoreSql(Session session, Database database) {
        this.session = session;
        this.database = database;
    }

    /** The store's reads and writes on a session of {@code database}. */
    public static <T> T inWrite(Database database, java.util.function.Function<StoreTx, T> work) {
        return database.write(session -> work.apply(new StoreSql(session, database)));
    }

    /** The store's reads on a reader session of {@code database}. */
    public static <T> T inRead(Database database, java.util.function.Function<StoreSql, T> work) {
        return database.read(session -> work.apply(new StoreSql(session, database)));
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

    private static String marks(int n) {
        return String.join(", ", java.util.Collections.nCopies(n, "?"));
    }

    // ---- reads ----

    @Override
    public Optional<Experiment> experiment(long id) {
        return sql(() -> session.first(SELECT_EXPERIMENTS + " WHERE e.id = ?", StoreSql::experimentRow, id));
    }

    @Override
    public Optional<Experiment> experimentByName(String name) {
        return sql(() -> session.first(SELECT_EXPERIMENTS + " WHERE e.name = ? AND e.deleted = 0",
                StoreSql::experimentRow, name));
    }

    @Override
    public List<Experiment> experiments(Collection<Long> ids) {
        if (ids.isEmpty()) {
            return List.of();
        }
        return sql(() -> session.list(SELECT_EXPERIMENTS + " WHERE e.id IN (SELECT value FROM json_each(?))",
                StoreSql::experimentRow, Json.write(ids.stream().distinct().toList())));
    }

    @Override
    public Map<String, Experiment> experimentsByName(Collection<String> names) {
        if (names.isEmpty()) {
            return Map.of();
        }
        List<Experiment> found = sql(() -> session.list(SELECT_EXPERIMENTS
                + " WHERE e.deleted = 0 AND e.name IN (SELECT value FROM json_each(?))", StoreSql::experimentRow,
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
            where.add("e.deleted = 0");
        }
        if (q.text() != null) {
            String text = q.text().toLowerCase(Locale.ROOT);
            where.add("(instr(lower(e.name), ?) > 0 OR instr(lower(coalesce(e.description, '')), ?) > 0)");
            params.add(text);
            params.add(text);
        }
        if (q.desired() != null) {
            where.add("e.desired_state = ?");
            params.add(q.desired());
        }
        if (q.tag() != null) {
            where.add("EXISTS (SELECT 1 FROM json_each(e.tags) t WHERE t.value = ?)");
            params.add(q.tag());
        }
        String filter = where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where);
        String stateFilter = q.state() == null ? "" : " WHERE " + CURRENT_STATE + " = ?";
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
        String page = "SELECT * FROM (" + SELECT_EXPERIMENTS + filter + ")" + stateFilter
                + " ORDER BY " + column + dir + ", id" + dir + " LIMIT ? OFFSET ?";
        String count = q.state() == null
                ? "SELECT count(*) FROM experiments e" + filter
                : "SELECT count(*) FROM (SELECT e.stage, " + latestStatus("e") + " AS latest_status FROM experiments e"
                        + filter + ")" + stateFilter;
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
        return sql(() -> session.list("SELECT e.id FROM experiments e WHERE e.deleted = 0 OR EXISTS"
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
        List<Job> found = sql(() -> session.list("SELECT j.* FROM jobs j WHERE j.launch_id IN"
                + " (SELECT value FROM json_each(?))", StoreSql::jobRow, Json.write(launchIds.stream().distinct().toList())));
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
        List<Job> found = sql(() -> session.list("SELECT j.* FROM jobs j WHERE j.backend = ? AND j.backend_job_id IN"
                + " (SELECT value FROM json_each(?))", StoreSql::jobRow, backend,
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
        if (q.orphaned() != null) {
            where.add((q.orphaned() ? "NOT " : "")
                    + "EXISTS (SELECT 1 FROM experiments e WHERE e.name = j.experiment_name AND e.deleted = 0)");
        }
        if (q.text() != null) {
            String text = q.text().toLowerCase(Locale.ROOT);
            where.add("(instr(lower(j.id), ?) > 0 OR instr(lower(j.experiment_name), ?) > 0"
                    + " OR instr(lower(coalesce(j.backend_job_id, '')), ?) > 0)");
            params.add(text);
            params.add(text);
            params.add(text);
        }
        String filter = where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where);
        List<Object> pageParams = new ArrayList<>(params);
        pageParams.add(q.limit());
        pageParams.add(q.offset());
        return sql(() -> {
            List<Job> items = session.list("SELECT j.* FROM jobs j" + filter + NEWEST_FIRST + " LIMIT ? OFFSET ?",
                    StoreSql::jobRow, pageParams.toArray());
            long total = session.number("SELECT count(*) FROM jobs j" + filter, params.toArray());
            return new Page<>(items, total);
        });
    }

    @Override
    public List<Job> activeJobs() {
        return sql(() -> session.list("SELECT j.* FROM jobs j WHERE j.active" + NEWEST_FIRST, StoreSql::jobRow));
    }

    @Override
    public ActiveJobs activeJobStats(String backend) {
        return sql(() -> session.first("SELECT count(*), coalesce(sum(status IN ('INIT', 'PENDING', 'STARTING')), 0),"
                + " coalesce(sum(nodes * gpus), 0) FROM jobs WHERE active AND backend = ?",
                rs -> new ActiveJobs(rs.getLong(1), rs.getLong(2), rs.getLong(3)), backend).orElseThrow());
    }

    @Override
    public List<Job> orphanedCancels() {
        return sql(() -> session.list("SELECT j.* FROM jobs j WHERE j.active AND j.cancel_requested_at IS NOT NULL"
                + " AND NOT EXISTS (SELECT 1 FROM experiments e WHERE e.name = j.experiment_name AND e.deleted = 0)"
                + " ORDER BY j.cancel_requested_at, j.id", StoreSql::jobRow));
    }

    @Override
    public List<Group> groups() {
        return sql(() -> session.list(SELECT_GROUPS + " ORDER BY g.sort_order, g.id", StoreSql::groupRow));
    }

    @Override
    public Optional<Group> group(long id) {
        return sql(() -> session.first(SELECT_GROUPS + " WHERE g.id = ?", StoreSql::groupRow, id));
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
        return sql(() -> session.first("SELECT (SELECT count(*) FROM experiments WHERE deleted = 0),"
                + " (SELECT count(*) FROM jobs WHERE active)", rs -> new StoreCounts(rs.getLong(1), rs.getLong(2)))
                .orElseThrow());
    }

    // ---- writes ----

    @Override
    public Experiment insertExperiment(ExperimentSpec spec, Instant now) {
        Object[] params = concat(specParams(spec), Times.toNanos(now), Times.toNanos(now));
        try {
            // built from what we wrote, not read back: bulk inserts skip parsing the flags again
            return session.first(INSERT_EXPERIMENT, rs -> {
                JobStatus latest = enumOrNull(JobStatus.class, rs.getString(3));
                // a new experiment can have jobs already: jobs match by name and may predate it
                return new Experiment(rs.getLong(1), spec, false, rs.getInt(2), false, false, now, now, 1, 1,
                        ExperimentStatus.currentState(null, latest), ExperimentStatus.NEW, null, false);
            }, params).orElseThrow();
        } catch (SQLException e) {
            throw nameTaken(e, spec.name());
        }
    }

    @Override
    public Experiment importExperiment(Experiment e) {
        Object[] params = concat(new Object[] {e.id()}, specParams(e.spec()));
        params = concat(params, e.starred(), e.order(), e.expanded(), e.deleted(), Times.toNanos(e.createdAt()),
                Times.toNanos(e.updatedAt()), e.version(), e.generation());
        try {
            return session.first(IMPORT_EXPERIMENT, StoreSql::experimentRow, params).orElseThrow();
        } catch (SQLException ex) {
            if (Constraints.unique(ex, "experiments.id")) {
                throw new SkyDeckException.Conflict(Reason.ALREADY_RECORDED, "experiment " + e.id()
                        + " already exists");
            }
            throw nameTaken(ex, e.name());
        }
    }

    @Override
    public Experiment updateExperiment(Experiment changed, Instant now) {
        Object[] params = concat(specParams(changed.spec()), changed.starred(), changed.order(), changed.expanded(),
                changed.deleted(), changed.generation(), Times.toNanos(now), changed.id(), changed.version());
        Optional<Experiment> written;
        try {
            written = session.first(UPDATE_EXPERIMENT, StoreSql::experimentRow, params);
        } catch (SQLException e) {
            throw nameTaken(e, changed.name());
        }
        if (written.isPresent()) {
            return written.get();
        }
        Optional<Long> stored = sql(() -> session.first("SELECT version FROM experiments WHERE id = ?",
                rs -> rs.getLong(1), changed.id()));
        if (stored.isEmpty()) {
            throw new SkyDeckException.NotFound("experiment " + changed.id() + " does not exist");
        }
        throw new SkyDeckException.Conflict(Reason.STALE_VERSION, "experiment '" + changed.name()
                + "' was changed by someone else"
                + " (version " + changed.version() + " is stale, the current version is " + stored.get()
                + "): reload it and apply your change again");
    }

    private SkyDeckException nameTaken(SQLException e, String name) {
        if (Constraints.unique(e, "experiments.name")) {
            return new SkyDeckException.Conflict(Reason.NAME_TAKEN, "an experiment named '" + name
                    + "' already exists: choose another name, or delete that experiment first");
        }
        return database.translate(e);
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
        try {
            session.update(INSERT_JOB, jobParams(job));
            return job;
        } catch (SQLException e) {
            throw jobConflict(e, job);
        }
    }

    @Override
    public Job updateJob(Job job) {
        Object[] all = jobParams(job);
        Object[] params = concat(java.util.Arrays.copyOfRange(all, 2, all.length), job.id(), job.experimentName());
        int changed;
        try {
            changed = session.update(UPDATE_JOB, params);
        } catch (SQLException e) {
            throw jobConflict(e, job);
        }
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
        int[] counts = atomically(() -> session.batchCounts(UPDATE_JOB, rows));
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] == 0) {
                throw new SkyDeckException.NotFound("job " + jobs.get(i).id() + " does not exist (or changed experiment)");
            }
        }
    }

    private SkyDeckException jobConflict(SQLException e, Job job) {
        if (Constraints.unique(e, "jobs.experiment_name")) {
            return new SkyDeckException.Conflict(Reason.ACTIVE_JOB, "experiment '" + job.experimentName()
                    + "' already has an active job: at most one runs at a time");
        }
        if (Constraints.unique(e, "jobs.launch_id")) {
            return new SkyDeckException.Conflict(Reason.ALREADY_RECORDED, "launch id " + job.launchId()
                    + " is already recorded");
        }
        if (Constraints.unique(e, "jobs.id")) {
            return new SkyDeckException.Conflict(Reason.ALREADY_RECORDED, "job " + job.id() + " already exists");
        }
        return database.translate(e);
    }

    @Override
    public Group insertGroup(Group group) {
        return atomically(() -> {
            Object[] row = session.first("INSERT INTO experiment_groups (name, name_prefix, flags, sort_order,"
                    + " collapsed) VALUES (?, ?, ?, (SELECT coalesce(max(sort_order), -1) + 1 FROM experiment_groups),"
                    + " ?) RETURNING id, sort_order", rs -> new Object[] {rs.getLong(1), rs.getInt(2)},
                    group.name(), group.namePrefix(), Json.write(group.flags()), group.collapsed()).orElseThrow();
            long id = (Long) row[0];
            insertMembers(id, group);
            return new Group(id, group.name(), group.namePrefix(), group.flags(), (Integer) row[1], group.collapsed(),
                    group.experimentIds());
        });
    }

    @Override
    public Group importGroup(Group group) {
        return atomically(() -> {
            try {
                session.update("INSERT INTO experiment_groups (id, name, name_prefix, flags, sort_order, collapsed)"
                        + " VALUES (?, ?, ?, ?, ?, ?)", group.id(), group.name(), group.namePrefix(),
                        Json.write(group.flags()), group.order(), group.collapsed());
            } catch (SQLException e) {
                if (Constraints.unique(e, "experiment_groups.id")) {
                    throw new SkyDeckException.Conflict(Reason.ALREADY_RECORDED, "group " + group.id()
                            + " already exists");
                }
                throw e;
            }
            insertMembers(group.id(), group);
            return group;
        });
    }

    @Override
    public Group updateGroup(Group group) {
        return atomically(() -> {
            int changed = session.update("UPDATE experiment_groups SET name = ?, name_prefix = ?, flags = ?,"
                    + " sort_order = ?, collapsed = ? WHERE id = ?", group.name(), group.namePrefix(),
                    Json.write(group.flags()), group.order(), group.collapsed(), group.id());
            if (changed == 0) {
                throw new SkyDeckException.NotFound("group " + group.id() + " does not exist");
            }
            session.update("DELETE FROM group_members WHERE group_id = ?", group.id());
            insertMembers(group.id(), group);
            return group;
        });
    }

    private void insertMembers(long groupId, Group group) throws SQLException {
        if (group.experimentIds().isEmpty()) {
            return;
        }
        try {
            session.update(INSERT_MEMBERS, groupId, Json.write(group.experimentIds()));
        } catch (SQLException e) {
            if (Constraints.foreignKey(e)) {
                throw new SkyDeckException.NotFound("group '" + group.name() + "' lists an experiment that does not"
                        + " exist (" + group.experimentIds() + ")");
            }
            throw e;
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
        try {
            session.update("INSERT INTO checkpoints (experiment_id, epoch, model_path, replay_paths, policy_version,"
                    + " size_bytes, created_at, synced_at, gone_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    + " ON CONFLICT (experiment_id, epoch) DO UPDATE SET model_path = excluded.model_path,"
                    + " replay_paths = excluded.replay_paths, policy_version = excluded.policy_version,"
                    + " size_bytes = excluded.size_bytes, created_at = excluded.created_at,"
                    + " synced_at = excluded.synced_at, gone_at = excluded.gone_at",
                    c.experimentId(), c.epoch(), c.modelPath(), Json.write(c.replayPaths()), c.policyVersion(),
                    c.sizeBytes(), Times.toNanos(c.createdAt()), Times.toNanos(c.syncedAt()),
                    Times.toNanos(c.goneAt()));
        } catch (SQLException e) {
            if (Constraints.foreignKey(e)) {
                throw new SkyDeckException.NotFound("checkpoint of epoch " + c.epoch() + " belongs to experiment "
                        + c.experimentId() + ", which does not exist");
            }
            throw database.translate(e);
        }
    }

    @Override
    public Event appendEvent(Event draft) {
        long seq = sql(() -> session.number("INSERT INTO events (time, actor, type, experiment_id, experiment_name,"
                + " job_id, success, message, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
                Times.toNanos(draft.time()), draft.actor(), draft.type(), draft.experimentId(), draft.experimentName(),
                draft.jobId(), draft.success(), draft.message(), draft.detail()));
        return draft.withSeq(seq);
    }

    @Override
    public List<Event> appendEvents(List<Event> drafts) {
        if (drafts.isEmpty()) {
            return List.of();
        }
        List<Event> out = new ArrayList<>(drafts.size());
        for (int from = 0; from < drafts.size(); from += EVENTS_PER_STATEMENT) {
            List<Event> chunk = drafts.subList(from, Math.min(drafts.size(), from + EVENTS_PER_STATEMENT));
            List<Object> params = new ArrayList<>(chunk.size() * 9);
            for (Event d : chunk) {
                params.addAll(java.util.Arrays.asList(Times.toNanos(d.time()), d.actor(), d.type(), d.experimentId(),
                        d.experimentName(), d.jobId(), d.success(), d.message(), d.detail()));
            }
            String values = String.join(", ", java.util.Collections.nCopies(chunk.size(), "(?, ?, ?, ?, ?, ?, ?, ?, ?)"));
            List<Long> seqs = sql(() -> session.list("INSERT INTO events (time, actor, type, experiment_id,"
                    + " experiment_name, job_id, success, message, detail) VALUES " + values + " RETURNING seq",
                    rs -> rs.getLong(1), params.toArray()));
            java.util.Collections.sort(seqs);
            for (int i = 0; i < chunk.size(); i++) {
                out.add(chunk.get(i).withSeq(seqs.get(i)));
            }
        }
        return out;
    }

    @Override
    public void putSetting(String key, String value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        sql(() -> session.update("INSERT INTO settings (key, value) VALUES (?, ?)"
                + " ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value));
    }

    /** Runs several statements as one: all or none, even when the caller catches the failure and goes on. */
    private <T> T atomically(Work<T> work) {
        try {
            session.control("SAVEPOINT skydeck_op");
            boolean ok = false;
            try {
                T result = work.run();
                ok = true;
                return result;
            } finally {
                if (!ok) {
                    session.control("ROLLBACK TO skydeck_op");
                }
                session.control("RELEASE skydeck_op");
            }
        } catch (SQLException e) {
            throw database.translate(e);
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
            c == null ? null : Times.toNanos(c.sentAt()), c == null ? 0 : c.attempts(), Times.toNanos(j.updatedAt())};
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
                activeHash != null && !activeHash.equals(spec.configHash()));
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
                cancel(rs), instant(rs, "updated_at"));
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
                rs.getString("job_id"), rs.getBoolean("success"), rs.getString("message"), rs.getString("detail"));
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        long nanos = rs.getLong(column);
        return rs.wasNull() ? null : Times.fromNanos(nanos);
    }

    private static <E extends Enum<E>> E enumOrNull(Class<E> type, String name) {
        return name == null ? null : Enum.valueOf(type, name);
    }
}
