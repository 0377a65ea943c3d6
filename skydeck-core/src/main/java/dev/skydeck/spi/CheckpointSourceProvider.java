package dev.skydeck.spi;

import dev.skydeck.SkyDeckConfig;
import java.util.Optional;

/**
 * A {@link CheckpointSource} SkyDeck can choose by itself when none is given to the builder,
 * found with {@link java.util.ServiceLoader} ({@code skydeck-skypilot} provides S3). Without a
 * provider that applies, the local backend's checkpoint directory is used.
 */
public interface CheckpointSourceProvider {
    /**
     * Why this source should be used with a backend of kind {@code backendKind} (for example
     * "SKYDECK_S3_BUCKET is set"), or empty when it does not apply.
     */
    Optional<String> detect(String backendKind, SkyDeckConfig config);

    /** Creates the source from its configuration ({@link SkyDeckConfig#environment()}, the credentials chain). */
    CheckpointSource create(SkyDeckConfig config);
}
