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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code /api/experiments/**} over real HTTP, a real SQLite file and the local backend. */
@ExtendWith(NoThreadLeaks.class)
class ExperimentApiTest {
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

    private JsonNode create(String json) {
        Response r = s.post("/api/experiments", json);
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().path("experiment");
    }

    static String toy(String name, int epochs, String desired) {
        return Json.string(Map.of("name", name, "base_command", ToyTrainer.baseCommand(),
                "flags", Map.of("epochs", epochs, "sleep_ms", 20), "desired_state", desired));
    }

    @Test
    void createReturns201WithLocationAndEveryFieldInSnakeCase() {
        Response r = s.post("/api/experiments", """
                {"name": "ppo.4layer", "flags": {"trainer.losses.ppo.enabled": true, "layers": 4, "lr": 0.001,
                 "run": "daveey.ppo"}, "nodes": 2, "gpus": 4, "tool_path": "tools/run.py", "git_branch": "main",
                 "resources": {"cloud": "aws", "instance_type": "p4d.24xlarge", "spot": true},
                 "restart_policy": {"mode": "on_failure", "max_restarts": 3}, "priority": 5,
                 "description": "four layers", "tags": ["ppo", "sweep"]}""");
        assertThat(r.status()).isEqualTo(201);
        JsonNode e = r.json().path("experiment");
        assertThat(r.header("Location")).isEqualTo("/api/experiments/" + e.path("id").asLong());
        assertThat(e.path("name").asText()).isEqualTo("ppo.4layer");
        assertThat(e.path("flags").path("trainer.losses.ppo.enabled").asBoolean()).isTrue();
        assertThat(e.path("flags").path("layers").isIntegralNumber()).isTrue();
        assertThat(e.path("flags").path("lr").asDouble()).isEqualTo(0.001);
        assertThat(e.path("nodes").asInt()).isEqualTo(2);
        assertThat(e.path("gpus").asInt()).isEqualTo(4);
        assertThat(e.path("resources").path("instance_type").asText()).isEqualTo("p4d.24xlarge");
        assertThat(e.path("resources").path("spot").asBoolean()).isTrue();
        assertThat(e.path("restart_policy").path("mode").asText()).isEqualTo("ON_FAILURE");
        assertThat(e.path("restart_policy").path("max_restarts").asInt()).isEqualTo(3);
        assertThat(e.path("desired_state").asText()).isEqualTo("STOPPED");
        assertThat(e.path("tags")).hasSize(2);
        assertThat(e.path("version").asLong()).isPositive();
        assertThat(e.path("created_at").asText()).endsWith("Z");
        assertThat(e.path("command").asText()).contains("tools/run.py").contains("layers=4")
                .contains("trainer.losses.ppo.enabled=true");
    }

    @Test
    void anExperimentIsFoundByIdAndByName() {
        JsonNode e = create("{\"name\": \"findme\"}");
        assertThat(s.get("/api/experiments/" + e.path("id").asLong()).json().path("experiment").path("name").asText())
                .isEqualTo("findme");
        assertThat(s.get("/api/experiments/findme").json().path("experiment").path("id").asLong())
                .isEqualTo(e.path("id").asLong());
        Response missing = s.get("/api/experiments/nothere");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.detail()).contains("nothere");
    }

    @Test
    void anAllDigitNameIsFoundWhenNoIdMatches() {
        create("{\"name\": \"777\"}");
        assertThat(s.get("/api/experiments/777").json().path("experiment").path("name").asText()).isEqualTo("777");
    }

    @Test
    void listingPagesFiltersAndSortsWithTheTotalInAHeader() {
        for (String n : List.of("c-exp", "a-exp", "b-exp", "d-other")) {
            create("{\"name\": \"" + n + "\", \"tags\": [\"" + (n.endsWith("exp") ? "sweep" : "misc") + "\"]}");
        }
        Response page = s.get("/api/experiments?limit=2&offset=1&sort=name");
        assertThat(page.header("X-Total-Count")).isEqualTo("4");
        assertThat(names(page.json().path("experiments"))).containsExactly("b-exp", "c-exp");
        assertThat(names(s.get("/api/experiments?sort=-name").json().path("experiments")))
                .containsExactly("d-other", "c-exp", "b-exp", "a-exp");
        Response tagged = s.get("/api/experiments?tag=sweep");
        assertThat(tagged.header("X-Total-Count")).isEqualTo("3");
        assertThat(names(s.get("/api/experiments?q=other").json().path("experiments"))).containsExactly("d-other");
        assertThat(names(s.get("/api/experiments?state=RUNNING").json().path("experiments"))).isEmpty();
    }

    @Test
    void listingSortsByFlagsFiltersByStatesFlagsAndGroupsWithTheTotalInTheBody() {
        create("{\"name\": \"a\", \"flags\": {\"lr\": 0.1, \"model\": \"llama\"}}");
        create("{\"name\": \"b\", \"flags\": {\"lr\": 0.01, \"model\": \"llama\"}, \"description\": \"Baseline\"}");
        long c = create("{\"name\": \"c\", \"flags\": {\"lr\": 1e-05, \"model\": \"gpt\"}}").path("id").asLong();
        create("{\"name\": \"d\"}");
        long gid = s.post("/api/groups", "{\"name\": \"g\", \"experiment_ids\": [" + c + "]}").json()
                .path("group").path("id").asLong();

        Response sorted = s.get("/api/experiments?sort=flag:lr&limit=2");
        assertThat(names(sorted.json().path("experiments"))).containsExactly("c", "b");
        assertThat(sorted.json().path("total").asLong()).isEqualTo(4);
        assertThat(names(s.get("/api/experiments?sort=-flag:lr").json().path("experiments")))
                .containsExactly("a", "b", "c", "d");
        assertThat(names(s.get("/api/experiments?flag.lr=1e-05&flag.lr=0.1").json().path("experiments")))
                .containsExactly("a", "c");
        assertThat(names(s.get("/api/experiments?flag.model=~").json().path("experiments"))).containsExactly("d");
        assertThat(names(s.get("/api/experiments?q=LLAMA").json().path("experiments"))).containsExactly("a", "b");
        assertThat(names(s.get("/api/experiments?q=baseline").json().path("experiments"))).containsExactly("b");
        assertThat(names(s.get("/api/experiments?state=INIT,FAILED&state=RUNNING&sort=-epoch").json()
                .path("experiments"))).containsExactly("d", "c", "b", "a");
        assertThat(s.get("/api/experiments?state=FAILED").json().path("total").asLong()).isZero();
        assertThat(names(s.get("/api/experiments?group=" + gid).json().path("experiments"))).containsExactly("c");
        Response none = s.get("/api/experiments?group=none&sort=started_at");
        assertThat(names(none.json().path("experiments"))).containsExactly("a", "b", "d");
        assertThat(none.header("X-Total-Count")).isEqualTo("3");
        assertThat(names(s.get("/api/experiments?sort=state").json().path("experiments")))
                .containsExactly("a", "b", "c", "d");
    }

    @Test
    void malformedListParametersAre400sWithADetail() {
        for (String bad : List.of("sort=flag:", "sort=flag", "sort=size", "state=ASLEEP", "state=RUNNING,nope",
                "group=x", "group=999", "flag.=1", "flag.bad..name=1", "limit=0")) {
            Response r = s.get("/api/experiments?" + bad);
            assertThat(r.status()).as(bad).isEqualTo(400);
            assertThat(r.detail()).as(bad).isNotBlank();
        }
        assertThat(s.get("/api/experiments/facets?values=0").status()).isEqualTo(400);
        assertThat(s.get("/api/experiments/facets?values=501").status()).isEqualTo(400);
        assertThat(s.get("/api/experiments/facets?group=999").status()).isEqualTo(400);
    }

    @Test
    void facetsCountEachFilterWithoutItsOwn() {
        create("{\"name\": \"a\", \"flags\": {\"lr\": 0.1, \"model\": \"llama\"}}");
        create("{\"name\": \"b\", \"flags\": {\"lr\": 0.01, \"model\": \"llama\"}}");
        create("{\"name\": \"c\", \"flags\": {\"lr\": 0.1, \"model\": \"gpt\"}}");

        JsonNode f = s.get("/api/experiments/facets?flag.lr=0.1&values=1").json();

        assertThat(f.path("total").asLong()).isEqualTo(2);
        assertThat(f.path("states").path("INIT").asLong()).isEqualTo(2);
        assertThat(f.path("desired").path("STOPPED").asLong()).isEqualTo(2);
        JsonNode lr = f.path("flags").get(0);
        assertThat(lr.path("name").asText()).isEqualTo("lr");
        assertThat(lr.path("count").asLong()).isEqualTo(3);
        assertThat(lr.path("distinct").asLong()).isEqualTo(2);
        assertThat(lr.path("truncated").asBoolean()).isTrue();
        assertThat(lr.path("values").get(0).path("value").asText()).isEqualTo("0.1");
        assertThat(lr.path("values").get(0).path("count").asLong()).isEqualTo(2);
        JsonNode model = f.path("flags").get(1);
        assertThat(model.path("name").asText()).isEqualTo("model");
        assertThat(model.path("count").asLong()).isEqualTo(2);
        assertThat(model.path("distinct").asLong()).isEqualTo(2);
    }

    @Test
    void groupsWithoutMembersCarryCountsStatesAndCommonFlags() {
        long a = create("{\"name\": \"a\", \"flags\": {\"lr\": 0.1, \"model\": \"llama\"}}").path("id").asLong();
        long b = create("{\"name\": \"b\", \"flags\": {\"lr\": 0.2, \"model\": \"llama\"}}").path("id").asLong();
        create("{\"name\": \"loose\"}");
        s.post("/api/groups", "{\"name\": \"sweep\", \"name_prefix\": \"s-\", \"experiment_ids\": [" + a + ", " + b
                + "]}");

        JsonNode listed = s.get("/api/groups?members=false").json();

        JsonNode g = listed.path("groups").get(0);
        assertThat(g.path("name").asText()).isEqualTo("sweep");
        assertThat(g.path("name_prefix").asText()).isEqualTo("s-");
        assertThat(g.has("experiments")).isFalse();
        assertThat(g.has("experiment_ids")).isFalse();
        assertThat(g.path("count").asLong()).isEqualTo(2);
        assertThat(g.path("states").path("INIT").asLong()).isEqualTo(2);
        assertThat(g.path("common_flags").path("model").asText()).isEqualTo("llama");
        assertThat(g.path("varying_flags").get(0).asText()).isEqualTo("lr");
        assertThat(listed.path("ungrouped").path("count").asLong()).isEqualTo(1);
        assertThat(listed.path("ungrouped").path("states").path("INIT").asLong()).isEqualTo(1);
        assertThat(s.get("/api/groups?members=true").json().path("groups").get(0).path("experiments")).hasSize(2);
        assertThat(s.get("/api/groups?members=maybe").status()).isEqualTo(400);
    }

    static List<String> names(JsonNode list) {
        List<String> out = new ArrayList<>();
        list.forEach(e -> out.add(e.path("name").asText()));
        return out;
    }

    @Test
    void patchWithTheCurrentVersionChangesOnlyTheGivenFields() {
        JsonNode e = create("{\"name\": \"p\", \"flags\": {\"a\": 1}, \"nodes\": 2, \"description\": \"old\"}");
        Response r = s.patch("/api/experiments/p", "{\"version\": " + e.path("version").asLong()
                + ", \"gpus\": 8, \"description\": null, \"starred\": true}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode after = r.json().path("experiment");
        assertThat(after.path("gpus").asInt()).isEqualTo(8);
        assertThat(after.path("nodes").asInt()).isEqualTo(2);
        assertThat(after.path("flags").path("a").asInt()).isEqualTo(1);
        assertThat(after.path("description").isNull()).isTrue();
        assertThat(after.path("starred").asBoolean()).isTrue();
        assertThat(after.path("version").asLong()).isGreaterThan(e.path("version").asLong());
    }

    @Test
    void patchWithAStaleVersionIs409AndChangesNothing() {
        JsonNode e = create("{\"name\": \"stale\", \"nodes\": 1}");
        long v = e.path("version").asLong();
        assertThat(s.patch("/api/experiments/stale", "{\"version\": " + v + ", \"nodes\": 2}").status()).isEqualTo(200);
        Response conflict = s.patch("/api/experiments/stale", "{\"version\": " + v + ", \"nodes\": 3}");
        assertThat(conflict.status()).isEqualTo(409);
        assertThat(conflict.detail()).contains("version");
        assertThat(s.get("/api/experiments/stale").json().path("experiment").path("nodes").asInt()).isEqualTo(2);
    }

    @Test
    void patchWithoutVersionNeverUndoesTheDesiredState() {
        create("{\"name\": \"keep\", \"desired_state\": \"STOPPED\"}");
        s.post("/api/experiments/keep/state", "{\"desired_state\": \"TERMINATED\"}");
        JsonNode after = s.patch("/api/experiments/keep", "{\"priority\": 3}").json().path("experiment");
        assertThat(after.path("desired_state").asText()).isEqualTo("TERMINATED");
        assertThat(after.path("priority").asInt()).isEqualTo(3);
    }

    @Test
    void deleteIsSoftAndUndeleteRestores() {
        JsonNode e = create("{\"name\": \"gone\"}");
        long id = e.path("id").asLong();
        Response del = s.delete("/api/experiments/gone");
        assertThat(del.status()).isEqualTo(200);
        assertThat(del.json().path("experiment").path("deleted").asBoolean()).isTrue();
        assertThat(names(s.get("/api/experiments").json().path("experiments"))).doesNotContain("gone");
        assertThat(s.get("/api/experiments?include_deleted=true").header("X-Total-Count")).isEqualTo("1");
        assertThat(s.get("/api/experiments/" + id).json().path("experiment").path("deleted").asBoolean()).isTrue();
        Response undo = s.post("/api/experiments/" + id + "/undelete", "");
        assertThat(undo.status()).as(undo.body()).isEqualTo(200);
        assertThat(names(s.get("/api/experiments").json().path("experiments"))).contains("gone");
    }

    @Test
    void flagsAreReplacedWhole() {
        create("{\"name\": \"f\", \"flags\": {\"a\": 1, \"b\": 2}}");
        JsonNode e = s.post("/api/experiments/f/flags", "{\"flags\": {\"c\": \"x\"}}").json().path("experiment");
        assertThat(e.path("flags").size()).isEqualTo(1);
        assertThat(e.path("flags").path("c").asText()).isEqualTo("x");
    }

    @Test
    void duplicateNamesCopiesInTurnAndAppliesEdits() {
        create("{\"name\": \"base\", \"flags\": {\"lr\": 0.1}, \"gpus\": 2}");
        Response first = s.post("/api/experiments/base/duplicate", "");
        assertThat(first.status()).isEqualTo(201);
        assertThat(first.json().path("experiment").path("name").asText()).isEqualTo("base.copy");
        assertThat(s.post("/api/experiments/base/duplicate", "{}").json().path("experiment").path("name").asText())
                .isEqualTo("base.copy2");
        JsonNode edited = s.post("/api/experiments/base/duplicate",
                "{\"name\": \"base.lr2\", \"flags\": {\"lr\": 0.2}, \"gpus\": 4}").json().path("experiment");
        assertThat(edited.path("name").asText()).isEqualTo("base.lr2");
        assertThat(edited.path("flags").path("lr").asDouble()).isEqualTo(0.2);
        assertThat(edited.path("gpus").asInt()).isEqualTo(4);
        assertThat(edited.path("desired_state").asText()).isEqualTo("STOPPED");
    }

    @Test
    void starredAndExpandedToggle() {
        create("{\"name\": \"t\"}");
        assertThat(s.post("/api/experiments/t/starred", "{\"starred\": true}").json().path("experiment")
                .path("starred").asBoolean()).isTrue();
        assertThat(s.post("/api/experiments/t/expanded", "{\"expanded\": true}").json().path("experiment")
                .path("expanded").asBoolean()).isTrue();
        assertThat(s.post("/api/experiments/t/starred", "{\"starred\": false}").json().path("experiment")
                .path("starred").asBoolean()).isFalse();
    }

    @Test
    void reorderSetsTheDisplayOrder() {
        long a = create("{\"name\": \"a\"}").path("id").asLong();
        long b = create("{\"name\": \"b\"}").path("id").asLong();
        long c = create("{\"name\": \"c\"}").path("id").asLong();
        assertThat(s.post("/api/experiments/reorder", "{\"order\": [" + c + ", " + a + ", " + b + "]}").status())
                .isEqualTo(200);
        assertThat(names(s.get("/api/experiments").json().path("experiments"))).containsExactly("c", "a", "b");
    }

    @Test
    void bulkCreateMakesAllOrNone() {
        Response ok = s.post("/api/experiments", "{\"experiments\": [{\"name\": \"g1\"}, {\"name\": \"g2\", \"gpus\": 1}]}");
        assertThat(ok.status()).as(ok.body()).isEqualTo(201);
        assertThat(ok.json().path("experiments")).hasSize(2);
        Response clash = s.post("/api/experiments", "{\"experiments\": [{\"name\": \"g3\"}, {\"name\": \"g1\"}]}");
        assertThat(clash.status()).isEqualTo(409);
        assertThat(s.get("/api/experiments").header("X-Total-Count")).isEqualTo("2");
    }

    @Test
    void bulkReportsEveryItemIncludingFailures() {
        long a = create("{\"name\": \"b1\"}").path("id").asLong();
        create("{\"name\": \"b2\"}");
        Response r = s.post("/api/experiments/bulk", "{\"action\": \"delete\", \"ids\": [" + a + ", \"b2\", 9999, \"nope\"]}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode items = r.json().path("results");
        assertThat(items).hasSize(4);
        assertThat(items.get(0).path("ok").asBoolean()).isTrue();
        assertThat(items.get(1).path("ok").asBoolean()).isTrue();
        assertThat(items.get(1).path("ref").asText()).isEqualTo("b2");
        assertThat(items.get(2).path("ok").asBoolean()).isFalse();
        assertThat(items.get(2).path("detail").asText()).contains("9999");
        assertThat(items.get(3).path("ok").asBoolean()).isFalse();
        assertThat(r.json().path("succeeded").asInt()).isEqualTo(2);
        assertThat(r.json().path("failed").asInt()).isEqualTo(2);
        assertThat(s.get("/api/experiments").header("X-Total-Count")).isEqualTo("0");
    }

    @Test
    void aRunningExperimentsStatusJobsEventsAndCheckpointsAreServed() {
        create(toy("run1", 2, "RUNNING"));
        Response waited = s.post("/api/waits/experiments", "{\"ids\": [\"run1\"], \"timeout_seconds\": 30}");
        assertThat(waited.status()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(60)).until(() ->
                s.post("/api/waits/experiments", "{\"ids\": [\"run1\"]}").json().path("settled").asBoolean());
        JsonNode status = s.get("/api/experiments/run1/status").json();
        assertThat(status.path("experiment").path("current_state").asText()).isEqualTo("SUCCEEDED");
        assertThat(status.path("current_job").path("status").asText()).isEqualTo("SUCCEEDED");
        assertThat(status.path("current_job").path("exit_code").asInt()).isZero();
        assertThat(status.path("recent_jobs")).hasSize(1);
        // the "Started" column: when the latest job started, in the item and in the compact list
        String started = status.path("current_job").path("started_at").asText();
        assertThat(started).isNotBlank();
        assertThat(s.get("/api/experiments/run1").json().path("experiment").path("started_at").asText())
                .isEqualTo(started);
        assertThat(s.get("/api/experiments?q=run1").json().path("experiments").get(0).path("started_at").asText())
                .isEqualTo(started);
        Response jobs = s.get("/api/experiments/run1/jobs?limit=5");
        assertThat(jobs.header("X-Total-Count")).isEqualTo("1");
        assertThat(jobs.json().path("jobs").get(0).path("flags").path("epochs").asInt()).isEqualTo(2);
        JsonNode events = s.get("/api/experiments/run1/events").json().path("events");
        assertThat(events.size()).isGreaterThanOrEqualTo(3);
        long firstSeq = events.get(0).path("seq").asLong();
        assertThat(s.get("/api/experiments/run1/events?after_seq=" + firstSeq).json().path("events").size())
                .isEqualTo(events.size() - 1);
        s.deck.syncCheckpoints();
        JsonNode checkpoints = s.get("/api/experiments/run1/checkpoints?limit=10").json().path("checkpoints");
        assertThat(checkpoints).hasSize(2);
        assertThat(checkpoints.get(0).path("epoch").asLong()).isEqualTo(2);
        assertThat(s.get("/api/experiments/run1").json().path("experiment").path("latest_epoch").asLong()).isEqualTo(2);
    }

    @Test
    void aWaitThatTimesOutSaysNotSettled() {
        create(Json.string(Map.of("name", "slow", "base_command", ToyTrainer.baseCommand(),
                "flags", Map.of("epochs", 1000, "sleep_ms", 1000), "desired_state", "RUNNING")));
        JsonNode r = s.post("/api/waits/experiments", "{\"ids\": [\"slow\"], \"timeout_seconds\": 0}").json();
        assertThat(r.path("settled").asBoolean()).isFalse();
        assertThat(r.path("experiments").get(0).path("name").asText()).isEqualTo("slow");
        s.post("/api/experiments/slow/state", "{\"desired_state\": \"STOPPED\"}");
        await().atMost(Duration.ofSeconds(60)).until(() ->
                s.post("/api/waits/experiments", "{\"ids\": [\"slow\"], \"timeout_seconds\": 5}").json()
                        .path("settled").asBoolean());
        assertThat(s.get("/api/experiments/slow").json().path("experiment").path("current_state").asText())
                .isEqualTo("CANCELLED");
    }

    // ---- issue 10: idempotent intent, explicit restart, faithful flags, no leaks ----

    @Test
    void startingARunningExperimentAgainChangesNothingAndRestartRunsItOnceMore() {
        create(toy("twice", 1, "RUNNING"));
        settle("twice");
        JsonNode ended = s.get("/api/experiments/twice").json().path("experiment");

        JsonNode again = s.post("/api/experiments/twice/state", "{\"desired_state\": \"RUNNING\"}").json()
                .path("experiment");
        JsonNode bulk = s.post("/api/experiments/bulk", "{\"action\": \"start\", \"ids\": [\"twice\"]}").json();

        assertThat(again.path("generation").asLong()).isEqualTo(ended.path("generation").asLong());
        assertThat(again.path("version").asLong()).isEqualTo(ended.path("version").asLong());
        assertThat(bulk.path("results").get(0).path("detail").asText()).startsWith("unchanged");
        s.post("/api/reconcile", "");
        settle("twice");
        assertThat(s.get("/api/experiments/twice/jobs").json().path("jobs")).hasSize(1);

        Response restarted = s.post("/api/experiments/twice/restart", "");
        assertThat(restarted.status()).as(restarted.body()).isEqualTo(200);
        assertThat(restarted.json().path("experiment").path("generation").asLong())
                .isEqualTo(ended.path("generation").asLong() + 1);
        await().atMost(Duration.ofSeconds(60)).until(() ->
                s.get("/api/experiments/twice/jobs").json().path("jobs").size() == 2);
        settle("twice");
        assertThat(s.get("/api/experiments/twice/jobs").json().path("jobs")).hasSize(2);
    }

    private void settle(String name) {
        await().atMost(Duration.ofSeconds(60)).until(() -> s.post("/api/waits/experiments",
                "{\"ids\": [\"" + name + "\"], \"timeout_seconds\": 10}").json().path("settled").asBoolean());
    }

    @Test
    void expandingOrStarringThenSavingWithTheVersionReadBeforeIs200() {
        JsonNode read = create("{\"name\": \"expanded\", \"flags\": {\"lr\": 3.0}}");
        long version = read.path("version").asLong();
        s.post("/api/experiments/expanded/expanded", "{\"expanded\": true}");
        s.post("/api/experiments/expanded/starred", "{\"starred\": true}");
        s.patch("/api/experiments/expanded", "{\"expanded\": false, \"version\": " + version + "}");

        Response saved = s.patch("/api/experiments/expanded", "{\"version\": " + version
                + ", \"set_flags\": {\"layers\": 4}}");

        assertThat(saved.status()).as(saved.body()).isEqualTo(200);
        assertThat(saved.json().path("experiment").path("version").asLong()).isEqualTo(version + 1);
        Response stale = s.patch("/api/experiments/expanded", "{\"version\": " + version
                + ", \"description\": \"late\"}");
        assertThat(stale.status()).isEqualTo(409);
        assertThat(stale.json().path("reason").asText()).isEqualTo("STALE_VERSION");
    }

    @Test
    void aDecimalStaysADecimalAndOnlyTheFlagsSentChange() {
        create("{\"name\": \"typed\", \"flags\": {\"lr\": 3.0, \"layers\": 3, \"seed\": 9007199254740993}}");

        Response r = s.patch("/api/experiments/typed", "{\"set_flags\": {\"layers\": 4}, \"unset_flags\": [\"seed\"]}");

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains("\"lr\":3.0").contains("\"layers\":4").doesNotContain("seed");
        assertThat(r.json().path("experiment").path("command").asText()).contains("lr=3.0").contains("layers=4");
        Response big = s.patch("/api/experiments/typed", "{\"set_flags\": {\"seed\": 123456789012345678901234567890}}");
        assertThat(big.status()).isEqualTo(400);
        assertThat(big.detail()).contains("seed").contains("64 bits");
        assertThat(s.get("/api/experiments/typed").body()).contains("\"lr\":3.0").doesNotContain("seed");
        assertThat(s.post("/api/experiments", "{\"name\": \"huge\", \"flags\": {\"n\": 1234567890123456789012345678}}")
                .detail()).contains("'n'").contains("64 bits");
    }

    @Test
    void applyTwiceCreatesThenChangesNothingAndLaunchesNothingNew() {
        String list = "{\"experiments\": [" + toy("ap1", 1, "RUNNING") + ", " + toy("ap2", 1, "RUNNING") + "]}";

        JsonNode first = s.post("/api/experiments/apply", list).json();
        assertThat(first.path("created").asLong()).isEqualTo(2);
        settle("ap1");
        settle("ap2");
        JsonNode second = s.post("/api/experiments/apply", list).json();

        assertThat(second.path("unchanged").asLong()).isEqualTo(2);
        assertThat(second.path("results").get(0).path("outcome").asText()).isEqualTo("unchanged");
        s.post("/api/reconcile", "");
        settle("ap1");
        assertThat(s.get("/api/jobs").json().path("jobs")).hasSize(2);
        JsonNode third = s.post("/api/experiments/apply",
                "{\"experiments\": [{\"name\": \"ap1\", \"gpus\": 1}]}").json();
        assertThat(third.path("results").get(0).path("changed")).extracting(JsonNode::asText).containsExactly("gpus");
        assertThat(s.post("/api/experiments/apply", "{\"experiments\": [{\"name\": \"ap9\"}, {\"name\": \"ap9\"}]}")
                .status()).isEqualTo(400);
        assertThat(s.get("/api/experiments/ap9").status()).isEqualTo(404);
    }

    @Test
    void timedOutWaitRequestsLeaveNoWaitBehind() {
        create(Json.string(Map.of("name", "long", "base_command", ToyTrainer.baseCommand(),
                "flags", Map.of("epochs", 1000, "sleep_ms", 1000), "desired_state", "RUNNING")));
        for (int i = 0; i < 100; i++) {
            JsonNode r = s.post("/api/waits/experiments", "{\"ids\": [\"long\"], \"timeout_seconds\": 0}").json();
            assertThat(r.path("settled").asBoolean()).isFalse();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> s.get("/api/health").json().path("waits").asInt() == 0);
        s.post("/api/experiments/long/state", "{\"desired_state\": \"STOPPED\"}");
    }
}
