package dev.skydeck.cli.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The JVM options of the server process, chosen for a small footprint and a quick start on a
 * laptop or a small shared box (SPEC §15): the serial collector, a heap that starts small and
 * gives memory back, the C1 compiler only, small thread stacks, and an application class-data
 * archive (AppCDS) that the first run writes and later runs map, which about halves start-up.
 * {@code ./skydeck serve} and {@code demo} use the same options (the launcher script repeats them).
 */
public final class JvmOptions {
    /** The fixed options. */
    public static final List<String> SERVER = List.of("-XX:+UseSerialGC", "-Xms16m", "-Xmx256m",
            "-XX:MinHeapFreeRatio=5", "-XX:MaxHeapFreeRatio=20", "-XX:TieredStopAtLevel=1", "-Xss256k",
            "-XX:ReservedCodeCacheSize=32m");

    private JvmOptions() {
    }

    /**
     * The server's options with the class-data archive for {@code jar} in {@code home}: mapped when
     * it exists, written at exit when it does not. The archive's name carries the jar's size and
     * time, so a rebuilt jar gets a new one.
     */
    public static List<String> server(Path home, Path jar) {
        List<String> out = new ArrayList<>(SERVER);
        if (Files.isRegularFile(jar)) {
            try {
                Path dir = Files.createDirectories(home.resolve("cds"));
                Path archive = dir.resolve("server-" + Files.size(jar) + "-" + Files.getLastModifiedTime(jar).to(java.util.concurrent.TimeUnit.SECONDS) * 1000
                        + ".jsa");
                out.add(Files.isRegularFile(archive) ? "-XX:SharedArchiveFile=" + archive
                        : "-XX:ArchiveClassesAtExit=" + archive);
                out.add("-Xshare:auto");
                out.add("-Xlog:cds=off,cds+dynamic=off");
            } catch (IOException e) {
                // no archive: start as usual
            }
        }
        return out;
    }
}
