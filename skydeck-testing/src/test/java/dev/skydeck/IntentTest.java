package dev.skydeck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.skydeck.memory.InMemoryStore;
import dev.skydeck.spi.Store;
import dev.skydeck.testing.FakeBackend;
import dev.skydeck.testing.ManualClock;
import dev.skydeck.testing.NoThreadLeaks;
import dev.skydeck.testing.TestDecks;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Intent is idempotent and restart is explicit: the promises of issue 10, each under the
 * condition that broke it (a job that ends, a repeated start, presentation between read and
 * write, a cancel the backend skips, waits that time out).
 */
@ExtendWith(NoThreadLeaks.class)
class IntentTest {
    private final TestDecks decks = new TestDecks(new InMemoryStore(), 3);
    private final ManualClock clock = decks.clock;
    private final FakeBackend backend = decks.backend;
    private final Store store = decks.store;

    private SkyDeck deck() {
        return decks.open();
    }

    private SkyDeck deck(UnaryOperator<SkyDeck.Builder> options) {
        return decks.open(options);
    }

    @AfterEach
    void closeDecks() {
        decks.close();
    }

    private static ExperimentSpec running(String name) {
        return ExperimentSpec.named(name).flag("lr", 3.0).desired(DesiredState.RUNNING);
    }

    private Job launchedJob(SkyDeck deck, Experiment e) {
        await().until(() -> !deck.jobs(e).isEmpty() && deck.jobs(e).get(0).backendJobId() != null);
        return deck.jobs(e).get(0);
    }

    private void end(SkyDeck deck, Experiment e, JobStatus status) {
        backend.set(launchedJob(deck, e).backendJobId(), status);
        deck.poll();
        await().until(() -> deck.experiment(e.id()).settled());
    }

    @Test
    void startingAnExperimentWhoseJobEndedChangesNothing() {
        SkyDeck deck = deck();
        Experiment e = deck.create(running("done"));
        end(deck, e, JobStatus.SUCCEEDED);
        Experiment settled = deck.experiment(e.id());
        long events = deck.events(EventQuery.latest(1)).get(0).seq();

        Experiment again = deck.start(e);

        assertThat(again.generation()).isEqualTo(settled.generation());
        assertThat(again.version()).isEqualTo(settled.version());
        assertThat(deck.events(EventQuery.after(events, 10))).isEmpty();
        deck.reconcileAll();
        deck.poll();
        await().until(() -> deck.experiment(e.id()).settled());
        assertThat(deck.jobs(e)).hasSize(1);
        assertThat(backend.launches()).hasSize(1);
    }

    @Test
    void aFailedJobUnderPolicyNeverStaysFailedWhenStartedAgain() {
        SkyDeck deck = deck();
        Experiment e = deck.create(running("failed"));
        end(deck, e, JobStatus.FAILED);

        deck.start(e);
        deck.bulk(BulkAction.START, List.of(e.id()));
        deck.reconcileAll();
        await().until(() -> deck.experiment(e.id()).settled());

        assertThat(deck.jobs(e)).singleElement().extracting(Job::status).isEqualTo(JobStatus.FAILED);
        assertThat(backend.launches()).hasSize(1);
    }

    @Test
    void bulkStartOverRunningExperimentsSaysUnchangedAndLaunchesNothing() {
        SkyDeck deck = deck();
        List<Experiment> es = deck.createAll(IntStream.range(0, 5).mapToObj(i -> running("b" + i)).toList());
        es.forEach(e -> launchedJob(deck, e));

        List<BulkResult> results = deck.bulk(BulkAction.START, es.stream().map(Experiment::id).toList());

        assertThat(results).allSatisfy(r -> {
            assertThat(r.ok()).isTrue();
            assertThat(r.message()).startsWith("unchanged");
        });
        deck.reconcileAll();
        await().until(() -> es.stream().allMatch(e -> deck.experiment(e.id()).status().observedGeneration()
                == e.generation()));
        assertThat(backend.launches()).hasSize(5);
    }

    @Test
    void restartCancelsTheActiveJobAndLaunchesTheNewGenerationExactlyOnce() {
        SkyDeck deck = deck();
        Experiment e = deck.create(running("restarted"));
        Job first = launchedJob(deck, e);
        backend.set(first.backendJobId(), JobStatus.RUNNING);
        deck.poll();

        Experiment restarted = deck.restart(e);
        assertThat(restarted.generation()).isEqualTo(e.generation() + 1);

        await().until(() -> backend.cancels().contains(first.backendJobId()));
        deck.poll(); // the cancel took: the first job is CANCELLED
        await().until(() -> deck.jobs(e).size() == 2 && deck.jobs(e).get(0).backendJobId() != null);
        deck.reconcileAll();
        deck.poll();
        await().until(() -> deck.experiment(e.id()).status().observedGeneration() == restarted.generation());
        List<Job> jobs = deck.jobs(e);
        assertThat(jobs).hasSize(2);
        assertThat(jobs.get(1).status()).isEqualTo(JobStatus.CANCELLED);
        assertThat(jobs.get(0).generation()).isEqualTo(restarted.generation());
        assertThat(jobs.get(0).attempt()).isEqualTo(2);
        assertThat(backend.launches()).hasSize(2);
        assertThat(backend.cancels()).containsExactly(first.backendJobId());
    }

    @Test
    void editingARunningExperimentDoesNotRelaunchItAndShowsDriftUntilRestarted() {
        SkyDeck deck = deck();
        Experiment e = deck.create(running("edited"));
        launchedJob(deck, e);
        assertThat(deck.experiment(e.id()).drifted()).isFalse();

        Experiment edited = deck.update(e, s -> s.flag("lr", 1.0e-4));
        deck.reconcileAll();
        deck.poll();

        assertThat(edited.drifted()).isTrue();
        assertThat(deck.experiment(e.id()).drifted()).isTrue();
        assertThat(backend.launches()).hasSize(1);
        Experiment described = deck.update(e, s -> s.description("only words")); // not what it runs
        assertThat(described.drifted()).isTrue();

        deck.restart(e);
        await().until(() -> backend.launches().size() == 2);
        await().until(() -> !deck.experiment(e.id()).drifted());
        assertThat(backend.launches().get(1).flags()).containsEntry("lr", 1.0e-4);
    }

    @Test
    void presentationBetweenReadAndWriteNeverMakesTheEditStale() {
        SkyDeck deck = deck();
        Experiment read = deck.create(ExperimentSpec.named("shown"));
        deck.expand(read, true);
        deck.star(read, true);
        deck.reorder(List.of(read.id()));

        Experiment written = deck.update(read.withSpec(read.spec().flag("layers", 4)).withExpanded(true)
                .withStarred(true));

        assertThat(written.flags()).containsEntry("layers", 4L);
        assertThat(written.version()).isEqualTo(read.version() + 1);
        assertThat(written.starred()).isTrue();
        assertThat(written.expanded()).isTrue();
    }

    @Test
    void applyCreatesUpdatesAndLeavesAloneAndTwiceLaunchesNothingNew() {
        SkyDeck deck = deck();
        List<ExperimentSpec> grid = IntStream.range(0, 4).mapToObj(i -> running("grid." + i).flag("seed", i))
                .toList();

        List<ApplyResult> first = deck.apply(grid);
        assertThat(first).extracting(ApplyResult::outcome).containsOnly(ApplyResult.Outcome.CREATED);
        first.forEach(r -> launchedJob(deck, r.experiment()));

        List<ApplyResult> second = deck.apply(grid);
        assertThat(second).extracting(ApplyResult::outcome).containsOnly(ApplyResult.Outcome.UNCHANGED);
        deck.reconcileAll();
        deck.poll();
        await().until(() -> deck.experiments().stream().allMatch(x -> x.status().observedGeneration()
                == x.generation()));
        assertThat(backend.launches()).hasSize(4);

        List<ExperimentSpec> changed = new ArrayList<>(grid);
        changed.set(1, grid.get(1).flag("seed", 10).gpus(2));
        changed.add(running("grid.4"));
        List<ApplyResult> third = deck.apply(changed);
        assertThat(third).extracting(ApplyResult::outcome).containsExactly(ApplyResult.Outcome.UNCHANGED,
                ApplyResult.Outcome.UPDATED, ApplyResult.Outcome.UNCHANGED, ApplyResult.Outcome.UNCHANGED,
                ApplyResult.Outcome.CREATED);
        assertThat(third.get(1).changed()).containsExactly("flags.seed", "gpus");
        assertThat(third.get(1).experiment().drifted()).isTrue();
        await().until(() -> backend.launches().size() == 5); // only the new one
    }

    @Test
    void applyWithATypoChangesNothing() {
        SkyDeck deck = deck();
        deck.apply(List.of(ExperimentSpec.named("kept")));
        assertThatThrownBy(() -> deck.apply(List.of(ExperimentSpec.named("kept").gpus(2),
                ExperimentSpec.named("kept").gpus(3)))).isInstanceOf(SkyDeckException.Conflict.class);
        assertThatThrownBy(() -> deck.applyChanges(Map.of("kept", s -> s.gpus(1), "other", s -> s.name("renamed"))))
                .isInstanceOf(SkyDeckException.InvalidInput.class).hasMessageContaining("cannot rename");
        assertThat(deck.experiment("kept").spec().gpus()).isZero();
        assertThat(deck.findExperiment("other")).isEmpty();
    }

    @Test
    void aUserCancelIsRecordedAtOnceAndSentByTheReconcilerNotTheCaller() throws Exception {
        SkyDeck deck = deck();
        Experiment e = deck.create(running("slow-cancel"));
        Job job = launchedJob(deck, e);
        CountDownLatch backendAnswers = new CountDownLatch(1);
        backend.beforeCancel(id -> {
            try {
                backendAnswers.await(30, TimeUnit.SECONDS); // a SkyPilot cancel can take minutes
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        });

        Job requested = CompletableFuture.supplyAsync(() -> deck.cancel(job)).get(5, TimeUnit.SECONDS);

        assertThat(requested.cancelRequested()).isTrue();
        assertThat(requested.cancel().requestedBy()).isEqualTo(Actor.USER);
        assertThat(requested.status()).isEqualTo(JobStatus.PENDING); // observed state is the poller's
        assertThat(deck.cancel(job).cancel().requestedAt()).isEqualTo(requested.cancel().requestedAt()); // once
        backendAnswers.countDown();
        await().until(() -> backend.cancels().contains(job.backendJobId()));
        assertThat(backend.cancelThreads()).allMatch(t -> t.startsWith("skydeck-reconciler-"));
        deck.poll();
        await().until(() -> deck.job(job.id()).status() == JobStatus.CANCELLED);
        assertThat(backend.cancels()).hasSize(1);
        assertThatThrownBy(() -> deck.cancel(job)).isInstanceOfSatisfying(SkyDeckException.Conflict.class,
                c -> assertThat(c.reason()).isEqualTo(SkyDeckException.Conflict.Reason.JOB_ENDED));
    }

    @Test
    void aCancelTheBackendSkipsIsSaidNotToHaveTakenAndIsNotResentForever() {
        SkyDeck deck = deck(b -> b.cancelRetry(Duration.ofMinutes(1), 3));
        Experiment e = deck.create(running("other-workspace"));
        Job job = launchedJob(deck, e);
        backend.set(job.backendJobId(), JobStatus.RUNNING);
        deck.poll();
        backend.ignoreCancels(true);

        deck.stop(e);
        await().until(() -> backend.cancels().size() == 1);
        clock.advance(Duration.ofSeconds(1));
        deck.poll(); // still RUNNING after the cancel: it did not take
        deck.reconcileAll();
        await().until(() -> deck.experiment(e.id()).stateReason() != null
                && deck.experiment(e.id()).stateReason().contains("did not take yet"));
        for (int i = 0; i < 5; i++) {
            clock.advance(Duration.ofMinutes(1));
            deck.poll();
            deck.reconcileAll();
            int sent = Math.min(3, i + 2);
            await().until(() -> backend.cancels().size() == sent);
        }
        await().until(() -> deck.experiment(e.id()).stateReason().contains("did not take after 3 attempts"));
        assertThat(backend.cancels()).hasSize(3);
        assertThat(deck.events(new EventQuery(0, e.id(), 100, false))).anySatisfy(ev -> {
            assertThat(ev.success()).isFalse();
            assertThat(ev.message()).contains("did not take after 3 attempts");
        });
        assertThat(deck.experiment(e.id()).settled()).isFalse();
    }

    @Test
    void timedOutAndAbandonedWaitsLeaveNothingRegistered() {
        SkyDeck deck = deck();
        Experiment e = deck.create(running("busy"));
        launchedJob(deck, e);

        for (int i = 0; i < 100; i++) {
            assertThatThrownBy(() -> deck.awaitSettled(List.of(e), Duration.ofMillis(1)))
                    .isInstanceOf(SkyDeckException.class).hasMessageContaining("timed out");
        }
        for (int i = 0; i < 100; i++) {
            assertThat(deck.awaitSettledAsync(List.of(e), Duration.ofMillis(1)).join()).singleElement()
                    .satisfies(x -> assertThat(x.settled()).isFalse());
        }
        deck.awaitSettledAsync(List.of(e)).cancel(false);

        // a timed-out future runs its own clean-up as it completes, on the timer's thread
        await().until(() -> deck.health().waits() == 0);
    }

    @Test
    void inMemoryBookkeepingShrinksWhenExperimentsSettleOrAreDeleted() {
        SkyDeck deck = deck(b -> b.maxConcurrentLaunches(1));
        Experiment a = deck.create(running("a"));
        Experiment b = deck.create(running("b"));
        await().until(() -> deck.experiment(b.id()).status().stage() == JobStage.QUEUED
                || deck.experiment(a.id()).status().stage() == JobStage.QUEUED);
        assertThat(deck.bookkeeping()).isPositive();

        deck.delete(a);
        deck.delete(b);
        deck.poll();
        await().until(() -> deck.experiment(a.id()).settled() && deck.experiment(b.id()).settled());
        deck.poll();
        deck.reconcileAll();
        await().until(() -> deck.bookkeeping() == 0);
    }

    @Test
    void aSubscriptionClosesQuietlyTwice() {
        SkyDeck deck = deck();
        Subscription s = deck.onEvent(ev -> { });
        s.close();
        s.close();
    }
}
