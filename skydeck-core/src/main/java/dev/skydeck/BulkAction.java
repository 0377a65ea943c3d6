package dev.skydeck;

/** Actions {@link SkyDeck#bulk} applies to many experiments, one result each. */
public enum BulkAction {
    /** Set RUNNING. */
    START,
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
