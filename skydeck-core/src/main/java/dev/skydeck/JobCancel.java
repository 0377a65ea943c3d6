package dev.skydeck;

import java.time.Instant;
import java.util.Objects;

/**
 * A request to cancel a job and how far it got. A cancel is intent: whoever asks records it,
 * the reconciler sends it to the backend, and the poller sees the job end. A cancel is
 * confirmed by the job's next observed status, not by the backend accepting the call.
 *
 * @param requestedAt when the cancel was asked for
 * @param requestedBy who asked (a user, or the reconciler acting on desired state)
 * @param sentAt      when it was last sent to the backend, or {@code null} before the first send
 * @param attempts    how many times it has been sent
 */
public record JobCancel(Instant requestedAt, Actor requestedBy, Instant sentAt, int attempts) {
    /** Requires when and by whom. */
    public JobCancel {
        Objects.requireNonNull(requestedAt, "requestedAt");
        Objects.requireNonNull(requestedBy, "requestedBy");
        if (attempts < 0) {
            throw new IllegalArgumentException("attempts " + attempts + " < 0");
        }
    }

    /** A cancel asked for now, not sent yet. */
    public static JobCancel requested(Instant at, Actor by) {
        return new JobCancel(at, by, null, 0);
    }

    /** This cancel, sent (once more) at {@code at}. */
    public JobCancel sent(Instant at) {
        return new JobCancel(requestedAt, requestedBy, at, attempts + 1);
    }
}
