package dev.skydeck.internal;

import dev.skydeck.Event;
import dev.skydeck.internal.events.EventFeed;
import dev.skydeck.spi.Store;
import dev.skydeck.spi.StoreTx;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Runs store transactions, collecting the events they append in one batch, and wakes the event
 * feed once they have committed (listeners never see an event that was rolled back, and the feed
 * delivers them in the store's order).
 */
public final class Writer {
    private final Store store;
    private final EventFeed feed;

    /** @param store where to write; @param feed woken after each commit that appended events */
    public Writer(Store store, EventFeed feed) {
        this.store = store;
        this.feed = feed;
    }

    /** One transaction; events added through {@link Unit#event} are appended in one statement at its end. */
    public <T> T write(Function<Unit, T> work) {
        boolean[] appended = new boolean[1];
        T result = store.write(tx -> {
            Unit unit = new Unit(tx);
            T r = work.apply(unit);
            appended[0] = unit.flush();
            return r;
        });
        if (appended[0]) {
            feed.wake();
        }
        return result;
    }

    /** The store. */
    public Store store() {
        return store;
    }

    /** A transaction plus the events it will append. */
    public static final class Unit {
        private final StoreTx tx;
        private final List<Event> drafts = new ArrayList<>();

        Unit(StoreTx tx) {
            this.tx = tx;
        }

        /** The store transaction. */
        public StoreTx tx() {
            return tx;
        }

        /** Adds an event, appended (and numbered) when the work returns, in the order added. */
        public void event(Event draft) {
            drafts.add(draft);
        }

        private boolean flush() {
            if (drafts.isEmpty()) {
                return false;
            }
            tx.appendEvents(drafts);
            return true;
        }
    }
}
