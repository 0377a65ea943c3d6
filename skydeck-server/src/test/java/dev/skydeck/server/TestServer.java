package dev.skydeck.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.skydeck.SkyDeck;
import dev.skydeck.local.LocalBackend;
import dev.skydeck.local.LocalCheckpointSource;
import dev.skydeck.server.internal.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;

/**
 * A real server for tests: a SQLite file, the local backend running real processes, Javalin on
 * a free loopback port, and a JDK HTTP client.
 */
final class TestServer implements AutoCloseable {
    final SkyDeck deck;
    final SkyDeckServer server;
    final LocalBackend backend;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private String token;

    private TestServer(SkyDeck deck, LocalBackend backend, SkyDeckServer server) {
        this.deck = deck;
        this.backend = backend;
        this.server = server;
    }

    static TestServer start(Path dir) {
        return start(dir, b -> b);
    }

    static TestServer start(Path dir, UnaryOperator<SkyDeckServer.Builder> options) {
        LocalBackend backend = LocalBackend.builder().jobsDirectory(dir.resolve("jobs"))
                .checkpointDirectory(dir.resolve("checkpoints")).gpuSlots(4)
                .cancelGracePeriod(Duration.ofSeconds(2)).build();
        SkyDeck deck = SkyDeck.builder().databaseFile(dir.resolve("skydeck.db")).backend(backend)
                .checkpoints(new LocalCheckpointSource(dir.resolve("checkpoints")))
                .pollInterval(Duration.ofMillis(200)).fastPollInterval(Duration.ofMillis(200)).build();
        SkyDeckServer server = options.apply(SkyDeckServer.builder(deck).port(0)
                .heartbeat(Duration.ofMillis(300))).build().start();
        return new TestServer(deck, backend, server);
    }

    TestServer token(String value) {
        this.token = value;
        return this;
    }

    String url(String path) {
        return server.url() + path;
    }

    /** One HTTP answer. */
    record Response(int status, String body, HttpHeaders headers) {
        JsonNode json() {
            try {
                return Json.MAPPER.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON: " + body, e);
            }
        }

        String detail() {
            return json().path("detail").asText();
        }

        String header(String name) {
            return headers.firstValue(name).orElse(null);
        }
    }

    Response get(String path) {
        return send(builder(path).GET());
    }

    Response post(String path, String json) {
        return send(builder(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    Response patch(String path, String json) {
        return send(builder(path).header("Content-Type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString(json)));
    }

    Response delete(String path) {
        return send(builder(path).DELETE());
    }

    HttpRequest.Builder builder(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(60));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    Response send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> res = http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            return new Response(res.statusCode(), res.body(), res.headers());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        server.close();
        deck.close();
        backend.close();
    }
}
