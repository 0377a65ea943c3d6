package dev.skydeck.cli.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The JVM options of the server process, chosen for a small footprint and a quick start on a
 * laptop or a small shared box (SPEC §15): the serial collector, a 256 MB heap that starts at
 * 64 MB and gives memory back above 40 % free, both JIT compilers on two compiler threads, small
 * thread stacks, and an application class-data archive (AppCDS) that the first run writes and
 * later runs map, which about halves start-up. {@code ./skydeck serve} and {@code demo} use the
 * same options (the launcher script repeats them).
 *
 * <p>Measured on the packaged server with 1,000 experiments (issue 15): the former
 * {@code -Xms16m -XX:MinHeapFreeRatio=5 -XX:MaxHeapFreeRatio=20} kept the heap near 22 MB, so a
 * full collection ran every one or two list requests (61 ms of server CPU per
 * {@code GET /api/groups}; 27 ms with the heap floor and ratios here). The C1-only
 * {@code -XX:TieredStopAtLevel=1} then cost another ~20 % (27 vs 22 ms, 25 vs 32 requests/s under
 * 16 clients) for ~35 MB less resident memory (peak 191 vs 231 MB), within the 250 MB target
 * either way: C2 stays. C2 compiling start-up code cost ~1.3 s more CPU before the first 200 of
 * {@code /api/health} (3.7 vs 2.2 s); with the tier-4 thresholds raised ~10× only code that stays
 * hot (the list paths, after a few dozen requests) reaches C2, and start-up costs what it does
 * with C1 alone (2.3–2.5 s of CPU). (Measured on a 2-core machine shared with other builds.)
 */
public final class JvmOptions {
    /** The fixed options. */
    public static final List<String> SERVER = List.of("-XX:+UseSerialGC", "-Xms64m", "-Xmx256m",
            "-XX:MinHeapFreeRatio=20", "-XX:MaxHeapFreeRatio=40", "-XX:CICompilerCount=2",
            "-XX:Tier4InvocationThreshold=40000", "-XX:Tier4MinInvocationThreshold=20000",
            "-XX:Tier4CompileThreshold=50000", "-XX:Tier4BackEdgeThreshold=400000", "-Xss256k",
            "-XX:ReservedCodeCacheSize=48m");

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

    /** The environment variable that keeps {@code serve} from re-executing itself ({@code 1}). */
    public static final String NO_REEXEC = "SKYDECK_NO_REEXEC";
    /** Set by a re-executing parent for its child: the parent's pid, whose end ends the child. */
    static final String PARENT_PID = "SKYDECK_REEXEC_PARENT";

    /** The heap the server keeps itself under when the JVM was started without {@code -Xmx}. */
    public static final long SOFT_HEAP_LIMIT = 128L << 20;

    /** Whether JVM options (as {@code getInputArguments} lists them) bound the heap. */
    static boolean boundsHeap(List<String> jvmArguments) {
        return jvmArguments.stream().anyMatch(a -> a.startsWith("-Xmx") || a.startsWith("-XX:MaxHeapSize")
                || a.startsWith("-XX:MaxRAM"));
    }

    /**
     * The child's command line: this JVM's binary with {@link #SERVER}'s options (and the
     * class-data archive) except those the user set otherwise, then the user's own JVM options,
     * then this jar's main class and {@code args}.
     */
    static List<String> childCommand(String javaBin, List<String> jvmArguments, Path home, String classpath,
                                     String[] args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBin);
        boolean ownGc = jvmArguments.stream().anyMatch(a -> a.matches("-XX:[+]Use[A-Za-z]*GC"));
        boolean ownArchive = jvmArguments.stream().anyMatch(a -> a.startsWith("-XX:SharedArchiveFile")
                || a.startsWith("-XX:ArchiveClassesAtExit") || a.startsWith("-Xshare"));
        for (String o : server(home, Path.of(classpath))) {
            boolean archive = o.startsWith("-XX:SharedArchiveFile") || o.startsWith("-XX:ArchiveClassesAtExit")
                    || o.startsWith("-Xshare") || o.startsWith("-Xlog:cds");
            boolean gc = o.equals("-XX:+UseSerialGC");
            String name = o.replaceFirst("^(-XX:[+-]?[A-Za-z]+|-X[a-z]+).*$", "$1").replaceFirst("^-XX:[+-]", "-XX:");
            boolean given = jvmArguments.stream().anyMatch(a -> a.replaceFirst("^-XX:[+-]", "-XX:").startsWith(name));
            if (!(archive && ownArchive) && !(gc && ownGc) && !given) {
                cmd.add(o);
            }
        }
        cmd.addAll(jvmArguments);
        cmd.add("-cp");
        cmd.add(classpath);
        cmd.add("dev.skydeck.cli.Main");
        cmd.addAll(List.of(args));
        return cmd;
    }

    /**
     * {@code java -jar skydeck.jar serve} (or {@code demo}) without a heap limit runs the server in
     * a child JVM with the server's options ({@link #SERVER}: a 256 MB heap, the serial collector,
     * small stacks), because a JVM cannot lower its own heap limit and the default (a quarter of
     * the machine's memory) lets a busy server grow to several hundred MB. The child is this JVM's
     * own binary and jar, started without a shell, sharing this terminal (stdin, stdout, stderr);
     * it writes the pid file (so {@code skydeck stop}, {@code kill} and {@code kill -9} reach the
     * JVM that serves), and ends when this process ends, even by {@code kill -9}. This process
     * waits, stops the child when it gets SIGTERM or Ctrl-C, and exits with the child's status.
     * Nothing happens with {@code -Xmx} or {@code -XX:MaxRAM…} given (the launcher script and
     * {@code skydeck start} give them), or with {@code SKYDECK_NO_REEXEC=1}, which keeps the
     * server in this JVM under {@link #boundUnlimitedHeap}'s softer bound.
     *
     * @return the child's exit status, or empty when this JVM is to serve itself
     */
    public static java.util.OptionalInt reexecIfUnbounded(String[] args, Path home) throws IOException,
            InterruptedException {
        if (args.length == 0 || !(args[0].equals("serve") || args[0].equals("demo"))
                || java.util.Arrays.asList(args).contains("--help") || java.util.Arrays.asList(args).contains("-h")
                || "1".equals(System.getenv(NO_REEXEC)) || System.getenv(PARENT_PID) != null) {
            return java.util.OptionalInt.empty();
        }
        List<String> jvm = java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments();
        String classpath = System.getProperty("java.class.path", "");
        if (boundsHeap(jvm) || classpath.isEmpty() || classpath.contains(java.io.File.pathSeparator)) {
            return java.util.OptionalInt.empty(); // bounded, or not run from the jar: serve here
        }
        String javaBin = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        ProcessBuilder pb = new ProcessBuilder(childCommand(javaBin, jvm, home, classpath, args)).inheritIO();
        pb.environment().put(PARENT_PID, Long.toString(ProcessHandle.current().pid()));
        Process child = pb.start();
        Thread stop = new Thread(() -> {
            if (child.isAlive()) {
                child.destroy(); // SIGTERM: the child closes the server and removes its pid file
                try {
                    if (!child.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                        child.destroyForcibly();
                    }
                } catch (InterruptedException e) {
                    child.destroyForcibly();
                }
            }
        }, "skydeck-stop-child");
        Runtime.getRuntime().addShutdownHook(stop);
        int status = child.waitFor();
        return java.util.OptionalInt.of(status);
    }

    /**
     * In a re-executed child: ends this JVM (through its shutdown hooks, which close the server)
     * when the parent that started it ends, however it ends.
     */
    public static void exitWithParent() {
        String parent = System.getenv(PARENT_PID);
        if (parent == null || !parent.matches("[0-9]{1,19}")) {
            return;
        }
        long pid = Long.parseLong(parent);
        java.util.Optional<ProcessHandle> h = ProcessHandle.of(pid);
        if (h.isEmpty() || ProcessHandle.current().parent().map(p -> p.pid() != pid).orElse(true)) {
            System.err.println("skydeck: the process that started this server (pid " + pid + ") is gone: stopping");
            System.exit(0);
        }
        h.get().onExit().thenRun(() -> {
            System.err.println("skydeck: the process that started this server (pid " + pid + ") ended: stopping");
            System.exit(0);
        });
    }

    /**
     * Bounds this JVM when it was started without a heap limit and may not re-execute itself
     * ({@code SKYDECK_NO_REEXEC=1}): the heap is given back when free (the collector's free
     * ratios, a periodic collection when idle), and a daemon watch runs a full collection whenever
     * the committed heap passes {@link #SOFT_HEAP_LIMIT}, at most every 10 s. A softer bound than
     * {@link #reexecIfUnbounded}'s (a JVM cannot lower its own {@code -Xmx}). With {@code -Xmx}
     * given this does nothing.
     *
     * @return whether it applied
     */
    public static boolean boundUnlimitedHeap() {
        boolean limited = boundsHeap(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
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
