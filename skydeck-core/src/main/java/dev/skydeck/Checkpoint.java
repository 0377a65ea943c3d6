package dev.skydeck;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A model checkpoint an experiment's training wrote. Unique per (experiment, epoch).
 *
 * @param experimentId  the experiment (by id)
 * @param epoch         the epoch parsed from the object name
 * @param modelPath     the model object's full URI ({@code s3://…} or {@code file:…})
 * @param replayPaths   replay files of this epoch
 * @param policyVersion {@code v<N>} when the name carries {@code :v<N>}, else {@code null}
 * @param sizeBytes     the model object's size
 * @param createdAt     the object's time
 * @param syncedAt      when SkyDeck last saw it
 * @param goneAt        when SkyDeck noticed the object disappeared, or {@code null}
 */
public record Checkpoint(long experimentId, long epoch, String modelPath, List<String> replayPaths,
                         String policyVersion, long sizeBytes, Instant createdAt, Instant syncedAt, Instant goneAt) {
    /** Validates the required fields. */
    public Checkpoint {
        Objects.requireNonNull(modelPath, "modelPath");
        replayPaths = replayPaths == null ? List.of() : List.copyOf(replayPaths);
    }

    /** Whether the object still exists as far as SkyDeck knows. */
    public boolean present() {
        return goneAt == null;
    }
}
