package dev.skydeck.cli.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.skydeck.server.internal.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Consumer;

/** The command line's client of the REST API (the JDK's HTTP client; no extra dependency). */
public final class ApiClient {
    /** Reads decimals as written ({@code 3.0}, {@code 0.0003}), so {@code --json} prints what the server sent. */
    private static final com.fasterxml.jackson.databind.ObjectMapper EXACT = Json.MAPPER.copy()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .setNodeFactory(com.fasterxml.jackson.databind.node.JsonNodeFactory.withExactBigDecimals(true));

    private final String base;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** A client of the server at {@code base}, sending {@code token} when not {@code null}. */
    public ApiClient(String base, String token) {
        this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        this.token = token;
    }

    /** The server's base URL. */
    public String base() {
        return base;
    }

    /** A failed call: the server's {@code detail}, or why it could not be reached. */
    public static final class Failure extends RuntimeException {
        private final int status;

        Failure(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }

        /** The HTTP status, or 0 when the server was not reached. */
        public int status() {
            return status;
        }
    }

    /** GETs JSON. */
    public JsonNode get(String path) {
        return send(request(path).GET().build(), Duration.ofSeconds(60));
    }

    /** POSTs JSON and reads JSON. */
    public JsonNode post(String path, Object body) {
        return send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(Json.bytes(body))).build(), Duration.ofSeconds(60));
    }

    /** POSTs JSON and hands every line of the (streamed) answer to {@code lines}. */
    public void postLines(String path, Object body, Consumer<String> lines) {
        HttpRequest req = request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(Json.bytes(body))).build();
        try {
            HttpResponse<java.io.InputStream> res = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
            if (res.statusCode() >= 400) {
                throw failure(res.statusCode(), new String(res.body().readAllBytes(), StandardCharsets.UTF_8));
            }
            try (BufferedReader r = new BufferedReader(new InputStreamReader(res.body(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.accept(line);
                }
            }
        } catch (IOException e) {
            throw unreachable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure(0, "interrupted");
        }
    }

    /** URL-encodes a query value. */
    public static String q(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(90))
                .header("Accept", "application/json");
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    private JsonNode send(HttpRequest req, Duration timeout) {
        try {
            HttpResponse<byte[]> res = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
            String text = new String(res.body(), StandardCharsets.UTF_8);
            if (res.statusCode() >= 400) {
                throw failure(res.statusCode(), text);
            }
            return EXACT.readTree(text.isEmpty() ? "{}" : text);
        } catch (IOException e) {
            throw unreachable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure(0, "interrupted");
        }
    }

    private Failure unreachable(IOException e) {
        if (e instanceof ConnectException || e.getCause() instanceof ConnectException) {
            return new Failure(0, "no SkyDeck server at " + base + ": start one with `skydeck start`"
                    + " (or point --url / SKYDECK_URL at yours)");
        }
        return new Failure(0, "talking to " + base + " failed: " + e);
    }

    private static Failure failure(int status, String body) {
        String detail = body;
        try {
            JsonNode n = Json.MAPPER.readTree(body);
            if (n.hasNonNull("detail")) {
                detail = n.get("detail").asText();
            }
        } catch (IOException e) {
            // not JSON: show it as it is
        }
        if (status == 401) {
            detail += " (set SKYDECK_TOKEN to your token from `skydeck token create NAME`, or SKYDECK_AUTH_TOKEN"
                        + " to the server's)";
        }
        return new Failure(status, "HTTP " + status + ": " + detail);
    }
}
