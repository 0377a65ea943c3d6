package dev.skydeck.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.skydeck.server.internal.Guard;
import dev.skydeck.server.internal.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every error, whoever raises it (Jetty before any route, Javalin, a route), is JSON with a
 * {@code detail} and carries the security headers. Raw sockets: an HTTP client would refuse to
 * send most of these.
 */
class ContainerErrorsTest {
    private static final String BIG = "x".repeat(20_000);

    @TempDir
    Path dir;
    TestServer s;

    @BeforeEach
    void start() {
        s = TestServer.start(dir);
        s.post("/api/experiments", "{\"name\": \"kept\"}");
    }

    @AfterEach
    void stop() {
        s.close();
    }

    /** A raw answer: status, headers (lower-case names), body. */
    record Raw(int status, Map<String, String> headers, String body) {
    }

    private Raw raw(String request) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", s.server.port()), 5_000);
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            int n;
            try {
                while ((n = in.read(buffer)) >= 0) {
                    all.write(buffer, 0, n);
                }
            } catch (java.net.SocketException e) {
                // a reset after the answer
            }
            String text = all.toString(StandardCharsets.UTF_8);
            int end = text.indexOf("\r\n\r\n");
            assertThat(end).as("an HTTP answer to %s: %s", request.lines().findFirst().orElse(""), text).isPositive();
            String[] head = text.substring(0, end).split("\r\n");
            Map<String, String> headers = new LinkedHashMap<>();
            for (int i = 1; i < head.length; i++) {
                int colon = head[i].indexOf(':');
                headers.put(head[i].substring(0, colon).strip().toLowerCase(Locale.ROOT), head[i].substring(colon + 1).strip());
            }
            String body = text.substring(end + 4);
            if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
                body = dechunk(body);
            }
            return new Raw(Integer.parseInt(head[0].split(" ")[1]), headers, body);
        }
    }

    private static String dechunk(String body) {
        StringBuilder out = new StringBuilder();
        int at = 0;
        while (true) {
            int eol = body.indexOf("\r\n", at);
            int size = Integer.parseInt(body.substring(at, eol).strip(), 16);
            if (size == 0) {
                return out.toString();
            }
            out.append(body, eol + 2, eol + 2 + size);
            at = eol + 2 + size + 2;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "GET /api/experiments/%00 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            "GET /%00 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            "GET /api/experiments/%ff HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            "GET /%ff HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            "PATCH /api/experiments/%ff%fe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 2\r\nConnection: close\r\n\r\n{}",
            "DELETE /api/experiments/%ff%fe HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            "GET /api/experiments/%2e%2e/%2e%2e/etc HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            "GET /api/experiments?q={BIG} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {BIG}\r\nConnection: close\r\n\r\n",
            "GARBAGE\r\n\r\n",
            "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: nope\r\nConnection: close\r\n\r\n",
            "GET /api/health HTTP/7.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            "GET /api/nothing-here HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    })
    void everyErrorIsJsonWithADetailAndTheSecurityHeaders(String request) throws IOException {
        Raw r = raw(request.replace("{BIG}", BIG));
        assertThat(r.status()).as(r.body()).isBetween(400, 599);
        assertThat(r.headers().get("content-type")).as(r.toString()).startsWith("application/json");
        JsonNode body = Json.MAPPER.readTree(r.body());
        assertThat(body.path("detail").asText()).as(r.body()).isNotBlank();
        Guard.HEADERS.forEach((name, value) ->
                assertThat(r.headers().get(name.toLowerCase(Locale.ROOT))).as(name + " in " + r).isEqualTo(value));
        assertThat(r.body()).doesNotContain("<html", "<HTML");
        // and nothing changed
        assertThat(s.get("/api/experiments").json().path("experiments").size()).isEqualTo(1);
    }
}
