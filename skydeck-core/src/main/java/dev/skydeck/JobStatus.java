package dev.skydeck;

/**
 * The status of one job, and (for an experiment) of its latest job. Backends keep their exact
 * status in {@link Job#backendStatus()}.
 */
public enum JobStatus {
    /** Recorded by SkyDeck, launch being submitted to the backend. */
    INIT,
    /** Accepted by the backend, waiting for resources. */
    PENDING,
    /** Resources found, provisioning or setting up. */
    STARTING,
    /** Running the command. */
    RUNNING,
    /** Lost its resources (for example a spot preemption), being recovered by the backend. */
    RECOVERING,
    /** Cancel requested, not finished yet. */
    CANCELLING,
    /** Finished with success. */
    SUCCEEDED,
    /** Finished with a failure; see {@link Job#failureReason()}. */
    FAILED,
    /** Cancelled. */
    CANCELLED,
    /** The backend no longer reports it or reports a status SkyDeck does not know. */
    UNKNOWN;

    /** Whether the job has finished for good. */
    public boolean isTerminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }

    /** Whether the job occupies its experiment's single active slot. */
    public boolean isActive() {
        return !isTerminal();
    }
}
