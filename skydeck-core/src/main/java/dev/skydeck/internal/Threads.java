package dev.skydeck.internal;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Named threads: every SkyDeck thread is called {@code skydeck-<component>-<n>}. */
public final class Threads {
    private Threads() {
    }

    /** A factory of threads named {@code prefix-1}, {@code prefix-2}, … */
    public static ThreadFactory named(String prefix, boolean daemon) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(daemon);
            return t;
        };
    }

    /**
     * Shuts an executor down: work in flight may finish within {@code grace}, then it is
     * interrupted. Returns whether it finished in time.
     */
    public static boolean shutdown(ExecutorService executor, Duration grace) {
        executor.shutdown();
        try {
            if (executor.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                return true;
            }
            executor.shutdownNow();
            return false;
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
