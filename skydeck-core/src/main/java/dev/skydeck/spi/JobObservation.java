package dev.skydeck.spi;

import dev.skydeck.JobStage;
import dev.skydeck.JobStatus;
import java.time.Instant;
import java.util.Objects;

/**
 * What a backend reports about a job at one moment: the fields the poller keeps up to date.
 * Two observations are equal exactly when nothing changed.
 *
 * @param status        SkyDeck's status
 * @param backendStatus the backend's exact status, or {@code null}
 * @param failureReason why it failed, or {@code null}
 * @param details       the backend's detail line, or {@code null}
 * @param stage         the launch stage
 * @param startedAt     when it started running, or {@code null}
 * @param endedAt       when it ended, or {@code null}
 * @param exitCode      the exit code, or {@code null}
 * @param recoveryCount recoveries so far
 * @param clusterName   cluster or infra, or {@code null}
 * @param cloud         cloud, or {@code null}
 * @param region        region, or {@code null}
 */
public record JobObservation(JobStatus status, String backendStatus, String failureReason, String details,
                             JobStage stage, Instant startedAt, Instant endedAt, Integer exitCode, int recoveryCount,
                             String clusterName, String cloud, String region) {
    /** Requires a status; derives the stage from it when absent. */
    public JobObservation {
        Objects.requireNonNull(status, "status");
        stage = stage == null ? JobStage.of(status) : stage;
    }

    /** An observation with only a status (and its stage). */
    public static JobObservation of(JobStatus status) {
        return new JobObservation(status, status.name(), null, null, null, null, null, null, 0, null, null, null);
    }

    /** This observation with another status, backend status and reason; the stage follows the status. */
    public JobObservation withStatus(JobStatus newStatus, String newBackendStatus, String reason) {
        return new JobObservation(newStatus, newBackendStatus, reason, details, JobStage.of(newStatus), startedAt,
                endedAt, exitCode, recoveryCount, clusterName, cloud, region);
    }

    /** This observation with an end time. */
    public JobObservation withEndedAt(Instant at) {
        return new JobObservation(status, backendStatus, failureReason, details, stage, startedAt, at, exitCode,
                recoveryCount, clusterName, cloud, region);
    }
}
