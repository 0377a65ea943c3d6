package dev.skydeck.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The processes a test's {@code SKYDECK_HOME} left behind: local jobs outlive the server by design
 * (a restarted server adopts them), so a test ends them itself before its temporary directory is
 * deleted, or a job still writing its log makes that deletion fail.
 */
final class LeftoverProcesses {
    private LeftoverProcesses() {
    }

    /**
     * SIGKILL to every process whose command line names {@code home} (job runners name their job
     * directory) and to their descendants (the commands), then waits for each to be gone.
     */
    static void killUnder(Path home) throws InterruptedException {
        String dir = home.toString();
        List<ProcessHandle> found = new ArrayList<>();
        try (Stream<ProcessHandle> all = ProcessHandle.allProcesses()) {
            all.filter(h -> h.info().commandLine().map(c -> c.contains(dir)).orElse(false)).forEach(h -> {
                h.descendants().forEach(found::add);
                found.add(h);
            });
        }
        found.forEach(ProcessHandle::destroyForcibly);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (ProcessHandle h : found) {
            try {
                h.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                // not gone within 10 s: the directory's deletion says so if it matters
            }
        }
    }
}
