package dev.skydeck.internal.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A test hook that makes a crash window deterministic: with the system property
 * {@value #PROPERTY} set to a point's name, the process stops at that point of a launch, leaves a
 * file {@code test-held-<point>} in the job directory and waits until a file {@code test-release}
 * (or {@code test-release-<point>}, to release one point only) appears there, or it is killed,
 * which is what the tests do. Unset, it does nothing.
 */
public final class TestHold {
    /** The system property naming the point to hold at. */
    public static final String PROPERTY = "skydeck.local.testHold";
    /** In the backend: the job directory exists, its runner is not started yet. */
    public static final String BEFORE_RUNNER = "before-runner";
    /** In the runner: it runs, but has not recorded its pid yet. */
    public static final String BEFORE_PID = "before-pid";
    /** In the backend's report of a job: its exit code and pids are read, its processes not looked for yet. */
    public static final String REPORT_READ = "report-read";

    private TestHold() {
    }

    /** Whether the hold at {@code point} is on. */
    public static boolean on(String point) {
        return point.equals(System.getProperty(PROPERTY));
    }

    /** Holds here if the property names {@code point}. */
    public static void at(String point, Path jobDir) {
        if (!on(point)) {
            return;
        }
        try {
            PrivateFiles.ensureFile(jobDir.resolve("test-held-" + point));
            while (!Files.exists(jobDir.resolve("test-release"))
                    && !Files.exists(jobDir.resolve("test-release-" + point))) {
                Thread.sleep(20);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
