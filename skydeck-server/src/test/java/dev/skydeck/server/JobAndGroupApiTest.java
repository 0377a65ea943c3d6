package dev.skydeck.server;

import static dev.skydeck.server.ExperimentApiTest.names;
import static dev.skydeck.server.ExperimentApiTest.toy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.skydeck.toy.ToyTrainer;
import dev.skydeck.server.TestServer.Response;
import dev.skydeck.server.internal.Json;
import dev.skydeck.testing.NoThreadLeaks;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code /api/jobs/**} and {@code /api/groups/**} over real HTTP with real local jobs. */
@ExtendWith(NoThreadLeaks.class)
class JobAndGroupApiTest {
    @TempDir
    Path dir;
    TestServer s;

    @BeforeEach
    void start() {
        s = TestServer.start(dir);
    }

    @AfterEach
    void stop() {
        s.close();
    }

    private long create(String json) {
        Response r = s.post("/api/experiments", json);
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().path("experiment").path("id").asLong();
    }

    private void settle(String... names) {
        await().atMost(Duration.ofSeconds(60)).until(() -> s.post("/api/waits/experiments",
                Json.string(Map.of("ids", names, "timeout_seconds", 10))).json().path("settled").asBoolean());
    }

    @Test
    void jobsAreListedFilteredAndFetched() {
        create(toy("j1", 1, "RUNNING"));
        create(toy("j2", 1, "RUNNING"));
        settle("j1", "j2");
        Response all = s.get("/api/jobs");
        assertThat(all.header("X-Total-Count")).isEqualTo("2");
        Response mine = s.get("/api/jobs?experiment=j1");
        assertThat(mine.json().path("jobs")).hasSize(1);
        JsonNode job = mine.json().path("jobs").get(0);
        assertThat(job.path("experiment_name").asText()).isEqualTo("j1");
        assertThat(job.path("active").asBoolean()).isFalse();
        assertThat(job.path("command_line").asText()).contains("ToyTrainer").contains("run=j1");
        assertThat(s.get("/api/jobs?active=true").json().path("jobs")).isEmpty();
        assertThat(s.get("/api/jobs?q=j2").json().path("jobs")).hasSize(1);
        assertThat(s.get("/api/jobs?orphaned=true").json().path("jobs")).isEmpty();
        Response one = s.get("/api/jobs/" + job.path("id").asText());
        assertThat(one.json().path("job").path("status").asText()).isEqualTo("SUCCEEDED");
        assertThat(s.get("/api/jobs/j-nope").status()).isEqualTo(404);
    }

    @Test
    void aDeletedExperimentsJobsAreOrphaned() {
        create(toy("orph", 1, "RUNNING"));
        settle("orph");
        s.delete("/api/experiments/orph");
        JsonNode jobs = s.get("/api/jobs?orphaned=true").json().path("jobs");
        assertThat(jobs).hasSize(1);
        assertThat(jobs.get(0).path("experiment_name").asText()).isEqualTo("orph");
    }

    @Test
    void logsAreServedAsTextWithATail() {
        create(toy("logged", 3, "RUNNING"));
        settle("logged");
        String id = s.get("/api/jobs?experiment=logged").json().path("jobs").get(0).path("id").asText();
        Response all = s.get("/api/jobs/" + id + "/logs");
        assertThat(all.status()).isEqualTo(200);
        assertThat(all.header("Content-Type")).startsWith("text/plain");
        assertThat(all.body()).contains("epoch 1/3").contains("epoch 3/3").contains("done: 3 epochs");
        String tail = s.get("/api/jobs/" + id + "/logs?tail=1").body();
        assertThat(tail.strip().lines()).hasSize(1);
        assertThat(tail).contains("done: 3 epochs");
    }

    @Test
    void aFollowedLogStreamsNewLinesUntilTheJobEnds() throws Exception {
        create(Json.string(Map.of("name", "follow", "base_command", ToyTrainer.baseCommand(),
                "flags", Map.of("epochs", 6, "sleep_ms", 300), "desired_state", "RUNNING")));
        await().atMost(Duration.ofSeconds(30)).until(() ->
                s.get("/api/jobs?experiment=follow&active=true").json().path("jobs").path(0)
                        .path("backend_job_id").isTextual());
        String id = s.get("/api/jobs?experiment=follow").json().path("jobs").get(0).path("id").asText();
        HttpResponse<InputStream> res = s.http.send(s.builder("/api/jobs/" + id + "/logs?follow=true").GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        StringBuilder seen = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(res.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                seen.append(line).append('\n');
            }
        }
        // the stream ended by itself when the job did, and carried every line up to the last
        assertThat(seen.toString()).contains("epoch 1/6").contains("epoch 6/6").contains("done: 6 epochs");
    }

    @Test
    void cancelStopsARunningJob() {
        create(Json.string(Map.of("name", "cancelme", "base_command", ToyTrainer.baseCommand(),
                "flags", Map.of("epochs", 1000, "sleep_ms", 500), "desired_state", "RUNNING")));
        await().atMost(Duration.ofSeconds(30)).until(() ->
                s.get("/api/jobs?experiment=cancelme&active=true").json().path("jobs").path(0)
                        .path("status").asText().equals("RUNNING"));
        String id = s.get("/api/jobs?experiment=cancelme").json().path("jobs").get(0).path("id").asText();
        Response r = s.post("/api/jobs/" + id + "/cancel", "");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        // the cancel is recorded and the answer does not wait for the backend; the poller sees it take
        assertThat(r.json().path("job").path("cancel").path("requested_by").asText()).isEqualTo("USER");
        assertThat(r.json().path("job").path("cancel").path("requested_at").asText()).isNotEmpty();
        s.post("/api/experiments/cancelme/state", "{\"desired_state\": \"STOPPED\"}");
        await().atMost(Duration.ofSeconds(30)).until(() ->
                s.get("/api/jobs/" + id).json().path("job").path("status").asText().equals("CANCELLED"));
        Response again = s.post("/api/jobs/" + id + "/cancel", "{}");
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.detail()).contains("already ended");
        assertThat(again.json().path("reason").asText()).isEqualTo("JOB_ENDED");
    }

    @Test
    void groupsAreCreatedFilledMovedReorderedAndDeleted() {
        long a = create("{\"name\": \"a\"}");
        long b = create("{\"name\": \"b\"}");
        long c = create("{\"name\": \"c\"}");
        Response g1 = s.post("/api/groups", "{\"name\": \"sweep\", \"flags\": [\"lr\"], \"experiment_ids\": [" + a + "]}");
        assertThat(g1.status()).as(g1.body()).isEqualTo(201);
        long gid1 = g1.json().path("group").path("id").asLong();
        long gid2 = s.post("/api/groups", "{\"name\": \"other\"}").json().path("group").path("id").asLong();

        JsonNode listed = s.get("/api/groups").json();
        assertThat(listed.path("groups")).hasSize(2);
        assertThat(names(listed.path("groups").get(0).path("experiments"))).containsExactly("a");
        assertThat(names(listed.path("ungrouped"))).containsExactly("b", "c");

        s.post("/api/groups/" + gid1 + "/experiments", "{\"experiment_ids\": [" + b + ", \"c\"]}");
        assertThat(names(s.get("/api/groups/" + gid1).json().path("group").path("experiments")))
                .containsExactly("a", "b", "c");
        // a move takes it out of the first group; multi_home keeps it in both
        s.post("/api/groups/" + gid2 + "/experiments", "{\"experiment_ids\": [" + a + "]}");
        s.post("/api/groups/" + gid2 + "/experiments", "{\"experiment_ids\": [" + b + "], \"multi_home\": true}");
        assertThat(names(s.get("/api/groups/" + gid1).json().path("group").path("experiments")))
                .containsExactly("b", "c");
        assertThat(names(s.get("/api/groups/" + gid2).json().path("group").path("experiments")))
                .containsExactly("a", "b");

        Response reordered = s.post("/api/groups/" + gid1 + "/reorder", "{\"experiment_ids\": [" + c + ", " + b + "]}");
        assertThat(names(reordered.json().path("group").path("experiments"))).containsExactly("c", "b");
        assertThat(s.post("/api/groups/" + gid1 + "/reorder", "{\"experiment_ids\": [" + c + "]}").status())
                .isEqualTo(400);

        JsonNode renamed = s.patch("/api/groups/" + gid1, "{\"name\": \"sweep 2\", \"collapsed\": true}").json()
                .path("group");
        assertThat(renamed.path("name").asText()).isEqualTo("sweep 2");
        assertThat(renamed.path("collapsed").asBoolean()).isTrue();
        assertThat(renamed.path("flags").get(0).asText()).isEqualTo("lr");

        Response order = s.post("/api/groups/reorder", "{\"group_ids\": [" + gid2 + ", " + gid1 + "]}");
        assertThat(order.json().path("groups").get(0).path("id").asLong()).isEqualTo(gid2);

        Response removed = s.delete("/api/groups/" + gid2 + "/experiments/a");
        assertThat(names(removed.json().path("group").path("experiments"))).containsExactly("b");

        assertThat(s.delete("/api/groups/" + gid1).status()).isEqualTo(200);
        assertThat(s.get("/api/groups/" + gid1).status()).isEqualTo(404);
        assertThat(s.get("/api/experiments").header("X-Total-Count")).isEqualTo("3");
    }
}
