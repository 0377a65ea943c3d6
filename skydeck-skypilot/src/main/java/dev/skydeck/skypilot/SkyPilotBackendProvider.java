package dev.skydeck.skypilot;

import dev.skydeck.skypilot.internal.ServerConfig;
import dev.skydeck.spi.BackendProvider;
import dev.skydeck.spi.ClusterBackend;
import java.nio.file.Path;
import java.util.Optional;

/** Makes {@code SKYDECK_BACKEND=skypilot} work, and {@code auto} choose SkyPilot when an endpoint is configured. */
public final class SkyPilotBackendProvider implements BackendProvider {
    private final java.util.Map<String, String> env;
    private final Path userHome;
    private final Path workdir;

    /** Reads the process environment and the user's files (used by the service loader). */
    public SkyPilotBackendProvider() {
        this(System.getenv(), Path.of(System.getProperty("user.home")), Path.of(System.getProperty("user.dir")));
    }

    /** Reads the given environment and directories (for tests). */
    public SkyPilotBackendProvider(java.util.Map<String, String> env, Path userHome, Path workdir) {
        this.env = java.util.Map.copyOf(env);
        this.userHome = userHome;
        this.workdir = workdir;
    }

    @Override
    public String kind() {
        return SkyPilotBackend.KIND;
    }

    @Override
    public Optional<String> detect() {
        ServerConfig c = ServerConfig.discover(env, userHome, workdir, "localhost");
        return c.configured() ? Optional.of("a SkyPilot API server is configured (" + c.source() + "): "
                + c.endpoint()) : Optional.empty();
    }

    @Override
    public ClusterBackend create() {
        return SkyPilotBackend.builder().environment(env).userHome(userHome).workingDirectory(workdir).build();
    }
}
