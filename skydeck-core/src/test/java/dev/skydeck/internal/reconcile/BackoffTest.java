package dev.skydeck.internal.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BackoffTest {
    private static final Duration BASE = Duration.ofSeconds(10);
    private static final Duration CAP = Duration.ofMinutes(5);

    @Test
    void boundDoublesPerAttemptUpToTheCap() {
        assertThat(Backoff.bound(BASE, CAP, 1)).isEqualTo(Duration.ofSeconds(10));
        assertThat(Backoff.bound(BASE, CAP, 2)).isEqualTo(Duration.ofSeconds(20));
        assertThat(Backoff.bound(BASE, CAP, 3)).isEqualTo(Duration.ofSeconds(40));
        assertThat(Backoff.bound(BASE, CAP, 6)).isEqualTo(CAP);
        assertThat(Backoff.bound(BASE, CAP, 1000)).isEqualTo(CAP);
    }

    @Test
    void delaysAreFullJitterBetweenZeroAndTheBound() {
        Backoff backoff = new Backoff(new SplittableRandom(42));
        long min = Long.MAX_VALUE;
        long max = 0;
        for (int i = 0; i < 2000; i++) {
            long d = backoff.delay(BASE, CAP, 3).toMillis();
            assertThat(d).isBetween(0L, 40_000L);
            min = Math.min(min, d);
            max = Math.max(max, d);
        }
        // Full jitter spreads over the whole range, not around the bound.
        assertThat(min).isLessThan(4_000L);
        assertThat(max).isGreaterThan(36_000L);
    }

    @Test
    void zeroBaseMeansNoDelay() {
        assertThat(new Backoff(new SplittableRandom(1)).delay(Duration.ZERO, Duration.ZERO, 5)).isZero();
    }
}
