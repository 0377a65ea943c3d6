package dev.skydeck.internal;

import dev.skydeck.SkyDeckException;
import dev.skydeck.SkyDeckException.Conflict.Reason;
import dev.skydeck.spi.Lease;
import dev.skydeck.spi.Store;
import dev.skydeck.spi.StoreTx;
import dev.skydeck.spi.TaskScheduler;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which process drives the engine of a store that several share: the one holding the store's
 * {@value #LEASE} lease. The holder renews it every third of its time to live; when it dies,
 * the lease lapses and the next process to ask takes it, with a fencing token one higher.
 *
 * <p>Every write the reconciler, poller and syncer make goes through {@link #fence}, which checks
 * in the same transaction that this process still holds the lease under its token, so a process
 * that lost it (paused past its lease, cut off from the database) writes nothing. Locally, this
 * process stops acting a third of the lease before it lapses unless renewed, so it never acts
 * while another may have taken over.
 *
 * <p>A holder on this machine whose process is gone (a restart after {@code kill -9}) is taken
 * over at once instead of after the lease lapses.
 */
public final class Leadership implements AutoCloseable {
    /** The lease's name. */
    public static final String LEASE = "engine";
    private static final Logger log = LoggerFactory.getLogger(Leadership.class);
    private static final Duration RETRY_GAP = Duration.ofSeconds(1);

    /** Told when this process gains the lease. */
    public interface Listener {
        /** This process now drives the engine (it did not a moment ago). */
        void gained();
    }

    private final Store store;
    private final Clock clock;
    private final TaskScheduler scheduler;
    private final Duration ttl;
    private final String holder;
    private final Listener listener;
    private final Object lock = new Object();
    private volatile long token;
    private volatile Instant validUntil = Instant.MIN;
    private volatile Instant since;
    private volatile String otherHolder;
    private volatile String lastFailure;
    private Instant lastAttempt = Instant.MIN;
    private TaskScheduler.Scheduled next;
    private boolean started;
    private boolean closed;

    /**
     * @param ttl      how long the lease lasts unless renewed
     * @param listener told when this process gains the lease
     */
    public Leadership(Store store, Clock clock, TaskScheduler scheduler, Duration ttl, Listener listener) {
        this.store = store;
        this.clock = clock;
        this.scheduler = scheduler;
        this.ttl = ttl;
        this.listener = listener;
        this.holder = processId();
    }

    /** This process's id in the lease: host, pid, process start time, and a random tag for this engine. */
    static String processId() {
        ProcessHandle self = ProcessHandle.current();
        long started = self.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
        byte[] tag = new byte[3];
        ThreadLocalRandom.current().nextBytes(tag);
        return hostName() + "/" + self.pid() + "/" + started + "/" + HexFormat.of().formatHex(tag);
    }

    private static String hostName() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env.strip();
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "unknown-host";
        }
    }

    /** Whether {@code holder} names a process on this machine that is no longer running. */
    static boolean goneHere(String other) {
        String[] parts = other.split("/");
        if (parts.length != 4 || !parts[0].equals(hostName())) {
            return false;
        }
        try {
            long pid = Long.parseLong(parts[1]);
            long started = Long.parseLong(parts[2]);
            Optional<ProcessHandle> p = ProcessHandle.of(pid);
            if (p.isEmpty() || !p.get().isAlive()) {
                return true;
            }
            // the pid was reused by another process
            return started != 0 && p.get().info().startInstant().map(Instant::toEpochMilli)
                    .map(s -> s != started).orElse(false);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** This process's id in the lease. */
    public String holder() {
        return holder;
    }

    /** Takes or renews the lease now, then every third of its time to live. Idempotent. */
    public void start() {
        synchronized (lock) {
            if (started || closed) {
                return;
            }
            started = true;
        }
        tick();
    }

    /** Whether this process holds the lease now (and may reconcile, poll and sync). */
    public boolean isLeader() {
        return token != 0 && clock.instant().isBefore(validUntil);
    }

    /**
     * Whether this process holds the lease, asking for it when it does not (at most once a
     * second): work that only the holder may do calls this first.
     */
    public boolean tryLead() {
        if (isLeader()) {
            return true;
        }
        synchronized (lock) {
            if (closed || clock.instant().isBefore(lastAttempt.plus(RETRY_GAP))) {
                return isLeader();
            }
        }
        renew();
        return isLeader();
    }

    /**
     * Whether this process holds the lease, asking for it now when it does not: for a caller's
     * explicit request (a poll, a sync), which must not fail because a routine attempt was just made.
     */
    public boolean lead() {
        if (isLeader()) {
            return true;
        }
        renew();
        return isLeader();
    }

    /** When this process last gained the lease, or {@code null} while it does not hold it. */
    public Instant leaderSince() {
        return isLeader() ? since : null;
    }

    /** Who holds the lease when this process does not ({@code null} when unknown or this process). */
    public String otherHolder() {
        return isLeader() ? null : otherHolder;
    }

    /**
     * Why this process may not act now, for a refusal: who holds the lease, or why taking it
     * failed; {@code null} while it leads.
     */
    public String whyNotLeader() {
        if (isLeader()) {
            return null;
        }
        String other = otherHolder;
        if (other != null) {
            return "another SkyDeck process (" + other + ") drives the engine of " + store.describe() + " and does that";
        }
        String failure = lastFailure;
        return "this process could not take the engine lease of " + store.describe()
                + (failure == null ? "" : ": " + failure);
    }

    /**
     * Refuses the transaction unless this process holds the lease under its token: a write by
     * the reconciler, poller or syncer starts with it.
     *
     * @throws SkyDeckException.Conflict with {@link Reason#NOT_LEADER} when it does not
     */
    public void fence(StoreTx tx) {
        long t = token;
        Instant now = clock.instant();
        if (t != 0 && tx.holdsLease(LEASE, holder, t, now)) {
            return;
        }
        if (t != 0) {
            // lapsed (a pause, a jump of the clock): still this process's if nobody took it meanwhile
            Lease lease = tx.acquireLease(LEASE, holder, ttl, now, 0);
            if (lease.heldBy(holder) && lease.token() == t) {
                validUntil = now.plus(ttl.multipliedBy(2).dividedBy(3));
                return;
            }
            otherHolder = lease.heldBy(holder) ? null : lease.holder();
            token = 0;
        }
        throw new SkyDeckException.Conflict(Reason.NOT_LEADER, "this SkyDeck process no longer holds the"
                + " engine lease" + (otherHolder == null ? "" : " (held by " + otherHolder + ")")
                + ": another process reconciles, polls and syncs now");
    }

    private void tick() {
        renew();
        synchronized (lock) {
            if (!closed) {
                next = scheduler.schedule(this::tick, ttl.dividedBy(3));
            }
        }
    }

    private void renew() {
        Instant now = clock.instant();
        synchronized (lock) {
            if (closed) {
                return;
            }
            lastAttempt = now;
        }
        boolean gained = false;
        try {
            long stale = store.lease(LEASE).filter(l -> !l.heldBy(holder) && goneHere(l.holder()))
                    .map(Lease::token).orElse(0L);
            Lease lease = store.write(tx -> tx.acquireLease(LEASE, holder, ttl, now, stale));
            if (lease.heldBy(holder)) {
                // the same token after a lapse (a pause, a jump of the clock) means nobody else held it meanwhile
                gained = token != lease.token();
                if (gained) {
                    since = now;
                    log.info("This process now drives the engine: it reconciles, polls and syncs {} (lease token {}{})",
                            store.describe(), lease.token(), stale != 0 ? ", taken over from a process that is gone"
                                    : "");
                }
                // stop a third early: the lease must never lapse while this process still acts on it
                validUntil = now.plus(ttl.multipliedBy(2).dividedBy(3));
                token = lease.token();
                otherHolder = null;
            } else {
                if (token != 0) {
                    log.warn("This process lost the engine lease of {} to {}: it stops reconciling, polling and"
                            + " syncing", store.describe(), lease.holder());
                } else if (!lease.holder().equals(otherHolder)) {
                    log.info("Another process drives the engine of {} ({}): this one serves requests and stands by",
                            store.describe(), lease.holder());
                }
                token = 0;
                otherHolder = lease.holder();
            }
            lastFailure = null;
        } catch (RuntimeException e) {
            lastFailure = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            log.warn("Could not renew the engine lease of {} ({}); {}", store.describe(), e.getMessage(),
                    isLeader() ? "still acting until it lapses" : "retrying");
        }
        if (gained) {
            listener.gained();
        }
    }

    /** Stops renewing and gives the lease up, so another process takes over at once. Idempotent. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            if (next != null) {
                next.cancel();
            }
        }
        if (token != 0) {
            token = 0;
            try {
                store.write(tx -> {
                    tx.releaseLease(LEASE, holder, clock.instant());
                    return null;
                });
            } catch (RuntimeException e) {
                log.debug("Releasing the engine lease failed ({}); it lapses by itself", e.getMessage());
            }
        }
    }
}
