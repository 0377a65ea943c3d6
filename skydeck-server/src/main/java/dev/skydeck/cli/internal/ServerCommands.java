package dev.skydeck.cli.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.skydeck.SkyDeck;
import dev.skydeck.Secrets;
import dev.skydeck.SkyDeckException;
import dev.skydeck.SkyDeckHome;
import dev.skydeck.cli.Settings;
import dev.skydeck.server.SkyDeckServer;
import dev.skydeck.server.internal.Json;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The commands that run and manage the server process. */
public final class ServerCommands {
    /** Exit status of {@code status} when no server runs (as LSB init scripts do). */
    public static final int NOT_RUNNING = 3;

    private ServerCommands() {
    }

    /** The server's address, database and backend, as flags over the environment. */
    public static final class ServerOptions {
        @Option(names = "--host", description = "Address to bind (SKYDECK_HOST, default 127.0.0.1).")
        String host;
        @Option(names = "--port", description = "Port (SKYDECK_PORT, default 8000; 0 picks a free one).")
        String port;
        @Option(names = "--db-path", description = "SQLite file (SKYDECK_DB_PATH, default ~/.skydeck/skydeck.db).")
        String dbPath;
        @Option(names = "--db-url", description = "A database server instead of the SQLite file (SKYDECK_DB_URL),"
                + " such as jdbc:postgresql://db:5432/skydeck; the password comes from PGPASSWORD or ~/.pgpass.")
        String dbUrl;
        @Option(names = "--backend", description = "local, skypilot or auto (SKYDECK_BACKEND, default auto).")
        String backend;

        Settings settings() {
            Map<String, String> overrides = new LinkedHashMap<>();
            put(overrides, "SKYDECK_HOST", host);
            put(overrides, "SKYDECK_PORT", port);
            put(overrides, "SKYDECK_DB_PATH", dbPath);
            put(overrides, "SKYDECK_DB_URL", dbUrl);
            put(overrides, "SKYDECK_BACKEND", backend);
            return Settings.load(System.getenv(), overrides);
        }

        List<String> asArguments() {
            List<String> args = new ArrayList<>();
            add(args, "--host", host);
            add(args, "--port", port);
            add(args, "--db-path", dbPath);
            add(args, "--db-url", dbUrl);
            add(args, "--backend", backend);
            return args;
        }

        private static void put(Map<String, String> m, String k, String v) {
            if (v != null) {
                m.put(k, v);
            }
        }

        private static void add(List<String> args, String flag, String v) {
            if (v != null) {
                args.add(flag);
                args.add(v);
            }
        }
    }

    /** Runs the server in this process until SIGTERM or Ctrl-C. */
    @Command(name = "serve", mixinStandardHelpOptions = true, description = "Run the server in the foreground.")
    public static final class Serve implements Callable<Integer> {
        @Mixin
        ServerOptions options = new ServerOptions();
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Settings s = options.settings();
            JvmOptions.exitWithParent(); // the bounded child of `java -jar skydeck.jar serve` ends with its parent
            JvmOptions.boundUnlimitedHeap(); // with SKYDECK_NO_REEXEC=1, `java -jar … serve` without -Xmx still must not grow without end
            Running running = Running.open(s, options.backend, false);
            running.announce(spec.commandLine().getOut(), null);
            running.server.join();
            return 0;
        }
    }

    /** A SkyDeck and its server in this process, closed in order on shutdown. */
    static final class Running {
        private static final List<AutoCloseable> HOME_LOCKS = new java.util.concurrent.CopyOnWriteArrayList<>();
        final SkyDeck deck;
        final SkyDeckServer server;
        final Settings settings;

        private Running(SkyDeck deck, SkyDeckServer server, Settings settings) {
            this.deck = deck;
            this.server = server;
            this.settings = settings;
        }

        static Running open(Settings s, String backend, boolean portFallback) throws IOException {
            return open(s, backend, "--backend", portFallback, d -> {
            });
        }

        static Running open(Settings s, String backend, String backendChosenBy, boolean portFallback,
                            java.util.function.Consumer<SkyDeck> before) throws IOException {
            // the configured token and the database's password never reach the log or a job's log
            Secrets.register(s.authToken());
            Secrets.registerEnvironment(Map.of("SKYDECK_DB_URL", s.engine().databaseUrl()));
            SkyDeckHome.createPrivateDirectories(s.home());
            if (!s.engine().databaseUrlSet()) {
                SkyDeckHome.createPrivateDirectories(s.dbPath().getParent());
            }
            if (s.localDatabase()) {
                holdHomeLock(s);
            }
            makePrivate(s.home().resolve("cds"));
            if (Files.exists(s.logFile())) {
                SkyDeckHome.makePrivate(s.logFile());
            }
            SkyDeck.Builder b = SkyDeck.builder().config(s.engine());
            if (backend != null) {
                b.backend(backend, backendChosenBy);
            }
            SkyDeck deck = b.build();
            SkyDeckServer server;
            try {
                before.accept(deck);
                server = start(deck, s, s.port());
            } catch (SkyDeckException e) {
                if (!portFallback || s.port() == 0 || !e.getMessage().startsWith("cannot listen")) {
                    deck.close();
                    throw e;
                }
                server = start(deck, s, 0);
            } catch (RuntimeException e) {
                deck.close();
                throw e;
            }
            Running r = new Running(deck, server, s);
            long pid = ProcessHandle.current().pid();
            new PidFile(pid, server.url(), s.database(), Instant.now(), s.host(), server.port(),
                    backend != null ? backend : s.backend()).write(s.pidFile());
            SkyDeckServer srv = server;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                srv.close();
                deck.close();
                PidFile.removeIfOwn(s.pidFile(), pid);
            }, "skydeck-shutdown"));
            return r;
        }

        /** One server per home on its own SQLite database: a second one stops here, saying which runs. */
        private static void holdHomeLock(Settings s) throws IOException {
            // `skydeck start` probes the lock for an instant while it waits for its server: try for 2 s,
            // so only a server that really holds it keeps this one out
            Optional<AutoCloseable> lock = PidFile.lock(s.pidFile());
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (lock.isEmpty() && System.nanoTime() < until) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
                lock = PidFile.lock(s.pidFile());
            }
            if (lock.isEmpty()) {
                Optional<PidFile> other = PidFile.readLive(s.pidFile());
                throw new SkyDeckException("another SkyDeck server already runs on " + s.home()
                        + other.map(p -> " (pid " + p.pid() + (p.url() == null ? "" : ", " + p.url()) + ")")
                        .orElse(" (it is starting)")
                        + ": use it, stop it with `skydeck stop`, or give this one another SKYDECK_HOME");
            }
            HOME_LOCKS.add(lock.get()); // held until this process ends
        }

        /** Files left by earlier runs (the class-data archive the JVM writes at exit) become private too. */
        private static void makePrivate(Path dir) {
            if (!Files.isDirectory(dir)) {
                return;
            }
            try (var files = Files.walk(dir)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    SkyDeckHome.makePrivate(p);
                }
            } catch (IOException | java.io.UncheckedIOException e) {
                // not ours to fail a start over
            }
        }

        private static SkyDeckServer start(SkyDeck deck, Settings s, int port) {
            return SkyDeckServer.builder(deck).host(s.host()).port(port).authToken(s.authToken())
                    .allowedHosts(s.allowedHosts()).allowedOrigins(s.allowedOrigins()).links(s.links())
                    .uiDirectory(s.uiDirectory())
                    .maxStreams(Settings.streamLimit(System.getenv(), "SKYDECK_MAX_STREAMS", SkyDeckServer.DEFAULT_MAX_STREAMS))
                    .maxStreamsPerClient(Settings.streamLimit(System.getenv(), "SKYDECK_MAX_STREAMS_PER_CLIENT",
                            SkyDeckServer.DEFAULT_MAX_STREAMS_PER_CLIENT))
                    .build().start();
        }

        void announce(PrintWriter out, String extra) {
            var h = deck.health();
            out.println("SkyDeck " + SkyDeck.VERSION + " serving " + server.url());
            out.println("  database  " + settings.database());
            if (h.engine() != null && !h.engine().leader()) {
                out.println("  engine    standby: " + (h.engine().other() == null ? "another process"
                        : h.engine().other()) + " reconciles, polls and syncs");
            }
            out.println("  backend   " + h.backendKind() + " (" + h.backendReason() + ")");
            if (extra != null) {
                out.println(extra);
            }
            out.println("Stop with Ctrl-C (or `skydeck stop`).");
            out.flush();
        }
    }

    /** Starts the server in the background. */
    @Command(name = "start", mixinStandardHelpOptions = true, description = "Start the server in the background.")
    public static final class Start implements Callable<Integer> {
        @Mixin
        ServerOptions options = new ServerOptions();
        @Option(names = "--timeout", description = "Seconds to wait for it to answer (default 60).")
        int timeout = 60;
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PidFile p = startInBackground(options, Duration.ofSeconds(timeout), spec.commandLine().getOut());
            spec.commandLine().getOut().println("SkyDeck is running at " + p.url() + " (pid " + p.pid() + ")");
            return 0;
        }
    }

    static PidFile startInBackground(ServerOptions options, Duration timeout, PrintWriter out)
            throws IOException, InterruptedException {
        Settings s = options.settings();
        Optional<PidFile> live = PidFile.readLive(s.pidFile());
        if (live.isPresent()) {
            out.println("SkyDeck is already running (pid " + live.get().pid() + ")");
            return live.get();
        }
        SkyDeckHome.createPrivateDirectories(s.home());
        SkyDeckHome.createPrivateDirectories(s.home().resolve("cds"));
        SkyDeckHome.ensurePrivateFile(s.logFile());
        List<String> cmd = new ArrayList<>();
        for (String setsid : List.of("/usr/bin/setsid", "/bin/setsid")) {
            if (Files.isExecutable(Path.of(setsid))) {
                cmd.add(setsid); // its own session: closing the terminal does not stop the server
                break;
            }
        }
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String classpath = System.getProperty("java.class.path");
        cmd.addAll(JvmOptions.server(s.home(), Path.of(classpath)));
        cmd.add("-cp");
        cmd.add(classpath);
        cmd.add("dev.skydeck.cli.Main");
        cmd.add("serve");
        cmd.addAll(options.asArguments());
        long logStart = Files.exists(s.logFile()) ? Files.size(s.logFile()) : 0;
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(s.logFile().toFile()));
        Process process = pb.start();
        process.getOutputStream().close();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<PidFile> p = PidFile.read(s.pidFile());
            if (p.isPresent() && p.get().pid() == process.pid()) {
                return p.get();
            }
            if (!process.isAlive() && PidFile.lockedElsewhere(s.pidFile())) {
                // another start won the home at the same instant: that server is the one
                Optional<PidFile> other = PidFile.readLive(s.pidFile());
                if (other.isPresent()) {
                    out.println("SkyDeck is already running (pid " + other.get().pid() + ")");
                    return other.get();
                }
                process.waitFor(100, TimeUnit.MILLISECONDS);
                continue;
            }
            if (!process.isAlive()) {
                throw new SkyDeckException("the server stopped at start-up (exit " + process.exitValue() + "):\n"
                        + tail(s.logFile(), logStart, 15) + "\nfull log: " + s.logFile());
            }
            process.waitFor(100, TimeUnit.MILLISECONDS);
        }
        throw new SkyDeckException("the server did not come up within " + timeout.toSeconds() + " s; see "
                + s.logFile());
    }

    private static String tail(Path log, long from, int lines) throws IOException {
        if (!Files.exists(log)) {
            return "(no log)";
        }
        List<String> all = new String(readFrom(log, from), StandardCharsets.UTF_8).lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    /** What the file holds from byte {@code from} on (at most 1 MiB). */
    private static byte[] readFrom(Path file, long from) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            f.seek(Math.min(from, f.length()));
            byte[] rest = new byte[(int) Math.min(f.length() - f.getFilePointer(), 1 << 20)];
            f.readFully(rest);
            return rest;
        }
    }

    /** Stops the background server: SIGTERM, then SIGKILL after a timeout. */
    @Command(name = "stop", mixinStandardHelpOptions = true, description = "Stop the background server.")
    public static final class Stop implements Callable<Integer> {
        @Option(names = "--timeout", description = "Seconds to wait after SIGTERM before SIGKILL (default 30).")
        int timeout = 30;
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Settings s = Settings.load(System.getenv(), Map.of());
            stop(s, Duration.ofSeconds(timeout), spec.commandLine().getOut());
            return 0;
        }
    }

    static void stop(Settings s, Duration timeout, PrintWriter out) throws InterruptedException {
        Optional<PidFile> live = PidFile.readLive(s.pidFile());
        if (live.isEmpty()) {
            out.println("SkyDeck is not running");
            return;
        }
        ProcessHandle h = ProcessHandle.of(live.get().pid()).orElse(null);
        if (h != null) {
            h.destroy();
            try {
                h.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                out.println("SkyDeck stopped (pid " + h.pid() + ")");
            } catch (TimeoutException e) {
                h.destroyForcibly();
                h.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(x -> null).join();
                out.println("SkyDeck did not stop within " + timeout.toSeconds() + " s after SIGTERM: killed (pid "
                        + h.pid() + ")");
            } catch (java.util.concurrent.ExecutionException e) {
                out.println("SkyDeck stopped (pid " + h.pid() + ")");
            }
        }
        PidFile.removeIfOwn(s.pidFile(), live.get().pid());
    }

    /** Stops, then starts, the background server. */
    @Command(name = "restart", mixinStandardHelpOptions = true, description = "Restart the background server.")
    public static final class Restart implements Callable<Integer> {
        @Mixin
        ServerOptions options = new ServerOptions();
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            Settings s = options.settings();
            ServerOptions again = keepRunningOptions(options, PidFile.readLive(s.pidFile()));
            stop(s, Duration.ofSeconds(30), out);
            PidFile p = startInBackground(again, Duration.ofSeconds(60), out);
            out.println("SkyDeck is running at " + p.url() + " (pid " + p.pid() + ")");
            return 0;
        }
    }

    /**
     * The options {@code restart} starts the server with: those the running server was started with
     * (its address, port, database and backend, from its metadata file), each replaced by one given
     * to {@code restart} itself.
     */
    static ServerOptions keepRunningOptions(ServerOptions given, Optional<PidFile> running) {
        ServerOptions o = new ServerOptions();
        PidFile p = running.orElse(null);
        o.host = given.host != null ? given.host : p == null ? null : p.host();
        o.port = given.port != null ? given.port : p == null || p.port() <= 0 ? null : Integer.toString(p.port());
        o.dbPath = given.dbPath != null ? given.dbPath : p == null ? null : p.db();
        o.backend = given.backend != null ? given.backend : p == null ? null : p.backend();
        return o;
    }

    /** Shows whether the background server runs, where, and how it is. */
    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Show the background server's pid, URL, database, backend and health (exit 3 if not running).")
    public static final class Status implements Callable<Integer> {
        @Option(names = "--json", description = "Print JSON.")
        boolean json;
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            Settings s = Settings.load(System.getenv(), Map.of());
            Optional<PidFile> live = PidFile.readLive(s.pidFile());
            if (live.isEmpty()) {
                if (json) {
                    out.println(Json.string(Map.of("running", false)));
                } else {
                    out.println("SkyDeck is not running (start it with `skydeck start`)");
                }
                return NOT_RUNNING;
            }
            PidFile p = live.get();
            String url = p.url() != null ? p.url() : s.localUrl();
            JsonNode health = null;
            String problem = null;
            try {
                health = new ApiClient(url, Settings.clientToken(System.getenv(), s)).get("/api/health");
            } catch (ApiClient.Failure e) {
                problem = e.getMessage();
            }
            if (json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("running", true);
                m.put("pid", p.pid());
                m.put("url", url);
                m.put("db", p.db());
                m.put("started_at", p.startedAt() == null ? null : p.startedAt().toString());
                m.put("log", s.logFile().toString());
                m.put("health", health);
                m.put("problem", problem);
                out.println(Json.string(m));
                return 0;
            }
            List<List<String>> rows = new ArrayList<>();
            rows.add(List.of("pid", Long.toString(p.pid())));
            rows.add(List.of("url", url));
            rows.add(List.of("db", String.valueOf(p.db())));
            rows.add(List.of("log", s.logFile().toString()));
            rows.add(List.of("up since", String.valueOf(p.startedAt())));
            if (health != null) {
                JsonNode b = health.path("backend");
                rows.add(List.of("backend", b.path("kind").asText() + " (" + b.path("reason").asText() + ")"));
                rows.add(List.of("health", health.path("status").asText() + ": " + health.path("experiments").asLong()
                        + " experiments, " + health.path("active_jobs").asLong() + " active jobs"));
                rows.add(List.of("poller", component(health.path("poller"))));
                rows.add(List.of("reconciler", component(health.path("reconciler"))));
                rows.add(List.of("syncer", component(health.path("syncer"))));
            } else {
                rows.add(List.of("health", "unreachable: " + problem));
            }
            out.println("SkyDeck is running");
            Output.table(out, List.of("", ""), rows.stream().map(r -> List.of("  " + r.get(0), r.get(1))).toList());
            return 0;
        }

        private static String component(JsonNode c) {
            String last = c.path("stale_seconds").isNumber()
                    ? "ok " + Math.round(c.path("stale_seconds").asDouble()) + " s ago" : "not run yet";
            return c.path("last_error").isTextual() ? last + "; last error: " + c.path("last_error").asText() : last;
        }
    }

    /** Prints (and follows) the background server's log. */
    @Command(name = "logs", mixinStandardHelpOptions = true, description = "Print the background server's log.")
    public static final class Logs implements Callable<Integer> {
        @Option(names = {"-f", "--follow"}, description = "Keep printing new lines.")
        boolean follow;
        @Option(names = {"-n", "--lines"}, description = "Lines to print first (default 50).")
        int lines = 50;
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Settings s = Settings.load(System.getenv(), Map.of());
            PrintWriter out = spec.commandLine().getOut();
            Path log = s.logFile();
            if (!Files.exists(log)) {
                out.println("no log yet at " + log + " (the background server writes it)");
                return follow ? 1 : 0;
            }
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            all.subList(Math.max(0, all.size() - Math.max(0, lines)), all.size()).forEach(out::println);
            out.flush();
            if (!follow) {
                return 0;
            }
            long pos = Files.size(log);
            while (!Thread.currentThread().isInterrupted()) {
                long size = Files.size(log);
                if (size < pos) {
                    pos = 0; // the log was truncated or rotated
                }
                if (size > pos) {
                    byte[] chunk = readFrom(log, pos);
                    out.print(new String(chunk, StandardCharsets.UTF_8));
                    out.flush();
                    pos += chunk.length;
                } else {
                    Thread.sleep(200);
                }
            }
            return 0;
        }
    }

    /** Starts the server if needed and opens the dashboard in a browser. */
    @Command(name = "open", mixinStandardHelpOptions = true,
            description = "Start the server if needed and open the dashboard (what `skydeck` alone does).")
    public static final class Open implements Callable<Integer> {
        @Mixin
        ServerOptions options = new ServerOptions();

        @Override
        public Integer call() throws Exception {
            PrintWriter out = new PrintWriter(System.out, true);
            PidFile p = startInBackground(options, Duration.ofSeconds(60), out);
            out.println("SkyDeck dashboard: " + p.url());
            browse(p.url());
            return 0;
        }
    }

    /** Opens {@code url} in the desktop's browser, when there is a desktop. */
    static void browse(String url) {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        List<String> cmd = null;
        if (os.contains("mac")) {
            cmd = List.of("open", url);
        } else if (System.getenv("DISPLAY") != null || System.getenv("WAYLAND_DISPLAY") != null) {
            cmd = List.of("xdg-open", url);
        }
        if (cmd == null) {
            return;
        }
        try {
            new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            // no opener: the URL is printed already
        }
    }

    /** Creates a small grid of toy experiments on the local backend, starts them and serves the dashboard. */
    @Command(name = "demo", mixinStandardHelpOptions = true,
            description = "Serve a demo: a grid of toy-trainer experiments running as local processes "
                    + "(database ~/.skydeck/demo.db unless --db-path).")
    public static final class Demo implements Callable<Integer> {
        @Mixin
        ServerOptions options = new ServerOptions();
        @Option(names = "--experiments", description = "How many toy experiments (default 6, at most 200).")
        int count = 6;
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            if (count < 1 || count > 200) {
                throw new SkyDeckException.InvalidInput("--experiments " + count + " is not allowed: use 1 to 200");
            }
            if (options.backend != null && !options.backend.equalsIgnoreCase("local")) {
                throw new SkyDeckException.InvalidInput("the demo runs on the local backend only, not '"
                        + options.backend + "'");
            }
            Settings base = options.settings();
            JvmOptions.exitWithParent();
            JvmOptions.boundUnlimitedHeap();
            Settings s = options.dbPath != null || System.getenv("SKYDECK_DB_PATH") != null ? base
                    : new Settings(base.home(), base.home().resolve("demo.db"), base.host(), base.port(),
                    base.pollInterval(), base.reconcileInterval(), base.syncInterval(), "local", base.authToken(),
                    base.allowedHosts(), base.allowedOrigins(), base.links(), base.uiDirectory(),
                    base.engine().toBuilder().databaseFile(base.home().resolve("demo.db"))
                            .backend("local", "skydeck demo").build());
            int[] started = new int[1];
            Running running = Running.open(s, "local", "skydeck demo", options.port == null,
                    deck -> started[0] = DemoGrid.createAndStart(deck, count));
            running.announce(spec.commandLine().getOut(), "  demo      " + started[0]
                    + " toy experiments running as local processes; open the URL above");
            running.server.join();
            return 0;
        }
    }
}
