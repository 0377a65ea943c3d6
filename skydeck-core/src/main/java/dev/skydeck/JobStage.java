package dev.skydeck;

/** Where a launch is, for progress display: {@code QUEUED → SUBMITTING → … → a final stage}. */
public enum JobStage {
    /** Waiting in SkyDeck's launch queue for a free launch slot or GPUs. */
    QUEUED,
    /** Being submitted to the backend. */
    SUBMITTING,
    /** Accepted by the backend, waiting for resources. */
    WAITING_FOR_RESOURCES,
    /** Resources found, machines being provisioned or set up. */
    PROVISIONING,
    /** The command is running. */
    RUNNING,
    /** Finished with success. */
    SUCCEEDED,
    /** Finished with a failure. */
    FAILED,
    /** Cancelled. */
    CANCELLED;

    /** The stage that goes with a job status. */
    public static JobStage of(JobStatus status) {
        return switch (status) {
            case INIT -> SUBMITTING;
            case PENDING -> WAITING_FOR_RESOURCES;
            case STARTING, RECOVERING -> PROVISIONING;
            case RUNNING, CANCELLING, UNKNOWN -> RUNNING;
            case SUCCEEDED -> SUCCEEDED;
            case FAILED -> FAILED;
            case CANCELLED -> CANCELLED;
        };
    }
}
