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

    /**
     * What {@code /api/status} says of a request: its status and, while it runs, its stage.
     *
     * @param status    {@code PENDING}, {@code RUNNING}, {@code SUCCEEDED}, {@code FAILED} or {@code CANCELLED}
     * @param statusMsg the server's progress line ({@code status_msg}), or {@code null}
     */
    public record RequestInfo(String status, String statusMsg) {
        /** Whether it has finished one way or another. */
        public boolean finished() {
            return "SUCCEEDED".equals(status) || "FAILED".equals(status) || "CANCELLED".equals(status);
        }
    }

    /** The server asked for the request to be submitted again (503 "should be retried" from {@code /api/get}). */
    public static final class ResubmitException extends BackendException {
        private static final long serialVersionUID = 1L;

        ResubmitException(String message) {
            super(message, true);
        }
    }

    /**
     * A 503 that is not the server's own "should be retried": an ingress or proxy with no ready
     * server behind it (a rolling update), or a server out of capacity. The request was not
     * handled; the same call is made again with backoff, as the official client does.
     */
    public static final class UnavailableException extends BackendException {
        private static final long serialVersionUID = 1L;

        UnavailableException(String message) {
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
    private final Cookies cookies;
    private final Duration unavailableWindow;
    private volatile boolean closed;

    /** A client for {@code config}'s server. */
    public ApiClient(ServerConfig config, Duration connectTimeout, Duration readTimeout, Clock clock,
                     RandomGenerator random, Duration statusPollMin, Duration statusPollMax, int maxAttempts,
                     Duration unavailableWindow) {
        this.config = config;
        this.cookies = new Cookies(config.cookieFile());
        this.unavailableWindow = unavailableWindow;
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
            try (Response r = execute(http, request("/api/health").get().build())) {
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
     * Submits an operation that must not run twice (a launch); returns its request id. Only a 503
     * (the request was not handled) is tried again; a lost answer is the caller's to resolve.
     */
    public String submit(String path, Map<String, Object> fields) {
        return submit(path, fields, false);
    }

    /**
     * Submits an asynchronous operation; returns its request id.
     *
     * @param idempotent whether a transport error or a 5xx may be answered by sending it again
     *                   (queue, cancel); a 503 is always tried again, with backoff
     */
    public String submit(String path, Map<String, Object> fields, boolean idempotent) {
        ObjectNode body = commonBody(path, fields);
        if (idempotent) {
            return retrying(path, () -> submitOnce(path, body));
        }
        return retrying(path, () -> {
            try {
                return submitOnce(path, body);
            } catch (IOException e) {
                throw new BackendException("no answer from the SkyPilot API server at " + endpoint() + " to " + path
                        + " (" + e.getMessage() + "); whether it took the request is checked before it is sent again",
                        true, e);
            }
        }, true);
    }

    private String submitOnce(String path, ObjectNode body) throws IOException {
        Request request = request(path).post(RequestBody.create(body.toString(), JSON)).build();
        try (Response r = execute(http, request)) {
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
        }
    }

    /** The statuses of requests ({@code PENDING}, {@code RUNNING}, …) in one call; ids the server does not know are absent. */
    public Map<String, RequestInfo> statuses(java.util.Collection<String> requestIds) {
        Map<String, RequestInfo> out = new java.util.HashMap<>();
        for (JsonNode n : status(requestIds)) {
            out.put(n.path("request_id").asText(), new RequestInfo(n.path("status").asText(null),
                    n.path("status_msg").isTextual() ? n.path("status_msg").asText() : null));
        }
        return out;
    }

    /**
     * The requests that have not finished, as {@code /api/status} without ids lists them (the
     * caller's own; each with its {@code name} and its body as JSON text in {@code request_body}).
     */
    public List<JsonNode> unfinishedRequests() {
        List<JsonNode> out = new ArrayList<>();
        status(List.of()).forEach(out::add);
        return out;
    }

    private JsonNode status(java.util.Collection<String> requestIds) {
        return retrying("status", () -> {
            HttpUrl.Builder url = url("/api/status").newBuilder();
            for (String id : requestIds) {
                url.addQueryParameter("request_ids", id);
            }
            try (Response r = execute(http, request(url.build()).get().build())) {
                checkAuth(r, "/api/status");
                String text = body(r);
                if (r.code() != 200) {
                    throw httpError(r.code(), "/api/status", text, true);
                }
                return parse(text, "/api/status");
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
                    Map<String, RequestInfo> statuses = statuses(ids);
                    for (String id : ids) {
                        RequestInfo status = statuses.get(id);
                        // Unknown to /api/status: /api/get tells 404 or 503 precisely.
                        if (status == null || status.finished()) {
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
            try (Response r = execute(http, request(url).get().build())) {
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
                    case 503 -> {
                        if (detail(text).contains("should be retried")) {
                            throw new ResubmitException("SkyPilot request " + requestId
                                    + " was interrupted by a server restart and must be submitted again");
                        }
                        throw unavailable("/api/get", r, text);
                    }
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
            Response r = execute(streaming, request(path).post(RequestBody.create(body.toString(), JSON)).build());
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

    /** The most redirects followed for one call (Python {@code requests} allows 30; an ingress needs one or two). */
    private static final int MAX_REDIRECTS = 10;
    /** The oldest server API version SkyPilot's own client works with ({@code MIN_COMPATIBLE_API_VERSION}). */
    public static final int MIN_SERVER_API_VERSION = 24;

    /**
     * One HTTP exchange as the official client makes it: redirects followed as Python
     * {@code requests} follows them (301/302/303/307/308 to the new location; 307/308 keep the
     * method and body, and so does 301, where {@code requests} would send a GET no API route
     * accepts; 302/303 become a GET; credentials are sent again only to the same host;
     * a redirect to the OAuth2 login is returned, not followed), cookies a response sets kept in
     * the cookie file, and the server's API version checked against SkyPilot's compatibility rule.
     */
    private Response execute(OkHttpClient client, Request first) throws IOException {
        Request request = first;
        String originalHost = first.url().host();
        for (int hop = 0; ; hop++) {
            Response r = client.newCall(request).execute();
            try {
                keepCookies(r);
                checkServerVersion(r);
            } catch (RuntimeException e) {
                r.close();
                throw e;
            }
            int code = r.code();
            boolean redirect = code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
            String location = r.header("Location");
            if (!redirect || location == null || location.contains("/oauth2/")) {
                return r;
            }
            HttpUrl next = request.url().resolve(location);
            r.close();
            if (next == null || hop >= MAX_REDIRECTS) {
                throw BackendException.permanent("the SkyPilot API server at " + endpoint() + " redirected "
                        + first.url().encodedPath() + (next == null ? " to an invalid location" : " too many times")
                        + ": check the endpoint (SKYPILOT_API_SERVER_ENDPOINT or api_server.endpoint)");
            }
            log.debug("SkyPilot API server redirected {} ({}) to {}", request.url().encodedPath(), code, next);
            // 301 keeps a POST a POST (requests would turn it into a GET, which no API route accepts)
            boolean keepMethod = code == 307 || code == 308 || code == 301 || request.method().equals("GET")
                    || request.method().equals("HEAD");
            Request.Builder b = request.newBuilder().url(next);
            if (!keepMethod) {
                b.method("GET", null).removeHeader("Content-Type");
            }
            if (!next.host().equalsIgnoreCase(originalHost)) {
                b.removeHeader("Authorization"); // requests' rebuild_auth: never hand credentials to another host
            }
            String cookie = cookies.header(next, clock.instant());
            if (cookie != null) {
                b.header("Cookie", cookie);
            } else {
                b.removeHeader("Cookie");
            }
            request = b.build();
        }
    }

    /** A {@code Set-Cookie} refreshes the cookie file, as the official client saves its cookie jar. */
    private void keepCookies(Response r) {
        List<String> set = r.headers("Set-Cookie");
        if (set.isEmpty()) {
            return;
        }
        try {
            cookies.save(r.request().url(), set, clock.instant());
        } catch (IOException e) {
            log.warn("Could not save the cookies the SkyPilot API server at {} set to {}: {}; the next call may need"
                    + " `sky api login` again", endpoint(), config.cookieFile(), e.getMessage());
        }
    }

    /** {@code versions.check_compatibility_at_client}: a server below the minimum API version is refused. */
    private void checkServerVersion(Response r) {
        String apiVersion = r.header("X-SkyPilot-API-Version");
        String version = r.header("X-SkyPilot-Version");
        if (apiVersion == null || version == null) {
            return; // older servers and non-versioned answers (ingress pages): nothing to check
        }
        int v;
        try {
            v = Integer.parseInt(apiVersion.strip());
        } catch (NumberFormatException e) {
            throw BackendException.permanent("the SkyPilot API server at " + endpoint() + " sent an invalid API version"
                    + " header '" + apiVersion + "': is it a SkyPilot API server?");
        }
        if (v < MIN_SERVER_API_VERSION) {
            throw BackendException.permanent("the SkyPilot API server at " + endpoint() + " is too old: version "
                    + version + " (API " + v + "); SkyDeck needs API version " + MIN_SERVER_API_VERSION
                    + " (SkyPilot 0.11.0) or newer: ask your administrator to upgrade the SkyPilot API server");
        }
    }

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
        body.put("using_remote_api_server", !config.local());
        body.set("override_skypilot_config", MAPPER.valueToTree(config.client().override()));
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

    private <T> T retrying(String what, Call<T> call) {
        return retrying(what, call, false);
    }

    /**
     * Retries a call with exponential backoff and full jitter: a 503 that is not a resubmit
     * request for up to the unavailable window ({@code rest._retry_on_server_unavailable}), and,
     * unless {@code onlyUnavailable}, transport errors and other 5xx up to the attempt limit.
     */
    private <T> T retrying(String what, Call<T> call, boolean onlyUnavailable) {
        Duration base = Duration.ofMillis(200);
        Instant start = clock.instant();
        for (int attempt = 1; ; attempt++) {
            try {
                return call.run();
            } catch (IOException e) {
                if (onlyUnavailable || attempt >= maxAttempts) {
                    throw new BackendException("cannot reach the SkyPilot API server at " + endpoint() + " (" + what
                            + "): " + e.getMessage(), true, e);
                }
                log.debug("SkyPilot {} call failed ({}), retry {}", what, e.getMessage(), attempt);
            } catch (UnavailableException e) {
                if (!clock.instant().isBefore(start.plus(unavailableWindow))) {
                    throw new UnavailableException(e.getMessage() + "; still unavailable after "
                            + Duration.between(start, clock.instant()).toSeconds() + " s");
                }
                log.info("The SkyPilot API server at {} is temporarily unavailable ({}); trying {} again", endpoint(),
                        e.getMessage(), what);
            } catch (BackendException e) {
                if (onlyUnavailable || !e.retryable() || e instanceof ResubmitException || attempt >= maxAttempts) {
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
        if (r.code() >= 300 && r.code() < 400) {
            if (r.header("Location", "").contains("/oauth2/")) {
                throw loginNeeded();
            }
            throw BackendException.permanent("the SkyPilot API server at " + endpoint() + " redirected " + path
                    + " (HTTP " + r.code() + ") without a usable location: check the endpoint"
                    + " (SKYPILOT_API_SERVER_ENDPOINT or ~/.sky/config.yaml)");
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
            return BackendException.permanent("the SkyPilot API server at " + endpoint() + " no longer accepts SkyDeck's"
                    + " SkyPilot API version " + API_VERSION + ": SkyDeck is too old for this server, upgrade SkyDeck"
                    + " (the server says: " + message.replaceAll("\u001B\\[[0-9;]*m", "").strip() + ")");
        }
        if (code == 503) {
            return new UnavailableException("the SkyPilot API server at " + endpoint() + " is temporarily unavailable"
                    + " on " + path + " (HTTP 503: " + readable(text) + ")");
        }
        if (code >= 500) {
            return new BackendException("the SkyPilot API server at " + endpoint() + " failed on " + path + " (HTTP "
                    + code + "): " + detail(text), retryableIfServer || code == 503);
        }
        return BackendException.permanent("the SkyPilot API server at " + endpoint() + " refused " + path + " (HTTP "
                + code + "): " + detail(text));
    }

    private UnavailableException unavailable(String path, Response r, String text) {
        return (UnavailableException) httpError(503, path, text, true);
    }

    /** An error body for a message: a JSON detail, an HTML page's title, or the text. */
    private static String readable(String text) {
        var m = java.util.regex.Pattern.compile("(?is)<title[^>]*>(.*?)</title>").matcher(text);
        if (m.find()) {
            return m.group(1).strip();
        }
        return detail(text);
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
        String cookie = cookies.header(url, clock.instant());
        if (cookie != null) {
            b.header("Cookie", cookie);
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
