package dev.skydeck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.skydeck.memory.InMemoryStore;
import dev.skydeck.testing.FakeBackend;
import dev.skydeck.testing.ManualClock;
import dev.skydeck.testing.NoThreadLeaks;
import dev.skydeck.testing.StoreDelegate;
import dev.skydeck.testing.TestDecks;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A leader paused in the middle of a pass ({@code kill -STOP}, a long GC, a machine cut off)
 * wakes with what it read before the pause: another process has taken the lease and acted
 * since. Whatever the woken pass decides from its stale read must never reach the backend,
 * because the backend is shared and its side effects are not fenced by the store.
 *
 * <p>The pause is real: deck {@code a}'s reconcile thread is held inside the store between
 * reading the experiment and reading its jobs, and {@code a}'s timers run on a scheduler nobody
 * advances, so its lease lapses as a frozen process's would.
 */
@ExtendWith(NoThreadLeaks.class)
class PausedLeaderTest {
    private final TestDecks decks = new TestDecks(new InMemoryStore(), 5);
    private final ManualClock clock = decks.clock;
    private final FakeBackend backend = decks.backend;
    /** The frozen process's timers: never advanced, so it never renews its lease. */
    private final ManualClock frozenTimers = new ManualClock();
    private final PausingStore pausing = new PausingStore();

    @AfterEach
    void closeDecks() {
        pausing.release();
        decks.close();
    }

    /** Holds the first read of one experiment's jobs until released. */
    private final class PausingStore extends StoreDelegate {
        private final AtomicReference<String> pauseOn = new AtomicReference<>();
        private final CountDownLatch paused = new CountDownLatch(1);
        private final CountDownLatch released = new CountDownLatch(1);

        PausingStore() {
            super(decks.store);
        }

        @Override
        public Page<Job> jobs(JobQuery query) {
            if (query.experimentName() != null && pauseOn.compareAndSet(query.experimentName(), null)) {
                paused.countDown();
                awaitRelease();
            }
            return super.jobs(query);
        }

        /**
         * While a pass is held, the rest of the frozen process writes nothing either (a frozen
         * process renews no lease: without this, another of its threads could renew the lapsed
         * lease before the other deck takes it, and the takeover would wait for a clock nobody moves).
         */
        @Override
        public <T> T write(java.util.function.Function<dev.skydeck.spi.StoreTx, T> work) {
            if (paused.getCount() == 0 && released.getCount() > 0) {
                awaitRelease();
            }
            return super.write(work);
        }

        private void awaitRelease() {
            try {
                if (!released.await(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("never released");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        void pauseNextPassOf(String name) {
            pauseOn.set(name);
        }

        void awaitPaused() throws InterruptedException {
            assertThat(paused.await(30, TimeUnit.SECONDS)).as("the pass reached the pause").isTrue();
        }

        void release() {
            released.countDown();
        }
    }

    /** Deck a leads, then one of its passes is frozen on {@code name}; its lease lapses; b takes over. */
    private SkyDeck[] freezeLeaderDuringPassOf(String name, DesiredState desired) throws InterruptedException {
        SkyDeck a = decks.open(o -> o.store(pausing).scheduler(frozenTimers));
        assertThat(a.health().engine().leader()).isTrue();
        pausing.pauseNextPassOf(name);
        a.create(ExperimentSpec.named(name).flag("lr", 0.1).desired(desired));
        pausing.awaitPaused();
        clock.advance(a.config().leaseTtl().plusSeconds(1));
        SkyDeck b = decks.open();
        await().until(() -> b.health().engine().leader());
        return new SkyDeck[] {a, b};
    }

    private static void awaitSubmitted(SkyDeck deck, String name) {
        await().until(() -> {
            var jobs = deck.jobs(deck.experiment(name));
            return jobs.size() == 1 && jobs.get(0).backendJobId() != null;
        });
    }

    /** Lets the frozen pass go on, and waits (close lets a pass in flight finish) until it has. */
    private void wake(SkyDeck a) {
        pausing.release();
        a.close();
    }

    @Test
    void aPassThatReadStoppedBeforeThePauseDoesNotCancelTheJobTheNewLeaderLaunched() throws Exception {
        SkyDeck[] ab = freezeLeaderDuringPassOf("frozen-stop", DesiredState.STOPPED);
        SkyDeck b = ab[1];
        b.start(b.experiment("frozen-stop"));
        awaitSubmitted(b, "frozen-stop");

        wake(ab[0]);

        assertThat(backend.cancels()).as("cancels sent").isEmpty();
        assertThat(b.jobs(b.experiment("frozen-stop")).get(0).isActive()).isTrue();
    }

    @Test
    void aPassThatReadTerminatedBeforeThePauseDoesNotTearDownWhatTheNewLeaderRanSince() throws Exception {
        SkyDeck[] ab = freezeLeaderDuringPassOf("frozen-terminate", DesiredState.TERMINATED);
        SkyDeck b = ab[1];
        // the new leader settles the terminated experiment first (its teardown is the one that should happen)
        await().until(() -> b.experiment("frozen-terminate").settled());
        assertThat(backend.terminated()).as("teardowns").containsExactly("frozen-terminate");
        b.start(b.experiment("frozen-terminate"));
        awaitSubmitted(b, "frozen-terminate");
        backend.set(b.jobs(b.experiment("frozen-terminate")).get(0).backendJobId(), JobStatus.SUCCEEDED);
        b.poll();
        await().until(() -> b.experiment("frozen-terminate").currentState() == JobStatus.SUCCEEDED);

        wake(ab[0]); // it read TERMINATED, and now finds no active job: a teardown, were it to act

        assertThat(backend.terminated()).as("teardowns").containsExactly("frozen-terminate");
        assertThat(backend.cancels()).as("cancels sent").isEmpty();
    }

    @Test
    void aPassThatReadRunningBeforeThePauseDoesNotLaunchAgainWhatTheNewLeaderLaunched() throws Exception {
        SkyDeck[] ab = freezeLeaderDuringPassOf("frozen-run", DesiredState.RUNNING);
        SkyDeck b = ab[1];
        awaitSubmitted(b, "frozen-run");

        wake(ab[0]);

        assertThat(backend.launchesOf("frozen-run")).as("launches").hasSize(1);
    }

    @Test
    void theNewLeaderStillCancelsWhatItShould() throws Exception {
        SkyDeck[] ab = freezeLeaderDuringPassOf("frozen-then-stopped", DesiredState.RUNNING);
        SkyDeck b = ab[1];
        awaitSubmitted(b, "frozen-then-stopped");
        wake(ab[0]);

        b.stop(b.experiment("frozen-then-stopped"));

        await().until(() -> backend.cancels().size() == 1);
    }
}
