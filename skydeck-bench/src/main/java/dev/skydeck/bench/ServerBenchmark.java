package dev.skydeck.bench;

import dev.skydeck.DesiredState;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.Group;
import dev.skydeck.Job;
import dev.skydeck.JobStatus;
import dev.skydeck.SkyDeck;
import dev.skydeck.skypilot.SkyPilotStub;
import dev.skydeck.sqlite.SqliteStore;
import dev.skydeck.testing.FakeBackend;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPInputStream;

/**
 * SPEC §15 and issue 15 for the packaged server, driven over loopback exactly as users run it
 * (the {@code ./skydeck serve} launcher, its JVM options and class-data archive; in-process figures
 * do not count): {@code GET /api/groups} and {@code GET /api/experiments} at 1,000 experiments × 10
 * flags × 10 jobs (each request computed afresh, and again with nothing changed: the cached body
 * and the {@code If-None-Match} → 304 path), list bytes per experiment (plain and gzip, compact and
 * {@code ?fields=full}), 16 clients mixing reads, edits, starts and stops (errors, p99, resident
 * memory steady and peak), cold start to the first 200 of {@code /api/health} (first start, which
 * writes the class-data archive, and later ones), and the jar's size.
 *
 * <p>Run (package the server first, {@code ./mvnw -q -DskipTests install}):
 * {@code ./mvnw -q -pl skydeck-bench exec:java -Dbench.main=dev.skydeck.bench.ServerBenchmark
 * [-Dexec.args="lists load load-skypilot cold jar"]}. {@code -Dskydeck.jar=PATH} measures another build (its
 * launcher is {@code ../../skydeck} from the jar); {@code -Dbench.javaOpts="..."} adds JVM options
 * after the launcher's ({@code SKYDECK_JAVA_OPTS}), e.g. to compare compilers;
 * {@code -Dbench.loadSeconds=60}; {@code -Dbench.home=DIR} keeps the servers' homes (and their
 * class-data archives) so that a second run can record with
 * {@code -Dbench.javaOpts=-XX:StartFlightRecording=filename=F.jfr,settings=profile}.
 */
public final class ServerBenchmark {
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private ServerBenchmark() {
    }

    /** Runs the parts named in {@code args} (default all) and prints the results. */
    public static void main(String[] args) throws Exception {
        Set<String> parts = new LinkedHashSet<>(args.length == 0 ? List.of("jar", "lists", "load", "load-skypilot", "cold")
                : Arrays.asList(args));
        Path jar = jar();
        System.out.printf(Locale.ROOT, "SkyDeck packaged-server benchmarks — %d cores, Java %s, %s%s%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), jar,
                javaOpts().isEmpty() ? "" : ", SKYDECK_JAVA_OPTS=" + javaOpts());
        Path dir = Files.createTempDirectory("skydeck-server-bench-");
        if (parts.contains("jar")) {
            System.out.printf(Locale.ROOT, "server jar: %.1f MB (%,d bytes)%n", Files.size(jar) / 1e6, Files.size(jar));
        }
        Path db = dir.resolve("bench.db");
        if (parts.contains("lists") || parts.contains("load") || parts.contains("load-skypilot")) {
            long t0 = System.nanoTime();
            try (SqliteStore store = SqliteStore.open(db)) {
                fill(store, 1_000, 10);
            }
            System.out.printf(Locale.ROOT, "filled 1,000 experiments × 10 flags, 10,000 jobs, 10 groups in %.1f s%n",
                    (System.nanoTime() - t0) / 1e9);
        }
        if (parts.contains("lists")) {
            lists(jar, dir, db);
        }
        if (parts.contains("load")) {
            load(jar, dir, db, Integer.getInteger("bench.loadSeconds", 60), null);
        }
        if (parts.contains("load-skypilot")) {
            try (SkyPilotStub stub = new SkyPilotStub()) {
                load(jar, dir, db, Integer.getInteger("bench.loadSeconds", 60), stub);
            }
        }
        if (parts.contains("cold")) {
            coldStart(jar, dir);
        }
        System.exit(0);
    }

    static Path jar() {
        Path jar = Path.of(System.getProperty("skydeck.jar", "skydeck-server/target/skydeck.jar")).toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            jar = Path.of("../skydeck-server/target/skydeck.jar").toAbsolutePath().normalize();
        }
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("no " + jar + ": package skydeck-server first (./mvnw -q -DskipTests install)");
        }
        return jar;
    }

    /**
     * The server home {@code name} under {@code dir}, or under {@code -Dbench.home=DIR}, which keeps it
     * (and its class-data archive) between runs: a flight recording needs that, since the JVM records
     * nothing while it writes an archive.
     */
    private static Path home(Path dir, String name) throws IOException {
        String kept = System.getProperty("bench.home");
        return kept == null ? dir.resolve(name) : Files.createDirectories(Path.of(kept, name));
    }

    private static String javaOpts() {
        return System.getProperty("bench.javaOpts", "").strip();
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

    /** A server process: the launcher's JVM, or (with re-execution) the child JVM that serves. */
    record Server(Process process, int port, Path home) implements AutoCloseable {
        String base() {
            return "http://127.0.0.1:" + port;
        }

        /** The pid of the JVM that serves: the launcher execs java; a self-bounding parent has one child. */
        long servingPid() {
            return process.descendants().filter(h -> h.info().command().map(c -> c.endsWith("java")).orElse(false))
                    .map(ProcessHandle::pid).findFirst().orElse(process.pid());
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    /** Starts {@code ./skydeck serve} on {@code db} as users run it, and waits for its first 200 of /api/health. */
    static Server serve(Path jar, Path home, Path db) throws IOException, InterruptedException {
        return serve(jar, home, db, "local", Map.of());
    }

    /** {@link #serve(Path, Path, Path)} with {@code --backend backend} and {@code env} added to the server's environment. */
    static Server serve(Path jar, Path home, Path db, String backend, Map<String, String> extraEnv)
            throws IOException, InterruptedException {
        Files.createDirectories(home);
        Path root = jar.toAbsolutePath().getParent().getParent().getParent();
        try (var files = Files.walk(root)) {
            long built = Files.getLastModifiedTime(jar).toMillis();
            // the launcher would rebuild the jar (and the measure would time the build)
            var newer = files.filter(f -> f.toString().contains("/src/main/") && !f.toString().contains("/node_modules/")
                    && f.toFile().lastModified() > built).findFirst();
            if (newer.isPresent()) {
                throw new IllegalStateException(newer.get() + " is newer than " + jar + ": package the server first");
            }
        }
        int port = freePort();
        Path launcher = jar.toAbsolutePath().getParent().getParent().getParent().resolve("skydeck");
        List<String> cmd = new ArrayList<>(List.of(launcher.toString(), "serve",
                "--port", Integer.toString(port), "--backend", backend, "--db-path", db.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(home.resolve("serve-" + port + ".log").toFile());
        Map<String, String> env = pb.environment();
        env.put("SKYDECK_HOME", home.toString());
        env.putAll(extraEnv);
        if (!javaOpts().isEmpty()) {
            env.put("SKYDECK_JAVA_OPTS", javaOpts());
        }
        Process p = pb.start();
        awaitHealth(p, port, home);
        return new Server(p, port, home);
    }

    private static void lists(Path jar, Path dir, Path db) throws Exception {
        try (Server s = serve(jar, home(dir, "lists-home"), db)) {
            String base = s.base();
            long spid = s.servingPid();
            for (String path : List.of("/api/groups", "/api/experiments")) {
                // computed afresh: a presentation change between requests (a star, a write without an
                // event) makes the server build the body again; the first rounds warm the JIT compilers up
                int warm = Integer.getInteger("bench.warmup", 400);
                long[] fresh = new long[200];
                long cpu = 0;
                for (int i = 0; i < warm + fresh.length; i++) {
                    send(base + "/api/experiments/" + (900 + i % 50) + "/starred", "POST",
                            "{\"starred\":" + (i % 2 == 0) + "}");
                    long c = cpuNanos(spid);
                    long t = System.nanoTime();
                    get(base + path, null, false);
                    if (i >= warm) {
                        fresh[i - warm] = System.nanoTime() - t;
                        cpu += cpuNanos(spid) - c;
                    }
                }
                long[] again = new long[500];
                for (int i = 0; i < again.length; i++) {
                    long t = System.nanoTime();
                    get(base + path, null, false);
                    again[i] = System.nanoTime() - t;
                }
                HttpResponse<byte[]> first = get(base + path, null, false);
                String etag = first.headers().firstValue("ETag").orElse(null);
                long[] notModified = new long[500];
                int status = 0;
                for (int i = 0; i < notModified.length && etag != null; i++) {
                    long t = System.nanoTime();
                    status = get(base + path, etag, false).statusCode();
                    notModified[i] = System.nanoTime() - t;
                }
                System.out.printf(Locale.ROOT, "GET %-18s computed: p50 %6.2f ms p99 %6.2f ms (server CPU %.1f ms/request)"
                                + " | nothing changed: p50 %5.2f ms"
                                + " p99 %5.2f ms | If-None-Match: %s   [target p50 ≤ 15 ms, p99 ≤ 40 ms; unchanged ≤ 2 ms]%n",
                        path, p(fresh, 50), p(fresh, 99), cpu / 1e6 / fresh.length, p(again, 50), p(again, 99),
                        etag == null ? "no ETag" : String.format(Locale.ROOT, "%d, p50 %.2f ms p99 %.2f ms", status,
                                p(notModified, 50), p(notModified, 99)));
            }
            for (String path : List.of("/api/experiments", "/api/experiments?fields=full", "/api/groups",
                    "/api/groups?fields=full")) {
                int plain = get(base + path, null, false).body().length;
                HttpResponse<byte[]> gz = get(base + path, null, true);
                boolean gzipped = gz.headers().firstValue("Content-Encoding").orElse("").equals("gzip");
                System.out.printf(Locale.ROOT, "GET %-28s %,9d bytes (%,4d per experiment), gzip %s%n", path, plain,
                        plain / 1_000, gzipped ? String.format(Locale.ROOT, "%,d bytes (%,d per experiment)",
                                gz.body().length, gz.body().length / 1_000) : "not offered");
            }
        }
    }

    /**
     * 16 clients for {@code seconds}: each request is a list (all groups, or a page of 100
     * experiments; 20 %), one experiment or its jobs (35 %), an edit of its description (15 %), or a start or stop of one
     * of 32 experiments (15 %): on the local backend (their jobs run {@code sleep}, each under its
     * own small runner JVM, on the same 2 cores), or with {@code skypilot} given, on the SkyPilot
     * backend against that API-server stub (running in this JVM, so its CPU counts as the clients').
     */
    private static void load(Path jar, Path dir, Path db, int seconds, SkyPilotStub skypilot) throws Exception {
        // each run on its own copy: starts and stops change the database
        Path copy = dir.resolve((skypilot == null ? "load-local" : "load-skypilot") + ".db");
        Files.copy(db, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        String backend = skypilot == null ? "local" : "skypilot";
        Map<String, String> env = skypilot == null ? Map.of()
                : Map.of("SKYPILOT_API_SERVER_ENDPOINT", skypilot.endpoint());
        System.out.printf(Locale.ROOT, "load on the %s backend:%n", backend);
        try (Server s = serve(jar, home(dir, "load-home"), copy, backend, env)) {
            String base = s.base();
            for (int i = 0; i < 32; i++) {
                send(base + "/api/experiments/" + (1 + i), "PATCH", "{\"base_command\":\"sh -c 'sleep 2' job\"}");
            }
            for (int i = 0; i < 100; i++) {
                get(base + (i % 2 == 0 ? "/api/groups" : "/api/experiments"), null, false);
            }
            long pid = s.servingPid();
            long idle = rssKb(pid, "VmRSS");
            int clients = 16;
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            AtomicLong errors = new AtomicLong();
            String[] kinds = {"GET /api/groups", "GET /api/experiments page", "GET /api/experiments/{id}",
                "GET …/{id}/jobs", "PATCH description", "POST …/state"};
            List<ConcurrentLinkedQueue<Long>> byKind = new ArrayList<>();
            for (int k = 0; k < kinds.length; k++) {
                byKind.add(new ConcurrentLinkedQueue<>());
            }
            ConcurrentLinkedQueue<String> firstErrors = new ConcurrentLinkedQueue<>();
            long cpu0 = cpuNanos(pid);
            long clientCpu0 = cpuNanos(ProcessHandle.current().pid());
            long machineCpu0 = machineCpuNanos();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            List<Future<?>> futures = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                futures.add(pool.submit(() -> {
                    ThreadLocalRandom r = ThreadLocalRandom.current();
                    while (System.nanoTime() < end) {
                        int dice = r.nextInt(100);
                        long id = 1 + r.nextInt(1_000);
                        long t = System.nanoTime();
                        int status;
                        int kind = dice < 10 ? 0 : dice < 20 ? 1 : dice < 55 ? 2 : dice < 70 ? 3 : dice < 85 ? 4 : 5;
                        try {
                            status = switch (kind) {
                                case 0 -> get(base + "/api/groups", null, true).statusCode();
                                case 1 -> get(base + "/api/experiments?limit=100&offset=" + r.nextInt(10) * 100,
                                        null, true).statusCode();
                                case 2 -> get(base + "/api/experiments/" + id, null, true).statusCode();
                                case 3 -> get(base + "/api/experiments/" + id + "/jobs?limit=20", null, true).statusCode();
                                case 4 -> send(base + "/api/experiments/" + id, "PATCH",
                                        "{\"description\":\"edited " + r.nextInt() + "\"}");
                                default -> send(base + "/api/experiments/" + (1 + r.nextInt(32)) + "/state", "POST",
                                        "{\"desired_state\":\"" + (dice < 93 ? "RUNNING" : "STOPPED") + "\"}");
                            };
                        } catch (IOException e) {
                            status = -1;
                            if (firstErrors.size() < 5) {
                                firstErrors.add(e.toString());
                            }
                        }
                        byKind.get(kind).add(System.nanoTime() - t);
                        if (status != 200) {
                            errors.incrementAndGet();
                            if (firstErrors.size() < 5) {
                                firstErrors.add("status " + status);
                            }
                        }
                    }
                    return null;
                }));
            }
            List<Long> samples = new ArrayList<>();
            while (System.nanoTime() < end) {
                Thread.sleep(500);
                samples.add(rssKb(pid, "VmRSS"));
            }
            for (Future<?> f : futures) {
                f.get();
            }
            pool.shutdown();
            long serverCpu = cpuNanos(pid) - cpu0;
            long clientCpu = cpuNanos(ProcessHandle.current().pid()) - clientCpu0;
            long machineCpu = machineCpuNanos() - machineCpu0;
            long peak = rssKb(pid, "VmHWM");
            Thread.sleep(10_000);
            long after = rssKb(pid, "VmRSS");
            long[] all = byKind.stream().flatMap(ConcurrentLinkedQueue::stream).mapToLong(Long::longValue).toArray();
            Collections.sort(samples);
            System.out.printf(Locale.ROOT, "load: %d clients × %d s mixed (lists 20 %%, reads 35 %%, edits 15 %%, starts/stops"
                            + " 15 %%): %,d requests (%,.0f/s), %d errors, p50 %.1f ms, p99 %.1f ms   [target 0 errors,"
                            + " p99 ≤ 100 ms]%n", clients, seconds, all.length, all.length / (double) seconds, errors.get(),
                    p(all, 50), p(all, 99));
            System.out.printf(Locale.ROOT, "  CPU used on the machine %.1f s of %d s × %d cores: the server %.1f s (%.2f ms/request),"
                            + " the clients %.1f s, the rest (local jobs and their runners, other processes) %.1f s%n",
                    machineCpu / 1e9, seconds, Runtime.getRuntime().availableProcessors(), serverCpu / 1e9,
                    serverCpu / 1e6 / all.length, clientCpu / 1e9, (machineCpu - serverCpu - clientCpu) / 1e9);
            for (int k = 0; k < kinds.length; k++) {
                long[] some = byKind.get(k).stream().mapToLong(Long::longValue).toArray();
                if (some.length > 0) {
                    System.out.printf(Locale.ROOT, "  %-27s %,7d requests, p50 %6.1f ms, p99 %7.1f ms, max %7.1f ms%n",
                            kinds[k], some.length, p(some, 50), p(some, 99), p(some, 100));
                }
            }
            if (!firstErrors.isEmpty()) {
                System.out.println("  first errors: " + firstErrors);
            }
            System.out.printf(Locale.ROOT, "resident memory of the serving JVM (pid %d): idle %d MB, under load median"
                            + " %d MB, max sampled %d MB, peak (VmHWM) %d MB, 10 s after %d MB   [target ≤ 250 MB steady,"
                            + " ≤ 400 MB peak]%n", pid, idle >> 10, samples.get(samples.size() / 2) >> 10,
                    samples.get(samples.size() - 1) >> 10, peak >> 10, after >> 10);
        }
    }

    private static void coldStart(Path jar, Path dir) throws Exception {
        // a new class-data archive: what the first start after installing or rebuilding does
        Path home = Files.createDirectories(dir.resolve("cold-home"));
        List<Double> millis = new ArrayList<>();
        for (int round = 0; round < 6; round++) {
            long t0 = System.nanoTime();
            try (Server s = serve(jar, home, home.resolve("skydeck.db"))) {
                millis.add((System.nanoTime() - t0) / 1e6);
                if (round == 0) {
                    get(s.base() + "/api/experiments", null, false);
                    get(s.base() + "/api/groups", null, false);
                }
            }
        }
        List<Double> later = new ArrayList<>(millis.subList(1, millis.size()));
        System.out.printf(Locale.ROOT, "cold start to the first 200 of /api/health: first start %.0f ms (writes the"
                        + " class-data archive, creates the database), later starts %s ms (median %.0f)   [target ≤ 1.5 s"
                        + " first, ≤ 0.6 s later]%n", millis.get(0),
                later.stream().map(m -> String.format(Locale.ROOT, "%.0f", m)).toList(),
                later.stream().sorted().toList().get(later.size() / 2));
    }

    private static double p(long[] nanos, int percentile) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, sorted.length * percentile / 100)] / 1e6;
    }

    static HttpResponse<byte[]> get(String url, String ifNoneMatch, boolean gzip) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).GET();
        if (ifNoneMatch != null) {
            b.header("If-None-Match", ifNoneMatch);
        }
        if (gzip) {
            b.header("Accept-Encoding", "gzip");
        }
        HttpResponse<byte[]> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200 && r.statusCode() != 304) {
            throw new IOException(url + " answered " + r.statusCode() + ": " + body(r));
        }
        return r;
    }

    private static String body(HttpResponse<byte[]> r) throws IOException {
        byte[] b = r.body();
        if (r.headers().firstValue("Content-Encoding").orElse("").equals("gzip")) {
            try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(b))) {
                b = in.readAllBytes();
            }
        }
        return new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }

    static int send(String url, String method, String json) throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(URI.create(url)).method(method, HttpRequest.BodyPublishers.ofString(json))
                .header("Content-Type", "application/json").build();
        HttpResponse<byte[]> r = HTTP.send(req, HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
            throw new IOException(method + " " + url + " answered " + r.statusCode() + ": " + body(r));
        }
        return r.statusCode();
    }

    /** Polls {@code /api/health} every 5 ms until the first 200 (what the cold start measures). */
    private static void awaitHealth(Process p, int port, Path home) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                get("http://127.0.0.1:" + port + "/api/health", null, false);
                return;
            } catch (IOException e) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("server exited or did not answer: see " + home);
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

    /** The CPU time (user and system, all threads) the process {@code pid} has used, from /proc/PID/stat. */
    static long cpuNanos(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
        return ticks * 10_000_000L; // USER_HZ = 100
    }

    /** The CPU time (user, nice, system, irq, softirq) all cores have used since boot, from /proc/stat. */
    static long machineCpuNanos() throws IOException {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long ticks = 0;
        for (int i : new int[] {1, 2, 3, 6, 7}) {
            ticks += Long.parseLong(f[i]);
        }
        return ticks * 10_000_000L;
    }

    /** A field of /proc/PID/status in kB ({@code VmRSS} resident now, {@code VmHWM} its peak). */
    static long rssKb(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
