package dev.skydeck.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.skydeck.testing.NoThreadLeaks;
import dev.skydeck.server.internal.Json;
import dev.skydeck.toy.ToyTrainer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Event streams, log follows and waits hold no server thread: a thousand idle streams leave the
 * API quick; past the limits per client and overall a new one gets 503 with a detail. Clients are
 * raw sockets, read by this one test thread, so the test itself stays light.
 */
@ExtendWith(NoThreadLeaks.class)
class LongLivedRequestsTest {
    @TempDir
    Path dir;
    TestServer s;
    final List<Socket> sockets = new ArrayList<>();

    @AfterEach
    void stop() {
        sockets.forEach(LongLivedRequestsTest::closeQuietly);
        if (s != null) {
            s.close();
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    /** Sends a raw request from {@code from} (a loopback address) and returns the open socket. */
    private Socket send(String from, String request) {
        try {
            Socket socket = new Socket();
            socket.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
            socket.connect(new InetSocketAddress("127.0.0.1", s.server.port()), 5_000);
            socket.setSoTimeout(10_000);
            sockets.add(socket);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().flush();
            return socket;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Socket events(String from) {
        return send(from, "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n");
    }

    /** Reads until {@code marker} arrives (or the socket ends) and returns what came. */
    private static String readUntil(Socket socket, String marker) {
        try {
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream seen = new ByteArrayOutputStream();
            byte[] buffer = new byte[4096];
            while (!seen.toString(StandardCharsets.UTF_8).contains(marker)) {
                int n = in.read(buffer);
                if (n < 0) {
                    break;
                }
                seen.write(buffer, 0, n);
            }
            return seen.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** How long {@code GET /api/health} takes, in ms: the median of 21 after a warm-up, and the worst. */
    private long[] healthLatency() {
        for (int i = 0; i < 20; i++) {
            assertThat(s.get("/api/health").status()).isEqualTo(200);
        }
        long[] ms = new long[21];
        for (int i = 0; i < ms.length; i++) {
            long start = System.nanoTime();
            TestServer.Response r = s.get("/api/health");
            ms[i] = (System.nanoTime() - start) / 1_000_000;
            assertThat(r.status()).isEqualTo(200);
        }
        Arrays.sort(ms);
        return new long[] {ms[ms.length / 2], ms[ms.length - 1]};
    }

    @Test
    void aThousandIdleEventStreamsLeaveHealthUnderTwentyMilliseconds() {
        s = TestServer.start(dir, b -> b.heartbeat(Duration.ofSeconds(2)));
        for (int i = 0; i < 1_000; i++) {
            String head = readUntil(events("127.0.0.1"), "retry: 2000");
            assertThat(head).as("stream %d", i).startsWith("HTTP/1.1 200").contains("retry: 2000");
        }
        assertThat(s.server.eventClients()).isEqualTo(1_000);
        long[] latency = healthLatency();
        System.out.printf("health with 1,000 idle event streams: median %d ms, worst %d ms%n", latency[0], latency[1]);
        assertThat(latency[0]).as("median ms").isLessThan(20);
        // every stream still lives: a heartbeat reaches the first and the last
        assertThat(readUntil(sockets.get(0), ": ping")).contains(": ping");
        assertThat(readUntil(sockets.get(999), ": ping")).contains(": ping");
        // and an event reaches them
        assertThat(s.post("/api/experiments", "{\"name\": \"seen-by-all\"}").status()).isEqualTo(201);
        assertThat(readUntil(sockets.get(500), "seen-by-all")).contains("\"experiment_name\":\"seen-by-all\"");
    }

    @Test
    void waitsAndLogFollowsHoldNoServerThread() {
        s = TestServer.start(dir);
        s.post("/api/experiments", Json.string(Map.of("name", "long", "base_command", ToyTrainer.baseCommand(),
                "flags", Map.of("epochs", 1000, "sleep_ms", 200), "desired_state", "RUNNING")));
        await().atMost(Duration.ofSeconds(30)).until(() -> s.get("/api/jobs?experiment=long&active=true").json()
                .path("jobs").path(0).path("backend_job_id").isTextual());
        String job = s.get("/api/jobs?experiment=long").json().path("jobs").get(0).path("id").asText();
        int many = SkyDeckServer.MAX_HTTP_THREADS + 8; // more than the server has threads
        String wait = "{\"ids\": [\"long\"], \"timeout_seconds\": 30}";
        for (int i = 0; i < many; i++) {
            send("127.0.0.1", "POST /api/waits/experiments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                    + "\r\nContent-Length: " + wait.length() + "\r\n\r\n" + wait);
            assertThat(readUntil(send("127.0.0.1", "GET /api/jobs/" + job + "/logs?follow=true HTTP/1.1\r\nHost: 127.0.0.1"
                    + "\r\n\r\n"), "epoch")).startsWith("HTTP/1.1 200");
        }
        // were they on the server's threads, there would be none left and health would hang; the bound is
        // loose because the running job and each follow's reader (polling its log) keep this box busy
        long[] latency = healthLatency();
        System.out.printf("health with %d waits and %d log follows: median %d ms, worst %d ms%n", many, many,
                latency[0], latency[1]);
        assertThat(latency[0]).as("median ms with %d waits and %d follows", many, many).isLessThan(250);
        s.post("/api/experiments/long/state", "{\"desired_state\": \"STOPPED\"}");
    }

    @Test
    void pastTheLimitsPerClientAndOverallANewStreamGets503WithADetail() {
        s = TestServer.start(dir, b -> b.maxStreams(3).maxStreamsPerClient(2));
        Socket first = events("127.0.0.1");
        readUntil(first, "retry: 2000");
        readUntil(events("127.0.0.1"), "retry: 2000");
        String refused = readUntil(events("127.0.0.1"), "}");
        assertThat(refused).startsWith("HTTP/1.1 503").contains("application/json")
                .contains("too many open event streams, log follows and waits from 127.0.0.1 (at most 2");
        // a wait counts too
        TestServer.Response wait = s.post("/api/waits/experiments", "{\"ids\": [], \"timeout_seconds\": 1}");
        assertThat(wait.status()).isEqualTo(503);
        assertThat(wait.detail()).contains("at most 2");
        // another client may still open one, until the server's own limit
        readUntil(events("127.0.0.2"), "retry: 2000");
        String full = readUntil(events("127.0.0.3"), "}");
        assertThat(full).startsWith("HTTP/1.1 503").contains("as many open event streams, log follows and waits as it"
                + " allows (3");
        assertThat(s.server.eventClients()).isEqualTo(3);
        // a stream that ends gives its place back
        closeQuietly(first);
        await().atMost(Duration.ofSeconds(10)).until(() -> s.server.eventClients() == 2);
        assertThat(readUntil(events("127.0.0.3"), "retry: 2000")).startsWith("HTTP/1.1 200");
    }
}
