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

    /** The heap the server keeps itself under when the JVM was started without {@code -Xmx}. */
    public static final long SOFT_HEAP_LIMIT = 128L << 20;

    /**
     * Bounds this JVM when it was started without a heap limit ({@code java -jar skydeck.jar serve}):
     * the heap is given back when free (the collector's free ratios, a periodic collection when
     * idle), and a daemon watch runs a full collection whenever the committed heap passes
     * {@link #SOFT_HEAP_LIMIT}, at most every 10 s. A JVM cannot lower its own {@code -Xmx}, and
     * re-executing itself would leave users a launcher process whose pid and signals ({@code kill
     * -STOP}, {@code kill -9}) miss the server. With {@code -Xmx} given (the launcher script and
     * {@code skydeck start} give it) this does nothing.
     *
     * @return whether it applied
     */
    public static boolean boundUnlimitedHeap() {
        boolean limited = java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .anyMatch(a -> a.startsWith("-Xmx") || a.startsWith("-XX:MaxHeapSize") || a.startsWith("-XX:MaxRAM"));
        if (limited) {
            return false;
        }
        var hotspot = java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
        for (String[] option : new String[][] {{"MinHeapFreeRatio", "5"}, {"MaxHeapFreeRatio", "20"},
                {"G1PeriodicGCInterval", "5000"}}) {
            try {
                hotspot.setVMOption(option[0], option[1]);
            } catch (RuntimeException e) {
                // not this collector's option, or not manageable here: the watch below still bounds the heap
            }
        }
        java.lang.management.MemoryMXBean memory = java.lang.management.ManagementFactory.getMemoryMXBean();
        Thread watch = new Thread(() -> {
            long lastFull = 0;
            while (true) {
                try {
                    Thread.sleep(1_000);
                } catch (InterruptedException e) {
                    return;
                }
                long now = System.nanoTime();
                if (memory.getHeapMemoryUsage().getCommitted() > SOFT_HEAP_LIMIT
                        && now - lastFull > java.util.concurrent.TimeUnit.SECONDS.toNanos(10)) {
                    lastFull = now;
                    System.gc(); // a full collection, after which the collector gives the free heap back
                }
            }
        }, "skydeck-heap-bound");
        watch.setDaemon(true);
        watch.setPriority(Thread.MIN_PRIORITY);
        watch.start();
        return true;
    }
}
