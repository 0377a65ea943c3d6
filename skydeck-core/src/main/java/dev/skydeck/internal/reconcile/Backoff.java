package dev.skydeck.internal.reconcile;

import java.time.Duration;
import java.util.random.RandomGenerator;

/** Exponential backoff with full jitter: a delay uniformly random in {@code [0, min(cap, base·2^(n-1))]}. */
public final class Backoff {
    private final RandomGenerator random;

    /** @param random the randomness (seeded in tests) */
    public Backoff(RandomGenerator random) {
        this.random = random;
    }

    /** The upper bound of the delay before retry {@code attempt} (1-based). */
    public static Duration bound(Duration base, Duration cap, int attempt) {
        int shift = Math.max(0, Math.min(attempt - 1, 40));
        long millis = base.toMillis();
        long bounded = millis > (cap.toMillis() >> shift) ? cap.toMillis() : millis << shift;
        return Duration.ofMillis(Math.min(bounded, cap.toMillis()));
    }

    /** A jittered delay before retry {@code attempt}. */
    public Duration delay(Duration base, Duration cap, int attempt) {
        long bound = bound(base, cap, attempt).toMillis();
        return Duration.ofMillis(bound == 0 ? 0 : random.nextLong(bound + 1));
    }
}
