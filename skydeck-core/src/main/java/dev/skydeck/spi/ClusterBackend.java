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
     * Launches one job and waits until the backend has it. Called at most once per launch id
     * unless {@link #find} answered empty for it. Returns the job as the backend now reports it.
     */
    BackendJob launch(LaunchRequest request);

    /**
     * Submits one job and returns without waiting for it to exist: SkyDeck's reconciler calls
     * this, so a backend whose launches take a while (SkyPilot's API server) never holds a
     * reconcile thread. Returns the job when the backend has it at once, else the handle of the
     * request in flight, which SkyDeck records and follows with {@link #launchStatus}. The same
     * rule as {@link #launch}: at most once per launch id unless the launch is known to be gone.
     * The default calls {@link #launch}.
     */
    default Submission submit(LaunchRequest request) {
        return Submission.started(launch(request));
    }

    /**
     * How a launch submitted earlier is doing: still in flight, started (the job), failed (no job
     * was created), or unknown to the backend. {@code ref} is what {@link #submit} returned, or
     * {@code null} when SkyDeck never recorded it (it stopped between the submit and its record);
     * the backend then also looks for a job with {@code launchId}. The default asks {@link #find}.
     *
     * @param experimentName the job's name (backends can look it up by name instead of listing all)
     */
    default LaunchStatus launchStatus(String launchId, String ref, String experimentName) {
        return find(launchId, experimentName).map(LaunchStatus::started).orElse(LaunchStatus.UNKNOWN);
    }

    /**
     * Cancels a launch whose request is still in flight (before the job exists). Returns whether
     * the request was cancelled; {@code false} when there was nothing to cancel (the job may exist
     * by now: SkyDeck then cancels the job). The default cancels nothing.
     */
    default boolean cancelLaunch(String launchId, String ref) {
        return false;
    }

    /**
     * Finds a job by the launch id it was launched with, for adoption after SkyDeck stopped
     * between submitting a launch and recording its result. Empty means the backend never
     * accepted a launch with that id (so launching it again cannot double it).
     *
     * @param experimentName the job's name, so a backend can search by name rather than list everything
     */
    Optional<BackendJob> find(String launchId, String experimentName);

    /**
     * One page of every job the backend knows (one call per page, never one per job).
     *
     * @param pageToken {@code null} for the first page, then {@link JobPage#nextPageToken()}
     */
    JobPage list(String pageToken);

    /**
     * One page of the jobs that have not finished: a lighter listing for routine polls (SkyDeck
     * lists everything now and then, and asks for the jobs it holds active that this leaves out
     * with {@link #jobs}). The default lists everything.
     */
    default JobPage listActive(String pageToken) {
        return list(pageToken);
    }

    /**
     * These jobs by the backend's ids, finished ones included, in one call; ids the backend does
     * not know are absent. The default walks {@link #list}.
     */
    default java.util.List<BackendJob> jobs(java.util.Collection<String> backendJobIds) {
        java.util.Set<String> wanted = new java.util.HashSet<>(backendJobIds);
        java.util.List<BackendJob> out = new java.util.ArrayList<>();
        String token = null;
        do {
            JobPage page = list(token);
            for (BackendJob j : page.jobs()) {
                if (wanted.contains(j.backendJobId())) {
                    out.add(j);
                }
            }
            token = page.nextPageToken();
        } while (token != null);
        return out;
    }

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
     * The log of the backend's controller for a job (SkyPilot's jobs controller: recovery,
     * provisioning), like {@link #logs}. The default says there is none.
     */
    default Reader controllerLogs(String backendJobId, int tail, boolean follow) {
        throw new dev.skydeck.SkyDeckException.Conflict(dev.skydeck.SkyDeckException.Conflict.Reason.OTHER,
                kind() + " jobs have no controller log: there is only the job's own");
    }

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
