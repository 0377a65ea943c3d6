package dev.skydeck;

import dev.skydeck.spi.JobObservation;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One execution of an experiment, with exactly what it ran with (frozen at launch) and what the
 * backend reported about it since.
 *
 * @param id             SkyDeck's stable id; also the launch id for jobs SkyDeck launched
 * @param experimentName the experiment (by name) it belongs to; jobs matching no live experiment are orphaned
 * @param backend        the backend kind ({@code local}, {@code skypilot})
 * @param backendJobId   the backend's own id once known (the SkyPilot managed-job id), or {@code null}
 * @param launchId       the id passed as {@code SKYDECK_LAUNCH_ID}; {@code null} for jobs launched outside SkyDeck
 * @param launchRef      while its launch request is in flight, the backend's handle on it (a SkyPilot
 *                       request id); {@code null} otherwise
 * @param status         SkyDeck's status
 * @param backendStatus  the backend's exact status ({@code FAILED_SETUP}, …), or {@code null}
 * @param failureReason  why it failed, or {@code null}
 * @param details        the backend's latest detail line, or {@code null}
 * @param stage          the launch stage
 * @param stageSince     when {@code stage} began
 * @param attempt        1, 2, … within the experiment
 * @param generation     the experiment generation it was launched for
 * @param command        the full command line, as arguments
 * @param flags          the flags it ran with
 * @param nodes          nodes it ran on
 * @param gpus           GPUs per node
 * @param resources      resources requested
 * @param gitRef         git ref it ran, or {@code null}
 * @param configHash     {@link ExperimentSpec#configHash()} of the spec it was launched from, or {@code null}
 *                       for jobs SkyDeck did not launch
 * @param createdAt      when SkyDeck recorded it
 * @param submittedAt    when the backend accepted it, or {@code null}
 * @param startedAt      when it started running, or {@code null}
 * @param endedAt        when it ended, or {@code null}
 * @param exitCode       the command's exit code, where the backend gives one
 * @param recoveryCount  how often the backend recovered it (spot preemptions)
 * @param clusterName    the cluster or infra it ran on, or {@code null}
 * @param cloud          the cloud, or {@code null}
 * @param region         the region, or {@code null}
 * @param cancel         a cancel asked for, or {@code null}
 * @param updatedAt      last change to this record
 * @param launchedBy     the user on whose behalf SkyDeck launched it (who last started its experiment), or
 *                       {@code null} (no users, or a job launched outside SkyDeck)
 */
public record Job(String id, String experimentName, String backend, String backendJobId, String launchId,
                  String launchRef, JobStatus status, String backendStatus, String failureReason, String details, JobStage stage,
                  Instant stageSince, int attempt, long generation, List<String> command,
                  Map<String, Object> flags, int nodes, int gpus, Resources resources, String gitRef,
                  String configHash, Instant createdAt, Instant submittedAt, Instant startedAt, Instant endedAt,
                  Integer exitCode, int recoveryCount, String clusterName, String cloud, String region,
                  JobCancel cancel, Instant updatedAt, String launchedBy) {
    /** Validates the required fields and freezes the collections. */
    public Job {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(experimentName, "experimentName");
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(status, "status");
        stage = stage == null ? JobStage.of(status) : stage;
        Objects.requireNonNull(createdAt, "createdAt");
        stageSince = stageSince == null ? createdAt : stageSince;
        updatedAt = updatedAt == null ? createdAt : updatedAt;
        command = command == null ? List.of() : List.copyOf(command);
        flags = flags == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(flags));
        resources = resources == null ? Resources.ANY : resources;
    }

    /** A job no user launched (a deck without users, or a job found at the backend). */
    public Job(String id, String experimentName, String backend, String backendJobId, String launchId,
               String launchRef, JobStatus status, String backendStatus, String failureReason, String details,
               JobStage stage, Instant stageSince, int attempt, long generation, List<String> command,
               Map<String, Object> flags, int nodes, int gpus, Resources resources, String gitRef,
               String configHash, Instant createdAt, Instant submittedAt, Instant startedAt, Instant endedAt,
               Integer exitCode, int recoveryCount, String clusterName, String cloud, String region,
               JobCancel cancel, Instant updatedAt) {
        this(id, experimentName, backend, backendJobId, launchId, launchRef, status, backendStatus, failureReason,
                details, stage, stageSince, attempt, generation, command, flags, nodes, gpus, resources, gitRef,
                configHash, createdAt, submittedAt, startedAt, endedAt, exitCode, recoveryCount, clusterName, cloud,
                region, cancel, updatedAt, null);
    }

    /** Whether this job occupies its experiment's active slot. */
    public boolean isActive() {
        return status.isActive();
    }

    /** What the backend last reported, as an observation. */
    public JobObservation observation() {
        return new JobObservation(status, backendStatus, failureReason, details, stage, startedAt, endedAt,
                exitCode, recoveryCount, clusterName, cloud, region);
    }

    /**
     * This job with a new observation applied; the stage time moves only when the stage changes.
     */
    public Job observe(JobObservation o, Instant now) {
        Instant since = o.stage() == stage ? stageSince : now;
        return new Job(id, experimentName, backend, backendJobId, launchId, launchRef, o.status(), o.backendStatus(),
                o.failureReason(), o.details(), o.stage(), since, attempt, generation, command, flags, nodes, gpus,
                resources, gitRef, configHash, createdAt, submittedAt, o.startedAt(), o.endedAt(), o.exitCode(),
                o.recoveryCount(), o.clusterName(), o.cloud(), o.region(), cancel, now, launchedBy);
    }

    /** This job with its backend id and submission time set. */
    public Job submitted(String newBackendJobId, Instant at) {
        return new Job(id, experimentName, backend, newBackendJobId, launchId, null, status, backendStatus, failureReason,
                details, stage, stageSince, attempt, generation, command, flags, nodes, gpus, resources, gitRef,
                configHash, createdAt, at, startedAt, endedAt, exitCode, recoveryCount, clusterName, cloud, region,
                cancel, at, launchedBy);
    }

    /** This job with another cancel request. */
    public Job withCancel(JobCancel value, Instant now) {
        return new Job(id, experimentName, backend, backendJobId, launchId, launchRef, status, backendStatus,
                failureReason, details, stage, stageSince, attempt, generation, command, flags, nodes, gpus, resources, gitRef,
                configHash, createdAt, submittedAt, startedAt, endedAt, exitCode, recoveryCount, clusterName, cloud,
                region, value, now, launchedBy);
    }

    /** This job with another detail line (for example why its launch waits). */
    public Job withDetails(String value, Instant now) {
        return new Job(id, experimentName, backend, backendJobId, launchId, launchRef, status, backendStatus,
                failureReason, value, stage, stageSince, attempt, generation, command, flags, nodes, gpus, resources, gitRef,
                configHash, createdAt, submittedAt, startedAt, endedAt, exitCode, recoveryCount, clusterName, cloud,
                region, cancel, now, launchedBy);
    }

    /** This job touched at {@code now} with nothing else changed (claims a stale launch). */
    public Job touched(Instant now) {
        return withDetails(details, now);
    }

    /** This job with its launch request in flight at the backend ({@code ref}), submitted at {@code at}. */
    public Job submittedAs(String ref, String requestDetail, Instant at) {
        return new Job(id, experimentName, backend, backendJobId, launchId, ref, status, backendStatus, failureReason,
                requestDetail, stage, stageSince, attempt, generation, command, flags, nodes, gpus, resources, gitRef,
                configHash, createdAt, at, startedAt, endedAt, exitCode, recoveryCount, clusterName, cloud, region,
                cancel, at, launchedBy);
    }

    /** This job launched on behalf of {@code user} ({@code null}: no user). */
    public Job withLauncher(String user) {
        return new Job(id, experimentName, backend, backendJobId, launchId, launchRef, status, backendStatus,
                failureReason, details, stage, stageSince, attempt, generation, command, flags, nodes, gpus, resources,
                gitRef, configHash, createdAt, submittedAt, startedAt, endedAt, exitCode, recoveryCount, clusterName,
                cloud, region, cancel, updatedAt, user);
    }

    /** Whether its launch was submitted and the backend is still making the job (a request in flight). */
    public boolean launchInFlight() {
        return launchRef != null && backendJobId == null;
    }

    /** Whether a cancel was asked for. */
    public boolean cancelRequested() {
        return cancel != null;
    }
}
