package dev.skydeck.bench;

import dev.skydeck.DesiredState;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.Group;
import dev.skydeck.Job;
import dev.skydeck.JobStatus;
import dev.skydeck.SkyDeck;
import dev.skydeck.server.SkyDeckServer;
import dev.skydeck.sqlite.SqliteStore;
import dev.skydeck.testing.FakeBackend;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * SPEC §15 for the server: latency of {@code GET /api/groups}, {@code GET /api/experiments} and
 * {@code GET /api/experiments/{id}} with 1,000 experiments (10 flags, 10 jobs each) and the SQL
 * statements each request costs; requests per second under a loopback load; cold start of the
 * packaged server to its first 200 from {@code /api/health}; resident memory of the packaged
 * server with 10,000 experiments and 100,000 jobs.
 *
 * <p>Run: {@code ./mvnw -q -pl skydeck-bench -am -DskipTests package exec:java
 * -Dbench.main=dev.skydeck.bench.ServerBenchmark} (the cold-start and memory parts need
 * {@code skydeck-server/target/skydeck.jar}: package the server first).
 */
public final class ServerBenchmark {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private ServerBenchmark() {
    }

    /** Runs every part and prints the results. */
    public static void main(String[] args) throws Exception {
        System.out.printf(Locale.ROOT, "SkyDeck server benchmarks — %d cores, Java %s%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
        Path dir = Files.createTempDirectory("skydeck-server-bench-");
        boolean postgres = args.length > 0 && (args[0].equals("postgres") || args[0].equals("packaged-sqlite"));
        if (!postgres) {
            latencies(dir.resolve("latency.db"));
        }
        Path jar = Path.of(System.getProperty("skydeck.jar", "skydeck-server/target/skydeck.jar")).toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            jar = Path.of("../skydeck-server/target/skydeck.jar").toAbsolutePath().normalize();
        }
        if (!Files.isRegularFile(jar)) {
            System.out.println("no " + jar + ": skipping cold start and memory (package skydeck-server first)");
            return;
        }
        if (postgres) {
            packagedLatencies(jar, dir, args[0].equals("postgres"));
            System.exit(0);
        }
        coldStart(jar, dir);
        memory(jar, dir, 10_000, 10);
    }

    /** Fills a database with {@code experiments} experiments of 10 flags and {@code jobsEach} ended jobs each, in 10 groups. */
    static void fill(dev.skydeck.spi.Store store, int experiments, int jobsEach) {
        try (SkyDeck deck = SkyDeck.builder().store(store).backend(new FakeBackend(Clock.systemUTC()))
                .autoStart(false).build()) {
            List<ExperimentSpec> specs = new ArrayList<>();
            for (int i = 0; i < experiments; i++) {
                ExperimentSpec s = ExperimentSpec.named("exp-" + i).desired(DesiredState.STOPPED).gpus(i % 4)
                        .description("benchmark experiment " + i);
                for (int f = 0; f < 10; f++) {
                    s = s.flag("trainer.group" + (f % 3) + ".flag" + f, f % 2 == 0 ? (Object) (long) (i * f) : "v" + f);
                }
                specs.add(s);
            }
            List<Experiment> created = new ArrayList<>();
            for (int i = 0; i < specs.size(); i += 5_000) {
                created.addAll(deck.createAll(specs.subList(i, Math.min(specs.size(), i + 5_000))));
            }
            Instant t = Instant.parse("2026-11-01T00:00:00Z");
            for (int from = 0; from < created.size(); from += 1_000) {
                List<Experiment> slice = created.subList(from, Math.min(created.size(), from + 1_000));
                store.write(tx -> {
                    for (Experiment e : slice) {
                        for (int j = 0; j < jobsEach; j++) {
                            String id = "j-" + e.id() + "-" + j;
                            tx.insertJob(new Job(id, e.name(), "fake", "fake-" + id, id, null, JobStatus.SUCCEEDED,
                                    "SUCCEEDED", null, null, null, t, j + 1, j + 1,
                                    List.of("lt", "run=" + e.name(), "epochs=10"), e.flags(), 1, e.spec().gpus(), null,
                                    "main", null, t, t, t.plusSeconds(60), t.plusSeconds(3600), 0, 0, null, null, null, null, t));
                        }
                    }
                    return null;
                });
            }
            for (int g = 0; g < 10; g++) {
                List<Long> members = new ArrayList<>();
                for (int i = g; i < created.size(); i += 10) {
                    if (members.size() < 100) {
                        members.add(created.get(i).id());
                    }
                }
                deck.createGroup(Group.named("group " + g).withExperimentIds(members));
            }
        }
    }

    private static void latencies(Path db) throws Exception {
        try (SqliteStore store = SqliteStore.open(db)) {
            long t0 = System.nanoTime();
            fill(store, 1_000, 10);
            System.out.printf(Locale.ROOT, "filled 1,000 experiments × 10 flags, 10,000 jobs in %.1f s%n",
                    (System.nanoTime() - t0) / 1e9);
            try (SkyDeck deck = SkyDeck.builder().store(store).backend(new FakeBackend(Clock.systemUTC()))
                    .autoStart(false).build();
                 SkyDeckServer server = SkyDeckServer.builder(deck).port(0).build().start()) {
                String base = server.url();
                for (String path : List.of("/api/groups", "/api/experiments", "/api/experiments/500",
                        "/api/experiments/exp-500/status", "/api/jobs?limit=100")) {
                    for (int i = 0; i < 300; i++) {
                        get(base + path); // warm-up
                    }
                    long[] nanos = new long[1_000];
                    long statementsBefore = store.statementCount();
                    long bytes = 0;
                    for (int i = 0; i < nanos.length; i++) {
                        long s = System.nanoTime();
                        bytes = get(base + path).length;
                        nanos[i] = System.nanoTime() - s;
                    }
                    double statements = (store.statementCount() - statementsBefore) / (double) nanos.length;
                    java.util.Arrays.sort(nanos);
                    System.out.printf(Locale.ROOT, "GET %-32s p50 %6.2f ms  p99 %6.2f ms  %5.1f SQL statements/request"
                                    + "  %,d bytes   [target p50 ≤ 20 ms]%n", path, nanos[500] / 1e6, nanos[990] / 1e6,
                            statements, bytes);
                }
                load(base, "/api/experiments/500", 4, 10);
                load(base, "/api/experiments?limit=50", 4, 10);
                load(base, "/api/groups", 4, 10);
            }
        }
    }

    /**
     * The packaged server on PostgreSQL (an embedded server on this machine) or SQLite, over loopback:
     * the same requests as {@link #latencies}, through the launcher as users run it.
     */
    private static void packagedLatencies(Path jar, Path dir, boolean postgres) throws Exception {
        String url = postgres ? dev.skydeck.postgres.EmbeddedPg.newDatabase()
                : "jdbc:sqlite:" + dir.resolve("packaged.db").toAbsolutePath();
        try (dev.skydeck.spi.Store store = postgres ? dev.skydeck.postgres.PostgresStore.open(url)
                : SqliteStore.open(dir.resolve("packaged.db"))) {
            long t0 = System.nanoTime();
            fill(store, 1_000, 10);
            System.out.printf(Locale.ROOT, "filled 1,000 experiments × 10 flags, 10,000 jobs on %s in %.1f s%n",
                    postgres ? "PostgreSQL" : "SQLite", (System.nanoTime() - t0) / 1e9);
        }
        Path home = Files.createDirectories(dir.resolve("pg-home"));
        int port = freePort();
        Path launcher = jar.toAbsolutePath().getParent().getParent().getParent().resolve("skydeck");
        ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "serve", "--port", Integer.toString(port),
                "--backend", "local", "--db-url", url).redirectErrorStream(true)
                .redirectOutput(home.resolve("serve.log").toFile());
        pb.environment().put("SKYDECK_HOME", home.toString());
        long started = System.nanoTime();
        Process p = pb.start();
        try {
            awaitHealth(p, port, home);
            System.out.printf(Locale.ROOT, "packaged server on %s: first 200 from /api/health %.0f ms after"
                    + " launch%n", postgres ? "PostgreSQL" : "SQLite", (System.nanoTime() - started) / 1e6);
            String base = "http://127.0.0.1:" + port;
            for (String path : List.of("/api/experiments", "/api/groups", "/api/experiments/500",
                    "/api/jobs?limit=100")) {
                for (int i = 0; i < 200; i++) {
                    get(base + path); // warm-up
                }
                long[] nanos = new long[500];
                long bytes = 0;
                for (int i = 0; i < nanos.length; i++) {
                    long s = System.nanoTime();
                    bytes = get(base + path).length;
                    nanos[i] = System.nanoTime() - s;
                }
                java.util.Arrays.sort(nanos);
                System.out.printf(Locale.ROOT, "%s GET %-24s p50 %6.2f ms  p99 %6.2f ms  %,d bytes"
                        + "   [target p50 ≤ 20 ms]%n", postgres ? "PostgreSQL" : "SQLite", path, nanos[250] / 1e6,
                        nanos[495] / 1e6, bytes);
            }
        } finally {
            p.destroy();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static void load(String base, String path, int clients, int seconds) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        AtomicLong count = new AtomicLong();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        List<Future<?>> futures = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            futures.add(pool.submit(() -> {
                while (System.nanoTime() < end) {
                    get(base + path);
                    count.incrementAndGet();
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get();
        }
        pool.shutdown();
        System.out.printf(Locale.ROOT, "load: GET %-28s %d clients for %d s: %,.0f requests/s (client and server share"
                + " the 2 cores)%n", path, clients, seconds, count.get() / (double) seconds);
    }

    static byte[] get(String url) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
            throw new IllegalStateException(url + " answered " + r.statusCode());
        }
        return r.body();
    }

    private static Process serve(Path jar, Path home, Path db, int port) throws IOException {
        // exactly as users run it: the ./skydeck launcher (its JVM options and class-data archive)
        Path launcher = jar.toAbsolutePath().getParent().getParent().getParent().resolve("skydeck");
        List<String> cmd = new ArrayList<>(List.of(launcher.toString(), "serve",
                "--port", Integer.toString(port), "--backend", "local", "--db-path", db.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(home.resolve("serve-" + port + ".log").toFile());
        Map<String, String> env = pb.environment();
        env.put("SKYDECK_HOME", home.toString());
        return pb.start();
    }

    /** Polls {@code /api/health} every 5 ms until the first 200 (what the cold start measures). */
    private static void awaitHealth(Process p, int port, Path home) throws InterruptedException {
        while (true) {
            try {
                get("http://127.0.0.1:" + port + "/api/health");
                return;
            } catch (IOException e) {
                if (!p.isAlive()) {
                    throw new IllegalStateException("server exited: see " + home);
                }
                Thread.sleep(5);
            }
        }
    }

    private static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void coldStart(Path jar, Path dir) throws Exception {
        List<Double> millis = new ArrayList<>();
        for (int round = 0; round < 6; round++) { // round 0 writes the class-data archive, as a first start does
            Path home = Files.createDirectories(dir.resolve("cold-" + round));
            int port = freePort();
            long t0 = System.nanoTime();
            Process p = serve(jar, home, home.resolve("skydeck.db"), port);
            awaitHealth(p, port, home);
            millis.add((System.nanoTime() - t0) / 1e6);
            if (round == 0) {
                get("http://127.0.0.1:" + port + "/api/experiments");
                get("http://127.0.0.1:" + port + "/api/groups");
            }
            p.destroy();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        System.out.printf(Locale.ROOT, "cold start of the packaged server to the first 200 from /api/health (new"
                + " database each time): first start %.0f ms (writes the class-data archive), then %s ms   [target ≤ 1 s]%n",
                millis.get(0), millis.subList(1, millis.size()).stream().map(m -> String.format(Locale.ROOT, "%.0f", m)).toList());
        // an existing database: what `skydeck start` usually opens
        Path home = Files.createDirectories(dir.resolve("cold-existing"));
        List<Double> existing = new ArrayList<>();
        for (int round = 0; round < 4; round++) {
            int port = freePort();
            long t0 = System.nanoTime();
            Process p = serve(jar, home, home.resolve("skydeck.db"), port);
            awaitHealth(p, port, home);
            existing.add((System.nanoTime() - t0) / 1e6);
            p.destroy();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        System.out.printf(Locale.ROOT, "cold start on an existing database: %s ms%n", existing.subList(1, existing.size())
                .stream().map(m -> String.format(Locale.ROOT, "%.0f", m)).toList());
    }

    private static void memory(Path jar, Path dir, int experiments, int jobsEach) throws Exception {
        Path db = dir.resolve("memory.db");
        long t0 = System.nanoTime();
        try (SqliteStore store = SqliteStore.open(db)) {
            fill(store, experiments, jobsEach);
        }
        System.out.printf(Locale.ROOT, "filled %,d experiments and %,d jobs in %.1f s (%,d MB on disk)%n", experiments,
                experiments * jobsEach, (System.nanoTime() - t0) / 1e9, Files.size(db) >> 20);
        Path home = Files.createDirectories(dir.resolve("memory-home"));
        int port = freePort();
        Process p = serve(jar, home, db, port);
        String base = "http://127.0.0.1:" + port;
        try {
            awaitHealth(p, port, home);
            Map<String, Long> rss = new LinkedHashMap<>();
            rss.put("idle after start", rssKb(p.pid()));
            for (int i = 0; i < 20; i++) {
                get(base + "/api/experiments?limit=10000");
                get(base + "/api/groups");
                get(base + "/api/jobs?limit=1000");
            }
            rss.put("after 20 × (all experiments, groups, 1,000 jobs)", rssKb(p.pid()));
            Thread.sleep(5_000);
            rss.put("5 s later", rssKb(p.pid()));
            rss.forEach((k, v) -> System.out.printf(Locale.ROOT, "resident memory with %,d experiments and %,d jobs, %s:"
                    + " %d MB   [target ≤ 160 MB]%n", experiments, experiments * jobsEach, k, v >> 10));
        } finally {
            p.destroy();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static long rssKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
