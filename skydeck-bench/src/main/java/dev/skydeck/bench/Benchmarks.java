package dev.skydeck.bench;

import dev.skydeck.BulkAction;
import dev.skydeck.DesiredState;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.JobStatus;
import dev.skydeck.SkyDeck;
import dev.skydeck.spi.BackendJob;
import dev.skydeck.memory.InMemoryStore;
import dev.skydeck.spi.LaunchRequest;
import dev.skydeck.spi.Store;
import dev.skydeck.sqlite.SqliteStore;
import dev.skydeck.testing.FakeBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.IntStream;

/**
 * The SPEC §15 targets this module can reach, against both stores, with a fake backend:
 * reconcile latency, 1,000 experiments set RUNNING at once, a poll of 10,000 jobs with 1 %
 * changed, and a bulk create of 10,000 experiments. A plain harness (wall-clock, several rounds,
 * warm-up first) rather than JMH: each measurement is a whole-system path across threads.
 *
 * <p>Run: {@code ./mvnw -q -pl skydeck-bench -am -DskipTests package exec:java}
 * (add {@code -Dexec.args=memory}, {@code sqlite} or {@code postgres} for one store).
 */
public final class Benchmarks {
    private Benchmarks() {
    }

    /** Runs every benchmark and prints a table. */
    public static void main(String[] args) throws Exception {
        List<String> stores = args.length == 0 ? List.of("memory", "sqlite") : Arrays.asList(args);
        System.out.printf(Locale.ROOT, "SkyDeck benchmarks — %d cores, Java %s, max heap %d MB%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
                Runtime.getRuntime().maxMemory() >> 20);
        for (String kind : stores) {
            Path dir = Files.createTempDirectory("skydeck-bench-");
            Supplier<Store> stores2 = switch (kind) {
                case "sqlite" -> () -> SqliteStore.open(dir.resolve("bench-" + System.nanoTime() + ".db"));
                // a real PostgreSQL server on this machine (the tests' embedded one), a new database each time
                case "postgres" -> () -> dev.skydeck.postgres.PostgresStore.open(
                        dev.skydeck.postgres.EmbeddedPg.newDatabase());
                default -> InMemoryStore::new;
            };
            System.out.println();
            System.out.println("== store: " + kind);
            reconcileLatency(stores2);
            thousandAtOnce(stores2);
            bulkCreate(stores2);
            poll(stores2);
        }
        System.exit(0);
    }

    /** A fake backend that records when each launch arrived. */
    private static final class TimedBackend {
        final FakeBackend fake = new FakeBackend(Clock.systemUTC());
        final Map<String, Long> arrived = new ConcurrentHashMap<>();
        volatile CountDownLatch latch = new CountDownLatch(0);

        TimedBackend() {
            fake.afterAccept(this::arrived);
        }

        private void arrived(LaunchRequest r) {
            arrived.put(r.experimentName(), System.nanoTime());
            latch.countDown();
        }
    }

    private static SkyDeck deck(Store store, TimedBackend backend) {
        return SkyDeck.builder().store(store).backend(backend.fake)
                .pollInterval(Duration.ofHours(1)).fastPollInterval(Duration.ofHours(1))
                .reconcileInterval(Duration.ofHours(1)).syncInterval(Duration.ofHours(1)).build();
    }

    private static void reconcileLatency(Supplier<Store> stores) throws InterruptedException {
        try (Store store = stores.get()) {
            TimedBackend backend = new TimedBackend();
            try (SkyDeck deck = deck(store, backend)) {
                List<Experiment> list = deck.createAll(IntStream.range(0, 1200)
                        .mapToObj(i -> ExperimentSpec.named("lat-" + i)).toList());
                long[] micros = new long[list.size()];
                for (int i = 0; i < list.size(); i++) {
                    Experiment e = list.get(i);
                    backend.latch = new CountDownLatch(1);
                    long t0 = System.nanoTime();
                    deck.start(e);
                    if (!backend.latch.await(10, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("launch of " + e.name() + " never reached the backend");
                    }
                    micros[i] = (backend.arrived.get(e.name()) - t0) / 1000;
                }
                long[] measured = Arrays.copyOfRange(micros, 200, micros.length); // first 200 warm up
                Arrays.sort(measured);
                System.out.printf(Locale.ROOT, "desired-state change → backend launch call (1,000 sequential): "
                        + "p50 %.2f ms, p99 %.2f ms, max %.2f ms   [target p99 ≤ 50 ms]%n",
                        pct(measured, 50) / 1000.0, pct(measured, 99) / 1000.0,
                        measured[measured.length - 1] / 1000.0);
            }
        }
    }

    private static void thousandAtOnce(Supplier<Store> stores) throws InterruptedException {
        for (int round = 0; round < 3; round++) {
            try (Store store = stores.get()) {
                TimedBackend backend = new TimedBackend();
                try (SkyDeck deck = deck(store, backend)) {
                    List<Experiment> list = deck.createAll(IntStream.range(0, 1000)
                            .mapToObj(i -> ExperimentSpec.named("burst-" + i)).toList());
                    backend.latch = new CountDownLatch(1000);
                    long t0 = System.nanoTime();
                    deck.bulk(BulkAction.START, list.stream().map(Experiment::id).toList());
                    long setAll = System.nanoTime();
                    if (!backend.latch.await(60, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("only " + (1000 - backend.latch.getCount()) + " launches arrived");
                    }
                    long last = backend.arrived.values().stream().mapToLong(Long::longValue).max().orElseThrow();
                    System.out.printf(Locale.ROOT, "1,000 experiments set RUNNING at once (round %d): all launches at "
                            + "the backend after %.0f ms (the bulk call itself %.0f ms)   [target ≤ 2,000 ms]%n",
                            round + 1, (last - t0) / 1e6, (setAll - t0) / 1e6);
                }
            }
        }
    }

    private static void bulkCreate(Supplier<Store> stores) {
        for (int round = 0; round < 3; round++) {
            try (Store store = stores.get()) {
                TimedBackend backend = new TimedBackend();
                try (SkyDeck deck = deck(store, backend)) {
                    List<ExperimentSpec> specs = IntStream.range(0, 10_000).mapToObj(i -> {
                        ExperimentSpec s = ExperimentSpec.named("bulk-" + i);
                        for (int f = 0; f < 10; f++) {
                            s = s.flag("group" + (f % 3) + ".flag" + f, f % 2 == 0 ? (Object) (long) i : (Object) (i * 0.5));
                        }
                        return s;
                    }).toList();
                    long t0 = System.nanoTime();
                    deck.createAll(specs);
                    long t1 = System.nanoTime();
                    System.out.printf(Locale.ROOT, "bulk create of 10,000 experiments (10 flags each), round %d: "
                            + "%.0f ms   [target ≤ 1,000 ms]%n", round + 1, (t1 - t0) / 1e6);
                }
            }
        }
    }

    private static void poll(Supplier<Store> stores) throws InterruptedException {
        try (Store store = stores.get()) {
            TimedBackend backend = new TimedBackend();
            backend.fake.pageSize(1000);
            try (SkyDeck deck = deck(store, backend)) {
                backend.latch = new CountDownLatch(10_000);
                deck.createAll(IntStream.range(0, 10_000).mapToObj(i -> ExperimentSpec.named("poll-" + i)
                        .desired(DesiredState.RUNNING)).toList());
                if (!backend.latch.await(120, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("launches did not all arrive");
                }
                deck.poll(); // settles the poller's view
                List<BackendJob> jobs = backend.fake.jobs();
                List<Double> millis = new ArrayList<>();
                for (int round = 0; round < 8; round++) {
                    for (int i = 0; i < 100; i++) {
                        BackendJob j = jobs.get((round * 100 + i * 97) % jobs.size());
                        backend.fake.set(j.backendJobId(), round % 2 == 0 ? JobStatus.RUNNING : JobStatus.STARTING);
                    }
                    long statements = store instanceof dev.skydeck.jdbc.JdbcStore s ? s.statementCount() : -1;
                    int listCalls = backend.fake.listCalls();
                    long t0 = System.nanoTime();
                    deck.poll();
                    long t1 = System.nanoTime();
                    millis.add((t1 - t0) / 1e6);
                    if (round == 7) {
                        System.out.printf(Locale.ROOT, "poll of 10,000 jobs, 1%% changed: last round %d list calls"
                                + " (1,000 per page)%s%n", backend.fake.listCalls() - listCalls,
                                statements < 0 ? "" : ", " + (((dev.skydeck.jdbc.JdbcStore) store).statementCount() - statements)
                                        + " SQL statements (the poll's own and those of the reconcile passes it wakes)");
                    }
                }
                List<Double> measured = millis.subList(2, millis.size());
                System.out.printf(Locale.ROOT, "poll of 10,000 jobs, 1%% changed: median %.1f ms, max %.1f ms over %d"
                        + " rounds   [target ≤ 50 ms]%n", measured.stream().sorted().toList().get(measured.size() / 2),
                        measured.stream().mapToDouble(Double::doubleValue).max().orElseThrow(), measured.size());
            }
        }
    }

    private static long pct(long[] sorted, int p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }
}
