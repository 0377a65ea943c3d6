package dev.skydeck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.skydeck.memory.InMemoryStore;
import dev.skydeck.testing.StoreDelegate;
import dev.skydeck.testing.TestDecks;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The periodic resync at a size where passing over every experiment each interval costs a core. */
class ResyncTest {
    private static final int SIZE = 2_500;
    /** Settled experiments a periodic resync looks at anyway, in turn (the README's figure). */
    private static final int SLICE = 1_000;
    private static final Duration INTERVAL = Duration.ofSeconds(60);

    /** Counts the experiments the reconciler's threads read, one read per pass. */
    static final class PassCounting extends StoreDelegate {
        final Set<Long> passed = ConcurrentHashMap.newKeySet();

        PassCounting() {
            super(new InMemoryStore());
        }

        @Override
        public Optional<Experiment> experiment(long id) {
            if (Thread.currentThread().getName().startsWith("skydeck-reconciler")) {
                passed.add(id);
            }
            return super.experiment(id);
        }
    }

    private final PassCounting store = new PassCounting();
    private final TestDecks decks = new TestDecks(store, 7);

    @AfterEach
    void close() {
        decks.close();
    }

    /** {@value #SIZE} experiments named {@code prefix.NNNN}, once the reconciler settled each. */
    private static List<Experiment> createSettled(SkyDeck deck, String prefix) {
        List<Experiment> all = deck.createAll(IntStream.range(0, SIZE)
                .mapToObj(i -> ExperimentSpec.named("%s.%04d".formatted(prefix, i))).toList());
        List<Long> ids = all.stream().map(Experiment::id).toList();
        await().atMost(Duration.ofSeconds(60)).until(() -> deck.settled(ids).size() == SIZE);
        return all;
    }

    @Test
    void settledExperimentsAreLookedAtASliceAtATimeAndTheUnsettledOnesEveryInterval() {
        SkyDeck deck = decks.open();
        List<Experiment> all = createSettled(deck, "r");
        Experiment unsettled = all.get(SIZE - 1);
        store.write(tx -> {
            tx.updateStatus(unsettled.id(), ExperimentStatus.NEW);
            return null;
        });
        store.passed.clear();

        decks.clock.advance(INTERVAL);

        await().atMost(Duration.ofSeconds(30)).until(() -> store.passed.size() >= SLICE + 1);
        assertThat(store.passed).as("a slice of the settled ones and the one not settled")
                .hasSize(SLICE + 1).contains(unsettled.id());

        decks.clock.advance(INTERVAL);
        decks.clock.advance(INTERVAL);
        await().atMost(Duration.ofSeconds(30)).until(() -> store.passed.size() == SIZE);
        assertThat(deck.experiment(unsettled.id()).settled()).isTrue();
    }

    @Test
    void reconcileAllStillLooksAtEveryExperimentAtOnce() {
        SkyDeck deck = decks.open();
        createSettled(deck, "a");
        store.passed.clear();

        deck.reconcileAll();

        await().atMost(Duration.ofSeconds(30)).until(() -> store.passed.size() == SIZE);
    }
}
