package dev.skydeck.server.internal;

import dev.skydeck.Event;
import dev.skydeck.EventQuery;
import dev.skydeck.SkyDeck;
import dev.skydeck.server.internal.Views.EventView;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /api/events}: every event as Server-Sent Events, {@code id} = the event's sequence
 * number. A client that sends {@code Last-Event-ID} (browsers do on reconnect) first gets every
 * event after it from the store, then the live ones, without gaps or repeats: it subscribes
 * before it replays and skips what it already sent.
 *
 * <p>Each client has a bounded queue; one that falls too far behind is disconnected and catches
 * up from the store when it reconnects. Comments ({@code : ping}) keep idle connections open
 * through proxies.
 */
public final class EventStream implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventStream.class);
    private static final Event CLOSE = new Event(-1, java.time.Instant.EPOCH, dev.skydeck.Actor.USER,
            dev.skydeck.EventType.UPDATE, null, null, null, true, "close", null);
    private static final int QUEUE_LIMIT = 10_000;
    private static final int REPLAY_PAGE = 1_000;

    private final SkyDeck deck;
    private final Duration heartbeat;
    private final Set<BlockingQueue<Event>> clients = ConcurrentHashMap.newKeySet();
    private final AutoCloseable subscription;
    private volatile boolean closed;

    /** Streams {@code deck}'s events, with a comment every {@code heartbeat} when idle. */
    public EventStream(SkyDeck deck, Duration heartbeat) {
        this.deck = deck;
        this.heartbeat = heartbeat;
        this.subscription = deck.onEvent(this::publish);
    }

    private void publish(Event e) {
        for (BlockingQueue<Event> q : clients) {
            if (!q.offer(e)) {
                // too far behind: end its stream; it resumes from the store with Last-Event-ID
                q.clear();
                q.offer(CLOSE);
            }
        }
    }

    /** How many clients are connected. */
    public int clients() {
        return clients.size();
    }

    /** Serves one client until it leaves or the server closes. */
    public void handle(Context ctx) {
        Long resumeAfter = resumePoint(ctx);
        BlockingQueue<Event> queue = new LinkedBlockingQueue<>(QUEUE_LIMIT);
        if (closed) {
            throw new ApiException(503, "the server is shutting down");
        }
        clients.add(queue);
        try {
            ctx.status(200).contentType("text/event-stream; charset=utf-8");
            ctx.header("Cache-Control", "no-store");
            ctx.header("X-Accel-Buffering", "no");
            OutputStream out = ctx.res().getOutputStream();
            write(out, "retry: 2000\n\n");
            out.flush();
            long sent = resumeAfter == null ? -1 : resumeAfter;
            if (resumeAfter != null) {
                while (true) {
                    List<Event> page = deck.events(new EventQuery(sent, null, REPLAY_PAGE, false));
                    for (Event e : page) {
                        send(out, e);
                        sent = e.seq();
                    }
                    out.flush();
                    if (page.size() < REPLAY_PAGE) {
                        break;
                    }
                }
            }
            while (!closed) {
                Event e = queue.poll(heartbeat.toMillis(), TimeUnit.MILLISECONDS);
                if (e == null) {
                    write(out, ": ping\n\n");
                    out.flush();
                    continue;
                }
                if (e == CLOSE) {
                    break;
                }
                if (e.seq() > sent) {
                    send(out, e);
                    sent = e.seq();
                }
                if (queue.isEmpty()) {
                    out.flush();
                }
            }
        } catch (IOException e) {
            log.debug("event stream client went away: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            clients.remove(queue);
        }
    }

    private static Long resumePoint(Context ctx) {
        String v = ctx.header("Last-Event-ID");
        if (v == null || v.isBlank()) {
            v = ctx.queryParam("after_seq");
        }
        return v == null || v.isBlank() ? null : Http.parseSeq(v);
    }

    private static void send(OutputStream out, Event e) throws IOException {
        write(out, "id: " + e.seq() + "\ndata: " + Json.string(EventView.of(e)) + "\n\n");
    }

    private static void write(OutputStream out, String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
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
        for (BlockingQueue<Event> q : clients) {
            q.clear();
            q.offer(CLOSE);
        }
    }
}
