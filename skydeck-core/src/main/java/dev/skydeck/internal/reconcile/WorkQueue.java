package dev.skydeck.internal.reconcile;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs work per key on a bounded pool with at most one run in flight per key; keys enqueued
 * while their work runs coalesce into exactly one more run (java-operator-sdk's "under
 * processing" flag and "event pending" mark).
 */
final class WorkQueue<K> {
    private static final Logger log = LoggerFactory.getLogger(WorkQueue.class);

    private enum Mark { QUEUED, RUNNING, RUNNING_AND_PENDING }

    private final ExecutorService executor;
    private final Consumer<K> work;
    private final Map<K, Mark> marks = new HashMap<>();
    private boolean stopped;

    WorkQueue(ExecutorService executor, Consumer<K> work) {
        this.executor = executor;
        this.work = work;
    }

    /** Asks for one run of {@code key}'s work (soon, or after the one in flight). */
    void enqueue(K key) {
        synchronized (marks) {
            if (stopped) {
                return;
            }
            Mark mark = marks.get(key);
            if (mark == null) {
                marks.put(key, Mark.QUEUED);
                submit(key);
            } else if (mark == Mark.RUNNING) {
                marks.put(key, Mark.RUNNING_AND_PENDING);
            }
        }
    }

    /** Whether nothing is queued or running. */
    boolean idle() {
        synchronized (marks) {
            return marks.isEmpty();
        }
    }

    /** Accepts no more work; work in flight finishes. */
    void stop() {
        synchronized (marks) {
            stopped = true;
        }
    }

    private void submit(K key) {
        try {
            executor.execute(() -> run(key));
        } catch (RejectedExecutionException e) {
            marks.remove(key);
        }
    }

    private void run(K key) {
        synchronized (marks) {
            marks.put(key, Mark.RUNNING);
        }
        try {
            work.accept(key);
        } catch (RuntimeException | Error e) {
            log.error("Reconcile of {} failed unexpectedly; the next resync retries it", key, e);
        } finally {
            synchronized (marks) {
                if (marks.get(key) == Mark.RUNNING_AND_PENDING && !stopped) {
                    marks.put(key, Mark.QUEUED);
                    submit(key);
                } else {
                    marks.remove(key);
                }
            }
        }
    }
}
