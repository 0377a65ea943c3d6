package dev.skydeck.testing;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * A database of the original (Python) SkyDeck, written the way it writes one (its format is in the
 * lead's {@code ORIGINAL.md}): naive ISO-8601 text times, in UTC except {@code jobs.created_at}
 * (local time), 0/1 booleans, JSON text, no schema-history table, no foreign keys, rollback journal.
 * Needs a SQLite JDBC driver on the test class path.
 *
 * <p>What it holds, for tests to assert against:
 * <ul>
 *   <li>experiments 1 {@code daveey.nav.baseline} (RUNNING, starred, expanded, run name, branch,
 *       2 × 4 GPUs on spot {@code p4d.24xlarge}), 2 {@code daveey.nav.baseline (copy)} (STOPPED, made by the
 *       original's Duplicate), 3 {@code old.sweep} (soft-deleted), 5 {@code Test PPO Training} (no jobs);</li>
 *   <li>jobs 9588 (SUCCEEDED) and 9601 (RUNNING) of experiment 1, 9602 (FAILED_SETUP) of experiment 2,
 *       9500 (CANCELLED) of the deleted one, and the orphan 9400 of {@code handmade.run};</li>
 *   <li>checkpoints (1, 10), (1, 20), (2, 5) and a dangling one of experiment 99;</li>
 *   <li>groups {@code a1b2c3d4} "nav" (members 1, 2) and {@code 0000beef} "copies" (collapsed; members 2 and
 *       the missing 99): experiment 2 is in both;</li>
 *   <li>five operation logs, the setting {@code jobs-filters}, and rows in the caches.</li>
 * </ul>
 */
public final class OriginalDatabase {
    /** When experiment 1 was created (UTC, as stored). */
    public static final Instant EXPERIMENT_1_CREATED = Instant.parse("2025-10-14T09:31:07.123456Z");
    /** When job 9588 was created: the file holds this instant in local time. */
    public static final Instant JOB_9588_CREATED = Instant.parse("2025-10-14T09:35:00.5Z");
    /** When job 9588 started (UTC, as stored). */
    public static final Instant JOB_9588_STARTED = Instant.parse("2025-10-14T09:41:12Z");
    /** When job 9588 ended (UTC, as stored). */
    public static final Instant JOB_9588_ENDED = Instant.parse("2025-10-14T17:02:03.25Z");

    private static final DateTimeFormatter NAIVE = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS");

    private OriginalDatabase() {
    }

    /**
     * Writes the database into {@code file} (which must not exist).
     *
     * @param localZone the zone the original ran in: {@code jobs.created_at} is written in its local time
     */
    public static void write(Path file, ZoneId localZone) {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
             Statement st = c.createStatement()) {
            for (String ddl : SCHEMA) {
                st.executeUpdate(ddl);
            }
            String exp = "INSERT INTO experiments (id, name, desired_state, current_state, flags, base_command, run_name,"
                    + " git_branch, current_job_id, cluster_name, nodes, gpus, instance_type, cloud, spot, created_at,"
                    + " updated_at, wandb_link, description, tags, exp_group, exp_order, is_expanded, starred, deleted,"
                    + " tool_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
            rows(c, exp, List.of(
                    row(1, "daveey.nav.baseline", "RUNNING", "RUNNING",
                            "{\"trainer.losses.ppo.enabled\": true, \"policy_architecture.core_resnet_layers\": 4,"
                                    + " \"trainer.optimizer.learning_rate\": 0.0003, \"trainer.total_timesteps\": 3.0,"
                                    + " \"wandb.tags\": \"nav\"}",
                            "lt", "daveey.nav.baseline.r1", "daveey/nav", "9601", "sky-9601-daveey", 2, 4,
                            "p4d.24xlarge", "aws", 1, utc(EXPERIMENT_1_CREATED), "2025-10-15T08:00:00.000001",
                            "https://wandb.ai/metta/runs/daveey.nav.baseline.r1", "the baseline",
                            "[\"nav\", \"baseline\"]", null, 0, 1, 1, 0, "recipes.experiment.navigation.train"),
                    row(2, "daveey.nav.baseline (copy)", "STOPPED", "FAILED",
                            "{\"trainer.losses.ppo.enabled\": false, \"policy_architecture.core_resnet_layers\": 4,"
                                    + " \"trainer.optimizer.learning_rate\": 1e-05}",
                            "lt", null, "-", null, null, 1, 4, null, "aws", 0, "2025-10-16T10:00:00", "2025-10-16T10:05:00",
                            null, null, "[]", null, 1, 0, 0, 0, "recipes.experiment.navigation.train"),
                    row(3, "old.sweep", "TERMINATED", "CANCELLED", "{\"layers\": 16}", "lt", null, null, null, null, 1, 0,
                            null, null, 0, "2025-09-01T00:00:00", "2025-09-02T00:00:00", null, "retired", "[\"sweep\"]",
                            "legacy", 2, 0, 0, 1, null),
                    row(5, "Test PPO Training", "STOPPED", "INIT", "{}", "uv run ./tools/run.py", "daveey.test_ppo", null,
                            null, null, 1, 4, null, null, 0, "2025-10-20T12:00:00", "2025-10-20T12:00:00", null, null,
                            "[]", null, 3, 0, 1, 0, null)));
            String job = "INSERT INTO jobs (id, experiment_id, cluster_name, sky_job_id, status, created_at, submitted_at,"
                    + " started_at, ended_at, command, logs_path, exit_code, error_message, nodes, gpus, instance_type,"
                    + " cloud) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
            rows(c, job, List.of(
                    row("9588", "daveey.nav.baseline", "sky-9588-daveey", 1, "SUCCEEDED",
                            local(JOB_9588_CREATED, localZone), "2025-10-14T09:35:01", utc(JOB_9588_STARTED),
                            utc(JOB_9588_ENDED),
                            "lt --gpus=4 --nodes=2 --git-ref=daveey/nav recipes.experiment.navigation.train"
                                    + " run=daveey.nav.baseline.r1 trainer.losses.ppo.enabled=true",
                            "/home/daveey/.sky/logs/9588", 0, null, 2, 4, "p4d.24xlarge", "aws"),
                    row("9601", "daveey.nav.baseline", "sky-9601-daveey", 1, "RUNNING",
                            local(Instant.parse("2025-10-15T08:00:00Z"), localZone), "2025-10-15T08:00:02",
                            "2025-10-15T08:06:00", null, "lt --gpus=4 --nodes=2 run=daveey.nav.baseline.r1", null, null,
                            null, 2, 4, "p4d.24xlarge", "aws"),
                    row("9602", "daveey.nav.baseline (copy)", "sky-9602-daveey", 1, "FAILED_SETUP",
                            local(Instant.parse("2025-10-16T10:01:00Z"), localZone), "2025-10-16T10:01:01",
                            null, "2025-10-16T10:04:00", "lt --gpus=4 --nodes=1 'run=daveey.nav.baseline (copy)'", null,
                            1, "setup failed: uv sync exited with 2", 1, 4, null, "aws"),
                    row("9500", "old.sweep", "sky-9500-daveey", 1, "CANCELLED",
                            local(Instant.parse("2025-09-01T01:00:00Z"), localZone), "2025-09-01T01:00:01",
                            "2025-09-01T01:10:00", "2025-09-01T02:00:00", "lt --gpus=0 --nodes=1 run=old.sweep layers=16",
                            null, null, null, 1, 0, null, null),
                    row("9400", "handmade.run", "sky-9400-daveey", 1, "SUCCEEDED",
                            local(Instant.parse("2025-08-01T00:00:00Z"), localZone), "2025-08-01T00:00:01",
                            "2025-08-01T00:01:00", "2025-08-01T03:00:00", "python train.py", null, 0, null, 1, 8,
                            "g5.48xlarge", "aws")));
            String cp = "INSERT INTO checkpoints (experiment_id, epoch, model_path, replay_paths, metrics, created_at,"
                    + " synced_at, observatory_url, policy_version, policy_id, policy_version_id)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
            rows(c, cp, List.of(
                    row("1", 10, "s3://softmax-public/policies/daveey.nav.baseline/daveey.nav.baseline:v10.mpt",
                            "[\"s3://softmax-public/policies/daveey.nav.baseline/replays/replay_10_a.json.z\"]",
                            "{\"reward\": 1.5}", "2025-10-14T12:00:00", "2025-10-14T12:01:00", null, "10", null, null),
                    row("1", 20, "s3://softmax-public/policies/daveey.nav.baseline/daveey.nav.baseline:v20.mpt", "[]",
                            "{}", "2025-10-14T15:00:00", "2025-10-14T15:01:00", null, "20", null, null),
                    row("2", 5, "s3://softmax-public/policies/daveey.nav.baseline (copy)/daveey.nav.baseline (copy):v5.mpt",
                            "[]", "{}", "2025-10-16T10:03:00", "2025-10-16T10:03:30", null, "5", null, null),
                    row("99", 1, "s3://softmax-public/policies/gone/gone:v1.mpt", "[]", "{}", "2025-01-01T00:00:00",
                            "2025-01-01T00:00:00", null, "1", null, null)));
            rows(c, "INSERT INTO experiment_groups (id, name, flags, group_order, collapsed, created_at, updated_at,"
                    + " name_prefix) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", List.of(
                    row("a1b2c3d4", "nav", "[\"policy_architecture.core_resnet_layers\"]", 0, 0, "2025-10-14T09:00:00",
                            "2025-10-14T09:00:00", "daveey.nav."),
                    row("0000beef", "copies", "[]", 1, 1, "2025-10-16T10:00:00", "2025-10-16T10:00:00", null)));
            rows(c, "INSERT INTO experiment_group_members (group_id, experiment_id, member_order) VALUES (?, ?, ?)",
                    List.of(row("a1b2c3d4", "2", 1), row("a1b2c3d4", "1", 0), row("0000beef", "2", 0),
                            row("0000beef", "99", 1)));
            rows(c, "INSERT INTO operation_logs (id, timestamp, operation_type, experiment_id, experiment_name, job_id,"
                    + " success, error_message, output, user) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", List.of(
                    row(1, "2025-10-14T09:31:07", "CREATE", 1, "daveey.nav.baseline", null, 1, null, null, "daveey"),
                    row(2, "2025-10-14T09:35:00", "START", 1, "daveey.nav.baseline", "9588", 1, null,
                            "Launched managed job 9588", "daveey"),
                    row(3, "2025-10-16T10:00:00", "DUPLICATE", 2, "daveey.nav.baseline (copy)", null, 1, null, null,
                            "daveey"),
                    row(4, "2025-10-16T10:04:30", "STOP", 2, "daveey.nav.baseline (copy)", "9602", 0,
                            "job already ended", null, "daveey"),
                    row(5, "2025-09-02T00:00:00", "DELETE", 3, "old.sweep", null, 1, null, null, null)));
            rows(c, "INSERT INTO user_settings (key, value, updated_at) VALUES (?, ?, ?)",
                    List.<Object[]>of(row("jobs-filters", "{\"active\": true, \"q\": \"nav\"}", "2025-10-14T09:00:00")));
            st.executeUpdate("INSERT INTO clusters (name, status) VALUES ('sky-9601-daveey', 'UP')");
            st.executeUpdate("INSERT INTO flag_schemas (tool_path, schema_json) VALUES ('x', '{}')");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot write the original SkyDeck database " + file + ": " + e, e);
        }
    }

    /** The tables as the original creates them (it enforces no foreign keys). */
    private static final List<String> SCHEMA = List.of(
            "CREATE TABLE experiments (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL,"
                    + " desired_state TEXT, current_state TEXT, flags TEXT, base_command TEXT, run_name TEXT,"
                    + " git_branch TEXT, current_job_id TEXT, cluster_name TEXT, nodes INTEGER, gpus INTEGER,"
                    + " instance_type TEXT, cloud TEXT, spot INTEGER, created_at TEXT, updated_at TEXT, wandb_link TEXT,"
                    + " description TEXT, tags TEXT, exp_group TEXT, exp_order INTEGER, is_expanded INTEGER,"
                    + " starred INTEGER, deleted INTEGER, tool_path TEXT)",
            "CREATE TABLE jobs (id TEXT PRIMARY KEY, experiment_id TEXT, cluster_name TEXT, sky_job_id INTEGER,"
                    + " status TEXT, created_at TEXT, submitted_at TEXT, started_at TEXT, ended_at TEXT, command TEXT,"
                    + " logs_path TEXT, exit_code INTEGER, error_message TEXT, nodes INTEGER, gpus INTEGER,"
                    + " instance_type TEXT, cloud TEXT)",
            "CREATE TABLE checkpoints (experiment_id TEXT, epoch INTEGER, model_path TEXT, replay_paths TEXT,"
                    + " metrics TEXT, created_at TEXT, synced_at TEXT, observatory_url TEXT, policy_version TEXT,"
                    + " policy_id TEXT, policy_version_id TEXT, PRIMARY KEY (experiment_id, epoch))",
            "CREATE TABLE experiment_groups (id TEXT PRIMARY KEY, name TEXT, flags TEXT, group_order INTEGER,"
                    + " collapsed INTEGER, created_at TEXT, updated_at TEXT, name_prefix TEXT)",
            "CREATE TABLE experiment_group_members (group_id TEXT, experiment_id TEXT, member_order INTEGER,"
                    + " PRIMARY KEY (group_id, experiment_id))",
            "CREATE TABLE operation_logs (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp TEXT, operation_type TEXT,"
                    + " experiment_id INTEGER, experiment_name TEXT, job_id TEXT, success INTEGER, error_message TEXT,"
                    + " output TEXT, user TEXT)",
            "CREATE TABLE user_settings (key TEXT PRIMARY KEY, value TEXT, updated_at TEXT)",
            "CREATE TABLE clusters (name TEXT PRIMARY KEY, status TEXT)",
            "CREATE TABLE flag_schemas (tool_path TEXT PRIMARY KEY, schema_json TEXT)",
            "CREATE TABLE flag_definitions (key TEXT PRIMARY KEY, type TEXT)");

    private static Object[] row(Object... values) {
        return values;
    }

    private static void rows(Connection c, String sql, List<Object[]> rows) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (Object[] r : rows) {
                for (int i = 0; i < r.length; i++) {
                    ps.setObject(i + 1, r[i]);
                }
                ps.executeUpdate();
            }
        }
    }

    private static String utc(Instant t) {
        return NAIVE.format(LocalDateTime.ofInstant(t, ZoneOffset.UTC));
    }

    private static String local(Instant t, ZoneId zone) {
        return NAIVE.format(LocalDateTime.ofInstant(t, zone));
    }
}
