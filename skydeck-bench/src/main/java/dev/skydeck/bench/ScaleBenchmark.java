package dev.skydeck.bench;

import dev.skydeck.Checkpoint;
import dev.skydeck.DesiredState;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.Group;
import dev.skydeck.Job;
import dev.skydeck.JobStatus;
import dev.skydeck.spi.Store;
import dev.skydeck.sqlite.SqliteStore;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Issue 15's scale target: {@code GET /api/experiments?limit=100} with sort, text search, state
 * and flag filters on a deck of 100,000 experiments × 10 flags and 1,000,000 jobs answers in
 * p50 ≤ 10 ms. Seeds a SQLite file (or an embedded PostgreSQL) through the store directly, then
 * starts the PACKAGED server jar as a separate process with the launcher's JVM options (read from
 * the {@code skydeck} script's {@code serve} case) on it, waits until its engine is idle, and
 * measures p50/p99 of a set of paged queries over loopback, one client with keep-alive.
 *
 * <p>Run (package the server first):
 * <pre>
 * ./mvnw -q -Dskydeck.ui.skip -DskipTests -pl skydeck-server -am package
 * ./mvnw -q -pl skydeck-bench -am -DskipTests package exec:java -Dbench.main=dev.skydeck.bench.ScaleBenchmark
 * </pre>
 * Arguments (all optional): {@code sqlite} (default) or {@code postgres}; {@code seed <file>} only
 * seeds a SQLite file; {@code measure <file>} only measures an already seeded one. System
 * properties: {@code skydeck.jar} (default {@code skydeck-server/target/skydeck.jar}),
 * {@code bench.experiments} (default 100000), {@code bench.jobs} (jobs per experiment, default 10),
 * {@code bench.rounds} (measured requests per query, default 200), {@code bench.skip} (leave out the
 * first queries).
 *
 * <p>The seeding uses only store calls that every schema version has, so the same class seeds a
 * deck for an older jar (to measure before and after).
 */
public final class ScaleBenchmark {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Instant T0 = Instant.parse("2026-06-01T00:00:00Z");
    private static final String[] MODELS = {"llama", "gpt-neo", "mistral", "qwen", "phi"};
    private static final double[] LRS = {0.1, 0.01, 0.001, 1e-4};
    private static final JobStatus[] ENDS = {JobStatus.SUCCEEDED, JobStatus.SUCCEEDED, JobStatus.FAILED,
        JobStatus.CANCELLED, JobStatus.SUCCEEDED};

    /** The queries measured: a label and the path. */
    static final List<String[]> QUERIES = List.of(
            q("first page, user's order", "/api/experiments?limit=100"),
            q("sort=name", "/api/experiments?limit=100&sort=name"),
            q("sort=-created_at", "/api/experiments?limit=100&sort=-created_at"),
            q("sort=state", "/api/experiments?limit=100&sort=state"),
            q("sort=-epoch", "/api/experiments?limit=100&sort=-epoch"),
            q("sort=started_at", "/api/experiments?limit=100&sort=started_at"),
            q("sort=flag:lr", "/api/experiments?limit=100&sort=flag:lr"),
            q("sort=-flag:seed", "/api/experiments?limit=100&sort=-flag:seed"),
            q("q=run-42 (names, descriptions, flags)", "/api/experiments?limit=100&q=run-42"),
            q("q=no-such-text (matches none)", "/api/experiments?limit=100&q=no-such-text"),
            q("state=FAILED", "/api/experiments?limit=100&state=FAILED"),
            q("state=FAILED,CANCELLED&sort=-started_at",
                    "/api/experiments?limit=100&state=FAILED,CANCELLED&sort=-started_at"),
            q("flag.model=llama", "/api/experiments?limit=100&flag.model=llama"),
            q("flag.lr=0.01&flag.optimizer=adam&sort=-flag:seed",
                    "/api/experiments?limit=100&flag.lr=0.01&flag.optimizer=adam&sort=-flag:seed"),
            q("flag.sweep=~ (missing)", "/api/experiments?limit=100&flag.sweep=~"),
            q("q+state+flag+sort combined",
                    "/api/experiments?limit=100&q=shard-1&state=SUCCEEDED&flag.lr=0.1&sort=-epoch"),
            q("group=3", "/api/experiments?limit=100&group=3"),
            q("group=none", "/api/experiments?limit=100&group=none"),
            q("offset=50000", "/api/experiments?limit=100&offset=50000"),
            q("facets", "/api/experiments/facets"),
            q("facets state=FAILED&flag.lr=0.1", "/api/experiments/facets?state=FAILED&flag.lr=0.1"),
            q("groups?members=false", "/api/groups?members=false"));

    private ScaleBenchmark() {
    }

    private static String[] q(String label, String path) {
        return new String[] {label, path};
    }

    /** Seeds and measures; see the class comment for the arguments. */
    public static void main(String[] args) throws Exception {
        int experiments = Integer.getInteger("bench.experiments", 100_000);
        int jobsEach = Integer.getInteger("bench.jobs", 10);
        List<String> a = Arrays.asList(args);
        if (a.contains("seed")) {
            Path db = Path.of(a.get(a.indexOf("seed") + 1)).toAbsolutePath();
            try (Store store = SqliteStore.open(db)) {
                seed(store, experiments, jobsEach);
            }
            return;
        }
        Path jar = jar();
        boolean postgres = a.contains("postgres");
        Path dir = Files.createTempDirectory("skydeck-scale-bench-");
        List<String> dbArgs;
        if (a.contains("measure")) {
            dbArgs = List.of("--db-path", Path.of(a.get(a.indexOf("measure") + 1)).toAbsolutePath().toString());
        } else if (postgres) {
            String url = dev.skydeck.postgres.EmbeddedPg.newDatabase();
            try (Store store = dev.skydeck.postgres.PostgresStore.open(url)) {
                seed(store, experiments, jobsEach);
            }
            dbArgs = List.of("--db-url", url);
        } else {
            Path db = dir.resolve("scale.db");
            try (Store store = SqliteStore.open(db)) {
                seed(store, experiments, jobsEach);
            }
            dbArgs = List.of("--db-path", db.toString());
        }
        measure(jar, dir, dbArgs, postgres ? "PostgreSQL" : "SQLite");
        System.exit(0);
    }

    static Path jar() {
        Path jar = Path.of(System.getProperty("skydeck.jar", "skydeck-server/target/skydeck.jar")).toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            jar = Path.of("../skydeck-server/target/skydeck.jar").toAbsolutePath().normalize();
        }
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("no " + jar + ": package skydeck-server first"
                    + " (./mvnw -q -Dskydeck.ui.skip -DskipTests -pl skydeck-server -am package)");
        }
        return jar;
    }

    /**
     * {@code experiments} experiments of 10 flags (one of them on a quarter only), {@code jobsEach}
     * ended jobs each (the latest SUCCEEDED, FAILED or CANCELLED), a checkpoint on every other
     * one, and 10 groups of 1,000 members; in transactions of 2,000 experiments.
     */
    static void seed(Store store, int experiments, int jobsEach) {
        long t0 = System.nanoTime();
        List<Long> ids = new ArrayList<>(experiments);
        for (int from = 0; from < experiments; from += 2_000) {
            int start = from;
            int end = Math.min(experiments, from + 2_000);
            store.write(tx -> {
                for (int i = start; i < end; i++) {
                    Experiment e = tx.insertExperiment(spec(i), T0.plusSeconds(i));
                    ids.add(e.id());
                    for (int j = 0; j < jobsEach; j++) {
                        String id = "j-" + i + "-" + j;
                        Instant created = T0.plusSeconds(i + j * 60L);
                        JobStatus status = j == jobsEach - 1 ? ENDS[i % ENDS.length] : JobStatus.FAILED;
                        Instant started = j == jobsEach - 1 && i % 9 == 0 ? null : created.plusSeconds(5 + i % 50);
                        tx.insertJob(new Job(id, e.name(), "bench", "bench-" + id, id, null, status, status.name(),
                                null, null, null, created, j + 1, 1, List.of("lt", "run=" + e.name()), e.flags(), 1,
                                e.spec().gpus(), null, "main", null, created, created, started,
                                created.plusSeconds(3600), status == JobStatus.SUCCEEDED ? 0 : 1, 0, null, null,
                                null, null, created));
                    }
                    if (i % 2 == 0) {
                        tx.upsertCheckpoint(new Checkpoint(e.id(), i % 97, "s3://bench/" + e.name() + "/model.pt",
                                List.of(), null, 1, T0, T0, null));
                    }
                }
                return null;
            });
        }
        for (int g = 0; g < 10; g++) {
            List<Long> members = new ArrayList<>();
            for (int i = g; i < ids.size() && members.size() < 1_000; i += 10) {
                members.add(ids.get(i));
            }
            Group group = Group.named("sweep " + g).withExperimentIds(members);
            store.write(tx -> tx.insertGroup(group));
        }
        System.out.printf(Locale.ROOT, "seeded %s: %,d experiments × 10 flags, %,d jobs, 10 groups in %.0f s%n",
                store.describe(), experiments, (long) experiments * jobsEach, (System.nanoTime() - t0) / 1e9);
    }

    private static ExperimentSpec spec(int i) {
        ExperimentSpec s = ExperimentSpec.named("exp-" + i).desired(DesiredState.STOPPED).gpus(i % 4)
                .description("scale benchmark run " + i + " on shard " + (i % 97))
                .flag("lr", LRS[i % LRS.length])
                .flag("model", MODELS[i % MODELS.length])
                .flag("seed", (long) i)
                .flag("layers", (long) (i % 8))
                .flag("optimizer", i % 3 == 0 ? "sgd" : "adam")
                .flag("trainer.batch_size", (long) (32 << (i % 5)))
                .flag("warmup", i % 3 == 0)
                .flag("note", "run-" + (i % 1_000))
                .flag("dropout", (i % 10) / 10.0)
                .flag("data.shard", "shard-" + (i % 97));
        return i % 4 == 0 ? s.flag("sweep", "s" + (i % 12)) : s;
    }

    /** The launcher's JVM options for {@code serve}, read from the {@code skydeck} script beside the build. */
    static List<String> launcherOptions(Path jar) throws IOException {
        Path script = jar.toAbsolutePath().getParent().getParent().getParent().resolve("skydeck");
        String text = Files.readString(script);
        int at = text.indexOf("serve|demo)");
        int end = text.indexOf(";;", at);
        if (at < 0 || end < 0) {
            throw new IllegalStateException("cannot find the serve options in " + script);
        }
        List<String> out = new ArrayList<>();
        for (String line : text.substring(at, end).split("\n")) {
            if (line.strip().startsWith("#")) {
                continue;
            }
            for (String token : line.replace("opts=(", " ").replace(")", " ").split("\\s+")) {
                if (token.startsWith("-X")) {
                    out.add(token);
                }
            }
        }
        return out;
    }

    /** The packaged server, started by {@link #serve}: its process and its address. */
    record Served(Process process, String base, List<String> options) {
        /** Ends the server and waits for it. */
        void stop() throws InterruptedException {
            process.destroy();
            process.waitFor();
        }
    }

    /**
     * Starts {@code jar} as the launcher runs {@code serve} (its JVM options, the local backend,
     * {@code dbArgs}), home under {@code dir}, on a free loopback port; returns once it answers
     * {@code /api/health} and its engine is idle.
     */
    static Served serve(Path jar, Path dir, List<String> dbArgs) throws Exception {
        Path home = Files.createDirectories(dir.resolve("home"));
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> options = launcherOptions(jar);
        cmd.addAll(options);
        cmd.addAll(List.of("-jar", jar.toString(), "serve", "--port", Integer.toString(port), "--backend", "local"));
        cmd.addAll(dbArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(home.resolve("serve.log").toFile());
        pb.environment().put("SKYDECK_HOME", home.toString());
        Process p = pb.start();
        String base = "http://127.0.0.1:" + port;
        try {
            awaitHealth(p, base, home);
            awaitIdle(p.pid());
        } catch (Exception | Error e) {
            p.destroyForcibly();
            throw e;
        }
        return new Served(p, base, options);
    }

    private static void measure(Path jar, Path dir, List<String> dbArgs, String kind) throws Exception {
        int rounds = Integer.getInteger("bench.rounds", 200);
        Served served = serve(jar, dir, dbArgs);
        try {
            String base = served.base();
            System.out.printf(Locale.ROOT, "packaged server %s (%s) on %s, JVM options %s, %d cores%n",
                    jar.getFileName(), Files.size(jar) / 1024 + " KiB", kind, served.options(),
                    Runtime.getRuntime().availableProcessors());
            // each measured request is built afresh: a star toggled before it (a write without an event)
            // makes the server's list cache stale, as any change of the deck does; "cached" repeats it unchanged
            System.out.printf(Locale.ROOT, "%-52s %6s %9s %9s %10s %10s %8s%n", "query (limit=100 unless a summary)",
                    "status", "p50 ms", "p99 ms", "cached p50", "bytes", "total");
            // -Dbench.skip=N: only the queries after the first N (to finish a run cut short)
            for (String[] query : QUERIES.subList(Integer.getInteger("bench.skip", 0), QUERIES.size())) {
                String url = base + query[1];
                HttpResponse<byte[]> r = null;
                for (int i = 0; i < Math.max(20, rounds / 4); i++) {
                    touch(base, i);
                    r = get(url); // warm-up
                }
                if (r.statusCode() != 200) {
                    System.out.printf(Locale.ROOT, "%-52s %6d %9s %9s %10s %10d %8s%n", query[0], r.statusCode(), "-",
                            "-", "-", r.body().length, "-");
                    continue;
                }
                long[] nanos = new long[rounds];
                for (int i = 0; i < rounds; i++) {
                    touch(base, i);
                    long s = System.nanoTime();
                    r = get(url);
                    nanos[i] = System.nanoTime() - s;
                }
                long[] cached = new long[rounds];
                for (int i = 0; i < rounds; i++) {
                    long s = System.nanoTime();
                    get(url);
                    cached[i] = System.nanoTime() - s;
                }
                Arrays.sort(nanos);
                Arrays.sort(cached);
                String total = r.headers().firstValue("X-Total-Count").orElse("-");
                System.out.printf(Locale.ROOT, "%-52s %6d %9.2f %9.2f %10.2f %10d %8s%n", query[0], r.statusCode(),
                        nanos[rounds / 2] / 1e6, nanos[(int) (rounds * 0.99)] / 1e6, cached[rounds / 2] / 1e6,
                        r.body().length, total);
            }
            long pid = served.process().pid();
            System.out.printf(Locale.ROOT, "resident memory of the serving JVM after the queries: %d MB, peak (VmHWM) %d MB"
                            + "   [target ≤ 250 MB steady, ≤ 400 MB peak]%n", ServerBenchmark.rssKb(pid, "VmRSS") >> 10,
                    ServerBenchmark.rssKb(pid, "VmHWM") >> 10);
        } finally {
            served.stop();
        }
    }

    /** Toggles the star of experiment 1: a write that leaves every cached list body stale. */
    private static void touch(String base, int i) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/api/experiments/1/starred"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"starred\":" + (i % 2 == 0) + "}")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("starring experiment 1 answered " + r.statusCode() + ": "
                    + new String(r.body(), java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    private static HttpResponse<byte[]> get(String url) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static void awaitHealth(Process p, String base, Path home) throws Exception {
        long deadline = System.nanoTime() + 300_000_000_000L;
        while (System.nanoTime() < deadline) {
            try {
                if (get(base + "/api/health").statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (!p.isAlive()) {
                throw new IllegalStateException("the server exited: see " + home.resolve("serve.log"));
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("the server did not answer in 5 minutes: see " + home.resolve("serve.log"));
    }

    /** Waits until the server uses under 5% of a core for 3 s in a row (its engine's first passes done), at most 3 min. */
    private static void awaitIdle(long pid) throws Exception {
        long deadline = System.nanoTime() + 180_000_000_000L;
        int quiet = 0;
        long last = cpuTicks(pid);
        while (quiet < 3 && System.nanoTime() < deadline) {
            Thread.sleep(1_000);
            long now = cpuTicks(pid);
            quiet = now - last <= 5 ? quiet + 1 : 0; // 100 ticks per second
            last = now;
        }
    }

    private static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }
}
