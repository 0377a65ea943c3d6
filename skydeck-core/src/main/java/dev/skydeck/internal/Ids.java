package dev.skydeck.internal;

import java.security.SecureRandom;
import java.time.Instant;

/** SkyDeck job ids: {@code j-<time base36>-<sequence><random>}, unique across processes, roughly time-ordered. */
public final class Ids {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final java.util.concurrent.atomic.AtomicLong SEQUENCE = new java.util.concurrent.atomic.AtomicLong();

    private Ids() {
    }

    /** A new job id (also used as the launch id). */
    public static String newJobId(Instant now) {
        // time, then a process-wide sequence (ids made at one instant still sort by creation), then randomness
        long seq = SEQUENCE.incrementAndGet() & 0xffffffL;
        int rnd = RANDOM.nextInt(1 << 24);
        return "j-" + Long.toString(now.toEpochMilli(), 36) + "-" + String.format("%06x%06x", seq, rnd);
    }
}
