package dev.skydeck.spi;

/**
 * What a backend did with a launch at {@link ClusterBackend#submit}: the job exists already
 * ({@link #job()}), or the backend accepted a request that will create it ({@link #ref()}, the
 * backend's handle on that request, a SkyPilot request id), which SkyDeck records on the job and
 * follows with {@link ClusterBackend#launchStatus}.
 *
 * @param job    the job, when it exists at once, else {@code null}
 * @param ref    the backend's handle on the request in flight, else {@code null}
 * @param detail a line about the request for people (its stage), or {@code null}
 */
public record Submission(BackendJob job, String ref, String detail) {
    /** Exactly one of job and ref. */
    public Submission {
        if ((job == null) == (ref == null)) {
            throw new IllegalArgumentException("a submission has either a job or a request ref");
        }
    }

    /** The job exists. */
    public static Submission started(BackendJob job) {
        return new Submission(job, null, null);
    }

    /** A request will create the job. */
    public static Submission pending(String ref, String detail) {
        return new Submission(null, ref, detail);
    }
}
