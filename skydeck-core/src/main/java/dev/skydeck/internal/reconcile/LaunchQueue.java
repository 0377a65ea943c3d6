package dev.skydeck.internal.reconcile;

import dev.skydeck.Experiment;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The order of SkyDeck's launch queue: experiments due to launch while a global limit
 * ({@code max_concurrent_launches}, {@code max_gpus}) is reached wait here by priority (higher
 * first), then by the time they started waiting, then by id. It only orders; how much is in use
 * comes from the store ({@link dev.skydeck.spi.StoreReads#activeJobStats(String)}), and admission is
 * re-checked inside the transaction that records a launch, so no lock is held across SQL.
 * Thread-safe.
 */
final class LaunchQueue {
    private record Entry(long id, int priority, Instant since, int gpus) {
    }

    private static final Comparator<Entry> ORDER = Comparator.comparingInt(Entry::priority).reversed()
            .thenComparing(Entry::since).thenComparingLong(Entry::id);

    private final Map<Long, Entry> waiting = new HashMap<>();

    /** What is ahead of {@code e} if it waits (keeping its place if it waits already). */
    synchronized Ahead ahead(Experiment e, Instant now) {
        Entry self = waiting.getOrDefault(e.id(), entry(e, now));
        List<Entry> order = new ArrayList<>(waiting.values());
        if (!waiting.containsKey(e.id())) {
            order.add(self);
        }
        order.sort(ORDER);
        int slots = 0;
        int gpus = 0;
        for (Entry entry : order) {
            if (entry.id() == e.id()) {
                break;
            }
            slots++;
            gpus += entry.gpus();
        }
        return new Ahead(slots, gpus, slots + 1, order.size());
    }

    /** Places between this experiment and the head of the queue. */
    record Ahead(int slots, int gpus, int position, int size) {
    }

    /** Puts {@code e} in the queue (where it already is, if it waits). */
    synchronized void enqueue(Experiment e, Instant now) {
        waiting.computeIfAbsent(e.id(), id -> entry(e, now));
    }

    private static Entry entry(Experiment e, Instant now) {
        return new Entry(e.id(), e.spec().priority(), now, e.spec().totalGpus());
    }

    /** Removes an experiment that no longer waits. */
    synchronized void remove(long id) {
        waiting.remove(id);
    }

    /** Ids waiting, in queue order. */
    synchronized List<Long> waitingIds() {
        List<Entry> order = new ArrayList<>(waiting.values());
        order.sort(ORDER);
        return order.stream().map(Entry::id).toList();
    }
}
