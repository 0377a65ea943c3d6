package dev.skydeck.server.internal;

import io.javalin.http.Context;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many long-lived requests (event streams, log follows, long polls) are open, per client
 * address and overall. None of them holds a server thread, but each holds a connection and a
 * little memory: past a limit a new one gets 503 with a detail that says which limit.
 */
public final class StreamLimits {
    private final int total;
    private final int perClient;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<String, AtomicInteger> byClient = new ConcurrentHashMap<>();

    /** At most {@code total} open at once, and {@code perClient} from one remote address. */
    public StreamLimits(int total, int perClient) {
        this.total = total;
        this.perClient = perClient;
    }

    /** One open request; {@link #close()} (idempotent) gives its place back. */
    public final class Permit implements AutoCloseable {
        private final String client;
        private final AtomicBoolean released = new AtomicBoolean();

        private Permit(String client) {
            this.client = client;
        }

        @Override
        public void close() {
            if (released.compareAndSet(false, true)) {
                open.decrementAndGet();
                byClient.computeIfPresent(client, (k, n) -> n.decrementAndGet() <= 0 ? null : n);
            }
        }
    }

    /**
     * Takes a place for {@code what} (say, "event stream") from the request's remote address.
     *
     * @throws ApiException 503 when the client or the server has as many open as allowed
     */
    public Permit acquire(Context ctx, String what) {
        String client = ctx.req().getRemoteAddr();
        AtomicInteger mine = byClient.compute(client, (k, n) -> {
            AtomicInteger c = n == null ? new AtomicInteger() : n;
            c.incrementAndGet();
            return c;
        });
        if (mine.get() > perClient) {
            byClient.computeIfPresent(client, (k, n) -> n.decrementAndGet() <= 0 ? null : n);
            throw new ApiException(503, "too many open event streams, log follows and waits from " + client
                    + " (at most " + perClient + " at once, SKYDECK_MAX_STREAMS_PER_CLIENT): close some before"
                    + " opening another " + what);
        }
        if (open.incrementAndGet() > total) {
            open.decrementAndGet();
            byClient.computeIfPresent(client, (k, n) -> n.decrementAndGet() <= 0 ? null : n);
            throw new ApiException(503, "the server has as many open event streams, log follows and waits as it"
                    + " allows (" + total + ", SKYDECK_MAX_STREAMS): try the " + what + " again later");
        }
        return new Permit(client);
    }

    /** How many are open now. */
    public int open() {
        return open.get();
    }
}
