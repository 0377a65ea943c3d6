package dev.skydeck.server.internal;

import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.Locale;
import java.util.Set;

/**
 * The checks every request passes before a route sees it (SPEC §13): a known {@code Host}
 * (against DNS rebinding), a user's or the server's bearer token on {@code /api} when the deck
 * needs one ({@link Users}), a JSON content type (unless there is no body at all) and an allowed
 * {@code Origin} on unsafe methods (so no browser form or foreign page can act), and a body size
 * limit. It also sets the security headers on every response.
 */
public final class Guard {
    /** The largest request body accepted. */
    public static final long MAX_BODY_BYTES = 1L << 20;
    /** How much of a too-large body is read and dropped so the client sees the 413 (16 MiB). */
    static final long DISCARD_LIMIT_BYTES = 16L << 20;

    /** The Content-Security-Policy of every response. */
    public static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            + "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
            + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    private final Set<String> allowedHosts;
    private final Set<String> allowedOrigins;
    private final Users users;
    private final String csp;

    /**
     * @param allowedHosts   host names (without port) a request's {@code Host} may name; empty
     *                       allows any
     * @param allowedOrigins extra origins ({@code scheme://host:port}) besides the server's own
     * @param users          who may call {@code /api}, and as whom
     */
    public Guard(Set<String> allowedHosts, Set<String> allowedOrigins, Users users) {
        this.allowedHosts = Set.copyOf(allowedHosts);
        this.allowedOrigins = Set.copyOf(allowedOrigins);
        this.users = users;
        this.csp = csp(this.allowedOrigins);
    }

    /**
     * The Content-Security-Policy with {@code connect-src} widened to {@code origins}: the servers
     * this one trusts (SKYDECK_ALLOWED_ORIGINS) are the ones its dashboard may be pointed at
     * ("Backend address"), as they may call it. Nothing else is widened.
     */
    static String csp(Set<String> origins) {
        if (origins.isEmpty()) {
            return CSP;
        }
        String extra = String.join(" ", new java.util.TreeSet<>(origins));
        return CSP.replace("connect-src 'self';", "connect-src 'self' " + extra + ";");
    }

    /** The security headers of every response, errors included (the container's own among them). */
    public static final java.util.Map<String, String> HEADERS = java.util.Collections.unmodifiableMap(
            new java.util.LinkedHashMap<>(java.util.Map.of(
                    "Content-Security-Policy", CSP,
                    "X-Frame-Options", "DENY",
                    "X-Content-Type-Options", "nosniff",
                    "Referrer-Policy", "no-referrer",
                    "Cross-Origin-Opener-Policy", "same-origin",
                    "Cross-Origin-Resource-Policy", "same-origin")));

    /** Sets the security headers not set yet (every response, errors included). */
    public static void headers(Context ctx) {
        HEADERS.forEach((name, value) -> {
            if (ctx.res().getHeader(name) == null) {
                ctx.header(name, value);
            }
        });
    }

    /** Refuses the request (by throwing) unless it passes every check. */
    public void check(Context ctx) {
        ctx.header("Content-Security-Policy", csp);
        headers(ctx);
        String host = hostName(ctx.header("Host"));
        if (!allowedHosts.isEmpty() && (host == null || !allowedHosts.contains(host))) {
            throw new ApiException(403, "unknown Host " + (host == null ? "(none)" : "'" + host + "'")
                    + ": this server answers to " + String.join(", ", new java.util.TreeSet<>(allowedHosts))
                    + " (set SKYDECK_ALLOWED_HOSTS to add names)");
        }
        String requestOrigin = ctx.header("Origin");
        if (requestOrigin != null && allowedOrigins.contains(requestOrigin)) {
            // CORS for the configured origins only (a dashboard served elsewhere, pointed at this server)
            ctx.header("Access-Control-Allow-Origin", requestOrigin);
            ctx.header("Vary", "Origin");
            ctx.header("Access-Control-Expose-Headers", "X-Total-Count, Location");
            if (ctx.method() == HandlerType.OPTIONS && ctx.header("Access-Control-Request-Method") != null) {
                ctx.header("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE");
                ctx.header("Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID");
                ctx.header("Access-Control-Max-Age", "600");
                throw new Preflight();
            }
        }
        boolean api = ctx.path().startsWith("/api/") || ctx.path().equals("/api");
        if (api && users.required()) {
            String user = users.userOf(bearer(ctx.header("Authorization")));
            if (user == null) {
                ctx.header("WWW-Authenticate", "Bearer realm=\"skydeck\"");
                throw new ApiException(401, "missing, wrong or revoked token: send 'Authorization: Bearer <token>'"
                        + " (a user's token from `skydeck token create NAME`, or the server's SKYDECK_AUTH_TOKEN)");
            }
            Users.admit(ctx, user);
        }
        HandlerType method = ctx.method();
        boolean unsafe = method == HandlerType.POST || method == HandlerType.PUT || method == HandlerType.PATCH
                || method == HandlerType.DELETE;
        if (unsafe) {
            String origin = ctx.header("Origin");
            if (origin != null && !originAllowed(origin, ctx.header("Host"))) {
                throw new ApiException(403, "requests from origin '" + origin + "' are not allowed"
                        + " (set SKYDECK_ALLOWED_ORIGINS to allow it)");
            }
            String type = ctx.header("Content-Type");
            boolean json = type != null && type.toLowerCase(Locale.ROOT).strip().startsWith("application/json");
            long length = ctx.req().getContentLengthLong();
            // A request without a body and without a Content-Type (`curl -X POST …/cancel`, as scripts
            // for the original SkyDeck send) is no form: browsers give every form a type. Endpoints
            // that need a body still refuse an empty one (400), and Origin, Host and token apply.
            boolean bodyless = length <= 0 && ctx.header("Transfer-Encoding") == null && type == null;
            if (!bodyless && !json) {
                throw new ApiException(415, "send a JSON body with 'Content-Type: application/json'"
                        + (type == null ? "" : ", not '" + type + "'"));
            }
            if (length > MAX_BODY_BYTES) {
                discardBody(ctx, length);
                throw new ApiException(413, "the request body is " + length + " bytes: at most " + MAX_BODY_BYTES
                        + " (1 MiB) are accepted");
            }
        }
    }

    /**
     * Reads and drops a refused body of at most {@link #DISCARD_LIMIT_BYTES}, so the client, which is
     * usually still sending it, reads the 413 instead of a reset connection. A larger body is left
     * unread and the connection closes after the answer.
     */
    private static void discardBody(Context ctx, long length) {
        if (length > DISCARD_LIMIT_BYTES) {
            return;
        }
        try {
            InputStream in = ctx.req().getInputStream();
            byte[] sink = new byte[64 * 1024];
            long left = length;
            while (left > 0) {
                int n = in.read(sink, 0, (int) Math.min(sink.length, left));
                if (n < 0) {
                    break;
                }
                left -= n;
            }
        } catch (IOException e) {
            // the client went away: the 413 below is the answer either way
        }
    }

    /** Ends a CORS preflight from an allowed origin with 204 (it carries no token and reaches no route). */
    public static final class Preflight extends RuntimeException {
        Preflight() {
            super(null, null, false, false);
        }
    }

    private static String bearer(String header) {
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        return header.substring(7).strip();
    }

    private boolean originAllowed(String origin, String hostHeader) {
        if (allowedOrigins.contains(origin)) {
            return true;
        }
        try {
            URI u = URI.create(origin);
            String authority = u.getRawAuthority();
            return ("http".equals(u.getScheme()) || "https".equals(u.getScheme())) && authority != null
                    && authority.equalsIgnoreCase(hostHeader);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** The host name of a {@code Host} header, without port and brackets, lower case. */
    static String hostName(String hostHeader) {
        if (hostHeader == null || hostHeader.isBlank()) {
            return null;
        }
        String h = hostHeader.strip().toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end < 0 ? h : h.substring(1, end);
        }
        int colon = h.indexOf(':');
        return colon < 0 ? h : h.substring(0, colon);
    }
}
