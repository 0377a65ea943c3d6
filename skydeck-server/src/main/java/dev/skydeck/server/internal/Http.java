package dev.skydeck.server.internal;

import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import io.javalin.router.JavalinDefaultRoutingApi;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Route registration that remembers every route (for the OpenAPI check), and request helpers. */
public final class Http {
    private final JavalinDefaultRoutingApi routes;
    private final List<String> declared = new ArrayList<>();
    private final ListCache cache;

    /** Registers into {@code routes}; the GET routes {@code cache} covers answer through it. */
    public Http(JavalinDefaultRoutingApi routes, ListCache cache) {
        this.routes = routes;
        this.cache = cache;
    }

    /** Registers into {@code routes}, nothing cached. */
    public Http(JavalinDefaultRoutingApi routes) {
        this(routes, null);
    }

    /** Every route declared, as {@code "GET /api/experiments"}. */
    public List<String> declared() {
        return List.copyOf(declared);
    }

    /** Declares a route. */
    public void route(HandlerType method, String path, Handler handler) {
        declared.add(method.name() + " " + path);
        routes.addHttpHandler(method, path, handler);
    }

    /** Declares a GET route (answered through the list cache when it covers {@code path}). */
    public void get(String path, Handler handler) {
        route(HandlerType.GET, path, cache != null && cache.covers(path) ? cache.wrap(handler) : handler);
    }

    /** Declares a POST route. */
    public void post(String path, Handler handler) {
        route(HandlerType.POST, path, handler);
    }

    /** Declares a PATCH route. */
    public void patch(String path, Handler handler) {
        route(HandlerType.PATCH, path, handler);
    }

    /** Declares a DELETE route. */
    public void delete(String path, Handler handler) {
        route(HandlerType.DELETE, path, handler);
    }

    /** Writes {@code value} as JSON with status 200. */
    public static void json(Context ctx, Object value) {
        json(ctx, 200, value);
    }

    /** Writes {@code value} as JSON with {@code status}. */
    public static void json(Context ctx, int status, Object value) {
        write(ctx, status, value, Json.MAPPER);
    }

    /**
     * Writes a list response: its items compact ({@link Json#LIST}) unless the request asks for
     * {@code ?fields=full}. Build the items with {@link #fullFields} in mind
     * ({@link ListItems}).
     */
    public static void listJson(Context ctx, Object value) {
        write(ctx, 200, value, fullFields(ctx) ? Json.MAPPER : Json.LIST);
    }

    /** Whether the request asks for every field of list items ({@code fields=full}); 400 for another value. */
    public static boolean fullFields(Context ctx) {
        String v = textParam(ctx, "fields");
        if (v == null) {
            return false;
        }
        if (!v.equals("full")) {
            throw ApiException.badRequest("query parameter 'fields' must be 'full' (every field of each item) or"
                    + " absent (the compact list form), not '" + v + "'");
        }
        return true;
    }

    private static void write(Context ctx, int status, Object value, com.fasterxml.jackson.databind.ObjectMapper mapper) {
        ctx.status(status).contentType("application/json");
        if (ListCache.capturing(ctx)) {
            // the list cache keeps the bytes and writes them itself (plain or gzip, or a 304)
            try {
                ListCache.capture(ctx, mapper.writeValueAsBytes(value));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException("cannot write JSON for " + value.getClass().getSimpleName(), e);
            }
            return;
        }
        // streamed: a list of 10,000 experiments never sits in memory as one 13 MB array
        try (java.io.OutputStream out = ctx.outputStream()) {
            mapper.writeValue(out, value);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The request body as a strict JSON object. */
    public static Body body(Context ctx) {
        return Body.parse(ctx.bodyAsBytes());
    }

    /** The request body, or an empty object when there is none. */
    public static Body optionalBody(Context ctx) {
        return Body.parseOrEmpty(ctx.bodyAsBytes());
    }

    /** An integer query parameter within bounds, or {@code dflt} when absent. */
    public static int intParam(Context ctx, String name, int dflt, int min, int max) {
        String v = ctx.queryParam(name);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        long n;
        try {
            n = Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("query parameter '" + name + "' must be an integer, not '" + v + "'");
        }
        if (n < min || n > max) {
            throw ApiException.badRequest("query parameter '" + name + "' must be between " + min + " and " + max
                    + ", not " + n);
        }
        return (int) n;
    }

    /** A boolean query parameter ({@code true/false/1/0/yes/no}), or {@code null} when absent. */
    public static Boolean boolParam(Context ctx, String name) {
        String v = ctx.queryParam(name);
        if (v == null || v.isBlank()) {
            return null;
        }
        return switch (v.strip().toLowerCase(Locale.ROOT)) {
            case "true", "1", "yes" -> true;
            case "false", "0", "no" -> false;
            default -> throw ApiException.badRequest("query parameter '" + name + "' must be true or false, not '"
                    + v + "'");
        };
    }

    /** An event sequence number query parameter ({@code after_seq}), or {@code null} when absent. */
    public static Long seqParam(Context ctx, String name) {
        String v = textParam(ctx, name);
        return v == null ? null : parseSeq(v);
    }

    /** Parses an event sequence number (0 or more), or throws a 400 that says so. */
    public static long parseSeq(String v) {
        try {
            long n = Long.parseLong(v.strip());
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("'" + v + "' is not an event sequence number (an integer, 0 or more)");
        }
    }

    /** A string query parameter, {@code null} when absent or blank. */
    public static String textParam(Context ctx, String name) {
        String v = ctx.queryParam(name);
        return v == null || v.isBlank() ? null : v.strip();
    }
}
