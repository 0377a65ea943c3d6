package dev.skydeck.server.internal;

import dev.skydeck.SkyDeck;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * Serialized bodies of the list endpoints ({@code GET /api/experiments}, {@code /api/groups},
 * {@code /api/experiments/facets}, {@code /api/jobs}), kept per request (path, query, user) and
 * answered again while nothing changed, with an {@code ETag} that {@code If-None-Match} turns into
 * a 304, and gzip for clients that accept it.
 *
 * <p>"Nothing changed" is a stamp read before the body is built: the store's last event number
 * (every user change and every job, checkpoint and group change appends an event, in this process
 * or another one sharing the database) and the number of write transactions this process
 * committed ({@link SkyDeck#localWrites}: the reconciler's observations and presentation changes
 * append none). A body is at least as new as its stamp, so an equal stamp means an up-to-date
 * body. What another process writes without an event (its reconciler's observations when this
 * server is a standby, someone's star) is seen within {@link #MAX_AGE_NANOS}: an entry older than
 * that is built again, and keeps its {@code ETag} (a hash of the body) when the body came out
 * the same.
 *
 * <p>One request builds a given body at a time (others asking for it meanwhile wait and share
 * it). At most {@link #MAX_ENTRIES} bodies and {@link #MAX_BYTES} bytes are kept, the least
 * recently used dropped first; a body over {@link #MAX_ENTRY_BYTES} is answered but not kept.
 */
public final class ListCache {
    /** The paths whose GET answers are cached. */
    public static final Set<String> PATHS = Set.of("/api/experiments", "/api/groups", "/api/experiments/facets",
            "/api/jobs");
    /** The longest an entry is answered without building its body again. */
    static final long MAX_AGE_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** The most bodies kept. */
    static final int MAX_ENTRIES = 64;
    /** The most bytes kept (plain and gzip together). */
    static final long MAX_BYTES = 32L << 20;
    /** The largest body kept. */
    static final int MAX_ENTRY_BYTES = 8 << 20;
    /** Bodies below this are sent as they are: gzip would save little. */
    static final int GZIP_MIN_BYTES = 1_024;

    private static final String CAPTURE = "skydeck.list-cache.body";

    private final SkyDeck deck;
    private final boolean enabled;
    private final Map<String, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
    private final Map<String, Object> building = new ConcurrentHashMap<>();
    private long bytes;

    /**
     * A cache over {@code deck}; {@code enabled} false answers every request afresh (still with
     * an {@code ETag} and gzip), for measuring.
     */
    public ListCache(SkyDeck deck, boolean enabled) {
        this.deck = deck;
        this.enabled = enabled;
    }

    /** Whether GET {@code path} answers through this cache. */
    public boolean covers(String path) {
        return PATHS.contains(path);
    }

    /** {@code handler}, answered from the cache while nothing changed. */
    public Handler wrap(Handler handler) {
        return ctx -> handle(ctx, handler);
    }

    /** Whether a handler's JSON body is to be handed to the cache instead of written. */
    static boolean capturing(Context ctx) {
        return ctx.attribute(CAPTURE) instanceof byte[][];
    }

    /** Hands the handler's JSON body to the cache. */
    static void capture(Context ctx, byte[] body) {
        byte[][] slot = ctx.attribute(CAPTURE);
        slot[0] = body;
    }

    private record Stamp(long seq, long writes) {
    }

    private static final class Entry {
        final Stamp stamp;
        final long builtAt;
        final byte[] body;
        final String etag;
        final String totalCount;
        volatile byte[] gzip;

        Entry(Stamp stamp, long builtAt, byte[] body, String etag, String totalCount) {
            this.stamp = stamp;
            this.builtAt = builtAt;
            this.body = body;
            this.etag = etag;
            this.totalCount = totalCount;
        }

        boolean fresh(Stamp now, long nanos) {
            return stamp.equals(now) && nanos - builtAt < MAX_AGE_NANOS;
        }

        long size() {
            byte[] g = gzip;
            return body.length + (g == null ? 0 : g.length);
        }
    }

    private Stamp stamp() {
        // the local count first: a write that commits between the two reads moves both or the count alone
        long writes = deck.localWrites();
        return new Stamp(deck.store().lastEventSeq(), writes);
    }

    private void handle(Context ctx, Handler handler) throws Exception {
        Stamp stamp = stamp();
        String key = ctx.path() + '?' + (ctx.queryString() == null ? "" : ctx.queryString()) + '\u0000'
                + (Users.user(ctx) == null ? "" : Users.user(ctx));
        Entry e = enabled ? get(key) : null;
        if (e == null || !e.fresh(stamp, System.nanoTime())) {
            Object lock = building.computeIfAbsent(key, k -> new Object());
            synchronized (lock) {
                Entry again = enabled ? get(key) : null;
                if (again != null && again.stamp.equals(stamp) && System.nanoTime() - again.builtAt < MAX_AGE_NANOS) {
                    e = again; // built by the request that held the lock meanwhile
                } else {
                    Entry built = build(ctx, handler, stamp, again);
                    if (built == null) {
                        return; // not a JSON 200: the handler answered as it does without the cache
                    }
                    e = built;
                    if (enabled && built.body.length <= MAX_ENTRY_BYTES) {
                        put(key, built);
                    }
                }
            }
            building.remove(key, lock);
        }
        answer(ctx, e);
    }

    private Entry build(Context ctx, Handler handler, Stamp stamp, Entry previous) throws Exception {
        byte[][] slot = new byte[1][];
        ctx.attribute(CAPTURE, slot);
        try {
            handler.handle(ctx);
        } finally {
            ctx.attribute(CAPTURE, null);
        }
        byte[] body = slot[0];
        if (body == null) {
            return null;
        }
        if (ctx.statusCode() != 200) {
            ctx.result(body);
            return null;
        }
        String etag = etag(body);
        Entry e = new Entry(stamp, System.nanoTime(), body, etag, ctx.res().getHeader("X-Total-Count"));
        if (previous != null && previous.etag.equals(etag)) {
            e.gzip = previous.gzip; // the same body: its gzip too
        }
        return e;
    }

    private void answer(Context ctx, Entry e) {
        ctx.header("ETag", e.etag);
        ctx.header("Cache-Control", "no-cache");
        ctx.header("Vary", "Accept-Encoding");
        if (e.totalCount != null) {
            ctx.header("X-Total-Count", e.totalCount);
        }
        ctx.contentType("application/json");
        if (matches(ctx.header("If-None-Match"), e.etag)) {
            ctx.status(304);
            ctx.result(new byte[0]);
            return;
        }
        ctx.status(200);
        if (e.body.length >= GZIP_MIN_BYTES && acceptsGzip(ctx.header("Accept-Encoding"))) {
            byte[] g = e.gzip;
            if (g == null) {
                g = gzip(e.body);
                synchronized (entries) {
                    if (e.gzip == null && entries.containsValue(e)) {
                        bytes += g.length; // a kept entry: its gzip counts toward MAX_BYTES
                    }
                    e.gzip = g;
                }
            }
            ctx.header("Content-Encoding", "gzip");
            ctx.result(g);
        } else {
            ctx.result(e.body);
        }
    }

    private Entry get(String key) {
        synchronized (entries) {
            return entries.get(key);
        }
    }

    private void put(String key, Entry e) {
        synchronized (entries) {
            Entry old = entries.put(key, e);
            if (old != null) {
                bytes -= old.size();
            }
            bytes += e.size();
            var it = entries.values().iterator();
            while ((bytes > MAX_BYTES || entries.size() > MAX_ENTRIES) && it.hasNext()) {
                Entry oldest = it.next();
                if (oldest != e) {
                    bytes -= oldest.size();
                    it.remove();
                }
            }
        }
    }

    /** A weak tag of the body's content: 64 bits of two CRCs and its length. */
    static String etag(byte[] body) {
        CRC32C a = new CRC32C();
        a.update(body);
        CRC32 b = new CRC32();
        b.update(body);
        return String.format(Locale.ROOT, "W/\"%08x%08x-%x\"", a.getValue(), b.getValue(), body.length);
    }

    /** Whether an {@code If-None-Match} header names {@code etag} (weak comparison, or {@code *}). */
    static boolean matches(String ifNoneMatch, String etag) {
        if (ifNoneMatch == null || ifNoneMatch.isBlank()) {
            return false;
        }
        String opaque = etag.startsWith("W/") ? etag.substring(2) : etag;
        for (String t : ifNoneMatch.split(",")) {
            String tag = t.strip();
            if (tag.equals("*")) {
                return true;
            }
            if (tag.startsWith("W/")) {
                tag = tag.substring(2);
            }
            if (tag.equals(opaque)) {
                return true;
            }
        }
        return false;
    }

    /** Whether an {@code Accept-Encoding} header accepts gzip (not with {@code q=0}). */
    static boolean acceptsGzip(String acceptEncoding) {
        if (acceptEncoding == null) {
            return false;
        }
        for (String part : acceptEncoding.split(",")) {
            String[] p = part.strip().split(";");
            String coding = p[0].strip().toLowerCase(Locale.ROOT);
            if (coding.equals("gzip") || coding.equals("*")) {
                for (int i = 1; i < p.length; i++) {
                    String q = p[i].strip().toLowerCase(Locale.ROOT);
                    if (q.startsWith("q=")) {
                        try {
                            if (Double.parseDouble(q.substring(2)) <= 0) {
                                return false;
                            }
                        } catch (NumberFormatException ex) {
                            return false;
                        }
                    }
                }
                return true;
            }
        }
        return false;
    }

    private static byte[] gzip(byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length / 6 + 64);
        try (GZIPOutputStream z = new GZIPOutputStream(out, 8_192) {
            {
                def.setLevel(Deflater.BEST_SPEED);
            }
        }) {
            z.write(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
