package dev.skydeck;

import java.time.Instant;
import java.util.Objects;

/**
 * One entry of the operations log and of an experiment's timeline.
 *
 * @param seq            monotonic sequence number assigned by the store
 * @param time           when it happened (UTC)
 * @param actor          who did it
 * @param type           what happened
 * @param experimentId   the experiment, or {@code null}
 * @param experimentName the experiment's name, or {@code null}
 * @param jobId          the job, or {@code null}
 * @param success        whether the action succeeded
 * @param message        one human line
 * @param detail         more detail (an error's text, a status transition), or {@code null}
 * @param user           the user who acted (for {@link Actor#USER} events of a deck with users), or {@code null}
 */
public record Event(long seq, Instant time, Actor actor, EventType type, Long experimentId,
                    String experimentName, String jobId, boolean success, String message,
                    String detail, String user) {
    /** Validates the required fields. */
    public Event {
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(actor, "actor");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(message, "message");
    }

    /** An event without a user (a deck without users, or one the engine wrote). */
    public Event(long seq, Instant time, Actor actor, EventType type, Long experimentId, String experimentName,
                 String jobId, boolean success, String message, String detail) {
        this(seq, time, actor, type, experimentId, experimentName, jobId, success, message, detail, null);
    }

    /** A new event without a sequence number yet (the store assigns it). */
    public static Event draft(Instant time, Actor actor, EventType type, Experiment experiment,
                              String jobId, boolean success, String message, String detail) {
        return new Event(0, time, actor, type, experiment == null ? null : experiment.id(),
                experiment == null ? null : experiment.name(), jobId, success, message, detail);
    }

    /** This event with the sequence number the store assigned. */
    public Event withSeq(long newSeq) {
        return new Event(newSeq, time, actor, type, experimentId, experimentName, jobId, success,
                message, detail, user);
    }

    /** This event as done by {@code name} (or by no user when {@code null}). */
    public Event byUser(String name) {
        return new Event(seq, time, actor, type, experimentId, experimentName, jobId, success, message, detail, name);
    }
}
