package dev.skydeck;

import java.time.Instant;

/**
 * The observed side of an experiment, written only by the reconciler.
 *
 * @param stage              {@link JobStage#QUEUED} while waiting in the launch queue, else {@code null}
 * @param stateReason        a human line saying why it waits or what it does, or {@code null}
 * @param observedGeneration the generation the reconciler last acted on
 * @param observedDesired    the desired state the reconciler last acted on ({@code STOPPED} for a
 *                           deleted experiment), or {@code null} before its first pass
 * @param launchRetries      consecutive retryable launch failures in this generation
 * @param nextAttemptAt      when the next launch attempt or restart is due, or {@code null}
 * @param settled            nothing active, queued or due (valid when {@code observedGeneration}
 *                           and {@code observedDesired} match the experiment)
 */
public record ExperimentStatus(JobStage stage, String stateReason, long observedGeneration,
                               DesiredState observedDesired, int launchRetries, Instant nextAttemptAt,
                               boolean settled) {
    /** The status of an experiment the reconciler has not looked at yet. */
    public static final ExperimentStatus NEW = new ExperimentStatus(null, null, 0, null, 0, null, false);

    /**
     * An experiment's current state from its queue stage and the status of its latest job:
     * no job → {@code INIT}; queued or submitting → {@code PENDING}; else the job's status.
     * Every store derives {@link Experiment#currentState()} with this.
     */
    public static JobStatus currentState(JobStage stage, JobStatus latestJobStatus) {
        if (stage == JobStage.QUEUED || latestJobStatus == JobStatus.INIT) {
            return JobStatus.PENDING;
        }
        return latestJobStatus == null ? JobStatus.INIT : latestJobStatus;
    }

    /** This status with other retry bookkeeping. */
    public ExperimentStatus withRetries(int retries, Instant due) {
        return new ExperimentStatus(stage, stateReason, observedGeneration, observedDesired, retries, due, settled);
    }

    /** This status with another stage, reason and settledness (retry bookkeeping kept). */
    public ExperimentStatus with(JobStage newStage, String reason, boolean isSettled) {
        return new ExperimentStatus(newStage, reason, observedGeneration, observedDesired, launchRetries,
                nextAttemptAt, isSettled);
    }
}
