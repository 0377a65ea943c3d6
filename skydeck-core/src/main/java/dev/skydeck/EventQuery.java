package dev.skydeck;

import dev.skydeck.internal.Validate;

/**
 * A slice of the event log.
 *
 * @param afterSeq     only events with a larger sequence number ({@code 0} for all)
 * @param experimentId only events of this experiment, or {@code null}
 * @param limit        at most this many, 1 to 10,000
 * @param newestFirst  the newest events, newest first (for an operations log); otherwise the
 *                     oldest after {@code afterSeq}, oldest first (for following the log)
 */
public record EventQuery(long afterSeq, Long experimentId, int limit, boolean newestFirst) {
    /** Validates the bounds. */
    public EventQuery {
        Validate.range("limit", limit, 1, 10_000);
    }

    /** Events after {@code seq}, any experiment, oldest first. */
    public static EventQuery after(long seq, int limit) {
        return new EventQuery(seq, null, limit, false);
    }

    /** The newest {@code limit} events, newest first. */
    public static EventQuery latest(int limit) {
        return new EventQuery(0, null, limit, true);
    }
}
