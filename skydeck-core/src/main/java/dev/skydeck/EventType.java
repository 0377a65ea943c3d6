package dev.skydeck;

/** What an {@link Event} records. */
public enum EventType {
    /** An experiment or group was created. */
    CREATE,
    /** An experiment's or group's configuration changed. */
    UPDATE,
    /** An experiment was soft-deleted or a group deleted. */
    DELETE,
    /** A soft-deleted experiment was restored. */
    UNDELETE,
    /** Desired state set to RUNNING. */
    START,
    /** A restart: desired RUNNING in a new generation (the active job, if any, is cancelled first). */
    RESTART,
    /** Desired state set to STOPPED or TERMINATED. */
    STOP,
    /** A job was submitted to the backend (or adopted after a crash). */
    LAUNCH,
    /** A launch failed; the message says why. */
    LAUNCH_FAILED,
    /** A job was cancelled (by the reconciler or a user). */
    CANCEL,
    /** A job's status changed. */
    JOB_STATUS,
    /** A restart or launch retry was scheduled. */
    RETRY_SCHEDULED,
    /** A launch waits in the queue for capacity. */
    QUEUED,
    /** Checkpoints of an experiment were found or changed. */
    CHECKPOINT,
    /** A poll or sync failed; nothing was changed. */
    ERROR,
    /** An API token was created or revoked. */
    TOKEN
}
