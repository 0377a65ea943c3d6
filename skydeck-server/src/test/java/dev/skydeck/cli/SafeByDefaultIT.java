package dev.skydeck.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.skydeck.server.internal.Json;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Safe by default, with the packaged jar as real processes: no secret reaches a local job or a
 * log, everything under the home is private, a launch cut short by {@code kill -9} runs once after
 * a restart, and two servers started at once on one home leave one running.
 */
class SafeByDefaultIT {
    static final Path JAR = CommandLineIT.JAR;
    /** Prints its environment, one variable a line, ignoring the flags SkyDeck appends (no shell). */
    static final String PRINT_ENV = "perl -e 'print \"$_=$ENV{$_}\\n\" for sort keys %ENV' --";
    /** The server's secrets, as an operator would export them. */
    static final Map<String, String> SECRETS = Map.of(
            "SKYDECK_AUTH_TOKEN", "sdk-auth-7f3a9c2e11",
            "SKYPILOT_SERVICE_ACCOUNT_TOKEN", "sky-sa-0c9d8e7f6a5b",
            "AWS_ACCESS_KEY_ID", "AKIAEXAMPLE1234567",
            "AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMIexampleKEY",
            "PGPASSWORD", "pg-pass-483920",
            "GIT_TOKEN", "ghp_example0123456789",
            "MY_API_KEY", "my-api-key-55501");

    @TempDir
    Path tmp;
    Path home;
    int port;
    final List<Process> processes = new ArrayList<>();
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void freshHome() throws IOException {
        home = tmp.resolve("home"); // not there yet: SkyDeck creates it
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
    }

    @AfterEach
    void cleanUp() throws Exception {
        run(Map.of(), "stop", "--timeout", "10");
        for (Process p : processes) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        LeftoverProcesses.killUnder(home); // runners held by a test hook, and their commands
    }

    record Result(int exit, String out, String err) {
    }

    private ProcessBuilder builder(Map<String, String> extraEnv, List<String> jvm, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // -Xmx: one JVM that kill -9 crashes (without it `serve` runs in a bounded child JVM)
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m"));
        cmd.addAll(jvm);
        cmd.addAll(List.of("-jar", JAR.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("SKYDECK_") || k.startsWith("SKYPILOT_") || k.startsWith("AWS_"));
        env.put("SKYDECK_HOME", home.toString());
        env.put("SKYDECK_PORT", Integer.toString(port));
        env.put("SKYDECK_BACKEND", "local");
        env.put("SKYDECK_POLL_INTERVAL", "1");
        env.put("SKYDECK_RECONCILE_INTERVAL", "2");
        env.putAll(extraEnv);
        return pb;
    }

    private Result run(Map<String, String> env, String... args) throws Exception {
        Process p = builder(env, List.of(), args).start();
        p.getOutputStream().close();
        var out = p.getInputStream().readAllBytes();
        var err = p.getErrorStream().readAllBytes();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    private Result ok(Map<String, String> env, String... args) throws Exception {
        Result r = run(env, args);
        assertThat(r.exit()).as(String.join(" ", args) + ": " + r.out() + r.err()).isZero();
        return r;
    }

    /** A foreground server with extra JVM options, its output in {@code <tmp>/<name>.out}. */
    private Process serve(String name, List<String> jvm) throws Exception {
        Process p = builder(Map.of(), jvm, "serve").redirectErrorStream(true)
                .redirectOutput(tmp.resolve(name + ".out").toFile()).start();
        processes.add(p);
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            assertThat(p.isAlive()).as(name + " died: " + Files.readString(tmp.resolve(name + ".out"))).isTrue();
            return run(Map.of(), "status").exit() == 0;
        });
        return p;
    }

    private JsonNode jobs(Map<String, String> env, String experiment) throws Exception {
        return Json.MAPPER.readTree(ok(env, "jobs", "--json", "--experiment", experiment).out());
    }

    private String apiLog(String token, String jobId) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/jobs/"
                + jobId + "/logs")).header("Authorization", "Bearer " + token).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return r.body();
    }

    private Path jobDir(JsonNode job) {
        return home.resolve("local").resolve("jobs").resolve(job.path("backend_job_id").asText());
    }

    private static String environ(long pid) throws IOException {
        return new String(Files.readAllBytes(Path.of("/proc/" + pid + "/environ")), StandardCharsets.UTF_8)
                .replace('\0', '\n');
    }

    private static void assertNoSecret(String where, String text) {
        for (var s : SECRETS.entrySet()) {
            assertThat(text).as(where + " holds " + s.getKey()).doesNotContain(s.getValue());
        }
    }

    @Test
    void noSecretOfTheServerReachesALocalJobItsLogOrTheServerLog() throws Exception {
        Map<String, String> env = new HashMap<>(SECRETS);
        env.put("MY_SETTING", "passed-on-purpose");
        env.put("MY_OTHER_SETTING", "not-passed");
        env.put("SKYDECK_LOCAL_ENV_PASS", "MY_SETTING");
        env.put("SKYDECK_DB_URL", "jdbc:sqlite:" + home.resolve("skydeck.db"));
        ok(env, "start");

        // a job that prints its environment (no shell)
        ok(env, "exp", "create", "prints.env", "--command", PRINT_ENV, "--start");
        assertThat(ok(env, "exp", "start", "prints.env", "--wait", "--timeout", "60").out())
                .contains("prints.env: SUCCEEDED");
        JsonNode printed = jobs(env, "prints.env").get(0);
        String output = Files.readString(jobDir(printed).resolve("output.log"));
        assertNoSecret("output.log", output);
        assertThat(output).contains("PATH=").contains("HOME=").contains("SKYDECK_LAUNCH_ID=" + printed.path("launch_id")
                .asText()).contains("SKYDECK_CHECKPOINT_DIR=").contains("MY_SETTING=passed-on-purpose")
                .doesNotContain("MY_OTHER_SETTING").doesNotContain("SKYDECK_DB_URL").doesNotContain("SKYDECK_HOME");
        String served = apiLog(SECRETS.get("SKYDECK_AUTH_TOKEN"), printed.path("id").asText());
        assertNoSecret("GET /logs", served);
        assertThat(served).contains("SKYDECK_LAUNCH_ID=");

        // a job that prints a secret itself: its file has it (its own output), the API and the server log do not
        String key = SECRETS.get("AWS_SECRET_ACCESS_KEY");
        ok(env, "exp", "create", "prints.key", "--command", "echo " + key, "--start");
        ok(env, "exp", "start", "prints.key", "--wait", "--timeout", "60");
        JsonNode echoed = jobs(env, "prints.key").get(0);
        assertThat(Files.readString(jobDir(echoed).resolve("output.log"))).contains(key);
        assertThat(apiLog(SECRETS.get("SKYDECK_AUTH_TOKEN"), echoed.path("id").asText()))
                .startsWith("[redacted] --gpus=0").doesNotContain(key);

        // a running job: neither its runner's nor its command's environment holds a secret
        ok(env, "exp", "create", "sleeps", "--command", "perl -e 'sleep 120' --", "--start");
        await().atMost(Duration.ofSeconds(60)).until(() -> jobs(env, "sleeps").path(0).path("status").asText()
                .equals("RUNNING"));
        JsonNode sleeping = jobs(env, "sleeps").get(0);
        Properties pids = new Properties();
        try (var in = Files.newBufferedReader(jobDir(sleeping).resolve("pid"))) {
            pids.load(in);
        }
        String runnerEnv = environ(Long.parseLong(pids.getProperty("runner.pid")));
        String commandEnv = environ(Long.parseLong(pids.getProperty("pid")));
        assertNoSecret("the runner's /proc/<pid>/environ", runnerEnv);
        assertNoSecret("the command's /proc/<pid>/environ", commandEnv);
        assertThat(commandEnv).contains("SKYDECK_LAUNCH_ID=" + sleeping.path("launch_id").asText())
                .contains("PATH=");
        ok(env, "exp", "stop", "sleeps");
        ok(env, "stop");

        String serverLog = Files.readString(home.resolve("skydeck.log"));
        assertThat(serverLog).contains("Launched local job").contains("[redacted]");
        assertNoSecret("skydeck.log", serverLog);
    }

    @Test
    void everythingUnderAFreshHomeIsPrivate() throws Exception {
        ok(Map.of(), "start");
        ok(Map.of(), "exp", "create", "private.job", "--command", PRINT_ENV, "--start");
        ok(Map.of(), "exp", "start", "private.job", "--wait", "--timeout", "60");
        ok(Map.of(), "stop");
        ok(Map.of(), "start"); // a second run over what the first left (the JVM's class-data archive)
        ok(Map.of(), "exp", "list");
        Map<String, String> wrong = new LinkedHashMap<>();
        try (Stream<Path> all = Files.walk(home)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                boolean dir = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
                String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
                if (!mode.equals(dir ? "rwx------" : "rw-------")) {
                    wrong.put(home.relativize(p).toString(), mode);
                }
            }
        }
        assertThat(wrong).as("files and directories under the home that others can read").isEmpty();
        try (Stream<Path> all = Files.walk(home)) {
            assertThat(all.map(p -> home.relativize(p).toString()))
                    .contains("skydeck.db", "skydeck.db-wal", "skydeck.db-shm", "skydeck.pid", "skydeck.server.json",
                            "skydeck.log", "local/jobs", "local/checkpoints/private.job")
                    .anyMatch(p -> p.startsWith("local/jobs/") && p.endsWith("/output.log"))
                    .anyMatch(p -> p.startsWith("local/jobs/") && p.endsWith("/exit_code"));
        }
    }

    @Test
    void aLaunchKilledBeforeItsRunnerStartedRunsOnceWithinSecondsOfARestart() throws Exception {
        Process first = serve("first", List.of("-Dskydeck.local.testHold=before-runner"));
        ok(Map.of(), "exp", "create", "once", "--command", "echo ran", "--start");
        Path held = awaitHeld("before-runner");
        first.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // kill -9: the job directory exists, no runner
        assertThat(Files.exists(held.resolveSibling("pid"))).isFalse();

        long restarted = System.nanoTime();
        serve("second", List.of());
        await().atMost(Duration.ofSeconds(30)).until(() -> jobs(Map.of(), "once").path(0).path("status").asText()
                .equals("SUCCEEDED"));
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - restarted);
        assertThat(seconds).as("seconds from the restart to the job's end").isLessThan(20);
        assertRanOnce(held.getParent());
    }

    @Test
    void aLaunchWhoseServerAndRunnerWereKilledBeforeThePidRunsOnceAfterARestart() throws Exception {
        Process first = serve("first", List.of("-Dskydeck.local.testHold=before-pid"));
        ok(Map.of(), "exp", "create", "once", "--command", "echo ran", "--start");
        Path held = awaitHeld("before-pid");
        first.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        List<ProcessHandle> runners = runnersOf(held.getParent());
        assertThat(runners).isNotEmpty();
        runners.forEach(ProcessHandle::destroyForcibly); // the machine lost both
        await().atMost(Duration.ofSeconds(10)).until(() -> runnersOf(held.getParent()).isEmpty());

        serve("second", List.of());
        await().atMost(Duration.ofSeconds(30)).until(() -> jobs(Map.of(), "once").path(0).path("status").asText()
                .equals("SUCCEEDED"));
        assertRanOnce(held.getParent());
    }

    @Test
    void aRunnerStillStartingWhenItsServerWasKilledIsAdoptedNotStartedTwice() throws Exception {
        Process first = serve("first", List.of("-Dskydeck.local.testHold=before-pid"));
        ok(Map.of(), "exp", "create", "once", "--command", "echo ran", "--start");
        Path held = awaitHeld("before-pid");
        first.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // the runner lives on, before its pid

        serve("second", List.of());
        // the restarted server finds the runner starting and records the job (it does not launch again)
        await().atMost(Duration.ofSeconds(30)).until(() -> !jobs(Map.of(), "once").path(0).path("backend_job_id")
                .isNull());
        assertThat(runnersOf(held.getParent())).hasSize(1);
        Files.createFile(held.resolveSibling("test-release"));
        await().atMost(Duration.ofSeconds(30)).until(() -> jobs(Map.of(), "once").path(0).path("status").asText()
                .equals("SUCCEEDED"));
        assertRanOnce(held.getParent());
    }

    @Test
    void twoServersStartedAtTheSameInstantOnOneHomeLeaveOneRunning() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        CountDownLatch go = new CountDownLatch(1);
        Callable<Result> start = () -> {
            go.await();
            return run(Map.of(), "start");
        };
        try {
            Future<Result> a = pool.submit(start);
            Future<Result> b = pool.submit(start);
            go.countDown();
            Result ra = a.get(120, TimeUnit.SECONDS);
            Result rb = b.get(120, TimeUnit.SECONDS);
            assertThat(ra.exit()).as(ra.out() + ra.err()).isZero();
            assertThat(rb.exit()).as(rb.out() + rb.err()).isZero();
            String pid = Files.readString(home.resolve("skydeck.pid")).strip();
            assertThat(ra.out() + rb.out()).contains("(pid " + pid + ")").contains("already running (pid " + pid + ")");
        } finally {
            pool.shutdownNow();
        }
        JsonNode status = Json.MAPPER.readTree(ok(Map.of(), "status", "--json").out());
        assertThat(status.path("running").asBoolean()).isTrue();

        // a foreground server on the same home says which one runs, and changes nothing
        int other;
        try (ServerSocket socket = new ServerSocket(0)) {
            other = socket.getLocalPort();
        }
        Process second = builder(Map.of("SKYDECK_PORT", Integer.toString(other)), List.of(), "serve")
                .redirectErrorStream(true).start();
        processes.add(second);
        String said = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(second.exitValue()).isNotZero();
        String pid = Files.readString(home.resolve("skydeck.pid")).strip();
        assertThat(said).contains("another SkyDeck server already runs on " + home).contains("pid " + pid);
        assertThat(ok(Map.of(), "status").out()).contains("SkyDeck is running");
    }

    private Path awaitHeld(String point) {
        Path jobs = home.resolve("local").resolve("jobs");
        Path[] found = new Path[1];
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            if (!Files.isDirectory(jobs)) {
                return false;
            }
            try (Stream<Path> dirs = Files.list(jobs)) {
                found[0] = dirs.map(d -> d.resolve("test-held-" + point)).filter(Files::exists).findFirst().orElse(null);
            }
            return found[0] != null;
        });
        return found[0];
    }

    private static List<ProcessHandle> runnersOf(Path jobDir) {
        try (Stream<ProcessHandle> all = ProcessHandle.allProcesses()) {
            return all.filter(h -> h.info().arguments().map(a -> List.of(a).contains(jobDir.toString())
                    && List.of(a).stream().anyMatch(x -> x.endsWith(".JobRunner"))).orElse(false)).toList();
        }
    }

    /** One job of the first generation and attempt, one job directory, and the command's output once. */
    private void assertRanOnce(Path jobDir) throws Exception {
        JsonNode jobs = jobs(Map.of(), "once");
        assertThat(jobs).hasSize(1);
        assertThat(jobs.get(0).path("attempt").asInt()).isEqualTo(1);
        assertThat(jobs.get(0).path("generation").asLong()).isEqualTo(1);
        assertThat(jobs.get(0).path("launch_id").asText()).isEqualTo(jobDir.getFileName().toString());
        try (Stream<Path> dirs = Files.list(jobDir.getParent())) {
            assertThat(dirs.filter(Files::isDirectory).toList()).containsExactly(jobDir);
        }
        // echo prints the flags SkyDeck appends too: one line, once
        assertThat(Files.readString(jobDir.resolve("output.log"))).startsWith("ran ").containsOnlyOnce("ran")
                .containsOnlyOnce("\n");
    }
}
