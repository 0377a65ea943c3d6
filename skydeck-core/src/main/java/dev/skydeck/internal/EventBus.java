package dev.skydeck.internal;

import dev.skydeck.Event;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Delivers committed events to listeners, in order, on the committing thread. */
public final class EventBus {
    private static final Logger log = LoggerFactory.getLogger(EventBus.class);
    private final List<Consumer<Event>> listeners = new CopyOnWriteArrayList<>();

    /** Adds a listener; the returned handle removes it. */
    public AutoCloseable subscribe(Consumer<Event> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /** Publishes events that were committed. */
    public void publish(List<Event> events) {
        for (Event e : events) {
            for (Consumer<Event> l : listeners) {
                try {
                    l.accept(e);
                } catch (RuntimeException ex) {
                    log.warn("An event listener failed on event {} ({}); other listeners still get it", e.seq(),
                            e.type(), ex);
                }
            }
        }
    }
}
