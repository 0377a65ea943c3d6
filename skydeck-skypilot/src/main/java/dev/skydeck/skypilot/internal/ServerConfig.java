package dev.skydeck.skypilot.internal;

import dev.skydeck.SkyDeckException;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where the SkyPilot API server is and who we are, found exactly as the SkyPilot client finds it
 * (SKYPILOT.md §1, {@code sky/server/common.py}, {@code sky/utils/common_utils.py}): the endpoint
 * from {@code SKYPILOT_API_SERVER_ENDPOINT}, else {@code api_server.endpoint} in the merged client
 * config (project file over user file, {@link ClientConfig}), else {@code http://127.0.0.1:46580};
 * the user id from {@code SKYPILOT_USER_ID}, else {@code ~/.sky/user_hash}, else derived (and
 * written there) as the client derives it; the user name from {@code SKYPILOT_USER}, else the OS
 * user as Python's {@code getpass.getuser()} finds it.
 *
 * @param endpoint     base URL without user info or trailing slash
 * @param source       where the endpoint came from (for logs and health)
 * @param basicAuth    {@code user:pass} from the URL, or {@code null}
 * @param token        the service-account token, or {@code null}
 * @param cookieFile   the cookie file ({@code SKYPILOT_API_COOKIE_FILE} or {@code ~/.sky/cookies.txt})
 * @param userHash     the user id sent as {@code SKYPILOT_USER_ID}
 * @param userName     the user name sent as {@code SKYPILOT_USER}
 * @param configured   whether anything configured an endpoint (for backend {@code auto})
 * @param client       the merged client config, sent as {@code override_skypilot_config}
 */
public record ServerConfig(URI endpoint, String source, String basicAuth, String token, Path cookieFile,
                           String userHash, String userName, boolean configured, ClientConfig client) {
    /** The default endpoint of a local API server. */
    public static final String DEFAULT_ENDPOINT = "http://127.0.0.1:46580";
    /** What {@code common_utils.is_valid_user_hash} accepts. */
    private static final Pattern USER_HASH = Pattern.compile("^[a-zA-Z0-9][a-zA-Z0-9-]*$");
    /** The endpoints SkyPilot treats as a local API server ({@code AVAILABLE_LOCAL_API_SERVER_URLS}). */
    private static final List<String> LOCAL = List.of("http://0.0.0.0:46580", "http://localhost:46580",
            "http://127.0.0.1:46580");

    /** Registers the token and the basic-auth password as secrets, so no log or API answer shows them. */
    public ServerConfig {
        dev.skydeck.Secrets.register(token);
        if (basicAuth != null) {
            int colon = basicAuth.indexOf(':');
            dev.skydeck.Secrets.register(colon < 0 ? basicAuth : basicAuth.substring(colon + 1));
        }
    }

    /** Never shows the token or the password. */
    @Override
    public String toString() {
        return "ServerConfig[endpoint=" + endpoint + ", source=" + source + ", auth="
                + (token != null ? "service-account token" : basicAuth != null ? "basic" : "cookies/none")
                + ", user=" + userName + "/" + userHash + ", config=" + client.sources() + "]";
    }

    /** Whether SkyPilot counts this endpoint as a local API server ({@code using_remote_api_server} is the opposite). */
    public boolean local() {
        return LOCAL.contains(endpoint.toString());
    }

    /**
     * Discovers the configuration.
     *
     * @param env      the environment
     * @param home     the user's home directory
     * @param workdir  the working directory (for {@code .sky.yaml})
     * @param hostname this machine's name (for the derived user hash)
     */
    public static ServerConfig discover(Map<String, String> env, Path home, Path workdir, String hostname) {
        ClientConfig client = ClientConfig.load(env, home, workdir);
        String raw;
        String source;
        boolean configured = true;
        if (nonBlank(env.get("SKYPILOT_API_SERVER_ENDPOINT"))) {
            raw = env.get("SKYPILOT_API_SERVER_ENDPOINT").strip();
            source = "SKYPILOT_API_SERVER_ENDPOINT";
        } else if (client.text("api_server", "endpoint") != null) {
            raw = client.text("api_server", "endpoint");
            source = "api_server.endpoint in " + String.join(" + ", client.sources().stream().map(Path::toString)
                    .toList());
        } else {
            raw = DEFAULT_ENDPOINT;
            source = "default";
            configured = false;
        }
        URI uri;
        try {
            uri = URI.create(raw.strip());
        } catch (IllegalArgumentException e) {
            throw new SkyDeckException.InvalidInput("the SkyPilot API server endpoint from " + source
                    + " is not a URL: " + e.getMessage());
        }
        if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
                || uri.getHost() == null) {
            throw new SkyDeckException.InvalidInput("the SkyPilot API server endpoint from " + source
                    + " must be an http(s) URL such as http://127.0.0.1:46580");
        }
        String basic = uri.getRawUserInfo() == null ? null : decode(uri.getRawUserInfo());
        String base = uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort())
                + (uri.getRawPath() == null ? "" : uri.getRawPath());
        while (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        String token = nonBlank(env.get("SKYPILOT_SERVICE_ACCOUNT_TOKEN")) ? env.get("SKYPILOT_SERVICE_ACCOUNT_TOKEN")
                .strip() : client.text("api_server", "service_account_token");
        Path cookies = path(env, "SKYPILOT_API_COOKIE_FILE").orElse(home.resolve(".sky").resolve("cookies.txt"));
        String osUser = osUser(env);
        String name = env.get("SKYPILOT_USER") != null ? env.get("SKYPILOT_USER") : osUser;
        return new ServerConfig(URI.create(base), source, basic, token, cookies,
                userHash(env.get("SKYPILOT_USER_ID"), home.resolve(".sky").resolve("user_hash"), osUser, hostname), name,
                configured, client);
    }

    /** The OS user as {@code getpass.getuser()} finds it: {@code LOGNAME}, {@code USER}, {@code LNAME}, {@code USERNAME}. */
    static String osUser(Map<String, String> env) {
        for (String name : List.of("LOGNAME", "USER", "LNAME", "USERNAME")) {
            if (nonBlank(env.get(name))) {
                return env.get(name);
            }
        }
        return System.getProperty("user.name");
    }

    /**
     * The user id as {@code common_utils.get_user_hash()} finds it: {@code SKYPILOT_USER_ID} if
     * valid, else the user-hash file if valid, else
     * {@code md5("<os user>-<last 4 hex of md5(hostname)>")[:8]}, then written to the file.
     */
    public static String userHash(String fromEnv, Path file, String osUser, String hostname) {
        if (fromEnv != null && USER_HASH.matcher(fromEnv).matches()) {
            return fromEnv;
        }
        try {
            if (Files.isRegularFile(file)) {
                String stored = Files.readString(file, StandardCharsets.UTF_8).strip();
                if (USER_HASH.matcher(stored).matches()) {
                    return stored;
                }
            }
        } catch (IOException ignored) {
            // fall through to the derived hash, as the SkyPilot client does
        }
        String hostHash = md5(hostname);
        String derived = md5(osUser + "-" + hostHash.substring(hostHash.length() - 4)).substring(0, 8);
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, derived, StandardCharsets.UTF_8);
        } catch (IOException ignored) {
            // the same hash is derived next time
        }
        return derived;
    }

    /** This machine's name as {@code socket.gethostname()} gives it (the kernel's, not a DNS name). */
    public static String hostname() {
        for (Path p : List.of(Path.of("/proc/sys/kernel/hostname"), Path.of("/etc/hostname"))) {
            try {
                String h = Files.readString(p, StandardCharsets.UTF_8).strip();
                if (!h.isEmpty()) {
                    return h;
                }
            } catch (IOException | RuntimeException ignored) {
                // not Linux: ask the JDK
            }
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "localhost";
        }
    }

    static String md5(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is always available", e);
        }
    }

    private static Optional<Path> path(Map<String, String> env, String name) {
        return nonBlank(env.get(name)) ? Optional.of(Path.of(env.get(name).strip())) : Optional.empty();
    }

    private static boolean nonBlank(String s) {
        return s != null && !s.isBlank();
    }

    private static String decode(String s) {
        return java.net.URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }
}
