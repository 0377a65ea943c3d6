package dev.skydeck.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.skydeck.Checkpoint;
import dev.skydeck.DesiredState;
import dev.skydeck.Event;
import dev.skydeck.EventQuery;
import dev.skydeck.EventType;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentQuery;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.Group;
import dev.skydeck.Job;
import dev.skydeck.JobQuery;
import dev.skydeck.JobStatus;
import dev.skydeck.SkyDeck;
import dev.skydeck.SkyDeckException;
import dev.skydeck.local.LocalBackend;
import dev.skydeck.memory.InMemoryStore;
import dev.skydeck.sqlite.internal.OriginalReader;
import dev.skydeck.spi.Store;
import dev.skydeck.testing.FakeBackend;
import dev.skydeck.testing.ManualClock;
import dev.skydeck.testing.NoThreadLeaks;
import dev.skydeck.testing.OriginalDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Users of the original SkyDeck switch in one command and lose nothing (issue 12): a database
 * written as the original writes it ({@link OriginalDatabase}), detected without a byte changed,
 * imported whole, once.
 */
@ExtendWith(NoThreadLeaks.class)
class OriginalImportTest {
    /** Not UTC and not a whole hour off it, so a time read in the wrong zone cannot pass. */
    private static final ZoneId ORIGINAL_ZONE = ZoneId.of("Asia/Kolkata");
    private static final Instant NOW = Instant.parse("2026-01-02T03:04:05Z");

    @TempDir
    Path dir;

    private Path original() {
        Path file = dir.resolve("skydeck.db");
        OriginalDatabase.write(file, ORIGINAL_ZONE);
        return file;
    }

    private static OriginalImport importer(Path file) {
        return OriginalImport.from(file).localZone(ORIGINAL_ZONE).clock(Clock.fixed(NOW, ZoneOffset.UTC));
    }

    private static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    private List<String> filesIn(Path folder) throws Exception {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    // ---- detection ----

    @Test
    void openingAnOriginalDatabaseStopsWithTheCommandToRunAndLeavesItsBytesAsTheyWere() throws Exception {
        Path file = original();
        String before = sha256(file);
        List<String> filesBefore = filesIn(dir);

        assertThatThrownBy(() -> SqliteStore.open(file))
                .isInstanceOf(SkyDeckException.class)
                .hasMessageContaining("database of the original (Python) SkyDeck")
                .hasMessageContaining("Nothing was changed")
                .hasMessageContaining("skydeck import " + file);
        assertThatThrownBy(() -> SkyDeck.builder().databaseFile(file).backend(new FakeBackend(Clock.systemUTC()))
                .build()).hasMessageContaining("skydeck import " + file);

        assertThat(sha256(file)).isEqualTo(before);
        assertThat(filesIn(dir)).isEqualTo(filesBefore).containsExactly("skydeck.db"); // no -wal, -shm or -journal
        assertThat(OriginalImport.isOriginalDatabase(file)).isTrue();
        assertThat(sha256(file)).isEqualTo(before);
    }

    @Test
    void anotherSqliteDatabaseIsRefusedUnchangedToo() throws Exception {
        Path file = dir.resolve("other.db");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement()) {
            st.executeUpdate("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)");
        }
        String before = sha256(file);

        assertThatThrownBy(() -> SqliteStore.open(file))
                .hasMessageContaining("not a SkyDeck one")
                .hasMessageContaining("notes")
                .hasMessageContaining("Nothing was changed");
        assertThat(sha256(file)).isEqualTo(before);
        assertThat(filesIn(dir)).containsExactly("other.db");
        assertThat(OriginalImport.isOriginalDatabase(file)).isFalse();
    }

    // ---- what comes across ----

    @Test
    void theImportKeepsEveryExperimentWithItsIdNameTypedFlagsAndBookkeeping() {
        Store store = new InMemoryStore(); // any store: the import writes through the Store SPI only
        importer(original()).into(store);

        Map<Long, Experiment> byId = new java.util.HashMap<>();
        store.experiments(ExperimentQuery.ALL.withDeleted(true)).items().forEach(e -> byId.put(e.id(), e));
        assertThat(byId).containsOnlyKeys(1L, 2L, 3L, 5L);

        Experiment base = byId.get(1L);
        ExperimentSpec s = base.spec();
        assertThat(s.name()).isEqualTo("daveey.nav.baseline");
        assertThat(s.flags().keySet()).containsExactly("trainer.losses.ppo.enabled",
                "policy_architecture.core_resnet_layers", "trainer.optimizer.learning_rate", "trainer.total_timesteps",
                "wandb.tags");
        assertThat(s.flags().get("trainer.losses.ppo.enabled")).isEqualTo(Boolean.TRUE);
        assertThat(s.flags().get("policy_architecture.core_resnet_layers")).isInstanceOf(Long.class).isEqualTo(4L);
        assertThat(s.flags().get("trainer.optimizer.learning_rate")).isInstanceOf(Double.class).isEqualTo(0.0003);
        assertThat(s.flags().get("trainer.total_timesteps")).isInstanceOf(Double.class).isEqualTo(3.0);
        assertThat(s.flags().get("wandb.tags")).isEqualTo("nav");
        assertThat(s.baseCommand()).isEqualTo("lt");
        assertThat(s.runName()).isEqualTo("daveey.nav.baseline.r1");
        assertThat(s.toolPath()).isEqualTo("recipes.experiment.navigation.train");
        assertThat(s.gitBranch()).isEqualTo("daveey/nav");
        assertThat(s.nodes()).isEqualTo(2);
        assertThat(s.gpus()).isEqualTo(4);
        assertThat(s.resources().cloud()).isEqualTo("aws");
        assertThat(s.resources().instanceType()).isEqualTo("p4d.24xlarge");
        assertThat(s.resources().spot()).isTrue();
        assertThat(s.description()).isEqualTo("the baseline");
        assertThat(s.tags()).containsExactly("nav", "baseline");
        assertThat(s.desiredState()).isEqualTo(DesiredState.RUNNING);
        assertThat(base.starred()).isTrue();
        assertThat(base.expanded()).isTrue();
        assertThat(base.order()).isZero();
        assertThat(base.deleted()).isFalse();
        assertThat(base.createdAt()).isEqualTo(OriginalDatabase.EXPERIMENT_1_CREATED); // naive UTC
        assertThat(base.updatedAt()).isEqualTo(Instant.parse("2025-10-15T08:00:00.000001Z"));
        assertThat(base.currentState()).isEqualTo(JobStatus.RUNNING); // from its imported job

        Experiment copy = byId.get(2L);
        assertThat(copy.name()).isEqualTo("daveey.nav.baseline (copy)");
        assertThat(copy.spec().gitBranch()).as("'-' means none").isNull();
        assertThat(copy.spec().runName()).isNull();
        assertThat(copy.spec().flags().get("trainer.optimizer.learning_rate")).isEqualTo(1e-05);
        assertThat(copy.desiredState()).isEqualTo(DesiredState.STOPPED);
        assertThat(copy.order()).isEqualTo(1);
        assertThat(store.experimentByName("daveey.nav.baseline (copy)")).contains(copy);

        Experiment deleted = byId.get(3L);
        assertThat(deleted.deleted()).isTrue();
        assertThat(deleted.desiredState()).isEqualTo(DesiredState.TERMINATED);
        assertThat(store.experimentByName("old.sweep")).isEmpty();

        Experiment ppo = byId.get(5L);
        assertThat(ppo.name()).isEqualTo("Test PPO Training");
        assertThat(ppo.spec().baseCommand()).isEqualTo("uv run ./tools/run.py");
        assertThat(ppo.starred()).isTrue();
        assertThat(ppo.spec().runName()).isEqualTo("daveey.test_ppo");
    }

    @Test
    void theImportKeepsEveryJobWithItsSkyPilotIdStatusTimesAndExperimentAndOrphansStayOrphans() {
        Store store = new InMemoryStore();
        importer(original()).into(store);

        List<Job> all = store.jobs(new JobQuery(null, null, null, null, 100, 0)).items();
        assertThat(all).extracting(Job::id).containsExactlyInAnyOrder("9588", "9601", "9602", "9500", "9400");
        assertThat(all).allSatisfy(j -> {
            assertThat(j.backend()).isEqualTo("skypilot");
            assertThat(j.backendJobId()).isEqualTo(j.id());
        });

        Job done = store.job("9588").orElseThrow();
        assertThat(done.experimentName()).isEqualTo("daveey.nav.baseline");
        assertThat(done.status()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(done.backendStatus()).isEqualTo("SUCCEEDED");
        assertThat(done.createdAt()).as("jobs.created_at is local time").isEqualTo(OriginalDatabase.JOB_9588_CREATED);
        assertThat(done.submittedAt()).isEqualTo(Instant.parse("2025-10-14T09:35:01Z"));
        assertThat(done.startedAt()).isEqualTo(OriginalDatabase.JOB_9588_STARTED);
        assertThat(done.endedAt()).isEqualTo(OriginalDatabase.JOB_9588_ENDED);
        assertThat(done.exitCode()).isZero();
        assertThat(done.command()).containsExactly("lt", "--gpus=4", "--nodes=2", "--git-ref=daveey/nav",
                "recipes.experiment.navigation.train", "run=daveey.nav.baseline.r1", "trainer.losses.ppo.enabled=true");
        assertThat(done.nodes()).isEqualTo(2);
        assertThat(done.gpus()).isEqualTo(4);
        assertThat(done.resources().instanceType()).isEqualTo("p4d.24xlarge");
        assertThat(done.clusterName()).isEqualTo("sky-9588-daveey");
        assertThat(done.attempt()).isEqualTo(1);
        assertThat(done.launchId()).isNull();

        Job running = store.job("9601").orElseThrow();
        assertThat(running.status()).isEqualTo(JobStatus.RUNNING);
        assertThat(running.attempt()).isEqualTo(2);
        assertThat(running.launchId()).as("the active job of a RUNNING experiment is SkyDeck's own launch")
                .isEqualTo("9601");

        Job failed = store.job("9602").orElseThrow();
        assertThat(failed.experimentName()).isEqualTo("daveey.nav.baseline (copy)");
        assertThat(failed.status()).isEqualTo(JobStatus.FAILED);
        assertThat(failed.backendStatus()).isEqualTo("FAILED_SETUP");
        assertThat(failed.failureReason()).isEqualTo("setup failed: uv sync exited with 2");
        assertThat(failed.command()).endsWith("run=daveey.nav.baseline (copy)");

        assertThat(store.jobs(JobQuery.of("daveey.nav.baseline (copy)", 10)).items()).extracting(Job::id)
                .containsExactly("9602");
        assertThat(store.jobs(new JobQuery(null, null, true, null, 100, 0)).items()).extracting(Job::id)
                .as("orphans: no live experiment has their name").containsExactlyInAnyOrder("9400", "9500");
        assertThat(store.job("9400").orElseThrow().experimentName()).isEqualTo("handmade.run");
    }

    @Test
    void theImportKeepsCheckpointsGroupsWithMultiHomeMembersEventsAndSettings() {
        Store store = new InMemoryStore();
        OriginalImport.Report report = importer(original()).into(store);

        List<Checkpoint> base = store.checkpoints(1, 10);
        assertThat(base).extracting(Checkpoint::epoch).containsExactly(20L, 10L);
        Checkpoint ten = base.get(1);
        assertThat(ten.modelPath()).isEqualTo("s3://softmax-public/policies/daveey.nav.baseline/daveey.nav.baseline:v10.mpt");
        assertThat(ten.replayPaths()).containsExactly(
                "s3://softmax-public/policies/daveey.nav.baseline/replays/replay_10_a.json.z");
        assertThat(ten.policyVersion()).isEqualTo("v10");
        assertThat(ten.createdAt()).isEqualTo(Instant.parse("2025-10-14T12:00:00Z"));
        assertThat(store.checkpoints(2, 10)).singleElement().satisfies(c ->
                assertThat(c.modelPath()).contains("/daveey.nav.baseline (copy)/"));
        assertThat(store.experiment(1).orElseThrow().latestEpoch()).isEqualTo(20L);

        Group nav = store.group(0xa1b2c3d4L).orElseThrow();
        assertThat(nav.name()).isEqualTo("nav");
        assertThat(nav.namePrefix()).isEqualTo("daveey.nav.");
        assertThat(nav.flags()).containsExactly("policy_architecture.core_resnet_layers");
        assertThat(nav.collapsed()).isFalse();
        assertThat(nav.experimentIds()).as("members in their order").containsExactly(1L, 2L);
        Group copies = store.group(0xbeefL).orElseThrow();
        assertThat(copies.collapsed()).isTrue();
        assertThat(copies.experimentIds()).as("experiment 2 is in both groups").containsExactly(2L);
        assertThat(store.groups()).extracting(Group::name).containsExactly("nav", "copies");

        List<Event> events = store.events(new EventQuery(0, null, 100, false));
        assertThat(events).hasSize(6);
        assertThat(events.subList(0, 5)).extracting(Event::type).containsExactly(EventType.CREATE, EventType.START,
                EventType.UPDATE, EventType.STOP, EventType.DELETE);
        Event stop = events.get(3);
        assertThat(stop.time()).isEqualTo(Instant.parse("2025-10-16T10:04:30Z"));
        assertThat(stop.success()).isFalse();
        assertThat(stop.experimentId()).isEqualTo(2L);
        assertThat(stop.experimentName()).isEqualTo("daveey.nav.baseline (copy)");
        assertThat(stop.jobId()).isEqualTo("9602");
        assertThat(stop.message()).isEqualTo("STOP (original SkyDeck, by daveey)");
        assertThat(stop.detail()).isEqualTo("job already ended");
        assertThat(events.get(2).message()).startsWith("DUPLICATE");
        assertThat(events.get(5).message()).startsWith("imported the original SkyDeck database");

        assertThat(store.setting("jobs-filters")).contains("{\"active\": true, \"q\": \"nav\"}");
        assertThat(store.setting(OriginalImport.MARKER_SETTING).orElseThrow())
                .contains("https://wandb.ai/metta/runs/daveey.nav.baseline.r1");

        assertThat(report.imported()).containsEntry("experiments", 4).containsEntry("jobs", 5)
                .containsEntry("checkpoints", 3).containsEntry("groups", 2).containsEntry("events", 5)
                .containsEntry("settings", 1);
        assertThat(report.leftOut()).anySatisfy(l -> assertThat(l).contains("checkpoint (99, 1)"))
                .anySatisfy(l -> assertThat(l).contains("member 99 of group 0000beef"));
    }

    @Test
    void aSecondImportChangesNothingAndSaysSo() {
        Store store = new InMemoryStore();
        Path file = original();
        assertThat(importer(file).into(store).changed()).isTrue();
        long lastSeq = store.lastEventSeq();
        var before = store.experiments(ExperimentQuery.ALL.withDeleted(true)).items();

        OriginalImport.Report again = importer(file).into(store);

        assertThat(again.changed()).isFalse();
        assertThat(again.lines().get(0)).startsWith("Nothing to import").contains("Nothing was changed");
        assertThat(again.alreadyThere()).containsEntry("experiments", 4).containsEntry("jobs", 5)
                .containsEntry("events", 5);
        assertThat(store.lastEventSeq()).isEqualTo(lastSeq);
        assertThat(store.experiments(ExperimentQuery.ALL.withDeleted(true)).items()).isEqualTo(before);
    }

    @Test
    void theImportWritesOneTransactionAndNothingWhenAValueCannotBeKept() throws Exception {
        Path file = original();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO experiments (id, name, desired_state, flags, deleted) VALUES"
                    + " (9, 'bad/name', 'STOPPED', '{\"a\": [1, 2]}', 0)");
        }
        Store store = new InMemoryStore();

        assertThatThrownBy(() -> importer(file).into(store))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("nothing was written")
                .hasMessageContaining("experiment 9 'bad/name'");
        assertThat(store.experiments(ExperimentQuery.ALL.withDeleted(true)).total()).isZero();
        assertThat(store.lastEventSeq()).isZero();
    }

    @Test
    void aStoreWithExperimentsOfItsOwnIsRefusedSoThatIdsStayWhatTheyWere() {
        Store store = new InMemoryStore();
        store.write(tx -> tx.insertExperiment(ExperimentSpec.named("mine"), NOW));

        assertThatThrownBy(() -> importer(original()).into(store))
                .isInstanceOf(SkyDeckException.InvalidInput.class)
                .hasMessageContaining("empty database");
        assertThat(store.experiments(ExperimentQuery.ALL).items()).extracting(Experiment::name).containsExactly("mine");
    }

    // ---- the one command: the new database takes the original's place ----

    @Test
    void intoTheSameFileMovesTheOriginalAsideUnchangedAndWritesSkyDecksInItsPlace() throws Exception {
        Path file = original();
        String before = sha256(file);

        OriginalImport.Report first = importer(file).intoFile(file);

        Path kept = dir.resolve("skydeck.original.db");
        assertThat(first.keptAs()).isEqualTo(kept);
        assertThat(sha256(kept)).isEqualTo(before);
        assertThat(first.lines()).contains("The original database is kept, unchanged, as " + kept);
        try (SqliteStore store = SqliteStore.open(file)) {
            assertThat(store.experiments(ExperimentQuery.ALL.withDeleted(true)).total()).isEqualTo(4);
            assertThat(store.job("9601").orElseThrow().launchId()).isEqualTo("9601");
        }

        OriginalImport.Report again = importer(file).intoFile(file);
        assertThat(again.changed()).isFalse();
        assertThat(String.join("\n", again.lines())).contains("Nothing to import")
                .contains("is a SkyDeck database already").contains(kept.toString());

        OriginalImport.Report fromKept = importer(kept).intoFile(file);
        assertThat(fromKept.changed()).isFalse();
        assertThat(fromKept.lines().get(0)).startsWith("Nothing to import");
        assertThat(sha256(kept)).isEqualTo(before);
        assertThat(filesIn(dir)).contains("skydeck.db", "skydeck.original.db").doesNotContain("skydeck.original.db-wal");
    }

    @Test
    void aFailedImportPutsTheOriginalBack() throws Exception {
        Path file = original();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement st = c.createStatement()) {
            st.executeUpdate("UPDATE experiments SET flags = '{\"x\": null}' WHERE id = 1");
        }
        String before = sha256(file);

        assertThatThrownBy(() -> importer(file).intoFile(file)).hasMessageContaining("flag x");

        assertThat(filesIn(dir)).containsExactly("skydeck.db");
        assertThat(sha256(file)).isEqualTo(before);
        assertThat(OriginalImport.isOriginalDatabase(file)).isTrue();
    }

    // ---- after the import: nothing launched, nothing cancelled, other backends' jobs left alone ----

    @Test
    void aSkyDeckOnTheImportedDatabaseLaunchesNothingCancelsNothingAndTheLocalPollerLeavesSkyPilotJobsAlone()
            throws Exception {
        Path file = original();
        importer(file).intoFile(file);
        ManualClock clock = new ManualClock();
        LocalBackend local = LocalBackend.builder().jobsDirectory(dir.resolve("jobs"))
                .checkpointDirectory(dir.resolve("checkpoints")).gpuSlots(8).build();
        try (SkyDeck deck = SkyDeck.builder().databaseFile(file).backend(local).clock(clock).scheduler(clock)
                .build()) {
            deck.poll();
            deck.reconcileAll();
            clock.advance(Duration.ofHours(1)); // past any grace period for vanished jobs
            deck.poll();
            deck.poll();
            await().until(() -> deck.experiment(1).stateReason() != null);

            Job running = deck.store().job("9601").orElseThrow();
            assertThat(running.status()).as("never polled into UNKNOWN").isEqualTo(JobStatus.RUNNING);
            assertThat(running.cancel()).as("never cancelled").isNull();
            assertThat(deck.experiment(1).stateReason()).contains("9601").contains("skypilot backend")
                    .contains("runs local").contains("left as it is");
            assertThat(deck.jobs(new JobQuery(null, null, null, null, 100, 0)).items()).hasSize(5);
            assertThat(Files.exists(dir.resolve("jobs")) ? filesIn(dir.resolve("jobs")) : List.of())
                    .as("no local job was launched").isEmpty();
            assertThatThrownBy(() -> deck.cancel(running))
                    .isInstanceOfSatisfying(SkyDeckException.Conflict.class, c -> assertThat(c.reason())
                            .isEqualTo(SkyDeckException.Conflict.Reason.OTHER_BACKEND));
        } finally {
            local.close();
        }
    }

    @Test
    void aSkyDeckOnSkyPilotFollowsTheImportedJobsAndStopCancelsTheOneItOwns() {
        Path file = original();
        importer(file).intoFile(file);
        ManualClock clock = new ManualClock();
        FakeBackend sky = new FakeBackend(clock, OriginalReader.BACKEND);
        sky.addJob("9601", "daveey.nav.baseline", JobStatus.RUNNING);
        try (SkyDeck deck = SkyDeck.builder().databaseFile(file).backend(sky).clock(clock).scheduler(clock).build()) {
            deck.poll();
            deck.reconcileAll();
            await().until(() -> deck.experiment(1).status().observedGeneration() == 1
                    && deck.experiment(2).settled());
            assertThat(sky.launches()).as("nothing launched").isEmpty();
            assertThat(sky.cancels()).as("nothing cancelled").isEmpty();
            assertThat(deck.store().job("9601").orElseThrow().status()).isEqualTo(JobStatus.RUNNING);

            deck.stop(deck.experiment(1)); // as in the original, Stop ends the job it launched
            await().until(() -> !sky.cancels().isEmpty());
            assertThat(sky.cancels()).containsExactly("9601");
            sky.set("9601", JobStatus.CANCELLED);
            deck.poll();
            assertThat(deck.store().job("9601").orElseThrow().status()).isEqualTo(JobStatus.CANCELLED);
            assertThat(sky.launches()).isEmpty();
        }
    }
}
