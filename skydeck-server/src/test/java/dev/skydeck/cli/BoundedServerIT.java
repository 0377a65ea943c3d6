package dev.skydeck.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged server started as many users will, {@code java -jar skydeck.jar serve} with no JVM
 * options, keeps its resident memory bounded under 16 clients of load.
 */
class BoundedServerIT {
    @TempDir
    Path home;

    private static long rssKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS for " + pid);
    }

    @Test
    void plainJavaJarStaysBoundedUnderSixteenClients() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", CommandLineIT.JAR.toString(), "serve", "--port", Integer.toString(port))
                .redirectErrorStream(true).redirectOutput(home.resolve("server.out").toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("SKYDECK_") || k.startsWith("SKYPILOT_"));
        pb.environment().put("SKYDECK_HOME", home.toString());
        pb.environment().put("SKYDECK_BACKEND", "local");
        Process p = pb.start();
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + port;
        try {
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> http.send(
                    HttpRequest.newBuilder(URI.create(base + "/api/health")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
            for (int i = 0; i < 500; i += 100) {
                StringBuilder body = new StringBuilder("{\"experiments\": [");
                for (int j = i; j < i + 100; j++) {
                    body.append(j == i ? "" : ",").append("{\"name\": \"load-").append(j)
                            .append("\", \"description\": \"").append("d".repeat(200)).append("\"}");
                }
                body.append("]}");
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/api/experiments"))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
            }
            long idle = rssKb(p.pid());
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            AtomicLong requests = new AtomicLong();
            ExecutorService clients = Executors.newFixedThreadPool(16);
            List<Future<?>> load = new ArrayList<>();
            for (int c = 0; c < 16; c++) {
                int client = c;
                load.add(clients.submit(() -> {
                    HttpClient own = HttpClient.newHttpClient();
                    while (System.nanoTime() < deadline) {
                        String path = switch ((int) (requests.getAndIncrement() % 4)) {
                            case 0 -> "/api/experiments?limit=10000";
                            case 1 -> "/api/experiments/load-" + client;
                            case 2 -> "/api/openapi.json";
                            default -> "/api/operation-logs?limit=1000";
                        };
                        own.send(HttpRequest.newBuilder(URI.create(base + path)).build(),
                                HttpResponse.BodyHandlers.discarding());
                    }
                    return null;
                }));
            }
            long peak = idle;
            while (System.nanoTime() < deadline) {
                peak = Math.max(peak, rssKb(p.pid()));
                Thread.sleep(250);
            }
            for (Future<?> f : load) {
                f.get();
            }
            clients.shutdown();
            long after = rssKb(p.pid());
            System.out.printf("java -jar serve, no options: RSS idle %d MB, peak %d MB under 16 clients (%d requests),"
                    + " %d MB after%n", idle / 1024, peak / 1024, requests.get(), after / 1024);
            assertThat(peak / 1024).as("peak resident MB").isLessThan(300);
        } finally {
            p.destroy();
            p.waitFor();
        }
    }
}
