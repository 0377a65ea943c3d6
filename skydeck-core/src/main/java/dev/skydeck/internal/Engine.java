package dev.skydeck.internal;

import dev.skydeck.SkyDeckConfig;
import dev.skydeck.internal.checkpoint.CheckpointSyncer;
import dev.skydeck.internal.events.EventFeed;
import dev.skydeck.internal.poll.Poller;
import dev.skydeck.internal.reconcile.Reconciler;
import dev.skydeck.spi.CheckpointSource;
import dev.skydeck.spi.ClusterBackend;
import dev.skydeck.spi.Store;
import dev.skydeck.spi.TaskScheduler;
import java.time.Clock;
import java.util.random.RandomGenerator;

/**
 * SkyDeck's running parts, wired once: the event feed, the writer, the reconciler, the poller,
 * the checkpoint syncer and the waits. Data flows one way: user intent is written to the store,
 * the reconciler acts on it through the backend, the poller records what the backend reports,
 * and the feed delivers the events every write appended.
 */
public final class Engine implements AutoCloseable {
    private final Store store;
    private final ClusterBackend backend;
    private final CheckpointSource checkpoints;
    private final SkyDeckConfig config;
    private final Clock clock;
    private final TaskScheduler scheduler;
    private final SystemScheduler ownScheduler;
    private final EventFeed feed;
    private final Writer writer;
    private final Waits waits;
    private final Reconciler reconciler;
    private final Poller poller;
    private final CheckpointSyncer syncer;

    /**
     * Wires the parts; nothing runs until {@link #start()} (but the event feed's thread).
     *
     * @param scheduler the scheduler for timers, or {@code null} for one of the engine's own
     */
    public Engine(Store store, ClusterBackend backend, CheckpointSource checkpoints, SkyDeckConfig config, Clock clock,
                  TaskScheduler scheduler, RandomGenerator random) {
        this.store = store;
        this.backend = backend;
        this.checkpoints = checkpoints;
        this.config = config;
        this.clock = clock;
        if (scheduler == null) {
            this.ownScheduler = new SystemScheduler();
            this.scheduler = ownScheduler;
        } else {
            this.ownScheduler = null;
            this.scheduler = scheduler;
        }
        this.feed = new EventFeed(store);
        this.writer = new Writer(store, feed);
        this.waits = new Waits(id -> store.experiment(id).orElse(null), store::experiments);
        Poller[] poll = new Poller[1];
        this.reconciler = new Reconciler(writer, backend, clock, this.scheduler, config, random, waits::reconciled,
                () -> poll[0] == null ? null : poll[0].lastListed(), () -> poll[0].requestPoll());
        this.poller = new Poller(writer, backend, clock, this.scheduler, config, reconciler::jobsChanged,
                reconciler::launching);
        poll[0] = poller;
        this.syncer = new CheckpointSyncer(writer, checkpoints, clock, this.scheduler, config, 4);
    }

    /** Starts the reconciler, poller and syncer. Idempotent. */
    public void start() {
        reconciler.start();
        poller.start();
        syncer.start();
    }

    /** The store. */
    public Store store() {
        return store;
    }

    /** The backend. */
    public ClusterBackend backend() {
        return backend;
    }

    /** The checkpoint source. */
    public CheckpointSource checkpoints() {
        return checkpoints;
    }

    /** The settings. */
    public SkyDeckConfig config() {
        return config;
    }

    /** The clock. */
    public Clock clock() {
        return clock;
    }

    /** Runs transactions and wakes the feed. */
    public Writer writer() {
        return writer;
    }

    /** Delivers committed events. */
    public EventFeed feed() {
        return feed;
    }

    /** Callers waiting for experiments to settle. */
    public Waits waits() {
        return waits;
    }

    /** The reconciler. */
    public Reconciler reconciler() {
        return reconciler;
    }

    /** The poller. */
    public Poller poller() {
        return poller;
    }

    /** The checkpoint syncer. */
    public CheckpointSyncer syncer() {
        return syncer;
    }

    /**
     * Stops intake, lets passes in flight finish, fails the waits, stops the timers and the feed.
     * Closes neither store nor backend (their owner does). Idempotent.
     */
    @Override
    public void close() {
        reconciler.close();
        poller.close();
        syncer.close();
        waits.close();
        if (ownScheduler != null) {
            ownScheduler.close();
        }
        feed.close();
    }
}
