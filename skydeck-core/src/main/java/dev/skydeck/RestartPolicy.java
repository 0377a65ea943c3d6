package dev.skydeck;

import dev.skydeck.internal.Validate;
import java.time.Duration;
import java.util.Objects;

/**
 * When the reconciler launches another job after one ends, within one generation.
 *
 * <p>Delays grow exponentially from {@code backoff} to at most {@code maxBackoff}, with full
 * jitter: the delay before attempt {@code n+1} is uniformly random in
 * {@code [0, min(maxBackoff, backoff · 2^(n-1))]}.
 *
 * @param mode        when to restart
 * @param maxRestarts how many restarts after the first attempt (0 to 1000)
 * @param backoff     the first delay's upper bound
 * @param maxBackoff  the cap on any delay
 */
public record RestartPolicy(Mode mode, int maxRestarts, Duration backoff, Duration maxBackoff) {
    /** Never restart (the default). */
    public static final RestartPolicy NEVER = new RestartPolicy(Mode.NEVER, 0, Duration.ofSeconds(10), Duration.ofMinutes(10));

    /** When a job's end allows another attempt. */
    public enum Mode {
        /** Never relaunch. */
        NEVER,
        /** Relaunch after a failure (not after success or a cancel). */
        ON_FAILURE,
        /** Relaunch after any end. */
        ALWAYS
    }

    /** Validates the policy. */
    public RestartPolicy {
        Objects.requireNonNull(mode, "mode");
        Validate.range("max_restarts", maxRestarts, 0, 1000);
        if (backoff == null || backoff.isNegative() || backoff.compareTo(Duration.ofDays(1)) > 0) {
            throw Validate.invalid("restart backoff " + backoff + " is not allowed: use 0 s to 1 day");
        }
        if (maxBackoff == null || maxBackoff.compareTo(backoff) < 0 || maxBackoff.compareTo(Duration.ofDays(1)) > 0) {
            throw Validate.invalid("restart max_backoff " + maxBackoff + " is not allowed: use backoff to 1 day");
        }
    }

    /** Restart after failures, at most {@code maxRestarts} times, 10 s first backoff, 10 min cap. */
    public static RestartPolicy onFailure(int maxRestarts) {
        return new RestartPolicy(Mode.ON_FAILURE, maxRestarts, Duration.ofSeconds(10), Duration.ofMinutes(10));
    }

    /** Restart after any end, at most {@code maxRestarts} times, 10 s first backoff, 10 min cap. */
    public static RestartPolicy always(int maxRestarts) {
        return new RestartPolicy(Mode.ALWAYS, maxRestarts, Duration.ofSeconds(10), Duration.ofMinutes(10));
    }

    /** This policy with other backoff bounds. */
    public RestartPolicy withBackoff(Duration first, Duration cap) {
        return new RestartPolicy(mode, maxRestarts, first, cap);
    }

    /** Whether a job that ended with {@code status} allows another attempt (ignoring the count). */
    public boolean restartsAfter(JobStatus status) {
        return switch (mode) {
            case NEVER -> false;
            case ON_FAILURE -> status == JobStatus.FAILED;
            case ALWAYS -> status.isTerminal();
        };
    }
}
