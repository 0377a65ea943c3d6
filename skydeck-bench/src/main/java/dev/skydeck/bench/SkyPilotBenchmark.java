package dev.skydeck.bench;

import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.SkyDeck;
import dev.skydeck.skypilot.SkyPilotBackend;
import dev.skydeck.skypilot.SkyPilotStub;
import dev.skydeck.spi.CheckpointSource;
import dev.skydeck.memory.InMemoryStore;
import dev.skydeck.spi.JobPage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The SkyPilot backend against the stateful API-server stub: HTTP calls and wall time of one
 * poll cycle with 1,000 and 10,000 jobs (pages of 500), and the latency from a desired-state
 * change to the {@code /jobs/launch} request reaching the stub.
 *
 * <p>Run: {@code ./mvnw -q -pl skydeck-bench -am -DskipTests package exec:java
 * -Dbench.main=dev.skydeck.bench.SkyPilotBenchmark}
 */
public final class SkyPilotBenchmark {
    private SkyPilotBenchmark() {
    }

    /** Runs the benchmark. */
    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("skypilot-bench");
        for (int jobs : new int[] {1_000, 10_000}) {
            try (SkyPilotStub stub = new SkyPilotStub()) {
                stub.statusPollsBeforeDone(0);
                stub.addJobs(jobs, "RUNNING");
                try (SkyPilotBackend backend = backend(stub, dir)) {
                    for (int round = 0; round < 4; round++) {
                        int before = stub.httpRequests.get();
                        long t0 = System.nanoTime();
                        int listed = 0;
                        String token = null;
                        do {
                            JobPage page = backend.list(token);
                            listed += page.jobs().size();
                            token = page.nextPageToken();
                        } while (token != null);
                        long t1 = System.nanoTime();
                        if (round > 0) { // the first round warms up
                            System.out.printf(Locale.ROOT, "poll cycle, %,d jobs: %d HTTP calls (%d pages × submit +"
                                    + " status + get), %.0f ms, %d jobs listed%n", jobs, stub.httpRequests.get() - before,
                                    (jobs + 499) / 500, (t1 - t0) / 1e6, listed);
                        }
                    }
                }
            }
        }
        try (SkyPilotStub stub = new SkyPilotStub();
             SkyPilotBackend backend = backend(stub, dir);
             SkyDeck deck = SkyDeck.builder().store(new InMemoryStore()).backend(backend)
                     .checkpoints(CheckpointSource.NONE).pollInterval(Duration.ofHours(1))
                     .fastPollInterval(Duration.ofHours(1)).reconcileInterval(Duration.ofHours(1)).build()) {
            stub.statusPollsBeforeDone(0);
            List<Experiment> list = deck.createAll(IntStream.range(0, 300)
                    .mapToObj(i -> ExperimentSpec.named("lat-" + i)).toList());
            long[] micros = new long[list.size()];
            for (int i = 0; i < list.size(); i++) {
                Experiment e = list.get(i);
                long t0 = System.nanoTime();
                deck.start(e);
                while (!stub.launchArrivals.containsKey(e.name())) {
                    Thread.onSpinWait();
                }
                micros[i] = (stub.launchArrivals.get(e.name()) - t0) / 1000;
                while (deck.jobs(e).isEmpty() || deck.jobs(e).get(0).backendJobId() == null) {
                    Thread.onSpinWait();
                }
            }
            long[] measured = Arrays.copyOfRange(micros, 50, micros.length);
            Arrays.sort(measured);
            System.out.printf(Locale.ROOT, "desired-state change → /jobs/launch at the stub (250 sequential): p50 %.2f ms,"
                    + " p99 %.2f ms%n", measured[measured.length / 2] / 1000.0,
                    measured[(int) (measured.length * 0.99) - 1] / 1000.0);
        }
        System.exit(0);
    }

    private static SkyPilotBackend backend(SkyPilotStub stub, Path dir) {
        return SkyPilotBackend.builder().environment(Map.of("SKYPILOT_API_SERVER_ENDPOINT", stub.endpoint()))
                .userHome(dir).workingDirectory(dir).hostname("bench").skydeckHome(dir.resolve("skydeck"))
                .statusPolling(Duration.ofMillis(1), Duration.ofMillis(5)).pageSize(500).build();
    }
}
