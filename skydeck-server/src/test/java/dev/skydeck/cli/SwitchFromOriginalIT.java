package dev.skydeck.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.skydeck.server.internal.Json;
import dev.skydeck.testing.OriginalDatabase;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A user of the original SkyDeck switching, with the packaged jar run as real processes: its
 * database at the shared default path, {@code skydeck import}, the seeds' {@code restart} and
 * {@code kill $(cat ~/.skydeck/skydeck.pid)}.
 */
class SwitchFromOriginalIT {
    static final Path JAR = Path.of(System.getProperty("skydeck.jar", "target/skydeck.jar"));
    static final ZoneId ORIGINAL_ZONE = ZoneId.of("America/Los_Angeles");

    @TempDir
    Path home;
    int port;

    @BeforeEach
    void freePort() throws IOException {
        port = freePortNumber();
    }

    @AfterEach
    void cleanUp() throws Exception {
        run("stop", "--timeout", "10");
    }

    private static int freePortNumber() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    record Result(int exit, String out, String err) {
    }

    private Result run(String... args) throws Exception {
        return run(Map.of(), args);
    }

    private Result run(Map<String, String> extraEnv, String... args) throws Exception {
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
        Process p = pb.start();
        p.getOutputStream().close();
        var out = p.getInputStream().readAllBytes();
        var err = p.getErrorStream().readAllBytes();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    private Path original() throws IOException {
        Files.createDirectories(home);
        Path db = home.resolve("skydeck.db");
        OriginalDatabase.write(db, ORIGINAL_ZONE);
        return db;
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    private List<String> filesIn(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void serveStartAndDemoOnAnOriginalDatabaseStopWithTheImportCommandAndLeaveItsBytesAsTheyWere() throws Exception {
        Path db = original();
        String before = sha256(db);

        Result serve = run("serve");
        assertThat(serve.exit()).isEqualTo(1);
        assertThat(serve.err()).contains(db + " is a database of the original (Python) SkyDeck")
                .contains("Nothing was changed").contains("skydeck import " + db);
        Result start = run("start");
        assertThat(start.exit()).isEqualTo(1);
        assertThat(start.err()).contains("skydeck import " + db);
        Result demo = run("demo", "--db-path", db.toString());
        assertThat(demo.exit()).isEqualTo(1);
        assertThat(demo.err()).contains("skydeck import " + db);

        assertThat(sha256(db)).isEqualTo(before);
        assertThat(filesIn(home)).noneMatch(n -> n.startsWith("skydeck.db-")).doesNotContain("skydeck.pid");
    }

    @Test
    void importMovesTheOriginalAsideKeepsItsRowsLaunchesNothingAndASecondRunChangesNothing() throws Exception {
        Path db = original();
        String before = sha256(db);

        Result imported = run("import", db.toString(), "--local-zone", ORIGINAL_ZONE.getId());
        assertThat(imported.exit()).as(imported.err()).isZero();
        Path kept = home.resolve("skydeck.original.db");
        assertThat(imported.out()).contains("4 experiments, 5 jobs").contains("kept, unchanged, as " + kept)
                .contains("Next: skydeck start");
        assertThat(sha256(kept)).isEqualTo(before);

        Result again = run("import", db.toString());
        assertThat(again.exit()).as(again.err()).isZero();
        assertThat(again.out()).contains("Nothing to import").contains("Nothing was changed");
        Result fromKept = run("import", kept.toString());
        assertThat(fromKept.exit()).as(fromKept.err()).isZero();
        assertThat(fromKept.out()).contains("Nothing to import");
        assertThat(sha256(kept)).isEqualTo(before);

        Instant started = Instant.now();
        Result start = run("start");
        assertThat(start.exit()).as(start.err()).isZero();
        // a poll of the local backend that began after the server started has finished
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            JsonNode poller = Json.MAPPER.readTree(run("status", "--json").out()).path("health").path("poller");
            return poller.hasNonNull("last_success")
                    && Instant.parse(poller.path("last_success").asText()).isAfter(started.plusSeconds(1));
        });

        JsonNode experiments = Json.MAPPER.readTree(run("exp", "list", "--json").out());
        assertThat(experiments.findValuesAsText("name"))
                .containsExactlyInAnyOrder("daveey.nav.baseline", "daveey.nav.baseline (copy)", "Test PPO Training");
        JsonNode jobs = Json.MAPPER.readTree(run("jobs", "--json").out());
        assertThat(StreamSupport.stream(jobs.spliterator(), false)
                .map(j -> j.path("backend").asText() + ":" + j.path("backend_job_id").asText() + ":"
                        + j.path("status").asText()).toList())
                .containsExactlyInAnyOrder("skypilot:9588:SUCCEEDED", "skypilot:9601:RUNNING",
                        "skypilot:9602:FAILED", "skypilot:9500:CANCELLED", "skypilot:9400:SUCCEEDED");
        Result copy = run("exp", "list", "-q", "(copy)", "--json");
        assertThat(Json.MAPPER.readTree(copy.out()).findValuesAsText("name")).containsExactly("daveey.nav.baseline (copy)");
    }

    @Test
    void restartKeepsTheRunningServersPortAndDatabaseAndKillOfThePidFileStopsIt() throws Exception {
        int own = freePortNumber();
        Path db = home.resolve("elsewhere").resolve("mine.db");
        Result start = run("start", "--port", Integer.toString(own), "--db-path", db.toString());
        assertThat(start.exit()).as(start.err()).isZero();
        assertThat(run("exp", "create", "kept.one").exit()).isZero();

        Result restart = run("restart");
        assertThat(restart.exit()).as(restart.err()).isZero();
        assertThat(restart.out()).contains("SkyDeck is running at http://127.0.0.1:" + own);
        Result status = run("status");
        assertThat(status.out()).contains("http://127.0.0.1:" + own).contains(db.toString());
        assertThat(run("exp", "list", "--json").out()).contains("kept.one");

        // the seeds' troubleshooting: kill $(cat ~/.skydeck/skydeck.pid)
        Path pidFile = home.resolve("skydeck.pid");
        String pid = Files.readString(pidFile).strip();
        assertThat(pid).matches("[0-9]+");
        Process kill = new ProcessBuilder("sh", "-c", "kill $(cat \"$1\")", "sh", pidFile.toString())
                .redirectErrorStream(true).start();
        assertThat(kill.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
        ProcessHandle server = ProcessHandle.of(Long.parseLong(pid)).orElse(null);
        if (server != null) {
            assertThat(server.onExit().get(30, TimeUnit.SECONDS).isAlive()).isFalse();
        }
        assertThat(pidFile).doesNotExist();
        assertThat(home.resolve("skydeck.server.json")).doesNotExist();
        assertThat(run("status").exit()).isEqualTo(3);
    }
}
