package dev.skydeck.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.skydeck.toy.ToyTrainer;
import dev.skydeck.server.TestServer.Response;
import dev.skydeck.server.internal.Json;
import dev.skydeck.testing.NoThreadLeaks;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Concurrent API writers never lose an update and never launch twice. */
@ExtendWith(NoThreadLeaks.class)
class ConcurrencyTest {
    @TempDir
    Path dir;
    TestServer s;
    final ExecutorService pool = Executors.newFixedThreadPool(8);

    @BeforeEach
    void start() {
        s = TestServer.start(dir);
    }

    @AfterEach
    void stop() {
        pool.shutdownNow();
        s.close();
    }

    private <T> List<T> together(int n, java.util.function.IntFunction<Callable<T>> task) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        List<Future<T>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Callable<T> c = task.apply(i);
            futures.add(pool.submit(() -> {
                go.await();
                return c.call();
            }));
        }
        go.countDown();
        List<T> out = new ArrayList<>();
        for (Future<T> f : futures) {
            out.add(f.get());
        }
        return out;
    }

    @Test
    void parallelPatchesWithTheSameVersionLetExactlyOneWin() throws Exception {
        long version = s.post("/api/experiments", "{\"name\": \"race\"}").json().path("experiment").path("version").asLong();
        List<Response> results = together(8, i -> () -> s.patch("/api/experiments/race",
                "{\"version\": " + version + ", \"priority\": " + (i + 1) + "}"));
        List<Response> won = results.stream().filter(r -> r.status() == 200).toList();
        assertThat(won).hasSize(1);
        assertThat(results.stream().filter(r -> r.status() == 409)).hasSize(7);
        int winner = won.get(0).json().path("experiment").path("priority").asInt();
        assertThat(s.get("/api/experiments/race").json().path("experiment").path("priority").asInt()).isEqualTo(winner);
    }

    @Test
    void readModifyWriteClientsThatRetryOn409LoseNothing() throws Exception {
        s.post("/api/experiments", "{\"name\": \"counter\", \"flags\": {}}");
        together(8, i -> () -> {
            while (true) {
                JsonNode e = s.get("/api/experiments/counter").json().path("experiment");
                @SuppressWarnings("unchecked")
                Map<String, Object> flags = Json.MAPPER.convertValue(e.path("flags"), Map.class);
                flags.put("writer" + i, (long) i);
                Response r = s.patch("/api/experiments/counter", Json.string(Map.of("version", e.path("version").asLong(),
                        "flags", flags)));
                if (r.status() == 200) {
                    return null;
                }
                assertThat(r.status()).as(r.body()).isEqualTo(409);
            }
        });
        JsonNode flags = s.get("/api/experiments/counter").json().path("experiment").path("flags");
        assertThat(flags.size()).isEqualTo(8);
    }

    @Test
    void parallelBulkStartsLaunchEachExperimentOnce() throws Exception {
        List<Object> ids = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ids.add(s.post("/api/experiments", Json.string(Map.of("name", "bulk" + i, "base_command",
                    ToyTrainer.baseCommand(), "flags", Map.of("epochs", 1000, "sleep_ms", 500))))
                    .json().path("experiment").path("id").asLong());
        }
        String body = Json.string(Map.of("action", "start", "ids", ids));
        List<Response> results = together(6, i -> () -> s.post("/api/experiments/bulk", body));
        assertThat(results).allSatisfy(r -> assertThat(r.json().path("succeeded").asInt()).isEqualTo(6));
        await().atMost(Duration.ofSeconds(60)).until(() ->
                s.get("/api/jobs?active=true").json().path("jobs").size() == 6
                        && s.get("/api/jobs?active=true").json().path("jobs").findValues("status").stream()
                        .allMatch(v -> v.asText().equals("RUNNING")));
        // another round of reconciles changes nothing: still one job each
        s.post("/api/reconcile", "");
        s.post("/api/refresh", "");
        for (int i = 0; i < 6; i++) {
            assertThat(s.get("/api/experiments/bulk" + i + "/jobs").header("X-Total-Count")).isEqualTo("1");
        }
        s.post("/api/experiments/bulk", Json.string(Map.of("action", "stop", "ids", ids)));
        await().atMost(Duration.ofSeconds(60)).until(() -> s.get("/api/jobs?active=true").json().path("jobs").isEmpty());
    }
}
