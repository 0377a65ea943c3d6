package dev.skydeck;

/** What the user wants an experiment to be doing. Written only by users. */
public enum DesiredState {
    /** Keep a job running (launching one when there is none and the restart policy allows). */
    RUNNING,
    /** No job running: cancel the active one, if any. */
    STOPPED,
    /** Like {@link #STOPPED}, and also tear down anything the experiment owns on the backend. */
    TERMINATED
}
