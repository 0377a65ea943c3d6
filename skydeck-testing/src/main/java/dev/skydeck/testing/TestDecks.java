package dev.skydeck.testing;

import dev.skydeck.SkyDeck;
import dev.skydeck.memory.InMemoryStore;
import dev.skydeck.spi.Store;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

/**
 * SkyDecks for a test: all on one store, one {@link FakeBackend} and one {@link ManualClock} (as
 * clock and scheduler), with seeded jitter; {@link #close()} closes every one opened. Several
 * decks on one store stand for several SkyDeck processes on one database.
 *
 * <pre>{@code
 * private final TestDecks decks = new TestDecks();
 * @AfterEach void close() { decks.close(); }
 * SkyDeck deck = decks.open(b -> b.maxGpus(8));
 * }</pre>
 */
public final class TestDecks implements AutoCloseable {
    /** The manual clock and scheduler every deck uses. */
    public final ManualClock clock = new ManualClock();
    /** The backend every deck uses. */
    public final FakeBackend backend = new FakeBackend(clock);
    /** The store every deck uses. */
    public final Store store;
    private final long seed;
    private final List<SkyDeck> opened = new ArrayList<>();

    /** Decks over a new in-memory store. */
    public TestDecks() {
        this(new InMemoryStore(), 7);
    }

    /** Decks over {@code store} with jitter seeded by {@code seed}. */
    public TestDecks(Store store, long seed) {
        this.store = store;
        this.seed = seed;
    }

    /** A started deck with the defaults. */
    public SkyDeck open() {
        return open(b -> b);
    }

    /** A deck with {@code options} applied to the shared builder. */
    public SkyDeck open(UnaryOperator<SkyDeck.Builder> options) {
        SkyDeck deck = options.apply(SkyDeck.builder().store(store).backend(backend).clock(clock).scheduler(clock)
                .random(new SplittableRandom(seed))).build();
        opened.add(deck);
        return deck;
    }

    /** Closes every deck opened (the store stays open for the test to read). */
    @Override
    public void close() {
        opened.forEach(SkyDeck::close);
    }
}
