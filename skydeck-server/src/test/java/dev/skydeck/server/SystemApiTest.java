package dev.skydeck.server;

import static dev.skydeck.server.ExperimentApiTest.toy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.skydeck.server.TestServer.Response;
import dev.skydeck.server.internal.Json;
import dev.skydeck.testing.NoThreadLeaks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Health, flags, GPU types, links, settings, the operations log, refresh/reconcile, backfill, OpenAPI and the UI. */
@ExtendWith(NoThreadLeaks.class)
class SystemApiTest {
    @TempDir
    Path dir;
    TestServer s;

    @BeforeEach
    void start() {
        // a folder without a dashboard: the placeholder page is served whatever the build holds
        s = TestServer.start(dir, b -> b.links(Map.of("W&B", "https://wandb.ai/team/runs/{name}"))
                .uiDirectory(dir.resolve("no-dashboard")));
    }

    @AfterEach
    void stop() {
        s.close();
    }

    @Test
    void healthSaysWhichBackendWhyAndHowFreshEachComponentIs() {
        s.post("/api/experiments", "{\"name\": \"h1\"}");
        await().atMost(Duration.ofSeconds(10)).until(() ->
                s.get("/api/health").json().path("poller").path("last_success").isTextual());
        JsonNode h = s.get("/api/health").json();
        assertThat(h.path("status").asText()).isEqualTo("ok");
        assertThat(h.path("version").asText()).isNotBlank();
        assertThat(h.path("backend").path("kind").asText()).isEqualTo("local");
        assertThat(h.path("backend").path("reason").asText()).isNotBlank();
        assertThat(h.path("poller").path("stale_seconds").asDouble()).isBetween(0.0, 10.0);
        assertThat(h.has("reconciler")).isTrue();
        assertThat(h.has("syncer")).isTrue();
        assertThat(h.path("experiments").asLong()).isEqualTo(1);
        assertThat(h.path("active_jobs").asLong()).isZero();
        assertThat(h.path("store").asText()).contains("skydeck.db");
    }

    @Test
    void flagSchemasListTheFlagsExperimentsUse() {
        s.post("/api/experiments", "{\"name\": \"f1\", \"flags\": {\"trainer.lr\": 0.1, \"layers\": 4}}");
        s.post("/api/experiments", "{\"name\": \"f2\", \"flags\": {\"trainer.lr\": 0.2}}");
        JsonNode flags = s.get("/api/flag-schemas").json().path("flags");
        JsonNode lr = null;
        for (JsonNode f : flags) {
            if (f.path("key").asText().equals("trainer.lr")) {
                lr = f;
            }
        }
        assertThat(lr).isNotNull();
        assertThat(lr.path("type").asText()).isEqualTo("FLOAT");
        assertThat(lr.path("observed_count").asInt()).isEqualTo(2);
        JsonNode forTool = s.get("/api/flags?tool_path=tools/run.py").json();
        assertThat(forTool.path("tool_path").asText()).isEqualTo("tools/run.py");
        assertThat(forTool.path("flags").size()).isEqualTo(flags.size());
    }

    @Test
    void gpuTypesDetectTheGpuOfAnInstanceTypeAndListProviders() {
        JsonNode p4 = s.get("/api/gpu-types?instance_type=p4d.24xlarge").json();
        assertThat(p4.path("gpu").path("model").asText()).isEqualTo("A100");
        assertThat(p4.path("gpu").path("count").asInt()).isEqualTo(8);
        assertThat(p4.path("cloud").asText()).isEqualTo("aws");
        assertThat(s.get("/api/gpu-types?instance_type=m5.large").json().path("gpu").isNull()).isTrue();
        JsonNode providers = s.get("/api/gpu-types").json().path("providers");
        assertThat(providers.size()).isGreaterThan(1);
        assertThat(providers.get(0).has("display_name")).isTrue();
    }

    @Test
    void linksAreServedForTheDashboard() {
        JsonNode link = s.get("/api/links").json().path("links").get(0);
        assertThat(link.path("label").asText()).isEqualTo("W&B");
        assertThat(link.path("url_template").asText()).contains("{name}");
    }

    @Test
    void settingsStoreAnyJsonValue() {
        assertThat(s.get("/api/settings/ui.columns").status()).isEqualTo(404);
        Response put = s.post("/api/settings/ui.columns", "{\"value\": {\"hidden\": [\"lr\"], \"width\": 3}}");
        assertThat(put.status()).as(put.body()).isEqualTo(200);
        JsonNode got = s.get("/api/settings/ui.columns").json();
        assertThat(got.path("value").path("hidden").get(0).asText()).isEqualTo("lr");
        assertThat(got.path("value").path("width").asInt()).isEqualTo(3);
    }

    @Test
    void theOperationsLogIsNewestFirstAndPagesOldestFirstAfterASeq() {
        s.post("/api/experiments", "{\"name\": \"o1\"}");
        s.post("/api/experiments", "{\"name\": \"o2\"}");
        s.post("/api/experiments/o1/starred", "{\"starred\": true}");
        JsonNode newest = s.get("/api/operation-logs?limit=10").json().path("events");
        assertThat(newest.size()).isGreaterThanOrEqualTo(2);
        assertThat(newest.get(0).path("seq").asLong()).isGreaterThan(newest.get(1).path("seq").asLong());
        assertThat(newest.get(0).path("experiment_name").asText()).isEqualTo("o2");
        JsonNode after = s.get("/api/operation-logs?after_seq=0&limit=1").json().path("events");
        assertThat(after.get(0).path("experiment_name").asText()).isEqualTo("o1");
        assertThat(s.get("/api/operation-logs?experiment=o1").json().path("events")).allSatisfy(e ->
                assertThat(e.path("experiment_name").asText()).isEqualTo("o1"));
    }

    @Test
    void refreshAndReconcileRunNow() {
        assertThat(s.post("/api/refresh", "").json().path("refreshed").asBoolean()).isTrue();
        assertThat(s.post("/api/reconcile", "{}").json().path("reconciling").asBoolean()).isTrue();
    }

    @Test
    void backfillStreamsProgressLinesThenTheResult() throws Exception {
        s.post("/api/experiments", toy("bf", 2, "RUNNING"));
        await().atMost(Duration.ofSeconds(60)).until(() -> s.post("/api/waits/experiments",
                "{\"ids\": [\"bf\"], \"timeout_seconds\": 10}").json().path("settled").asBoolean());
        // a checkpoint dropped in by hand is found by the backfill
        Files.writeString(dir.resolve("checkpoints").resolve("bf").resolve("bf:v7.mpt"), "x");
        Response r = s.post("/api/backfill", "");
        assertThat(r.header("Content-Type")).startsWith("application/x-ndjson");
        List<JsonNode> lines = new ArrayList<>();
        for (String line : r.body().strip().split("\n")) {
            lines.add(Json.MAPPER.readTree(line));
        }
        assertThat(lines.get(0).path("total").asInt()).isEqualTo(1);
        JsonNode last = lines.get(lines.size() - 1);
        assertThat(last.path("finished").asBoolean()).isTrue();
        assertThat(last.path("checkpoints").asInt()).isPositive();
        assertThat(s.get("/api/experiments/bf").json().path("experiment").path("latest_epoch").asLong()).isEqualTo(7);
    }

    @Test
    void theOpenApiDocumentListsExactlyTheServersRoutes() {
        JsonNode doc = s.get("/api/openapi.json").json();
        assertThat(doc.path("openapi").asText()).startsWith("3.");
        TreeSet<String> documented = new TreeSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> paths = doc.path("paths").fields(); paths.hasNext(); ) {
            Map.Entry<String, JsonNode> p = paths.next();
            p.getValue().fieldNames().forEachRemaining(method -> {
                if (List.of("get", "post", "put", "patch", "delete").contains(method)) {
                    documented.add(method.toUpperCase() + " " + p.getKey());
                }
            });
        }
        assertThat(documented).isEqualTo(new TreeSet<>(s.server.routes()));
    }

    @Test
    void unknownPathsGetTheDashboardButUnknownApiPathsA404() {
        Response page = s.get("/experiments/some/deep/link");
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.header("Content-Type")).startsWith("text/html");
        assertThat(page.body()).contains("SkyDeck").contains("/api/openapi.json");
        Response api = s.get("/api/experimentz");
        assertThat(api.status()).isEqualTo(404);
        assertThat(api.header("Content-Type")).startsWith("application/json");
        assertThat(api.detail()).contains("no such endpoint");
        assertThat(s.get("/assets/missing.js").status()).isEqualTo(404);
    }
}
