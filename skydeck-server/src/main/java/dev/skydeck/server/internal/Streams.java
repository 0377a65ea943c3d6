package dev.skydeck.server.internal;

import java.io.Closeable;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Long-lived responses (log follows, event streams) that must be closed before the HTTP server stops. */
public final class Streams {
    private final Set<Closeable> open = ConcurrentHashMap.newKeySet();
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
    }
}
