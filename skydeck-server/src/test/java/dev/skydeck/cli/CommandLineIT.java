package dev.skydeck.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.skydeck.toy.ToyTrainer;
import dev.skydeck.server.internal.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged {@code skydeck.jar} run as real processes, as a user runs it. */
class CommandLineIT {
    static final Path JAR = Path.of(System.getProperty("skydeck.jar", "target/skydeck.jar"));

    @TempDir
    Path home;
    int port;
    final List<Process> processes = new ArrayList<>();

    @BeforeEach
    void freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
    }

    @AfterEach
    void cleanUp() throws Exception {
        run("stop", "--timeout", "10");
        for (Process p : processes) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        LeftoverProcesses.killUnder(home); // the demo's toy jobs keep running after it stops, writing their logs
    }

    record Result(int exit, String out, String err) {
    }

    private ProcessBuilder builder(Map<String, String> extraEnv, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", JAR.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("SKYDECK_") || k.startsWith("SKYPILOT_"));
        env.put("SKYDECK_HOME", home.toString());
        env.put("SKYDECK_PORT", Integer.toString(port));
        env.put("SKYDECK_BACKEND", "local");
        env.put("SKYDECK_POLL_INTERVAL", "1");
        env.putAll(extraEnv);
        return pb;
    }

    private Result run(String... args) throws Exception {
        return run(Map.of(), args);
    }

    private Result run(Map<String, String> env, String... args) throws Exception {
        Process p = builder(env, args).start();
        p.getOutputStream().close();
        var out = p.getInputStream().readAllBytes();
        var err = p.getErrorStream().readAllBytes();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    @Test
    void startStatusScriptLogsAndStop() throws Exception {
        Result start = run("start");
        assertThat(start.exit()).as(start.err()).isZero();
        assertThat(start.out()).contains("SkyDeck is running at http://127.0.0.1:" + port);
        assertThat(home.resolve("skydeck.pid")).exists();
        assertThat(run("start").out()).contains("already running");

        Result status = run("status");
        assertThat(status.exit()).isZero();
        assertThat(status.out()).contains("SkyDeck is running").contains("http://127.0.0.1:" + port)
                .contains("local").contains(home.resolve("skydeck.db").toString());
        JsonNode json = Json.MAPPER.readTree(run("status", "--json").out());
        assertThat(json.path("running").asBoolean()).isTrue();
        assertThat(json.path("health").path("backend").path("kind").asText()).isEqualTo("local");

        Result created = run("exp", "create", "cli.toy", "--command", ToyTrainer.baseCommand(), "--flag", "epochs=2",
                "--flag", "sleep_ms=50", "--flag", "lr=0.01", "--start");
        assertThat(created.exit()).as(created.err()).isZero();
        assertThat(created.out()).contains("created cli.toy").contains("lr=0.01");
        Result waited = run("exp", "start", "cli.toy", "--wait", "--timeout", "60");
        assertThat(waited.exit()).as(waited.err()).isZero();
        assertThat(waited.out()).contains("cli.toy: SUCCEEDED");
        JsonNode list = Json.MAPPER.readTree(run("exp", "list", "--json").out());
        assertThat(list.get(0).path("name").asText()).isEqualTo("cli.toy");
        Result jobs = run("jobs");
        assertThat(jobs.out()).contains("JOB").contains("cli.toy").contains("SUCCEEDED");
        assertThat(run("jobs", "--active", "--json").out().strip()).isEqualTo("[]");
        Result backfill = run("backfill");
        assertThat(backfill.exit()).as(backfill.err()).isZero();
        assertThat(backfill.out()).contains("backfill done");
        Result deleted = run("exp", "delete", "cli.toy", "nope");
        assertThat(deleted.exit()).isEqualTo(1);
        assertThat(deleted.out()).contains("ok").contains("FAILED").contains("nope");

        Result logs = run("logs", "-n", "200");
        assertThat(logs.out()).contains("SkyDeck server listening on http://127.0.0.1:" + port);

        Result stop = run("stop");
        assertThat(stop.exit()).isZero();
        assertThat(stop.out()).contains("SkyDeck stopped");
        assertThat(home.resolve("skydeck.pid")).doesNotExist();
        assertThat(run("logs").out()).contains("SkyDeck server stopped");
        Result after = run("status");
        assertThat(after.exit()).isEqualTo(3);
        assertThat(after.out()).contains("not running");
        assertThat(run("stop").out()).contains("not running");
    }

    @Test
    void applyIsIdempotentRestartRunsAgainAndFlagsKeepTheirType() throws Exception {
        assertThat(run("start").exit()).isZero();
        Result huge = run("exp", "create", "huge", "--flag", "seed=123456789012345678901234567890");
        assertThat(huge.exit()).isEqualTo(1);
        assertThat(huge.err()).contains("seed").contains("64 bits");

        Path file = home.resolve("grid.yaml");
        Files.writeString(file, """
                - name: grid.a
                  base_command: "%1$s"
                  desired_state: RUNNING
                  flags: {epochs: 1, sleep_ms: 50, lr: 3.0}
                - name: grid.b
                  base_command: "%1$s"
                  desired_state: RUNNING
                  flags: {epochs: 1, sleep_ms: 50, lr: 0.0003}
                """.formatted(ToyTrainer.baseCommand().replace("\\", "\\\\").replace("\"", "\\\"")));
        Result first = run("apply", file.toString());
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.out()).contains("2 created, 0 updated, 0 unchanged");
        assertThat(run("exp", "start", "grid.a", "grid.b", "--wait", "--timeout", "60").exit()).isZero();

        Result second = run("apply", file.toString());
        assertThat(second.out()).contains("0 created, 0 updated, 2 unchanged");
        assertThat(Json.MAPPER.readTree(run("jobs", "--json").out())).hasSize(2);

        Result restarted = run("exp", "restart", "grid.a", "--wait", "--timeout", "60");
        assertThat(restarted.exit()).as(restarted.err()).isZero();
        assertThat(restarted.out()).contains("grid.a: SUCCEEDED");
        assertThat(Json.MAPPER.readTree(run("jobs", "--json", "--experiment", "grid.a").out())).hasSize(2);
        String listed = run("exp", "list", "--json").out();
        assertThat(listed).contains("\"lr\":3.0").contains("\"lr\":0.0003");
        assertThat(listed).doesNotContain("huge");
    }

    @Test
    void aStalePidFileIsIgnoredAndReplaced() throws Exception {
        Process gone = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-version")
                .redirectErrorStream(true).start();
        gone.getInputStream().readAllBytes();
        gone.waitFor(30, TimeUnit.SECONDS);
        Files.createDirectories(home);
        Files.writeString(home.resolve("skydeck.pid"), "{\"pid\": " + gone.pid()
                + ", \"url\": \"http://127.0.0.1:1\", \"db\": \"x\", \"started_at\": \"2026-01-01T00:00:00Z\"}");
        Result status = run("status");
        assertThat(status.exit()).isEqualTo(3);
        assertThat(home.resolve("skydeck.pid")).doesNotExist();
        Files.writeString(home.resolve("skydeck.pid"), "garbage");
        Result start = run("start");
        assertThat(start.exit()).as(start.err()).isZero();
        assertThat(start.out()).contains("http://127.0.0.1:" + port);
        assertThat(run("status").exit()).isZero();
    }

    @Test
    void aBadSettingStopsStartUpNamingIt() throws Exception {
        Result serve = run(Map.of("SKYDECK_POLL_INTERVAL", "often"), "serve");
        assertThat(serve.exit()).isEqualTo(1);
        assertThat(serve.err()).contains("SKYDECK_POLL_INTERVAL='often'");
        Result flag = run("start", "--port", "99999");
        assertThat(flag.exit()).isEqualTo(1);
        assertThat(flag.err()).contains("SKYDECK_PORT='99999'");
        Result exposed = run(Map.of("SKYDECK_HOST", "0.0.0.0"), "serve");
        assertThat(exposed.exit()).isEqualTo(1);
        assertThat(exposed.err()).contains("SKYDECK_AUTH_TOKEN");
        assertThat(home.resolve("skydeck.pid")).doesNotExist();
    }

    @Test
    void serveStopsGracefullyOnSigterm() throws Exception {
        Path out = home.resolve("serve.out");
        Process serve = builder(Map.of(), "serve").redirectErrorStream(true).redirectOutput(out.toFile()).start();
        processes.add(serve);
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(home.resolve("skydeck.pid"))
                && Files.readString(out).contains("serving http://127.0.0.1:" + port));
        serve.destroy(); // SIGTERM
        assertThat(serve.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(serve.exitValue()).isEqualTo(143); // 128 + SIGTERM, after the shutdown hook ran
        assertThat(home.resolve("skydeck.pid")).doesNotExist();
        assertThat(Files.readString(out)).contains("SkyDeck server stopped").contains("SkyDeck closed");
    }

    @Test
    void logsFollowPrintsNewLines() throws Exception {
        assertThat(run("start").exit()).isZero();
        Process follow = builder(Map.of(), "logs", "-f", "-n", "0").redirectErrorStream(true).start();
        processes.add(follow);
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(follow.getInputStream(), StandardCharsets.UTF_8))) {
                r.lines().forEach(lines::add);
            } catch (IOException e) {
                // process gone
            }
        });
        reader.start();
        run("exp", "create", "logged.one", "--command", ToyTrainer.baseCommand(), "--flag", "epochs=1", "--start");
        await().atMost(Duration.ofSeconds(60)).until(() -> lines.stream().anyMatch(l -> l.contains("logged.one")));
        follow.destroy();
    }

    @Test
    void demoServesAGridOfRunningToyExperiments() throws Exception {
        Process demo = builder(new HashMap<>(), "demo", "--experiments", "3").redirectErrorStream(true)
                .redirectOutput(home.resolve("demo.out").toFile()).start();
        processes.add(demo);
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(home.resolve("skydeck.pid")));
        assertThat(home.resolve("demo.db")).exists();
        Result list = run("exp", "list", "--json");
        JsonNode experiments = Json.MAPPER.readTree(list.out());
        assertThat(experiments).hasSize(3);
        assertThat(experiments.findValues("desired_state")).allMatch(v -> v.asText().equals("RUNNING"));
        await().atMost(Duration.ofSeconds(60)).until(() -> run("jobs", "--json").out().contains("RUNNING"));
        demo.destroy();
        assertThat(demo.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(Files.readString(home.resolve("demo.out"))).contains("3 toy experiments running");
    }
}
