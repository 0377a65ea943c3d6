package dev.skydeck.jdbc.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** Counts SQL statements, in all and per thread name (one part of the engine, without the others). */
public final class StatementCounter {
    private final AtomicLong total = new AtomicLong();
    private final Map<String, LongAdder> byThread = new ConcurrentHashMap<>();

    /** One more statement, on this thread. */
    void increment() {
        total.incrementAndGet();
        byThread.computeIfAbsent(Thread.currentThread().getName(), n -> new LongAdder()).increment();
    }

    /** Statements so far. */
    public long total() {
        return total.get();
    }

    /** Statements so far on threads whose name starts with {@code prefix}. */
    public long onThreads(String prefix) {
        long n = 0;
        for (Map.Entry<String, LongAdder> e : byThread.entrySet()) {
            if (e.getKey().startsWith(prefix)) {
                n += e.getValue().sum();
            }
        }
        return n;
    }
}
