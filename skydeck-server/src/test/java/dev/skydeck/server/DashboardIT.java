package dev.skydeck.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.skydeck.SkyDeck;
import dev.skydeck.local.LocalBackend;
import dev.skydeck.local.LocalCheckpointSource;
import dev.skydeck.toy.ToyTrainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard end to end in a real headless Chromium (Debian's, driven by playwright-core from
 * {@code ui/e2e/run.mjs}) against the real server with the local backend and real toy-trainer
 * processes. Screenshots land in {@code target/screenshots}.
 */
class DashboardIT {
    static final Path CHROMIUM = Path.of(System.getProperty("skydeck.chromium", "/usr/bin/chromium"));

    @TempDir
    Path dir;

    /** {@code target/<path>}, emptied of an earlier run's pictures (its subfolders, other tests' own, stay). */
    private static Path screenshots(String... path) throws java.io.IOException {
        Path dir = Files.createDirectories(Path.of("target", path));
        try (var old = Files.list(dir)) {
            for (Path p : old.toList()) {
                if (Files.isRegularFile(p)) {
                    Files.delete(p);
                }
            }
        }
        return dir;
    }

    @Test
    void theDashboardWorksInARealBrowser() throws Exception {
        assertThat(CHROMIUM).as("Chromium is needed for the dashboard's browser tests: apt-get install -y chromium"
                + " (.ci/run does)").isExecutable();
        assertThat(DashboardIT.class.getClassLoader().getResource("skydeck-ui/index.html"))
                .as("the dashboard is built into the classes (not with -Dskydeck.ui.skip)").isNotNull();
        LocalBackend backend = LocalBackend.builder().jobsDirectory(dir.resolve("jobs"))
                .checkpointDirectory(dir.resolve("checkpoints")).gpuSlots(8).cancelGracePeriod(Duration.ofSeconds(2))
                .build();
        Path screenshots = screenshots("screenshots");
        try (SkyDeck deck = SkyDeck.builder().databaseFile(dir.resolve("skydeck.db")).backend(backend)
                .checkpoints(new LocalCheckpointSource(dir.resolve("checkpoints")))
                .pollInterval(Duration.ofMillis(300)).fastPollInterval(Duration.ofMillis(300))
                .syncInterval(Duration.ofSeconds(1)).build();
             SkyDeckServer server = SkyDeckServer.builder(deck).port(0).build().start()) {
            ProcessBuilder pb = new ProcessBuilder("node", "e2e/run.mjs").directory(Path.of("ui").toFile())
                    .redirectErrorStream(true);
            pb.environment().put("SKYDECK_URL", server.url());
            pb.environment().put("TOY_COMMAND", ToyTrainer.baseCommand());
            pb.environment().put("CHROMIUM", CHROMIUM.toString());
            pb.environment().put("SCREENSHOTS", screenshots.toAbsolutePath().toString());
            Process node = pb.start();
            node.getOutputStream().close();
            // its report, kept for the failure message (a passing run prints nothing) and in target/e2e.log
            java.util.List<String> report = new java.util.concurrent.CopyOnWriteArrayList<>();
            Thread echo = new Thread(() -> new java.io.BufferedReader(new java.io.InputStreamReader(node.getInputStream(),
                    java.nio.charset.StandardCharsets.UTF_8)).lines().forEach(report::add));
            echo.start();
            boolean done = node.waitFor(8, TimeUnit.MINUTES);
            echo.join(5_000);
            if (!done) {
                node.destroyForcibly();
            }
            Files.write(Path.of("target", "e2e.log"), report);
            String output = String.join("\n", report.subList(Math.max(0, report.size() - 60), report.size()));
            assertThat(done).as("the browser test finished within 8 minutes; its output:\n" + output).isTrue();
            assertThat(node.exitValue()).as("ui/e2e/run.mjs passed; its output (all of it in target/e2e.log):\n"
                    + output).isZero();
        } finally {
            backend.close();
        }
        assertThat(screenshots.resolve("01-experiments.png")).exists();
    }

    /**
     * Compare, Sweep, the charts and the other pages' defects ({@code ui/e2e/views.mjs}). The server
     * answers under two names, {@code 127.0.0.1} and {@code localhost}, and lists both in its allowed
     * origins, so a page loaded under one may use the other as its "Backend address".
     */
    @Test
    void theComparisonSweepAndChartViewsWorkInARealBrowser() throws Exception {
        assertThat(CHROMIUM).isExecutable();
        assertThat(DashboardIT.class.getClassLoader().getResource("skydeck-ui/index.html")).isNotNull();
        Path screenshots = screenshots("screenshots", "views");
        LocalBackend backend = LocalBackend.builder().jobsDirectory(dir.resolve("views-jobs"))
                .checkpointDirectory(dir.resolve("views-checkpoints")).gpuSlots(8)
                .cancelGracePeriod(Duration.ofSeconds(2)).build();
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort(); // the origins name the port, so it is chosen before the server starts
        }
        try (SkyDeck deck = SkyDeck.builder().databaseFile(dir.resolve("views.db")).backend(backend)
                .checkpoints(new LocalCheckpointSource(dir.resolve("views-checkpoints")))
                .pollInterval(Duration.ofMillis(300)).fastPollInterval(Duration.ofMillis(300))
                .syncInterval(Duration.ofSeconds(1)).build();
             SkyDeckServer server = SkyDeckServer.builder(deck).port(port)
                     .allowedOrigins(java.util.Set.of("http://localhost:" + port, "http://127.0.0.1:" + port))
                     .build().start()) {
            ProcessBuilder pb = new ProcessBuilder("node", "e2e/views.mjs").directory(Path.of("ui").toFile())
                    .redirectErrorStream(true);
            pb.environment().put("SKYDECK_URL", server.url());
            pb.environment().put("ALT_URL", "http://localhost:" + port);
            pb.environment().put("TOY_COMMAND", ToyTrainer.baseCommand());
            pb.environment().put("CHROMIUM", CHROMIUM.toString());
            pb.environment().put("SCREENSHOTS", screenshots.toAbsolutePath().toString());
            Process node = pb.start();
            node.getOutputStream().close();
            java.util.List<String> report = new java.util.concurrent.CopyOnWriteArrayList<>();
            Thread echo = new Thread(() -> new java.io.BufferedReader(new java.io.InputStreamReader(node.getInputStream(),
                    java.nio.charset.StandardCharsets.UTF_8)).lines().forEach(report::add));
            echo.start();
            boolean done = node.waitFor(8, TimeUnit.MINUTES);
            echo.join(5_000);
            if (!done) {
                node.destroyForcibly();
            }
            Files.write(Path.of("target", "e2e-views.log"), report);
            String output = String.join("\n", report.subList(Math.max(0, report.size() - 60), report.size()));
            assertThat(done).as("the browser test finished within 8 minutes; its output:\n" + output).isTrue();
            assertThat(node.exitValue()).as("ui/e2e/views.mjs passed; its output (all of it in target/e2e-views.log):\n"
                    + output).isZero();
        } finally {
            backend.close();
        }
        assertThat(screenshots.resolve("27-sweep.png")).exists();
    }

    @Test
    void onADeckWithUsersTheMineFiltersShowTheCallersOwn() throws Exception {
        assertThat(CHROMIUM).isExecutable();
        assertThat(DashboardIT.class.getClassLoader().getResource("skydeck-ui/index.html")).isNotNull();
        Path screenshots = screenshots("screenshots-users");
        LocalBackend backend = LocalBackend.builder().jobsDirectory(dir.resolve("mine-jobs")).gpuSlots(8).build();
        try (SkyDeck deck = SkyDeck.builder().databaseFile(dir.resolve("mine.db")).backend(backend)
                .pollInterval(Duration.ofMillis(300)).build()) {
            String alice = deck.createToken("alice").secret();
            deck.createToken("bob");
            deck.as("alice").create(dev.skydeck.ExperimentSpec.named("alice.one").baseCommand("true"));
            deck.as("alice").create(dev.skydeck.ExperimentSpec.named("shared.run").baseCommand("true"));
            SkyDeck bob = deck.as("bob");
            bob.create(dev.skydeck.ExperimentSpec.named("bob.one").baseCommand("true"));
            bob.setDesired(deck.experiment("shared.run"), dev.skydeck.DesiredState.RUNNING);
            bob.setDesired(deck.experiment("bob.one"), dev.skydeck.DesiredState.RUNNING);
            try (SkyDeckServer server = SkyDeckServer.builder(deck).port(0).build().start()) {
                ProcessBuilder pb = new ProcessBuilder("node", "e2e/mine.mjs").directory(Path.of("ui").toFile())
                        .redirectErrorStream(true);
                pb.environment().put("SKYDECK_URL", server.url());
                pb.environment().put("ALICE_TOKEN", alice);
                pb.environment().put("CHROMIUM", CHROMIUM.toString());
                pb.environment().put("SCREENSHOTS", screenshots.toAbsolutePath().toString());
                Process node = pb.start();
                node.getOutputStream().close();
                String output = new String(node.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                assertThat(node.waitFor(3, TimeUnit.MINUTES)).as(output).isTrue();
                assertThat(node.exitValue()).as("ui/e2e/mine.mjs passed; its output:\n" + output).isZero();
            }
        } finally {
            backend.close();
        }
    }

    /**
     * The experiments table ({@code ui/e2e/table.mjs}): paging, names, the expanded row in view at
     * 1280 and 1600 px, group names, confirmed group-wide edits, sorting, filters with counts,
     * search, URL state, CSV and columns, on a deck the script fills (a 40-run sweep, 155 others).
     */
    @Test
    void theExperimentsTableSortsFiltersPagesAndKeepsDetailsInView() throws Exception {
        assertThat(CHROMIUM).isExecutable();
        assertThat(DashboardIT.class.getClassLoader().getResource("skydeck-ui/index.html")).isNotNull();
        Path screenshots = screenshots("screenshots-table");
        LocalBackend backend = LocalBackend.builder().jobsDirectory(dir.resolve("table-jobs")).gpuSlots(8).build();
        try (SkyDeck deck = SkyDeck.builder().databaseFile(dir.resolve("table.db")).backend(backend)
                .pollInterval(Duration.ofMillis(300)).fastPollInterval(Duration.ofMillis(300)).build();
             SkyDeckServer server = SkyDeckServer.builder(deck).port(0).build().start()) {
            ProcessBuilder pb = new ProcessBuilder("node", "e2e/table.mjs").directory(Path.of("ui").toFile())
                    .redirectErrorStream(true);
            pb.environment().put("SKYDECK_URL", server.url());
            pb.environment().put("CHROMIUM", CHROMIUM.toString());
            pb.environment().put("SCREENSHOTS", screenshots.toAbsolutePath().toString());
            Process node = pb.start();
            node.getOutputStream().close();
            String output = new String(node.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            boolean done = node.waitFor(6, TimeUnit.MINUTES);
            Files.writeString(Path.of("target", "e2e-table.log"), output);
            assertThat(done).as(output).isTrue();
            assertThat(node.exitValue()).as("ui/e2e/table.mjs passed; its output:\n" + output).isZero();
        } finally {
            backend.close();
        }
        assertThat(screenshots.resolve("21-expanded-1280.png")).exists();
    }
}
