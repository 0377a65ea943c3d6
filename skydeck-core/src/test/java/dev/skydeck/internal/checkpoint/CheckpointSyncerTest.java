package dev.skydeck.internal.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.skydeck.Checkpoint;
import dev.skydeck.EventQuery;
import dev.skydeck.EventType;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.SkyDeckException;
import dev.skydeck.internal.Config;
import dev.skydeck.internal.EventBus;
import dev.skydeck.internal.Writer;
import dev.skydeck.spi.CheckpointObject;
import dev.skydeck.spi.CheckpointSource;
import dev.skydeck.spi.InMemoryStore;
import dev.skydeck.spi.Store;
import dev.skydeck.testing.ManualClock;
import dev.skydeck.testing.CountingStore;
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

/** The checkpoint syncer with a fake source and a manual clock. */
@ExtendWith(NoThreadLeaks.class)
class CheckpointSyncerTest {
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
    private final CheckpointSyncer syncer = new CheckpointSyncer(new Writer(store, new EventBus()), source, clock,
            clock, Config.DEFAULTS, 3);

    @AfterEach
    void close() {
        syncer.close();
    }

    private Experiment create(String name) {
        return store.write(tx -> tx.insertExperiment(ExperimentSpec.named(name), clock.instant()));
    }

    @Test
    void aCycleRecordsCheckpointsWithReplaysAndTheLatestEpoch() {
        Experiment e = create("ppo");
        source.put("ppo", "ppo:v1.mpt", "ppo:v2.mpt", "replays/replay_epoch_2.json", "notes.txt");

        CheckpointSyncer.Result r = syncer.syncOnce();

        assertThat(r.upserted()).isEqualTo(2);
        List<Checkpoint> stored = store.checkpoints(e.id(), 10);
        assertThat(stored).extracting(Checkpoint::epoch).containsExactly(2L, 1L);
        assertThat(stored.get(0).replayPaths()).containsExactly("mem://ppo/replays/replay_epoch_2.json");
        assertThat(stored.get(0).policyVersion()).isEqualTo("v2");
        assertThat(store.experiment(e.id()).orElseThrow().latestEpoch()).isEqualTo(2L);
        assertThat(store.events(new EventQuery(0, e.id(), 10, false))).extracting(ev -> ev.type())
                .containsExactly(EventType.CHECKPOINT);
        assertThat(syncer.status().lastSuccess()).isEqualTo(T);
    }

    @Test
    void aCycleWhereNothingChangedWritesNothing() {
        create("steady");
        source.put("steady", "checkpoint_0001.pt", "checkpoint_0002.pt");
        syncer.syncOnce();
        int writes = store.writes.get();
        clock.advance(Duration.ofMinutes(1));

        CheckpointSyncer.Result r = syncer.syncOnce();

        assertThat(r.listed()).isEqualTo(1);
        assertThat(r.upserted()).isZero();
        assertThat(store.writes.get()).isEqualTo(writes);
    }

    @Test
    void onlyNewCheckpointsAreWrittenAndGoneOnesAreMarked() {
        Experiment e = create("growing");
        source.put("growing", "model-1.pt", "model-2.pt");
        syncer.syncOnce();
        clock.advance(Duration.ofMinutes(1));
        source.put("growing", "model-2.pt", "model-3.pt");

        CheckpointSyncer.Result r = syncer.syncOnce();

        assertThat(r.upserted()).isEqualTo(1); // epoch 3 is new
        assertThat(r.markedGone()).isEqualTo(1);
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

        assertThatThrownBy(syncer::syncOnce).isInstanceOf(SkyDeckException.class).hasMessageContaining("throttling");
        assertThat(syncer.status().lastError()).contains("flaky").contains("throttling");
        assertThat(syncer.status().lastFailure()).isEqualTo(T);
        assertThat(store.checkpoints(e.id(), 10)).isEmpty();

        source.failure = null;
        source.put("flaky", "epoch_5.pt");
        clock.advance(Duration.ofMinutes(2));
        syncer.syncOnce();
        assertThat(syncer.status().lastError()).isNull();
        assertThat(syncer.status().lastSuccess()).isEqualTo(clock.instant());
        assertThat(store.checkpoints(e.id(), 10)).extracting(Checkpoint::epoch).containsExactly(5L);
    }

    @Test
    void aFailingSourceIsRetriedWithGrowingBackoffUntilItWorksAgain() {
        create("backoff");
        source.failure = new SkyDeckException("S3 unavailable", true, null);
        syncer.start();
        clock.advance(Duration.ZERO); // the first cycle is due at once
        await().until(() -> source.calls.get() == 1 && syncer.status().lastError() != null && clock.pending().size() == 1);
        assertThat(clock.pending()).containsExactly(T.plusSeconds(120)); // 2 × interval after one failure
        clock.advance(Duration.ofSeconds(120));
        await().until(() -> source.calls.get() == 2 && clock.pending().size() == 1);
        assertThat(clock.pending()).containsExactly(T.plusSeconds(120 + 240)); // 4 × after two
        source.failure = null;
        clock.advance(Duration.ofSeconds(240));
        await().until(() -> source.calls.get() == 3 && syncer.status().lastError() == null && clock.pending().size() == 1);
        assertThat(clock.pending()).containsExactly(T.plusSeconds(360 + 60)); // back to the normal interval
        clock.advance(Duration.ofSeconds(60));
        await().until(() -> source.calls.get() == 4);
    }

    @Test
    void listingsRunConcurrentlyButNeverAboveTheLimit() {
        IntStream.range(0, 30).forEach(i -> {
            create("many-" + i);
            source.put("many-" + i, "step-" + i + ".pt");
        });

        CheckpointSyncer.Result r = syncer.backfill((done, total) -> { });

        assertThat(r.listed()).isEqualTo(30);
        assertThat(source.calls.get()).isEqualTo(30); // one listing per experiment
        assertThat(source.peak.get()).isBetween(1, 3);
    }

    @Test
    void backfillVisitsEveryExperimentOnceAndReportsProgress() {
        IntStream.range(0, 250).forEach(i -> create("exp-" + i)); // more than one cycle's quiet slice
        List<int[]> progress = new CopyOnWriteArrayList<>();

        CheckpointSyncer.Result r = syncer.backfill((done, total) -> progress.add(new int[] {done, total}));

        assertThat(r.listed()).isEqualTo(250);
        assertThat(progress).hasSize(250);
        assertThat(progress.get(249)).containsExactly(250, 250);
    }

    @Test
    void cyclesVisitBusyExperimentsFirstAndRotateThroughTheRest() {
        IntStream.range(0, 150).forEach(i -> create("quiet-" + i));
        syncer.syncOnce();
        assertThat(source.calls.get()).isEqualTo(CheckpointSyncer.QUIET_PER_CYCLE);
        syncer.syncOnce();
        assertThat(source.calls.get()).isEqualTo(CheckpointSyncer.QUIET_PER_CYCLE + 50);
    }
}
