package dev.skydeck.local;

import java.nio.file.Path;

/**
 * Run in a separate JVM by {@link LocalBackendTest}: launches one job that waits for a gate file
 * and then exits with code 7, and exits at once, as a SkyDeck process that stops would.
 * Arguments: {@code <jobsDir> <workDir> <launchId> <gateFile>}.
 */
public final class LaunchAndExit {
    private LaunchAndExit() {
    }

    public static void main(String[] args) {
        LocalBackend backend = LocalBackend.builder()
                .jobsDirectory(Path.of(args[0]))
                .workingDirectory(Path.of(args[1]))
                .gpuSlots(0)
                .build();
        backend.launch(LocalJobs.request("restarted", args[2], 0,
                LocalJobs.sh(LocalJobs.waitFor(Path.of(args[3])) + "; exit 7")));
        // No close(): the JVM just goes away.
        System.exit(0);
    }
}
