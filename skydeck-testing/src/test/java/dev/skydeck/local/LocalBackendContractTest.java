package dev.skydeck.local;

import static org.awaitility.Awaitility.await;

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

/** The local backend keeps the ClusterBackend contract, with real processes. */
class LocalBackendContractTest extends ClusterBackendContract {
    @TempDir
    Path dir;

    private LocalBackend backend;

    @BeforeEach
    void open() {
        backend = LocalBackend.builder().jobsDirectory(dir.resolve("jobs")).checkpointDirectory(dir.resolve("ckpt"))
                .gpuSlots(2).cancelGracePeriod(Duration.ofSeconds(2)).build();
    }

    @AfterEach
    void close() {
        // Leave nothing running: cancel whatever still runs, and wait until every job's watcher has
        // recorded how it ended (its last write into the job's directory, which the temporary
        // directory's deletion would otherwise race), then close.
        listAll().stream().filter(j -> j.observation().status().isActive())
                .forEach(j -> backend.cancel(j.backendJobId()));
        await().atMost(Duration.ofSeconds(30))
                .until(() -> listAll().stream().noneMatch(j -> j.observation().status().isActive()));
        backend.close();
    }

    @Override
    protected ClusterBackend backend() {
        return backend;
    }

    @Override
    protected LaunchRequest request(String name, String launchId, Behaviour behaviour) {
        List<String> command = switch (behaviour) {
            case SUCCEED -> List.of("sh", "-c", "echo done");
            case FAIL -> List.of("sh", "-c", "echo failing >&2; exit 3");
            case RUN_UNTIL_CANCELLED -> List.of("sleep", "300");
        };
        return new LaunchRequest(name, launchId, 1, command, Map.of(), 1, 0, null, null, null, Map.of());
    }
}
