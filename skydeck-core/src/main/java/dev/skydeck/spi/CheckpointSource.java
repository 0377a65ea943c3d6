package dev.skydeck.spi;

import java.util.List;

/**
 * Where an experiment's training writes checkpoints: the local checkpoint directory or an S3
 * prefix. Listing only; SkyDeck parses epochs and versions from the names itself.
 */
public interface CheckpointSource extends AutoCloseable {
    /** Where it looks, for health and logs ({@code s3://bucket/prefix}, a directory). */
    String describe();

    /**
     * Every object under the experiment's prefix, in one listing (paged internally).
     *
     * @throws dev.skydeck.SkyDeckException when the source cannot be read; retryable when that may pass
     */
    List<CheckpointObject> list(String experimentName);

    /** Releases clients; idempotent. */
    @Override
    default void close() {
    }

    /** A source that never finds anything. */
    CheckpointSource NONE = new CheckpointSource() {
        @Override
        public String describe() {
            return "none";
        }

        @Override
        public List<CheckpointObject> list(String experimentName) {
            return List.of();
        }
    };
}
