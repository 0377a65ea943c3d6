package dev.skydeck;

import java.util.List;
import java.util.Objects;

/**
 * What {@link SkyDeck#apply} did with one spec.
 *
 * @param name       the experiment's name
 * @param outcome    created, updated or unchanged
 * @param changed    the fields an update changed ({@code flags.lr}, {@code gpus}, {@code desired_state}, …);
 *                   empty unless updated
 * @param experiment the experiment as stored afterwards
 */
public record ApplyResult(String name, Outcome outcome, List<String> changed, Experiment experiment) {
    /** Whether the spec created, changed or matched the stored experiment. */
    public enum Outcome {
        /** No live experiment had the name: it was created. */
        CREATED,
        /** The stored experiment differed: the differences were written. */
        UPDATED,
        /** The stored experiment already matched: nothing was written. */
        UNCHANGED
    }

    /** Requires every field. */
    public ApplyResult {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(outcome, "outcome");
        changed = List.copyOf(changed);
        Objects.requireNonNull(experiment, "experiment");
    }
}
