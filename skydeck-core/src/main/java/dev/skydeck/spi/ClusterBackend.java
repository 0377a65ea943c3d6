package dev.skydeck.spi;

import java.io.Reader;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Where jobs run. Implementations: {@code dev.skydeck.local.LocalBackend} (local processes) and
 * {@code SkyPilotBackend} (SkyPilot managed jobs). Implementations are thread-safe.
 *
 * <p>Errors are {@link BackendException}s whose {@code retryable()} says whether trying again can
 * help.
 */
public interface ClusterBackend extends AutoCloseable {
    /** The kind, as shown in health and stored on jobs: {@code local}, {@code skypilot}, … */
    String kind();

    /**
     * Submits one job. Called at most once per launch id unless {@link #find(String)} answered
     * empty for it. Returns the job as the backend now reports it.
     */
    BackendJob launch(LaunchRequest request);

    /**
     * Finds a job by the launch id it was launched with, for adoption after SkyDeck stopped
     * between submitting a launch and recording its result. Empty means the backend never
     * accepted a launch with that id (so launching it again cannot double it).
     */
    Optional<BackendJob> find(String launchId);

    /**
     * One page of every job the backend knows (one call per page, never one per job).
     *
     * @param pageToken {@code null} for the first page, then {@link JobPage#nextPageToken()}
     */
    JobPage list(String pageToken);

    /** Asks the backend to cancel a job; returns without waiting for it to end. */
    void cancel(String backendJobId);

    /**
     * Tears down what an experiment owns beyond its jobs (for {@code TERMINATED}); the default
     * does nothing, for backends where jobs own nothing else.
     */
    default void terminate(String experimentName) {
    }

    /**
     * A job's log: the last {@code tail} lines (0 for all), then, when {@code follow}, new lines
     * until the job ends or the reader is closed.
     */
    Reader logs(String backendJobId, int tail, boolean follow);

    /**
     * How many GPUs this backend can run jobs on at once, when it has a fixed number (the local
     * backend's GPU slots); empty for backends whose capacity is elastic or unknown (SkyPilot).
     */
    default OptionalInt gpuCapacity() {
        return OptionalInt.empty();
    }

    /**
     * Registers {@code listener}, which the backend calls (quickly, on any thread) when it learns
     * that a job changed without being asked, so that SkyDeck polls at once instead of at the
     * next interval. The local backend calls it when a job's process exits; the default never
     * calls. Closing the handle unregisters the listener.
     */
    default AutoCloseable onChange(Runnable listener) {
        return () -> { };
    }

    /** The backend's health; never throws. */
    BackendHealth health();

    /** Releases clients and threads; idempotent. Jobs keep running. */
    @Override
    void close();
}
