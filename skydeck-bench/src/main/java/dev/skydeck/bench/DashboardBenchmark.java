package dev.skydeck.bench;

import dev.skydeck.sqlite.SqliteStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The dashboard with 10,000 experiments (or the count given: 100,000 for the paging target of
 * issue 15; 10 flags, 10 jobs each) in Debian's headless Chromium, served by the PACKAGED jar as
 * its own process with the launcher's {@code serve} options: time to first render and to
 * interactive, a sort and a search, frame times while scrolling, a jump to the middle, the tab's
 * JS heap, bytes per idle minute with live updates. The measuring is
 * {@code skydeck-server/ui/e2e/bench.mjs}.
 *
 * <p>Run: {@code ./mvnw -q -pl skydeck-server -am -DskipTests install} (the jar with its
 * dashboard), then {@code ./mvnw -q -pl skydeck-bench exec:java
 * -Dbench.main=dev.skydeck.bench.DashboardBenchmark} (add {@code -Dexec.args=100000} for 100,000;
 * {@code -Dexec.args="100000 /tmp/dash.db"} keeps the seeded deck in that file and measures it
 * again on the next run without seeding).
 */
public final class DashboardBenchmark {
    private DashboardBenchmark() {
    }

    /** Fills a database (unless the file given exists), serves it from the packaged jar, and runs the browser script. */
    public static void main(String[] args) throws Exception {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        Path dir = Files.createTempDirectory("skydeck-dashboard-bench-");
        Path db = args.length > 1 ? Path.of(args[1]).toAbsolutePath() : dir.resolve("bench.db");
        Path ui = Path.of("skydeck-server/ui");
        if (!Files.isDirectory(ui)) {
            ui = Path.of("../skydeck-server/ui");
        }
        if (!Files.exists(db)) {
            try (SqliteStore store = SqliteStore.open(db)) {
                ServerBenchmark.fill(store, count, 10);
            }
        }
        ScaleBenchmark.Served served = ScaleBenchmark.serve(ScaleBenchmark.jar(), dir, List.of("--db-path", db.toString()));
        try {
            System.out.printf("dashboard benchmark: %,d experiments, %,d jobs, packaged server at %s, JVM options %s%n",
                    count, count * 10, served.base(), served.options());
            ProcessBuilder pb = new ProcessBuilder("node", "e2e/bench.mjs").directory(ui.toFile()).inheritIO();
            pb.environment().put("SKYDECK_URL", served.base());
            pb.environment().put("SCREENSHOTS", dir.toString());
            pb.environment().put("COUNT", Integer.toString(count));
            int exit = pb.start().waitFor();
            System.out.println("screenshot: " + dir.resolve("bench-" + count + ".png") + (exit == 0 ? "" : " (failed: " + exit + ")"));
        } finally {
            served.stop();
        }
        System.exit(0);
    }
}
