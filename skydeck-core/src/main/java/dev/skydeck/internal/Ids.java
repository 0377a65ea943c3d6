package dev.skydeck.internal;

import java.security.SecureRandom;
import java.time.Instant;

/** SkyDeck job ids: {@code j-<time base36>-<random>}, unique across processes, roughly time-ordered. */
public final class Ids {
    private static final SecureRandom RANDOM = new SecureRandom();

    private Ids() {
    }

    /** A new job id (also used as the launch id). */
    public static String newJobId(Instant now) {
        long rnd = RANDOM.nextLong() >>> 16;
        return "j-" + Long.toString(now.toEpochMilli(), 36) + "-" + String.format("%012x", rnd);
    }
}
