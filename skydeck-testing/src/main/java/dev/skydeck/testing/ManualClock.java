package dev.skydeck.testing;

import dev.skydeck.spi.TaskScheduler;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/**
 * A clock that moves only when told, and a scheduler whose tasks run when the clock passes
 * their time: tests control time without sleeping.
 */
public final class ManualClock extends Clock implements TaskScheduler {
    private record Task(Instant due, long seq, Runnable run, boolean[] cancelled) {
    }

    private Instant now;
    private long seq;
    private final PriorityQueue<Task> tasks = new PriorityQueue<>((a, b) ->
            a.due().equals(b.due()) ? Long.compare(a.seq(), b.seq()) : a.due().compareTo(b.due()));

    /** A clock at 2026-01-01T00:00:00Z. */
    public ManualClock() {
        this(Instant.parse("2026-01-01T00:00:00Z"));
    }

    /** A clock at {@code start}. */
    public ManualClock(Instant start) {
        this.now = start;
    }

    @Override
    public synchronized Instant instant() {
        return now;
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }

    @Override
    public synchronized Scheduled schedule(Runnable task, Duration delay) {
        boolean[] cancelled = {false};
        tasks.add(new Task(now.plus(delay), seq++, task, cancelled));
        return () -> {
            synchronized (ManualClock.this) {
                cancelled[0] = true;
            }
        };
    }

    /** Moves time forward, running every task that falls due, in time order. */
    public void advance(Duration d) {
        Instant target;
        synchronized (this) {
            target = now.plus(d);
        }
        while (true) {
            Task next;
            synchronized (this) {
                next = tasks.peek();
                if (next == null || next.due().isAfter(target)) {
                    now = target;
                    return;
                }
                tasks.poll();
                if (next.due().isAfter(now)) {
                    now = next.due();
                }
                if (next.cancelled()[0]) {
                    continue;
                }
            }
            next.run().run();
        }
    }

    /** Due times of tasks not yet run or cancelled. */
    public synchronized List<Instant> pending() {
        List<Instant> out = new ArrayList<>();
        for (Task t : tasks) {
            if (!t.cancelled()[0]) {
                out.add(t.due());
            }
        }
        out.sort(null);
        return out;
    }
}
