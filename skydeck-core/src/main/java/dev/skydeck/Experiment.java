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
 * @param version      optimistic-concurrency version, bumped by every user change
 * @param generation   bumped by every desired-state change; jobs record the one they ran for
 * @param currentState derived from the latest job (see {@link ExperimentStatus#currentState})
 * @param status       the reconciler's observations
 * @param latestEpoch  the highest checkpoint epoch seen, or {@code null}
 */
public record Experiment(long id, ExperimentSpec spec, boolean starred, int order, boolean expanded,
                         boolean deleted, Instant createdAt, Instant updatedAt, long version, long generation,
                         JobStatus currentState, ExperimentStatus status, Long latestEpoch) {
    /** Validates the required fields. */
    public Experiment {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(updatedAt, "updatedAt");
        currentState = currentState == null ? JobStatus.INIT : currentState;
        status = status == null ? ExperimentStatus.NEW : status;
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

    /** Whether the reconciler has nothing left to do for the current generation. */
    public boolean settled() {
        return status.settled() && status.observedGeneration() == generation;
    }

    /** This experiment with another spec (the store assigns version and times on write). */
    public Experiment withSpec(ExperimentSpec value) {
        return new Experiment(id, value, starred, order, expanded, deleted, createdAt, updatedAt, version,
                generation, currentState, status, latestEpoch);
    }

    /** This experiment with a desired state and the next generation. */
    public Experiment withDesired(DesiredState value) {
        return new Experiment(id, spec.desired(value), starred, order, expanded, deleted, createdAt, updatedAt,
                version, generation + 1, currentState, status, latestEpoch);
    }

    /** This experiment starred or not. */
    public Experiment withStarred(boolean value) {
        return new Experiment(id, spec, value, order, expanded, deleted, createdAt, updatedAt, version,
                generation, currentState, status, latestEpoch);
    }

    /** This experiment expanded or not. */
    public Experiment withExpanded(boolean value) {
        return new Experiment(id, spec, starred, order, value, deleted, createdAt, updatedAt, version,
                generation, currentState, status, latestEpoch);
    }

    /** This experiment at another position. */
    public Experiment withOrder(int value) {
        return new Experiment(id, spec, starred, value, expanded, deleted, createdAt, updatedAt, version,
                generation, currentState, status, latestEpoch);
    }

    /** This experiment deleted or restored. */
    public Experiment withDeleted(boolean value) {
        return new Experiment(id, spec, starred, order, expanded, value, createdAt, updatedAt, version,
                generation, currentState, status, latestEpoch);
    }
}
