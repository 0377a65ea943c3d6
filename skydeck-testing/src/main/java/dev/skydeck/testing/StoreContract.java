package dev.skydeck.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.skydeck.Actor;
import dev.skydeck.ApiToken;
import dev.skydeck.Checkpoint;
import dev.skydeck.DesiredState;
import dev.skydeck.Event;
import dev.skydeck.EventQuery;
import dev.skydeck.EventType;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentQuery;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.ExperimentStatus;
import dev.skydeck.Group;
import dev.skydeck.Job;
import dev.skydeck.JobQuery;
import dev.skydeck.JobStage;
import dev.skydeck.JobStatus;
import dev.skydeck.Page;
import dev.skydeck.Resources;
import dev.skydeck.RestartPolicy;
import dev.skydeck.SkyDeckException;
import dev.skydeck.spi.Lease;
import dev.skydeck.spi.Store;
import dev.skydeck.spi.StoreTx;
import dev.skydeck.spi.StoreReads;
import dev.skydeck.JobCancel;
import dev.skydeck.spi.JobObservation;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link Store} must have. A store implementation tests itself by extending
 * this class and implementing {@link #newStore()}; stores that keep data across instances also
 * implement {@link #reopen()}.
 *
 * <p>Times used here carry nanoseconds on purpose: a store keeps an {@link Instant} exactly.
 */
public abstract class StoreContract {
    /** A time with full nanosecond precision. */
    protected static final Instant T0 = Instant.parse("2025-03-01T10:00:00.123456789Z");

    /** The store under test, from {@link #newStore()} (or {@link #reopen()}). */
    protected Store store;

    /** A new, empty store. */
    protected abstract Store newStore();

    /**
     * A store over the same data as the one {@link #newStore()} returned, which the contract has
     * just closed; {@code null} when the implementation keeps nothing across instances.
     */
    protected Store reopen() {
        return null;
    }

    @BeforeEach
    void openStore() {
        store = newStore();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    // ---- helpers ----

    /** {@code T0} plus some seconds. */
    protected static Instant at(long seconds) {
        return T0.plusSeconds(seconds);
    }

    /** Inserts an experiment with default settings. */
    protected Experiment create(String name) {
        return store.write(tx -> tx.insertExperiment(ExperimentSpec.named(name), T0));
    }

    /** Inserts an experiment from a spec at a time. */
    protected Experiment create(ExperimentSpec spec, Instant now) {
        return store.write(tx -> tx.insertExperiment(spec, now));
    }

    /** A job with only the required fields and no launch id (as if launched outside SkyDeck). */
    protected static Job job(String id, String experimentName, JobStatus status, Instant createdAt) {
        return new Job(id, experimentName, "local", null, null, null, status, null, null, null, null, null, 1, 1, null,
                null, 1, 0, null, null, null, createdAt, null, null, null, null, 0, null, null, null, null, null);
    }

    /** A job SkyDeck launched: its launch id is its id. */
    protected static Job launched(String id, String experimentName, JobStatus status, Instant createdAt) {
        return new Job(id, experimentName, "local", null, id, null, status, null, null, null, null, null, 1, 1, null,
                null, 1, 0, null, null, null, createdAt, null, null, null, null, 0, null, null, null, null, null);
    }

    /** The job with another status (as a poll would record it). */
    protected static Job withStatus(Job job, JobStatus status, Instant now) {
        return job.observe(new JobObservation(status, status.name(), null, null, JobStage.of(status),
                job.startedAt(), status.isTerminal() ? now : null, null, 0, null, null, null), now);
    }

    protected Job insert(Job job) {
        return store.write(tx -> tx.insertJob(job));
    }

    protected Experiment reload(Experiment e) {
        return store.experiment(e.id()).orElseThrow();
    }

    protected static Event event(Experiment e, String message) {
        return Event.draft(T0, Actor.USER, EventType.UPDATE, e, null, true, message, null);
    }

    protected static Checkpoint checkpoint(long experimentId, long epoch, Instant goneAt) {
        return new Checkpoint(experimentId, epoch, "s3://bucket/run/model_" + epoch + ".pt",
                List.of("s3://bucket/run/replay_" + epoch + "_a.bin", "s3://bucket/run/replay_" + epoch + "_b.bin"),
                "v" + epoch, 1000 + epoch, at(epoch), at(epoch + 1), goneAt);
    }

    private static ExperimentQuery all() {
        return ExperimentQuery.ALL;
    }

    private List<String> names(ExperimentQuery query) {
        return store.experiments(query).items().stream().map(Experiment::name).toList();
    }

    private List<String> jobIds(JobQuery query) {
        return store.jobs(query).items().stream().map(Job::id).toList();
    }

    private static JobQuery jobQuery() {
        return new JobQuery(null, null, null, null, 100, 0);
    }

    // ---- experiments: insert ----

    @Test
    void insertAssignsIdVersionOneGenerationOneAndTheGivenTimes() {
        Experiment e = create(ExperimentSpec.named("a"), at(5));

        assertThat(e.id()).isPositive();
        assertThat(e.version()).isEqualTo(1);
        assertThat(e.generation()).isEqualTo(1);
        assertThat(e.createdAt()).isEqualTo(at(5));
        assertThat(e.updatedAt()).isEqualTo(at(5));
        assertThat(e.deleted()).isFalse();
        assertThat(e.starred()).isFalse();
        assertThat(e.expanded()).isFalse();
        assertThat(e.currentState()).isEqualTo(JobStatus.INIT);
        assertThat(e.status()).isEqualTo(ExperimentStatus.NEW);
        assertThat(e.latestEpoch()).isNull();
    }

    @Test
    void insertReturnsWhatIsStored() {
        Experiment e = create("a");

        assertThat(reload(e)).isEqualTo(e);
        assertThat(store.experimentByName("a")).contains(e);
    }

    @Test
    void insertedExperimentsGoToTheEndOfTheOrder() {
        Experiment a = create("a");
        Experiment b = create("b");
        Experiment c = create("c");

        assertThat(b.order()).isGreaterThan(a.order());
        assertThat(c.order()).isGreaterThan(b.order());
        assertThat(b.id()).isNotEqualTo(a.id());
    }

    @Test
    void everySpecFieldRoundTrips() {
        ExperimentSpec spec = ExperimentSpec.named("full")
                .flag("trainer.lr", 0.0003)
                .flag("layers", 4)
                .baseCommand("uv run 'my tool'")
                .toolPath("recipes.experiment.arena.train")
                .gitBranch("feature/x")
                .nodes(2)
                .gpus(8)
                .resources(new Resources("aws", "us-east-1", "p5.48xlarge", "H100", true))
                .desired(DesiredState.TERMINATED)
                .restartPolicy(RestartPolicy.onFailure(3).withBackoff(Duration.ofMillis(1500), Duration.ofMinutes(7)))
                .priority(-12)
                .description("ünïcode description, with 'quotes' and \"doubles\"")
                .tags(List.of("sweep-1", "baseline"))
                .taskTemplate("resources:\n  cloud: aws\n")
                .runName("daveey.full (copy)");

        Experiment e = create(spec, T0);

        assertThat(reload(e).spec()).isEqualTo(spec);
        assertThat(reload(e).spec().tags()).containsExactly("sweep-1", "baseline");
    }

    @Test
    void flagsKeepTheirOrderAndValueTypes() {
        Map<String, Object> flags = new LinkedHashMap<>();
        flags.put("z.last_declared_first", "text");
        flags.put("a.long", 4L);
        flags.put("m.double", 4.0);
        flags.put("b.bool", true);
        flags.put("c.small_double", 1e-9);
        flags.put("d.big_long", Long.MAX_VALUE);
        flags.put("e.number_like_string", "4");
        Experiment e = create(ExperimentSpec.named("typed").flags(flags), T0);

        Map<String, Object> read = reload(e).flags();

        assertThat(read.keySet()).containsExactly("z.last_declared_first", "a.long", "m.double", "b.bool",
                "c.small_double", "d.big_long", "e.number_like_string");
        assertThat(read.get("a.long")).isInstanceOf(Long.class).isEqualTo(4L);
        assertThat(read.get("m.double")).isInstanceOf(Double.class).isEqualTo(4.0);
        assertThat(read.get("b.bool")).isEqualTo(Boolean.TRUE);
        assertThat(read.get("c.small_double")).isEqualTo(1e-9);
        assertThat(read.get("d.big_long")).isEqualTo(Long.MAX_VALUE);
        assertThat(read.get("e.number_like_string")).isEqualTo("4");
    }

    @Test
    void aLiveNameCannotBeTakenTwice() {
        create("a");

        assertThatThrownBy(() -> create("a")).isInstanceOf(SkyDeckException.Conflict.class).hasMessageContaining("'a'");
        assertThat(store.experiments(all()).total()).isEqualTo(1);
    }

    @Test
    void unknownExperimentsAreAbsent() {
        assertThat(store.experiment(12345)).isEmpty();
        assertThat(store.experimentByName("nope")).isEmpty();
    }

    @Test
    void experimentsByIdSkipUnknownIdsAndIncludeDeletedOnes() {
        Experiment a = create("a");
        Experiment b = create("b");
        Experiment deleted = store.write(tx -> tx.updateExperiment(b.withDeleted(true), at(1)));

        List<Experiment> found = store.experiments(List.of(a.id(), 999_999L, b.id(), a.id()));

        assertThat(found).containsExactlyInAnyOrder(a, deleted);
    }

    // ---- imports (issue 12): rows with the ids and times of another database ----

    /** An experiment as another database holds it: its own id, times, presentation and soft delete. */
    protected static Experiment imported(long id, String name, boolean deleted, Instant created, Instant updated) {
        return new Experiment(id, ExperimentSpec.named(name).flag("lr", 3.0).runName("run." + id), true, 7, true,
                deleted, created, updated, 4, 3, null, null, null, false);
    }

    @Test
    void anImportedExperimentKeepsItsIdTimesPresentationDeletionVersionAndGeneration() {
        Experiment given = imported(42, "daveey.nav.baseline (copy)", false, at(1), at(9));

        Experiment e = store.write(tx -> tx.importExperiment(given));

        assertThat(e.id()).isEqualTo(42);
        assertThat(e.spec()).isEqualTo(given.spec());
        assertThat(e.createdAt()).isEqualTo(at(1));
        assertThat(e.updatedAt()).isEqualTo(at(9));
        assertThat(e.starred()).isTrue();
        assertThat(e.expanded()).isTrue();
        assertThat(e.order()).isEqualTo(7);
        assertThat(e.version()).isEqualTo(4);
        assertThat(e.generation()).isEqualTo(3);
        assertThat(e.status()).isEqualTo(ExperimentStatus.NEW);
        assertThat(reload(e)).isEqualTo(e);
        assertThat(store.experimentByName("daveey.nav.baseline (copy)")).contains(e);
    }

    @Test
    void experimentsInsertedAfterAnImportGetHigherIds() {
        store.write(tx -> tx.importExperiment(imported(500, "old", false, at(1), at(1))));

        Experiment next = create("new");

        assertThat(next.id()).isGreaterThan(500);
    }

    @Test
    void anImportedSoftDeletedExperimentLeavesItsNameFree() {
        store.write(tx -> tx.importExperiment(imported(3, "gone", true, at(1), at(2))));
        store.write(tx -> tx.importExperiment(imported(4, "gone", false, at(3), at(4))));

        assertThat(store.experiment(3).orElseThrow().deleted()).isTrue();
        assertThat(store.experimentByName("gone").orElseThrow().id()).isEqualTo(4);
    }

    @Test
    void importingAnExistingIdOrALiveNameTwiceConflictsAndWritesNothing() {
        store.write(tx -> tx.importExperiment(imported(7, "a", false, at(1), at(1))));

        assertThatThrownBy(() -> store.write(tx -> tx.importExperiment(imported(7, "b", false, at(1), at(1)))))
                .isInstanceOfSatisfying(SkyDeckException.Conflict.class,
                        c -> assertThat(c.reason()).isEqualTo(SkyDeckException.Conflict.Reason.ALREADY_RECORDED));
        assertThatThrownBy(() -> store.write(tx -> tx.importExperiment(imported(8, "a", false, at(1), at(1)))))
                .isInstanceOfSatisfying(SkyDeckException.Conflict.class,
                        c -> assertThat(c.reason()).isEqualTo(SkyDeckException.Conflict.Reason.NAME_TAKEN));
        assertThat(store.experiments(all()).total()).isEqualTo(1);
        assertThat(store.experimentByName("b")).isEmpty();
    }

    @Test
    void anImportedGroupKeepsItsIdOrderCollapsedStateAndMembersInOrder() {
        store.write(tx -> tx.importExperiment(imported(1, "a", false, at(1), at(1))));
        store.write(tx -> tx.importExperiment(imported(2, "b", false, at(1), at(1))));
        Group given = new Group(0xa1b2c3d4L, "sweep", "daveey.sweep ", List.of("lr", "layers"), 5, true,
                List.of(2L, 1L));
        Group other = new Group(0x0000beefL, "sweep", null, List.of(), 1, false, List.of(2L));

        store.write(tx -> {
            tx.importGroup(given);
            tx.importGroup(other);
            return null;
        });

        assertThat(store.group(0xa1b2c3d4L)).contains(given);
        assertThat(store.groups()).containsExactly(other, given);
        Group later = store.write(tx -> tx.insertGroup(Group.named("later")));
        assertThat(later.id()).isGreaterThan(0xa1b2c3d4L);
        assertThatThrownBy(() -> store.write(tx -> tx.importGroup(given)))
                .isInstanceOfSatisfying(SkyDeckException.Conflict.class,
                        c -> assertThat(c.reason()).isEqualTo(SkyDeckException.Conflict.Reason.ALREADY_RECORDED));
    }

    @Test
    void anImportedGroupNamingAMissingExperimentWritesNothing() {
        store.write(tx -> tx.importExperiment(imported(1, "a", false, at(1), at(1))));

        assertThatThrownBy(() -> store.write(tx -> tx.importGroup(new Group(9, "g", null, List.of(), 0, false,
                List.of(1L, 404L))))).isInstanceOf(SkyDeckException.NotFound.class);
        assertThat(store.groups()).isEmpty();
    }

    // ---- experiments: update ----

    @Test
    void updateWritesTheUserFieldsAndBumpsTheVersion() {
        Experiment e = create("a");
        Experiment changed = e.withSpec(e.spec().flag("lr", 0.1).gpus(2).description("new"))
                .withStarred(true).withExpanded(true).withOrder(42).withDesired(DesiredState.RUNNING);

        Experiment written = store.write(tx -> tx.updateExperiment(changed, at(10)));

        assertThat(written.version()).isEqualTo(2);
        assertThat(written.generation()).isEqualTo(2);
        assertThat(written.spec()).isEqualTo(changed.spec());
        assertThat(written.starred()).isTrue();
        assertThat(written.expanded()).isTrue();
        assertThat(written.order()).isEqualTo(42);
        assertThat(written.createdAt()).isEqualTo(T0);
        assertThat(written.updatedAt()).isEqualTo(at(10));
        assertThat(reload(e)).isEqualTo(written);
    }

    /**
     * A store may keep what it read (SQL stores keep specs by id and version): a version written
     * in a transaction that rolled back is not the version a later commit writes, so a read after
     * that commit shows the committed spec, not the rolled-back one, in every kind of read.
     */
    @Test
    void aRolledBackUpdateLeavesNoTraceInLaterReads() {
        Experiment e = create("a");
        assertThat(reload(e).spec()).isEqualTo(e.spec()); // read once: anything kept is from here
        assertThatThrownBy(() -> store.write(tx -> {
            Experiment inside = tx.updateExperiment(e.withSpec(e.spec().description("rolled back").gpus(3)), at(1));
            assertThat(tx.experiment(e.id()).orElseThrow().spec().description()).isEqualTo("rolled back");
            throw new IllegalStateException("abort after writing version " + inside.version());
        })).isInstanceOf(IllegalStateException.class);
        assertThat(reload(e).spec()).isEqualTo(e.spec());

        Experiment committed = store.write(tx -> tx.updateExperiment(e.withSpec(e.spec().description("kept")), at(2)));
        assertThat(committed.version()).isEqualTo(2);
        assertThat(reload(e).spec().description()).isEqualTo("kept");
        assertThat(reload(e).spec().gpus()).isEqualTo(e.spec().gpus());
        assertThat(store.experiments(List.of(e.id())).get(0).spec()).isEqualTo(committed.spec());
        assertThat(store.experiments(all()).items()).singleElement()
                .satisfies(x -> assertThat(x.spec()).isEqualTo(committed.spec()));
        assertThat(store.experimentByName("a").orElseThrow().spec()).isEqualTo(committed.spec());
    }

    @Test
    void staleVersionIsRefusedAndChangesNothing() {
        Experiment e = create("a");
        Experiment current = store.write(tx -> tx.updateExperiment(e.withStarred(true), at(1)));

        assertThatThrownBy(() -> store.write(tx -> tx.updateExperiment(e.withSpec(e.spec().gpus(7)), at(2))))
                .isInstanceOf(SkyDeckException.Conflict.class)
                .hasMessageContaining("version");
        assertThat(reload(e)).isEqualTo(current);
    }

    @Test
    void updatingAMissingExperimentIsNotFound() {
        Experiment e = create("a");
        Experiment ghost = new Experiment(e.id() + 1000, e.spec().name("ghost"), false, 0, false, false, T0, T0, 1,
                1, null, null, null, false);

        assertThatThrownBy(() -> store.write(tx -> tx.updateExperiment(ghost, at(1))))
                .isInstanceOf(SkyDeckException.NotFound.class);
    }

    @Test
    void renamingToANameTakenByALiveExperimentIsRefused() {
        create("a");
        Experiment b = create("b");

        assertThatThrownBy(() -> store.write(tx -> tx.updateExperiment(b.withSpec(b.spec().name("a")), at(1))))
                .isInstanceOf(SkyDeckException.Conflict.class);
        assertThat(reload(b)).isEqualTo(b);
    }

    @Test
    void renameFreesTheOldName() {
        Experiment a = create("a");
        Experiment renamed = store.write(tx -> tx.updateExperiment(a.withSpec(a.spec().name("a2")), at(1)));

        assertThat(store.experimentByName("a")).isEmpty();
        assertThat(store.experimentByName("a2")).contains(renamed);
        assertThat(create("a").name()).isEqualTo("a");
    }

    @Test
    void softDeleteFreesTheName() {
        Experiment old = create("a");
        Experiment deleted = store.write(tx -> tx.updateExperiment(old.withDeleted(true), at(1)));

        Experiment again = create("a");

        assertThat(again.id()).isNotEqualTo(old.id());
        assertThat(store.experimentByName("a")).contains(again);
        assertThat(reload(old)).isEqualTo(deleted);
        assertThat(deleted.deleted()).isTrue();
    }

    @Test
    void undeleteIsRefusedWhileTheNameIsTaken() {
        Experiment old = create("a");
        Experiment deleted = store.write(tx -> tx.updateExperiment(old.withDeleted(true), at(1)));
        create("a");

        assertThatThrownBy(() -> store.write(tx -> tx.updateExperiment(deleted.withDeleted(false), at(2))))
                .isInstanceOf(SkyDeckException.Conflict.class);
        assertThat(reload(old).deleted()).isTrue();
    }

    @Test
    void undeleteRestoresTheExperimentWhenTheNameIsFree() {
        Experiment old = create("a");
        Experiment deleted = store.write(tx -> tx.updateExperiment(old.withDeleted(true), at(1)));

        Experiment restored = store.write(tx -> tx.updateExperiment(deleted.withDeleted(false), at(2)));

        assertThat(restored.deleted()).isFalse();
        assertThat(store.experimentByName("a")).contains(restored);
    }

    @Test
    void twoDeletedExperimentsMayShareAName() {
        Experiment first = create("a");
        store.write(tx -> tx.updateExperiment(first.withDeleted(true), at(1)));
        Experiment second = create("a");

        store.write(tx -> tx.updateExperiment(second.withDeleted(true), at(2)));

        assertThat(store.experiments(all().withDeleted(true)).total()).isEqualTo(2);
        assertThat(store.experimentByName("a")).isEmpty();
    }

    @Test
    void updateStatusWritesTheObservationsWithoutBumpingTheVersion() {
        Experiment e = create("a");
        ExperimentStatus status = new ExperimentStatus(null, "retrying in 40 s, attempt 2 of 3", 1, null, 2,
                at(40), true);

        store.write(tx -> {
            tx.updateStatus(e.id(), status);
            return null;
        });

        Experiment read = reload(e);
        assertThat(read.status()).isEqualTo(status);
        assertThat(read.version()).isEqualTo(e.version());
        assertThat(read.updatedAt()).isEqualTo(e.updatedAt());
        assertThat(read.stateReason()).isEqualTo("retrying in 40 s, attempt 2 of 3");
    }

    @Test
    void updateStatusOfAMissingExperimentIsNotFound() {
        assertThatThrownBy(() -> store.write(tx -> {
            tx.updateStatus(424242, ExperimentStatus.NEW);
            return null;
        })).isInstanceOf(SkyDeckException.NotFound.class);
    }

    @Test
    void aUserUpdateKeepsTheReconcilersStatus() {
        Experiment e = create("a");
        ExperimentStatus status = new ExperimentStatus(null, "waiting", 1, null, 0, null, true);
        store.write(tx -> {
            tx.updateStatus(e.id(), status);
            return null;
        });

        Experiment written = store.write(tx -> tx.updateExperiment(e.withStarred(true), at(1)));

        assertThat(written.status()).isEqualTo(status);
    }

    @Test
    void reorderSetsPositionsWithoutBumpingVersions() {
        Experiment a = create("a");
        Experiment b = create("b");
        Experiment c = create("c");

        store.write(tx -> {
            tx.reorderExperiments(List.of(c.id(), a.id(), b.id()));
            return null;
        });

        assertThat(names(all())).containsExactly("c", "a", "b");
        assertThat(reload(c).order()).isZero();
        assertThat(reload(a).order()).isEqualTo(1);
        assertThat(reload(b).version()).isEqualTo(1);
    }

    // ---- current state and latest epoch ----

    @Test
    void anExperimentWithoutJobsIsInit() {
        assertThat(create("a").currentState()).isEqualTo(JobStatus.INIT);
    }

    @Test
    void currentStateIsTheStatusOfTheLatestJobByCreationTime() {
        Experiment e = create("a");
        insert(job("newer", "a", JobStatus.FAILED, at(20)));
        insert(job("older", "a", JobStatus.RUNNING, at(10)));

        assertThat(reload(e).currentState()).isEqualTo(JobStatus.FAILED);
    }

    @Test
    void jobsCreatedAtTheSameTimeAreOrderedById() {
        Experiment e = create("a");
        insert(job("job-b", "a", JobStatus.SUCCEEDED, at(10)));
        insert(job("job-a", "a", JobStatus.FAILED, at(10)));

        assertThat(reload(e).currentState()).isEqualTo(JobStatus.SUCCEEDED);
    }

    @Test
    void anInitJobMakesTheExperimentPending() {
        Experiment e = create("a");
        insert(launched("j1", "a", JobStatus.INIT, at(1)));

        assertThat(reload(e).currentState()).isEqualTo(JobStatus.PENDING);
    }

    @Test
    void theQueuedStageMakesTheExperimentPending() {
        Experiment e = create("a");
        insert(job("j1", "a", JobStatus.FAILED, at(1)));
        store.write(tx -> {
            tx.updateStatus(e.id(), new ExperimentStatus(JobStage.QUEUED, "waiting: 8 of 8 GPUs in use", 1, null, 0,
                    null, false));
            return null;
        });

        assertThat(reload(e).currentState()).isEqualTo(JobStatus.PENDING);
    }

    @Test
    void currentStateFollowsJobUpdates() {
        Experiment e = create("a");
        Job j = insert(launched("j1", "a", JobStatus.RUNNING, at(1)));

        store.write(tx -> tx.updateJob(withStatus(j, JobStatus.SUCCEEDED, at(2))));

        assertThat(reload(e).currentState()).isEqualTo(JobStatus.SUCCEEDED);
    }

    @Test
    void jobsRecordedBeforeTheirExperimentAreAdoptedByName() {
        insert(job("manual", "later", JobStatus.RUNNING, at(1)));

        Experiment e = create("later");

        assertThat(e.currentState()).isEqualTo(JobStatus.RUNNING);
        assertThat(reload(e).currentState()).isEqualTo(JobStatus.RUNNING);
    }

    @Test
    void currentStateIsDerivedInEveryRead() {
        Experiment e = create("a");
        insert(job("j1", "a", JobStatus.RUNNING, at(1)));

        assertThat(store.experimentByName("a").orElseThrow().currentState()).isEqualTo(JobStatus.RUNNING);
        assertThat(store.experiments(List.of(e.id())).get(0).currentState()).isEqualTo(JobStatus.RUNNING);
        assertThat(store.experiments(all()).items().get(0).currentState()).isEqualTo(JobStatus.RUNNING);
        assertThat(store.write(tx -> tx.experiment(e.id())).orElseThrow().currentState())
                .isEqualTo(JobStatus.RUNNING);
    }

    @Test
    void latestEpochIsTheHighestCheckpointStillPresent() {
        Experiment e = create("a");
        store.write(tx -> {
            tx.upsertCheckpoint(checkpoint(e.id(), 1, null));
            tx.upsertCheckpoint(checkpoint(e.id(), 5, null));
            tx.upsertCheckpoint(checkpoint(e.id(), 9, at(100)));
            return null;
        });

        assertThat(reload(e).latestEpoch()).isEqualTo(5L);
        assertThat(store.experiments(all()).items().get(0).latestEpoch()).isEqualTo(5L);
    }

    @Test
    void latestEpochIsNullWhenEveryCheckpointIsGone() {
        Experiment e = create("a");
        store.write(tx -> {
            tx.upsertCheckpoint(checkpoint(e.id(), 3, at(100)));
            return null;
        });

        assertThat(reload(e).latestEpoch()).isNull();
    }

    // ---- experiment queries ----

    @Test
    void queryFiltersByTextInNameOrDescriptionIgnoringCase() {
        create("PPO-small");
        create(ExperimentSpec.named("other").description("a PPO baseline"), T0);
        create("sac");

        assertThat(names(all().withText("ppo"))).containsExactlyInAnyOrder("PPO-small", "other");
        assertThat(names(all().withText("  SAC "))).containsExactly("sac");
    }

    @Test
    void queryTextIsNotAPattern() {
        create("a_b");
        create("axb");

        assertThat(names(all().withText("a_b"))).containsExactly("a_b");
        assertThat(names(all().withText("%"))).isEmpty();
    }

    @Test
    void queryFiltersByCurrentState() {
        create("idle");
        create("running");
        create("pending");
        insert(job("j1", "running", JobStatus.RUNNING, at(1)));
        insert(launched("j2", "pending", JobStatus.INIT, at(1)));

        assertThat(names(all().withState(JobStatus.RUNNING))).containsExactly("running");
        assertThat(names(all().withState(JobStatus.PENDING))).containsExactly("pending");
        assertThat(names(all().withState(JobStatus.INIT))).containsExactly("idle");
    }

    @Test
    void queryFiltersByQueuedStateAsPending() {
        Experiment queued = create("queued");
        store.write(tx -> {
            tx.updateStatus(queued.id(), new ExperimentStatus(JobStage.QUEUED, null, 1, null, 0, null, false));
            return null;
        });
        create("idle");

        assertThat(names(all().withState(JobStatus.PENDING))).containsExactly("queued");
    }

    @Test
    void queryFiltersByDesiredState() {
        create(ExperimentSpec.named("run").desired(DesiredState.RUNNING), T0);
        create("stop");

        ExperimentQuery q = new ExperimentQuery(null, null, DesiredState.RUNNING, null, false,
                ExperimentQuery.Sort.ORDER, false, 100, 0);

        assertThat(names(q)).containsExactly("run");
    }

    @Test
    void queryFiltersByTag() {
        create(ExperimentSpec.named("a").tags(List.of("sweep", "x")), T0);
        create(ExperimentSpec.named("b").tags(List.of("sweep-2")), T0);
        create("c");

        assertThat(names(all().withTag("sweep"))).containsExactly("a");
    }

    @Test
    void queryHidesDeletedExperimentsUnlessAsked() {
        create("live");
        Experiment gone = create("gone");
        store.write(tx -> tx.updateExperiment(gone.withDeleted(true), at(1)));

        assertThat(names(all())).containsExactly("live");
        assertThat(names(all().withDeleted(true))).containsExactlyInAnyOrder("live", "gone");
    }

    @Test
    void querySortsByOrderByDefault() {
        create("b");
        create("c");
        create("a");

        assertThat(names(all())).containsExactly("b", "c", "a");
    }

    @Test
    void querySortsByName() {
        create("b");
        create("c");
        create("a");

        assertThat(names(all().sortedBy(ExperimentQuery.Sort.NAME, false))).containsExactly("a", "b", "c");
        assertThat(names(all().sortedBy(ExperimentQuery.Sort.NAME, true))).containsExactly("c", "b", "a");
    }

    @Test
    void querySortsByCreationTime() {
        create(ExperimentSpec.named("mid"), at(2));
        create(ExperimentSpec.named("late"), at(3));
        create(ExperimentSpec.named("early"), at(1));

        assertThat(names(all().sortedBy(ExperimentQuery.Sort.CREATED_AT, false)))
                .containsExactly("early", "mid", "late");
        assertThat(names(all().sortedBy(ExperimentQuery.Sort.CREATED_AT, true)))
                .containsExactly("late", "mid", "early");
    }

    @Test
    void querySortsByUpdateTime() {
        Experiment a = create("a");
        Experiment b = create("b");
        create("c");
        store.write(tx -> tx.updateExperiment(a.withStarred(true), at(20)));
        store.write(tx -> tx.updateExperiment(b.withStarred(true), at(10)));

        assertThat(names(all().sortedBy(ExperimentQuery.Sort.UPDATED_AT, false))).containsExactly("c", "b", "a");
        assertThat(names(all().sortedBy(ExperimentQuery.Sort.UPDATED_AT, true))).containsExactly("a", "b", "c");
    }

    @Test
    void querySortsByPriority() {
        create(ExperimentSpec.named("low").priority(-5), T0);
        create(ExperimentSpec.named("high").priority(10), T0);
        create(ExperimentSpec.named("mid"), T0);

        assertThat(names(all().sortedBy(ExperimentQuery.Sort.PRIORITY, false))).containsExactly("low", "mid", "high");
        assertThat(names(all().sortedBy(ExperimentQuery.Sort.PRIORITY, true))).containsExactly("high", "mid", "low");
    }

    @Test
    void querySortTiesAreBrokenByIdInTheSameDirection() {
        Experiment first = create("first");
        Experiment second = create("second");

        List<Long> asc = store.experiments(all().sortedBy(ExperimentQuery.Sort.CREATED_AT, false)).items().stream()
                .map(Experiment::id).toList();
        List<Long> desc = store.experiments(all().sortedBy(ExperimentQuery.Sort.CREATED_AT, true)).items().stream()
                .map(Experiment::id).toList();

        assertThat(asc).containsExactly(first.id(), second.id());
        assertThat(desc).containsExactly(second.id(), first.id());
    }

    @Test
    void queryPagesCarryTheTotal() {
        for (int i = 0; i < 7; i++) {
            create("e" + i);
        }

        Page<Experiment> page = store.experiments(all().page(3, 2));
        Page<Experiment> beyond = store.experiments(all().page(3, 50));

        assertThat(page.items()).extracting(Experiment::name).containsExactly("e2", "e3", "e4");
        assertThat(page.total()).isEqualTo(7);
        assertThat(beyond.items()).isEmpty();
        assertThat(beyond.total()).isEqualTo(7);
    }

    @Test
    void queryTotalCountsOnlyMatches() {
        create("ppo-1");
        create("ppo-2");
        create("sac-1");

        assertThat(store.experiments(all().withText("ppo").page(1, 0)).total()).isEqualTo(2);
    }

    // ---- experiments to reconcile ----

    @Test
    void reconcileListsLiveExperimentsAndDeletedOnesWithAnActiveJob() {
        Experiment live = create("live");
        Experiment deletedBusy = create("busy");
        Experiment deletedIdle = create("idle");
        insert(launched("j1", "busy", JobStatus.RUNNING, at(1)));
        insert(job("j2", "idle", JobStatus.SUCCEEDED, at(1)));
        store.write(tx -> {
            tx.updateExperiment(deletedBusy.withDeleted(true), at(2));
            tx.updateExperiment(deletedIdle.withDeleted(true), at(2));
            return null;
        });

        assertThat(store.experimentIdsToReconcile()).containsExactlyInAnyOrder(live.id(), deletedBusy.id());
    }

    @Test
    void aResyncListsOnlyExperimentsNotSettledForTheirGenerationAndDesiredStateOrWithAnActiveJob() {
        Experiment settled = create("settled");
        Experiment fresh = create("fresh");
        Experiment older = create("older");
        Experiment otherWish = create("other-wish");
        Experiment busy = create("busy");
        Experiment deletedBusy = create("deleted-busy");
        Experiment deletedIdle = create("deleted-idle");
        insert(launched("j1", "busy", JobStatus.RUNNING, at(1)));
        insert(launched("j2", "deleted-busy", JobStatus.RUNNING, at(1)));
        store.write(tx -> {
            for (Experiment e : List.of(settled, busy, deletedBusy, deletedIdle)) {
                tx.updateStatus(e.id(), new ExperimentStatus(null, null, e.generation(), e.effectiveDesired(), 0, null,
                        true));
            }
            tx.updateStatus(older.id(), new ExperimentStatus(null, null, older.generation() - 1,
                    older.effectiveDesired(), 0, null, true));
            DesiredState wished = otherWish.effectiveDesired() == DesiredState.RUNNING ? DesiredState.STOPPED
                    : DesiredState.RUNNING;
            tx.updateStatus(otherWish.id(), new ExperimentStatus(null, null, otherWish.generation(), wished, 0, null,
                    true));
            tx.updateExperiment(deletedBusy.withDeleted(true), at(2));
            tx.updateExperiment(deletedIdle.withDeleted(true), at(2));
            return null;
        });

        assertThat(store.experimentIdsUnsettled())
                .containsExactly(fresh.id(), older.id(), otherWish.id(), busy.id(), deletedBusy.id());
        assertThat(store.experiment(settled.id()).orElseThrow().settled()).isTrue();
    }

    // ---- jobs ----

    @Test
    void everyJobFieldRoundTrips() {
        create("a");
        Map<String, Object> flags = new LinkedHashMap<>();
        flags.put("z", 4L);
        flags.put("a", 4.0);
        flags.put("m", false);
        flags.put("s", "x y");
        Job full = new Job("job-1", "a", "skypilot", "17", "launch-1", null, JobStatus.RUNNING, "RUNNING",
                "none yet", "running on 2 nodes", JobStage.RUNNING, at(3), 2, 3,
                List.of("lt", "--gpus=8", "run=a", "s=x y"), flags, 2, 8,
                new Resources("gcp", "us-central1", "a3-highgpu-8g", "H100", true), "main", null,
                at(1), at(2), at(3), null, null, 1, "sky-cluster-1", "gcp", "us-central1", null, at(4));

        insert(full);

        Job read = store.job("job-1").orElseThrow();
        assertThat(read).isEqualTo(full);
        assertThat(read.flags().keySet()).containsExactly("z", "a", "m", "s");
        assertThat(read.flags().get("z")).isInstanceOf(Long.class);
        assertThat(read.flags().get("a")).isInstanceOf(Double.class);
    }

    @Test
    void anEndedJobKeepsItsEndAndExitCode() {
        Job j = new Job("j", "a", "local", "123", null, null, JobStatus.FAILED, "FAILED_SETUP", "setup failed: exit 3",
                null, JobStage.FAILED, at(5), 1, 1, List.of("lt"), Map.of(), 1, 0, null, null, null, at(1), at(2), at(3),
                at(5), 3, 0, null, null, null, null, at(5));

        insert(j);

        assertThat(store.job("j")).contains(j);
    }

    @Test
    void updateJobReplacesTheStoredJob() {
        Job j = insert(launched("j1", "a", JobStatus.INIT, at(1)));
        Job submitted = j.submitted("77", at(2));
        Job running = withStatus(submitted, JobStatus.RUNNING, at(3));

        store.write(tx -> tx.updateJob(running));

        assertThat(store.job("j1")).contains(running);
        assertThat(store.jobsByBackendId("local", List.of("77"))).containsEntry("77", running);
    }

    @Test
    void updatingAMissingJobIsNotFound() {
        assertThatThrownBy(() -> store.write(tx -> tx.updateJob(job("ghost", "a", JobStatus.RUNNING, at(1)))))
                .isInstanceOf(SkyDeckException.NotFound.class);
    }

    @Test
    void aJobIdIsRecordedOnce() {
        insert(job("j1", "a", JobStatus.SUCCEEDED, at(1)));

        assertThatThrownBy(() -> insert(job("j1", "b", JobStatus.SUCCEEDED, at(2))))
                .isInstanceOf(SkyDeckException.Conflict.class);
        assertThat(store.job("j1").orElseThrow().experimentName()).isEqualTo("a");
    }

    @Test
    void aLaunchIdIsRecordedOnce() {
        insert(new Job("j1", "a", "local", null, "L", null, JobStatus.SUCCEEDED, null, null, null, null, null, 1, 1,
                null, null, 1, 0, null, null, null, at(1), null, null, null, null, 0, null, null, null, null, null));

        assertThatThrownBy(() -> insert(new Job("j2", "b", "local", null, "L", null, JobStatus.SUCCEEDED, null, null,
                null, null, null, 1, 1, null, null, 1, 0, null, null, null, at(1), null, null, null, null, 0, null,
                null, null, null, null)))
                .isInstanceOf(SkyDeckException.Conflict.class);
        assertThat(store.job("j2")).isEmpty();
    }

    @Test
    void jobByLaunchIdFindsTheJob() {
        Job j = insert(launched("launch-1", "a", JobStatus.INIT, at(1)));

        assertThat(store.jobByLaunchId("launch-1")).contains(j);
        assertThat(store.jobByLaunchId("other")).isEmpty();
        assertThat(store.job("nope")).isEmpty();
    }

    @Test
    void jobsByBackendIdFindOnlyKnownIdsOfThatBackend() {
        Job a = insert(job("a", "x", JobStatus.RUNNING, at(1)).submitted("1", at(1)));
        insert(job("b", "x", JobStatus.RUNNING, at(2)).submitted("2", at(2)));
        insert(new Job("c", "x", "skypilot", "1", null, null, JobStatus.RUNNING, null, null, null, null, null, 1, 1,
                null, null, 1, 0, null, null, null, at(3), null, null, null, null, 0, null, null, null, null, null));

        Map<String, Job> found = store.jobsByBackendId("local", List.of("1", "404"));

        assertThat(found).containsOnlyKeys("1");
        assertThat(found.get("1")).isEqualTo(a);
        assertThat(store.jobsByBackendId("local", List.of())).isEmpty();
    }

    @Test
    void jobsAreListedNewestFirst() {
        insert(job("mid", "a", JobStatus.SUCCEEDED, at(2)));
        insert(job("old", "a", JobStatus.SUCCEEDED, at(1)));
        insert(job("new-b", "b", JobStatus.RUNNING, at(3)));
        insert(job("new-a", "b", JobStatus.RUNNING, at(3)));

        assertThat(jobIds(jobQuery())).containsExactly("new-b", "new-a", "mid", "old");
    }

    @Test
    void jobQueryFiltersByExperiment() {
        insert(job("a1", "a", JobStatus.SUCCEEDED, at(1)));
        insert(job("b1", "b", JobStatus.SUCCEEDED, at(2)));
        insert(job("a2", "a", JobStatus.RUNNING, at(3)));

        assertThat(jobIds(JobQuery.of("a", 10))).containsExactly("a2", "a1");
    }

    @Test
    void jobQueryFiltersByActivity() {
        Job running = insert(launched("r", "a", JobStatus.RUNNING, at(1)));
        insert(job("done", "b", JobStatus.SUCCEEDED, at(2)));
        store.write(tx -> tx.updateJob(withStatus(running, JobStatus.CANCELLING, at(3))));

        assertThat(jobIds(new JobQuery(null, true, null, null, 10, 0))).containsExactly("r");
        assertThat(jobIds(new JobQuery(null, false, null, null, 10, 0))).containsExactly("done");
    }

    @Test
    void activityFilterSeesUpdatesWithinOneExperiment() {
        Job j = insert(launched("r", "a", JobStatus.RUNNING, at(1)));
        store.write(tx -> tx.updateJob(withStatus(j, JobStatus.FAILED, at(2))));

        assertThat(jobIds(new JobQuery(null, true, null, "a", 10, 0))).isEmpty();
        assertThat(store.jobs(JobQuery.of("a", 10)).items()).extracting(Job::status).containsExactly(JobStatus.FAILED);
    }

    @Test
    void orphanedJobsAreThoseMatchingNoLiveExperiment() {
        create("live");
        Experiment deleted = create("deleted");
        store.write(tx -> tx.updateExperiment(deleted.withDeleted(true), at(1)));
        insert(job("j-live", "live", JobStatus.RUNNING, at(1)));
        insert(job("j-deleted", "deleted", JobStatus.RUNNING, at(2)));
        insert(job("j-none", "never-existed", JobStatus.RUNNING, at(3)));

        assertThat(jobIds(new JobQuery(null, null, true, null, 10, 0))).containsExactly("j-none", "j-deleted");
        assertThat(jobIds(new JobQuery(null, null, false, null, 10, 0))).containsExactly("j-live");
    }

    @Test
    void jobQueryFiltersByTextInIdExperimentOrBackendId() {
        insert(job("alpha-1", "exp", JobStatus.RUNNING, at(1)));
        insert(job("beta-1", "ALPHA-exp", JobStatus.RUNNING, at(2)));
        insert(job("gamma-1", "exp", JobStatus.RUNNING, at(3)).submitted("alpha-sky", at(3)));
        insert(job("delta-1", "exp", JobStatus.RUNNING, at(4)));

        assertThat(jobIds(new JobQuery("Alpha", null, null, null, 10, 0)))
                .containsExactly("gamma-1", "beta-1", "alpha-1");
    }

    @Test
    void jobPagesCarryTheTotal() {
        for (int i = 0; i < 5; i++) {
            insert(job("j" + i, "a", JobStatus.SUCCEEDED, at(i)));
        }

        Page<Job> page = store.jobs(new JobQuery(null, null, null, null, 2, 1));

        assertThat(page.items()).extracting(Job::id).containsExactly("j3", "j2");
        assertThat(page.total()).isEqualTo(5);
    }

    @Test
    void activeJobsAreTheNonTerminalOnes() {
        insert(job("running", "a", JobStatus.RUNNING, at(1)));
        insert(job("unknown", "b", JobStatus.UNKNOWN, at(2)));
        insert(job("failed", "c", JobStatus.FAILED, at(3)));
        insert(job("cancelled", "d", JobStatus.CANCELLED, at(4)));
        insert(job("succeeded", "e", JobStatus.SUCCEEDED, at(5)));
        insert(job("init", "f", JobStatus.INIT, at(6)));

        assertThat(store.activeJobs()).extracting(Job::id).containsExactlyInAnyOrder("running", "unknown", "init");
    }

    @Test
    void aSecondActiveLaunchedJobOfOneExperimentIsRefused() {
        insert(launched("first", "a", JobStatus.RUNNING, at(1)));

        assertThatThrownBy(() -> insert(launched("second", "a", JobStatus.INIT, at(2))))
                .isInstanceOf(SkyDeckException.Conflict.class);
        assertThat(store.job("second")).isEmpty();
        assertThat(store.activeJobs()).extracting(Job::id).containsExactly("first");
    }

    @Test
    void theActiveJobRuleIsPerExperiment() {
        insert(launched("a1", "a", JobStatus.RUNNING, at(1)));

        insert(launched("b1", "b", JobStatus.RUNNING, at(1)));

        assertThat(store.activeJobs()).hasSize(2);
    }

    @Test
    void jobsWithoutALaunchIdAreExemptFromTheActiveJobRule() {
        insert(launched("ours", "a", JobStatus.RUNNING, at(1)));

        insert(job("manual-1", "a", JobStatus.RUNNING, at(2)));
        insert(job("manual-2", "a", JobStatus.PENDING, at(3)));

        assertThat(store.activeJobs()).hasSize(3);
    }

    @Test
    void anEndedJobMakesRoomForTheNextLaunch() {
        Job first = insert(launched("first", "a", JobStatus.RUNNING, at(1)));
        store.write(tx -> tx.updateJob(withStatus(first, JobStatus.FAILED, at(2))));

        insert(launched("second", "a", JobStatus.INIT, at(3)));

        assertThat(store.activeJobs()).extracting(Job::id).containsExactly("second");
    }

    @Test
    void anEndedLaunchedJobCannotBecomeActiveBesideAnotherActiveOne() {
        Job first = insert(launched("first", "a", JobStatus.RUNNING, at(1)));
        Job ended = store.write(tx -> tx.updateJob(withStatus(first, JobStatus.FAILED, at(2))));
        insert(launched("second", "a", JobStatus.RUNNING, at(3)));

        assertThatThrownBy(() -> store.write(tx -> tx.updateJob(withStatus(ended, JobStatus.RUNNING, at(4)))))
                .isInstanceOf(SkyDeckException.Conflict.class);
        assertThat(store.job("first")).contains(ended);
    }

    @Test
    void aRefusedSecondLaunchInsideAWriteLeavesTheTransactionUsable() {
        insert(launched("first", "a", JobStatus.RUNNING, at(1)));

        String outcome = store.write(tx -> {
            try {
                tx.insertJob(launched("second", "a", JobStatus.INIT, at(2)));
                return "inserted";
            } catch (SkyDeckException.Conflict e) {
                tx.putSetting("after-conflict", "yes");
                return "refused";
            }
        });

        assertThat(outcome).isEqualTo("refused");
        assertThat(store.setting("after-conflict")).contains("yes");
        assertThat(store.job("second")).isEmpty();
    }

    // ---- transactions ----

    @Test
    void writeReturnsTheValueOfItsWork() {
        Integer value = store.write(tx -> 42);

        assertThat(value).isEqualTo(42);
    }

    @Test
    void readsInsideAWriteSeeItsOwnWrites() {
        Optional<Experiment> seen = store.write(tx -> {
            Experiment e = tx.insertExperiment(ExperimentSpec.named("a"), T0);
            tx.insertJob(job("j", "a", JobStatus.RUNNING, at(1)));
            return tx.experiment(e.id());
        });

        assertThat(seen).isPresent();
        assertThat(seen.get().currentState()).isEqualTo(JobStatus.RUNNING);
    }

    @Test
    void aFailedWriteChangesNothing() {
        Experiment e = create("a");
        Experiment other = create("other");
        Job j = insert(launched("j1", "a", JobStatus.RUNNING, at(1)));
        Group g = store.write(tx -> tx.insertGroup(Group.named("g").withExperimentIds(List.of(e.id()))));
        Group doomed = store.write(tx -> tx.insertGroup(Group.named("doomed")));
        store.write(tx -> {
            tx.upsertCheckpoint(checkpoint(e.id(), 1, null));
            tx.appendEvent(event(e, "before"));
            tx.putSetting("k", "v");
            return null;
        });
        Snapshot before = snapshot(e.id());
        IllegalStateException boom = new IllegalStateException("boom");

        assertThatThrownBy(() -> store.write(tx -> {
            tx.insertExperiment(ExperimentSpec.named("new"), at(5));
            tx.updateExperiment(e.withSpec(e.spec().gpus(3)).withDesired(DesiredState.RUNNING), at(5));
            tx.updateExperiment(other.withDeleted(true), at(5));
            tx.updateStatus(e.id(), new ExperimentStatus(JobStage.QUEUED, "x", 2, null, 1, at(9), false));
            tx.reorderExperiments(List.of(other.id(), e.id()));
            tx.updateJob(withStatus(j, JobStatus.FAILED, at(5)));
            tx.insertJob(launched("j2", "a", JobStatus.INIT, at(6)));
            tx.insertJob(job("j3", "other", JobStatus.RUNNING, at(6)).submitted("99", at(6)));
            tx.insertGroup(Group.named("new group"));
            tx.updateGroup(g.withName("renamed").withExperimentIds(List.of(other.id(), e.id())));
            tx.deleteGroup(doomed.id());
            tx.upsertCheckpoint(checkpoint(e.id(), 1, at(7)));
            tx.upsertCheckpoint(checkpoint(e.id(), 2, null));
            tx.appendEvent(event(e, "during"));
            tx.putSetting("k", "changed");
            tx.putSetting("k2", "new");
            throw boom;
        })).isSameAs(boom);

        assertThat(snapshot(e.id())).isEqualTo(before);
    }

    @Test
    void aTransactionCannotWriteAfterItsWriteEnded() {
        StoreTx leaked = store.write(tx -> tx);

        assertThatThrownBy(() -> leaked.putSetting("k", "v")).isInstanceOf(IllegalStateException.class);
        assertThat(store.setting("k")).isEmpty();
    }

    @Test
    void aNestedWriteIsRefused() {
        assertThatThrownBy(() -> store.write(tx -> store.write(inner -> 1)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("nested");
    }

    @Test
    void aFailedWriteDoesNotBlockTheNextOne() {
        assertThatThrownBy(() -> store.write(tx -> {
            tx.insertExperiment(ExperimentSpec.named("a"), T0);
            throw new IllegalStateException("boom");
        })).hasMessage("boom");

        Experiment e = create("a");

        assertThat(store.experimentByName("a")).contains(e);
    }

    @Test
    void aWriteFailingOnAConflictChangesNothing() {
        create("taken");

        assertThatThrownBy(() -> store.write(tx -> {
            tx.insertExperiment(ExperimentSpec.named("fresh"), T0);
            tx.putSetting("k", "v");
            return tx.insertExperiment(ExperimentSpec.named("taken"), T0);
        })).isInstanceOf(SkyDeckException.Conflict.class);

        assertThat(store.experimentByName("fresh")).isEmpty();
        assertThat(store.setting("k")).isEmpty();
    }

    /** Everything a store holds, as far as the reads can tell. */
    protected record Snapshot(List<Experiment> experiments, List<Job> jobs, List<Group> groups,
                              List<Checkpoint> checkpoints, List<Event> events, long lastSeq,
                              Map<String, Optional<String>> settings, StoreReads.StoreCounts counts,
                              List<Long> toReconcile) {
    }

    protected Snapshot snapshot(long experimentId) {
        Map<String, Optional<String>> settings = new LinkedHashMap<>();
        for (String key : List.of("k", "k2")) {
            settings.put(key, store.setting(key));
        }
        return new Snapshot(store.experiments(all().withDeleted(true)).items(),
                store.jobs(new JobQuery(null, null, null, null, 10_000, 0)).items(), store.groups(),
                store.checkpoints(experimentId, 100), store.events(EventQuery.after(0, 10_000)),
                store.lastEventSeq(), settings, store.counts(), store.experimentIdsToReconcile());
    }

    // ---- groups ----

    @Test
    void insertedGroupsGetIdsAndGoLast() {
        Experiment a = create("a");
        Experiment b = create("b");

        Group first = store.write(tx -> tx.insertGroup(new Group(0, "first", "ppo_", List.of("lr", "layers"), 99,
                true, List.of(b.id(), a.id()))));
        Group second = store.write(tx -> tx.insertGroup(Group.named("second")));

        assertThat(first.id()).isPositive();
        assertThat(second.id()).isNotEqualTo(first.id());
        assertThat(second.order()).isGreaterThan(first.order());
        assertThat(first.namePrefix()).isEqualTo("ppo_");
        assertThat(first.flags()).containsExactly("lr", "layers");
        assertThat(first.collapsed()).isTrue();
        assertThat(first.experimentIds()).containsExactly(b.id(), a.id());
        assertThat(store.groups()).containsExactly(first, second);
        assertThat(store.group(first.id())).contains(first);
    }

    @Test
    void updateGroupWritesItsFieldsAndMembersInOrder() {
        Experiment a = create("a");
        Experiment b = create("b");
        Experiment c = create("c");
        Group g = store.write(tx -> tx.insertGroup(Group.named("g").withExperimentIds(List.of(a.id(), b.id()))));
        Group changed = g.withName("renamed").withNamePrefix("x_").withFlags(List.of("lr")).withCollapsed(true)
                .withOrder(7).withExperimentIds(List.of(c.id(), a.id()));

        store.write(tx -> tx.updateGroup(changed));

        assertThat(store.group(g.id())).contains(changed);
    }

    @Test
    void groupsAreListedInOrder() {
        Group a = store.write(tx -> tx.insertGroup(Group.named("a")));
        Group b = store.write(tx -> tx.insertGroup(Group.named("b")));
        Group c = store.write(tx -> tx.insertGroup(Group.named("c")));
        store.write(tx -> tx.updateGroup(a.withOrder(10)));

        assertThat(store.groups()).extracting(Group::name).containsExactly("b", "c", "a");
        assertThat(store.groups()).extracting(Group::id).containsExactly(b.id(), c.id(), a.id());
    }

    @Test
    void anExperimentMayBeInSeveralGroups() {
        Experiment a = create("a");
        Group g1 = store.write(tx -> tx.insertGroup(Group.named("g1").withExperimentIds(List.of(a.id()))));
        Group g2 = store.write(tx -> tx.insertGroup(Group.named("g2").withExperimentIds(List.of(a.id()))));

        assertThat(store.group(g1.id()).orElseThrow().experimentIds()).containsExactly(a.id());
        assertThat(store.group(g2.id()).orElseThrow().experimentIds()).containsExactly(a.id());
    }

    @Test
    void deletingAGroupKeepsItsExperiments() {
        Experiment a = create("a");
        Group g = store.write(tx -> tx.insertGroup(Group.named("g").withExperimentIds(List.of(a.id()))));

        store.write(tx -> {
            tx.deleteGroup(g.id());
            return null;
        });

        assertThat(store.group(g.id())).isEmpty();
        assertThat(store.groups()).isEmpty();
        assertThat(reload(a)).isEqualTo(a);
    }

    @Test
    void updatingOrDeletingAMissingGroupIsNotFound() {
        assertThatThrownBy(() -> store.write(tx -> tx.updateGroup(new Group(777, "x", null, null, 0, false, null))))
                .isInstanceOf(SkyDeckException.NotFound.class);
        assertThatThrownBy(() -> store.write(tx -> {
            tx.deleteGroup(777);
            return null;
        })).isInstanceOf(SkyDeckException.NotFound.class);
        assertThat(store.group(777)).isEmpty();
    }

    @Test
    void aGroupMemberMustBeAnExistingExperiment() {
        assertThatThrownBy(() -> store.write(tx -> tx.insertGroup(Group.named("g").withExperimentIds(List.of(4242L)))))
                .isInstanceOf(SkyDeckException.NotFound.class);
        assertThat(store.groups()).isEmpty();
    }

    // ---- checkpoints ----

    @Test
    void checkpointsRoundTripHighestEpochFirst() {
        Experiment e = create("a");
        Checkpoint one = checkpoint(e.id(), 1, null);
        Checkpoint ten = checkpoint(e.id(), 10, at(50));
        Checkpoint two = checkpoint(e.id(), 2, null);
        store.write(tx -> {
            tx.upsertCheckpoint(one);
            tx.upsertCheckpoint(ten);
            tx.upsertCheckpoint(two);
            return null;
        });

        assertThat(store.checkpoints(e.id(), 10)).containsExactly(ten, two, one);
        assertThat(store.checkpoints(e.id(), 2)).containsExactly(ten, two);
    }

    @Test
    void upsertReplacesTheCheckpointOfTheSameEpoch() {
        Experiment e = create("a");
        store.write(tx -> {
            tx.upsertCheckpoint(checkpoint(e.id(), 3, null));
            return null;
        });
        Checkpoint gone = checkpoint(e.id(), 3, at(99));

        store.write(tx -> {
            tx.upsertCheckpoint(gone);
            return null;
        });

        assertThat(store.checkpoints(e.id(), 10)).containsExactly(gone);
    }

    @Test
    void checkpointsAreKeptPerExperiment() {
        Experiment a = create("a");
        Experiment b = create("b");
        store.write(tx -> {
            tx.upsertCheckpoint(checkpoint(a.id(), 1, null));
            tx.upsertCheckpoint(checkpoint(b.id(), 1, null));
            tx.upsertCheckpoint(checkpoint(b.id(), 2, null));
            return null;
        });

        assertThat(store.checkpoints(a.id(), 10)).hasSize(1);
        assertThat(store.checkpoints(b.id(), 10)).hasSize(2);
        assertThat(store.checkpoints(12345, 10)).isEmpty();
    }

    @Test
    void aCheckpointMustBelongToAnExistingExperiment() {
        assertThatThrownBy(() -> store.write(tx -> {
            tx.upsertCheckpoint(checkpoint(4242, 1, null));
            return null;
        })).isInstanceOf(SkyDeckException.NotFound.class);
    }

    @Test
    void aCheckpointWithoutReplaysRoundTrips() {
        Experiment e = create("a");
        Checkpoint c = new Checkpoint(e.id(), 0, "file:/tmp/model_0.pt", List.of(), null, 0, T0, T0, null);

        store.write(tx -> {
            tx.upsertCheckpoint(c);
            return null;
        });

        assertThat(store.checkpoints(e.id(), 1)).containsExactly(c);
    }

    // ---- events ----

    @Test
    void appendedEventsGetIncreasingSequenceNumbers() {
        Experiment e = create("a");

        List<Event> appended = store.write(tx -> List.of(tx.appendEvent(event(e, "one")),
                tx.appendEvent(event(e, "two"))));
        Event third = store.write(tx -> tx.appendEvent(event(null, "three")));

        assertThat(appended.get(0).seq()).isPositive();
        assertThat(appended.get(1).seq()).isGreaterThan(appended.get(0).seq());
        assertThat(third.seq()).isGreaterThan(appended.get(1).seq());
        assertThat(store.lastEventSeq()).isEqualTo(third.seq());
    }

    @Test
    void everyEventFieldRoundTrips() {
        Experiment e = create("a");
        Event draft = new Event(0, at(3), Actor.RECONCILER, EventType.LAUNCH_FAILED, e.id(), "a", "job-1", false,
                "launch failed", "HTTP 400: bad request");

        Event stored = store.write(tx -> tx.appendEvent(draft));

        assertThat(stored).isEqualTo(draft.withSeq(stored.seq()));
        assertThat(store.events(EventQuery.after(0, 10))).containsExactly(stored);
    }

    @Test
    void anEventWithoutExperimentRoundTrips() {
        Event draft = Event.draft(T0, Actor.POLLER, EventType.ERROR, null, null, false, "poll failed", null);

        Event stored = store.write(tx -> tx.appendEvent(draft));

        assertThat(store.events(EventQuery.latest(1))).containsExactly(stored);
    }

    @Test
    void eventsAfterASequenceNumberComeOldestFirst() {
        List<Event> all = appendEvents(5, null);

        assertThat(store.events(EventQuery.after(all.get(1).seq(), 2))).containsExactly(all.get(2), all.get(3));
        assertThat(store.events(EventQuery.after(all.get(4).seq(), 10))).isEmpty();
    }

    @Test
    void theNewestEventsComeNewestFirst() {
        List<Event> all = appendEvents(5, null);

        assertThat(store.events(EventQuery.latest(3))).containsExactly(all.get(4), all.get(3), all.get(2));
    }

    @Test
    void eventsOfOneExperiment() {
        Experiment a = create("a");
        Experiment b = create("b");
        List<Event> ofA = new ArrayList<>();
        store.write(tx -> {
            for (int i = 0; i < 3; i++) {
                ofA.add(tx.appendEvent(event(a, "a" + i)));
                tx.appendEvent(event(b, "b" + i));
            }
            return null;
        });

        assertThat(store.events(new EventQuery(0, a.id(), 10, false))).containsExactlyElementsOf(ofA);
        assertThat(store.events(new EventQuery(0, a.id(), 2, true))).containsExactly(ofA.get(2), ofA.get(1));
        assertThat(store.events(new EventQuery(ofA.get(0).seq(), a.id(), 10, false)))
                .containsExactly(ofA.get(1), ofA.get(2));
    }

    @Test
    void anEmptyLogHasSequenceZero() {
        assertThat(store.lastEventSeq()).isZero();
        assertThat(store.events(EventQuery.latest(10))).isEmpty();
    }

    private List<Event> appendEvents(int count, Experiment e) {
        return store.write(tx -> {
            List<Event> out = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                out.add(tx.appendEvent(event(e, "event " + i)));
            }
            return out;
        });
    }

    // ---- settings and counts ----

    @Test
    void settingsAreStoredAndOverwritten() {
        store.write(tx -> {
            tx.putSetting("theme", "dark");
            return null;
        });
        store.write(tx -> {
            tx.putSetting("theme", "light");
            return null;
        });

        assertThat(store.setting("theme")).contains("light");
        assertThat(store.setting("missing")).isEmpty();
    }

    @Test
    void countsAreLiveExperimentsAndActiveJobs() {
        create("a");
        Experiment b = create("b");
        store.write(tx -> tx.updateExperiment(b.withDeleted(true), at(1)));
        insert(job("j1", "a", JobStatus.RUNNING, at(1)));
        insert(job("j2", "a", JobStatus.FAILED, at(2)));
        insert(job("j3", "orphan", JobStatus.PENDING, at(3)));

        assertThat(store.counts()).isEqualTo(new StoreReads.StoreCounts(1, 2));
    }

    // ---- concurrency ----

    @Test
    void concurrentWritersLoseNoUpdate() throws Exception {
        Experiment e = create(ExperimentSpec.named("counter").flag("n", 0L), T0);
        int threads = 8;
        int writesEach = 40;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Callable<List<Long>>> work = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                work.add(() -> {
                    List<Long> seqs = new ArrayList<>();
                    for (int i = 0; i < writesEach; i++) {
                        seqs.add(store.write(tx -> {
                            Experiment cur = tx.experiment(e.id()).orElseThrow();
                            long n = (Long) cur.flags().get("n");
                            tx.updateExperiment(cur.withSpec(cur.spec().flag("n", n + 1)), at(1));
                            return tx.appendEvent(event(cur, "n=" + (n + 1))).seq();
                        }));
                    }
                    return seqs;
                });
            }
            List<Long> seqs = new ArrayList<>();
            for (Future<List<Long>> f : pool.invokeAll(work)) {
                seqs.addAll(f.get());
            }

            Experiment read = reload(e);
            assertThat(read.flags().get("n")).isEqualTo((long) threads * writesEach);
            assertThat(read.version()).isEqualTo(1L + threads * writesEach);
            assertThat(seqs).doesNotHaveDuplicates().hasSize(threads * writesEach);
        } finally {
            pool.shutdownNow();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    // ---- intent, drift and batches (issue 10) ----

    @Test
    void presentationIsWrittenWithoutAVersionOrUpdateTime() {
        Experiment e = create("shown");
        store.write(tx -> {
            tx.updatePresentation(e.id(), true, true, 7);
            return null;
        });
        Experiment read = reload(e);
        assertThat(read.starred()).isTrue();
        assertThat(read.expanded()).isTrue();
        assertThat(read.order()).isEqualTo(7);
        assertThat(read.version()).isEqualTo(e.version());
        assertThat(read.updatedAt()).isEqualTo(e.updatedAt());
        assertThatThrownBy(() -> store.write(tx -> {
            tx.updatePresentation(e.id() + 1000, true, false, 0);
            return null;
        })).isInstanceOf(SkyDeckException.NotFound.class);
    }

    @Test
    void experimentsByNameFindsLiveOnesInOneRead() {
        Experiment a = create("a");
        Experiment b = create("b");
        store.write(tx -> tx.updateExperiment(b.withDeleted(true), at(1)));

        Map<String, Experiment> found = store.experimentsByName(List.of("a", "b", "c", "a"));

        assertThat(found).containsOnlyKeys("a");
        assertThat(found.get("a").id()).isEqualTo(a.id());
        assertThat(store.experimentsByName(List.of())).isEmpty();
    }

    @Test
    void jobsByLaunchIdFindsOnlyKnownIds() {
        Job a = insert(launched("la", "x", JobStatus.RUNNING, at(1)));
        insert(job("other", "y", JobStatus.RUNNING, at(2)));

        assertThat(store.jobsByLaunchId(List.of("la", "nope"))).containsOnlyKeys("la");
        assertThat(store.jobsByLaunchId(List.of("la")).get("la")).isEqualTo(a);
    }

    @Test
    void activeJobStatsCountLaunchingJobsAndGpusInOneRead() {
        insert(launched("init", "a", JobStatus.INIT, at(1), 2, 4, null));
        insert(launched("pending", "b", JobStatus.PENDING, at(2), 1, 1, null));
        insert(launched("running", "c", JobStatus.RUNNING, at(3), 1, 8, null));
        insert(launched("done", "d", JobStatus.SUCCEEDED, at(4), 4, 8, null));

        StoreReads.ActiveJobs stats = store.activeJobStats("local");

        assertThat(stats.active()).isEqualTo(3);
        assertThat(stats.launching()).isEqualTo(2);
        assertThat(stats.gpus()).isEqualTo(2 * 4 + 1 + 8);
    }

    @Test
    void activeJobStatsCountOnlyTheGivenBackendsJobs() {
        insert(launched("here", "a", JobStatus.RUNNING, at(1), 1, 8, null));
        Job there = launched("there", "b", JobStatus.PENDING, at(2), 4, 8, null);
        insert(new Job(there.id(), there.experimentName(), "skypilot", "9588", there.launchId(), null, there.status(),
                null, null, null, null, null, 1, 1, null, null, 4, 8, null, null, null, there.createdAt(), null, null,
                null, null, 0, null, null, null, null, null));

        assertThat(store.activeJobStats("local")).isEqualTo(new StoreReads.ActiveJobs(1, 0, 8));
        assertThat(store.activeJobStats("skypilot")).isEqualTo(new StoreReads.ActiveJobs(1, 1, 32));
        assertThat(store.activeJobStats("fake")).isEqualTo(new StoreReads.ActiveJobs(0, 0, 0));
    }

    /** A job SkyDeck launched, on {@code nodes} × {@code gpus}, from a spec with {@code configHash}. */
    protected static Job launched(String id, String experimentName, JobStatus status, Instant createdAt, int nodes,
                                  int gpus, String configHash) {
        return new Job(id, experimentName, "local", null, id, null, status, null, null, null, null, null, 1, 1, null,
                null, nodes, gpus, null, null, configHash, createdAt, null, null, null, null, 0, null, null, null,
                null, null);
    }

    @Test
    void aCancelRequestIsKeptWithTheJob() {
        Job j = insert(launched("c1", "a", JobStatus.RUNNING, at(1)));
        Job asked = j.withCancel(JobCancel.requested(at(2), Actor.USER), at(2));
        store.write(tx -> tx.updateJob(asked));
        assertThat(store.job("c1").orElseThrow().cancel()).isEqualTo(new JobCancel(at(2), Actor.USER, null, 0));

        Job sent = asked.withCancel(asked.cancel().sent(at(3)), at(3));
        store.write(tx -> tx.updateJob(sent));
        assertThat(store.job("c1").orElseThrow().cancel()).isEqualTo(new JobCancel(at(2), Actor.USER, at(3), 1));
    }

    @Test
    void orphanedCancelsAreActiveJobsWithACancelAndNoLiveExperiment() {
        create("owned");
        insert(job("o1", "gone", JobStatus.RUNNING, at(1)).withCancel(JobCancel.requested(at(5), Actor.USER), at(5)));
        insert(job("o2", "gone", JobStatus.RUNNING, at(2)));
        insert(job("o3", "owned", JobStatus.RUNNING, at(3)).withCancel(JobCancel.requested(at(4), Actor.USER), at(4)));
        insert(job("o4", "gone", JobStatus.CANCELLED, at(4)).withCancel(JobCancel.requested(at(4), Actor.USER), at(4)));

        assertThat(store.orphanedCancels()).extracting(Job::id).containsExactly("o1");
    }

    @Test
    void aDriftedExperimentsActiveLaunchRanAnotherConfiguration() {
        Experiment e = create(ExperimentSpec.named("d").flag("lr", 3.0), T0);
        Job j = insert(launched("dj", "d", JobStatus.RUNNING, at(1), 1, 0, e.spec().configHash()));
        assertThat(reload(e).drifted()).isFalse();

        Experiment edited = store.write(tx -> tx.updateExperiment(e.withSpec(e.spec().flag("lr", 3L)), at(2)));
        assertThat(edited.drifted()).isTrue();
        assertThat(reload(e).drifted()).isTrue();
        assertThat(store.experiments(ExperimentQuery.ALL).items()).singleElement()
                .satisfies(x -> assertThat(x.drifted()).isTrue());

        store.write(tx -> tx.updateJob(withStatus(j, JobStatus.SUCCEEDED, at(3))));
        assertThat(reload(e).drifted()).isFalse(); // nothing runs, nothing drifts
    }

    @Test
    void aLaunchRequestInFlightAndAPoolAreKept() {
        Experiment e = create(ExperimentSpec.named("pooled").resources(Resources.ANY.withPool("warm-h100")), T0);
        assertThat(reload(e).spec().resources().pool()).isEqualTo("warm-h100");
        Job intent = insert(launched("inflight", "pooled", JobStatus.INIT, at(1)));
        Job requested = intent.submittedAs("req-3f0c", "waiting for the jobs controller", at(2));
        store.write(tx -> tx.updateJob(requested));
        Job read = store.job("inflight").orElseThrow();
        assertThat(read.launchRef()).isEqualTo("req-3f0c");
        assertThat(read.launchInFlight()).isTrue();
        assertThat(read.details()).isEqualTo("waiting for the jobs controller");
        assertThat(read.submittedAt()).isEqualTo(at(2));
        store.write(tx -> tx.updateJob(read.submitted("77", at(3))));
        assertThat(store.job("inflight").orElseThrow().launchRef()).isNull();
    }

    @Test
    void theDesiredStateAPassActedOnIsKept() {
        Experiment e = create("observed");
        ExperimentStatus s = new ExperimentStatus(null, "stopping", 1, DesiredState.STOPPED, 0, null, false);
        store.write(tx -> {
            tx.updateStatus(e.id(), s);
            return null;
        });
        assertThat(reload(e).status()).isEqualTo(s);
    }

    @Test
    void manyJobsAreUpdatedInOneBatchOrNotAtAll() {
        List<Job> jobs = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            jobs.add(insert(launched("b" + i, "e" + i, JobStatus.RUNNING, at(i))));
        }
        List<Job> ended = jobs.stream().map(j -> withStatus(j, JobStatus.SUCCEEDED, at(60))).toList();

        store.write(tx -> {
            tx.updateJobs(ended);
            return null;
        });
        assertThat(store.jobs(JobQuery.RECENT).items()).allMatch(j -> j.status() == JobStatus.SUCCEEDED);

        List<Job> withGhost = new ArrayList<>(List.of(withStatus(ended.get(0), JobStatus.FAILED, at(61))));
        withGhost.add(job("ghost", "x", JobStatus.FAILED, at(61)));
        assertThatThrownBy(() -> store.write(tx -> {
            tx.updateJobs(withGhost);
            return null;
        })).isInstanceOf(SkyDeckException.NotFound.class);
        assertThat(store.job("b0").orElseThrow().status()).isEqualTo(JobStatus.SUCCEEDED);
    }

    @Test
    void manyEventsAreAppendedInOrderWithConsecutiveNumbers() {
        Experiment e = create("noisy");
        List<Event> drafts = new ArrayList<>();
        for (int i = 0; i < 2500; i++) {
            drafts.add(event(e, "event " + i));
        }
        long before = store.lastEventSeq();

        List<Event> appended = store.write(tx -> tx.appendEvents(drafts));

        assertThat(appended).extracting(Event::seq).containsExactlyElementsOf(
                java.util.stream.LongStream.rangeClosed(before + 1, before + 2500).boxed().toList());
        assertThat(appended.get(7).message()).isEqualTo("event 7");
        assertThat(store.events(EventQuery.after(before, 10_000))).extracting(Event::message)
                .containsExactlyElementsOf(drafts.stream().map(Event::message).toList());
    }

    @Test
    void aReaderTailingTheLogNeverSeesAGapWhileManyWrite() throws Exception {
        Experiment e = create("tailed");
        long start = store.lastEventSeq();
        ExecutorService pool = Executors.newFixedThreadPool(9);
        try {
            List<Future<?>> writers = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                writers.add(pool.submit(() -> {
                    for (int i = 0; i < 100; i++) {
                        store.write(tx -> tx.appendEvent(event(e, "x")));
                    }
                }));
            }
            List<Long> seen = new ArrayList<>();
            Future<?> tail = pool.submit(() -> {
                long last = start;
                while (last < start + 800) {
                    for (Event ev : store.events(EventQuery.after(last, 1000))) {
                        seen.add(ev.seq());
                        last = ev.seq();
                    }
                }
            });
            for (Future<?> w : writers) {
                w.get(60, TimeUnit.SECONDS);
            }
            tail.get(60, TimeUnit.SECONDS);
            assertThat(seen).containsExactlyElementsOf(
                    java.util.stream.LongStream.rangeClosed(start + 1, start + 800).boxed().toList());
        } finally {
            pool.shutdownNow();
        }
    }

    // ---- users ----

    @Test
    void anExperimentRemembersWhoCreatedItAndWhoStartedIt() {
        Experiment stopped = store.write(tx -> tx.insertExperiment(ExperimentSpec.named("by-alice"), T0, "alice"));
        Experiment running = store.write(tx -> tx.insertExperiment(
                ExperimentSpec.named("running").desired(DesiredState.RUNNING), T0, "alice"));

        assertThat(stopped.createdBy()).isEqualTo("alice");
        assertThat(stopped.startedBy()).isNull();
        assertThat(running.startedBy()).isEqualTo("alice");
        assertThat(reload(stopped)).isEqualTo(stopped);

        Experiment started = stopped.withDesired(DesiredState.RUNNING).changedBy("bob", stopped);
        Experiment written = store.write(tx -> tx.updateExperiment(started, at(1)));
        assertThat(written.createdBy()).as("the creator never changes").isEqualTo("alice");
        assertThat(written.startedBy()).isEqualTo("bob");
        assertThat(reload(written).startedBy()).isEqualTo("bob");
    }

    @Test
    void mineFiltersExperimentsByCreatorAndJobsByLauncher() {
        Experiment a = store.write(tx -> tx.insertExperiment(ExperimentSpec.named("a"), T0, "alice"));
        store.write(tx -> tx.insertExperiment(ExperimentSpec.named("b"), T0, "bob"));
        create("nobody");
        Job ja = insert(launched("ja", "a", JobStatus.RUNNING, at(1)).withLauncher("alice"));
        insert(launched("jb", "b", JobStatus.RUNNING, at(2)).withLauncher("bob"));

        assertThat(store.experiments(ExperimentQuery.ALL.withCreatedBy("alice")).items()).extracting(Experiment::id)
                .containsExactly(a.id());
        assertThat(store.experiments(ExperimentQuery.ALL.withCreatedBy("alice")).total()).isEqualTo(1);
        assertThat(store.jobs(JobQuery.RECENT.withLaunchedBy("alice")).items()).containsExactly(ja);
        assertThat(store.job("ja").orElseThrow().launchedBy()).isEqualTo("alice");
        assertThat(store.experiments(ExperimentQuery.ALL).total()).isEqualTo(3);
    }

    @Test
    void anEventKeepsTheUserWhoActed() {
        Experiment e = create("acted");
        Event stored = store.write(tx -> tx.appendEvent(event(e, "started").byUser("alice")));
        assertThat(store.events(EventQuery.latest(1))).containsExactly(stored);
        assertThat(stored.user()).isEqualTo("alice");
    }

    @Test
    void tokensAreFoundByHashListedAndRevoked() {
        ApiToken alice = new ApiToken("tok_a", "alice", T0, null);
        ApiToken bob = new ApiToken("tok_b", "bob", at(1), null);
        store.write(tx -> {
            tx.insertToken(alice, "aa11");
            tx.insertToken(bob, "bb22");
            return null;
        });

        assertThat(store.tokenByHash("aa11")).contains(alice);
        assertThat(store.tokenByHash("cc33")).isEmpty();
        assertThat(store.tokens()).containsExactly(alice, bob);

        assertThat(revoke("tok_a", at(5))).isTrue();
        assertThat(revoke("tok_a", at(6))).as("already revoked").isFalse();
        assertThat(revoke("tok_none", at(6))).isFalse();
        assertThat(store.tokenByHash("aa11").orElseThrow().revokedAt()).isEqualTo(at(5));
        assertThat(store.tokenByHash("aa11").orElseThrow().valid()).isFalse();
        assertThat(store.tokenByHash("bb22").orElseThrow().valid()).isTrue();
    }

    @Test
    void aTokenIdOrHashIsStoredOnce() {
        store.write(tx -> {
            tx.insertToken(new ApiToken("tok_a", "alice", T0, null), "aa11");
            return null;
        });
        assertThatThrownBy(() -> store.write(tx -> {
            tx.insertToken(new ApiToken("tok_b", "bob", T0, null), "aa11");
            return null;
        })).isInstanceOf(SkyDeckException.Conflict.class);
        assertThatThrownBy(() -> store.write(tx -> {
            tx.insertToken(new ApiToken("tok_a", "bob", T0, null), "dd44");
            return null;
        })).isInstanceOf(SkyDeckException.Conflict.class);
        assertThat(store.tokens()).hasSize(1);
    }

    // ---- leases ----

    private boolean holds(String name, String holder, long token, Instant now) {
        Boolean held = store.write(tx -> tx.holdsLease(name, holder, token, now));
        return held;
    }

    private boolean revoke(String id, Instant now) {
        Boolean revoked = store.write(tx -> tx.revokeToken(id, now));
        return revoked;
    }

    /** Whether the store measures leases by its own clock (a database server's) rather than the caller's. */
    protected boolean leasesUseTheStoresClock() {
        return false;
    }

    @Test
    void aFreeLeaseIsTakenAndItsHolderRenewsIt() {
        Duration ttl = Duration.ofSeconds(10);
        Lease first = store.write(tx -> tx.acquireLease("engine", "a", ttl, T0, 0));
        assertThat(first.holder()).isEqualTo("a");
        assertThat(first.token()).isEqualTo(1);
        assertThat(store.lease("engine")).contains(first);

        Lease renewed = store.write(tx -> tx.acquireLease("engine", "a", ttl, at(5), 0));
        assertThat(renewed.token()).as("renewing keeps the token").isEqualTo(1);
        if (!leasesUseTheStoresClock()) {
            assertThat(renewed.expiresAt()).isEqualTo(at(15));
        }
        assertThat(holds("engine", "a", 1, at(6))).isTrue();
        assertThat(holds("engine", "b", 1, at(6))).isFalse();
        assertThat(holds("engine", "a", 2, at(6))).isFalse();
        assertThat(store.lease("other")).isEmpty();
    }

    @Test
    void aHeldLeaseIsRefusedToOthersUntilItLapsesThenTakenWithTheNextToken() {
        assumeThat(leasesUseTheStoresClock()).as("the caller's clock decides lapses").isFalse();
        Duration ttl = Duration.ofSeconds(10);
        store.write(tx -> tx.acquireLease("engine", "a", ttl, T0, 0));

        Lease refused = store.write(tx -> tx.acquireLease("engine", "b", ttl, at(9), 0));
        assertThat(refused.holder()).isEqualTo("a");

        Lease taken = store.write(tx -> tx.acquireLease("engine", "b", ttl, at(10), 0));
        assertThat(taken.holder()).isEqualTo("b");
        assertThat(taken.token()).isEqualTo(2);
        assertThat(holds("engine", "a", 1, at(10))).as("the old holder is fenced").isFalse();
        assertThat(holds("engine", "b", 2, at(11))).isTrue();
        assertThat(holds("engine", "b", 2, at(20))).as("lapsed").isFalse();
    }

    @Test
    void aLeaseOfAHolderKnownToBeGoneIsTakenAtOnceAndAReleasedOneIsFree() {
        Duration ttl = Duration.ofHours(1);
        Lease a = store.write(tx -> tx.acquireLease("engine", "a", ttl, T0, 0));

        assertThat(store.write(tx -> tx.acquireLease("engine", "b", ttl, at(1), 99)).holder())
                .as("a wrong stale token changes nothing").isEqualTo("a");
        Lease b = store.write(tx -> tx.acquireLease("engine", "b", ttl, at(1), a.token()));
        assertThat(b.holder()).isEqualTo("b");
        assertThat(b.token()).isEqualTo(a.token() + 1);

        store.write(tx -> {
            tx.releaseLease("engine", "a", at(2));
            return null;
        });
        assertThat(store.lease("engine").orElseThrow().holder()).as("only the holder releases").isEqualTo("b");
        store.write(tx -> {
            tx.releaseLease("engine", "b", at(2));
            return null;
        });
        Lease c = store.write(tx -> tx.acquireLease("engine", "c", ttl, at(3), 0));
        assertThat(c.holder()).isEqualTo("c");
        assertThat(c.token()).isEqualTo(b.token() + 1);
    }

    // ---- experiments: paged queries (sort by any column, filters, facets, group summaries) ----

    /** Creates an experiment with flags given as name, value pairs. */
    private Experiment withFlags(String name, Object... nameValues) {
        ExperimentSpec spec = ExperimentSpec.named(name);
        for (int i = 0; i < nameValues.length; i += 2) {
            spec = spec.flag((String) nameValues[i], nameValues[i + 1]);
        }
        ExperimentSpec s = spec;
        return store.write(tx -> tx.insertExperiment(s, T0));
    }

    /** Gives {@code e} a latest job in {@code status}, started at {@code started} (or not started). */
    private void latestJob(Experiment e, String id, JobStatus status, Instant created, Instant started) {
        Job j = insert(launched(id, e.name(), JobStatus.PENDING, created));
        Job observed = j.observe(new JobObservation(status, status.name(), null, null, JobStage.of(status), started,
                status.isTerminal() ? created.plusSeconds(1) : null, null, 0, null, null, null), created);
        store.write(tx -> tx.updateJob(observed));
    }

    @Test
    void querySortsByStateNameThenTheUsersOrder() {
        Experiment a = create("a");
        Experiment b = create("b");
        Experiment c = create("c");
        Experiment d = create("d");
        latestJob(b, "jb", JobStatus.RUNNING, at(1), at(2));
        latestJob(c, "jc", JobStatus.FAILED, at(1), at(2));
        latestJob(d, "jd", JobStatus.RUNNING, at(1), at(2));

        assertThat(names(all().sortedBy(ExperimentQuery.Sort.STATE, false))).containsExactly("c", "a", "b", "d");
        assertThat(names(all().sortedBy(ExperimentQuery.Sort.STATE, true))).containsExactly("d", "b", "a", "c");
        assertThat(a.id()).isPositive();
    }

    @Test
    void querySortsByLatestEpochWithExperimentsWithoutCheckpointsLastBothWays() {
        Experiment a = create("a");
        create("b");
        Experiment c = create("c");
        Experiment d = create("d");
        store.write(tx -> {
            tx.upsertCheckpoint(checkpoint(a.id(), 3, null));
            tx.upsertCheckpoint(checkpoint(c.id(), 1, null));
            tx.upsertCheckpoint(checkpoint(c.id(), 9, at(3))); // gone: not the latest epoch
            tx.upsertCheckpoint(checkpoint(d.id(), 3, null));
            return null;
        });

        assertThat(names(all().sortedBy(ExperimentQuery.Sort.EPOCH, false))).containsExactly("c", "a", "d", "b");
        assertThat(names(all().sortedBy(ExperimentQuery.Sort.EPOCH, true))).containsExactly("d", "a", "c", "b");
    }

    @Test
    void querySortsByWhenTheLatestJobStartedWithUnstartedOnesLast() {
        Experiment a = create("a");
        Experiment b = create("b");
        create("c");
        Experiment d = create("d");
        latestJob(a, "ja1", JobStatus.FAILED, at(1), at(50));
        latestJob(a, "ja2", JobStatus.RUNNING, at(10), at(20)); // the latest job counts, not the earliest start
        latestJob(b, "jb", JobStatus.RUNNING, at(1), at(30));
        latestJob(d, "jd", JobStatus.PENDING, at(1), null);

        assertThat(names(all().sortedBy(ExperimentQuery.Sort.STARTED_AT, false))).containsExactly("a", "b", "c", "d");
        assertThat(names(all().sortedBy(ExperimentQuery.Sort.STARTED_AT, true))).containsExactly("b", "a", "d", "c");
    }

    @Test
    void querySortsByAFlagNumbersNumericallyBeforeStringsAndMissingLast() {
        withFlags("ten", "lr", 10L);
        withFlags("tenth", "lr", 0.1);
        withFlags("none");
        withFlags("two", "lr", 2L);
        withFlags("str-b", "lr", "b");
        withFlags("str-a", "lr", "a");
        withFlags("yes", "lr", true);
        withFlags("two-again", "lr", 2.0);

        assertThat(names(all().sortedByFlag("lr", false)))
                .containsExactly("tenth", "two", "two-again", "ten", "str-a", "str-b", "yes", "none");
        assertThat(names(all().sortedByFlag("lr", true)))
                .containsExactly("yes", "str-b", "str-a", "ten", "two-again", "two", "tenth", "none");
    }

    @Test
    void queryPagesSortedByAFlagAcrossTheExperimentsWithoutIt() {
        withFlags("n1");
        withFlags("v2", "x", 2L);
        withFlags("n2");
        withFlags("v1", "x", 1L);

        assertThat(names(all().sortedByFlag("x", false).page(2, 1))).containsExactly("v2", "n1");
        assertThat(names(all().sortedByFlag("x", true).page(2, 1))).containsExactly("v1", "n2");
        assertThat(store.experiments(all().sortedByFlag("x", true).page(2, 3)).total()).isEqualTo(4);
    }

    @Test
    void pagesSortedByAFlagWhenThousandsMatchFollowTheSameOrderAsAFewDo() {
        // 6,000 experiments: past the 5,000 matches from which a store reads a flag-sorted page from
        // an index instead of sorting the matches. Numbers, text, booleans, ties and experiments
        // without the flag; then moved (the ties follow the user's order), some flags changed after
        // the move, some deleted.
        List<Experiment> made = store.write(tx -> {
            List<Experiment> out = new ArrayList<>();
            for (int i = 0; i < 6_000; i++) {
                ExperimentSpec spec = ExperimentSpec.named("s" + i);
                spec = switch (i % 6) {
                    case 0 -> spec.flag("x", (long) (i % 7));
                    case 1 -> spec.flag("x", (i % 11) * 0.5);
                    case 2 -> spec.flag("x", "t" + (i % 5));
                    case 3 -> spec.flag("x", i % 4 == 3);
                    case 4 -> spec.flag("y", 1L);
                    default -> spec.flag("x", (long) (i % 13)).flag("model", "m" + (i / 6 % 3));
                };
                out.add(tx.insertExperiment(spec, T0));
            }
            return out;
        });
        store.write(tx -> {
            List<Long> moved = new ArrayList<>();
            for (int i = 0; i < made.size(); i++) {
                moved.add(made.get(i * 7_919 % made.size()).id());
            }
            tx.reorderExperiments(moved);
            for (int i = 0; i < made.size(); i += 97) {
                Experiment e = tx.experiment(made.get(i).id()).orElseThrow();
                tx.updateExperiment(i % 2 == 0 ? e.withDeleted(true) : e.withSpec(e.spec().flag("x", 3L)), T0);
            }
            return null;
        });
        List<Experiment> live = store.experiments(all()).items();
        assertThat(live).hasSizeBetween(5_900, 5_990);

        // every one; a text every name holds; a flag's values or its absence (thousands either way)
        Map<ExperimentQuery, java.util.function.Predicate<Experiment>> queries = Map.of(all(), e -> true,
                all().withText("s"), e -> true,
                all().withFlag("model", List.of("m0", "m1", ExperimentQuery.MISSING)),
                e -> !"m2".equals(e.spec().flags().get("model")));
        for (boolean desc : new boolean[] {false, true}) {
            for (Map.Entry<ExperimentQuery, java.util.function.Predicate<Experiment>> query : queries.entrySet()) {
                ExperimentQuery q = query.getKey();
                List<Experiment> matching = live.stream().filter(query.getValue()).toList();
                List<String> expected = matching.stream().sorted(byFlag("x", desc)).map(Experiment::name).toList();
                assertThat(matching).hasSizeGreaterThan(5_000);
                long with = matching.stream().filter(e -> e.spec().flags().containsKey("x")).count();
                for (int offset : new int[] {0, 2_345, (int) with - 40, (int) with + 10, expected.size() - 30}) {
                    Page<Experiment> page = store.experiments(q.sortedByFlag("x", desc).page(100, offset));
                    assertThat(page.total()).isEqualTo(expected.size());
                    assertThat(page.items()).extracting(Experiment::name).as("%s desc %s offset %d", q, desc, offset)
                            .isEqualTo(expected.subList(offset, Math.min(offset + 100, expected.size())));
                }
                // the user's order under the same filter, past the start
                assertThat(names(q.page(100, 3_000))).isEqualTo(matching.stream().skip(3_000).limit(100)
                        .map(Experiment::name).toList());
            }
        }
    }

    @Test
    void theTotalOfAOneFlagFilterCountsTheLiveExperimentsWithThoseValuesOrWithoutTheFlag() {
        List<Experiment> made = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            made.add(i % 5 == 4 ? withFlags("n" + i, "other", 1L) : withFlags("n" + i, "lr", i % 3 * 0.1, "k", "v" + i % 2));
        }
        store.write(tx -> {
            for (int i = 0; i < made.size(); i += 3) {
                tx.updateExperiment(tx.experiment(made.get(i).id()).orElseThrow().withDeleted(true), T0);
            }
            Experiment back = tx.experiment(made.get(3).id()).orElseThrow();
            tx.updateExperiment(back.withDeleted(false), T0);
            Experiment changed = tx.experiment(made.get(1).id()).orElseThrow();
            tx.updateExperiment(changed.withSpec(changed.spec().flag("lr", 0.5)), T0);
            return null;
        });
        List<Experiment> live = store.experiments(all()).items();
        for (List<String> values : List.of(List.of("0.1"), List.of("0", "0.2"), List.of(ExperimentQuery.MISSING),
                List.of("0.5", ExperimentQuery.MISSING), List.of("no-such-value"), List.of("0.1", "0.1"))) {
            long expected = live.stream().filter(e -> {
                Object v = e.spec().flags().get("lr");
                return v == null ? values.contains(ExperimentQuery.MISSING) : values.contains(ExperimentQuery.flagText(v));
            }).count();
            Page<Experiment> page = store.experiments(all().withFlag("lr", values).page(5, 0));
            assertThat(page.total()).as("lr in %s", values).isEqualTo(expected);
            assertThat(store.experiments(all().withFlag("lr", values).withDeleted(true).page(5, 0)).total())
                    .as("deleted included, lr in %s", values).isGreaterThanOrEqualTo(expected);
        }
    }

    /**
     * The order a sort by a flag promises: numbers by value, then text (booleans as theirs) by code
     * point, both reversed when descending; ties by the user's order then the id, in the same
     * direction; experiments without the flag last either way, in the user's order.
     */
    private static java.util.Comparator<Experiment> byFlag(String flag, boolean desc) {
        java.util.Comparator<Experiment> valued = java.util.Comparator
                .comparing((Experiment e) -> ExperimentQuery.flagNumber(e.spec().flags().get(flag)) == null)
                .thenComparing(e -> ExperimentQuery.flagNumber(e.spec().flags().get(flag)),
                        java.util.Comparator.nullsFirst(java.util.Comparator.<Double>naturalOrder()))
                .thenComparing(e -> ExperimentQuery.flagText(e.spec().flags().get(flag)), StoreContract::byCodePoint)
                .thenComparing(Experiment::order).thenComparing(Experiment::id);
        java.util.Comparator<Experiment> users = java.util.Comparator.comparing(Experiment::order)
                .thenComparing(Experiment::id);
        java.util.Comparator<Experiment> missingLast = java.util.Comparator
                .comparing((Experiment e) -> !e.spec().flags().containsKey(flag));
        return missingLast.thenComparing((a, b) -> !a.spec().flags().containsKey(flag)
                ? (desc ? users.reversed() : users).compare(a, b)
                : (desc ? valued.reversed() : valued).compare(a, b));
    }

    private static int byCodePoint(String a, String b) {
        return java.util.Arrays.compare(a.codePoints().toArray(), b.codePoints().toArray());
    }

    @Test
    void querySortsStringsByCodePointAndBreaksTiesByTheUsersOrderThenId() {
        withFlags("x1", "s", "\uD83D\uDE00"); // above U+FFFF: after U+FFFD in code point order
        withFlags("x2", "s", "\uFFFD");
        withFlags("x3", "s", "B");
        withFlags("x4", "s", "a");
        Experiment tieLate = withFlags("x5", "s", "B");
        Experiment tieEarly = withFlags("x6", "s", "B");
        store.write(tx -> {
            tx.updatePresentation(tieEarly.id(), false, false, -1);
            tx.updatePresentation(tieLate.id(), false, false, -1);
            return null;
        });
        // x5 and x6 share the order -1: the id decides; both come before x3 (order 2)

        assertThat(names(all().sortedByFlag("s", false))).containsExactly("x5", "x6", "x3", "x4", "x2", "x1");
        assertThat(names(all().sortedByFlag("s", true))).containsExactly("x1", "x2", "x4", "x3", "x6", "x5");
    }

    @Test
    void queryTextFindsExactlyTheExperimentsWhoseTextHoldsTheNeedleWhateverItsCharacters() {
        // characters a text index's query language gives a meaning to, Unicode above U+FFFF,
        // case, repeats; then renamed, described again, flags changed and deleted after they were
        // indexed
        List<String> texts = List.of("run \"quoted\" AND NOT-this", "a*b^c:(d) OR e", "50% of_data\\x",
                "Größe-ÄÖÜ straße", "emoji \uD83D\uDE00\uD83D\uDE01 end", "aaaaaa", "it's 'single'", "NEAR(x y)",
                "tab\there", "dup dup dup", "ΟΔΟΣ οδος ǅ");
        List<Experiment> made = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            made.add(create(ExperimentSpec.named("t" + i).description(texts.get(i)).flag("f", texts.get(
                    (i + 3) % texts.size()).toUpperCase(java.util.Locale.ROOT)), T0));
        }
        store.write(tx -> {
            Experiment renamed = tx.experiment(made.get(0).id()).orElseThrow();
            tx.updateExperiment(renamed.withSpec(renamed.spec().name("renamed-xyz").description("fresh words")), T0);
            Experiment reflagged = tx.experiment(made.get(1).id()).orElseThrow();
            tx.updateExperiment(reflagged.withSpec(reflagged.spec().flag("f", "new-flag-value")), T0);
            tx.updateExperiment(tx.experiment(made.get(2).id()).orElseThrow().withDeleted(true), T0);
            return null;
        });
        List<Experiment> every = store.experiments(all().withDeleted(true)).items();
        java.util.Set<String> needles = new java.util.TreeSet<>(List.of("quoted", "\"quoted\"", "and not", "\"", "'",
                "* ", "^c", ":(", ") or", "50%", "%", "_d", "of_", "\\", "größe", "GRÖSSE", "straße", "äöü",
                "\uD83D\uDE00", "\uD83D\uDE00\uD83D\uDE01", "aaa", "aaaaaaa", "near(", "x y)", "\t", "dup dup",
                "renamed-xyz", "fresh", "new-flag", "run \"quoted", "zzz", "ab", "a", "δος", "δοσ", "ΔΟΣ", "ς ǆ", "ǅ"));
        for (String t : texts) {
            int[] points = t.codePoints().toArray(); // whole characters: a needle is text a person typed
            for (int i = 0; i + 4 <= points.length; i += 3) {
                needles.add(new String(points, i, 4));
            }
        }
        for (String needle : needles) {
            for (boolean deleted : new boolean[] {false, true}) {
                String lower = all().withText(needle).searchNeedle(); // as the query takes it (blank: none)
                List<String> expected = every.stream().filter(e -> deleted || !e.deleted())
                        .filter(e -> lower == null || ExperimentQuery.searchText(e.spec()).contains(lower))
                        .map(Experiment::name).sorted().toList();
                assertThat(names(all().withDeleted(deleted).withText(needle).sortedBy(ExperimentQuery.Sort.NAME,
                        false))).as("needle %s, deleted %s", needle, deleted).isEqualTo(expected);
            }
        }
        assertThat(names(all().withText("renamed-xyz"))).containsExactly("renamed-xyz");
        assertThat(names(all().withText("quoted"))).containsExactly("t8");
    }

    @Test
    void queryTextMatchesNamesDescriptionsAndFlagValuesCaseInsensitively() {
        withFlags("Alpha-run", "model", "llama");
        create(ExperimentSpec.named("beta").description("The BASELINE run"), T0);
        withFlags("gamma", "model", "GPT-Neo", "lr", 0.125);
        withFlags("delta", "note.model", "x"); // a flag's name is not its value

        assertThat(names(all().withText("ALPHA"))).containsExactly("Alpha-run");
        assertThat(names(all().withText("baseline"))).containsExactly("beta");
        assertThat(names(all().withText("gpt-neo"))).containsExactly("gamma");
        assertThat(names(all().withText("0.12"))).containsExactly("gamma");
        assertThat(names(all().withText("model"))).isEmpty();
        assertThat(names(all().withText("a"))).containsExactly("Alpha-run", "beta", "gamma", "delta");
    }

    @Test
    void queryFiltersBySeveralStates() {
        Experiment a = create("a");
        Experiment b = create("b");
        create("c");
        latestJob(a, "ja", JobStatus.FAILED, at(1), at(2));
        latestJob(b, "jb", JobStatus.RUNNING, at(1), at(2));

        assertThat(names(all().withStates(List.of(JobStatus.FAILED, JobStatus.RUNNING)))).containsExactly("a", "b");
        assertThat(store.experiments(all().withStates(List.of(JobStatus.FAILED, JobStatus.INIT))).total()).isEqualTo(2);
    }

    @Test
    void queryFiltersByFlagValuesAsTextIncludingMissing() {
        withFlags("a", "lr", 0.1, "model", "llama");
        withFlags("b", "lr", 0.01, "model", "llama");
        withFlags("c", "lr", 1L, "model", "gpt");
        withFlags("d", "model", "llama");
        withFlags("e", "lr", "0.1", "flag", true);
        withFlags("f", "lr", 1e-5);

        assertThat(names(all().withFlag("lr", List.of("1e-05")))).containsExactly("f");
        assertThat(names(all().withFlag("lr", List.of("0.1")))).containsExactly("a", "e");
        assertThat(names(all().withFlag("lr", List.of("0.1", "1")))).containsExactly("a", "c", "e");
        assertThat(names(all().withFlag("lr", List.of(ExperimentQuery.MISSING)))).containsExactly("d");
        assertThat(names(all().withFlag("lr", List.of("0.01", ExperimentQuery.MISSING)))).containsExactly("b", "d");
        assertThat(names(all().withFlag("flag", List.of("true")))).containsExactly("e");
        assertThat(names(all().withFlag("lr", List.of("0.1")).withFlag("model", List.of("llama"))))
                .containsExactly("a");
    }

    @Test
    void queryFiltersCombineAndPageWithTheTotalOfEveryMatch() {
        for (int i = 0; i < 12; i++) {
            Experiment e = withFlags("run-" + i, "lr", i % 2 == 0 ? 0.1 : 0.2, "seed", (long) i);
            if (i % 3 == 0) {
                latestJob(e, "j" + i, JobStatus.FAILED, at(i), at(i));
            }
        }
        create(ExperimentSpec.named("other").flag("lr", 0.1), T0);

        ExperimentQuery q = all().withText("run").withFlag("lr", List.of("0.1")).withState(JobStatus.INIT)
                .sortedByFlag("seed", true).page(2, 1);
        Page<Experiment> page = store.experiments(q);

        // run-0..11 with lr 0.1: even ones; INIT: not a multiple of 3 → 2, 4, 8, 10
        assertThat(page.items()).extracting(Experiment::name).containsExactly("run-8", "run-4");
        assertThat(page.total()).isEqualTo(4);
    }

    @Test
    void queryByGroupFollowsTheGroupsOrderAndNoneMeansUngrouped() {
        Experiment a = create("a");
        Experiment b = create("b");
        Experiment c = create("c");
        Experiment d = create("d");
        Group g = store.write(tx -> tx.insertGroup(Group.named("g").withExperimentIds(List.of(c.id(), a.id()))));
        store.write(tx -> tx.insertGroup(Group.named("h").withExperimentIds(List.of(a.id(), d.id()))));

        assertThat(names(all().inGroup(g.id()))).containsExactly("c", "a");
        assertThat(names(all().inGroup(g.id()).sortedBy(ExperimentQuery.Sort.NAME, false))).containsExactly("a", "c");
        assertThat(names(all().inGroup(ExperimentQuery.UNGROUPED))).containsExactly("b");
        assertThat(store.experiments(all().inGroup(g.id() + 100)).total()).isZero();
        assertThat(b.id()).isNotEqualTo(d.id());
    }

    @Test
    void queryKeepsFlagIndexesInStepWithUpdatesRenamesAndDeletes() {
        Experiment a = withFlags("a", "lr", 0.1);
        withFlags("b", "lr", 0.2);
        Experiment changed = store.write(tx -> tx.updateExperiment(a.withSpec(a.spec().flag("lr", 0.3)
                .description("renamed one")), at(1)));
        store.write(tx -> tx.updateExperiment(changed.withSpec(changed.spec().name("a2")), at(2)));

        assertThat(names(all().withFlag("lr", List.of("0.1")))).isEmpty();
        assertThat(names(all().withFlag("lr", List.of("0.3")))).containsExactly("a2");
        assertThat(names(all().withText("renamed"))).containsExactly("a2");
        assertThat(names(all().withText("0.3"))).containsExactly("a2");
        Experiment b = store.experimentByName("b").orElseThrow();
        store.write(tx -> tx.updateExperiment(b.withDeleted(true), at(3)));
        assertThat(names(all().withFlag("lr", List.of("0.2")))).isEmpty();
        assertThat(names(all().withFlag("lr", List.of("0.2")).withDeleted(true))).containsExactly("b");
    }

    @Test
    void queryStateFollowsJobsAddedUpdatedAndJobsThatPredateTheExperiment() {
        insert(launched("early", "later", JobStatus.FAILED, at(1)));
        Experiment later = create("later");
        Experiment x = create("x");

        assertThat(names(all().withState(JobStatus.FAILED))).containsExactly("later");
        latestJob(x, "jx", JobStatus.RUNNING, at(1), at(2));
        assertThat(names(all().withState(JobStatus.RUNNING))).containsExactly("x");
        Job jx = store.job("jx").orElseThrow();
        store.write(tx -> tx.updateJob(withStatus(jx, JobStatus.SUCCEEDED, at(3))));
        assertThat(names(all().withState(JobStatus.SUCCEEDED))).containsExactly("x");
        assertThat(names(all().withState(JobStatus.RUNNING))).isEmpty();
        assertThat(later.currentState()).isEqualTo(JobStatus.FAILED);
    }

    @Test
    void facetsCountEachFacetWithoutItsOwnFilter() {
        for (int i = 0; i < 6; i++) {
            Experiment e = withFlags("e" + i, "lr", i < 4 ? 0.1 : 0.01, "model", i % 2 == 0 ? "llama" : "gpt",
                    "seed", (long) i);
            if (i < 2) {
                latestJob(e, "j" + i, JobStatus.FAILED, at(i), at(i));
            }
        }
        create(ExperimentSpec.named("plain").desired(DesiredState.RUNNING), T0);

        dev.skydeck.ExperimentFacets f = store.experimentFacets(all().withState(JobStatus.FAILED)
                .withFlag("lr", List.of("0.1")), 2);

        assertThat(f.total()).isEqualTo(2);
        assertThat(f.states()).containsExactly(Map.entry(JobStatus.INIT, 2L), Map.entry(JobStatus.FAILED, 2L));
        assertThat(f.desired()).containsExactly(Map.entry(DesiredState.STOPPED, 2L));
        assertThat(f.flags()).extracting(dev.skydeck.ExperimentFacets.FlagFacet::name)
                .containsExactly("lr", "model", "seed");
        dev.skydeck.ExperimentFacets.FlagFacet lr = f.flags().get(0);
        // lr without its own filter: the FAILED ones, e0 and e1, both 0.1
        assertThat(lr.count()).isEqualTo(2);
        assertThat(lr.values()).containsExactly(new dev.skydeck.ExperimentFacets.ValueCount("0.1", 2));
        dev.skydeck.ExperimentFacets.FlagFacet seed = f.flags().get(2);
        assertThat(seed.distinct()).isEqualTo(2);
        assertThat(seed.truncated()).isFalse();

        dev.skydeck.ExperimentFacets everything = store.experimentFacets(all(), 1);
        assertThat(everything.total()).isEqualTo(7);
        assertThat(everything.states()).containsExactly(Map.entry(JobStatus.INIT, 5L), Map.entry(JobStatus.FAILED, 2L));
        assertThat(everything.desired()).containsExactly(Map.entry(DesiredState.RUNNING, 1L),
                Map.entry(DesiredState.STOPPED, 6L));
        dev.skydeck.ExperimentFacets.FlagFacet model = everything.flags().get(1);
        assertThat(model.name()).isEqualTo("model");
        assertThat(model.count()).isEqualTo(6);
        assertThat(model.distinct()).isEqualTo(2);
        assertThat(model.truncated()).isTrue();
        // a tie on the count: the value decides
        assertThat(model.values()).containsExactly(new dev.skydeck.ExperimentFacets.ValueCount("gpt", 3));
        assertThat(everything.flags().get(0).values())
                .containsExactly(new dev.skydeck.ExperimentFacets.ValueCount("0.1", 4));
    }

    @Test
    void wholeDeckFacetsFollowCreatesFlagChangesDeletesAndRestores() {
        java.util.Random random = new java.util.Random(15);
        for (int round = 0; round < 240; round++) {
            randomWrite(random, "r" + round);
            if (round % 40 == 39) {
                assertWholeDeckFacetsMatchItsExperiments();
            }
        }
        // a change of flags and a deletion in one update, then the restore with other flags again
        Experiment e = store.experiments(all()).items().get(0);
        ExperimentSpec changed = e.spec().flag("model", "both-at-once").withoutFlag("seed");
        Experiment gone = store.write(tx -> tx.updateExperiment(e.withSpec(changed).withDeleted(true), at(9)));
        assertWholeDeckFacetsMatchItsExperiments();
        store.write(tx -> tx.updateExperiment(gone.withSpec(changed.flag("lr", 0.5)).withDeleted(false), at(10)));
        assertWholeDeckFacetsMatchItsExperiments();
    }

    @Test
    void wholeDeckFacetsStayExactUnderWritesFromManyThreads() throws Exception {
        Concurrently.onThreads(8, thread -> {
            java.util.Random random = new java.util.Random(thread);
            for (int i = 0; i < 40; i++) {
                try {
                    randomWrite(random, "t" + thread + "-" + i);
                } catch (SkyDeckException.Conflict lost) {
                    // another thread changed the same experiment first: a write that did not happen
                }
            }
        });
        assertWholeDeckFacetsMatchItsExperiments();
    }

    /** One write of a random kind: create (one or several), change flags, delete, restore, or delete with new flags. */
    private void randomWrite(java.util.Random random, String name) {
        List<Experiment> live = store.experiments(all()).items();
        List<Experiment> deleted = store.experiments(all().withDeleted(true)).items().stream()
                .filter(Experiment::deleted).toList();
        int kind = live.isEmpty() ? 0 : random.nextInt(7);
        switch (kind) {
            case 0, 1 -> create(randomFlags(random, ExperimentSpec.named(name)), at(1));
            case 2 -> store.write(tx -> {
                for (int i = 0; i < 3; i++) {
                    tx.insertExperiment(randomFlags(random, ExperimentSpec.named(name + "-" + i)), at(1));
                }
                return null;
            });
            case 3 -> {
                Experiment e = live.get(random.nextInt(live.size()));
                store.write(tx -> tx.updateExperiment(e.withSpec(randomFlags(random, e.spec())), at(2)));
            }
            case 4 -> {
                Experiment e = live.get(random.nextInt(live.size()));
                store.write(tx -> tx.updateExperiment(e.withDeleted(true), at(3)));
            }
            case 5 -> {
                if (!deleted.isEmpty()) {
                    Experiment e = deleted.get(random.nextInt(deleted.size()));
                    store.write(tx -> tx.updateExperiment(e.withDeleted(false), at(4)));
                }
            }
            default -> {
                Experiment e = live.get(random.nextInt(live.size()));
                store.write(tx -> tx.updateExperiment(e.withSpec(randomFlags(random, e.spec())).withDeleted(true), at(5)));
            }
        }
    }

    /** {@code spec} with each of four flags set to one of a few values or removed, at random. */
    private static ExperimentSpec randomFlags(java.util.Random random, ExperimentSpec spec) {
        Object[][] choices = {
            {"lr", 0.1, 0.01, 0.001},
            {"model", "llama", "gpt", "mistral", "Llama"},
            {"layers", 4L, 8L, 12L},
            {"fp16", true, false, "x"},
        };
        ExperimentSpec out = spec;
        for (Object[] choice : choices) {
            int pick = random.nextInt(choice.length);
            out = pick == 0 ? out.withoutFlag((String) choice[0]) : out.flag((String) choice[0], choice[pick]);
        }
        return out;
    }

    /**
     * The unfiltered facets (every flag's count, distinct values and most frequent values) equal
     * both what the live experiments' own flags say and what the same counts under a filter that
     * keeps every experiment say.
     */
    private void assertWholeDeckFacetsMatchItsExperiments() {
        int top = 2;
        Map<String, Map<String, Long>> byFlag = new java.util.TreeMap<>();
        List<Experiment> live = store.experiments(all()).items();
        for (Experiment e : live) {
            e.spec().flags().forEach((k, v) -> byFlag.computeIfAbsent(k, x -> new java.util.HashMap<>())
                    .merge(ExperimentQuery.flagText(v), 1L, Long::sum));
        }
        List<dev.skydeck.ExperimentFacets.FlagFacet> expected = new ArrayList<>();
        byFlag.forEach((flag, counts) -> {
            List<dev.skydeck.ExperimentFacets.ValueCount> values = counts.entrySet().stream()
                    .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                    .limit(top).map(x -> new dev.skydeck.ExperimentFacets.ValueCount(x.getKey(), x.getValue())).toList();
            expected.add(new dev.skydeck.ExperimentFacets.FlagFacet(flag,
                    counts.values().stream().mapToLong(Long::longValue).sum(), counts.size(), counts.size() > top, values));
        });

        dev.skydeck.ExperimentFacets whole = store.experimentFacets(all(), top);
        dev.skydeck.ExperimentFacets filtered = store.experimentFacets(
                all().withStates(java.util.EnumSet.allOf(JobStatus.class)), top);

        assertThat(whole.total()).isEqualTo(live.size());
        assertThat(whole.flags()).isEqualTo(expected);
        assertThat(filtered.flags()).isEqualTo(expected);
    }

    @Test
    void groupSummariesCountLiveMembersAndTellCommonFromVaryingFlags() {
        Experiment a = withFlags("a", "model", "llama", "lr", 0.1, "layers", 4L);
        Experiment b = withFlags("b", "model", "llama", "lr", 0.2, "layers", 4L, "extra", true);
        Experiment c = withFlags("c", "model", "gpt");
        Experiment gone = withFlags("gone", "model", "other");
        withFlags("loose");
        latestJob(b, "jb", JobStatus.RUNNING, at(1), at(2));
        Group g = store.write(tx -> tx.insertGroup(Group.named("sweep").withNamePrefix("s-")
                .withExperimentIds(List.of(a.id(), b.id(), gone.id()))));
        Group empty = store.write(tx -> tx.insertGroup(Group.named("empty")));
        store.write(tx -> tx.insertGroup(Group.named("solo").withExperimentIds(List.of(c.id()))));
        store.write(tx -> tx.updateExperiment(gone.withDeleted(true), at(1)));

        dev.skydeck.GroupSummary.All all = store.groupSummaries();

        assertThat(all.groups()).extracting(s -> s.group().name()).containsExactly("sweep", "empty", "solo");
        dev.skydeck.GroupSummary sweep = all.groups().get(0);
        assertThat(sweep.group().id()).isEqualTo(g.id());
        assertThat(sweep.group().namePrefix()).isEqualTo("s-");
        assertThat(sweep.group().experimentIds()).isEmpty();
        assertThat(sweep.count()).isEqualTo(2);
        assertThat(sweep.states()).containsExactly(Map.entry(JobStatus.INIT, 1L), Map.entry(JobStatus.RUNNING, 1L));
        assertThat(sweep.commonFlags()).containsExactly(Map.entry("layers", 4L), Map.entry("model", "llama"));
        assertThat(sweep.varyingFlags()).containsExactly("extra", "lr");
        assertThat(all.groups().get(1).group().id()).isEqualTo(empty.id());
        assertThat(all.groups().get(1).count()).isZero();
        assertThat(all.groups().get(2).commonFlags()).containsExactly(Map.entry("model", "gpt"));
        assertThat(all.ungroupedCount()).isEqualTo(1);
        assertThat(all.ungroupedStates()).containsExactly(Map.entry(JobStatus.INIT, 1L));
    }

    // ---- lifecycle ----

    @Test
    void describeSaysWhatTheStoreIs() {
        assertThat(store.describe()).isNotBlank();
    }

    @Test
    void closeIsIdempotent() {
        store.close();
        store.close();
    }

    @Test
    void useAfterCloseFailsClearly() {
        store.close();

        List<Consumer<Store>> uses = List.of(
                s -> s.write(tx -> 1),
                s -> s.experiment(1),
                s -> s.experiments(ExperimentQuery.ALL),
                s -> s.jobs(JobQuery.RECENT),
                s -> s.events(EventQuery.latest(1)),
                s -> s.setting("k"),
                Store::counts);
        for (Consumer<Store> use : uses) {
            assertThatThrownBy(() -> use.accept(store))
                    .isInstanceOf(SkyDeckException.class)
                    .hasMessageContaining("closed");
        }
    }

    // ---- durability (stores that keep data across instances) ----

    @Test
    void everythingSurvivesReopening() {
        Experiment e = create(ExperimentSpec.named("kept").flag("lr", 0.5).flag("layers", 4L), T0);
        Job j = insert(launched("j1", "kept", JobStatus.RUNNING, at(1)));
        Group g = store.write(tx -> tx.insertGroup(Group.named("g").withExperimentIds(List.of(e.id()))));
        store.write(tx -> {
            tx.upsertCheckpoint(checkpoint(e.id(), 2, null));
            tx.appendEvent(event(e, "created"));
            tx.putSetting("k", "v");
            tx.updateStatus(e.id(), new ExperimentStatus(null, "running", 1, null, 0, null, false));
            return null;
        });
        Snapshot before = snapshot(e.id());
        store.close();

        Store reopened = reopen();
        assumeThat(reopened).as("the store keeps data across instances").isNotNull();
        store = reopened;

        assertThat(snapshot(e.id())).isEqualTo(before);
        assertThat(store.job(j.id())).contains(j);
        assertThat(store.group(g.id())).contains(g);
        assertThat(reload(e).flags().get("layers")).isInstanceOf(Long.class);
    }
}
