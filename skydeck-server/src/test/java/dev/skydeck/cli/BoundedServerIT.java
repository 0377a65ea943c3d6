package dev.skydeck.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.skydeck.cli.internal.PidFile;
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
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged server started as many users will, {@code java -jar skydeck.jar serve} with no JVM
 * options (issue 13 item 8): it serves from a child JVM with the bounded options, whose pid is in
 * the pid file, whose resident memory stays under the performance issue's bound under 16 clients,
 * and which ends with its parent however either ends.
 */
class BoundedServerIT {
    @TempDir
    Path home;
    final List<Process> processes = new ArrayList<>();
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void cleanUp() throws InterruptedException {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static long status(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no " + field + " for " + pid);
    }

    record Server(Process process, int port, long servingPid) {
        String base() {
            return "http://127.0.0.1:" + port;
        }
    }

    /** {@code java -jar skydeck.jar serve} with no JVM options, as a user types it. */
    private Server serve(Map<String, String> env) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", CommandLineIT.JAR.toString(), "serve", "--port", Integer.toString(port))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(home.resolve("server.out").toFile()));
        pb.environment().keySet().removeIf(k -> k.startsWith("SKYDECK_") || k.startsWith("SKYPILOT_"));
        pb.environment().put("SKYDECK_HOME", home.toString());
        pb.environment().put("SKYDECK_BACKEND", "local");
        pb.environment().putAll(env);
        Process p = pb.start();
        processes.add(p);
        await().atMost(Duration.ofSeconds(90)).ignoreExceptions().until(() -> {
            assertThat(p.isAlive()).as(Files.readString(home.resolve("server.out"))).isTrue();
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/health")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        });
        Optional<PidFile> pid = PidFile.read(home.resolve("skydeck.pid"));
        assertThat(pid).isPresent();
        return new Server(p, port, pid.get().pid());
    }

    private String send(String base, String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path));
        b = body == null ? b.GET() : b.header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(method + " " + path + ": " + r.body()).isBetween(200, 201);
        return r.body();
    }

    @Test
    void plainJavaJarServesFromABoundedChildUnderSixteenClients() throws Exception {
        Server s = serve(Map.of());
        // the pid file names the JVM that serves: a child of the process the user started, with the bound
        assertThat(s.servingPid()).isNotEqualTo(s.process().pid());
        ProcessHandle child = ProcessHandle.of(s.servingPid()).orElseThrow();
        assertThat(child.parent().map(ProcessHandle::pid)).hasValue(s.process().pid());
        assertThat(String.join(" ", child.info().arguments().orElse(new String[0]))).contains("-Xmx256m");
        String base = s.base();
        for (int i = 0; i < 1_000; i += 100) {
            StringBuilder body = new StringBuilder("{\"experiments\": [");
            for (int j = i; j < i + 100; j++) {
                body.append(j == i ? "" : ",").append("{\"name\": \"load-").append(j)
                        .append("\", \"description\": \"").append("d".repeat(100)).append("\", \"flags\": {");
                for (int f = 0; f < 10; f++) {
                    body.append(f == 0 ? "" : ",").append("\"flag").append(f).append("\": ").append(j * f);
                }
                body.append("}}");
            }
            body.append("]}");
            send(base, "POST", "/api/experiments", body.toString());
        }
        long idle = status(s.servingPid(), "VmRSS");
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        AtomicLong requests = new AtomicLong();
        ExecutorService clients = Executors.newFixedThreadPool(16);
        List<Future<?>> load = new ArrayList<>();
        for (int c = 0; c < 16; c++) {
            int client = c;
            load.add(clients.submit(() -> {
                HttpClient own = HttpClient.newHttpClient();
                while (System.nanoTime() < deadline) {
                    long n = requests.getAndIncrement();
                    String path = switch ((int) (n % 5)) {
                        case 0 -> "/api/experiments?fields=full";
                        case 1 -> "/api/groups";
                        case 2 -> "/api/experiments/load-" + client;
                        case 3 -> "/api/operation-logs?limit=1000";
                        default -> null;
                    };
                    HttpRequest req = path != null ? HttpRequest.newBuilder(URI.create(base + path)).build()
                            : HttpRequest.newBuilder(URI.create(base + "/api/experiments/load-" + (n % 1_000)))
                            .header("Content-Type", "application/json")
                            .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"description\": \"edit " + n + "\"}"))
                            .build();
                    int code = own.send(req, HttpResponse.BodyHandlers.discarding()).statusCode();
                    assertThat(code).as(req.method() + " " + req.uri()).isEqualTo(200);
                }
                return null;
            }));
        }
        // resident memory sampled every 250 ms while the clients run (VmHWM below is the exact peak)
        AtomicLong sampled = new AtomicLong(idle);
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        sampler.scheduleAtFixedRate(() -> {
            try {
                sampled.accumulateAndGet(status(s.servingPid(), "VmRSS"), Math::max);
            } catch (IOException | RuntimeException e) {
                // the process may be between two states of /proc: the next sample counts
            }
        }, 0, 250, TimeUnit.MILLISECONDS);
        try {
            for (Future<?> f : load) {
                f.get();
            }
        } finally {
            sampler.shutdownNow();
            clients.shutdown();
        }
        long sampledPeak = sampled.get();
        long peak = status(s.servingPid(), "VmHWM");
        long parent = status(s.process().pid(), "VmRSS");
        System.out.printf("java -jar serve, no options: serving JVM RSS idle %d MB, sampled peak %d MB, VmHWM %d MB"
                + " under 16 clients (%d requests); the waiting parent %d MB%n", idle >> 10, sampledPeak >> 10,
                peak >> 10, requests.get(), parent >> 10);
        assertThat(peak >> 10).as("peak resident MB of the serving JVM").isLessThan(400);
    }

    @Test
    void killingEitherProcessEndsBoth() throws Exception {
        // kill -9 of the serving child: the parent ends too, with its status
        Server a = serve(Map.of());
        ProcessHandle.of(a.servingPid()).orElseThrow().destroyForcibly();
        assertThat(a.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(a.process().exitValue()).isEqualTo(137);

        // kill -9 of the parent: the child notices and stops cleanly (its pid file goes)
        Server b = serve(Map.of());
        ProcessHandle child = ProcessHandle.of(b.servingPid()).orElseThrow();
        b.process().destroyForcibly();
        await().atMost(Duration.ofSeconds(60)).until(() -> !child.isAlive());
        assertThat(PidFile.readLive(home.resolve("skydeck.pid"))).isEmpty();

        // SIGTERM of the parent (what Ctrl-C or a service manager does): both end
        Server c = serve(Map.of());
        ProcessHandle third = ProcessHandle.of(c.servingPid()).orElseThrow();
        c.process().destroy();
        assertThat(c.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(third.isAlive()).isFalse();

        // `skydeck stop` (SIGTERM to the pid in the pid file, the child): the parent follows
        Server d = serve(Map.of());
        ProcessBuilder stop = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", CommandLineIT.JAR.toString(), "stop").redirectErrorStream(true);
        stop.environment().put("SKYDECK_HOME", home.toString());
        Process stopping = stop.start();
        String out = new String(stopping.getInputStream().readAllBytes());
        assertThat(stopping.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(out).contains("stopped (pid " + d.servingPid() + ")");
        assertThat(d.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void theEscapeHatchServesInTheStartedJvm() throws Exception {
        Server s = serve(Map.of("SKYDECK_NO_REEXEC", "1"));
        assertThat(s.servingPid()).isEqualTo(s.process().pid());
        assertThat(s.process().descendants().count()).isZero();
    }
}
