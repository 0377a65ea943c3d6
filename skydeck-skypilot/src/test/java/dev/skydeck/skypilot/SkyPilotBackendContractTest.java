package dev.skydeck.skypilot;

import dev.skydeck.Resources;
import dev.skydeck.spi.ClusterBackend;
import dev.skydeck.testing.ClusterBackendContract;
import dev.skydeck.spi.LaunchRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** The SkyPilot backend keeps the ClusterBackend contract against the stateful API-server stub. */
class SkyPilotBackendContractTest extends ClusterBackendContract {
    @TempDir
    Path dir;

    private SkyPilotStub stub;
    private SkyPilotBackend backend;

    @BeforeEach
    void open() {
        stub = new SkyPilotStub();
        backend = SkyPilotBackend.builder().environment(Map.of("SKYPILOT_API_SERVER_ENDPOINT", stub.endpoint()))
                .userHome(dir.resolve("home")).workingDirectory(dir).hostname("box").skydeckHome(dir.resolve("skydeck"))
                .statusPolling(Duration.ofMillis(1), Duration.ofMillis(5)).pageSize(2)
                .requestTimeouts(Duration.ofSeconds(20), Duration.ofSeconds(20)).build();
    }

    @AfterEach
    void close() {
        backend.close();
        stub.close();
    }

    @Override
    protected ClusterBackend backend() {
        return backend;
    }

    @Override
    protected LaunchRequest request(String name, String launchId, Behaviour behaviour) {
        stub.nextPath = switch (behaviour) {
            case SUCCEED -> List.of("PENDING", "STARTING", "RUNNING", "SUCCEEDED");
            case FAIL -> List.of("PENDING", "STARTING", "FAILED_SETUP");
            case RUN_UNTIL_CANCELLED -> List.of("PENDING", "STARTING", "RUNNING");
        };
        return new LaunchRequest(name, launchId, 1, List.of("python", "train.py"), Map.of(), 1, 0, Resources.ANY, null,
                null, Map.of("SKYDECK_LAUNCH_ID", launchId));
    }

    @Override
    protected void advance() {
        stub.advance();
    }
}
