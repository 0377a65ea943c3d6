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
    private final Leadership leadership;
    private final dev.skydeck.Subscription intentFromOthers;
    private volatile TaskScheduler.Scheduled standbyCheck;
    private volatile boolean closed;

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
        Reconciler[] rec = new Reconciler[1];
        this.leadership = new Leadership(store, clock, this.scheduler, config.leaseTtl(), () -> {
            // this process now drives the engine: look at what is not settled, and list the backend soon
            rec[0].resync();
            poll[0].requestPoll();
        });
        Writer engineWriter = writer.fenced(leadership::fence);
        this.reconciler = new Reconciler(engineWriter, backend, clock, this.scheduler, config, random,
                waits::reconciled, () -> poll[0] == null ? null : poll[0].lastListed(), () -> poll[0].requestPoll(),
                leadership);
        rec[0] = reconciler;
        this.poller = new Poller(engineWriter, backend, clock, this.scheduler, config, reconciler::jobsChanged,
                reconciler::launching, leadership::tryLead);
        poll[0] = poller;
        this.syncer = new CheckpointSyncer(engineWriter, checkpoints, clock, this.scheduler, config, 4,
                leadership::tryLead);
        this.intentFromOthers = feed.subscribe(this::committed);
    }

    /**
     * Every event, from this process or another sharing the store: user intent reaches the
     * reconciler of the process that leads, and waits here see the leader's work.
     */
    private void committed(dev.skydeck.Event e) {
        if (e.experimentId() != null) {
            waits.reconciled(e.experimentId());
        }
        // intent written here was handed to the reconciler by the command itself
        boolean here = writer.takeLocal(e.seq());
        if (!here && e.actor() == dev.skydeck.Actor.USER && leadership.isLeader()) {
            if (e.experimentId() != null) {
                reconciler.enqueue(e.experimentId());
            } else if (e.jobId() != null) {
                reconciler.enqueueOrphan(e.jobId());
            }
        }
    }

    /** While waits are registered here and another process leads, see every second whether they settled. */
    private void checkStandbyWaits() {
        if (closed) {
            return;
        }
        try {
            if (!leadership.isLeader()) {
                waits.watchedIds().forEach(waits::reconciled);
            }
        } catch (RuntimeException e) {
            // a store hiccup: the next check reads again
        } finally {
            if (!closed) {
                standbyCheck = scheduler.schedule(this::checkStandbyWaits, java.time.Duration.ofSeconds(1));
            }
        }
    }

    /**
     * Whether this process drives the engine (holds the store's engine lease), asking for the
     * lease if it does not.
     */
    public Leadership leadership() {
        return leadership;
    }

    /** Starts the reconciler, poller and syncer. Idempotent. */
    public void start() {
        leadership.start();
        if (standbyCheck == null) {
            checkStandbyWaits();
        }
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
        closed = true;
        intentFromOthers.close();
        if (standbyCheck != null) {
            standbyCheck.cancel();
        }
        reconciler.close();
        poller.close();
        syncer.close();
        leadership.close();
        waits.close();
        if (ownScheduler != null) {
            ownScheduler.close();
        }
        feed.close();
    }
}
