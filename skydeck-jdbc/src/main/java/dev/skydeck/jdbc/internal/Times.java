package dev.skydeck.jdbc.internal;

import dev.skydeck.SkyDeckException;
import java.time.Instant;

/** Instants as INTEGER nanoseconds since the epoch: exact, sortable, compact. */
final class Times {
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private Times() {
    }

    /** The instant as epoch nanoseconds, or {@code null}. */
    static Long toNanos(Instant t) {
        if (t == null) {
            return null;
        }
        try {
            return Math.addExact(Math.multiplyExact(t.getEpochSecond(), NANOS_PER_SECOND), t.getNano());
        } catch (ArithmeticException e) {
            throw new SkyDeckException.InvalidInput("time " + t
                    + " is not allowed: SkyDeck keeps times between the years 1678 and 2261");
        }
    }

    /** Epoch nanoseconds as an instant. */
    static Instant fromNanos(long nanos) {
        return Instant.ofEpochSecond(Math.floorDiv(nanos, NANOS_PER_SECOND), Math.floorMod(nanos, NANOS_PER_SECOND));
    }
}
