package dev.skydeck.skypilot;

import dev.skydeck.skypilot.internal.ServerConfig;
import dev.skydeck.spi.BackendProvider;
import dev.skydeck.spi.ClusterBackend;
import java.nio.file.Path;
import java.util.Optional;

/** Makes {@code SKYDECK_BACKEND=skypilot} work, and {@code auto} choose SkyPilot when an endpoint is configured. */
public final class SkyPilotBackendProvider implements BackendProvider {
    /** Used by the service loader. */
    public SkyPilotBackendProvider() {
    }

    @Override
    public String kind() {
        return SkyPilotBackend.KIND;
    }

    @Override
    public Optional<String> detect() {
        ServerConfig c = ServerConfig.discover(System.getenv(), Path.of(System.getProperty("user.home")),
                Path.of(System.getProperty("user.dir")), "localhost");
        return c.configured() ? Optional.of("a SkyPilot API server is configured (" + c.source() + "): "
                + c.endpoint()) : Optional.empty();
    }

    @Override
    public ClusterBackend create() {
        return SkyPilotBackend.builder().build();
    }
}
