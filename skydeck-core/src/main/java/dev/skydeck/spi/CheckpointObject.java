package dev.skydeck.spi;

import java.time.Instant;
import java.util.Objects;

/**
 * One object (file) a {@link CheckpointSource} found under an experiment's checkpoint prefix.
 *
 * @param uri          the full URI ({@code s3://bucket/prefix/name/run:v3.mpt}, {@code file:/…})
 * @param relativePath the path below the experiment's prefix, with {@code /} separators
 * @param sizeBytes    its size
 * @param lastModified its time
 */
public record CheckpointObject(String uri, String relativePath, long sizeBytes, Instant lastModified) {
    /** Requires the URI and path. */
    public CheckpointObject {
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(relativePath, "relativePath");
    }
}
