package dev.skydeck.internal;

import dev.skydeck.Event;
import dev.skydeck.spi.Store;
import dev.skydeck.spi.StoreTx;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Runs store transactions and publishes the events they append once they have committed, so
 * listeners never see an event that was rolled back.
 */
public final class Writer {
    private final Store store;
    private final EventBus bus;

    /** @param store where to write; @param bus where committed events go */
    public Writer(Store store, EventBus bus) {
        this.store = store;
        this.bus = bus;
    }

    /** One transaction; events appended through {@link Unit#event} are published after commit. */
    public <T> T write(Function<Unit, T> work) {
        List<Event> appended = new ArrayList<>();
        T result = store.write(tx -> {
            appended.clear();
            return work.apply(new Unit(tx, appended));
        });
        bus.publish(appended);
        return result;
    }

    /** The store. */
    public Store store() {
        return store;
    }

    /** A transaction plus event collection. */
    public static final class Unit {
        private final StoreTx tx;
        private final List<Event> appended;

        Unit(StoreTx tx, List<Event> appended) {
            this.tx = tx;
            this.appended = appended;
        }

        /** The store transaction. */
        public StoreTx tx() {
            return tx;
        }

        /** Appends an event in this transaction. */
        public Event event(Event draft) {
            Event e = tx.appendEvent(draft);
            appended.add(e);
            return e;
        }
    }
}
