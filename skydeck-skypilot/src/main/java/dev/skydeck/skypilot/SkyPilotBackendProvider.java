package dev.skydeck.skypilot;

import dev.skydeck.SkyDeckConfig;
import dev.skydeck.skypilot.internal.ServerConfig;
import dev.skydeck.spi.BackendProvider;
import dev.skydeck.spi.ClusterBackend;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Makes {@code SKYDECK_BACKEND=skypilot} work, and {@code auto} choose SkyPilot when an endpoint is
 * configured (in the environment SkyDeck was configured with, or in {@code ~/.sky/config.yaml} /
 * {@code .sky.yaml}).
 */
public final class SkyPilotBackendProvider implements BackendProvider {
    private final Path userHome;
    private final Path workdir;

    /** Looks for the SkyPilot config files in the user's home and working directory (used by the service loader). */
    public SkyPilotBackendProvider() {
        this(Path.of(System.getProperty("user.home")), Path.of(System.getProperty("user.dir")));
    }

    /** Looks for the SkyPilot config files in the given directories (for tests). */
    public SkyPilotBackendProvider(Path userHome, Path workdir) {
        this.userHome = userHome;
        this.workdir = workdir;
    }

    @Override
    public String kind() {
        return SkyPilotBackend.KIND;
    }

    @Override
    public Optional<String> detect(SkyDeckConfig config) {
        ServerConfig c = ServerConfig.discover(config.environment(), userHome, workdir, ServerConfig.hostname());
        return c.configured() ? Optional.of("a SkyPilot API server is configured (" + c.source() + "): "
                + c.endpoint()) : Optional.empty();
    }

    @Override
    public ClusterBackend create(SkyDeckConfig config) {
        return SkyPilotBackend.builder().environment(config.environment()).userHome(userHome).workingDirectory(workdir)
                .skydeckHome(config.home()).build();
    }
}
