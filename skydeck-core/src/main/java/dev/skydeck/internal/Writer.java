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

    /** @param store where to write; @param feed woken after each commit that appended events */
    public Writer(Store store, EventFeed feed) {
        this(store, feed, null, null);
    }

    private Writer(Store store, EventFeed feed, Consumer<StoreTx> fence, String user) {
        this.store = store;
        this.feed = feed;
        this.fence = fence;
        this.user = user;
    }

    /**
     * A writer acting for {@code name}: its user events carry that name ({@code null}: no user),
     * and {@link Unit#user()} gives it to what the work records (a creator, a starter).
     */
    public Writer as(String name) {
        return new Writer(store, feed, fence, name);
    }

    /**
     * A writer whose every transaction first runs {@code check} (the engine lease's fence), so
     * the reconciler, poller and syncer write nothing once another process drives the engine.
     */
    public Writer fenced(Consumer<StoreTx> check) {
        return new Writer(store, feed, check, user);
    }

    /** One transaction; events added through {@link Unit#event} are appended in one statement at its end. */
    public <T> T write(Function<Unit, T> work) {
        boolean[] appended = new boolean[1];
        T result = store.write(tx -> {
            if (fence != null) {
                fence.accept(tx);
            }
            Unit unit = new Unit(tx, user);
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

        private boolean flush() {
            if (drafts.isEmpty()) {
                return false;
            }
            tx.appendEvents(drafts);
            return true;
        }
    }
}
