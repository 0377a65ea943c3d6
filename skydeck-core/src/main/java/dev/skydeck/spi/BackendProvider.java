package dev.skydeck.spi;

import dev.skydeck.SkyDeckConfig;
import java.util.Optional;

/**
 * A {@link ClusterBackend} that {@code SKYDECK_BACKEND} can name, found with
 * {@link java.util.ServiceLoader} ({@code skydeck-skypilot} provides {@code skypilot}). The local
 * backend is built in. Providers read their settings from {@link SkyDeckConfig#environment()}
 * (and the files it points at), never from the process directly.
 */
public interface BackendProvider {
    /** The name users select it by ({@code skypilot}). */
    String kind();

    /**
     * Why {@code auto} should choose this backend (for example "SKYPILOT_API_SERVER_ENDPOINT is
     * set"), or empty when it is not configured.
     */
    Optional<String> detect(SkyDeckConfig config);

    /** Creates the backend from its configuration. */
    ClusterBackend create(SkyDeckConfig config);
}
