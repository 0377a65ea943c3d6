package dev.skydeck.sqlite.internal;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.skydeck.Actor;
import dev.skydeck.Checkpoint;
import dev.skydeck.CommandLine;
import dev.skydeck.DesiredState;
import dev.skydeck.Event;
import dev.skydeck.EventType;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.Group;
import dev.skydeck.Job;
import dev.skydeck.JobStage;
import dev.skydeck.JobStatus;
import dev.skydeck.Resources;
import dev.skydeck.SkyDeckException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.zip.CRC32;

/**
 * Reads a database of the original (Python) SkyDeck, read-only, into SkyDeck's values: what it
 * holds, what it holds that points at nothing (left out, with why), and what SkyDeck cannot hold
 * as it is (problems: the import stops before writing anything). Its format: naive ISO-8601 times
 * in UTC, except {@code jobs.created_at} in the machine's local time; 0/1 booleans; JSON text;
 * columns added over time (an older file may lack some).
 */
public final class OriginalReader {
    /** The backend every job of the original ran on: it launched SkyPilot managed jobs only. */
    public static final String BACKEND = "skypilot";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS);

    /**
     * An operation log as an event, with the original's id (events are appended in that order).
     *
     * @param originalId the {@code operation_logs.id}
     * @param draft      the event, without a sequence number
     */
    public record LoggedEvent(long originalId, Event draft) {
    }

    /**
     * Everything read.
     *
     * @param experiments the experiments, by id
     * @param jobs        the jobs, oldest first
     * @param checkpoints the checkpoints of experiments that exist
     * @param groups      the groups, in order, with their members (that exist) in order
     * @param events      the operation logs, by id
     * @param settings    the dashboard settings, key → JSON text
     * @param wandbLinks  the W&amp;B link of each experiment that had one, by name
     * @param leftOut     rows pointing at nothing, and why
     * @param problems    values SkyDeck cannot hold; non-empty means nothing may be written
     */
    public record Contents(List<Experiment> experiments, List<Job> jobs, List<Checkpoint> checkpoints,
                           List<Group> groups, List<LoggedEvent> events, Map<String, String> settings,
                           Map<String, String> wandbLinks, List<String> leftOut, List<String> problems) {
    }

    private final ZoneId localZone;
    private final Instant now;
    private final List<String> problems = new ArrayList<>();
    private final List<String> leftOut = new ArrayList<>();

    private OriginalReader(ZoneId localZone, Instant now) {
        this.localZone = localZone;
        this.now = now;
    }

    /**
     * Reads {@code file}, changing nothing in it.
     *
     * @param localZone the zone {@code jobs.created_at} was written in
     * @param now       used for a time the original left empty where SkyDeck needs one
     */
    public static Contents read(Path file, ZoneId localZone, Instant now) {
        boolean wal = java.nio.file.Files.exists(file.resolveSibling(file.getFileName() + "-wal"));
        try (Connection c = DatabaseFile.openReadOnly(file, !wal)) {
            return new OriginalReader(localZone, now).readAll(c);
        } catch (SQLException e) {
            throw new SkyDeckException("cannot read the original SkyDeck database " + file + ": " + e.getMessage(),
                    false, e);
        }
    }

    private Contents readAll(Connection c) throws SQLException {
        Set<String> tables = new java.util.HashSet<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT name FROM sqlite_master WHERE type = 'table'")) {
            while (rs.next()) {
                tables.add(rs.getString(1));
            }
        }
        Map<String, String> wandb = new LinkedHashMap<>();
        List<Experiment> experiments = new ArrayList<>();
        for (Map<String, Object> r : rows(c, tables, "experiments", "id")) {
            Experiment e = experiment(r);
            if (e != null) {
                experiments.add(e);
                String link = text(r, "wandb_link");
                if (link != null && !link.isBlank()) {
                    wandb.put(e.name(), link);
                }
            }
        }
        Map<Long, Experiment> byId = new HashMap<>();
        Map<String, Experiment> byName = new HashMap<>();
        for (Experiment e : experiments) {
            byId.put(e.id(), e);
            byName.put(e.name(), e);
        }
        List<Job> jobs = jobs(rows(c, tables, "jobs", "id"), byName);
        List<Checkpoint> checkpoints = new ArrayList<>();
        for (Map<String, Object> r : rows(c, tables, "checkpoints", "experiment_id, epoch")) {
            Checkpoint cp = checkpoint(r, byId);
            if (cp != null) {
                checkpoints.add(cp);
            }
        }
        List<Group> groups = groups(rows(c, tables, "experiment_groups", "group_order, id"),
                rows(c, tables, "experiment_group_members", "member_order, rowid"), byId);
        List<LoggedEvent> events = new ArrayList<>();
        for (Map<String, Object> r : rows(c, tables, "operation_logs", "id")) {
            LoggedEvent e = event(r);
            if (e != null) {
                events.add(e);
            }
        }
        Map<String, String> settings = new LinkedHashMap<>();
        for (Map<String, Object> r : rows(c, tables, "user_settings", "key")) {
            String key = text(r, "key");
            String value = text(r, "value");
            if (key != null && value != null) {
                settings.put(key, value);
            }
        }
        return new Contents(List.copyOf(experiments), jobs, List.copyOf(checkpoints), groups, List.copyOf(events),
                settings, wandb, List.copyOf(leftOut), List.copyOf(problems));
    }

    // ---- experiments ----

    private Experiment experiment(Map<String, Object> r) {
        Long id = number(r, "id");
        String name = text(r, "name");
        String where = "experiment " + id + " '" + name + "'";
        if (id == null || name == null) {
            problems.add("an experiment row has no id or name (id " + id + ", name " + name + ")");
            return null;
        }
        try {
            DesiredState desired = desired(text(r, "desired_state"));
            String branch = text(r, "git_branch");
            Resources resources = new Resources(blankToNull(text(r, "cloud")), null,
                    blankToNull(text(r, "instance_type")), null, bool(r, "spot"));
            String command = text(r, "base_command");
            ExperimentSpec spec = new ExperimentSpec(name, flags(text(r, "flags"), where),
                    command == null || command.isBlank() ? null : command, blankToNull(text(r, "tool_path")),
                    branch == null || branch.isBlank() || branch.strip().equals("-") ? null : branch.strip(),
                    intOr(r, "nodes", 1), intOr(r, "gpus", 0), resources, desired, null, 0,
                    text(r, "description"), strings(text(r, "tags"), where + " tags"), null,
                    blankToNull(text(r, "run_name")));
            Instant created = utc(text(r, "created_at"), where + " created_at");
            Instant updated = utc(text(r, "updated_at"), where + " updated_at");
            created = created != null ? created : updated != null ? updated : now;
            updated = updated != null ? updated : created;
            Long order = number(r, "exp_order");
            return new Experiment(id, spec, bool(r, "starred"), order == null ? (int) Math.min(id, Integer.MAX_VALUE)
                    : order.intValue(), bool(r, "is_expanded"), bool(r, "deleted"), created, updated, 1, 1, null, null,
                    null, false);
        } catch (SkyDeckException.InvalidInput e) {
            problems.add(where + ": " + e.getMessage());
            return null;
        }
    }

    private DesiredState desired(String value) {
        if (value == null || value.isBlank()) {
            return DesiredState.STOPPED;
        }
        try {
            return DesiredState.valueOf(value.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new SkyDeckException.InvalidInput("desired_state '" + value + "' is not RUNNING, STOPPED or TERMINATED");
        }
    }

    private Map<String, Object> flags(String json, String where) {
        if (json == null || json.isBlank()) {
            return Map.of();
        }
        JsonNode node = parse(json, where + " flags");
        if (node == null) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw new SkyDeckException.InvalidInput("flags are not a JSON object: " + json);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            JsonNode v = f.getValue();
            Object value;
            if (v.isTextual()) {
                value = v.textValue();
            } else if (v.isBoolean()) {
                value = v.booleanValue();
            } else if (v.isIntegralNumber()) {
                value = v.bigIntegerValue(); // Validate says what does not fit in 64 bits
            } else if (v.isFloatingPointNumber()) {
                value = v.doubleValue();
            } else {
                throw new SkyDeckException.InvalidInput("flag " + f.getKey() + " is " + v.getNodeType().name()
                        .toLowerCase(Locale.ROOT) + " (" + v + "): flags are strings, numbers or booleans");
            }
            out.put(f.getKey(), value);
        }
        return out;
    }

    // ---- jobs ----

    private List<Job> jobs(List<Map<String, Object>> rows, Map<String, Experiment> byName) {
        List<Job> out = new ArrayList<>();
        for (Map<String, Object> r : rows) {
            String id = text(r, "id");
            if (id == null || id.isBlank()) {
                problems.add("a job row has no id");
                continue;
            }
            String where = "job " + id;
            String experiment = text(r, "experiment_id");
            String status = text(r, "status");
            JobStatus mapped = status(status);
            Instant created = local(text(r, "created_at"), where + " created_at");
            Instant submitted = utc(text(r, "submitted_at"), where + " submitted_at");
            Instant started = utc(text(r, "started_at"), where + " started_at");
            Instant ended = utc(text(r, "ended_at"), where + " ended_at");
            created = first(created, submitted, started, ended, now);
            Experiment owner = experiment == null ? null : byName.get(experiment);
            Resources resources;
            try {
                resources = new Resources(blankToNull(text(r, "cloud")), null, blankToNull(text(r, "instance_type")),
                        null, owner != null && owner.spec().resources().spot());
            } catch (SkyDeckException.InvalidInput e) {
                problems.add(where + ": " + e.getMessage());
                continue;
            }
            String command = text(r, "command");
            List<String> args;
            try {
                args = command == null || command.isBlank() ? List.of() : CommandLine.split(command);
            } catch (SkyDeckException.InvalidInput e) {
                args = List.of(command); // not a shell-style line after all: keep it whole
            }
            Long exit = number(r, "exit_code");
            String logs = text(r, "logs_path");
            Instant since = first(ended, started, submitted, created);
            out.add(new Job(id, experiment == null ? "" : experiment, BACKEND, id, null, null, mapped,
                    status == null ? null : status.strip(), blankToNull(text(r, "error_message")),
                    logs == null || logs.isBlank() ? null : "log of the original SkyDeck: " + logs, JobStage.of(mapped),
                    since, 0, owner == null ? 0 : owner.generation(), args, Map.of(), intOr(r, "nodes", 1),
                    intOr(r, "gpus", 0), resources, null, null, created, submitted, started, ended,
                    exit == null ? null : exit.intValue(), 0, blankToNull(text(r, "cluster_name")),
                    blankToNull(text(r, "cloud")), null, null, first(ended, started, submitted, created)));
        }
        // attempts count per experiment name, oldest first
        out.sort(Comparator.comparing(Job::createdAt).thenComparing(Job::id));
        Map<String, Integer> attempts = new HashMap<>();
        List<Job> numbered = new ArrayList<>(out.size());
        for (Job j : out) {
            int attempt = attempts.merge(j.experimentName(), 1, Integer::sum);
            numbered.add(new Job(j.id(), j.experimentName(), j.backend(), j.backendJobId(), j.launchId(), null,
                    j.status(), j.backendStatus(), j.failureReason(), j.details(), j.stage(), j.stageSince(), attempt,
                    j.generation(), j.command(), j.flags(), j.nodes(), j.gpus(), j.resources(), j.gitRef(),
                    j.configHash(), j.createdAt(), j.submittedAt(), j.startedAt(), j.endedAt(), j.exitCode(),
                    j.recoveryCount(), j.clusterName(), j.cloud(), j.region(), null, j.updatedAt()));
        }
        return List.copyOf(numbered);
    }

    /** SkyDeck's status for one of the original's (SkyPilot's managed-job statuses, plus INIT and UNKNOWN). */
    static JobStatus status(String value) {
        if (value == null) {
            return JobStatus.UNKNOWN;
        }
        String s = value.strip().toUpperCase(Locale.ROOT);
        if (s.startsWith("FAILED")) {
            return JobStatus.FAILED;
        }
        return switch (s) {
            case "INIT" -> JobStatus.INIT;
            case "PENDING", "SUBMITTED", "WAITING" -> JobStatus.PENDING;
            case "STARTING" -> JobStatus.STARTING;
            case "RUNNING" -> JobStatus.RUNNING;
            case "RECOVERING" -> JobStatus.RECOVERING;
            case "CANCELLING" -> JobStatus.CANCELLING;
            case "SUCCEEDED" -> JobStatus.SUCCEEDED;
            case "CANCELLED" -> JobStatus.CANCELLED;
            default -> JobStatus.UNKNOWN;
        };
    }

    // ---- checkpoints ----

    private Checkpoint checkpoint(Map<String, Object> r, Map<Long, Experiment> byId) {
        String experiment = text(r, "experiment_id");
        Long epoch = number(r, "epoch");
        String where = "checkpoint (" + experiment + ", " + epoch + ")";
        Long id = parseLong(experiment);
        if (id == null || !byId.containsKey(id)) {
            leftOut.add(where + ": its experiment " + experiment + " does not exist");
            return null;
        }
        String model = text(r, "model_path");
        if (epoch == null || model == null) {
            problems.add(where + " has no epoch or model path");
            return null;
        }
        List<String> replays;
        try {
            replays = strings(text(r, "replay_paths"), where + " replay_paths");
        } catch (SkyDeckException.InvalidInput e) {
            problems.add(where + ": " + e.getMessage());
            return null;
        }
        String version = blankToNull(text(r, "policy_version"));
        if (version != null && !version.startsWith("v")) {
            version = "v" + version; // SkyDeck writes policy versions as v<N>, as in the object names
        }
        return new Checkpoint(id, epoch, model, replays, version, 0, utc(text(r, "created_at"), where + " created_at"),
                utc(text(r, "synced_at"), where + " synced_at"), null);
    }

    // ---- groups ----

    private List<Group> groups(List<Map<String, Object>> groupRows, List<Map<String, Object>> memberRows,
                               Map<Long, Experiment> byId) {
        Map<String, List<Long>> members = new HashMap<>();
        for (Map<String, Object> m : memberRows) {
            String gid = text(m, "group_id");
            String experiment = text(m, "experiment_id");
            Long id = parseLong(experiment);
            if (id == null || !byId.containsKey(id)) {
                leftOut.add("member " + experiment + " of group " + gid + ": that experiment does not exist");
                continue;
            }
            members.computeIfAbsent(gid, k -> new ArrayList<>()).add(id);
        }
        List<Group> out = new ArrayList<>();
        Set<String> known = new java.util.HashSet<>();
        for (Map<String, Object> r : groupRows) {
            String gid = text(r, "id");
            known.add(gid);
            String where = "group " + gid + " '" + text(r, "name") + "'";
            try {
                Long order = number(r, "group_order");
                out.add(new Group(groupId(gid), text(r, "name"), blankToNull(text(r, "name_prefix")),
                        strings(text(r, "flags"), where + " flags"), order == null ? out.size() : order.intValue(),
                        bool(r, "collapsed"), members.getOrDefault(gid, List.of())));
            } catch (SkyDeckException.InvalidInput e) {
                problems.add(where + ": " + e.getMessage());
            }
        }
        for (String gid : new TreeMap<>(members).keySet()) {
            if (!known.contains(gid)) {
                leftOut.add(members.get(gid).size() + " member(s) of group " + gid + ": that group does not exist");
            }
        }
        return List.copyOf(out);
    }

    /**
     * A SkyDeck group id for one of the original's: its 8 hex digits read as a number (so
     * {@code a1b2c3d4} is group 2712847316), or for any other text a number above those.
     */
    public static long groupId(String originalId) {
        if (originalId != null && originalId.matches("[0-9A-Fa-f]{1,8}")) {
            long id = Long.parseLong(originalId, 16);
            return id == 0 ? 1L << 32 : id;
        }
        CRC32 crc = new CRC32();
        crc.update(String.valueOf(originalId).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return (1L << 32) + 1 + crc.getValue();
    }

    // ---- operation logs ----

    private LoggedEvent event(Map<String, Object> r) {
        Long id = number(r, "id");
        if (id == null) {
            return null;
        }
        String type = text(r, "operation_type");
        String where = "operation log " + id;
        Instant time = utc(text(r, "timestamp"), where + " timestamp");
        EventType mapped = EventType.UPDATE;
        if (type != null) {
            try {
                mapped = EventType.valueOf(type.strip().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                mapped = EventType.UPDATE; // kept by name in the message
            }
        }
        String user = blankToNull(text(r, "user"));
        String message = (type == null ? "operation" : type.strip()) + " (original SkyDeck"
                + (user == null ? "" : ", by " + user) + ")";
        String error = blankToNull(text(r, "error_message"));
        String output = blankToNull(text(r, "output"));
        String detail = error == null ? output : output == null ? error : error + "\n" + output;
        boolean success = r.get("success") == null || bool(r, "success");
        return new LoggedEvent(id, new Event(0, time != null ? time : now, Actor.USER, mapped, number(r, "experiment_id"),
                blankToNull(text(r, "experiment_name")), blankToNull(text(r, "job_id")), success, message, detail));
    }

    // ---- values ----

    private List<Map<String, Object>> rows(Connection c, Set<String> tables, String table, String order)
            throws SQLException {
        if (!tables.contains(table)) {
            return List.of();
        }
        List<Map<String, Object>> out = new ArrayList<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT * FROM " + table + " ORDER BY " + order)) {
            ResultSetMetaData md = rs.getMetaData();
            while (rs.next()) {
                Map<String, Object> row = new HashMap<>();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    row.put(md.getColumnLabel(i).toLowerCase(Locale.ROOT), rs.getObject(i));
                }
                out.add(row);
            }
        } catch (SQLException e) {
            if (String.valueOf(e.getMessage()).contains("no such column")) {
                // an older original without the ordering column: read in storage order
                return rows(c, tables, table, "rowid");
            }
            throw e;
        }
        return out;
    }

    private static String text(Map<String, Object> r, String column) {
        Object v = r.get(column);
        return v == null ? null : v.toString();
    }

    private static Long number(Map<String, Object> r, String column) {
        Object v = r.get(column);
        if (v instanceof Number n) {
            return n.longValue();
        }
        return v == null ? null : parseLong(v.toString());
    }

    private static int intOr(Map<String, Object> r, String column, int dflt) {
        Long v = number(r, column);
        return v == null ? dflt : (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v));
    }

    private static boolean bool(Map<String, Object> r, String column) {
        Object v = r.get(column);
        if (v instanceof Number n) {
            return n.longValue() != 0;
        }
        return v != null && Set.of("1", "true", "t", "yes").contains(v.toString().strip().toLowerCase(Locale.ROOT));
    }

    private static Long parseLong(String s) {
        if (s == null) {
            return null;
        }
        try {
            return Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    private JsonNode parse(String json, String where) {
        try {
            return JSON.readTree(json);
        } catch (java.io.IOException e) {
            throw new SkyDeckException.InvalidInput(where + " is not JSON: " + json);
        }
    }

    private List<String> strings(String json, String where) {
        if (json == null || json.isBlank()) {
            return List.of();
        }
        JsonNode node = parse(json, where);
        if (node == null || node.isNull()) {
            return List.of();
        }
        if (!node.isArray()) {
            throw new SkyDeckException.InvalidInput(where + " is not a JSON list: " + json);
        }
        List<String> out = new ArrayList<>();
        for (JsonNode n : node) {
            out.add(n.isTextual() ? n.textValue() : n.toString());
        }
        return out;
    }

    private Instant utc(String text, String where) {
        return time(text, where, t -> t.toInstant(ZoneOffset.UTC));
    }

    private Instant local(String text, String where) {
        return time(text, where, t -> t.atZone(localZone).toInstant());
    }

    /** A naive ISO-8601 time (with {@code T} or a space) in the given zone; one with an offset keeps it. */
    private Instant time(String text, String where, Function<LocalDateTime, Instant> naive) {
        if (text == null || text.isBlank()) {
            return null;
        }
        String t = text.strip().replace(' ', 'T');
        try {
            return naive.apply(LocalDateTime.parse(t));
        } catch (DateTimeParseException e) {
            try {
                return OffsetDateTime.parse(t).toInstant();
            } catch (DateTimeParseException e2) {
                problems.add(where + " '" + text + "' is not an ISO-8601 time");
                return null;
            }
        }
    }

    @SafeVarargs
    private static <T> T first(T... values) {
        for (T v : values) {
            if (v != null) {
                return v;
            }
        }
        return null;
    }
}
