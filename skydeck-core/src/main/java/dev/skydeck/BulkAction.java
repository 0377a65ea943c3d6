package dev.skydeck;

/** Actions {@link SkyDeck#bulk} applies to many experiments, one result each. */
public enum BulkAction {
    /** Set RUNNING (nothing changes for one that is RUNNING already). */
    START,
    /** Start a new generation: cancel the active job, if any, then launch once. */
    RESTART,
    /** Set STOPPED. */
    STOP,
    /** Set TERMINATED. */
    TERMINATE,
    /** Soft-delete. */
    DELETE,
    /** Restore a soft-deleted experiment. */
    UNDELETE,
    /** Copy under a new name. */
    DUPLICATE
}
