package dev.skydeck.testing;

import dev.skydeck.JobStatus;
import dev.skydeck.spi.BackendJob;
import dev.skydeck.spi.ClusterBackend;
import dev.skydeck.testing.ClusterBackendContract;
import dev.skydeck.spi.LaunchRequest;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The test kit's fake backend keeps the contract too (so tests built on it mean something). */
class FakeBackendContractTest extends ClusterBackendContract {
    private final FakeBackend fake = new FakeBackend(Clock.systemUTC());
    private final Map<String, Behaviour> behaviours = new ConcurrentHashMap<>();

    @Override
    protected ClusterBackend backend() {
        return fake;
    }

    @Override
    protected LaunchRequest request(String name, String launchId, Behaviour behaviour) {
        behaviours.put(launchId, behaviour);
        return new LaunchRequest(name, launchId, 1, List.of("true"), Map.of(), 1, 0, null, null, null, Map.of());
    }

    @Override
    protected void advance() {
        for (BackendJob j : fake.jobs()) {
            Behaviour b = j.launchId() == null ? null : behaviours.get(j.launchId());
            if (b == null || j.observation().status().isTerminal()) {
                continue;
            }
            fake.set(j.backendJobId(), switch (b) {
                case SUCCEED -> JobStatus.SUCCEEDED;
                case FAIL -> JobStatus.FAILED;
                case RUN_UNTIL_CANCELLED -> JobStatus.RUNNING;
            });
        }
    }
}
