package dev.skydeck.internal;

import java.util.concurrent.ThreadFactory;
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
}
