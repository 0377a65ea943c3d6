package dev.skydeck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.skydeck.spi.CheckpointObject;
import dev.skydeck.spi.CheckpointSource;
import dev.skydeck.memory.InMemoryStore;
import dev.skydeck.testing.CountingStore;
import dev.skydeck.testing.FakeBackend;
import dev.skydeck.testing.ManualClock;
import dev.skydeck.testing.NoThreadLeaks;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Checkpoint syncing through the facade, with a fake source and a manual clock. */
@ExtendWith(NoThreadLeaks.class)
class CheckpointSyncTest {
    /** Quiet experiments each cycle visits (CheckpointSyncer's slice). */
    private static final int QUIET_PER_CYCLE = 100;
    private static final Instant T = Instant.parse("2026-02-01T00:00:00Z");

    /** A source whose listings the test sets; counts calls and their peak concurrency. */
    static final class FakeSource implements CheckpointSource {
        final Map<String, List<CheckpointObject>> objects = new ConcurrentHashMap<>();
        final AtomicInteger calls = new AtomicInteger();
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicInteger peak = new AtomicInteger();
        volatile RuntimeException failure;

        @Override
        public String describe() {
            return "fake";
        }

        @Override
        public List<CheckpointObject> list(String name) {
            calls.incrementAndGet();
            int now = inFlight.incrementAndGet();
            peak.accumulateAndGet(now, Math::max);
            try {
                if (failure != null) {
                    throw failure;
                }
                // Long enough for concurrent listings to overlap, without sleeping in the test itself.
                long until = System.nanoTime() + 2_000_000;
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
                return objects.getOrDefault(name, List.of());
            } finally {
                inFlight.decrementAndGet();
            }
        }

        void put(String name, String... files) {
            List<CheckpointObject> list = new ArrayList<>();
            for (String f : files) {
                list.add(new CheckpointObject("mem://" + name + "/" + f, f, f.length(), T));
            }
            objects.put(name, list);
        }
    }

    private final ManualClock clock = new ManualClock(T);
    private final CountingStore store = new CountingStore(new InMemoryStore());
    private final FakeSource source = new FakeSource();
    private final SkyDeck deck = SkyDeck.builder().store(store).backend(new FakeBackend(clock)).checkpoints(source)
            .clock(clock).scheduler(clock).autoStart(false).build();

    @AfterEach
    void close() {
        deck.close();
    }

    private Health.Component syncer() {
        return deck.health().syncer();
    }

    private Experiment create(String name) {
        return deck.create(ExperimentSpec.named(name));
    }

    @Test
    void aCycleRecordsCheckpointsWithReplaysAndTheLatestEpoch() {
        Experiment e = create("ppo");
        source.put("ppo", "ppo:v1.mpt", "ppo:v2.mpt", "replays/replay_epoch_2.json", "notes.txt");

        deck.syncCheckpoints();

        List<Checkpoint> stored = store.checkpoints(e.id(), 10);
        assertThat(stored).extracting(Checkpoint::epoch).containsExactly(2L, 1L);
        assertThat(stored.get(0).replayPaths()).containsExactly("mem://ppo/replays/replay_epoch_2.json");
        assertThat(stored.get(0).policyVersion()).isEqualTo("v2");
        assertThat(store.experiment(e.id()).orElseThrow().latestEpoch()).isEqualTo(2L);
        assertThat(store.events(new EventQuery(0, e.id(), 10, false))).extracting(ev -> ev.type())
                .containsExactly(EventType.CREATE, EventType.CHECKPOINT);
        assertThat(syncer().lastSuccess()).isEqualTo(T);
    }

    @Test
    void aCycleWhereNothingChangedWritesNothing() {
        create("steady");
        source.put("steady", "checkpoint_0001.pt", "checkpoint_0002.pt");
        deck.syncCheckpoints();
        // the cycle runs on this thread; the poller may write on its own meanwhile
        int writes = store.dataWritesOn(Thread.currentThread());
        int calls = source.calls.get();
        clock.advance(Duration.ofMinutes(1));

        deck.syncCheckpoints();

        assertThat(source.calls.get()).isEqualTo(calls + 1);
        assertThat(store.dataWritesOn(Thread.currentThread())).as("writes of the cycle").isEqualTo(writes);
    }

    @Test
    void onlyNewCheckpointsAreWrittenAndGoneOnesAreMarked() {
        Experiment e = create("growing");
        source.put("growing", "model-1.pt", "model-2.pt");
        deck.syncCheckpoints();
        clock.advance(Duration.ofMinutes(1));
        source.put("growing", "model-2.pt", "model-3.pt");

        deck.syncCheckpoints();

        Map<Long, Checkpoint> byEpoch = new java.util.HashMap<>();
        store.checkpoints(e.id(), 10).forEach(c -> byEpoch.put(c.epoch(), c));
        assertThat(byEpoch.get(1L).goneAt()).isEqualTo(clock.instant());
        assertThat(byEpoch.get(2L).present()).isTrue();
        assertThat(byEpoch.get(2L).syncedAt()).isEqualTo(T); // unchanged rows are not rewritten
        assertThat(store.experiment(e.id()).orElseThrow().latestEpoch()).isEqualTo(3L);
    }

    @Test
    void aFailingSourceChangesNothingIsVisibleAndRecovers() {
        Experiment e = create("flaky");
        source.failure = new SkyDeckException("S3 is throttling", true, null);

        assertThatThrownBy(deck::syncCheckpoints).isInstanceOf(SkyDeckException.class)
                .hasMessageContaining("throttling");
        assertThat(syncer().lastError()).contains("flaky").contains("throttling");
        assertThat(syncer().lastFailure()).isEqualTo(T);
        assertThat(store.checkpoints(e.id(), 10)).isEmpty();

        source.failure = null;
        source.put("flaky", "epoch_5.pt");
        clock.advance(Duration.ofMinutes(2));
        deck.syncCheckpoints();
        assertThat(syncer().lastError()).isNull();
        assertThat(syncer().lastSuccess()).isEqualTo(clock.instant());
        assertThat(store.checkpoints(e.id(), 10)).extracting(Checkpoint::epoch).containsExactly(5L);
    }

    @Test
    void aFailingSourceIsRetriedWithGrowingBackoffUntilItWorksAgain() {
        create("backoff");
        source.failure = new SkyDeckException("S3 unavailable", true, null);
        deck.start();
        clock.advance(Duration.ZERO); // the first cycle is due at once
        await().until(() -> source.calls.get() == 1 && syncer().lastError() != null
                && clock.pending().contains(T.plusSeconds(120))); // 2 × interval after one failure
        clock.advance(Duration.ofSeconds(120));
        await().until(() -> source.calls.get() == 2 && clock.pending().contains(T.plusSeconds(120 + 240))); // 4 ×
        source.failure = null;
        clock.advance(Duration.ofSeconds(240));
        await().until(() -> source.calls.get() == 3 && syncer().lastError() == null
                && clock.pending().contains(T.plusSeconds(360 + 60))); // back to the normal interval
        clock.advance(Duration.ofSeconds(60));
        await().until(() -> source.calls.get() == 4);
    }

    @Test
    void listingsRunConcurrentlyButNeverAboveTheLimit() {
        IntStream.range(0, 30).forEach(i -> {
            create("many-" + i);
            source.put("many-" + i, "step-" + i + ".pt");
        });

        deck.backfillCheckpoints((done, total) -> { });

        assertThat(source.calls.get()).isEqualTo(30); // one listing per experiment
        assertThat(source.peak.get()).isBetween(1, 4); // SkyDeck lists four at a time
    }

    @Test
    void backfillVisitsEveryExperimentOnceAndReportsProgress() {
        IntStream.range(0, 250).forEach(i -> create("exp-" + i)); // more than one cycle's quiet slice
        List<int[]> progress = new CopyOnWriteArrayList<>();

        deck.backfillCheckpoints((done, total) -> progress.add(new int[] {done, total}));

        assertThat(source.calls.get()).isEqualTo(250);
        assertThat(progress).hasSize(250);
        assertThat(progress.get(249)).containsExactly(250, 250);
    }

    @Test
    void cyclesVisitBusyExperimentsFirstAndRotateThroughTheRest() {
        IntStream.range(0, 150).forEach(i -> create("quiet-" + i));
        deck.syncCheckpoints();
        assertThat(source.calls.get()).isEqualTo(QUIET_PER_CYCLE);
        deck.syncCheckpoints();
        assertThat(source.calls.get()).isEqualTo(QUIET_PER_CYCLE + 50);
    }
}
