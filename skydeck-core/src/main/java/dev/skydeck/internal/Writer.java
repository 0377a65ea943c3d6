package dev.skydeck.internal;

import dev.skydeck.Event;
import dev.skydeck.internal.events.EventFeed;
import dev.skydeck.spi.Store;
import dev.skydeck.spi.StoreTx;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Runs store transactions, collecting the events they append in one batch, and wakes the event
 * feed once they have committed (listeners never see an event that was rolled back, and the feed
 * delivers them in the store's order).
 */
public final class Writer {
    private final Store store;
    private final EventFeed feed;
    private final Consumer<StoreTx> fence;
    private final String user;
    private final LocalSeqs local;

    /** @param store where to write; @param feed woken after each commit that appended events */
    public Writer(Store store, EventFeed feed) {
        this(store, feed, null, null, new LocalSeqs());
    }

    private Writer(Store store, EventFeed feed, Consumer<StoreTx> fence, String user, LocalSeqs local) {
        this.store = store;
        this.feed = feed;
        this.fence = fence;
        this.user = user;
        this.local = local;
    }

    /**
     * A writer acting for {@code name}: its user events carry that name ({@code null}: no user),
     * and {@link Unit#user()} gives it to what the work records (a creator, a starter).
     */
    public Writer as(String name) {
        return new Writer(store, feed, fence, name, local);
    }

    /**
     * A writer whose every transaction first runs {@code check} (the engine lease's fence), so
     * the reconciler, poller and syncer write nothing once another process drives the engine.
     */
    public Writer fenced(Consumer<StoreTx> check) {
        return new Writer(store, feed, check, user, local);
    }

    /** One transaction; events added through {@link Unit#event} are appended in one statement at its end. */
    public <T> T write(Function<Unit, T> work) {
        List<Event> appended = new ArrayList<>();
        T result = store.write(tx -> {
            appended.clear(); // a retried transaction starts again
            if (fence != null) {
                fence.accept(tx);
            }
            Unit unit = new Unit(tx, user);
            T r = work.apply(unit);
            appended.addAll(unit.flush());
            return r;
        });
        local.commits.incrementAndGet();
        if (!appended.isEmpty()) {
            local.record(appended);
            feed.wake();
        }
        return result;
    }

    /**
     * How many transactions this process committed through this writer (and its {@link #as} and
     * {@link #fenced} copies), counted after each commit: with the store's last event number it
     * tells a reader whether anything it read before may have changed, since some writes (the
     * reconciler's observations, presentation) append no event.
     */
    public long commits() {
        return local.commits.get();
    }

    /**
     * Whether this process committed the event with sequence number {@code seq} (asked once per
     * event, by the feed's listener that hands other processes' intent to the reconciler).
     */
    public boolean takeLocal(long seq) {
        return local.take(seq);
    }

    /** The sequence numbers of events this process committed and the feed has not delivered yet. */
    static final class LocalSeqs {
        private static final int MAX = 100_000;
        private final java.util.Set<Long> seqs = java.util.concurrent.ConcurrentHashMap.newKeySet();
        private final java.util.concurrent.atomic.AtomicLong commits = new java.util.concurrent.atomic.AtomicLong();

        void record(List<Event> events) {
            if (seqs.size() > MAX) {
                seqs.clear(); // a listener that stopped taking: forget rather than grow
            }
            for (Event e : events) {
                seqs.add(e.seq());
            }
        }

        boolean take(long seq) {
            return seqs.remove(seq);
        }
    }

    /** The store. */
    public Store store() {
        return store;
    }

    /** A transaction plus the events it will append. */
    public static final class Unit {
        private final StoreTx tx;
        private final String user;
        private final List<Event> drafts = new ArrayList<>();

        Unit(StoreTx tx, String user) {
            this.tx = tx;
            this.user = user;
        }

        /** The user this work is done for, or {@code null}. */
        public String user() {
            return user;
        }

        /** The store transaction. */
        public StoreTx tx() {
            return tx;
        }

        /** Adds an event, appended (and numbered) when the work returns, in the order added. */
        public void event(Event draft) {
            drafts.add(draft.actor() == dev.skydeck.Actor.USER && draft.user() == null && user != null
                    ? draft.byUser(user) : draft);
        }

        private List<Event> flush() {
            return drafts.isEmpty() ? List.of() : tx.appendEvents(drafts);
        }
    }
}
