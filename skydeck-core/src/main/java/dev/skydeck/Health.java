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
 */
public record Health(String version, String store, String backendKind, String backendReason, boolean backendHealthy,
                     String backendDetail, String checkpointSource, Component poller, Component reconciler, Component syncer,
                     long experiments, long activeJobs, int waits) {
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
