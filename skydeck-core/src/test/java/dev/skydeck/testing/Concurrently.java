package dev.skydeck.testing;

import dev.skydeck.Experiment;
import dev.skydeck.SkyDeck;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Drives a SkyDeck from many threads at once, as double clicks and bulk actions do. */
public final class Concurrently {
    private Concurrently() {
    }

    /** Starts every experiment from two of {@code threads} threads at once; rethrows the first failure. */
    public static void startEachTwice(SkyDeck deck, List<Experiment> experiments, int threads) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            int half = Math.max(1, threads / 2);
            for (int t = 0; t < threads; t++) {
                int slice = t % half;
                futures.add(pool.submit(() -> {
                    for (int i = slice; i < experiments.size(); i += half) {
                        deck.start(experiments.get(i));
                    }
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
    }
}
