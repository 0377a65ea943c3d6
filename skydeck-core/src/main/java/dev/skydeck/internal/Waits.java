package dev.skydeck.internal;

import dev.skydeck.Experiment;
import dev.skydeck.SkyDeckException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.LongFunction;

/**
 * Callers waiting for experiments to settle. A wait is registered under each of its experiment
 * ids and leaves every one of them the moment its future completes, however it completes:
 * settled, timed out, cancelled by the caller, or failed by {@link #close()}. Nothing stays
 * registered for a wait nobody holds any more.
 */
public final class Waits {
    private final Map<Long, Set<Wait>> byId = new HashMap<>();
    private final LongFunction<Experiment> load;
    private final Function<List<Long>, List<Experiment>> loadAll;

    /**
     * @param load    reads one experiment as stored ({@code null} when gone)
     * @param loadAll reads the experiments a finished wait returns
     */
    public Waits(LongFunction<Experiment> load, Function<List<Long>, List<Experiment>> loadAll) {
        this.load = load;
        this.loadAll = loadAll;
    }

    private final class Wait {
        final CompletableFuture<List<Experiment>> future = new CompletableFuture<>();
        final List<Long> ids;
        final Set<Long> pending;

        Wait(List<Long> ids) {
            this.ids = ids;
            this.pending = new HashSet<>(ids);
        }
    }

    /** Registers a wait for {@code ids}; the future completes with them as stored once each has settled. */
    public CompletableFuture<List<Experiment>> register(Collection<Long> ids) {
        Wait w = new Wait(ids.stream().distinct().toList());
        if (w.ids.isEmpty()) {
            w.future.complete(List.of());
            return w.future;
        }
        synchronized (byId) {
            for (long id : w.ids) {
                byId.computeIfAbsent(id, k -> new HashSet<>()).add(w);
            }
        }
        w.future.whenComplete((r, e) -> deregister(w));
        return w.future;
    }

    private void deregister(Wait w) {
        synchronized (byId) {
            for (long id : w.ids) {
                Set<Wait> set = byId.get(id);
                if (set != null) {
                    set.remove(w);
                    if (set.isEmpty()) {
                        byId.remove(id);
                    }
                }
            }
        }
    }

    /** The reconciler finished a pass over {@code id}: completes the waits it was the last one missing for. */
    public void reconciled(long id) {
        List<Wait> waiting;
        synchronized (byId) {
            Set<Wait> set = byId.get(id);
            if (set == null) {
                return;
            }
            waiting = new ArrayList<>(set);
        }
        Experiment e = load.apply(id);
        if (e != null && !e.settled()) {
            return;
        }
        List<Wait> done = new ArrayList<>();
        synchronized (byId) {
            for (Wait w : waiting) {
                w.pending.remove(id);
                if (w.pending.isEmpty()) {
                    done.add(w);
                }
            }
        }
        for (Wait w : done) {
            try {
                w.future.complete(loadAll.apply(w.ids));
            } catch (RuntimeException ex) {
                w.future.completeExceptionally(ex);
            }
        }
    }

    /** The experiments some wait is registered for. */
    public List<Long> watchedIds() {
        synchronized (byId) {
            return List.copyOf(byId.keySet());
        }
    }

    /** How many waits are registered (each counted once). */
    public int size() {
        synchronized (byId) {
            return (int) byId.values().stream().flatMap(Set::stream).distinct().count();
        }
    }

    /** Fails every wait (SkyDeck is closing). */
    public void close() {
        List<Wait> all;
        synchronized (byId) {
            all = byId.values().stream().flatMap(Set::stream).distinct().toList();
        }
        all.forEach(w -> w.future.completeExceptionally(new SkyDeckException("SkyDeck was closed while waiting")));
    }
}
