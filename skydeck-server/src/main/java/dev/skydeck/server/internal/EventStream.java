package dev.skydeck.server.internal;

import dev.skydeck.Event;
import dev.skydeck.EventQuery;
import dev.skydeck.SkyDeck;
import dev.skydeck.server.internal.Views.EventView;
import io.javalin.http.Context;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /api/events}: every event as Server-Sent Events, {@code id} = the event's sequence
 * number. A client that sends {@code Last-Event-ID} (browsers do on reconnect) first gets every
 * event after it from the store, then the live ones, without gaps or repeats: it subscribes
 * before it replays and skips what it already sent.
 *
 * <p>No stream holds a thread: each is an asynchronous request written with non-blocking
 * writes, by the container when the client can take more and by one shared thread (which also
 * sends every {@code : ping} heartbeat) when there is something new. Live events sit once in a
 * shared ring of the last 10,000; a client that falls further behind is disconnected and catches
 * up from the store when it reconnects. Comments ({@code : ping}) keep idle connections open
 * through proxies.
 */
public final class EventStream implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventStream.class);
    /** How far (in events) a client may fall behind before it is disconnected. */
    static final int QUEUE_LIMIT = 10_000;
    private static final int REPLAY_PAGE = 1_000;
    /** Frames one turn writes for one client before it lets the others go. */
    private static final int TURN = 2_000;
    private static final byte[] RETRY = "retry: 2000\n\n".getBytes(StandardCharsets.UTF_8);
    private static final byte[] PING = ": ping\n\n".getBytes(StandardCharsets.UTF_8);

    private final SkyDeck deck;
    private final StreamLimits limits;
    private final Set<Client> clients = ConcurrentHashMap.newKeySet();
    private final Frame[] ring = new Frame[QUEUE_LIMIT];
    private long head; // guarded by ring: how many frames were ever published
    private final ScheduledExecutorService writer;
    private final AutoCloseable subscription;
    private volatile boolean closed;

    private record Frame(long seq, byte[] bytes) {
    }

    /**
     * Streams {@code deck}'s events, with a comment every {@code heartbeat} to each client;
     * every stream takes a place in {@code limits}.
     */
    public EventStream(SkyDeck deck, Duration heartbeat, StreamLimits limits) {
        this.deck = deck;
        this.limits = limits;
        ScheduledThreadPoolExecutor pool = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "skydeck-event-stream");
            t.setDaemon(true);
            return t;
        });
        pool.setRemoveOnCancelPolicy(true);
        this.writer = pool;
        long ms = Math.max(1, heartbeat.toMillis());
        writer.scheduleWithFixedDelay(this::heartbeat, ms, ms, TimeUnit.MILLISECONDS);
        this.subscription = deck.onEvent(this::publish);
    }

    private static Frame frame(Event e) {
        return new Frame(e.seq(), ("id: " + e.seq() + "\ndata: " + Json.string(EventView.of(e)) + "\n\n")
                .getBytes(StandardCharsets.UTF_8));
    }

    private void publish(Event e) {
        Frame f = frame(e);
        synchronized (ring) {
            ring[(int) (head % QUEUE_LIMIT)] = f;
            head++;
        }
        for (Client c : clients) {
            c.wake();
        }
    }

    private void heartbeat() {
        for (Client c : clients) {
            c.ping = true;
            c.wake();
        }
    }

    /** How many clients are connected. */
    public int clients() {
        return clients.size();
    }

    /** Starts serving one client; the request goes on asynchronously until it leaves or the server closes. */
    public void handle(Context ctx) {
        Long resumeAfter = resumePoint(ctx);
        if (closed) {
            throw new ApiException(503, "the server is shutting down");
        }
        StreamLimits.Permit permit = limits.acquire(ctx, "event stream");
        ctx.status(200).contentType("text/event-stream; charset=utf-8");
        ctx.header("Cache-Control", "no-store");
        ctx.header("X-Accel-Buffering", "no");
        CompletableFuture<Void> done = new CompletableFuture<>();
        ctx.future(() -> {
            try {
                AsyncContext async = ctx.req().getAsyncContext();
                async.setTimeout(0);
                Client c = new Client(ctx.res().getOutputStream(), resumeAfter, permit, done);
                async.addListener(c);
                synchronized (ring) {
                    c.next = head; // subscribed before the replay: nothing published from now on is missed
                }
                clients.add(c);
                if (closed) {
                    c.finish();
                } else {
                    c.out.setWriteListener(c); // the container calls onWritePossible first
                }
            } catch (IOException | RuntimeException e) {
                permit.close();
                done.complete(null);
                log.debug("event stream could not start: {}", e.toString());
            }
            return done;
        });
    }

    /** One client: what it was sent, and where it is in the ring. Every write happens under its lock. */
    private final class Client implements WriteListener, AsyncListener {
        final ServletOutputStream out;
        final StreamLimits.Permit permit;
        final CompletableFuture<Void> done;
        final AtomicBoolean scheduled = new AtomicBoolean();
        volatile boolean ping;
        volatile boolean closing;
        long next;
        long sent;
        boolean replaying;
        boolean replayEnded;
        Iterator<Event> replay;
        boolean started;
        boolean unflushed;
        boolean finished;

        Client(ServletOutputStream out, Long resumeAfter, StreamLimits.Permit permit, CompletableFuture<Void> done) {
            this.out = out;
            this.permit = permit;
            this.done = done;
            this.sent = resumeAfter == null ? -1 : resumeAfter;
            this.replaying = resumeAfter != null;
        }

        /** Asks the shared thread to write what is new (at most one request waits at a time). */
        void wake() {
            if (!finished && scheduled.compareAndSet(false, true)) {
                try {
                    writer.execute(this::drain);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    scheduled.set(false); // closing: close() ends this client
                }
            }
        }

        @Override
        public void onWritePossible() {
            drain();
        }

        @Override
        public void onError(Throwable t) {
            log.debug("event stream client went away: {}", t.toString());
            finish();
        }

        /** Writes while the client can take it, without ever blocking. */
        void drain() {
            scheduled.set(false);
            synchronized (this) {
                if (finished) {
                    return;
                }
                try {
                    int budget = TURN;
                    while (out.isReady()) {
                        byte[] b = nextFrame();
                        if (b == null) {
                            if (unflushed) {
                                unflushed = false;
                                out.flush();
                                continue;
                            }
                            if (closing) {
                                finish();
                            }
                            return;
                        }
                        out.write(b);
                        unflushed = true;
                        if (--budget == 0) {
                            wake(); // more to send: others get a turn first
                            return;
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    log.debug("event stream client went away: {}", e.toString());
                    finish();
                }
            }
        }

        private byte[] nextFrame() {
            if (!started) {
                started = true;
                return RETRY;
            }
            if (closing) {
                return null;
            }
            while (replaying) {
                if (replay != null && replay.hasNext()) {
                    Event e = replay.next();
                    sent = e.seq();
                    return frame(e).bytes();
                }
                if (replayEnded) {
                    replaying = false;
                    break;
                }
                List<Event> page = deck.events(new EventQuery(sent, null, REPLAY_PAGE, false));
                replayEnded = page.size() < REPLAY_PAGE;
                replay = page.iterator();
            }
            synchronized (ring) {
                while (next < head) {
                    if (head - next > QUEUE_LIMIT) {
                        // too far behind: end its stream; it resumes from the store with Last-Event-ID
                        closing = true;
                        return null;
                    }
                    Frame f = ring[(int) (next % QUEUE_LIMIT)];
                    next++;
                    if (f.seq() > sent) {
                        sent = f.seq();
                        return f.bytes();
                    }
                }
            }
            if (ping) {
                ping = false;
                return PING;
            }
            return null;
        }

        /** Ends this stream (idempotent): the request completes and its place is given back. */
        void finish() {
            synchronized (this) {
                if (finished) {
                    return;
                }
                finished = true;
            }
            clients.remove(this);
            permit.close();
            done.complete(null);
        }

        @Override
        public void onComplete(AsyncEvent event) {
            finish();
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            finish();
        }

        @Override
        public void onError(AsyncEvent event) {
            finish();
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            // nothing to do
        }
    }

    private static Long resumePoint(Context ctx) {
        String v = ctx.header("Last-Event-ID");
        if (v == null || v.isBlank()) {
            v = ctx.queryParam("after_seq");
        }
        return v == null || v.isBlank() ? null : Http.parseSeq(v);
    }

    /** Ends every stream (before the HTTP server stops: open streams would stall it) and stops listening. */
    @Override
    public void close() {
        closed = true;
        try {
            subscription.close();
        } catch (Exception e) {
            log.debug("closing the event subscription: {}", e.toString());
        }
        writer.shutdownNow();
        for (Client c : clients) {
            c.finish();
        }
        try {
            writer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
