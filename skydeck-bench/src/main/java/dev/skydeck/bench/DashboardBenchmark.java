package dev.skydeck.bench;

import dev.skydeck.SkyDeck;
import dev.skydeck.server.SkyDeckServer;
import dev.skydeck.sqlite.SqliteStore;
import dev.skydeck.testing.FakeBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;

/**
 * The dashboard with 10,000 experiments (or the count given: 100,000 for the paging target of
 * issue 15; 10 flags, 10 jobs each) in Debian's headless Chromium: time to first render and to
 * interactive, a sort and a search, frame times while scrolling, a jump to the middle, the tab's
 * JS heap, bytes per idle minute with live updates. The measuring is
 * {@code skydeck-server/ui/e2e/bench.mjs}.
 *
 * <p>Run: {@code ./mvnw -q -pl skydeck-bench -am -DskipTests package exec:java
 * -Dbench.main=dev.skydeck.bench.DashboardBenchmark} (add {@code -Dexec.args=100000} for 100,000).
 */
public final class DashboardBenchmark {
    private DashboardBenchmark() {
    }

    /** Fills a database, serves it, and runs the browser script. */
    public static void main(String[] args) throws Exception {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        Path dir = Files.createTempDirectory("skydeck-dashboard-bench-");
        Path ui = Path.of("skydeck-server/ui");
        if (!Files.isDirectory(ui)) {
            ui = Path.of("../skydeck-server/ui");
        }
        try (SqliteStore store = SqliteStore.open(dir.resolve("bench.db"))) {
            ServerBenchmark.fill(store, count, 10);
            try (SkyDeck deck = SkyDeck.builder().store(store).backend(new FakeBackend(Clock.systemUTC())).build();
                 SkyDeckServer server = SkyDeckServer.builder(deck).port(0).build().start()) {
                System.out.printf("dashboard benchmark: %,d experiments, %,d jobs at %s%n", count, count * 10, server.url());
                ProcessBuilder pb = new ProcessBuilder("node", "e2e/bench.mjs").directory(ui.toFile()).inheritIO();
                pb.environment().put("SKYDECK_URL", server.url());
                pb.environment().put("SCREENSHOTS", dir.toString());
                pb.environment().put("COUNT", Integer.toString(count));
                int exit = pb.start().waitFor();
                System.out.println("screenshot: " + dir.resolve("bench-" + count + ".png") + (exit == 0 ? "" : " (failed: " + exit + ")"));
            }
        }
    }
}
