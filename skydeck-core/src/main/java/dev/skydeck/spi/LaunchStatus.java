package dev.skydeck.spi;

import java.util.Objects;

/**
 * How a launch submitted earlier is doing ({@link ClusterBackend#launchStatus}).
 *
 * @param state     where it is
 * @param job       the job, once {@link State#STARTED}
 * @param detail    the request's stage for people ("provisioning the jobs controller"), or {@code null}
 * @param error     why it failed, when {@link State#FAILED}
 * @param retryable whether submitting it again can help, when {@link State#FAILED}
 */
public record LaunchStatus(State state, BackendJob job, String detail, String error, boolean retryable) {
    /** Where a submitted launch is. */
    public enum State {
        /** The request is still running: the job does not exist yet. */
        PENDING,
        /** The job exists ({@link #job()}). */
        STARTED,
        /** The request failed; no job was created ({@link #error()}, {@link #retryable()}). */
        FAILED,
        /** The backend knows neither the request nor a job for the launch: it never took it, or forgot it. */
        UNKNOWN
    }

    /** Requires a state, and the job when started. */
    public LaunchStatus {
        Objects.requireNonNull(state, "state");
        if (state == State.STARTED) {
            Objects.requireNonNull(job, "job");
        }
    }

    /** The request still runs. */
    public static LaunchStatus pending(String detail) {
        return new LaunchStatus(State.PENDING, null, detail, null, false);
    }

    /** The job exists. */
    public static LaunchStatus started(BackendJob job) {
        return new LaunchStatus(State.STARTED, job, null, null, false);
    }

    /** The request failed without creating a job. */
    public static LaunchStatus failed(String error, boolean retryable) {
        return new LaunchStatus(State.FAILED, null, null, error, retryable);
    }

    /** Nothing is known of it. */
    public static final LaunchStatus UNKNOWN = new LaunchStatus(State.UNKNOWN, null, null, null, false);
}
