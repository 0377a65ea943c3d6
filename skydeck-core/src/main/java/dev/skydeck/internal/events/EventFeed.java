package dev.skydeck.internal.events;

import dev.skydeck.Event;
import dev.skydeck.EventQuery;
import dev.skydeck.Subscription;
import dev.skydeck.internal.Threads;
import dev.skydeck.spi.Store;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers committed events to listeners exactly once and in sequence order, on one thread
 * ({@code skydeck-events}). It tails the store's event log rather than relaying what writers
 * hand it: writers only wake it after they commit, and it reads every event after the last one
 * it delivered. Stores number events in commit order without gaps, so the order listeners see
 * is the store's order, whichever thread (or process) committed first, and an event can be
 * neither skipped nor repeated.
 *
 * <p>With no listeners it reads nothing; the first subscriber starts at the store's newest event.
 */
public final class EventFeed implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventFeed.class);
    private static final int PAGE = 1_000;

    private final Store store;
    private final List<Consumer<Event>> listeners = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private final Subscription external;
    private final Object signal = new Object();
    private boolean woken;
    private volatile boolean closed;
    /** The last sequence number delivered; -1 while nobody listens (reads start afresh). */
    private volatile long delivered = -1;

    /** A feed over {@code store}'s event log; its thread starts at once. */
    public EventFeed(Store store) {
        this.store = store;
        this.thread = Threads.named("skydeck-events", true).newThread(this::run);
        this.thread.start();
        this.external = store.onExternalCommit(this::wake);
    }

    /** Something committed: read the log again soon. Cheap; call after every commit that appended events. */
    public void wake() {
        synchronized (signal) {
            woken = true;
            signal.notifyAll();
        }
    }

    /**
     * Calls {@code listener} with every event committed from now on (and any committed just
     * before that was not delivered yet), in order, on the feed's thread.
     */
    public Subscription subscribe(Consumer<Event> listener) {
        synchronized (signal) {
            if (delivered < 0) {
                delivered = store.lastEventSeq();
            }
            listeners.add(listener);
        }
        return () -> listeners.remove(listener);
    }

    /** The last sequence number delivered to listeners, or -1 while there are none. */
    public long delivered() {
        return delivered;
    }

    private void run() {
        while (!closed) {
            synchronized (signal) {
                while (!woken && !closed) {
                    try {
                        signal.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                woken = false;
            }
            try {
                drain();
            } catch (RuntimeException e) {
                // the store failed (or closed): the next wake reads again from where delivery stopped
                if (!closed) {
                    log.warn("Reading the event log failed ({}); live listeners get those events at the next"
                            + " commit", e.getMessage());
                }
            }
        }
    }

    private void drain() {
        while (!closed) {
            long after;
            synchronized (signal) {
                if (listeners.isEmpty()) {
                    delivered = -1;
                    return;
                }
                after = delivered;
            }
            List<Event> page = store.events(EventQuery.after(after, PAGE));
            for (Event e : page) {
                for (Consumer<Event> l : listeners) {
                    try {
                        l.accept(e);
                    } catch (RuntimeException ex) {
                        log.warn("An event listener failed on event {} ({}); other listeners still get it", e.seq(),
                                e.type(), ex);
                    }
                }
                delivered = e.seq();
            }
            if (page.size() < PAGE) {
                return;
            }
        }
    }

    /** Stops the thread (events not yet delivered are not). Idempotent. */
    @Override
    public void close() {
        closed = true;
        external.close();
        synchronized (signal) {
            signal.notifyAll();
        }
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
