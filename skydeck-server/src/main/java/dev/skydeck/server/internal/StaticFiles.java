package dev.skydeck.server.internal;

import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * The dashboard's files: from a directory when one is given (development), else from the
 * classpath folder {@code skydeck-ui/} that the build copies the dashboard into. A path that is
 * not a file gets {@code index.html} (the dashboard routes in the browser), except under
 * {@code /api/}, which stays a JSON 404. Without a built dashboard, a small page says so.
 */
public final class StaticFiles {
    private static final String CLASSPATH_ROOT = "skydeck-ui/";
    private static final Map<String, String> TYPES = Map.ofEntries(
            Map.entry("html", "text/html; charset=utf-8"), Map.entry("js", "text/javascript; charset=utf-8"),
            Map.entry("mjs", "text/javascript; charset=utf-8"), Map.entry("css", "text/css; charset=utf-8"),
            Map.entry("json", "application/json"), Map.entry("svg", "image/svg+xml"), Map.entry("png", "image/png"),
            Map.entry("ico", "image/x-icon"), Map.entry("woff2", "font/woff2"), Map.entry("woff", "font/woff"),
            Map.entry("txt", "text/plain; charset=utf-8"), Map.entry("map", "application/json"));

    private final Path directory;
    private final ClassLoader loader = StaticFiles.class.getClassLoader();

    /** Serves from {@code directory}, or from the classpath when it is {@code null}. */
    public StaticFiles(Path directory) {
        this.directory = directory;
    }

    /** Whether a built dashboard is there. */
    public boolean hasDashboard() {
        return directory != null ? Files.isRegularFile(directory.resolve("index.html"))
                : loader.getResource(CLASSPATH_ROOT + "index.html") != null;
    }

    /** Serves a GET for a path outside {@code /api}. */
    public void handle(Context ctx) throws IOException {
        String path = ctx.path();
        if (path.equals("/api") || path.startsWith("/api/")) {
            throw ApiException.notFound("no such endpoint: " + ctx.method().name() + " " + path
                    + " (see /api/openapi.json)");
        }
        String relative = path.startsWith("/") ? path.substring(1) : path;
        if (relative.contains("..") || relative.contains("\\") || relative.contains("\0")) {
            throw ApiException.notFound("no such file: " + path);
        }
        byte[] file = relative.isEmpty() ? null : read(relative);
        if (file != null) {
            String ext = relative.substring(relative.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
            String type = TYPES.getOrDefault(ext, URLConnection.guessContentTypeFromName(relative));
            ctx.contentType(type == null ? "application/octet-stream" : type);
            // Vite names built assets by content hash: they never change under the same name
            ctx.header("Cache-Control", relative.startsWith("assets/") ? "public, max-age=31536000, immutable"
                    : "no-cache");
            ctx.result(file);
            return;
        }
        if (relative.startsWith("assets/") || (relative.contains(".") && !relative.endsWith(".html"))) {
            throw ApiException.notFound("no such file: " + path);
        }
        byte[] index = read("index.html");
        ctx.contentType("text/html; charset=utf-8").header("Cache-Control", "no-cache");
        ctx.result(index != null ? index : placeholder());
    }

    private byte[] read(String relative) throws IOException {
        if (directory != null) {
            Path p = directory.resolve(relative).normalize();
            return p.startsWith(directory) && Files.isRegularFile(p) ? Files.readAllBytes(p) : null;
        }
        try (InputStream in = loader.getResourceAsStream(CLASSPATH_ROOT + relative)) {
            return in == null ? null : in.readAllBytes();
        }
    }

    private static byte[] placeholder() {
        return """
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8"><title>SkyDeck</title></head>
                <body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto">
                <h1>SkyDeck</h1>
                <p>The server is running, but this build has no dashboard in it
                (it was built with <code>-Dskydeck.ui.skip</code>, or the UI build is missing).</p>
                <p>The REST API is at <a href="/api/health">/api/health</a>, described by
                <a href="/api/openapi.json">/api/openapi.json</a>; live events stream from
                <a href="/api/events">/api/events</a>.</p>
                </body></html>
                """.getBytes(StandardCharsets.UTF_8);
    }
}
