package dev.skydeck.skypilot.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.skydeck.JobStage;
import dev.skydeck.JobStatus;
import dev.skydeck.spi.BackendJob;
import dev.skydeck.spi.JobObservation;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Managed-job records of {@code /jobs/queue/v2} (SKYPILOT.md §7) as {@link BackendJob}s, with the
 * status mapping of §8. Every field may be null or missing; unknown fields are ignored; unknown
 * statuses become {@code UNKNOWN}.
 */
public final class JobRecords {
    private static final Pattern LAUNCH_ID = Pattern.compile("SKYDECK_LAUNCH_ID['\"]?\\s*:\\s*['\"]?([A-Za-z0-9._-]+)");
    /**
     * The fields a listing asks for ({@code fields} of {@code /jobs/queue/v2}): what {@link #job}
     * reads. The launch id comes from {@code metadata} (a column), not {@code user_yaml} (a file
     * per job on the server); {@code cloud}, {@code region} and {@code infra} come from the
     * clusters of jobs that have one.
     */
    public static final List<String> FIELDS = List.of("job_id", "task_id", "job_name", "status", "schedule_state",
            "details", "failure_reason", "recovery_count", "submitted_at", "start_at", "end_at", "current_cluster_name",
            "cloud", "region", "infra", "metadata");
    /** {@link #FIELDS} and {@code user_yaml}, for the few jobs looked up by name (launched before metadata carried the id). */
    public static final List<String> FIELDS_WITH_YAML = concat(FIELDS, "user_yaml");

    private JobRecords() {
    }

    /** The jobs of a queue page (one per job id; multi-task jobs report their first unfinished task). */
    public static List<BackendJob> jobs(JsonNode records) {
        Map<String, JsonNode> byJob = new LinkedHashMap<>();
        for (JsonNode r : records) {
            String id = jobId(r);
            if (id == null) {
                continue;
            }
            JsonNode seen = byJob.get(id);
            if (seen == null || terminal(seen) && !terminal(r)) {
                byJob.put(id, r);
            }
        }
        List<BackendJob> out = new ArrayList<>(byJob.size());
        byJob.forEach((id, r) -> out.add(job(id, r)));
        return out;
    }

    /** One record as a job. */
    public static BackendJob job(String id, JsonNode r) {
        String name = text(r, "job_name");
        if (name == null) {
            name = text(r, "task_name");
        }
        JsonNode metadata = r.path("metadata").path(TaskYaml.LAUNCH_ID_KEY);
        String launchId = metadata.isTextual() && !metadata.asText().isBlank() ? metadata.asText()
                : launchId(text(r, "user_yaml"));
        return new BackendJob(id, name == null ? "job-" + id : name, launchId, time(r, "submitted_at"), observation(r));
    }

    private static List<String> concat(List<String> a, String b) {
        List<String> out = new ArrayList<>(a);
        out.add(b);
        return List.copyOf(out);
    }

    /** The observation of one record. */
    public static JobObservation observation(JsonNode r) {
        String raw = text(r, "status");
        JobStatus status = status(raw);
        String details = text(r, "details");
        JobStage stage = stage(status, text(r, "schedule_state"), details);
        String infra = text(r, "infra");
        String cluster = text(r, "current_cluster_name");
        return new JobObservation(status, raw, text(r, "failure_reason"), details, stage, time(r, "start_at"),
                status.isTerminal() ? time(r, "end_at") : null, null,
                r.path("recovery_count").isNumber() ? r.path("recovery_count").asInt() : 0,
                cluster != null ? cluster : infra, text(r, "cloud"), text(r, "region"));
    }

    /** SkyPilot's ManagedJobStatus as a SkyDeck status (§8); anything new is {@code UNKNOWN}. */
    public static JobStatus status(String raw) {
        if (raw == null) {
            return JobStatus.UNKNOWN;
        }
        String s = raw.toUpperCase(Locale.ROOT);
        if (s.startsWith("FAILED")) {
            return JobStatus.FAILED;
        }
        return switch (s) {
            case "PENDING", "SUBMITTED" -> JobStatus.PENDING;
            case "STARTING" -> JobStatus.STARTING;
            case "RUNNING", "WINDING_DOWN" -> JobStatus.RUNNING;
            case "RECOVERING" -> JobStatus.RECOVERING;
            case "CANCELLING" -> JobStatus.CANCELLING;
            case "SUCCEEDED" -> JobStatus.SUCCEEDED;
            case "CANCELLED" -> JobStatus.CANCELLED;
            default -> JobStatus.UNKNOWN;
        };
    }

    /** The launch stage from status, schedule state and details. */
    static JobStage stage(JobStatus status, String scheduleState, String details) {
        if (status.isTerminal() || status == JobStatus.RUNNING || status == JobStatus.CANCELLING) {
            return JobStage.of(status);
        }
        if (status == JobStatus.STARTING || status == JobStatus.RECOVERING) {
            return JobStage.PROVISIONING;
        }
        String d = details == null ? "" : details.toLowerCase(Locale.ROOT);
        if (d.contains("waiting for resources") || d.contains("backoff")) {
            return JobStage.WAITING_FOR_RESOURCES;
        }
        if ("LAUNCHING".equals(scheduleState) || "ALIVE".equals(scheduleState)) {
            return JobStage.PROVISIONING;
        }
        return JobStage.WAITING_FOR_RESOURCES;
    }

    /** The {@code SKYDECK_LAUNCH_ID} in a submitted task YAML, or {@code null}. */
    public static String launchId(String userYaml) {
        if (userYaml == null) {
            return null;
        }
        Matcher m = LAUNCH_ID.matcher(userYaml);
        return m.find() ? m.group(1) : null;
    }

    /** {@code job_id} as an int or a one-element list. */
    public static String jobId(JsonNode node) {
        JsonNode id = node.get("job_id");
        if (id == null || id.isNull()) {
            id = node.get("_job_id");
        }
        if (id != null && id.isArray()) {
            id = id.isEmpty() ? null : id.get(0);
        }
        return id == null || id.isNull() || !id.canConvertToLong() ? null : Long.toString(id.asLong());
    }

    private static boolean terminal(JsonNode r) {
        return status(text(r, "status")).isTerminal();
    }

    private static String text(JsonNode r, String field) {
        JsonNode n = r.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        String s = n.asText();
        return s.isBlank() || s.equals("-") ? null : s;
    }

    private static Instant time(JsonNode r, String field) {
        JsonNode n = r.get(field);
        if (n == null || !n.isNumber() || n.asDouble() <= 0) {
            return null;
        }
        double secs = n.asDouble();
        long whole = (long) Math.floor(secs);
        return Instant.ofEpochSecond(whole, Math.round((secs - whole) * 1e9));
    }
}
