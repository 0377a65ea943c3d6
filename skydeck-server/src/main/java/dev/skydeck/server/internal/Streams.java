package dev.skydeck.server.internal;

import java.io.Closeable;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Log follows: long-lived responses that must be closed before the HTTP server stops. A
 * backend's log reader blocks while it waits for output, so each follow reads on a thread of
 * this pool, never on one of the HTTP server's: at most {@link #MAX_FOLLOWS} at once.
 */
public final class Streams {
    /** The most log follows open at once (each reads on a thread of its own). */
    public static final int MAX_FOLLOWS = 100;

    private final Set<Closeable> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger names = new AtomicInteger();
    private final ExecutorService readers = new ThreadPoolExecutor(0, MAX_FOLLOWS, 30, TimeUnit.SECONDS,
            new SynchronousQueue<>(), r -> {
                Thread t = new Thread(r, "skydeck-log-follow-" + names.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
    private volatile boolean closed;

    /** Tracks {@code c} until the returned handle is closed. */
    public AutoCloseable open(Closeable c) throws IOException {
        if (closed) {
            c.close();
            throw new ApiException(503, "the server is shutting down");
        }
        open.add(c);
        return () -> open.remove(c);
    }

    /**
     * Runs {@code follow} (which reads {@code reader} to the client) on a thread of its own.
     *
     * @throws ApiException 503 when {@link #MAX_FOLLOWS} follows are open, or the server is stopping
     */
    public CompletableFuture<Void> follow(Closeable reader, Runnable follow) throws IOException {
        if (closed) {
            reader.close();
            throw new ApiException(503, "the server is shutting down");
        }
        try {
            return CompletableFuture.runAsync(follow, readers);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            reader.close();
            throw new ApiException(503, "the server has " + MAX_FOLLOWS + " log follows open, as many as it allows:"
                    + " close one, or read the log without follow");
        }
    }

    /** How many are open. */
    public int size() {
        return open.size();
    }

    /** Closes every open stream and refuses new ones. */
    public void closeAll() {
        closed = true;
        for (Closeable c : open) {
            try {
                c.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        open.clear();
        readers.shutdown();
        try {
            readers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
