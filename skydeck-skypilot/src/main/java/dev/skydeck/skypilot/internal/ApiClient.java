package dev.skydeck.skypilot.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.skydeck.SkyDeckException;
import dev.skydeck.spi.BackendException;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SkyPilot API server's HTTP protocol (SKYPILOT.md §2–§4): headers and identity on every
 * call, the asynchronous request model (submit, poll {@code /api/status}, one {@code /api/get}),
 * the double-encoded {@code return_value}/{@code error}, and every auth failure turned into an
 * error that says what to do. Tokens and cookies never appear in a message or a log line.
 */
public final class ApiClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ApiClient.class);
    /** The API version SkyDeck speaks. */
    public static final int API_VERSION = 49;
    /** The client version SkyDeck announces. */
    public static final String CLIENT_VERSION = "1.0.0";
    private static final MediaType JSON = MediaType.get("application/json");
    static final ObjectMapper MAPPER = new ObjectMapper();

    /** A finished request: its status and decoded value or error. */
    public record Result(String requestId, String status, JsonNode value, JsonNode error) {
        /** The failed request's Python exception class, or {@code null}. */
        public String errorType() {
            return error == null || error.isNull() ? null : error.path("type").asText(null);
        }

        /** The failed request's message without ANSI colour codes, or {@code null}. */
        public String errorMessage() {
            return error == null || error.isNull() ? null
                    : error.path("message").asText("").replaceAll("\u001B\\[[0-9;]*m", "").strip();
        }
    }

    /** The server asked for the request to be submitted again (503 from {@code /api/get}). */
    public static final class ResubmitException extends BackendException {
        private static final long serialVersionUID = 1L;

        ResubmitException(String message) {
            super(message, true);
        }
    }

    /** The server does not know the request (404 from {@code /api/get}): it finished long ago, or was lost. */
    public static final class UnknownRequestException extends BackendException {
        private static final long serialVersionUID = 1L;

        UnknownRequestException(String message) {
            super(message, false);
        }
    }

    private final ServerConfig config;
    private final OkHttpClient http;
    private final Clock clock;
    private final RandomGenerator random;
    private final Duration statusPollMin;
    private final Duration statusPollMax;
    private final int maxAttempts;
    private final Waiter waiter = new Waiter();
    private volatile boolean closed;

    /** A client for {@code config}'s server. */
    public ApiClient(ServerConfig config, Duration connectTimeout, Duration readTimeout, Clock clock,
                     RandomGenerator random, Duration statusPollMin, Duration statusPollMax, int maxAttempts) {
        this.config = config;
        this.clock = clock;
        this.random = random;
        this.statusPollMin = statusPollMin;
        this.statusPollMax = statusPollMax;
        this.maxAttempts = maxAttempts;
        this.http = new OkHttpClient.Builder().connectTimeout(connectTimeout).readTimeout(readTimeout)
                .writeTimeout(readTimeout).callTimeout(readTimeout.plus(connectTimeout))
                .followRedirects(false).followSslRedirects(false).build();
    }

    /** The server's base URL (never with credentials). */
    public String endpoint() {
        return config.endpoint().toString();
    }

    /** The configuration. */
    public ServerConfig config() {
        return config;
    }

    // ---- calls ----

    /** {@code GET /api/health} (not asynchronous); returns the body, checking version headers and auth. */
    public JsonNode health() {
        return retrying("health", () -> {
            try (Response r = http.newCall(request("/api/health").get().build()).execute()) {
                checkAuth(r, "/api/health");
                String body = body(r);
                if (r.code() != 200) {
                    throw httpError(r.code(), "/api/health", body, true);
                }
                if (r.header("X-SkyPilot-API-Version") == null && r.header("X-SkyPilot-Version") == null) {
                    throw BackendException.permanent("the server at " + endpoint() + " answered /api/health without"
                            + " SkyPilot version headers: it is too old or not a SkyPilot API server; SkyDeck needs a"
                            + " SkyPilot API server with API version 24 or newer");
                }
                JsonNode json = parse(body, "/api/health");
                if ("needs_auth".equals(json.path("status").asText())) {
                    throw loginNeeded();
                }
                return json;
            }
        });
    }

    /**
     * Submits an asynchronous operation; returns its request id. Never retried: a caller that may
     * resubmit decides that itself.
     */
    public String submit(String path, Map<String, Object> fields) {
        ObjectNode body = commonBody(path, fields);
        Request request = request(path).post(RequestBody.create(body.toString(), JSON)).build();
        try (Response r = http.newCall(request).execute()) {
            checkAuth(r, path);
            String text = body(r);
            if (r.code() != 200) {
                throw httpError(r.code(), path, text, false);
            }
            String id = r.header("X-Skypilot-Request-ID");
            if (id == null || id.isBlank()) {
                id = r.header("X-Request-ID");
            }
            if (id == null || id.isBlank()) {
                throw BackendException.permanent("the SkyPilot API server at " + endpoint() + " accepted " + path
                        + " but sent no request id (X-Skypilot-Request-ID): is it a SkyPilot API server?");
            }
            return id.strip();
        } catch (IOException e) {
            throw new BackendException("cannot reach the SkyPilot API server at " + endpoint() + " (" + path + "): "
                    + e.getMessage(), true, e);
        }
    }

    /** The statuses of requests ({@code PENDING}, {@code RUNNING}, …) in one call; ids the server does not know are absent. */
    public Map<String, String> statuses(java.util.Collection<String> requestIds) {
        return retrying("status", () -> {
            HttpUrl.Builder url = url("/api/status").newBuilder();
            for (String id : requestIds) {
                url.addQueryParameter("request_ids", id);
            }
            try (Response r = http.newCall(request(url.build()).get().build()).execute()) {
                checkAuth(r, "/api/status");
                String text = body(r);
                if (r.code() != 200) {
                    throw httpError(r.code(), "/api/status", text, true);
                }
                Map<String, String> out = new java.util.HashMap<>();
                for (JsonNode n : parse(text, "/api/status")) {
                    out.put(n.path("request_id").asText(), n.path("status").asText(null));
                }
                return out;
            }
        });
    }

    /**
     * Waits until the request is finished, then fetches its payload with one {@code /api/get}.
     * No thread polls per request: one shared waiter asks {@code /api/status} about every
     * pending request in a single call per interval; the caller only waits on a future.
     *
     * @throws ResubmitException when the server says the request must be submitted again
     * @throws BackendException  on timeout (retryable) or when the request is unknown
     */
    public Result await(String requestId, Duration timeout) {
        try {
            waiter.finished(requestId).get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            waiter.forget(requestId);
            throw new BackendException("SkyPilot request " + requestId + " did not finish within " + timeout + " at "
                    + endpoint(), true, e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof SkyDeckException s) {
                throw s;
            }
            throw new BackendException("waiting for SkyPilot request " + requestId + " failed: " + e.getCause(), true,
                    e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackendException("interrupted while waiting for SkyPilot request " + requestId, true, e);
        }
        return get(requestId);
    }

    /** One thread that polls the status of every pending request together. */
    private final class Waiter {
        private final Map<String, java.util.concurrent.CompletableFuture<Void>> pending =
                new java.util.concurrent.ConcurrentHashMap<>();
        private Thread thread;
        private boolean fresh;

        synchronized java.util.concurrent.CompletableFuture<Void> finished(String requestId) {
            java.util.concurrent.CompletableFuture<Void> f = pending.computeIfAbsent(requestId,
                    id -> new java.util.concurrent.CompletableFuture<>());
            fresh = true;
            if (thread == null || !thread.isAlive()) {
                thread = new Thread(this::run, "skydeck-skypilot-requests");
                thread.setDaemon(true);
                thread.start();
            }
            notifyAll();
            return f;
        }

        void forget(String requestId) {
            pending.remove(requestId);
        }

        private void run() {
            Duration pause = statusPollMin;
            while (!closed) {
                synchronized (this) {
                    if (pending.isEmpty()) {
                        try {
                            wait(1000);
                        } catch (InterruptedException e) {
                            return;
                        }
                        pause = statusPollMin;
                        continue;
                    }
                }
                List<String> ids = new ArrayList<>(pending.keySet());
                try {
                    Map<String, String> statuses = statuses(ids);
                    for (String id : ids) {
                        String status = statuses.get(id);
                        // Unknown to /api/status: /api/get tells 404 or 503 precisely.
                        if (status == null || status.equals("SUCCEEDED") || status.equals("FAILED")
                                || status.equals("CANCELLED")) {
                            java.util.concurrent.CompletableFuture<Void> f = pending.remove(id);
                            if (f != null) {
                                f.complete(null);
                            }
                        }
                    }
                } catch (RuntimeException e) {
                    for (String id : ids) {
                        java.util.concurrent.CompletableFuture<Void> f = pending.remove(id);
                        if (f != null) {
                            f.completeExceptionally(e);
                        }
                    }
                }
                synchronized (this) {
                    if (fresh) {
                        pause = statusPollMin; // a new request: ask about it soon
                    } else {
                        try {
                            wait(Math.max(1, pause.toMillis()));
                        } catch (InterruptedException e) {
                            return;
                        }
                        pause = pause.multipliedBy(2).compareTo(statusPollMax) > 0 ? statusPollMax
                                : pause.multipliedBy(2);
                    }
                    fresh = false;
                }
            }
        }
    }

    /** One {@code /api/get} of a finished request. */
    public Result get(String requestId) {
        return retrying("get", () -> {
            HttpUrl url = url("/api/get").newBuilder().addQueryParameter("request_id", requestId).build();
            try (Response r = http.newCall(request(url).get().build()).execute()) {
                checkAuth(r, "/api/get");
                String text = body(r);
                switch (r.code()) {
                    case 200 -> {
                        return payload(requestId, parse(text, "/api/get"));
                    }
                    case 500 -> {
                        JsonNode detail = parse(text, "/api/get").path("detail");
                        if (detail.isObject()) {
                            return payload(requestId, detail);
                        }
                        throw new BackendException("SkyPilot request " + requestId + " failed on the server: "
                                + detail.asText(text), true);
                    }
                    case 404 -> throw new UnknownRequestException("SkyPilot request " + requestId + " is unknown to "
                            + endpoint() + " (finished requests are forgotten after 24 h)");
                    case 400 -> throw BackendException.permanent("SkyPilot request id " + requestId
                            + " is ambiguous at " + endpoint() + ": " + detail(text));
                    case 503 -> throw new ResubmitException("SkyPilot request " + requestId
                            + " was interrupted by a server restart and must be submitted again");
                    default -> throw httpError(r.code(), "/api/get", text, true);
                }
            }
        });
    }

    /** Opens a streamed POST (logs): the response body is the stream; the caller closes it. */
    public Response stream(String path, Map<String, Object> fields, Duration readTimeout) {
        ObjectNode body = commonBody(path, fields);
        OkHttpClient streaming = http.newBuilder().readTimeout(readTimeout).callTimeout(Duration.ZERO).build();
        try {
            Response r = streaming.newCall(request(path).post(RequestBody.create(body.toString(), JSON)).build())
                    .execute();
            try {
                checkAuth(r, path);
                if (r.code() != 200) {
                    throw httpError(r.code(), path, body(r), false);
                }
            } catch (RuntimeException e) {
                r.close();
                throw e;
            }
            return r;
        } catch (IOException e) {
            throw new BackendException("cannot reach the SkyPilot API server at " + endpoint() + " (" + path + "): "
                    + e.getMessage(), true, e);
        }
    }

    // ---- helpers ----

    /** An operation's fields plus what every POST carries (SKYPILOT.md §4): identity, entrypoint, remote flag. */
    private ObjectNode commonBody(String path, Map<String, Object> fields) {
        ObjectNode body = MAPPER.valueToTree(fields);
        ObjectNode envVars = body.putObject("env_vars");
        envVars.put("SKYPILOT_USER_ID", config.userHash());
        envVars.put("SKYPILOT_USER", config.userName());
        body.put("entrypoint", "skydeck");
        if (!body.has("entrypoint_command")) {
            body.put("entrypoint_command", "skydeck " + path);
        }
        body.put("using_remote_api_server", !isLocal());
        body.putObject("override_skypilot_config");
        return body;
    }

    private Result payload(String requestId, JsonNode payload) {
        return new Result(requestId, payload.path("status").asText(null), decode(payload.get("return_value")),
                decode(payload.get("error")));
    }

    /** {@code return_value} and {@code error} are strings that contain JSON: parse them a second time. */
    static JsonNode decode(JsonNode field) {
        if (field == null || field.isNull()) {
            return null;
        }
        if (!field.isTextual()) {
            return field; // tolerate servers that send the value itself
        }
        try {
            JsonNode inner = MAPPER.readTree(field.asText());
            return inner == null || inner.isNull() ? null : inner;
        } catch (IOException e) {
            return field;
        }
    }

    private interface Call<T> {
        T run() throws IOException;
    }

    /** Retries idempotent calls on transport errors and 5xx, with exponential backoff and full jitter. */
    private <T> T retrying(String what, Call<T> call) {
        Duration base = Duration.ofMillis(200);
        for (int attempt = 1; ; attempt++) {
            try {
                return call.run();
            } catch (IOException e) {
                if (attempt >= maxAttempts) {
                    throw new BackendException("cannot reach the SkyPilot API server at " + endpoint() + " (" + what
                            + "): " + e.getMessage(), true, e);
                }
                log.debug("SkyPilot {} call failed ({}), retry {}", what, e.getMessage(), attempt);
            } catch (BackendException e) {
                if (!e.retryable() || e instanceof ResubmitException || attempt >= maxAttempts) {
                    throw e;
                }
                log.debug("SkyPilot {} call failed ({}), retry {}", what, e.getMessage(), attempt);
            }
            long bound = base.toMillis() << Math.min(attempt - 1, 6);
            pauseFor(Duration.ofMillis(random.nextLong(bound + 1)));
        }
    }

    private static void pauseFor(Duration d) {
        if (d.isZero() || d.isNegative()) {
            return;
        }
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackendException("interrupted while waiting for the SkyPilot API server", true, e);
        }
    }

    private void checkAuth(Response r, String path) {
        if (r.code() == 307 || r.code() == 302) {
            String location = r.header("Location", "");
            if (location.contains("/oauth2/")) {
                throw loginNeeded();
            }
            throw BackendException.permanent("the SkyPilot API server at " + endpoint() + " redirected " + path
                    + " elsewhere: check the endpoint (SKYPILOT_API_SERVER_ENDPOINT or ~/.sky/config.yaml)");
        }
        if (r.code() == 401) {
            String text = body(r);
            if (r.header("WWW-Authenticate", "").startsWith("Basic")) {
                throw BackendException.permanent("the SkyPilot API server at " + endpoint() + " refused the basic-auth"
                        + " credentials: put the right user:password in the endpoint URL (SKYPILOT_API_SERVER_ENDPOINT)");
            }
            if (config.token() != null || text.contains("service account")) {
                throw BackendException.permanent("the SkyPilot API server at " + endpoint() + " refused the"
                        + " service-account token (" + detail(text) + "): create a new token and set"
                        + " SKYPILOT_SERVICE_ACCOUNT_TOKEN");
            }
            throw loginNeeded();
        }
        if (r.code() == 403) {
            throw BackendException.permanent("the SkyPilot API server at " + endpoint() + " denied " + path + ": "
                    + detail(body(r)));
        }
    }

    private BackendException loginNeeded() {
        return BackendException.permanent("the SkyPilot API server at " + endpoint() + " needs you to log in: run"
                + " `sky api login -e " + endpoint() + "`");
    }

    private BackendException httpError(int code, String path, String text, boolean retryableIfServer) {
        if (code == 400 && text.contains("version_mismatch")) {
            JsonNode json = tryParse(text);
            String message = json == null ? text : json.path("message").asText(text);
            return BackendException.permanent("the SkyPilot API server at " + endpoint() + " does not accept SkyDeck's"
                    + " API version " + API_VERSION + " (" + message + "): upgrade the SkyPilot API server");
        }
        if (code >= 500) {
            return new BackendException("the SkyPilot API server at " + endpoint() + " failed on " + path + " (HTTP "
                    + code + "): " + detail(text), retryableIfServer || code == 503);
        }
        return BackendException.permanent("the SkyPilot API server at " + endpoint() + " refused " + path + " (HTTP "
                + code + "): " + detail(text));
    }

    private static String detail(String text) {
        JsonNode json = tryParse(text);
        if (json != null && json.has("detail")) {
            JsonNode d = json.get("detail");
            return d.isTextual() ? d.asText() : d.toString();
        }
        if (json != null && json.isTextual()) {
            return json.asText();
        }
        return text.length() > 300 ? text.substring(0, 300) + "…" : text;
    }

    private static JsonNode tryParse(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (IOException e) {
            return null;
        }
    }

    private JsonNode parse(String text, String path) {
        JsonNode json = tryParse(text);
        if (json == null) {
            throw new BackendException("the SkyPilot API server at " + endpoint() + " sent a body that is not JSON for "
                    + path, true);
        }
        return json;
    }

    private static String body(Response r) {
        try {
            return r.body() == null ? "" : r.body().string();
        } catch (IOException e) {
            return "";
        }
    }

    private boolean isLocal() {
        String host = config.endpoint().getHost();
        return host.equals("127.0.0.1") || host.equals("localhost") || host.equals("::1") || host.equals("[::1]");
    }

    private HttpUrl url(String path) {
        HttpUrl url = HttpUrl.parse(endpoint() + path);
        if (url == null) {
            throw new SkyDeckException.InvalidInput("bad SkyPilot endpoint " + endpoint());
        }
        return url;
    }

    private Request.Builder request(String path) {
        return request(url(path));
    }

    private Request.Builder request(HttpUrl url) {
        Request.Builder b = new Request.Builder().url(url)
                .header("X-SkyPilot-API-Version", Integer.toString(API_VERSION))
                .header("X-SkyPilot-Version", CLIENT_VERSION)
                .header("User-Agent", "skydeck/" + CLIENT_VERSION);
        if (config.token() != null) {
            b.header("Authorization", "Bearer " + config.token());
        } else if (config.basicAuth() != null) {
            b.header("Authorization", "Basic " + Base64.getEncoder()
                    .encodeToString(config.basicAuth().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        }
        String cookies = Cookies.header(config.cookieFile(), url.host(), url.encodedPath(), url.isHttps(),
                clock.instant());
        if (cookies != null) {
            b.header("Cookie", cookies);
        }
        return b;
    }

    /** Reads a streamed body fully (for tests of small streams). */
    static String readAll(InputStream in) throws IOException {
        return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        closed = true;
        synchronized (waiter) {
            waiter.notifyAll();
        }
        http.dispatcher().executorService().shutdown();
        http.connectionPool().evictAll();
    }
}
