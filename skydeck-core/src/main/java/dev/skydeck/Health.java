package dev.skydeck;

import java.time.Instant;

/**
 * How SkyDeck is doing: which backend and why, and when each background component last worked.
 *
 * @param version       SkyDeck's version
 * @param store         the store ({@code sqlite:/…}, {@code memory})
 * @param backendKind   the backend kind
 * @param backendReason why this backend was chosen
 * @param backendHealthy whether the backend says it can take work
 * @param backendDetail the backend's own line about itself
 * @param checkpointSource where checkpoints are listed ({@code s3://bucket/prefix}, a directory, {@code none})
 * @param poller        the poller
 * @param reconciler    the reconciler (last pass over any experiment)
 * @param syncer        the checkpoint syncer
 * @param experiments   live experiments, or -1 when the store cannot be read
 * @param activeJobs    active jobs, or -1 when the store cannot be read
 * @param waits         callers waiting for experiments to settle ({@link SkyDeck#awaitSettledAsync})
 * @param engine        which process drives the engine of the store (reconciles, polls, syncs)
 */
public record Health(String version, String store, String backendKind, String backendReason, boolean backendHealthy,
                     String backendDetail, String checkpointSource, Component poller, Component reconciler, Component syncer,
                     long experiments, long activeJobs, int waits, Engine engine) {
    /**
     * Which process drives the engine: the one holding the store's engine lease.
     *
     * @param leader  whether this process does
     * @param holder  this process's id in the lease ({@code host/pid/…})
     * @param since   when this process took the lease, or {@code null} while it does not hold it
     * @param other   the process that holds it when this one does not, or {@code null} (none, or unknown)
     */
    public record Engine(boolean leader, String holder, Instant since, String other) {
    }

    /**
     * One background component.
     *
     * @param lastSuccess when it last worked, or {@code null}
     * @param lastFailure when it last failed, or {@code null}
     * @param lastError   why it last failed, or {@code null} when the latest run worked
     */
    public record Component(Instant lastSuccess, Instant lastFailure, String lastError) {
    }
}
