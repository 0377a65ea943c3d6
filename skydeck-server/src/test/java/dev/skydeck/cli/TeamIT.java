package dev.skydeck.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.skydeck.postgres.EmbeddedPg;
import dev.skydeck.server.internal.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several {@code skydeck.jar} server processes on one PostgreSQL database (a real server the
 * build brings): one engine at a time, failover after {@code kill -9}, events across processes,
 * users, and {@code skydeck migrate} from SQLite.
 */
class TeamIT {
    static final Path JAR = Path.of(System.getProperty("skydeck.jar", "target/skydeck.jar"));

    @TempDir
    Path home;
    final List<Process> processes = new CopyOnWriteArrayList<>();
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stopAll() throws Exception {
        for (Process p : processes) {
            p.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        LeftoverProcesses.killUnder(home); // the local jobs' runners outlive their servers on purpose
    }

    /** One server process. */
    final class Server {
        final Process process;
        final int port;
        final String url;
        final Path log;

        Server(Process process, int port, Path log) {
            this.process = process;
            this.port = port;
            this.url = "http://127.0.0.1:" + port;
            this.log = log;
        }

        JsonNode get(String path, String token) throws Exception {
            HttpResponse<String> r = send("GET", path, null, token);
            assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
            return Json.MAPPER.readTree(r.body());
        }

        JsonNode post(String path, Object body, String token) throws Exception {
            HttpResponse<String> r = send("POST", path, body, token);
            assertThat(r.statusCode()).as(path + ": " + r.body()).isBetween(200, 201);
            return Json.MAPPER.readTree(r.body());
        }

        HttpResponse<String> send(String method, String path, Object body, String token) throws Exception {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(60));
            if (token != null) {
                b.header("Authorization", "Bearer " + token);
            }
            if (body != null) {
                b.header("Content-Type", "application/json");
                b.method(method, HttpRequest.BodyPublishers.ofString(Json.string(body)));
            } else {
                b.method(method, HttpRequest.BodyPublishers.noBody());
            }
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        }

        String role() {
            try {
                return get("/api/health", token).path("engine").path("role").asText();
            } catch (Exception | AssertionError e) {
                return "down";
            }
        }

        String logText() throws IOException {
            return Files.exists(log) ? Files.readString(log) : "";
        }
    }

    String token;

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    Map<String, String> env() {
        Map<String, String> env = new HashMap<>();
        env.put("SKYDECK_HOME", home.toString());
        env.put("SKYDECK_BACKEND", "local");
        env.put("SKYDECK_POLL_INTERVAL", "1");
        env.put("SKYDECK_RECONCILE_INTERVAL", "2");
        return env;
    }

    ProcessBuilder builder(Map<String, String> extraEnv, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // -Xmx: the JVM that kill -9 and kill -STOP reach serves (without it `serve` runs in a child JVM)
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m", "-jar", JAR.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("SKYDECK_") || k.startsWith("SKYPILOT_") || k.startsWith("PG"));
        env.putAll(env());
        env.putAll(extraEnv);
        return pb;
    }

    Server serve(String dbUrl, String name) throws Exception {
        int port = freePort();
        Path log = home.resolve(name + ".out");
        List<String> args = new ArrayList<>(List.of("serve", "--port", Integer.toString(port)));
        if (dbUrl != null) {
            args.addAll(List.of("--db-url", dbUrl));
        }
        Process p = builder(Map.of(), args.toArray(String[]::new)).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        processes.add(p);
        Server s = new Server(p, port, log);
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            assertThat(p.isAlive()).as("server " + name + " died: " + s.logText()).isTrue();
            return !s.role().equals("down");
        });
        return s;
    }

    record Result(int exit, String out, String err) {
    }

    Result cli(String... args) throws Exception {
        Process p = builder(Map.of(), args).start();
        p.getOutputStream().close();
        Future<byte[]> err = Executors.newSingleThreadExecutor().submit(() -> p.getErrorStream().readAllBytes());
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8),
                new String(err.get(), StandardCharsets.UTF_8));
    }

    static void kill9(Process p) throws Exception {
        new ProcessBuilder("kill", "-9", Long.toString(p.pid())).start().waitFor(10, TimeUnit.SECONDS);
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    }

    static Map<String, Object> experiment(String name, String command) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("base_command", command);
        return m;
    }

    /** Launch directories of the local backend: one per launch it was asked for. */
    Map<String, Integer> launchesPerExperiment() throws IOException {
        Map<String, Integer> out = new TreeMap<>();
        List<Path> jobDirs = new ArrayList<>();
        jobDirs.add(home.resolve("local").resolve("jobs"));
        Path stores = home.resolve("local").resolve("stores");
        if (Files.isDirectory(stores)) {
            try (Stream<Path> list = Files.list(stores)) {
                list.forEach(d -> jobDirs.add(d.resolve("jobs")));
            }
        }
        for (Path jobs : jobDirs) {
            if (!Files.isDirectory(jobs)) {
                continue;
            }
            List<Path> launches;
            try (Stream<Path> list = Files.list(jobs)) {
                // ".<name>.creating-…" is a launch directory being written; it is renamed once complete
                launches = list.filter(d -> !d.getFileName().toString().startsWith(".")).toList();
            }
            for (Path launch : launches) {
                java.util.Properties p = new java.util.Properties();
                try (var in = Files.newInputStream(launch.resolve("job.properties"))) {
                    p.load(in);
                } catch (java.nio.file.NoSuchFileException e) {
                    continue;
                }
                out.merge(p.getProperty("experiment"), 1, Integer::sum);
            }
        }
        return out;
    }

    @Test
    void theLeaderKilledMidLaunchLeavesExactlyOneLaunchPerExperimentAndTheOthersFinish() throws Exception {
        String db = EmbeddedPg.newDatabase();
        Server a = serve(db, "a");
        await().atMost(Duration.ofSeconds(30)).until(() -> a.role().equals("leader"));
        Server b = serve(db, "b");
        Server c = serve(db, "c");
        assertThat(b.role()).isEqualTo("standby");
        assertThat(c.role()).isEqualTo("standby");

        int n = 200;
        List<Object> specs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            specs.add(experiment("team.%03d".formatted(i), "true")); // ignores the --gpus, --nodes and run= SkyDeck appends
        }
        b.post("/api/experiments", Map.of("experiments", specs), null);
        List<String> names = specs.stream().map(s -> (String) ((Map<?, ?>) s).get("name")).toList();
        // bulk-started through a standby: the leader picks the intent up from the database
        JsonNode bulk = b.post("/api/experiments/bulk", Map.of("action", "start", "ids", names), null);
        assertThat(bulk.path("results")).hasSize(n);

        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(50))
                .until(() -> launchesPerExperiment().size() >= 20);
        long killedAt = System.nanoTime();
        kill9(a.process);
        int launchedByA = launchesPerExperiment().size();
        assertThat(launchedByA).as("killed mid-launch").isLessThan(n);

        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(50))
                .until(() -> b.role().equals("leader") || c.role().equals("leader"));
        double failover = (System.nanoTime() - killedAt) / 1e9;
        int before = launchesPerExperiment().values().stream().mapToInt(Integer::intValue).sum();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .until(() -> launchesPerExperiment().values().stream().mapToInt(Integer::intValue).sum() > before);
        double nextLaunch = (System.nanoTime() - killedAt) / 1e9;
        System.out.printf("failover after kill -9 of the leader: new leader in %.2f s, next launch %.2f s after"
                + " the kill (%d of %d launched before)%n", failover, nextLaunch, launchedByA, n);
        Server survivor = b.role().equals("leader") ? b : c;
        Server other = survivor == b ? c : b;
        assertThat(other.role()).isEqualTo("standby");

        await().atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            JsonNode jobs = survivor.get("/api/jobs?limit=10000", null).path("jobs");
            Map<String, String> statusByExperiment = new TreeMap<>();
            jobs.forEach(j -> statusByExperiment.merge(j.path("experiment_name").asText(),
                    j.path("status").asText(), (x, y) -> x + "," + y));
            List<String> notSucceeded = new ArrayList<>();
            jobs.forEach(j -> {
                if (!j.path("status").asText().equals("SUCCEEDED")) {
                    notSucceeded.add(j.path("experiment_name").asText() + " " + j.path("status").asText() + ": "
                            + j.path("failure_reason").asText() + " / " + j.path("details").asText());
                }
            });
            assertThat(statusByExperiment).hasSize(n);
            assertThat(Set.copyOf(statusByExperiment.values())).as("jobs not succeeded: %s", notSucceeded)
                    .containsExactly("SUCCEEDED");
        });
        Map<String, Integer> launches = launchesPerExperiment();
        assertThat(launches).hasSize(n);
        assertThat(launches.values()).as("launches per experiment").containsOnly(1);
        JsonNode experiments = other.get("/api/experiments", null).path("experiments");
        experiments.forEach(e -> assertThat(e.path("current_state").asText()).isEqualTo("SUCCEEDED"));
    }

    @Test
    void aFrozenLeaderLosesTheLeaseWithinFifteenSecondsAndStopsActingWhenItWakes() throws Exception {
        // a process that hangs (or a machine cut off) is alive, so only the lease's lapse hands over
        String db = EmbeddedPg.newDatabase();
        Server a = serve(db, "a");
        await().atMost(Duration.ofSeconds(30)).until(() -> a.role().equals("leader"));
        Server b = serve(db, "b");
        int n = 40;
        List<Object> specs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            specs.add(experiment("frozen.%02d".formatted(i), "true"));
        }
        b.post("/api/experiments", Map.of("experiments", specs), null);
        new ProcessBuilder("kill", "-STOP", Long.toString(a.process.pid())).start().waitFor(10, TimeUnit.SECONDS);
        long stoppedAt = System.nanoTime();
        b.post("/api/experiments/bulk", Map.of("action", "start",
                "ids", specs.stream().map(s -> ((Map<?, ?>) s).get("name")).toList()), null);
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100))
                .until(() -> b.role().equals("leader"));
        System.out.printf("failover from a frozen leader (lease lapse): %.2f s%n",
                (System.nanoTime() - stoppedAt) / 1e9);
        await().atMost(Duration.ofSeconds(120)).until(() -> launchesPerExperiment().size() == n);
        new ProcessBuilder("kill", "-CONT", Long.toString(a.process.pid())).start().waitFor(10, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(30)).until(() -> a.role().equals("standby"));
        await().atMost(Duration.ofSeconds(120)).untilAsserted(() -> {
            Map<String, Integer> launches = launchesPerExperiment();
            assertThat(launches).hasSize(n);
            assertThat(launches.values()).containsOnly(1);
            JsonNode jobs = a.get("/api/jobs?limit=1000", null).path("jobs");
            assertThat(jobs).hasSize(n);
            jobs.forEach(j -> assertThat(j.path("status").asText()).isEqualTo("SUCCEEDED"));
        });
        assertThat(b.role()).isEqualTo("leader");
    }

    @Test
    void aStreamOnOneServerSeesEveryEventWrittenThroughAnotherOnceAndInOrder() throws Exception {
        String db = EmbeddedPg.newDatabase();
        Server a = serve(db, "a");
        Server b = serve(db, "b");
        List<Long> seqs = new CopyOnWriteArrayList<>();
        Map<Long, Long> receivedAt = new ConcurrentHashMap<>();
        HttpRequest sse = HttpRequest.newBuilder(URI.create(b.url + "/api/events")).header("Accept",
                "text/event-stream").build();
        HttpResponse<java.io.InputStream> stream = http.send(sse, HttpResponse.BodyHandlers.ofInputStream());
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("id:")) {
                        long seq = Long.parseLong(line.substring(3).strip());
                        seqs.add(seq);
                        receivedAt.put(seq, System.nanoTime());
                    }
                }
            } catch (IOException e) {
                // closed at the end of the test
            }
        }, "sse-reader");
        reader.setDaemon(true);
        reader.start();
        long start = seqs.isEmpty() ? 0 : seqs.get(seqs.size() - 1);

        int writers = 4;
        int each = 50;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        List<Future<?>> done = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int writer = w;
            done.add(pool.submit(() -> {
                for (int i = 0; i < each; i++) {
                    String name = "w%d.%02d".formatted(writer, i);
                    a.post("/api/experiments", Map.of("name", name), null);
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get(120, TimeUnit.SECONDS);
        }
        pool.shutdown();
        JsonNode log = a.get("/api/operation-logs?limit=1000", null);
        long last = 0;
        for (JsonNode e : log.path("events")) {
            last = Math.max(last, e.path("seq").asLong());
        }
        long lastSeq = last;
        await().atMost(Duration.ofSeconds(30)).until(() -> seqs.contains(lastSeq));
        List<Long> after = seqs.stream().filter(s -> s > start).toList();
        assertThat(after).as("every event once, in order, no gaps").isSorted().doesNotHaveDuplicates();
        assertThat(after.get(after.size() - 1) - after.get(0) + 1).isEqualTo(after.size());
        assertThat(after.size()).isGreaterThanOrEqualTo(writers * each);

        // delivery latency across processes: committed on A, read from B's stream
        List<Double> millis = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            int seen = seqs.size();
            long t0 = System.nanoTime();
            a.post("/api/experiments", Map.of("name", "latency." + i), null);
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(1)).until(() -> seqs.size() > seen);
            millis.add((receivedAt.get(seqs.get(seen)) - t0) / 1e6);
        }
        millis.sort(null);
        System.out.printf("event delivery across processes (POST on A until B's stream has it): p50 %.1f ms,"
                + " max %.1f ms%n", millis.get(millis.size() / 2), millis.get(millis.size() - 1));
        stream.body().close();
    }

    @Test
    void usersTokensRecordWhoDidWhatAndARevokedTokenIsRefusedEverywhere() throws Exception {
        String db = EmbeddedPg.newDatabase();
        Server a = serve(db, "a");
        Server b = serve(db, "b");
        Result alice = cli("token", "create", "alice", "--db-url", db);
        assertThat(alice.exit()).as(alice.err()).isZero();
        String aliceToken = alice.out().strip();
        assertThat(aliceToken).startsWith("sdk_");
        String bobToken = cli("token", "create", "bob", "--db-url", db).out().strip();

        await().atMost(Duration.ofSeconds(5)).until(() -> a.send("GET", "/api/experiments", null, null)
                .statusCode() == 401 && b.send("GET", "/api/experiments", null, null).statusCode() == 401);
        assertThat(a.get("/api/me", aliceToken).path("user").asText()).isEqualTo("alice");

        a.post("/api/experiments", experiment("alice.run", "true"), aliceToken);
        b.post("/api/experiments", experiment("bob.run", "true"), bobToken);
        b.post("/api/experiments/bulk", Map.of("action", "start", "ids", List.of("alice.run", "bob.run")), bobToken);

        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(
                a.get("/api/jobs", aliceToken).path("jobs")).hasSize(2));
        JsonNode all = a.get("/api/experiments", aliceToken).path("experiments");
        Map<String, String> creators = new TreeMap<>();
        Map<String, String> starters = new TreeMap<>();
        all.forEach(e -> {
            creators.put(e.path("name").asText(), e.path("created_by").asText());
            starters.put(e.path("name").asText(), e.path("started_by").asText());
        });
        assertThat(creators).containsExactly(Map.entry("alice.run", "alice"), Map.entry("bob.run", "bob"));
        assertThat(starters).containsExactly(Map.entry("alice.run", "bob"), Map.entry("bob.run", "bob"));
        a.get("/api/jobs", aliceToken).path("jobs")
                .forEach(j -> assertThat(j.path("launched_by").asText()).isEqualTo("bob"));
        assertThat(a.get("/api/experiments?mine=true", aliceToken).path("experiments"))
                .extracting(e -> e.path("name").asText()).containsExactly("alice.run");
        assertThat(b.get("/api/jobs?mine=true", aliceToken).path("jobs")).isEmpty();
        assertThat(b.get("/api/jobs?mine=true", bobToken).path("jobs")).hasSize(2);
        JsonNode events = b.get("/api/operation-logs?limit=100", bobToken).path("events");
        List<String> creates = new ArrayList<>();
        events.forEach(e -> {
            if (e.path("type").asText().equals("CREATE")) {
                creates.add(e.path("experiment_name").asText() + ":" + e.path("user").asText());
            }
        });
        assertThat(creates).containsExactlyInAnyOrder("alice.run:alice", "bob.run:bob");

        String id = null;
        for (String line : cli("token", "list", "--db-url", db).out().split("\n")) {
            if (line.contains("alice")) {
                id = line.split("\\s+")[0];
            }
        }
        assertThat(id).startsWith("tok_");
        assertThat(cli("token", "revoke", id, "--db-url", db).exit()).isZero();
        assertThat(a.send("GET", "/api/experiments", null, aliceToken).statusCode()).isEqualTo(401);
        assertThat(b.send("GET", "/api/experiments", null, aliceToken).statusCode()).isEqualTo(401);
        assertThat(b.send("GET", "/api/experiments", null, bobToken).statusCode()).isEqualTo(200);
        assertThat(cli("token", "list", "--db-url", db).out()).doesNotContain(aliceToken).contains("revoked");
        assertThat(a.logText() + b.logText()).doesNotContain(aliceToken).doesNotContain(bobToken);
    }

    @Test
    void migrateCopiesASqliteDeckIntoPostgresAndTheApiAnswersTheSame() throws Exception {
        Server local = serve(null, "sqlite");
        String toy = dev.skydeck.toy.ToyTrainer.baseCommand();
        Map<String, Object> spec = experiment("move.toy", toy);
        spec.put("flags", Map.of("epochs", 2, "sleep_ms", 20, "lr", 3.0));
        long id = local.post("/api/experiments", spec, null).path("experiment").path("id").asLong();
        local.post("/api/experiments", Map.of("name", "move.idle", "flags", Map.of("seed", 7)), null);
        long group = local.post("/api/groups", Map.of("name", "moving"), null).path("group").path("id").asLong();
        local.post("/api/groups/" + group + "/experiments", Map.of("experiment_ids", List.of(id)), null);
        local.post("/api/experiments/" + id + "/state", Map.of("desired_state", "RUNNING"), null);
        await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> assertThat(local
                .get("/api/experiments/" + id + "/checkpoints", null).path("checkpoints")).isNotEmpty());
        await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> assertThat(local
                .get("/api/experiments/" + id, null).path("experiment").path("current_state").asText())
                .isEqualTo("SUCCEEDED"));
        local.send("DELETE", "/api/experiments/" + (id + 1), null, null);
        List<String> paths = List.of("/api/experiments?include_deleted=true", "/api/jobs", "/api/groups",
                "/api/operation-logs?limit=1000", "/api/experiments/" + id + "/checkpoints",
                "/api/experiments/" + id + "/jobs", "/api/flags");
        Map<String, JsonNode> before = new LinkedHashMap<>();
        for (String p : paths) {
            before.put(p, local.get(p, null));
        }
        local.process.destroy();
        assertThat(local.process.waitFor(30, TimeUnit.SECONDS)).isTrue();

        String empty = EmbeddedPg.emptyDatabase();
        Result migrated = cli("migrate", "--to", empty);
        assertThat(migrated.exit()).as(migrated.out() + migrated.err()).isZero();
        assertThat(migrated.out()).contains("experiments").contains("counts match");
        Result again = cli("migrate", "--to", empty);
        assertThat(again.exit()).isEqualTo(1);
        assertThat(again.err()).contains("not empty");

        Server moved = serve(empty, "moved");
        for (String p : paths) {
            assertThat(moved.get(p, null)).as(p).isEqualTo(before.get(p));
        }
        // and it goes on from there: ids and event numbers continue
        JsonNode next = moved.post("/api/experiments", Map.of("name", "after.move"), null).path("experiment");
        assertThat(next.path("id").asLong()).isEqualTo(id + 2);
    }
}
