package dev.skydeck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.skydeck.memory.InMemoryStore;
import dev.skydeck.spi.LaunchRequest;
import dev.skydeck.testing.FakeBackend;
import dev.skydeck.testing.ManualClock;
import dev.skydeck.testing.NoThreadLeaks;
import dev.skydeck.testing.TestDecks;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Launches never block: a backend whose launches take a while (SkyPilot's API server) takes the
 * request and SkyDeck follows it, so no reconcile thread waits and a stop reaches the backend at
 * once.
 */
@ExtendWith(NoThreadLeaks.class)
class SlowLaunchTest {
    private final TestDecks decks = new TestDecks(new InMemoryStore(), 5);
    private final ManualClock clock = decks.clock;
    private final FakeBackend backend = decks.backend;

    @AfterEach
    void close() {
        decks.close();
    }

    private static ExperimentSpec running(String name) {
        return ExperimentSpec.named(name).desired(DesiredState.RUNNING);
    }

    private static Job only(SkyDeck deck, Experiment e) {
        assertThat(deck.jobs(e)).hasSize(1);
        return deck.jobs(e).get(0);
    }

    @Test
    void aHundredSlowLaunchesAllReachTheBackendWhileNoneHasFinished() {
        backend.slowLaunches(true);
        SkyDeck deck = decks.open(b -> b.reconcilerThreads(4));
        List<Experiment> es = deck.createAll(IntStream.range(0, 100).mapToObj(i -> running("slow-" + i)).toList());

        await().atMost(Duration.ofSeconds(10)).until(() -> backend.launches().size() == 100);
        await().until(() -> es.stream().allMatch(e -> deck.jobs(e).size() == 1
                && deck.jobs(e).get(0).launchRef() != null));
        assertThat(backend.pendingLaunches()).hasSize(100);
        assertThat(deck.experiment(es.get(0).id()).stateReason()).startsWith("launching attempt 1");

        backend.completeLaunches();
        deck.poll();
        await().until(() -> es.stream().allMatch(e -> only(deck, e).backendJobId() != null));
        assertThat(es).allSatisfy(e -> {
            Job j = only(deck, e);
            assertThat(j.launchRef()).isNull();
            assertThat(j.status()).isEqualTo(JobStatus.PENDING);
        });
        assertThat(backend.launches()).extracting(LaunchRequest::experimentName).doesNotHaveDuplicates().hasSize(100);
        assertThat(deck.events(new EventQuery(0, es.get(0).id(), 100, false))).extracting(Event::message)
                .anySatisfy(m -> assertThat(m).startsWith("submitted attempt 1 to fake (request req-"))
                .anySatisfy(m -> assertThat(m).startsWith("launched attempt 1 as fake job"));
    }

    @Test
    void aStopWhileTheLaunchRequestRunsCancelsTheRequestAndNoJobIsMade() {
        backend.slowLaunches(true);
        SkyDeck deck = decks.open();
        Experiment e = deck.create(running("stopped-early"));
        await().until(() -> !deck.jobs(e).isEmpty() && deck.jobs(e).get(0).launchRef() != null);
        String launchId = deck.jobs(e).get(0).launchId();

        deck.stop(e);

        await().until(() -> backend.cancelledRequests().contains(launchId));
        await().until(() -> only(deck, e).status() == JobStatus.CANCELLED);
        backend.completeLaunches();
        deck.poll();
        assertThat(backend.jobs()).isEmpty();
        assertThat(only(deck, e).failureReason()).contains("launch request was cancelled");
        await().until(() -> deck.experiment(e.id()).settled());
    }

    @Test
    void aRestartWhileTheLaunchRequestRunsCancelsItAndLaunchesTheNewGenerationOnce() {
        backend.slowLaunches(true);
        SkyDeck deck = decks.open();
        Experiment e = deck.create(running("restarted-early"));
        await().until(() -> !deck.jobs(e).isEmpty() && deck.jobs(e).get(0).launchRef() != null);

        deck.restart(e);

        await().until(() -> backend.cancelledRequests().size() == 1 && backend.launches().size() == 2);
        backend.completeLaunches();
        deck.poll();
        await().until(() -> deck.jobs(e).size() == 2 && deck.jobs(e).get(0).backendJobId() != null);
        assertThat(deck.jobs(e).get(1).status()).isEqualTo(JobStatus.CANCELLED);
        assertThat(backend.jobs()).hasSize(1);
    }

    @Test
    void aLaunchRequestThatFailsFailsTheJobWithTheBackendsMessage() {
        backend.slowLaunches(true);
        SkyDeck deck = decks.open();
        Experiment e = deck.create(running("bad-task"));
        await().until(() -> !deck.jobs(e).isEmpty() && deck.jobs(e).get(0).launchRef() != null);
        String launchId = deck.jobs(e).get(0).launchId();

        backend.failLaunchRequest(launchId, "InvalidSkyPilotConfigError: no such cloud", false);
        clock.advance(Duration.ofSeconds(5)); // the next look at the request

        await().until(() -> only(deck, e).status() == JobStatus.FAILED);
        assertThat(only(deck, e).failureReason()).contains("no such cloud");
        assertThat(backend.launches()).hasSize(1);
    }

    @Test
    void aRequestTheBackendLostIsSubmittedAgainUnderTheSameLaunchId() {
        backend.slowLaunches(true);
        SkyDeck deck = decks.open();
        Experiment e = deck.create(running("lost"));
        await().until(() -> !deck.jobs(e).isEmpty() && deck.jobs(e).get(0).launchRef() != null);
        String launchId = deck.jobs(e).get(0).launchId();

        backend.loseLaunchRequest(launchId);
        clock.advance(Duration.ofSeconds(5));

        await().until(() -> backend.launches().size() == 2);
        assertThat(backend.launches()).extracting(LaunchRequest::launchId).containsOnly(launchId);
        backend.completeLaunches();
        deck.poll();
        await().until(() -> only(deck, e).backendJobId() != null);
        assertThat(backend.jobs()).hasSize(1);
    }

    @Test
    void routinePollsListOnlyUnfinishedJobsAndFetchTheOnesThatEndedByTheirIds() {
        SkyDeck deck = decks.open(b -> b.fullListingInterval(Duration.ofMinutes(10)));
        Experiment e = deck.create(running("ends"));
        await().until(() -> !deck.jobs(e).isEmpty() && deck.jobs(e).get(0).backendJobId() != null);
        deck.poll(); // the first poll is a full one; the next are routine
        int actives = backend.listActiveCalls();
        clock.advance(Duration.ofSeconds(1));
        backend.set(only(deck, e).backendJobId(), JobStatus.SUCCEEDED);

        deck.poll();

        assertThat(backend.listActiveCalls()).isGreaterThan(actives);
        assertThat(backend.jobsCalls()).isEqualTo(1);
        assertThat(only(deck, e).status()).isEqualTo(JobStatus.SUCCEEDED); // not taken for vanished
        int full = backend.listCalls() - backend.listActiveCalls();
        clock.advance(Duration.ofMinutes(10));
        deck.poll();
        assertThat(backend.listCalls() - backend.listActiveCalls()).isGreaterThan(full);
    }
}
