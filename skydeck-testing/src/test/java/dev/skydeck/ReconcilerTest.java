package dev.skydeck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.skydeck.spi.BackendException;
import dev.skydeck.memory.InMemoryStore;
import dev.skydeck.spi.LaunchRequest;
import dev.skydeck.spi.Store;
import dev.skydeck.testing.Concurrently;
import dev.skydeck.testing.FakeBackend;
import dev.skydeck.testing.ManualClock;
import dev.skydeck.testing.NoThreadLeaks;
import dev.skydeck.testing.TestDecks;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The reconciliation rules of SPEC §4, with a fake backend and a manual clock. */
@ExtendWith(NoThreadLeaks.class)
class ReconcilerTest {
    private final TestDecks decks = new TestDecks(new InMemoryStore(), 7);
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
        return ExperimentSpec.named(name).flag("lr", 0.001).desired(DesiredState.RUNNING);
    }

    private Job onlyJob(SkyDeck deck, Experiment e) {
        List<Job> jobs = deck.jobs(e);
        assertThat(jobs).hasSize(1);
        return jobs.get(0);
    }

    private void awaitLaunches(String name, int count) {
        await().until(() -> backend.launchesOf(name).size() >= count);
    }

    private void awaitIdle(SkyDeck deck, Experiment e) {
        await().until(() -> deck.experiment(e.id()).settled());
    }

    @Test
    void runningExperimentIsLaunchedOnceWithItsLaunchId() {
        SkyDeck deck = deck();
        Experiment e = deck.create(running("ppo"));

        awaitLaunches("ppo", 1);
        await().until(() -> deck.jobs(e).get(0).backendJobId() != null);
        Job job = onlyJob(deck, e);
        LaunchRequest request = backend.launches().get(0);
        assertThat(request.launchId()).isEqualTo(job.id()).isEqualTo(job.launchId());
        assertThat(request.env()).containsEntry("SKYDECK_LAUNCH_ID", job.id())
                .containsEntry("SKYDECK_EXPERIMENT", "ppo").containsEntry("SKYDECK_ATTEMPT", "1");
        assertThat(request.command()).containsExactly("lt", "--gpus=0", "--nodes=1", "run=ppo", "lr=0.001");
        assertThat(job.attempt()).isEqualTo(1);
        assertThat(job.generation()).isEqualTo(e.generation());
        assertThat(job.status()).isEqualTo(JobStatus.PENDING);
        deck.reconcileAll();
        deck.poll();
        await().until(() -> deck.experiment(e.id()).currentState() == JobStatus.PENDING);
        assertThat(backend.launches()).hasSize(1);
    }

    @Test
    void stoppedExperimentIsNeverLaunched() {
        SkyDeck deck = deck();
        Experiment e = deck.create(ExperimentSpec.named("idle"));
        awaitIdle(deck, e);
        assertThat(backend.launches()).isEmpty();
        assertThat(deck.experiment(e.id()).currentState()).isEqualTo(JobStatus.INIT);
    }

    @Test
    void stopCancelsTheActiveJobOnce() {
        SkyDeck deck = deck();
        Experiment e = deck.create(running("to-stop"));
        awaitLaunches("to-stop", 1);
        await().until(() -> deck.jobs(e).get(0).backendJobId() != null);

        deck.stop(e);
        await().until(() -> backend.cancels().size() == 1);
        deck.reconcileAll();
        deck.poll();
        await().until(() -> onlyJob(deck, e).status() == JobStatus.CANCELLED);
        awaitIdle(deck, e);
        assertThat(backend.cancels()).hasSize(1);
        assertThat(deck.experiment(e.id()).currentState()).isEqualTo(JobStatus.CANCELLED);
        assertThat(deck.events(new EventQuery(0, e.id(), 100, false))).extracting(Event::type)
                .contains(EventType.CREATE, EventType.LAUNCH, EventType.STOP, EventType.CANCEL, EventType.JOB_STATUS);
    }

    @Test
    void terminateCancelsAndTearsDownWhatTheExperimentOwns() {
        SkyDeck deck = deck();
        Experiment e = deck.create(running("to-terminate"));
        awaitLaunches("to-terminate", 1);
        await().until(() -> deck.jobs(e).get(0).backendJobId() != null);

        deck.terminate(e);
        await().until(() -> backend.cancels().size() == 1 && backend.terminated().contains("to-terminate"));
    }

    @Test
    void restartRunsAnEndedExperimentAgainInANewGeneration() {
        SkyDeck deck = deck();
        Experiment e = deck.create(running("again"));
        awaitLaunches("again", 1);
        await().until(() -> deck.jobs(e).get(0).backendJobId() != null);
        backend.set(onlyJob(deck, e).backendJobId(), JobStatus.SUCCEEDED);
        deck.poll();
        awaitIdle(deck, e);
        assertThat(backend.launches()).hasSize(1);

        Experiment restarted = deck.restart(e);
        assertThat(restarted.generation()).isEqualTo(e.generation() + 1);
        awaitLaunches("again", 2);
        await().until(() -> deck.jobs(e).size() == 2);
        Job second = deck.jobs(e).get(0);
        assertThat(second.attempt()).isEqualTo(2);
        assertThat(second.generation()).isEqualTo(restarted.generation());
    }

    @Test
    void neverPolicyLeavesAFailedJobFailed() {
        SkyDeck deck = deck();
        Experiment e = deck.create(running("fails-once"));
        awaitLaunches("fails-once", 1);
        await().until(() -> deck.jobs(e).get(0).backendJobId() != null);
        backend.set(onlyJob(deck, e).backendJobId(), JobStatus.FAILED);
        deck.poll();
        awaitIdle(deck, e);
        clock.advance(Duration.ofHours(1));
        deck.reconcileAll();
        awaitIdle(deck, e);
        assertThat(backend.launches()).hasSize(1);
        Experiment after = deck.experiment(e.id());
        assertThat(after.currentState()).isEqualTo(JobStatus.FAILED);
        assertThat(after.stateReason()).contains("failed");
    }

    @Test
    void onFailureRestartsAfterJitteredBackoffUntilMaxRestarts() {
        SkyDeck deck = deck();
        Experiment e = deck.create(running("flaky").restartPolicy(RestartPolicy.onFailure(2)
                .withBackoff(Duration.ofSeconds(10), Duration.ofMinutes(1))));
        for (int attempt = 1; attempt <= 3; attempt++) {
            awaitLaunches("flaky", attempt);
            int n = attempt;
            await().until(() -> deck.jobs(e).size() == n && deck.jobs(e).get(0).backendJobId() != null);
            backend.set(deck.jobs(e).get(0).backendJobId(), JobStatus.FAILED);
            deck.poll();
            if (attempt < 3) {
                await().until(() -> deck.experiment(e.id()).status().nextAttemptAt() != null);
                Experiment waiting = deck.experiment(e.id());
                Duration bound = Duration.ofSeconds(10L << (attempt - 1));
                assertThat(waiting.status().nextAttemptAt()).isBetween(clock.instant(), clock.instant().plus(bound));
                assertThat(waiting.stateReason()).startsWith("retrying in").contains("attempt " + (attempt + 1) + " of 3");
                assertThat(waiting.settled()).isFalse();
                assertThat(backend.launches()).hasSize(attempt);
                clock.advance(bound);
            }
        }
        awaitIdle(deck, e);
        assertThat(backend.launches()).hasSize(3);
        assertThat(deck.experiment(e.id()).stateReason()).startsWith("gave up after 3 attempts");
        assertThat(deck.events(new EventQuery(0, e.id(), 100, false))).extracting(Event::type)
                .containsSubsequence(EventType.RETRY_SCHEDULED, EventType.LAUNCH, EventType.RETRY_SCHEDULED,
                        EventType.LAUNCH);
    }

    @Test
    void onFailureDoesNotRestartAfterSuccess() {
        SkyDeck deck = deck();
        Experiment e = deck.create(running("done").restartPolicy(RestartPolicy.onFailure(3)));
        awaitLaunches("done", 1);
        await().until(() -> deck.jobs(e).get(0).backendJobId() != null);
        backend.set(onlyJob(deck, e).backendJobId(), JobStatus.SUCCEEDED);
        deck.poll();
        awaitIdle(deck, e);
        clock.advance(Duration.ofHours(1));
        assertThat(backend.launches()).hasSize(1);
    }

    @Test
    void alwaysRestartsAfterSuccessToo() {
        SkyDeck deck = deck();
        Experiment e = deck.create(running("loop").restartPolicy(RestartPolicy.always(1)
                .withBackoff(Duration.ZERO, Duration.ZERO)));
        awaitLaunches("loop", 1);
        await().until(() -> deck.jobs(e).get(0).backendJobId() != null);
        backend.set(onlyJob(deck, e).backendJobId(), JobStatus.SUCCEEDED);
        deck.poll();
        awaitLaunches("loop", 2);
        await().until(() -> deck.jobs(e).size() == 2 && deck.jobs(e).get(0).backendJobId() != null);
        backend.set(deck.jobs(e).get(0).backendJobId(), JobStatus.SUCCEEDED);
        deck.poll();
        awaitIdle(deck, e);
        assertThat(backend.launches()).hasSize(2);
    }

    @Test
    void scheduledRestartSurvivesARestartOfSkyDeckWithoutARetryStorm() {
        SkyDeck first = deck();
        Experiment e = first.create(running("persisted").restartPolicy(RestartPolicy.onFailure(1)
                .withBackoff(Duration.ofMinutes(10), Duration.ofMinutes(10))));
        awaitLaunches("persisted", 1);
        await().until(() -> first.jobs(e).get(0).backendJobId() != null);
        backend.set(onlyJob(first, e).backendJobId(), JobStatus.FAILED);
        first.poll();
        await().until(() -> first.experiment(e.id()).status().nextAttemptAt() != null);
        var due = first.experiment(e.id()).status().nextAttemptAt();
        first.close();

        SkyDeck second = deck();
        second.reconcileAll();
        await().until(() -> second.experiment(e.id()).stateReason() != null);
        assertThat(second.experiment(e.id()).status().nextAttemptAt()).isEqualTo(due);
        assertThat(backend.launches()).hasSize(1);
        clock.advance(Duration.between(clock.instant(), due).plusSeconds(1));
        awaitLaunches("persisted", 2);
    }

    @Test
    void retryableLaunchFailureIsRetriedWithBackoffUnderTheSameLaunchId() {
        backend.failNextLaunch(FakeBackend.timeout());
        SkyDeck deck = deck(b -> b.retryBackoff(Duration.ofSeconds(5), Duration.ofMinutes(5)));
        Experiment e = deck.create(running("timeout"));
        await().until(() -> deck.experiment(e.id()).status().launchRetries() == 1);
        Experiment waiting = deck.experiment(e.id());
        assertThat(waiting.stateReason()).contains("connection timed out").contains("retrying in");
        assertThat(waiting.currentState()).isEqualTo(JobStatus.PENDING);
        Job pending = onlyJob(deck, e);
        assertThat(pending.status()).isEqualTo(JobStatus.INIT);
        assertThat(pending.details()).contains("connection timed out");

        clock.advance(Duration.ofSeconds(5));
        awaitLaunches("timeout", 2);
        await().until(() -> onlyJob(deck, e).backendJobId() != null);
        assertThat(backend.launches()).extracting(LaunchRequest::launchId).containsOnly(pending.id());
        assertThat(backend.findCalls()).isEqualTo(1);
        await().until(() -> deck.experiment(e.id()).status().launchRetries() == 0);
    }

    @Test
    void permanentLaunchFailureFailsTheJobWithTheBackendMessage() {
        backend.failNextLaunch(BackendException.permanent("instance type p9.huge does not exist"));
        SkyDeck deck = deck();
        Experiment e = deck.create(running("bad-config"));
        awaitIdle(deck, e);
        Job job = onlyJob(deck, e);
        assertThat(job.status()).isEqualTo(JobStatus.FAILED);
        assertThat(job.failureReason()).isEqualTo("instance type p9.huge does not exist");
        assertThat(deck.experiment(e.id()).stateReason()).contains("instance type p9.huge does not exist");
        assertThat(deck.events(new EventQuery(0, e.id(), 100, false)))
                .anySatisfy(ev -> {
                    assertThat(ev.type()).isEqualTo(EventType.LAUNCH_FAILED);
                    assertThat(ev.success()).isFalse();
                    assertThat(ev.detail()).contains("p9.huge");
                });
        assertThat(backend.launches()).hasSize(1);
    }

    @Test
    void launchQueueAdmitsByPriorityWithinMaxConcurrentLaunches() {
        SkyDeck deck = deck(b -> b.maxConcurrentLaunches(1));
        Experiment blocker = deck.create(running("blocker"));
        awaitLaunches("blocker", 1);
        await().until(() -> deck.jobs(blocker).get(0).backendJobId() != null);

        Experiment low = deck.create(running("low"));
        Experiment high = deck.create(running("high").priority(10));
        await().until(() -> deck.experiment(low.id()).status().stage() == JobStage.QUEUED
                && deck.experiment(high.id()).status().stage() == JobStage.QUEUED);
        deck.reconcileAll(); // positions are refreshed by passes (resync, capacity changes)
        await().until(() -> deck.experiment(low.id()).stateReason().contains("position 2 of 2"));
        Experiment queued = deck.experiment(low.id());
        assertThat(queued.currentState()).isEqualTo(JobStatus.PENDING);
        assertThat(queued.stateReason()).contains("position 2 of 2").contains("1 of 1 launches in progress");
        assertThat(deck.experiment(high.id()).stateReason()).contains("position 1 of 2");

        backend.set(onlyJob(deck, blocker).backendJobId(), JobStatus.RUNNING);
        deck.poll();
        awaitLaunches("high", 1);
        await().until(() -> deck.jobs(high).get(0).backendJobId() != null);
        assertThat(backend.launchesOf("low")).isEmpty();

        backend.set(onlyJob(deck, high).backendJobId(), JobStatus.RUNNING);
        deck.poll();
        awaitLaunches("low", 1);
        assertThat(backend.launches()).extracting(LaunchRequest::experimentName)
                .containsExactly("blocker", "high", "low");
    }

    @Test
    void maxGpusMakesLaunchesWaitForCapacity() {
        SkyDeck deck = deck(b -> b.maxGpus(4));
        Experiment big = deck.create(running("big").gpus(4));
        awaitLaunches("big", 1);
        await().until(() -> deck.jobs(big).get(0).backendJobId() != null);
        Experiment small = deck.create(running("small").gpus(2));
        await().until(() -> deck.experiment(small.id()).status().stage() == JobStage.QUEUED);
        assertThat(deck.experiment(small.id()).stateReason()).startsWith("waiting: 4 of 4 GPUs in use");

        Experiment huge = deck.create(running("huge").gpus(8));
        await().until(() -> deck.experiment(huge.id()).stateReason() != null
                && deck.experiment(huge.id()).stateReason().contains("needs 8 GPUs"));

        deck.stop(huge);
        backend.set(onlyJob(deck, big).backendJobId(), JobStatus.SUCCEEDED);
        deck.poll();
        awaitLaunches("small", 1);
    }

    @Test
    void crashBetweenBackendLaunchAndRecordIsAdoptedAtRestartNotRelaunched() {
        Experiment e = crashAfterBackendAccepted("crashy");

        SkyDeck restarted = deck();
        await().until(() -> onlyJob(restarted, e).backendJobId() != null);
        clock.advance(Duration.ofMinutes(5));
        restarted.reconcileAll();
        await().until(() -> restarted.experiment(e.id()).status().observedGeneration() == e.generation());
        Job adopted = onlyJob(restarted, e);
        assertThat(adopted.backendJobId()).isEqualTo(backend.jobs().get(0).backendJobId());
        assertThat(adopted.status()).isEqualTo(JobStatus.PENDING);
        assertThat(backend.launches()).hasSize(1);
        assertThat(restarted.events(new EventQuery(0, e.id(), 100, false)))
                .anySatisfy(ev -> assertThat(ev.message()).startsWith("adopted job"));
    }

    @Test
    void unrecordedLaunchIsFoundByLaunchIdAfterTheLeaseWhenTheListingIsUnavailable() {
        Experiment e = crashAfterBackendAccepted("crashy-unlisted");
        backend.failListing(new BackendException("listing unavailable", true));

        SkyDeck restarted = deck(b -> b.launchLease(Duration.ofMinutes(2)));
        restarted.reconcileAll();
        await().until(() -> restarted.experiment(e.id()).stateReason() != null
                && restarted.experiment(e.id()).stateReason().contains("in progress elsewhere"));
        assertThat(backend.findCalls()).isZero();
        clock.advance(Duration.ofMinutes(2));
        await().until(() -> onlyJob(restarted, e).backendJobId() != null);
        assertThat(backend.findCalls()).isEqualTo(1);
        assertThat(backend.launches()).hasSize(1);
        assertThat(onlyJob(restarted, e).backendJobId()).isEqualTo(backend.jobs().get(0).backendJobId());
    }

    @Test
    void unrecordedLaunchTheBackendNeverSawIsSubmittedAgainUnderTheSameLaunchId() {
        backend.afterAccept(r -> {
            throw new Error("simulated crash");
        });
        SkyDeck crashed = deck();
        await().until(() -> crashed.health().poller().lastSuccess() != null); // no poll can adopt it
        Experiment e = crashed.create(running("never-reached"));
        awaitLaunches("never-reached", 1);
        crashed.close();
        String launchId = backend.launches().get(0).launchId();
        backend.forget(backend.jobOf(launchId).backendJobId());
        backend.afterAccept(r -> { });

        SkyDeck restarted = deck();
        clock.advance(Duration.ofMinutes(3));
        restarted.reconcileAll();
        awaitLaunches("never-reached", 2);
        await().until(() -> onlyJob(restarted, e).backendJobId() != null);
        assertThat(backend.launches()).extracting(LaunchRequest::launchId).containsOnly(launchId);
    }

    /** Launches {@code name} with a backend that accepts the launch and then "crashes" SkyDeck. */
    private Experiment crashAfterBackendAccepted(String name) {
        backend.afterAccept(r -> {
            throw new Error("simulated crash after the backend accepted the launch");
        });
        SkyDeck crashed = deck();
        // the first poll lists nothing yet: only a poll after the launch could adopt it
        await().until(() -> crashed.health().poller().lastSuccess() != null);
        Experiment e = crashed.create(running(name));
        awaitLaunches(name, 1);
        await().until(() -> crashed.jobs(e).size() == 1);
        crashed.close();
        assertThat(store.jobs(JobQuery.of(name, 10)).items()).singleElement()
                .satisfies(j -> assertThat(j.backendJobId()).isNull());
        backend.afterAccept(r -> { });
        return e;
    }

    @Test
    void pollerAdoptsAnUnrecordedLaunchWhenTheListingShowsIt() {
        backend.afterAccept(r -> {
            throw new Error("simulated crash after the backend accepted the launch");
        });
        SkyDeck deck = deck();
        Experiment e = deck.create(running("seen-by-poller"));
        awaitLaunches("seen-by-poller", 1);
        backend.afterAccept(r -> { });
        deck.poll();
        Job job = onlyJob(deck, e);
        assertThat(job.backendJobId()).isEqualTo(backend.jobs().get(0).backendJobId());
        assertThat(job.status()).isEqualTo(JobStatus.PENDING);
        assertThat(store.events(new EventQuery(0, e.id(), 100, false)))
                .anySatisfy(ev -> assertThat(ev.message()).startsWith("adopted job"));
        clock.advance(Duration.ofMinutes(5));
        deck.reconcileAll();
        await().until(() -> deck.experiment(e.id()).status().observedGeneration() == e.generation());
        assertThat(backend.launches()).hasSize(1);
    }

    @Test
    void aPollBetweenTheLaunchAndItsRecordIsNotOverwrittenByTheRecord() {
        SkyDeck deck = deck();
        // The backend accepts the launch, then the poller lists and adopts the job, then the launch returns.
        backend.afterAccept(r -> {
            backend.set(backend.jobOf(r.launchId()).backendJobId(), JobStatus.RUNNING);
            deck.poll();
        });
        Experiment e = deck.create(running("raced"));
        awaitLaunches("raced", 1);
        await().until(() -> deck.experiment(e.id()).status().observedGeneration() == e.generation()
                && onlyJob(deck, e).backendJobId() != null);
        await().until(() -> store.events(new EventQuery(0, e.id(), 100, false)).stream()
                .anyMatch(ev -> ev.type() == EventType.LAUNCH && ev.actor() == Actor.RECONCILER));
        assertThat(onlyJob(deck, e).status()).isEqualTo(JobStatus.RUNNING);
        deck.poll();
        assertThat(onlyJob(deck, e).status()).isEqualTo(JobStatus.RUNNING);
        // our own launch, merely listed early: the timeline does not call it an orphan adopted after a crash
        assertThat(store.events(new EventQuery(0, e.id(), 100, false)))
                .noneSatisfy(ev -> assertThat(ev.message()).startsWith("adopted job"));
    }

    @Test
    void bulkStartFromEightThreadsLaunchesEachExperimentOnce() throws Exception {
        SkyDeck deck = deck();
        List<ExperimentSpec> specs = IntStream.range(0, 200).mapToObj(i -> ExperimentSpec.named("bulk-" + i)).toList();
        List<Experiment> created = deck.createAll(specs);
        Concurrently.startEachTwice(deck, created, 8);
        await().until(() -> backend.launches().size() >= 200
                && store.activeJobs().stream().allMatch(j -> j.backendJobId() != null));
        deck.reconcileAll();
        await().until(() -> deck.settled(created.stream().map(Experiment::id).toList()).isEmpty()
                && store.activeJobs().size() == 200);
        assertThat(backend.launches()).hasSize(200);
        assertThat(backend.launches()).extracting(LaunchRequest::experimentName).doesNotHaveDuplicates();
    }

    @Test
    void twoSkyDecksOnOneStoreLaunchEachExperimentOnce() {
        SkyDeck a = deck();
        SkyDeck b = deck();
        List<Experiment> created = a.createAll(IntStream.range(0, 50)
                .mapToObj(i -> running("shared-" + i)).toList());
        b.reconcileAll();
        a.reconcileAll();
        await().until(() -> backend.launches().size() >= 50);
        clock.advance(Duration.ofMinutes(5));
        a.reconcileAll();
        b.reconcileAll();
        await().until(() -> store.activeJobs().size() == 50
                && store.activeJobs().stream().allMatch(j -> j.backendJobId() != null));
        assertThat(backend.launches()).hasSize(50);
        assertThat(created).allSatisfy(e -> assertThat(a.jobs(e)).hasSize(1));
    }

    @Test
    void failedPollChangesNothingAndIsVisibleInHealth() {
        SkyDeck deck = deck();
        Experiment e = deck.create(running("steady"));
        awaitLaunches("steady", 1);
        await().until(() -> deck.jobs(e).get(0).backendJobId() != null);
        long eventsBefore = store.lastEventSeq();
        backend.failListing(new BackendException("API server unreachable", true));

        assertThatThrownBy(deck::poll).isInstanceOf(SkyDeckException.class).hasMessageContaining("unreachable");
        assertThat(onlyJob(deck, e).status()).isEqualTo(JobStatus.PENDING);
        assertThat(deck.health().poller().lastError()).contains("unreachable");
        assertThat(store.events(EventQuery.after(eventsBefore, 10))).extracting(Event::type)
                .containsOnly(EventType.ERROR);

        backend.failListing(null);
        deck.poll();
        assertThat(deck.health().poller().lastError()).isNull();
    }

    @Test
    void pollWritesOnlyChangedJobsWithOneListingPerPage() {
        backend.pageSize(10);
        SkyDeck deck = deck();
        List<Experiment> created = deck.createAll(IntStream.range(0, 35).mapToObj(i -> running("page-" + i)).toList());
        await().until(() -> backend.launches().size() == 35
                && store.activeJobs().stream().allMatch(j -> j.backendJobId() != null));
        deck.poll();
        int before = backend.listCalls();
        long seqBefore = store.lastEventSeq();
        backend.set(deck.jobs(created.get(3)).get(0).backendJobId(), JobStatus.RUNNING);
        deck.poll();
        assertThat(backend.listCalls() - before).isEqualTo(4);
        List<Event> events = store.events(EventQuery.after(seqBefore, 100));
        assertThat(events).filteredOn(ev -> ev.type() == EventType.JOB_STATUS).singleElement()
                .satisfies(ev -> assertThat(ev.experimentName()).isEqualTo("page-3"));
        assertThat(deck.jobs(created.get(3)).get(0).status()).isEqualTo(JobStatus.RUNNING);
        assertThat(deck.jobs(created.get(4)).get(0).updatedAt()).isBefore(deck.jobs(created.get(3)).get(0).updatedAt()
                .plusNanos(1));
    }

    @Test
    void aJobRecordedWhileAListingIsInFlightIsNotTakenForVanished() {
        SkyDeck deck = deck();
        await().until(() -> deck.health().poller().lastSuccess() != null);
        Experiment[] racer = new Experiment[1];
        backend.duringNextListing(() -> { // the listing was taken before this launch
            racer[0] = deck.create(running("racer"));
            await().until(() -> !deck.jobs(racer[0]).isEmpty() && deck.jobs(racer[0]).get(0).backendJobId() != null);
        });

        deck.poll();

        assertThat(onlyJob(deck, racer[0]).status()).isEqualTo(JobStatus.PENDING);
    }

    @Test
    void vanishedJobBecomesUnknownThenFailedAfterTheGracePeriod() {
        SkyDeck deck = deck(b -> b.vanishedGrace(Duration.ofMinutes(10)));
        Experiment e = deck.create(running("ghost"));
        awaitLaunches("ghost", 1);
        await().until(() -> deck.jobs(e).get(0).backendJobId() != null);
        backend.forget(onlyJob(deck, e).backendJobId());
        clock.advance(Duration.ofSeconds(1)); // a listing asked for after the job was recorded

        deck.poll();
        assertThat(onlyJob(deck, e).status()).isEqualTo(JobStatus.UNKNOWN);
        assertThat(onlyJob(deck, e).failureReason()).contains("no longer listed");
        clock.advance(Duration.ofMinutes(9));
        deck.poll();
        assertThat(onlyJob(deck, e).status()).isEqualTo(JobStatus.UNKNOWN);
        clock.advance(Duration.ofMinutes(2));
        deck.poll();
        assertThat(onlyJob(deck, e).status()).isEqualTo(JobStatus.FAILED);
        assertThat(onlyJob(deck, e).failureReason()).contains("vanished");
    }

    @Test
    void jobsLaunchedOutsideSkyDeckAreAdoptedByNameOrListedAsOrphans() {
        SkyDeck deck = deck();
        Experiment e = deck.create(ExperimentSpec.named("by-hand"));
        backend.addForeign("by-hand", JobStatus.RUNNING);
        backend.addForeign("nobody", JobStatus.RUNNING);
        deck.poll();
        assertThat(deck.jobs(e)).singleElement().satisfies(j -> assertThat(j.launchId()).isNull());
        assertThat(deck.jobs(new JobQuery(null, null, true, null, 10, 0)).items())
                .extracting(Job::experimentName).containsExactly("nobody");
        deck.start(e);
        await().until(() -> deck.experiment(e.id()).stateReason() != null
                && deck.experiment(e.id()).stateReason().contains("launched outside SkyDeck"));
        assertThat(backend.launches()).isEmpty();
    }

    @Test
    void deletedExperimentIsStoppedAndItsNameFreed() {
        SkyDeck deck = deck();
        Experiment e = deck.create(running("doomed"));
        awaitLaunches("doomed", 1);
        await().until(() -> deck.jobs(e).get(0).backendJobId() != null);
        deck.delete(e);
        await().until(() -> backend.cancels().size() == 1);
        assertThat(deck.findExperiment("doomed")).isEmpty();
        Experiment again = deck.create(ExperimentSpec.named("doomed"));
        assertThat(again.id()).isNotEqualTo(e.id());
    }

    @Test
    void aNewExperimentReusingADeletedOnesNameLaunchesDespiteTheOldJobs() {
        SkyDeck deck = deck();
        Experiment old = deck.create(running("reused"));
        awaitLaunches("reused", 1);
        await().until(() -> deck.jobs(old).get(0).backendJobId() != null);
        backend.set(onlyJob(deck, old).backendJobId(), JobStatus.SUCCEEDED);
        deck.poll();
        awaitIdle(deck, old);
        deck.delete(old);
        clock.advance(Duration.ofSeconds(1));

        Experiment fresh = deck.create(running("reused"));
        awaitLaunches("reused", 2);
        await().until(() -> deck.jobs(fresh).size() == 2 && deck.jobs(fresh).get(0).backendJobId() != null);
        assertThat(deck.jobs(fresh).get(0).attempt()).isEqualTo(1);
    }

    @Test
    void aStoreFailureDuringAPollIsVisibleInHealth() {
        SkyDeck deck = deck();
        deck.create(running("store-trouble"));
        awaitLaunches("store-trouble", 1);
        await().until(() -> store.activeJobs().stream().allMatch(j -> j.backendJobId() != null));
        backend.set(backend.jobs().get(0).backendJobId(), JobStatus.RUNNING);
        store.close();
        assertThatThrownBy(deck::poll).isInstanceOf(SkyDeckException.class);
        assertThat(deck.health().poller().lastError()).contains("closed");
    }

    @Test
    void awaitSettledReturnsWhenEveryExperimentIsSettled() {
        SkyDeck deck = deck();
        Experiment a = deck.create(running("wait-a"));
        Experiment b = deck.create(ExperimentSpec.named("wait-b"));
        awaitLaunches("wait-a", 1);
        await().until(() -> deck.jobs(a).get(0).backendJobId() != null);
        var future = deck.awaitSettledAsync(List.of(a, b));
        assertThat(future).isNotDone();
        backend.set(onlyJob(deck, a).backendJobId(), JobStatus.SUCCEEDED);
        deck.poll();
        List<Experiment> settled = future.join();
        assertThat(settled).extracting(Experiment::name).containsExactlyInAnyOrder("wait-a", "wait-b");
        assertThat(settled).filteredOn(x -> x.name().equals("wait-a")).singleElement()
                .satisfies(x -> assertThat(x.currentState()).isEqualTo(JobStatus.SUCCEEDED));
    }

    @Test
    void awaitSettledTimesOutNamingTheBusyExperiments() {
        SkyDeck deck = deck();
        Experiment a = deck.create(running("slow"));
        awaitLaunches("slow", 1);
        assertThatThrownBy(() -> deck.awaitSettled(List.of(a), Duration.ofMillis(200)))
                .isInstanceOf(SkyDeckException.class).hasMessageContaining("slow");
    }

    @Test
    void listenersSeeCommittedEventsInOrder() throws Exception {
        SkyDeck deck = deck();
        List<Event> seen = new CopyOnWriteArrayList<>();
        try (AutoCloseable sub = deck.onEvent(seen::add)) {
            Experiment e = deck.create(running("heard"));
            awaitLaunches("heard", 1);
            await().until(() -> seen.stream().anyMatch(ev -> ev.type() == EventType.LAUNCH));
            assertThat(seen).extracting(Event::seq).isSorted();
            assertThat(seen.get(0).type()).isEqualTo(EventType.CREATE);
            assertThat(seen.get(0).experimentId()).isEqualTo(e.id());
        }
        // a failed write publishes nothing
        int before = seen.size();
        assertThatThrownBy(() -> deck.create(ExperimentSpec.named("heard"))).isInstanceOf(SkyDeckException.Conflict.class);
        assertThat(seen).hasSize(before);
    }

    @Test
    void usingAClosedSkyDeckFailsClearly() {
        SkyDeck deck = deck();
        deck.close();
        deck.close();
        assertThatThrownBy(deck::experiments).isInstanceOf(SkyDeckException.class).hasMessageContaining("closed");
    }
}
