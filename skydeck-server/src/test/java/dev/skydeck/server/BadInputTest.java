package dev.skydeck.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.skydeck.server.TestServer.Response;
import dev.skydeck.testing.NoThreadLeaks;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every endpoint refuses bad input with the right status and a {@code detail} that says what
 * is wrong, and changes nothing: the experiments, groups, settings and event log are the same
 * afterwards.
 */
@ExtendWith(NoThreadLeaks.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputTest {
    TestServer s;
    long groupId;

    @BeforeAll
    void start(@TempDir Path dir) {
        s = TestServer.start(dir);
        s.post("/api/experiments", "{\"name\": \"x\", \"flags\": {\"lr\": 0.1}}");
        s.post("/api/experiments", "{\"name\": \"y\"}");
        groupId = s.post("/api/groups", "{\"name\": \"g\", \"experiment_ids\": [1]}").json().path("group").path("id")
                .asLong();
        await().atMost(Duration.ofSeconds(20)).until(() -> s.post("/api/waits/experiments",
                "{\"ids\": [\"x\", \"y\"], \"timeout_seconds\": 5}").json().path("settled").asBoolean());
    }

    @AfterAll
    void stop() {
        s.close();
    }

    static Stream<Arguments> cases() {
        String big = "{\"name\": \"big\", \"description\": \"" + "a".repeat(1_100_000) + "\"}";
        return Stream.of(
                // broken JSON and wrong shapes
                bad("POST", "/api/experiments", "{\"name\":", 400, "malformed JSON"),
                bad("POST", "/api/experiments", "[1, 2]", 400, "must be a JSON object"),
                bad("POST", "/api/experiments", "{\"name\": \"a\"} trailing", 400, "malformed JSON"),
                bad("POST", "/api/experiments", "", 400, "empty"),
                // wrong types
                bad("POST", "/api/experiments", "{\"name\": 5}", 400, "field 'name' must be a string"),
                bad("POST", "/api/experiments", "{\"name\": \"ok\", \"nodes\": \"4\"}", 400, "field 'nodes' must be an integer"),
                bad("POST", "/api/experiments", "{\"name\": \"ok\", \"gpus\": 1.5}", 400, "field 'gpus' must be an integer"),
                bad("POST", "/api/experiments", "{\"name\": \"ok\", \"nodes\": 99999999999}", 400, "out of range"),
                bad("POST", "/api/experiments", "{\"name\": \"ok\", \"flags\": {\"a\": [1]}}", 400, "flag 'a'"),
                bad("POST", "/api/experiments", "{\"name\": \"ok\", \"flags\": [1]}", 400, "field 'flags'"),
                bad("POST", "/api/experiments", "{\"name\": \"ok\", \"resources\": {\"spot\": \"yes\"}}", 400, "resources.spot"),
                bad("POST", "/api/experiments", "{\"name\": \"ok\", \"tags\": [1]}", 400, "field 'tags'"),
                bad("POST", "/api/experiments", "{\"experiments\": [{\"name\": \"ok\"}, 3]}", 400, "experiments[1]"),
                // unknown enum values and fields, missing fields
                bad("POST", "/api/experiments", "{\"name\": \"ok\", \"desired_state\": \"FLYING\"}", 400, "'FLYING' is not a valid desired_state"),
                bad("POST", "/api/experiments", "{\"name\": \"ok\", \"restart_policy\": {\"mode\": \"sometimes\"}}", 400, "restart_policy.mode"),
                bad("POST", "/api/experiments", "{\"name\": \"ok\", \"resources\": {\"zone\": \"a\"}}", 400, "'resources.zone'"),
                bad("POST", "/api/experiments", "{\"name\": \"ok\", \"nodez\": 1}", 400, "unknown field 'nodez'"),
                bad("POST", "/api/experiments", "{}", 400, "field 'name' is required"),
                bad("POST", "/api/experiments", "{\"experiments\": [{\"gpus\": 1}]}", 400, "field 'experiments[0].name' is required"),
                // domain validation
                bad("POST", "/api/experiments", "{\"name\": \"bad/name\"}", 400, "bad/name"),
                bad("POST", "/api/experiments", "{\"name\": \"ok\", \"flags\": {\"bad key\": 1}}", 400, "bad key"),
                bad("POST", "/api/experiments", "{\"name\": \"ok\", \"gpus\": -1}", 400, "gpus"),
                bad("POST", "/api/experiments", "{\"name\": \"ok\", \"git_branch\": \"main; rm -rf /\"}", 400, "branch"),
                bad("POST", "/api/experiments", "{\"name\": \"x\"}", 409, "x"),
                bad("POST", "/api/experiments", "{\"name\": \"ok\", \"group_id\": 999}", 404, "999"),
                // content type and size
                raw("POST", "/api/experiments", "text/plain", "{\"name\": \"ok\"}", 415, "Content-Type: application/json"),
                raw("POST", "/api/experiments", null, "{\"name\": \"ok\"}", 415, "Content-Type: application/json"),
                raw("POST", "/api/refresh", "application/x-www-form-urlencoded", "a=b", 415, "application/json"),
                bad("POST", "/api/experiments", big, 413, "1 MiB"),
                // PATCH
                bad("PATCH", "/api/experiments/x", "{\"version\": \"1\"}", 400, "field 'version' must be an integer"),
                bad("PATCH", "/api/experiments/nope", "{\"nodes\": 2}", 404, "nope"),
                bad("PATCH", "/api/experiments/x", "{\"gpus\": -1}", 400, "gpus"),
                bad("PATCH", "/api/experiments/x", "{\"version\": 0, \"nodes\": 2}", 409, "version"),
                bad("PATCH", "/api/experiments/x", "{\"name\": \"y\"}", 409, "y"),
                bad("PATCH", "/api/experiments/x", "{\"id\": 7}", 400, "unknown field 'id'"),
                // actions on one experiment
                bad("POST", "/api/experiments/x/state", "{}", 400, "field 'desired_state' is required"),
                bad("POST", "/api/experiments/x/state", "{\"desired_state\": \"running\", \"now\": true}", 400, "unknown field 'now'"),
                bad("POST", "/api/experiments/nope/state", "{\"desired_state\": \"RUNNING\"}", 404, "nope"),
                bad("POST", "/api/experiments/x/flags", "{\"flags\": 3}", 400, "field 'flags'"),
                bad("POST", "/api/experiments/x/flags", "{}", 400, "field 'flags' is required"),
                bad("POST", "/api/experiments/x/duplicate", "{\"name\": \"y\"}", 409, "y"),
                bad("POST", "/api/experiments/x/duplicate", "{\"name\": \"../etc\"}", 400, "../etc"),
                bad("POST", "/api/experiments/x/starred", "{\"starred\": \"yes\"}", 400, "field 'starred' must be true or false"),
                bad("POST", "/api/experiments/x/expanded", "{}", 400, "field 'expanded' is required"),
                bad("POST", "/api/experiments/x/undelete", "{\"now\": 1}", 400, "unknown field"),
                bad("DELETE", "/api/experiments/nope", null, 404, "nope"),
                // a DELETE whose body is not JSON (or not an empty object) deletes nothing
                bad("DELETE", "/api/experiments/x", "{broken", 400, "malformed JSON"),
                bad("DELETE", "/api/experiments/x", "[]", 400, "must be a JSON object"),
                bad("DELETE", "/api/experiments/x", "{\"force\": true}", 400, "unknown field 'force'"),
                bad("DELETE", "/api/groups/{gid}", "not json", 400, "malformed JSON"),
                bad("DELETE", "/api/groups/{gid}/experiments/x", "{\"a\":", 400, "malformed JSON"),
                // lone surrogates (no character at all) and duplicate keys (which one was meant?)
                bad("POST", "/api/experiments", "{\"name\": \"a\\ud800b\"}", 400, "lone UTF-16 surrogate"),
                bad("POST", "/api/experiments", "{\"name\": \"ok\", \"description\": \"\\udc00\\ud800\"}", 400,
                        "'description' has a lone UTF-16 surrogate"),
                bad("POST", "/api/experiments", "{\"name\": \"ok\", \"flags\": {\"k\\ud800\": 1}}", 400,
                        "surrogate"),
                bad("POST", "/api/experiments", "{\"name\": \"ok\", \"tags\": [\"t\\udfff\"]}", 400,
                        "'tags[0]' has a lone UTF-16 surrogate"),
                bad("PATCH", "/api/experiments/x", "{\"description\": \"\\ud83d\"}", 400, "lone UTF-16 surrogate"),
                bad("POST", "/api/experiments", "{\"name\": \"a\", \"name\": \"b\"}", 400, "Duplicate field 'name'"),
                bad("POST", "/api/experiments", "{\"name\": \"ok\", \"flags\": {\"lr\": 1, \"lr\": 2}}", 400,
                        "Duplicate field 'lr'"),
                bad("PATCH", "/api/experiments/x", "{\"nodes\": 2, \"nodes\": 3}", 400, "Duplicate field 'nodes'"),
                // many experiments
                bad("POST", "/api/experiments/bulk", "{\"action\": \"explode\", \"ids\": [1]}", 400, "'explode' is not a valid action"),
                bad("POST", "/api/experiments/bulk", "{\"action\": \"start\", \"ids\": \"x\"}", 400, "field 'ids'"),
                bad("POST", "/api/experiments/bulk", "{\"action\": \"start\", \"ids\": [true]}", 400, "field 'ids'"),
                bad("POST", "/api/experiments/bulk", "{\"ids\": [1]}", 400, "field 'action' is required"),
                bad("POST", "/api/experiments/reorder", "{\"order\": [\"a\"]}", 400, "field 'order'"),
                bad("POST", "/api/waits/experiments", "{\"ids\": [\"x\"], \"timeout_seconds\": 31}", 400, "timeout_seconds"),
                bad("POST", "/api/waits/experiments", "{\"ids\": [\"nope\"]}", 404, "nope"),
                // query parameters
                bad("GET", "/api/experiments?limit=0", null, 400, "'limit'"),
                bad("GET", "/api/experiments?limit=abc", null, 400, "'limit' must be an integer"),
                bad("GET", "/api/experiments?offset=-1", null, 400, "'offset'"),
                bad("GET", "/api/experiments?state=FLYING", null, 400, "'FLYING' is not a valid state"),
                bad("GET", "/api/experiments?sort=size", null, 400, "'size' is not a valid sort"),
                bad("GET", "/api/experiments?include_deleted=maybe", null, 400, "include_deleted"),
                bad("GET", "/api/experiments/x/events?after_seq=-1", null, 400, "sequence number"),
                bad("GET", "/api/experiments/nope/jobs", null, 404, "nope"),
                bad("GET", "/api/experiments/x/checkpoints?limit=100000", null, 400, "'limit'"),
                bad("GET", "/api/operation-logs?after_seq=x", null, 400, "sequence number"),
                // jobs
                bad("GET", "/api/jobs?active=maybe", null, 400, "'active' must be true or false"),
                bad("GET", "/api/jobs?experiment=nope", null, 404, "nope"),
                bad("GET", "/api/jobs/j-nope", null, 404, "j-nope"),
                bad("POST", "/api/jobs/j-nope/cancel", "{}", 404, "j-nope"),
                bad("GET", "/api/jobs/j-nope/logs", null, 404, "j-nope"),
                // groups
                bad("POST", "/api/groups", "{}", 400, "field 'name' is required"),
                bad("POST", "/api/groups", "{\"name\": \"g2\", \"experiment_ids\": [999]}", 404, "999"),
                bad("POST", "/api/groups", "{\"name\": \"\\n\"}", 400, "group name"),
                bad("PATCH", "/api/groups/abc", "{\"name\": \"n\"}", 404, "abc"),
                bad("PATCH", "/api/groups/999", "{\"name\": \"n\"}", 404, "999"),
                bad("PATCH", "/api/groups/{gid}", "{\"collapsed\": 1}", 400, "field 'collapsed'"),
                bad("POST", "/api/groups/{gid}/experiments", "{\"experiment_ids\": [\"nope\"]}", 404, "nope"),
                bad("POST", "/api/groups/{gid}/reorder", "{\"experiment_ids\": [2]}", 400, "members"),
                bad("DELETE", "/api/groups/{gid}/experiments/y", null, 404, "not in group"),
                bad("POST", "/api/groups/reorder", "{\"group_ids\": [999]}", 404, "999"),
                // system
                bad("POST", "/api/settings/bad%20key", "{\"value\": 1}", 400, "bad key"),
                bad("POST", "/api/settings/k", "{}", 400, "field 'value' is required"),
                bad("POST", "/api/refresh", "{\"unexpected\": 1}", 400, "unknown field"),
                bad("GET", "/api/nothing", null, 404, "no such endpoint"),
                bad("PUT", "/api/experiments/x", "{}", 404, "no such endpoint"));
    }

    private static Arguments bad(String method, String path, String body, int status, String detail) {
        return Arguments.of(method, path, body == null ? null : "application/json", body, status, detail);
    }

    private static Arguments raw(String method, String path, String type, String body, int status, String detail) {
        return Arguments.of(method, path, type, body, status, detail);
    }

    private String snapshot() {
        return s.get("/api/experiments?include_deleted=true").body() + s.get("/api/groups").body()
                + s.get("/api/operation-logs?limit=10000").body() + s.get("/api/jobs").body()
                + s.get("/api/settings/k").body();
    }

    @ParameterizedTest(name = "{0} {1} {3} -> {4}")
    @MethodSource("cases")
    void isRefusedWithAHelpfulDetailAndChangesNothing(String method, String path, String type, String body,
                                                        int status, String detail) {
        String before = snapshot();
        HttpRequest.Builder b = s.builder(path.replace("{gid}", Long.toString(groupId)));
        if (type != null) {
            b.header("Content-Type", type);
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        Response r = s.send(b);
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.header("Content-Type")).startsWith("application/json");
        assertThat(r.detail()).contains(detail);
        assertThat(snapshot()).isEqualTo(before);
    }

    @org.junit.jupiter.api.Test
    void wholeCharactersOutsideTheBasicPlaneAndAnEmptyDeleteBodyStillWork() {
        Response created = s.post("/api/experiments", "{\"name\": \"emoji\", \"description\": \"ok \\ud83d\\ude00 \ud83d\ude80\"}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        assertThat(s.get("/api/experiments/emoji").json().path("experiment").path("description").asText())
                .isEqualTo("ok \ud83d\ude00 \ud83d\ude80");
        HttpRequest.Builder b = s.builder("/api/experiments/emoji").header("Content-Type", "application/json")
                .method("DELETE", HttpRequest.BodyPublishers.ofString("{}"));
        assertThat(s.send(b).status()).isEqualTo(200);
        s.post("/api/experiments/emoji/undelete", "");
        s.delete("/api/experiments/emoji");
    }

    @org.junit.jupiter.api.RepeatedTest(20)
    void aBodyOverTheLimitIsAnswered413WhileTheClientIsStillSendingIt() {
        String huge = "{\"name\": \"huge\", \"description\": \"" + "a".repeat(6_000_000) + "\"}";
        HttpRequest.Builder b = s.builder("/api/experiments").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(huge));
        Response r = s.send(b);
        assertThat(r.status()).as(r.body()).isEqualTo(413);
        assertThat(r.detail()).contains("1 MiB");
        assertThat(s.get("/api/experiments/huge").status()).isEqualTo(404);
    }
}
