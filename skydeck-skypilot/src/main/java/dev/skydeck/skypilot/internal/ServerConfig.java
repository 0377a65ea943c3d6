package dev.skydeck.skypilot.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.skydeck.SkyDeckException;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

/**
 * Where the SkyPilot API server is and who we are, found exactly as the SkyPilot client finds it
 * (SKYPILOT.md §1): endpoint from {@code SKYPILOT_API_SERVER_ENDPOINT}, else
 * {@code api_server.endpoint} in the user config ({@code SKYPILOT_GLOBAL_CONFIG} or
 * {@code ~/.sky/config.yaml}), else the project config ({@code SKYPILOT_PROJECT_CONFIG} or
 * {@code ./.sky.yaml}), else {@code http://127.0.0.1:46580}.
 *
 * @param endpoint     base URL without user info or trailing slash
 * @param source       where the endpoint came from (for logs and health)
 * @param basicAuth    {@code user:pass} from the URL, or {@code null}
 * @param token        the service-account token, or {@code null}
 * @param cookieFile   the cookie file ({@code SKYPILOT_API_COOKIE_FILE} or {@code ~/.sky/cookies.txt})
 * @param userHash     the 8-hex-digit user id
 * @param userName     the OS user name
 * @param configured   whether anything configured an endpoint (for backend {@code auto})
 */
public record ServerConfig(URI endpoint, String source, String basicAuth, String token, Path cookieFile,
                           String userHash, String userName, boolean configured) {
    /** The default endpoint of a local API server. */
    public static final String DEFAULT_ENDPOINT = "http://127.0.0.1:46580";

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /** Never shows the token or the password. */
    @Override
    public String toString() {
        return "ServerConfig[endpoint=" + endpoint + ", source=" + source + ", auth="
                + (token != null ? "service-account token" : basicAuth != null ? "basic" : "cookies/none")
                + ", user=" + userName + "/" + userHash + "]";
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
        Path globalConfig = path(env, "SKYPILOT_GLOBAL_CONFIG").orElse(home.resolve(".sky").resolve("config.yaml"));
        Path projectConfig = path(env, "SKYPILOT_PROJECT_CONFIG").orElse(workdir.resolve(".sky.yaml"));
        JsonNode global = readYaml(globalConfig);
        JsonNode project = readYaml(projectConfig);
        String raw;
        String source;
        boolean configured = true;
        if (nonBlank(env.get("SKYPILOT_API_SERVER_ENDPOINT"))) {
            raw = env.get("SKYPILOT_API_SERVER_ENDPOINT").strip();
            source = "SKYPILOT_API_SERVER_ENDPOINT";
        } else if (text(global, "api_server", "endpoint") != null) {
            raw = text(global, "api_server", "endpoint");
            source = "api_server.endpoint in " + globalConfig;
        } else if (text(project, "api_server", "endpoint") != null) {
            raw = text(project, "api_server", "endpoint");
            source = "api_server.endpoint in " + projectConfig;
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
        String token = nonBlank(env.get("SKYPILOT_SERVICE_ACCOUNT_TOKEN")) ? env.get("SKYPILOT_SERVICE_ACCOUNT_TOKEN").strip()
                : firstNonNull(text(global, "api_server", "service_account_token"),
                        text(project, "api_server", "service_account_token"));
        Path cookies = path(env, "SKYPILOT_API_COOKIE_FILE").orElse(home.resolve(".sky").resolve("cookies.txt"));
        String user = firstNonNull(env.get("USER"), env.get("LOGNAME"), System.getProperty("user.name"));
        return new ServerConfig(URI.create(base), source, basic, token, cookies,
                userHash(home.resolve(".sky").resolve("user_hash"), user, hostname), user, configured);
    }

    /**
     * The user hash: {@code ~/.sky/user_hash} if present and valid, else
     * {@code md5("<user>-<last 4 hex of md5(hostname)>")[:8]} as the SkyPilot client derives it.
     */
    public static String userHash(Path file, String user, String hostname) {
        try {
            if (Files.isRegularFile(file)) {
                String stored = Files.readString(file, StandardCharsets.UTF_8).strip();
                if (stored.matches("[0-9a-f]{8}")) {
                    return stored;
                }
            }
        } catch (IOException ignored) {
            // fall through to the derived hash, as the SkyPilot client does
        }
        String hostHash = md5(hostname);
        return md5(user + "-" + hostHash.substring(hostHash.length() - 4)).substring(0, 8);
    }

    static String md5(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is always available", e);
        }
    }

    private static JsonNode readYaml(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return YAML.readTree(file.toFile());
        } catch (IOException e) {
            throw new SkyDeckException.InvalidInput("cannot read the SkyPilot config " + file + ": " + e.getMessage());
        }
    }

    private static String text(JsonNode root, String a, String b) {
        if (root == null) {
            return null;
        }
        JsonNode n = root.path(a).path(b);
        return n.isTextual() && !n.asText().isBlank() ? n.asText().strip() : null;
    }

    private static Optional<Path> path(Map<String, String> env, String name) {
        return nonBlank(env.get(name)) ? Optional.of(Path.of(env.get(name).strip())) : Optional.empty();
    }

    private static boolean nonBlank(String s) {
        return s != null && !s.isBlank();
    }

    @SafeVarargs
    private static <T> T firstNonNull(T... values) {
        for (T v : values) {
            if (v != null) {
                return v;
            }
        }
        return null;
    }

    private static String decode(String s) {
        return java.net.URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }
}
