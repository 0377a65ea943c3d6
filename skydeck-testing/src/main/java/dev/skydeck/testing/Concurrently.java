package dev.skydeck.testing;

import dev.skydeck.Event;
import dev.skydeck.EventQuery;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.SkyDeck;
import dev.skydeck.Subscription;
import java.util.function.Consumer;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Drives a SkyDeck from many threads at once, as double clicks and bulk actions do. */
public final class Concurrently {
    private Concurrently() {
    }

    /** What one of the threads of {@link #onThreads} does, given its number. */
    @FunctionalInterface
    public interface ThreadWork {
        /** Runs on thread {@code thread} (0-based). */
        void run(int thread) throws Exception;
    }

    /**
     * Runs {@code work} on each of {@code threads} threads at once and waits for all of them (at
     * most two minutes); rethrows the first failure.
     */
    public static void onThreads(int threads, ThreadWork work) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    work.run(thread);
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(2, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Starts every experiment from two of {@code threads} threads at once; rethrows the first failure. */
    public static void startEachTwice(SkyDeck deck, List<Experiment> experiments, int threads) throws Exception {
        int half = Math.max(1, threads / 2);
        onThreads(threads, t -> {
            for (int i = t % half; i < experiments.size(); i += half) {
                deck.start(experiments.get(i));
            }
        });
    }

    /**
     * Writes {@code perThread} events from each of {@code threads} threads at once (each a create
     * of an experiment named {@code <prefix>-<thread>-<i>}), while {@code listeners} listeners
     * subscribed before the first write collect what they are told. Returns, per listener, the
     * sequence numbers it received, once every listener has caught up with the store's last event.
     */
    public static List<List<Long>> writeEventsFromThreads(SkyDeck deck, String prefix, int threads, int perThread,
                                                          int listeners) throws Exception {
        List<List<Long>> seen = new ArrayList<>();
        List<Subscription> subscriptions = new ArrayList<>();
        for (int l = 0; l < listeners; l++) {
            List<Long> mine = new CopyOnWriteArrayList<>();
            seen.add(mine);
            Consumer<Event> listener = e -> mine.add(e.seq());
            subscriptions.add(deck.onEvent(listener));
        }
        onThreads(threads, thread -> {
            for (int i = 0; i < perThread; i++) {
                deck.create(ExperimentSpec.named(prefix + "-" + thread + "-" + i));
            }
        });
        long last = deck.events(EventQuery.latest(1)).get(0).seq();
        org.awaitility.Awaitility.await("listeners to catch up").until(() -> seen.stream()
                .allMatch(s -> !s.isEmpty() && s.get(s.size() - 1) >= last));
        subscriptions.forEach(Subscription::close);
        return seen;
    }
}
