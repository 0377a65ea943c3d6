package dev.skydeck;

/** Who caused an {@link Event}. */
public enum Actor {
    /** A person, through the library, the REST API or the dashboard. */
    USER,
    /** The reconciler, acting on desired state. */
    RECONCILER,
    /** The poller, recording what the backend reports. */
    POLLER,
    /** The checkpoint syncer. */
    SYNCER
}
