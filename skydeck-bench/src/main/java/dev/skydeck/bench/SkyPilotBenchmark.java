package dev.skydeck.bench;

import dev.skydeck.BulkAction;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.SkyDeck;
import dev.skydeck.memory.InMemoryStore;
import dev.skydeck.skypilot.SkyPilotBackend;
import dev.skydeck.skypilot.SkyPilotStub;
import dev.skydeck.spi.CheckpointSource;
import dev.skydeck.spi.ClusterBackend;
import dev.skydeck.spi.JobPage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.stream.IntStream;

/**
 * The SkyPilot backend against the stateful API-server stub:
 * <ul>
 *   <li>HTTP calls and bytes of one poll cycle with 1,000 and 10,000 jobs of which 100 are
 *       unfinished: the routine cycle ({@code listActive}) and the full listing ({@code list});</li>
 *   <li>launch fan-out: 100 experiments started at once against {@code /jobs/launch} requests that
 *       take 3 s each on the server — when the last launch reaches the stub;</li>
 *   <li>stop latency: one of them stopped while its launch request runs — when the stop reaches the
 *       server ({@code /api/cancel} or {@code /jobs/cancel});</li>
 *   <li>the latency from a desired-state change to the {@code /jobs/launch} request reaching the stub.</li>
 * </ul>
 *
 * <p>Run: {@code ./mvnw -q -pl skydeck-bench -am -DskipTests package exec:java
 * -Dbench.main=dev.skydeck.bench.SkyPilotBenchmark} (add {@code -Dexec.args=poll}, {@code fanout} or
 * {@code latency} for one part).
 */
public final class SkyPilotBenchmark {
    private SkyPilotBenchmark() {
    }

    /** Runs the benchmark. */
    public static void main(String[] args) throws Exception {
        List<String> parts = args.length == 0 ? List.of("poll", "fanout", "latency") : Arrays.asList(args);
        Path dir = Files.createTempDirectory("skypilot-bench");
        if (parts.contains("poll")) {
            poll(dir);
        }
        if (parts.contains("fanout")) {
            fanOut(dir);
        }
        if (parts.contains("latency")) {
            latency(dir);
        }
        System.exit(0);
    }

    private static void poll(Path dir) {
        for (int total : new int[] {1_000, 10_000}) {
            try (SkyPilotStub stub = new SkyPilotStub()) {
                stub.addJobs(total - 100, "SUCCEEDED");
                stub.addJobs(100, "RUNNING");
                try (SkyPilotBackend backend = backend(stub, dir)) {
                    measure(stub, total, "routine cycle (listActive)", ClusterBackend::listActive, backend);
                    measure(stub, total, "full listing (list)", ClusterBackend::list, backend);
                }
            }
        }
    }

    private static void measure(SkyPilotStub stub, int total, String what,
                                BiFunction<ClusterBackend, String, JobPage> page, ClusterBackend backend) {
        for (int round = 0; round < 4; round++) {
            int calls = stub.httpRequests.get();
            long bytes = stub.bytes.get();
            long t0 = System.nanoTime();
            int listed = 0;
            String token = null;
            do {
                JobPage p = page.apply(backend, token);
                listed += p.jobs().size();
                token = p.nextPageToken();
            } while (token != null);
            long t1 = System.nanoTime();
            if (round > 0) { // the first round warms up
                System.out.printf(Locale.ROOT, "%,6d jobs (100 unfinished), %-27s %3d HTTP calls, %,11d bytes, %5.0f ms,"
                                + " %,d jobs listed%n", total, what + ":", stub.httpRequests.get() - calls,
                        stub.bytes.get() - bytes, (t1 - t0) / 1e6, listed);
            }
        }
    }

    private static void fanOut(Path dir) throws InterruptedException {
        for (int r = 0; r < 2; r++) {
            int round = r;
            try (SkyPilotStub stub = new SkyPilotStub();
                 SkyPilotBackend backend = backend(stub, dir.resolve("fanout-" + round));
                 SkyDeck deck = SkyDeck.builder().store(new InMemoryStore()).backend(backend)
                         .checkpoints(CheckpointSource.NONE).build()) {
                stub.launchLatency(Duration.ofSeconds(3));
                List<Experiment> list = deck.createAll(IntStream.range(0, 100)
                        .mapToObj(i -> ExperimentSpec.named("fan-" + round + "-" + i)).toList());
                long t0 = System.nanoTime();
                deck.bulk(BulkAction.START, list.stream().map(Experiment::id).toList());
                long deadline = t0 + Duration.ofSeconds(240).toNanos();
                // round 0 stops the first experiment 0.5 s into the fan-out, round 1 the last one once all launched
                Experiment victim = round == 0 ? list.get(0) : list.get(list.size() - 1);
                long s0 = 0;
                if (round == 0) {
                    Thread.sleep(500);
                    s0 = System.nanoTime();
                    deck.stop(victim);
                }
                while (stub.launchArrivals.size() < list.size() && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                long last = stub.launchArrivals.values().stream().mapToLong(Long::longValue).max().orElse(t0);
                System.out.printf(Locale.ROOT, "fan-out: %d of 100 experiments started at once reached /jobs/launch in"
                        + " %.2f s (3 s server-side launch latency)%n", stub.launchArrivals.size(), (last - t0) / 1e9);
                if (round == 1) {
                    s0 = System.nanoTime();
                    deck.stop(victim);
                }
                while (!stub.firstArrival.containsKey("POST /api/cancel")
                        && !stub.firstArrival.containsKey("POST /jobs/cancel") && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                Long cancel = stub.firstArrival.getOrDefault("POST /api/cancel",
                        stub.firstArrival.get("POST /jobs/cancel"));
                String which = stub.firstArrival.containsKey("POST /api/cancel") ? "/api/cancel" : "/jobs/cancel";
                System.out.printf(Locale.ROOT, "stop of one %s: reached %s in %.3f s%n",
                        round == 0 ? "0.5 s into the fan-out (its launch request running)"
                                : "after all launched (its launch request running)",
                        cancel == null ? "nothing" : which, cancel == null ? Double.NaN : (cancel - s0) / 1e9);
            }
        }
    }

    private static void latency(Path dir) {
        try (SkyPilotStub stub = new SkyPilotStub();
             SkyPilotBackend backend = backend(stub, dir);
             SkyDeck deck = SkyDeck.builder().store(new InMemoryStore()).backend(backend)
                     .checkpoints(CheckpointSource.NONE).pollInterval(Duration.ofHours(1))
                     .fastPollInterval(Duration.ofHours(1)).reconcileInterval(Duration.ofHours(1)).build()) {
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
            }
            long[] measured = Arrays.copyOfRange(micros, 50, micros.length);
            Arrays.sort(measured);
            System.out.printf(Locale.ROOT, "desired-state change → /jobs/launch at the stub (250 sequential): p50 %.2f ms,"
                    + " p99 %.2f ms%n", measured[measured.length / 2] / 1000.0,
                    measured[(int) (measured.length * 0.99) - 1] / 1000.0);
        }
    }

    private static SkyPilotBackend backend(SkyPilotStub stub, Path dir) {
        return SkyPilotBackend.builder().environment(Map.of("SKYPILOT_API_SERVER_ENDPOINT", stub.endpoint()))
                .userHome(dir).workingDirectory(dir).hostname("bench").skydeckHome(dir.resolve("skydeck"))
                .statusPolling(Duration.ofMillis(1), Duration.ofMillis(5)).pageSize(500).build();
    }
}
