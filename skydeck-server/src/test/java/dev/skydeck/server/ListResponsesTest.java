package dev.skydeck.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.SkyDeck;
import dev.skydeck.server.TestServer.Response;
import dev.skydeck.server.internal.Json;
import dev.skydeck.server.internal.Views;
import dev.skydeck.testing.FakeBackend;
import dev.skydeck.testing.NoThreadLeaks;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The list endpoints as the performance issue (15) wants them: compact items unless
 * {@code fields=full}, an {@code ETag} that turns a repeat into a 304 until something changes
 * (a write of this process, with or without an event, or another process's event), and gzip.
 */
@ExtendWith(NoThreadLeaks.class)
class ListResponsesTest {
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

    private static ExperimentSpec tenFlags(String name, int i) {
        ExperimentSpec spec = ExperimentSpec.named(name).description("benchmark experiment " + i).gpus(i % 4);
        for (int f = 0; f < 10; f++) {
            spec = spec.flag("trainer.group" + (f % 3) + ".flag" + f, f % 2 == 0 ? (Object) (long) (i * f) : "v" + f);
        }
        return spec;
    }

    private Response get(String path, String... headers) {
        var b = s.builder(path).GET();
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return s.send(b);
    }

    @Test
    void listItemsLeaveOutDefaultsAndDerivedFieldsUnlessFieldsFull() {
        s.deck.create(ExperimentSpec.named("plain"));
        s.deck.create(ExperimentSpec.named("rich").flag("lr", 0L).flag("off", false).flag("empty", "")
                .tags(List.of("a")).taskTemplate("resources: {}").priority(2));
        JsonNode items = get("/api/experiments").json().path("experiments");
        JsonNode plain = items.get(0);
        assertThat(plain.path("name").asText()).isEqualTo("plain");
        for (String omitted : List.of("command", "task_template", "flags", "tags", "description", "tool_path",
                "starred", "expanded", "deleted", "drifted", "priority", "gpus", "order", "latest_epoch",
                "resources", "restart_policy", "created_by", "base_command", "nodes")) {
            assertThat(plain.has(omitted)).as(omitted + " in " + plain).isFalse();
        }
        assertThat(plain.path("version").asLong()).isEqualTo(1);
        // never changed: updated_at is created_at, left out; once changed, written
        assertThat(plain.has("updated_at")).as(plain.toString()).isFalse();
        assertThat(plain.path("created_at").isTextual()).isTrue();
        assertThat(plain.path("status").has("observed_generation")).as(plain.toString()).isFalse();
        JsonNode rich = items.get(1);
        assertThat(rich.has("task_template")).isFalse();
        assertThat(rich.path("priority").asInt()).isEqualTo(2);
        // values inside flags are never left out, whatever they are
        assertThat(rich.path("flags").path("lr").isNumber()).isTrue();
        assertThat(rich.path("flags").path("off").isBoolean()).isTrue();
        assertThat(rich.path("flags").path("empty").isTextual()).isTrue();

        s.deck.update(s.deck.experiment(plain.path("id").asLong()), spec -> spec.description("changed"));
        JsonNode changed = get("/api/experiments").json().path("experiments").get(0);
        assertThat(changed.path("updated_at").asText()).as(changed.toString())
                .isNotEqualTo(changed.path("created_at").asText()).isNotEmpty();

        JsonNode full = get("/api/experiments?fields=full").json().path("experiments").get(1);
        assertThat(full.path("updated_at").asText()).isEqualTo(full.path("created_at").asText());
        assertThat(full.has("command")).isTrue();
        assertThat(full.has("task_template")).isTrue();
        assertThat(full.path("starred").isBoolean()).isTrue();
        assertThat(full.path("resources").isObject()).isTrue();
        assertThat(full.path("latest_epoch").isNull()).isTrue();

        // groups: their members and the ungrouped ones compact too, every field with fields=full
        s.post("/api/groups", "{\"name\":\"g\",\"experiment_ids\":[" + items.get(1).path("id").asLong() + "]}");
        JsonNode groups = get("/api/groups").json();
        assertThat(groups.path("ungrouped").get(0).has("command")).isFalse();
        assertThat(groups.path("groups").get(0).has("collapsed")).isFalse();
        assertThat(groups.path("groups").get(0).path("experiments").get(0).has("command")).isFalse();
        JsonNode groupsFull = get("/api/groups?fields=full").json();
        assertThat(groupsFull.path("ungrouped").get(0).has("command")).isTrue();
        assertThat(groupsFull.path("groups").get(0).path("collapsed").isBoolean()).isTrue();

        // single items stay whole
        JsonNode one = get("/api/experiments/plain").json().path("experiment");
        assertThat(one.has("command")).isTrue();
        assertThat(one.path("starred").isBoolean()).isTrue();

        Response bad = get("/api/experiments?fields=everything");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.detail()).contains("fields");
        assertThat(get("/api/groups?fields=some").status()).isEqualTo(400);
    }

    @Test
    void aListItemWithTenFlagsTakesAtMost600Bytes() {
        List<ExperimentSpec> specs = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            specs.add(tenFlags("exp-" + i, i));
        }
        s.deck.createAll(specs);
        int compact = get("/api/experiments").body().getBytes(StandardCharsets.UTF_8).length;
        int full = get("/api/experiments?fields=full").body().getBytes(StandardCharsets.UTF_8).length;
        assertThat(compact / 200).as("bytes per experiment, compact").isLessThanOrEqualTo(600);
        assertThat(full).isGreaterThan(compact);
    }

    @Test
    void aRepeatWithTheTagIsNotModifiedUntilSomethingChanges() throws Exception {
        Experiment e = s.deck.create(ExperimentSpec.named("one"));
        s.deck.awaitSettled(List.of(e), Duration.ofSeconds(60)); // no reconciler write after this
        for (String path : List.of("/api/experiments", "/api/groups", "/api/jobs", "/api/experiments?q=on")) {
            Response first = get(path);
            String tag = first.header("ETag");
            assertThat(tag).as(path).startsWith("W/\"");
            assertThat(first.header("Cache-Control")).isEqualTo("no-cache");
            Response again = get(path, "If-None-Match", tag);
            assertThat(again.status()).as(path).isEqualTo(304);
            assertThat(again.body()).isEmpty();
            assertThat(get(path, "If-None-Match", "W/\"other\"").status()).isEqualTo(200);
        }
        // a query is its own answer: another query, another body and tag
        assertThat(get("/api/experiments?q=zzz").header("ETag")).isNotEqualTo(get("/api/experiments").header("ETag"));

        // a write of this process without an event (a star), from another thread
        String before = get("/api/experiments").header("ETag");
        CompletableFuture.runAsync(() -> s.deck.star(e, true)).get();
        Response changed = get("/api/experiments", "If-None-Match", before);
        assertThat(changed.status()).isEqualTo(200);
        assertThat(changed.json().path("experiments").get(0).path("starred").asBoolean()).isTrue();
        assertThat(changed.header("ETag")).isNotEqualTo(before);

        // a write with an event
        String tag2 = changed.header("ETag");
        s.deck.update(s.deck.experiment(e.id()), spec -> spec.description("changed"));
        Response afterEvent = get("/api/experiments", "If-None-Match", tag2);
        assertThat(afterEvent.status()).isEqualTo(200);
        assertThat(afterEvent.json().path("experiments").get(0).path("description").asText()).isEqualTo("changed");

        // a count header comes back with a cached answer
        assertThat(get("/api/experiments").header("X-Total-Count")).isEqualTo("1");
        assertThat(get("/api/experiments").header("X-Total-Count")).isEqualTo("1");
    }

    /**
     * Each item's JSON is kept while its experiment reads back the same (ListItems). Every kind of
     * change must still show in every list form: an edit (a new version), a star (no version, no
     * event) and a job that ran and failed (derived state, epoch and start; no version either).
     */
    @Test
    void keptItemsShowEveryChangeInEveryListForm() {
        List<Experiment> made = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            made.add(s.deck.create(tenFlags("kept-" + i, i).baseCommand("sh -c 'echo epoch=7; exit 3' job")));
        }
        s.deck.awaitSettled(made, Duration.ofSeconds(60));
        List<String> forms = List.of("/api/experiments", "/api/experiments?fields=full", "/api/groups",
                "/api/groups?fields=full");
        forms.forEach(this::assertItemsAreFresh);

        s.deck.update(s.deck.experiment(made.get(0).id()), spec -> spec.description("edited"));
        forms.forEach(this::assertItemsAreFresh);
        s.deck.star(s.deck.experiment(made.get(1).id()), true);
        forms.forEach(this::assertItemsAreFresh);
        Experiment running = s.deck.start(s.deck.experiment(made.get(2).id()));
        await().atMost(Duration.ofSeconds(60)).until(() ->
                s.deck.experiment(running.id()).currentState() == dev.skydeck.JobStatus.FAILED);
        forms.forEach(this::assertItemsAreFresh);
        assertThat(get("/api/experiments").json().path("experiments").get(2).path("current_state").asText())
                .isEqualTo("FAILED");
    }

    /** The items of {@code path} equal the experiments' views written afresh. */
    private void assertItemsAreFresh(String path) {
        try {
            assertItemsAreFreshIn(path);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void assertItemsAreFreshIn(String path) throws IOException {
        JsonNode body = get(path).json();
        boolean full = path.contains("fields=full");
        List<JsonNode> items = new ArrayList<>();
        body.path("experiments").forEach(items::add);
        body.path("ungrouped").forEach(items::add);
        body.path("groups").forEach(g -> g.path("experiments").forEach(items::add));
        assertThat(items).as(path).hasSize(3);
        for (JsonNode item : items) {
            Experiment now = s.deck.experiment(item.path("id").asLong());
            var view = full ? Views.ExperimentView.of(now) : Views.ExperimentView.listItem(now);
            assertThat(item).as(path + " item " + now.spec().name())
                    .isEqualTo(Json.MAPPER.readTree((full ? Json.MAPPER : Json.LIST).writeValueAsString(view)));
        }
    }

    @Test
    void anotherProcessWritesShow() {
        s.deck.awaitSettled(List.of(s.deck.create(ExperimentSpec.named("mine"))), Duration.ofSeconds(60));
        String tag = get("/api/experiments").header("ETag");
        assertThat(get("/api/experiments", "If-None-Match", tag).status()).isEqualTo(304);
        // another SkyDeck on the same database: its own process as far as this server can tell
        try (SkyDeck other = SkyDeck.builder().databaseFile(dir.resolve("skydeck.db"))
                .backend(new FakeBackend(Clock.systemUTC())).autoStart(false).build()) {
            Experiment theirs = other.create(ExperimentSpec.named("theirs"));
            s.deck.awaitSettled(List.of(s.deck.experiment(theirs.id())), Duration.ofSeconds(60));
            Response r = get("/api/experiments", "If-None-Match", tag);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).contains("\"theirs\"");
            // a write without an event (a star) shows within the cache's longest age
            String tag2 = r.header("ETag");
            other.star(theirs, true);
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250)).until(() ->
                    get("/api/experiments", "If-None-Match", tag2).status() == 200);
            assertThat(get("/api/experiments").json().path("experiments").get(1).path("starred").asBoolean()).isTrue();
        }
    }

    @Test
    void listsAreGzippedForClientsThatAcceptIt() throws Exception {
        List<ExperimentSpec> specs = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            specs.add(tenFlags("exp-" + i, i));
        }
        // settled first: the reconciler's observations would change the bodies between requests
        s.deck.awaitSettled(s.deck.createAll(specs), Duration.ofSeconds(60));
        for (String path : List.of("/api/experiments", "/api/groups")) {
            String plain = get(path).body();
            for (int round = 0; round < 2; round++) { // built, then cached
                HttpResponse<byte[]> gz = s.http.send(s.builder(path).header("Accept-Encoding", "gzip").GET().build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertThat(gz.statusCode()).isEqualTo(200);
                assertThat(gz.headers().firstValue("Content-Encoding")).hasValue("gzip");
                assertThat(gz.headers().firstValue("Vary").orElse("")).contains("Accept-Encoding");
                assertThat(gz.body().length).isLessThan(plain.length() / 3);
                assertThat(gunzip(gz.body()).equals(plain)).as("the gzip body is the plain one").isTrue();
            }
            Response identity = get(path, "Accept-Encoding", "gzip;q=0");
            assertThat(identity.header("Content-Encoding")).isNull();
            assertThat(identity.body().equals(plain)).as("the identity body is the plain one").isTrue();
        }
    }

    private static String gunzip(byte[] bytes) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void aFailedListIsNotCached() {
        assertThat(get("/api/experiments?limit=0").status()).isEqualTo(400);
        assertThat(get("/api/experiments?limit=0").status()).isEqualTo(400);
        assertThat(Json.MAPPER.valueToTree(get("/api/experiments").json()).path("experiments").isArray()).isTrue();
    }
}
