package dev.skydeck.cli;

import dev.skydeck.SkyDeckConfig;
import dev.skydeck.SkyDeckException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The server's configuration (SPEC §12): command-line flags override the environment, which
 * overrides the defaults. Every value is checked here, once; a bad one stops start-up with a
 * message that names the setting.
 *
 * @param home              SkyDeck's folder ({@code SKYDECK_HOME}, default {@code ~/.skydeck}): pid and log files
 * @param dbPath            the SQLite file ({@code SKYDECK_DB_PATH}, default {@code <home>/skydeck.db}); unused
 *                          when {@code SKYDECK_DB_URL} names another database (see {@link #database()})
 * @param host              the address to bind ({@code SKYDECK_HOST}, default 127.0.0.1)
 * @param port              the port ({@code SKYDECK_PORT}, default 8000)
 * @param pollInterval      {@code SKYDECK_POLL_INTERVAL} seconds (default 30)
 * @param reconcileInterval {@code SKYDECK_RECONCILE_INTERVAL} seconds (default 60)
 * @param syncInterval      {@code SKYDECK_SYNC_INTERVAL} seconds (default 60)
 * @param backend           {@code SKYDECK_BACKEND}: local, skypilot or auto (default auto)
 * @param authToken         {@code SKYDECK_AUTH_TOKEN}, or {@code null}
 * @param allowedHosts      {@code SKYDECK_ALLOWED_HOSTS}: more names the Host header may carry
 * @param allowedOrigins    {@code SKYDECK_ALLOWED_ORIGINS}: more origins that may send unsafe requests
 * @param links             {@code SKYDECK_LINKS}: {@code label=https://…{name}…}, comma separated
 * @param uiDirectory       {@code SKYDECK_UI_DIR}: serve the dashboard from here (development), or {@code null}
 * @param engine            the library's settings ({@link SkyDeckConfig#fromEnvironment} over the same
 *                          environment and flags), which the server's SkyDeck runs with
 */
public record Settings(Path home, Path dbPath, String host, int port, Duration pollInterval,
                       Duration reconcileInterval, Duration syncInterval, String backend, String authToken,
                       Set<String> allowedHosts, Set<String> allowedOrigins, Map<String, String> links,
                       Path uiDirectory, SkyDeckConfig engine) {
    /** Every environment variable this reads. */
    public static final Set<String> VARIABLES = Set.of("SKYDECK_HOME", "SKYDECK_DB_PATH", "SKYDECK_DB_URL", "SKYDECK_HOST",
            "SKYDECK_PORT", "SKYDECK_POLL_INTERVAL", "SKYDECK_RECONCILE_INTERVAL", "SKYDECK_SYNC_INTERVAL",
            "SKYDECK_BACKEND", "SKYDECK_AUTH_TOKEN", "SKYDECK_ALLOWED_HOSTS", "SKYDECK_ALLOWED_ORIGINS",
            "SKYDECK_LINKS", "SKYDECK_UI_DIR");

    /** Freezes the collections. */
    public Settings {
        allowedHosts = Set.copyOf(allowedHosts);
        allowedOrigins = Set.copyOf(allowedOrigins);
        links = Map.copyOf(links);
    }

    /** Hides the token. */
    @Override
    public String toString() {
        return "Settings[home=" + home + ", db=" + database() + ", " + host + ":" + port + ", backend=" + backend
                + ", token=" + (authToken == null ? "none" : "set") + "]";
    }

    /**
     * Reads the settings.
     *
     * @param env       the environment
     * @param overrides values from command-line flags, keyed by the environment variable they replace
     * @throws SkyDeckException.InvalidInput naming the first bad setting
     */
    public static Settings load(Map<String, String> env, Map<String, String> overrides) {
        Map<String, String> v = new LinkedHashMap<>();
        for (String name : VARIABLES) {
            String value = overrides.containsKey(name) ? overrides.get(name) : env.get(name);
            if (value != null && !value.isBlank()) {
                v.put(name, value.strip());
            }
        }
        Path home = v.containsKey("SKYDECK_HOME") ? path("SKYDECK_HOME", v.get("SKYDECK_HOME"))
                : Path.of(System.getProperty("user.home"), ".skydeck");
        Path db = v.containsKey("SKYDECK_DB_PATH") ? path("SKYDECK_DB_PATH", v.get("SKYDECK_DB_PATH"))
                : home.resolve("skydeck.db");
        if (Files.isDirectory(db)) {
            throw bad("SKYDECK_DB_PATH", db.toString(), "it is a directory; name a file");
        }
        String host = v.getOrDefault("SKYDECK_HOST", "127.0.0.1");
        if (!host.matches("[A-Za-z0-9.:_-]{1,253}")) {
            throw bad("SKYDECK_HOST", host, "use an address such as 127.0.0.1 or 0.0.0.0");
        }
        int port = (int) number("SKYDECK_PORT", v.get("SKYDECK_PORT"), 8000, 0, 65_535);
        Duration poll = Duration.ofSeconds(number("SKYDECK_POLL_INTERVAL", v.get("SKYDECK_POLL_INTERVAL"), 30, 1, 86_400));
        Duration reconcile = Duration.ofSeconds(number("SKYDECK_RECONCILE_INTERVAL",
                v.get("SKYDECK_RECONCILE_INTERVAL"), 60, 1, 86_400));
        Duration sync = Duration.ofSeconds(number("SKYDECK_SYNC_INTERVAL", v.get("SKYDECK_SYNC_INTERVAL"), 60, 1, 86_400));
        String backend = v.getOrDefault("SKYDECK_BACKEND", "auto").toLowerCase(Locale.ROOT);
        if (!Set.of("auto", "local", "skypilot").contains(backend)) {
            throw bad("SKYDECK_BACKEND", backend, "use local, skypilot or auto");
        }
        String token = v.get("SKYDECK_AUTH_TOKEN");
        if (token != null && (token.length() < 16 || !token.matches("[\\x21-\\x7e]+"))) {
            // the value itself is never echoed
            throw new SkyDeckException.InvalidInput("SKYDECK_AUTH_TOKEN is not allowed: use at least 16 printable "
                    + "characters without spaces (for example: openssl rand -hex 32)");
        }
        Set<String> hosts = list(v.get("SKYDECK_ALLOWED_HOSTS"));
        for (String h : hosts) {
            if (!h.matches("[A-Za-z0-9.:_-]{1,253}")) {
                throw bad("SKYDECK_ALLOWED_HOSTS", h, "list host names separated by commas");
            }
        }
        Set<String> origins = list(v.get("SKYDECK_ALLOWED_ORIGINS"));
        for (String o : origins) {
            if (!o.matches("https?://[A-Za-z0-9.:\\[\\]_-]+")) {
                throw bad("SKYDECK_ALLOWED_ORIGINS", o, "list origins like http://localhost:5173 separated by commas");
            }
        }
        Map<String, String> links = new LinkedHashMap<>();
        if (v.containsKey("SKYDECK_LINKS")) {
            for (String item : v.get("SKYDECK_LINKS").split(",")) {
                int eq = item.indexOf('=');
                String label = eq < 0 ? "" : item.substring(0, eq).strip();
                String url = eq < 0 ? "" : item.substring(eq + 1).strip();
                if (label.isEmpty() || label.length() > 40 || !url.matches("https?://\\S+")) {
                    throw bad("SKYDECK_LINKS", item.strip(),
                            "use label=https://host/path/{name}, separated by commas");
                }
                links.put(label, url);
            }
        }
        Path ui = null;
        if (v.containsKey("SKYDECK_UI_DIR")) {
            ui = path("SKYDECK_UI_DIR", v.get("SKYDECK_UI_DIR"));
            if (!Files.isRegularFile(ui.resolve("index.html"))) {
                throw bad("SKYDECK_UI_DIR", ui.toString(), "it has no index.html (build the dashboard first)");
            }
        }
        Map<String, String> merged = new LinkedHashMap<>(env);
        merged.putAll(v);
        SkyDeckConfig engine = SkyDeckConfig.fromEnvironment(merged).toBuilder().home(home).databaseFile(db)
                .pollInterval(poll).reconcileInterval(reconcile).syncInterval(sync).build();
        return new Settings(home, db, host, port, poll, reconcile, sync, backend, token, hosts, origins, links, ui,
                engine);
    }

    /**
     * The database as it may be shown: the SQLite file, or {@code SKYDECK_DB_URL} without its
     * parameters (where a password may be).
     */
    public String database() {
        return engine.databaseUrlSet() ? SkyDeckConfig.withoutParameters(engine.databaseUrl()) : dbPath.toString();
    }

    /** Whether the deck is a SQLite file of this machine (not a database server). */
    public boolean localDatabase() {
        return engine.databaseUrl().startsWith("jdbc:sqlite:");
    }

    /**
     * The token the command line sends: {@code SKYDECK_TOKEN} (a user's, from
     * {@code skydeck token create}), else the server's {@code SKYDECK_AUTH_TOKEN}, else none.
     */
    public static String clientToken(Map<String, String> env, Settings s) {
        String mine = env.get("SKYDECK_TOKEN");
        return mine != null && !mine.isBlank() ? mine.strip() : s.authToken();
    }

    /** The pid file of the background server. */
    public Path pidFile() {
        return home.resolve("skydeck.pid");
    }

    /** The log file of the background server. */
    public Path logFile() {
        return home.resolve("skydeck.log");
    }

    /** The URL a client on this machine uses. */
    public String localUrl() {
        return dev.skydeck.server.SkyDeckServer.localUrl(host, port);
    }

    private static Path path(String name, String value) {
        try {
            String expanded = value.startsWith("~/") ? System.getProperty("user.home") + value.substring(1) : value;
            return Path.of(expanded).toAbsolutePath().normalize();
        } catch (RuntimeException e) {
            throw bad(name, value, "not a valid path");
        }
    }

    private static long number(String name, String value, long dflt, long min, long max) {
        if (value == null) {
            return dflt;
        }
        try {
            long n = Long.parseLong(value);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw bad(name, value, "use a whole number from " + min + " to " + max);
    }

    private static Set<String> list(String value) {
        if (value == null) {
            return Set.of();
        }
        return Arrays.stream(value.split(",")).map(String::strip).filter(s -> !s.isEmpty())
                .collect(Collectors.toUnmodifiableSet());
    }

    private static SkyDeckException.InvalidInput bad(String name, String value, String hint) {
        return new SkyDeckException.InvalidInput(name + "='" + value + "' is not allowed: " + hint);
    }

    /**
     * A stream limit from the environment ({@code SKYDECK_MAX_STREAMS},
     * {@code SKYDECK_MAX_STREAMS_PER_CLIENT}), or {@code dflt} when unset.
     *
     * @throws SkyDeckException.InvalidInput naming the variable when it is not a whole number from 1 to 1,000,000
     */
    public static int streamLimit(Map<String, String> env, String name, int dflt) {
        String v = env.get(name);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v.strip());
            if (n >= 1 && n <= 1_000_000) {
                return n;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new SkyDeckException.InvalidInput(name + "='" + v + "' is not allowed: use a whole number from 1 to 1000000");
    }
}
