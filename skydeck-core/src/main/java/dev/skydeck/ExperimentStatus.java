package dev.skydeck;

import java.time.Instant;

/**
 * The observed side of an experiment, written only by the reconciler.
 *
 * @param stage              {@link JobStage#QUEUED} while waiting in the launch queue, else {@code null}
 * @param stateReason        a human line saying why it waits or what it does, or {@code null}
 * @param observedGeneration the generation the reconciler last acted on
 * @param launchRetries      consecutive retryable launch failures in this generation
 * @param nextAttemptAt      when the next launch attempt or restart is due, or {@code null}
 * @param settled            nothing active, queued or due (valid when {@code observedGeneration}
 *                           equals the experiment's generation)
 */
public record ExperimentStatus(JobStage stage, String stateReason, long observedGeneration,
                               int launchRetries, Instant nextAttemptAt, boolean settled) {
    /** The status of an experiment the reconciler has not looked at yet. */
    public static final ExperimentStatus NEW = new ExperimentStatus(null, null, 0, 0, null, false);

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
        return new ExperimentStatus(stage, stateReason, observedGeneration, retries, due, settled);
    }
}
