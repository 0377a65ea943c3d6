package dev.skydeck.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.skydeck.SkyDeck;
import dev.skydeck.SkyDeckException;
import dev.skydeck.server.internal.ApiException;
import dev.skydeck.server.internal.ContainerErrors;
import dev.skydeck.server.internal.EventStream;
import dev.skydeck.server.internal.ExperimentRoutes;
import dev.skydeck.server.internal.GroupRoutes;
import dev.skydeck.server.internal.Guard;
import dev.skydeck.server.internal.Http;
import dev.skydeck.server.internal.JobRoutes;
import dev.skydeck.server.internal.Json;
import dev.skydeck.server.internal.ListCache;
import dev.skydeck.server.internal.StaticFiles;
import dev.skydeck.server.internal.StreamLimits;
import dev.skydeck.server.internal.Streams;
import dev.skydeck.server.internal.SystemRoutes;
import dev.skydeck.server.internal.Users;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SkyDeck over HTTP: the REST API, live events ({@code /api/events}), health, the OpenAPI
 * document and the dashboard, served by Javalin for one {@link SkyDeck}.
 *
 * <pre>{@code
 * try (SkyDeck deck = SkyDeck.open();
 *      SkyDeckServer server = SkyDeckServer.builder(deck).port(8000).build().start()) {
 *     System.out.println("dashboard at " + server.url());
 *     server.join();
 * }
 * }</pre>
 *
 * <p>It binds to 127.0.0.1 unless told otherwise, and refuses to bind anywhere else without
 * an auth token or users' tokens (see {@link SkyDeck#createToken}); on a deck with users every
 * request acts as its token's user. It does not own the {@code SkyDeck}: close the server first, then SkyDeck.
 */
public final class SkyDeckServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SkyDeckServer.class);
    /** The HTTP server's threads at most: requests are short, and nothing long-lived holds one. */
    public static final int MAX_HTTP_THREADS = 32;
    /** The default of {@link Builder#maxStreams}. */
    public static final int DEFAULT_MAX_STREAMS = 2_000;
    /** The default of {@link Builder#maxStreamsPerClient}. */
    public static final int DEFAULT_MAX_STREAMS_PER_CLIENT = 1_000;

    private final SkyDeck deck;
    private final Builder options;
    private final Streams streams = new Streams();
    private final Object lock = new Object();
    private Javalin app;
    private EventStream events;
    private List<String> routes = List.of();
    private boolean closed;
    private volatile byte[] openApiJson;

    private SkyDeckServer(Builder b) {
        this.deck = b.deck;
        this.options = b;
    }

    /** A builder for a server over {@code deck}. */
    public static Builder builder(SkyDeck deck) {
        return new Builder(deck);
    }

    /**
     * Binds and starts serving. Idempotent.
     *
     * @throws SkyDeckException when the address is not loopback and no token is set, or the port
     *                          is taken
     */
    public SkyDeckServer start() {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("this SkyDeckServer is closed; build a new one");
            }
            if (app != null) {
                return this;
            }
            Set<String> hosts = allowedHosts(options.host, options.allowedHosts);
            Users users = new Users(deck, options.authToken);
            Guard guard = new Guard(hosts, options.allowedOrigins, users);
            StaticFiles ui = new StaticFiles(options.uiDirectory);
            StreamLimits limits = new StreamLimits(options.maxStreams, options.maxStreamsPerClient);
            EventStream stream = new EventStream(deck, options.heartbeat, limits);
            ExperimentRoutes experiments = new ExperimentRoutes(deck, limits);
            List<String> declared = new ArrayList<>();
            Javalin created = Javalin.create(config -> {
                config.jetty.host = options.host;
                config.jetty.port = options.port;
                config.http.maxRequestSize = Guard.MAX_BODY_BYTES;
                // a few threads are plenty: event streams, log follows and waits hold none of them
                QueuedThreadPool threads = new QueuedThreadPool(MAX_HTTP_THREADS, 2, 60_000);
                threads.setName("http-server");
                threads.setDaemon(true);
                config.jetty.threadPool = threads;
                // errors Jetty raises before any route (bad URIs, 414, 431) answer as the API's do
                config.jetty.modifyServer(server -> server.setErrorHandler(new ContainerErrors()));
                config.jetty.modifyServletContextHandler(context -> context.setErrorHandler(new ContainerErrors()));
                config.startup.showJavalinBanner = false;
                config.startup.showOldJavalinVersionWarning = false;
                config.requestLogger.http((ctx, ms) -> {
                    if (log.isDebugEnabled()) {
                        log.debug("{} {} -> {} in {} ms", ctx.method(), ctx.path(), ctx.status().getCode(),
                                String.format(java.util.Locale.ROOT, "%.1f", ms));
                    }
                });
                config.routes.before(guard::check);
                Http http = new Http(config.routes, new ListCache(deck, true));
                experiments.register(http);
                new JobRoutes(deck, experiments, streams, limits).register(http);
                new GroupRoutes(deck, experiments).register(http);
                new SystemRoutes(deck, experiments, options.links, options.clock, users).register(http);
                http.get("/api/events", stream::handle);
                http.get("/api/openapi.json", ctx -> ctx.contentType("application/json").result(openApiJson()));
                declared.addAll(http.declared());
                config.routes.get("/", ui::handle);
                config.routes.get("/*", ui::handle);
                config.routes.exception(Guard.Preflight.class, (e, ctx) -> ctx.status(204).result(""));
                config.routes.exception(ApiException.class, (e, ctx) -> error(ctx, e.status(), e.getMessage()));
                config.routes.exception(SkyDeckException.class, SkyDeckServer::domainError);
                config.routes.exception(HttpResponseException.class, (e, ctx) -> error(ctx, e.getStatus(),
                        e.getStatus() == 404 ? "no such endpoint: " + ctx.method().name() + " " + ctx.path()
                                + " (see /api/openapi.json)" : e.getMessage()));
                config.routes.exception(Exception.class, SkyDeckServer::unexpected);
            });
            try {
                created.start();
            } catch (RuntimeException e) {
                stream.close();
                throw new SkyDeckException("cannot listen on " + options.host + ":" + options.port + ": "
                        + rootMessage(e) + " (is another server running there? use another port)", false, e);
            }
            this.app = created;
            this.events = stream;
            this.routes = List.copyOf(declared);
            log.info("SkyDeck server listening on {} (backend {}, {}{})", url(), deck.health().backendKind(),
                    users.required() ? "token required" : "no token",
                    ui.hasDashboard() ? "" : ", no dashboard built in");
            return this;
        }
    }

    private static void error(Context ctx, int status, String detail) {
        error(ctx, status, detail, null);
    }

    /** An error body: {@code {"detail": …}}, and for a conflict its {@code "reason"} ({@code STALE_VERSION}, …). */
    private static void error(Context ctx, int status, String detail, String reason) {
        Guard.headers(ctx);
        Map<String, Object> body = new java.util.LinkedHashMap<>();
        body.put("detail", detail);
        if (reason != null) {
            body.put("reason", reason);
        }
        ctx.status(status).contentType("application/json").result(Json.bytes(body));
    }

    private static void domainError(SkyDeckException e, Context ctx) {
        if (e instanceof SkyDeckException.InvalidInput) {
            error(ctx, 400, e.getMessage());
        } else if (e instanceof SkyDeckException.NotFound) {
            error(ctx, 404, e.getMessage());
        } else if (e instanceof SkyDeckException.Conflict c) {
            error(ctx, 409, e.getMessage(), c.reason().name());
        } else {
            log.warn("{} {} failed: {}", ctx.method(), ctx.path(), e.getMessage());
            error(ctx, e.retryable() ? 503 : 500, e.getMessage());
        }
    }

    private static void unexpected(Exception e, Context ctx) {
        String ref = UUID.randomUUID().toString().substring(0, 8);
        log.error("{} {} failed unexpectedly (ref {})", ctx.method(), ctx.path(), ref, e);
        error(ctx, 500, "internal error (ref " + ref + "): the server log has the details");
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    /** The OpenAPI document as JSON, read on first use: parsing the YAML costs a noticeable part of start-up. */
    private byte[] openApiJson() {
        byte[] doc = openApiJson;
        if (doc == null) {
            doc = readOpenApi();
            openApiJson = doc;
        }
        return doc;
    }

    private static byte[] readOpenApi() {
        try (InputStream in = SkyDeckServer.class.getResourceAsStream("openapi.yaml")) {
            JsonNode doc = new YAMLMapper().readTree(Objects.requireNonNull(in, "openapi.yaml is missing"));
            return Json.MAPPER.writeValueAsBytes(doc);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the OpenAPI document", e);
        }
    }

    /** The port it listens on (useful with port 0). */
    public int port() {
        synchronized (lock) {
            if (app == null) {
                throw new IllegalStateException("the server is not started");
            }
            return app.port();
        }
    }

    /** The base URL, such as {@code http://127.0.0.1:8000}. */
    public String url() {
        return localUrl(options.host, port());
    }

    /** The URL a client on this machine uses for a server bound to {@code host}: a wildcard means loopback. */
    public static String localUrl(String host, int port) {
        String h = host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
        return "http://" + (h.contains(":") ? "[" + h + "]" : h) + ":" + port;
    }

    /** Every API route, as {@code "GET /api/experiments/{id}"}. */
    public List<String> routes() {
        return routes;
    }

    /** How many clients follow {@code /api/events} now. */
    public int eventClients() {
        EventStream e = events;
        return e == null ? 0 : e.clients();
    }

    /** Blocks until the server is closed. */
    public void join() throws InterruptedException {
        synchronized (lock) {
            while (!closed) {
                lock.wait();
            }
        }
    }

    /**
     * Stops: ends event streams and log follows first (an open stream would stall the HTTP
     * server's stop), then stops HTTP. Leaves the {@code SkyDeck} open. Idempotent.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            if (events != null) {
                events.close();
            }
            streams.closeAll();
            if (app != null) {
                app.stop();
            }
            lock.notifyAll();
        }
        log.info("SkyDeck server stopped");
    }

    static Set<String> allowedHosts(String host, Set<String> extra) {
        Set<String> hosts = new LinkedHashSet<>(List.of("localhost", "127.0.0.1", "::1"));
        hosts.add(host.toLowerCase(java.util.Locale.ROOT));
        hosts.addAll(extra);
        boolean wildcard = host.equals("0.0.0.0") || host.equals("::");
        if (!isLoopback(host)) {
            try {
                InetAddress local = InetAddress.getLocalHost();
                hosts.add(local.getHostName().toLowerCase(java.util.Locale.ROOT));
                hosts.add(local.getCanonicalHostName().toLowerCase(java.util.Locale.ROOT));
            } catch (UnknownHostException e) {
                log.debug("no local host name: {}", e.toString());
            }
            if (wildcard) {
                try {
                    for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                        for (InetAddress a : Collections.list(nic.getInetAddresses())) {
                            String s = a.getHostAddress();
                            int zone = s.indexOf('%');
                            hosts.add((zone < 0 ? s : s.substring(0, zone)).toLowerCase(java.util.Locale.ROOT));
                        }
                    }
                } catch (SocketException e) {
                    log.debug("cannot list network interfaces: {}", e.toString());
                }
            }
        }
        return hosts;
    }

    /** Whether {@code host} names only this machine. */
    public static boolean isLoopback(String host) {
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** Options of a {@link SkyDeckServer}; validated by {@link #build()}. */
    public static final class Builder {
        private final SkyDeck deck;
        private String host = "127.0.0.1";
        private int port = 8000;
        private String authToken;
        private Set<String> allowedHosts = Set.of();
        private Set<String> allowedOrigins = Set.of();
        private List<SystemRoutes.Link> links = List.of();
        private Path uiDirectory;
        private Duration heartbeat = Duration.ofSeconds(15);
        private int maxStreams = DEFAULT_MAX_STREAMS;
        private int maxStreamsPerClient = DEFAULT_MAX_STREAMS_PER_CLIENT;
        private Clock clock = Clock.systemUTC();

        private Builder(SkyDeck deck) {
            this.deck = Objects.requireNonNull(deck, "deck");
        }

        /** The address to bind (default 127.0.0.1). Anything but loopback needs {@link #authToken}. */
        public Builder host(String value) {
            this.host = Objects.requireNonNull(value, "host").strip();
            return this;
        }

        /** The port (default 8000; 0 picks a free one). */
        public Builder port(int value) {
            this.port = value;
            return this;
        }

        /**
         * The server's own bearer token ({@code null}: none): with it, every {@code /api} request
         * must carry it or a user's token; requests with it act as user {@code admin}.
         */
        public Builder authToken(String value) {
            this.authToken = value == null || value.isBlank() ? null : value.strip();
            return this;
        }

        /** More host names the {@code Host} header may carry (loopback names and the bind address always may). */
        public Builder allowedHosts(Set<String> value) {
            this.allowedHosts = Set.copyOf(value.stream().map(h -> h.strip().toLowerCase(java.util.Locale.ROOT)).toList());
            return this;
        }

        /** More origins ({@code http://host:port}) that may send unsafe requests (the server's own always may). */
        public Builder allowedOrigins(Set<String> value) {
            this.allowedOrigins = Set.copyOf(value);
            return this;
        }

        /** Link pills the dashboard shows per experiment ({@code label → URL template with {name}}). */
        public Builder links(Map<String, String> value) {
            List<SystemRoutes.Link> out = new ArrayList<>();
            value.forEach((label, url) -> out.add(new SystemRoutes.Link(label, url)));
            this.links = List.copyOf(out);
            return this;
        }

        /** Serves the dashboard from this directory instead of the built-in one (for UI development). */
        public Builder uiDirectory(Path value) {
            this.uiDirectory = value == null ? null : value.toAbsolutePath().normalize();
            return this;
        }

        /** How often an idle event stream gets a keep-alive comment (default 15 s). */
        public Builder heartbeat(Duration value) {
            this.heartbeat = Objects.requireNonNull(value, "heartbeat");
            return this;
        }

        /**
         * The most event streams, log follows and waits open at once (default 2,000); past it a
         * new one gets 503. None holds a server thread; each holds a connection.
         */
        public Builder maxStreams(int value) {
            this.maxStreams = value;
            return this;
        }

        /** The most event streams, log follows and waits open at once from one remote address (default 1,000). */
        public Builder maxStreamsPerClient(int value) {
            this.maxStreamsPerClient = value;
            return this;
        }

        /** The clock for health and uptime (tests use a fixed one). */
        public Builder clock(Clock value) {
            this.clock = Objects.requireNonNull(value, "clock");
            return this;
        }

        /**
         * Validates the options.
         *
         * @throws SkyDeckException.InvalidInput naming the bad option
         */
        public SkyDeckServer build() {
            if (port < 0 || port > 65_535) {
                throw new SkyDeckException.InvalidInput("port " + port + " is not allowed: use 0 to 65535");
            }
            if (host.isEmpty()) {
                throw new SkyDeckException.InvalidInput("host must not be empty");
            }
            if (!isLoopback(host) && authToken == null && !deck.hasTokens()) {
                throw new SkyDeckException.InvalidInput("refusing to listen on " + host
                        + " without tokens: anyone who can reach it could run jobs. Create users' tokens"
                        + " (skydeck token create NAME), or set SKYDECK_AUTH_TOKEN (at least 16 characters),"
                        + " or bind to 127.0.0.1");
            }
            if (authToken != null && authToken.length() < 16) {
                throw new SkyDeckException.InvalidInput("SKYDECK_AUTH_TOKEN is too short: use at least 16 characters");
            }
            if (maxStreams < 1 || maxStreamsPerClient < 1) {
                throw new SkyDeckException.InvalidInput("the stream limits must be at least 1, not " + maxStreams
                        + " and " + maxStreamsPerClient);
            }
            if (heartbeat.isNegative() || heartbeat.isZero()) {
                throw new SkyDeckException.InvalidInput("heartbeat must be positive");
            }
            for (SystemRoutes.Link l : links) {
                if (!l.urlTemplate().startsWith("https://") && !l.urlTemplate().startsWith("http://")) {
                    throw new SkyDeckException.InvalidInput("link '" + l.label() + "' must be an http(s) URL, not '"
                            + l.urlTemplate() + "'");
                }
            }
            return new SkyDeckServer(this);
        }
    }
}
