package dev.skydeck;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A stored experiment: the user's {@link ExperimentSpec}, bookkeeping, and what the reconciler
 * observed. Immutable; read it again to see changes.
 *
 * @param id           assigned by the store
 * @param spec         what the user declared
 * @param starred      starred in the dashboard
 * @param order        position in the ungrouped list
 * @param expanded     row expanded in the dashboard
 * @param deleted      soft-deleted (can be undeleted)
 * @param createdAt    creation time
 * @param updatedAt    last change by a user
 * @param version      optimistic-concurrency version, bumped by every change to what the experiment runs or
 *                     says (its spec, deletion); presentation (star, expansion, order, groups) leaves it
 * @param generation   bumped when the experiment starts running (a transition to RUNNING) and by every
 *                     restart; jobs record the one they were launched for
 * @param currentState derived from the latest job (see {@link ExperimentStatus#currentState})
 * @param status       the reconciler's observations
 * @param latestEpoch  the highest checkpoint epoch seen, or {@code null}
 * @param drifted      whether its active job runs an older configuration than its spec (see
 *                     {@link ExperimentSpec#configHash()}): restart it to apply the change
 * @param createdBy    the user who created it, or {@code null} (no users: a single-user deck)
 * @param startedBy    the user who last asked it to run (start, restart, or creation as RUNNING), or {@code null};
 *                     its next jobs are launched on that user's behalf
 * @param latestStartedAt when its latest job started running, or {@code null} (none yet, or not started)
 */
public record Experiment(long id, ExperimentSpec spec, boolean starred, int order, boolean expanded,
                         boolean deleted, Instant createdAt, Instant updatedAt, long version, long generation,
                         JobStatus currentState, ExperimentStatus status, Long latestEpoch, boolean drifted,
                         String createdBy, String startedBy, Instant latestStartedAt) {
    /** Validates the required fields. */
    public Experiment {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(updatedAt, "updatedAt");
        currentState = currentState == null ? JobStatus.INIT : currentState;
        status = status == null ? ExperimentStatus.NEW : status;
    }

    /** An experiment whose latest job's start is not known (the stores derive it). */
    public Experiment(long id, ExperimentSpec spec, boolean starred, int order, boolean expanded, boolean deleted,
                      Instant createdAt, Instant updatedAt, long version, long generation, JobStatus currentState,
                      ExperimentStatus status, Long latestEpoch, boolean drifted, String createdBy, String startedBy) {
        this(id, spec, starred, order, expanded, deleted, createdAt, updatedAt, version, generation, currentState,
                status, latestEpoch, drifted, createdBy, startedBy, null);
    }

    /** An experiment of a deck without users (no {@code createdBy} or {@code startedBy}). */
    public Experiment(long id, ExperimentSpec spec, boolean starred, int order, boolean expanded, boolean deleted,
                      Instant createdAt, Instant updatedAt, long version, long generation, JobStatus currentState,
                      ExperimentStatus status, Long latestEpoch, boolean drifted) {
        this(id, spec, starred, order, expanded, deleted, createdAt, updatedAt, version, generation, currentState,
                status, latestEpoch, drifted, null, null);
    }

    /**
     * This experiment as {@code user} changed it from {@code before}: when the change starts a new
     * generation (a start or a restart), {@code user} becomes {@link #startedBy()}.
     */
    public Experiment changedBy(String user, Experiment before) {
        return generation == before.generation ? this : new Experiment(id, spec, starred, order, expanded, deleted,
                createdAt, updatedAt, version, generation, currentState, status, latestEpoch, drifted, createdBy, user,
                latestStartedAt);
    }

    /** The unique name. */
    public String name() {
        return spec.name();
    }

    /** The flags. */
    public Map<String, Object> flags() {
        return spec.flags();
    }

    /** What the user wants. */
    public DesiredState desiredState() {
        return spec.desiredState();
    }

    /** Why it waits or what it does, or {@code null}. */
    public String stateReason() {
        return status.stateReason();
    }

    /** What the reconciler acts on: the desired state, or {@code STOPPED} once deleted. */
    public DesiredState effectiveDesired() {
        return deleted ? DesiredState.STOPPED : spec.desiredState();
    }

    /** Whether the reconciler has nothing left to do for the current generation and desired state. */
    public boolean settled() {
        return status.settled() && status.observedGeneration() == generation
                && status.observedDesired() == effectiveDesired();
    }

    /** This experiment with another spec (the store assigns version and times on write). */
    public Experiment withSpec(ExperimentSpec value) {
        return new Experiment(id, value, starred, order, expanded, deleted, createdAt, updatedAt, version,
                generation, currentState, status, latestEpoch, drifted, createdBy, startedBy,
                latestStartedAt);
    }

    /**
     * This experiment with a desired state: a transition to RUNNING starts the next generation,
     * anything else keeps it.
     */
    public Experiment withDesired(DesiredState value) {
        long next = value == DesiredState.RUNNING && spec.desiredState() != DesiredState.RUNNING
                ? generation + 1 : generation;
        return new Experiment(id, spec.desired(value), starred, order, expanded, deleted, createdAt, updatedAt,
                version, next, currentState, status, latestEpoch, drifted, createdBy, startedBy,
                latestStartedAt);
    }

    /** This experiment desired RUNNING in the next generation (a restart). */
    public Experiment restarted() {
        return new Experiment(id, spec.desired(DesiredState.RUNNING), starred, order, expanded, deleted, createdAt,
                updatedAt, version, generation + 1, currentState, status, latestEpoch, drifted, createdBy, startedBy,
                latestStartedAt);
    }

    /** Whether {@code other} holds the same presentation (star, expansion, order). */
    public boolean samePresentation(Experiment other) {
        return starred == other.starred && expanded == other.expanded && order == other.order;
    }

    /** This experiment as of another version (for an update that says which version it read). */
    public Experiment withVersion(long value) {
        return new Experiment(id, spec, starred, order, expanded, deleted, createdAt, updatedAt, value,
                generation, currentState, status, latestEpoch, drifted, createdBy, startedBy,
                latestStartedAt);
    }

    /** This experiment starred or not. */
    public Experiment withStarred(boolean value) {
        return new Experiment(id, spec, value, order, expanded, deleted, createdAt, updatedAt, version,
                generation, currentState, status, latestEpoch, drifted, createdBy, startedBy,
                latestStartedAt);
    }

    /** This experiment expanded or not. */
    public Experiment withExpanded(boolean value) {
        return new Experiment(id, spec, starred, order, value, deleted, createdAt, updatedAt, version,
                generation, currentState, status, latestEpoch, drifted, createdBy, startedBy,
                latestStartedAt);
    }

    /** This experiment at another position. */
    public Experiment withOrder(int value) {
        return new Experiment(id, spec, starred, value, expanded, deleted, createdAt, updatedAt, version,
                generation, currentState, status, latestEpoch, drifted, createdBy, startedBy,
                latestStartedAt);
    }

    /** This experiment deleted or restored. */
    public Experiment withDeleted(boolean value) {
        return new Experiment(id, spec, starred, order, expanded, value, createdAt, updatedAt, version,
                generation, currentState, status, latestEpoch, drifted, createdBy, startedBy,
                latestStartedAt);
    }
}
