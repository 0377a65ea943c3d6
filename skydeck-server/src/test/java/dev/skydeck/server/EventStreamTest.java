package dev.skydeck.server;

import static dev.skydeck.server.ExperimentApiTest.toy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.skydeck.server.internal.Json;
import dev.skydeck.testing.NoThreadLeaks;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code GET /api/events}: every event, in order, resumable, kept alive, closed first at shutdown. */
@ExtendWith(NoThreadLeaks.class)
class EventStreamTest {
    @TempDir
    Path dir;
    TestServer s;
    final List<Client> clients = new ArrayList<>();

    @AfterEach
    void stop() {
        if (s != null) {
            s.close();
        }
        clients.forEach(Client::close);
    }

    /** An SSE client reading on its own thread. */
    final class Client {
        final List<String> lines = new CopyOnWriteArrayList<>();
        final CompletableFuture<HttpResponse<Stream<String>>> response;
        volatile boolean ended;

        Client(String lastEventId) {
            HttpRequest.Builder b = s.builder("/api/events").header("Accept", "text/event-stream");
            if (lastEventId != null) {
                b.header("Last-Event-ID", lastEventId);
            }
            response = s.http.sendAsync(b.GET().build(), HttpResponse.BodyHandlers.ofLines());
            response.thenAcceptAsync(r -> {
                try (Stream<String> body = r.body()) {
                    body.forEach(lines::add);
                } catch (RuntimeException e) {
                    // closed
                } finally {
                    ended = true;
                }
            });
            clients.add(this);
        }

        List<JsonNode> events() {
            List<JsonNode> out = new ArrayList<>();
            for (String l : lines) {
                if (l.startsWith("data: ")) {
                    try {
                        out.add(Json.MAPPER.readTree(l.substring(6)));
                    } catch (IOException e) {
                        throw new IllegalStateException(l, e);
                    }
                }
            }
            return out;
        }

        List<Long> ids() {
            return lines.stream().filter(l -> l.startsWith("id: ")).map(l -> Long.parseLong(l.substring(4))).toList();
        }

        void close() {
            response.cancel(true);
        }
    }

    private Client connect(String lastEventId) {
        Client c = new Client(lastEventId);
        await().atMost(Duration.ofSeconds(10)).until(() -> c.lines.contains("retry: 2000"));
        return c;
    }

    private void settle(String name) {
        await().atMost(Duration.ofSeconds(60)).until(() -> s.post("/api/waits/experiments",
                "{\"ids\": [\"" + name + "\"], \"timeout_seconds\": 10}").json().path("settled").asBoolean());
    }

    @Test
    void aJourneysEventsArriveInOrderWithoutGaps() {
        s = TestServer.start(dir);
        Client c = connect(null);
        s.post("/api/experiments", toy("journey", 2, "STOPPED"));
        s.post("/api/experiments/journey/state", "{\"desired_state\": \"RUNNING\"}");
        settle("journey");
        assertThat(s.get("/api/experiments/journey").json().path("experiment").path("current_state").asText())
                .isEqualTo("SUCCEEDED");
        s.post("/api/experiments/journey/state", "{\"desired_state\": \"RUNNING\"}"); // RUNNING already: nothing
        s.post("/api/experiments/journey/restart", ""); // a new generation
        await().atMost(Duration.ofSeconds(60)).until(() ->
                s.get("/api/experiments/journey/jobs").json().path("jobs").size() == 2);
        s.post("/api/experiments/journey/state", "{\"desired_state\": \"STOPPED\"}");
        settle("journey");
        long last = s.get("/api/operation-logs?limit=1").json().path("events").get(0).path("seq").asLong();
        await().atMost(Duration.ofSeconds(10)).until(() -> !c.ids().isEmpty() && c.ids().get(c.ids().size() - 1) == last);

        List<Long> ids = c.ids();
        for (int i = 1; i < ids.size(); i++) {
            assertThat(ids.get(i)).as("no gap, no repeat").isEqualTo(ids.get(i - 1) + 1);
        }
        List<String> story = new ArrayList<>();
        for (JsonNode e : c.events()) {
            String type = e.path("type").asText();
            String msg = e.path("message").asText();
            if (type.equals("JOB_STATUS")) {
                if (msg.endsWith("SUCCEEDED")) {
                    story.add("SUCCEEDED");
                }
            } else if (List.of("CREATE", "START", "RESTART", "LAUNCH", "STOP").contains(type)) {
                story.add(type);
            }
        }
        assertThat(story).containsSubsequence("CREATE", "START", "LAUNCH", "SUCCEEDED", "RESTART", "LAUNCH", "STOP");
        assertThat(story.stream().filter("START"::equals).count()).isEqualTo(1); // the repeated start did nothing
        assertThat(c.events()).allSatisfy(e -> assertThat(e.path("experiment_name").asText()).isEqualTo("journey"));
    }

    @Test
    void lastEventIdResumesWithEverythingMissedAndNothingTwice() {
        s = TestServer.start(dir);
        for (int i = 0; i < 5; i++) {
            s.post("/api/experiments", "{\"name\": \"r" + i + "\"}");
        }
        long second = s.get("/api/operation-logs?after_seq=0&limit=2").json().path("events").get(1).path("seq").asLong();
        Client c = connect(Long.toString(second));
        s.post("/api/experiments", "{\"name\": \"live\"}");
        await().atMost(Duration.ofSeconds(10)).until(() -> c.events().stream()
                .anyMatch(e -> e.path("experiment_name").asText().equals("live")));
        List<String> names = c.events().stream().map(e -> e.path("experiment_name").asText()).toList();
        assertThat(names).containsExactly("r2", "r3", "r4", "live");
        assertThat(c.ids().get(0)).isEqualTo(second + 1);
    }

    @Test
    void eightWritersFourHundredCreatesEveryStreamSeesEveryEventInOrderAndAResumeGetsExactlyTheMissed()
            throws Exception {
        s = TestServer.start(dir);
        List<Client> live = List.of(connect(null), connect(null), connect(null));
        long start = s.get("/api/operation-logs?limit=1").json().path("events").path(0).path("seq").asLong(0);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        List<java.util.concurrent.Future<?>> writers = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int thread = t;
            writers.add(pool.submit(() -> {
                for (int i = 0; i < 50; i++) {
                    TestServer.Response r = s.post("/api/experiments", "{\"name\": \"w" + thread + "-" + i + "\"}");
                    assertThat(r.status()).as(r.body()).isEqualTo(201);
                }
            }));
        }
        for (var w : writers) {
            w.get(2, java.util.concurrent.TimeUnit.MINUTES);
        }
        pool.shutdown();
        long last = s.get("/api/operation-logs?limit=1").json().path("events").get(0).path("seq").asLong();
        List<Long> expected = java.util.stream.LongStream.rangeClosed(start + 1, last).boxed().toList();
        assertThat(expected).hasSizeGreaterThanOrEqualTo(400);
        for (Client c : live) {
            await().atMost(Duration.ofSeconds(30)).until(() -> !c.ids().isEmpty() && c.ids().get(c.ids().size() - 1) == last);
            assertThat(c.ids()).containsExactlyElementsOf(expected);
            assertThat(c.events()).filteredOn(e -> e.path("type").asText().equals("CREATE")).hasSize(400);
        }
        long resumeAt = expected.get(123);
        Client resumed = connect(Long.toString(resumeAt));
        await().atMost(Duration.ofSeconds(30)).until(() -> !resumed.ids().isEmpty()
                && resumed.ids().get(resumed.ids().size() - 1) == last);
        assertThat(resumed.ids()).containsExactlyElementsOf(expected.subList(124, expected.size()));
    }

    @Test
    void anIdleStreamGetsHeartbeats() {
        s = TestServer.start(dir);
        Client c = connect(null);
        await().atMost(Duration.ofSeconds(10)).until(() -> c.lines.stream().filter(l -> l.equals(": ping")).count() >= 2);
    }

    @Test
    void closingTheServerEndsOpenStreamsFirst() {
        s = TestServer.start(dir);
        Client a = connect(null);
        Client b = connect("0");
        await().atMost(Duration.ofSeconds(5)).until(() -> s.server.eventClients() == 2);
        CompletableFuture<Void> closing = CompletableFuture.runAsync(s.server::close);
        await().atMost(Duration.ofSeconds(10)).until(closing::isDone);
        await().atMost(Duration.ofSeconds(10)).until(() -> a.ended && b.ended);
        assertThat(s.server.eventClients()).isZero();
    }
}
