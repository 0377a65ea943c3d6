package dev.skydeck.jdbc.internal;

import dev.skydeck.jdbc.Dialect;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The text of every statement of the SQL store, built once for a {@link Dialect}. Written to run
 * unchanged on SQLite and PostgreSQL but for the dialect's fragments: booleans compared with
 * {@link Dialect#falseLiteral()}, JSON arrays through the dialect, subqueries in {@code FROM}
 * aliased, ids assigned as one more than the highest (writes are serialised, so this is exact
 * and needs no sequence that an import would have to move).
 */
public final class Statements {
    /** The spec's columns, in {@code specParams} order. */
    static final List<String> SPEC_COLUMNS = List.of("name", "flags", "base_command", "tool_path",
            "git_branch", "nodes", "gpus", "cloud", "region", "instance_type", "accelerator", "spot", "pool",
            "desired_state",
            "restart_mode", "max_restarts", "restart_backoff_nanos", "restart_max_backoff_nanos", "priority",
            "description", "tags", "task_template", "run_name", "flag_index", "search_text");

    /** A job's columns, in {@code jobParams} order. */
    static final List<String> JOB_COLUMNS = List.of("id", "experiment_name", "backend", "backend_job_id",
            "launch_id", "launch_ref", "status", "backend_status", "failure_reason", "details", "stage", "stage_since",
            "attempt", "generation", "command", "flags", "nodes", "gpus", "res_cloud", "res_region",
            "res_instance_type", "res_accelerator", "res_spot", "res_pool", "git_ref", "config_hash", "created_at",
            "submitted_at", "started_at", "ended_at", "exit_code", "recovery_count", "cluster_name", "cloud", "region",
            "cancel_requested_at", "cancel_requested_by", "cancel_sent_at", "cancel_attempts", "updated_at",
            "launched_by");

    /** Mirrors {@code ExperimentStatus#currentState}, for filtering in SQL. */
    static final String CURRENT_STATE = "(CASE WHEN stage = 'QUEUED' OR latest_status = 'INIT' THEN 'PENDING'"
            + " WHEN latest_status IS NULL THEN 'INIT' ELSE latest_status END)";

    static final String NEWEST_FIRST = " ORDER BY j.created_at DESC, j.id DESC";

    /** Rows per multi-row event insert: 11 parameters each, well under both databases' limits. */
    static final int EVENTS_PER_STATEMENT = 1000;

    final Dialect dialect;
    /** The statements kept per connection, or {@code null} when the dialect prepares them per transaction. */
    final StatementCache kept;
    /** The specs read transactions have read, for every dialect. */
    final SpecCache specs = new SpecCache();
    /** {@code = false} for a boolean column. */
    final String isFalse;
    final String selectExperiments;
    final String insertExperiment;
    final String importExperiment;
    final String updateExperiment;
    final String insertJob;
    final String updateJob;
    final String selectGroups;
    final String insertMembers;
    final String idsIn;
    final String namesIn;

    /** The statements for {@code dialect}. */
    public Statements(Dialect dialect) {
        this.dialect = dialect;
        this.kept = dialect.keepsStatements() ? new StatementCache() : null;
        this.isFalse = " = " + dialect.falseLiteral();
        String f = dialect.falseLiteral();
        this.idsIn = " IN " + dialect.jsonArrayValues(true);
        this.namesIn = " IN " + dialect.jsonArrayValues(false);
        // the latest job's status and the latest epoch are kept on the row by triggers (schema 7 / 2)
        this.selectExperiments = "SELECT e.*, e.latest_status AS x_status, e.latest_epoch AS x_epoch, "
                + activeHash("e") + " AS active_hash FROM experiments e";
        // derived afresh: a row just written may not show what its AFTER triggers set yet
        String returningExperiment = " RETURNING *, " + latestStatus("experiments") + " AS x_status, "
                + latestEpoch("experiments") + " AS x_epoch, " + activeHash("experiments") + " AS active_hash";
        this.insertExperiment = "INSERT INTO experiments (id, " + String.join(", ", SPEC_COLUMNS)
                + ", starred, sort_order, expanded, deleted, created_at, updated_at, version, generation,"
                + " stage, state_reason, observed_generation, observed_desired, launch_retries, next_attempt_at, settled,"
                + " created_by, started_by)"
                + " VALUES ((SELECT coalesce(max(id), 0) + 1 FROM experiments), " + marks(SPEC_COLUMNS.size())
                + ", " + f + ", (SELECT coalesce(max(sort_order), -1) + 1 FROM experiments), " + f + ", " + f
                + ", ?, ?, 1, 1, NULL, NULL, 0, NULL, 0, NULL, " + f + ", ?, ?)"
                // the only unique rule an insert can break is the live name's: no row back means it is taken
                + " ON CONFLICT DO NOTHING RETURNING id, sort_order, " + latestStatus("experiments");
        this.importExperiment = "INSERT INTO experiments (id, " + String.join(", ", SPEC_COLUMNS)
                + ", starred, sort_order, expanded, deleted, created_at, updated_at, version, generation,"
                + " stage, state_reason, observed_generation, observed_desired, launch_retries, next_attempt_at, settled,"
                + " created_by, started_by)"
                + " VALUES (?, " + marks(SPEC_COLUMNS.size()) + ", ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, 0, NULL, 0, NULL, "
                + f + ", ?, ?)"
                // a taken id or live name: no row back, and the caller says which
                + " ON CONFLICT DO NOTHING" + returningExperiment;
        this.updateExperiment = "UPDATE experiments SET "
                + SPEC_COLUMNS.stream().map(c -> c + " = ?").collect(Collectors.joining(", "))
                + ", starred = ?, sort_order = ?, expanded = ?, deleted = ?, generation = ?, started_by = ?, updated_at = ?,"
                + " version = version + 1 WHERE id = ? AND version = ?"
                // a live experiment keeps its name unique: checked here, so the statement never fails on it
                + " AND (? OR NOT EXISTS (SELECT 1 FROM experiments o WHERE o.name = ? AND o.deleted" + isFalse
                + " AND o.id <> ?))" + returningExperiment;
        this.insertJob = "INSERT INTO jobs (" + String.join(", ", JOB_COLUMNS) + ") VALUES ("
                + marks(JOB_COLUMNS.size()) + ") ON CONFLICT DO NOTHING";
        this.updateJob = "UPDATE jobs SET "
                + JOB_COLUMNS.subList(2, JOB_COLUMNS.size()).stream().map(c -> c + " = ?")
                .collect(Collectors.joining(", "))
                + " WHERE id = ? AND experiment_name = ?";
        this.selectGroups = "SELECT g.*, (SELECT " + dialect.jsonArrayAgg("m.experiment_id", "m.position")
                + " FROM group_members m WHERE m.group_id = g.id) AS members FROM experiment_groups g";
        this.insertMembers = "INSERT INTO group_members (group_id, experiment_id, position)"
                + " SELECT ?, t.value, t.position FROM " + dialect.jsonArrayRows();
    }

    /** The status of the experiment's latest job (by creation time, then id); uses jobs_experiment. */
    static String latestStatus(String experiment) {
        return "(SELECT j.status FROM jobs j WHERE j.experiment_name = " + experiment + ".name"
                + " ORDER BY j.created_at DESC, j.id DESC LIMIT 1)";
    }

    /** The highest epoch among present checkpoints; uses the checkpoints primary key. */
    static String latestEpoch(String experiment) {
        return "(SELECT max(c.epoch) FROM checkpoints c WHERE c.experiment_id = " + experiment + ".id"
                + " AND c.gone_at IS NULL)";
    }

    /** The config hash of the experiment's active SkyDeck launch; uses jobs_one_active_launch. */
    static String activeHash(String experiment) {
        return "(SELECT j.config_hash FROM jobs j WHERE j.experiment_name = " + experiment + ".name"
                + " AND j.active AND j.launch_id IS NOT NULL)";
    }

    static String marks(int n) {
        return String.join(", ", Collections.nCopies(n, "?"));
    }
}
