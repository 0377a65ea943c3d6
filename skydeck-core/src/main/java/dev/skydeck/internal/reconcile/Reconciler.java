package dev.skydeck.internal.reconcile;

import dev.skydeck.Actor;
import dev.skydeck.CommandLine;
import dev.skydeck.Event;
import dev.skydeck.EventType;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.ExperimentStatus;
import dev.skydeck.GpuCatalog;
import dev.skydeck.Job;
import dev.skydeck.JobCancel;
import dev.skydeck.JobQuery;
import dev.skydeck.JobStage;
import dev.skydeck.JobStatus;
import dev.skydeck.Resources;
import dev.skydeck.SkyDeckConfig;
import dev.skydeck.SkyDeckException;
import dev.skydeck.internal.Ids;
import dev.skydeck.internal.Threads;
import dev.skydeck.internal.Leadership;
import dev.skydeck.internal.Writer;
import dev.skydeck.spi.BackendJob;
import dev.skydeck.spi.ClusterBackend;
import dev.skydeck.spi.JobObservation;
import dev.skydeck.spi.LaunchRequest;
import dev.skydeck.spi.LaunchStatus;
import dev.skydeck.spi.Submission;
import dev.skydeck.spi.StoreReads;
import dev.skydeck.spi.StoreReads.ActiveJobs;
import dev.skydeck.spi.TaskScheduler;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Brings each experiment's jobs in line with its desired state (SPEC §4). A pass reads the
 * experiment and its jobs, asks {@link Decide#decide} what to do, and carries the
 * {@link Decision} out. Passes run on a bounded pool, at most one per experiment at a time,
 * coalescing wake-ups (java-operator-sdk's engine); a periodic resync catches anything missed.
 *
 * <p>Launches record their intent (an {@code INIT} job whose id is the launch id) before the
 * backend is called, so a crash between the call and its record is repaired by adoption
 * ({@link ClusterBackend#find}) instead of a second launch. Cancels are intent too: whoever asks
 * records it on the job; a pass sends it and the poller sees the job end.
 */
public final class Reconciler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Reconciler.class);
    private static final int RECENT_JOBS = 200;

    /** Told after every pass over an experiment. */
    public interface Observer {
        /** The pass for this experiment ended. */
        void reconciled(long experimentId);
    }

    private final Writer writer;
    private final ClusterBackend backend;
    private final Clock clock;
    private final TaskScheduler scheduler;
    private final SkyDeckConfig config;
    private final Backoff backoff;
    private final Observer observer;
    private final Supplier<Instant> lastPoll;
    private final Runnable requestPoll;
    private final Leadership leadership;
    private final ExecutorService executor;
    private final WorkQueue<Long> queue;
    private final WorkQueue<String> orphans;
    private final LaunchQueue launchQueue = new LaunchQueue();
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    private final Map<Long, TaskScheduler.Scheduled> wakeups = new ConcurrentHashMap<>();
    /** Deleted experiments still ending a job, by name: the poller looks names up among live ones only. */
    private final Map<String, Long> deletedEnding = new ConcurrentHashMap<>();
    private volatile TaskScheduler.Scheduled resync;
    /** How many settled experiments each periodic resync looks at anyway, in turn. */
    static final int SETTLED_SLICE = 1000;
    /** The last id of the previous slice of settled experiments (only the resync's thread). */
    private long sliceAfter;
    private volatile Instant lastPass;
    private volatile boolean started;
    private volatile boolean closed;

    /**
     * Creates a reconciler; nothing runs until {@link #start()}.
     *
     * @param lastPoll    when the last successful poll started (confirms cancels), or {@code null}
     * @param requestPoll asks the poller for a poll soon (after a cancel is sent)
     * @param leadership  whether this process may act (it holds the engine lease), and since when
     */
    public Reconciler(Writer writer, ClusterBackend backend, Clock clock, TaskScheduler scheduler,
                      SkyDeckConfig config, RandomGenerator random, Observer observer, Supplier<Instant> lastPoll,
                      Runnable requestPoll, Leadership leadership) {
        this.writer = writer;
        this.backend = backend;
        this.clock = clock;
        this.scheduler = scheduler;
        this.config = config;
        this.backoff = new Backoff(random);
        this.observer = observer;
        this.lastPoll = lastPoll;
        this.requestPoll = requestPoll;
        this.leadership = leadership;
        this.executor = new ThreadPoolExecutor(config.reconcilerThreads(), config.reconcilerThreads(), 30,
                TimeUnit.SECONDS, new LinkedBlockingQueue<>(), Threads.named("skydeck-reconciler", true));
        this.queue = new WorkQueue<>(executor, this::reconcile);
        this.orphans = new WorkQueue<>(executor, this::reconcileOrphan);
    }

    /** Starts the periodic resync (which runs once at once). Idempotent. */
    public synchronized void start() {
        if (started || closed) {
            return;
        }
        started = true;
        resync();
    }

    /** Asks for a pass over one experiment. */
    public void enqueue(long experimentId) {
        if (!closed) {
            queue.enqueue(experimentId);
        }
    }

    /** Asks for a pass over a job whose name matches no live experiment (to send its cancel). */
    public void enqueueOrphan(String jobId) {
        if (!closed) {
            orphans.enqueue(jobId);
        }
    }

    /**
     * Enqueues every experiment the store says may need looking at (every live one, and deleted
     * ones with an active job) and every orphaned cancel, and re-arms the resync: an explicit
     * request ({@code SkyDeck.reconcileAll()}).
     */
    public void resyncNow() {
        resync(true);
    }

    /**
     * The periodic resync: enqueues the experiments not settled and those with an active job,
     * plus the next {@value #SETTLED_SLICE} settled ones in id order (so a deck of any size is
     * looked at whole every {@code size / SETTLED_SLICE} intervals, and a pass missed by a bug
     * still comes), and every orphaned cancel; then re-arms itself. A settled experiment changes
     * only through a write, which enqueues it, so 100,000 of them cost no pass each interval.
     */
    public void resync() {
        resync(false);
    }

    private synchronized void resync(boolean everything) {
        if (closed) {
            return;
        }
        try {
            List<Long> all = writer.store().experimentIdsToReconcile();
            if (everything || all.size() <= SETTLED_SLICE) {
                all.forEach(queue::enqueue);
            } else {
                writer.store().experimentIdsUnsettled().forEach(queue::enqueue);
                int from = 0;
                while (from < all.size() && all.get(from) <= sliceAfter) {
                    from++;
                }
                for (int i = 0; i < SETTLED_SLICE; i++) {
                    long id = all.get((from + i) % all.size());
                    queue.enqueue(id);
                    sliceAfter = id;
                }
            }
            for (Job j : writer.store().orphanedCancels()) {
                orphans.enqueue(j.id());
            }
        } catch (RuntimeException e) {
            log.warn("Resync could not list experiments ({}); it runs again in {}", e.getMessage(),
                    config.reconcileInterval());
        } finally {
            synchronized (this) {
                if (!closed && started) {
                    if (resync != null) {
                        resync.cancel();
                    }
                    resync = scheduler.schedule(this::resync, config.reconcileInterval());
                }
            }
        }
    }

    /** When the last pass over any experiment finished, or {@code null}. */
    public Instant lastPass() {
        return lastPass;
    }

    /** Whether no pass is queued or running. */
    public boolean idle() {
        return queue.idle() && orphans.idle();
    }

    /** Experiment ids waiting in the launch queue, in order. */
    public List<Long> queued() {
        return launchQueue.waitingIds();
    }

    /** Per-experiment bookkeeping held in memory (timers and queue places), for leak checks. */
    public int trackedExperiments() {
        return wakeups.size() + launchQueue.waitingIds().size() + deletedEnding.size();
    }

    /** Whether this reconciler is submitting the job with this SkyDeck id right now. */
    public boolean launching(String jobId) {
        return inFlight.contains(jobId);
    }

    /**
     * The poller saw jobs of these experiments change: reconcile them (one read for all, deleted
     * ones still ending a job included) and wake the launch queue.
     */
    public void jobsChanged(Set<String> names) {
        Map<String, Experiment> live = writer.store().experimentsByName(names);
        for (String name : names) {
            Experiment e = live.get(name);
            Long deleted = deletedEnding.get(name);
            if (e != null) {
                enqueue(e.id());
            } else if (deleted != null) {
                enqueue(deleted);
            }
        }
        wakeQueued();
    }

    /** Wakes experiments waiting in the launch queue: capacity may have freed. */
    public void wakeQueued() {
        for (long id : queued()) {
            enqueue(id);
        }
    }

    /** Stops taking work, lets passes in flight finish (bounded), cancels timers. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            if (resync != null) {
                resync.cancel();
            }
        }
        queue.stop();
        orphans.stop();
        wakeups.values().forEach(TaskScheduler.Scheduled::cancel);
        wakeups.clear();
        if (!Threads.shutdown(executor, Duration.ofSeconds(30))) {
            log.warn("Reconcile passes still running after 30 s at shutdown were interrupted");
        }
    }

    // ---- one pass ----

    private void reconcile(long id) {
        if (!leadership.tryLead()) {
            observer.reconciled(id); // the process that leads acts; a wait here still sees what it did
            return;
        }
        Optional<Experiment> found = writer.store().experiment(id);
        if (found.isEmpty()) {
            forget(id);
            return;
        }
        Experiment e = found.get();
        MDC.put("experiment", e.name());
        try {
            Instant now = clock.instant();
            apply(e, decideFrom(writer.store(), e, now), now);
        } catch (SkyDeckException ex) {
            log.warn("Reconcile of experiment {} failed: {}; retrying at the next resync", e.name(), ex.getMessage());
        } finally {
            MDC.remove("experiment");
            lastPass = clock.instant();
            observer.reconciled(id);
        }
    }

    private void reconcileOrphan(String jobId) {
        if (!leadership.tryLead()) {
            return;
        }
        Job job = writer.store().job(jobId).orElse(null);
        if (job == null || writer.store().experimentByName(job.experimentName()).isPresent()) {
            return; // gone, or it belongs to a live experiment whose passes handle it
        }
        Instant now = clock.instant();
        try {
            Decision d = Decide.decideOrphan(job, now, facts(now));
            if (d instanceof Decision.Cancel c && stillDecided(c, reads -> decideOrphanFrom(reads, jobId, now), null)) {
                sendCancel(null, c, now);
            } else if (d instanceof Decision.StopLaunch s) {
                stopLaunch(null, s, now);
            }
        } catch (SkyDeckException ex) {
            log.warn("Cancel of orphaned job {} failed: {}; retrying at the next resync", jobId, ex.getMessage());
        }
    }

    /** The decision for {@code e} from the experiment's recent jobs as {@code reads} show them. */
    private Decision decideFrom(StoreReads reads, Experiment e, Instant now) {
        return Decide.decide(e, reads.jobs(JobQuery.of(e.name(), RECENT_JOBS)).items(), now, facts(now));
    }

    /** The decision for experiment {@code id} as {@code reads} show it now, or {@code null} when it is gone. */
    private Decision decideAgain(StoreReads reads, long id, Instant now) {
        return reads.experiment(id).map(current -> decideFrom(reads, current, now)).orElse(null);
    }

    /** The decision for an orphaned job as {@code reads} show it, or {@code null} when it is gone or has an owner. */
    private Decision decideOrphanFrom(StoreReads reads, String jobId, Instant now) {
        Job job = reads.job(jobId).orElse(null);
        return job == null || reads.experimentByName(job.experimentName()).isPresent() ? null
                : Decide.decideOrphan(job, now, facts(now));
    }

    /**
     * Whether {@code decision}, reached from what a pass read, still stands: decided again from
     * the store as a fenced transaction reads it (so this process holds the engine lease under
     * its token right now), and the lease still valid by this process's clock just before acting
     * (renewed when only its local margin lapsed: a lapse that is not a takeover must not stall a pass).
     * Every side effect on the backend that no fenced write precedes (a cancel, a teardown) goes
     * through it, because the backend is shared and unfenced: a process paused past its lease
     * ({@code kill -STOP}, a long pause, a machine cut off) wakes with what it read before another
     * process took over and acted. A launch needs no such check: its intent or claim is a fenced
     * write that checks the experiment first.
     *
     * @param e the experiment the decision is for, enqueued again when the decision changed;
     *          {@code null} for an orphaned job
     */
    private boolean stillDecided(Decision decision, java.util.function.Function<StoreReads, Decision> decideAgain,
                                 Experiment e) {
        boolean same;
        try {
            same = writer.write(w -> decision.equals(decideAgain.apply(w.tx())));
        } catch (SkyDeckException.Conflict c) {
            if (c.reason() != SkyDeckException.Conflict.Reason.NOT_LEADER) {
                throw c;
            }
            log.info("Not acting on a pass over {} read before this process lost the engine lease: {}",
                    e != null ? "experiment " + e.name() : "an orphaned job", c.getMessage());
            return false;
        }
        if (!same) {
            if (e != null) {
                enqueue(e.id()); // what the pass read changed meanwhile: a fresh pass decides
            }
            return false;
        }
        // by this process's clock too (asking the store again when only the local margin lapsed)
        return leadership.lead();
    }

    private Decide.Facts facts(Instant now) {
        return new Decide.Facts(inFlight::contains, lastPoll.get(), leadership.leaderSince(), config.launchLease(),
                config.cancelRetry(),
                config.cancelAttempts(), (policy, n) -> backoff.delay(policy.backoff(), policy.maxBackoff(), n),
                e -> capacity(e, now), backend.kind());
    }

    private Decide.Capacity capacity(Experiment e, Instant now) {
        int backendGpus = backend.gpuCapacity().orElse(0);
        int need = e.spec().totalGpus();
        if (config.maxConcurrentLaunches() == 0 && config.maxGpus() == 0 && (backendGpus == 0 || need == 0)) {
            return Decide.Capacity.UNLIMITED;
        }
        ActiveJobs held = writer.store().activeJobStats(backend.kind());
        LaunchQueue.Ahead ahead = launchQueue.ahead(e, now);
        return new Decide.Capacity(config.maxConcurrentLaunches(), config.maxGpus(), backendGpus, held.launching(),
                held.gpus(), ahead.slots(), ahead.gpus(), ahead.position(), ahead.size());
    }

    private void apply(Experiment e, Decision decision, Instant now) {
        if (!(decision instanceof Decision.Queue) && !(decision instanceof Decision.Launch)) {
            launchQueue.remove(e.id());
        }
        if (e.deleted() && !decision.settled()) {
            deletedEnding.put(e.name(), e.id());
        }
        if (decision instanceof Decision.Launch l) {
            launch(e, l, now);
        } else if (decision instanceof Decision.ResumeLaunch r) {
            resumeLaunch(e, r, now);
        } else if (decision instanceof Decision.AwaitLaunch a) {
            awaitLaunch(e, a, now);
        } else if (decision instanceof Decision.StopLaunch s) {
            stopLaunch(e, s, now);
        } else if (decision instanceof Decision.Cancel c) {
            sendCancel(e, c, now);
        } else if (decision instanceof Decision.ScheduleRestart r) {
            scheduleRestart(e, r, now);
        } else if (decision instanceof Decision.Wait w) {
            waitFor(e, w, now);
        } else if (decision instanceof Decision.Queue q) {
            queueLaunch(e, q, now);
        } else if (decision instanceof Decision.Settle s) {
            settle(e, s, now);
        } else {
            throw new IllegalStateException("no way to apply " + decision);
        }
    }

    /** The status this pass writes: the experiment's generation and desired state, retry bookkeeping kept within it. */
    private static ExperimentStatus status(Experiment e, JobStage stage, String reason, boolean settled) {
        ExperimentStatus s = e.status();
        boolean sameGeneration = s.observedGeneration() == e.generation();
        return new ExperimentStatus(stage, reason, e.generation(), e.effectiveDesired(),
                sameGeneration ? s.launchRetries() : 0, sameGeneration ? s.nextAttemptAt() : null, settled);
    }

    private void writeStatus(Experiment e, ExperimentStatus next) {
        if (!next.equals(e.status())) {
            writer.write(w -> {
                w.tx().updateStatus(e.id(), next);
                return null;
            });
        }
    }

    private void waitFor(Experiment e, Decision.Wait w, Instant now) {
        ExperimentStatus next = status(e, null, w.reason(), false);
        if (w.alert() && !java.util.Objects.equals(w.reason(), e.stateReason())) {
            writer.write(u -> {
                u.tx().updateStatus(e.id(), next);
                u.event(Event.draft(now, Actor.RECONCILER, EventType.CANCEL, e, null, false, w.reason(), null));
                return null;
            });
            log.warn("Experiment {}: {}", e.name(), w.reason());
        } else {
            writeStatus(e, next);
        }
        if (w.until() != null) {
            wakeAt(e.id(), w.until(), now);
        }
    }

    private void settle(Experiment e, Decision.Settle s, Instant now) {
        forget(e.id());
        if (s.teardown() && stillDecided(s, reads -> decideAgain(reads, e.id(), now), e)) {
            try {
                backend.terminate(e.name());
            } catch (SkyDeckException ex) {
                log.warn("Tearing down what experiment {} owns failed: {}", e.name(), ex.getMessage());
            }
        }
        writeStatus(e, status(e, null, s.reason(), true));
    }

    /** Drops what is held in memory for an experiment that needs nothing more (settled or gone). */
    private void forget(long id) {
        TaskScheduler.Scheduled timer = wakeups.remove(id);
        if (timer != null) {
            timer.cancel();
        }
        launchQueue.remove(id);
        deletedEnding.values().remove(id);
    }

    private void scheduleRestart(Experiment e, Decision.ScheduleRestart r, Instant now) {
        ExperimentStatus scheduled = status(e, null, r.reason(), false).withRetries(0, r.due());
        writer.write(w -> {
            w.tx().updateStatus(e.id(), scheduled);
            w.event(Event.draft(now, Actor.RECONCILER, EventType.RETRY_SCHEDULED, e, r.last().id(), true, r.reason(),
                    null));
            return null;
        });
        wakeAt(e.id(), r.due(), now);
    }

    private void queueLaunch(Experiment e, Decision.Queue q, Instant now) {
        launchQueue.enqueue(e, now);
        boolean wasQueued = e.status().stage() == JobStage.QUEUED;
        ExperimentStatus queued = status(e, JobStage.QUEUED, q.reason(), false);
        if (wasQueued) {
            writeStatus(e, queued);
            return;
        }
        writer.write(w -> {
            w.tx().updateStatus(e.id(), queued);
            w.event(Event.draft(now, Actor.RECONCILER, EventType.QUEUED, e, null, true, q.reason(), null));
            return null;
        });
    }

    // ---- launching ----

    private void launch(Experiment e, Decision.Launch l, Instant now) {
        Job intent = recordIntent(e, l.attempt(), now);
        if (intent != null) {
            // it leaves the queue only once its launch counts as launching: nobody behind it sees a free slot first
            launchQueue.remove(e.id());
            submit(e, intent, now);
        }
    }

    /**
     * Records the intent, if the experiment is still what the decision saw and the launch still
     * fits the limits as they are inside this transaction (another pass may have launched since).
     */
    private Job recordIntent(Experiment e, int attempt, Instant now) {
        ExperimentSpec spec = e.spec();
        String id = Ids.newJobId(now);
        Resources resources = spec.resources();
        if (resources.accelerator() == null) {
            // What the job ran with includes the GPU model detected from its instance type.
            resources = GpuCatalog.detect(resources.instanceType()).map(g -> spec.resources().withAccelerator(g.model()))
                    .orElse(resources);
        }
        Job job = new Job(id, e.name(), backend.kind(), null, id, null, JobStatus.INIT, null, null, null,
                JobStage.SUBMITTING, now, attempt, e.generation(), CommandLine.build(spec), spec.flags(),
                spec.nodes(), spec.gpus(), resources, spec.gitBranch(), spec.configHash(), now, null, null, null, null,
                0, null, null, null, null, now, e.startedBy() != null ? e.startedBy() : e.createdBy());
        Decide.Capacity before = capacity(e, now);
        Object[] queued = new Object[1];
        try {
            Job recorded = writer.write(w -> {
                Experiment current = w.tx().experiment(e.id()).orElse(null);
                if (current == null || current.deleted() || current.effectiveDesired() != e.effectiveDesired()
                        || current.generation() != e.generation()) {
                    return null; // changed meanwhile: the pass that change triggered decides
                }
                if (before != Decide.Capacity.UNLIMITED) {
                    ActiveJobs held = w.tx().activeJobStats(backend.kind());
                    Decision again = Decide.admit(e, attempt, new Decide.Capacity(before.maxLaunches(),
                            before.maxGpus(), before.backendGpus(), held.launching(), held.gpus(), before.slotsAhead(),
                            before.gpusAhead(), before.position(), before.queued()));
                    if (again instanceof Decision.Queue q) {
                        queued[0] = q;
                        return null;
                    }
                }
                Job inserted = w.tx().insertJob(job);
                w.tx().updateStatus(e.id(), status(e, null, "submitting attempt " + attempt, false)
                        .withRetries(0, null));
                return inserted;
            });
            if (queued[0] instanceof Decision.Queue q) {
                queueLaunch(e, q, now);
            }
            return recorded;
        } catch (SkyDeckException.Conflict c) {
            log.debug("Experiment {} already has an active job (another pass or process launched it)", e.name());
            return null;
        }
    }

    /** Claims a stale intent so that two processes never both resubmit it; {@code null} if someone else did. */
    private Job claim(Job intent, Instant now) {
        Instant seen = intent.updatedAt();
        return writer.write(w -> {
            Job current = w.tx().job(intent.id()).orElse(null);
            if (current == null || current.status() != JobStatus.INIT || !current.updatedAt().equals(seen)) {
                return null;
            }
            return w.tx().updateJob(current.touched(now));
        });
    }

    private void resumeLaunch(Experiment e, Decision.ResumeLaunch r, Instant now) {
        Job claimed = claim(r.intent(), now);
        if (claimed == null) {
            enqueue(e.id());
            return;
        }
        Optional<BackendJob> existing = findQuietly(e.name(), claimed);
        if (existing == null) {
            scheduleRetry(e, claimed, now, "the backend could not be asked about launch " + claimed.id());
            return;
        }
        if (existing.isPresent()) {
            adopt(e, claimed, existing.get(), now);
            writeStatus(e, status(e, null, null, false));
            return;
        }
        submit(e, claimed, now);
    }

    private void stopLaunch(Experiment e, Decision.StopLaunch s, Instant now) {
        String name = s.intent().experimentName();
        Job claimed = claim(s.intent(), now);
        if (claimed == null) {
            requeue(e, s.intent());
            return;
        }
        if (claimed.launchInFlight()) {
            stopRequest(e, claimed, now);
            return;
        }
        Optional<BackendJob> found = findQuietly(name, claimed);
        if (found == null) {
            if (e != null) {
                scheduleRetry(e, claimed, now, "the backend could not be asked about launch " + claimed.id());
            }
            return;
        }
        if (found.isPresent()) {
            adopt(e, claimed, found.get(), now); // the next pass cancels it
            requeue(e, claimed);
            return;
        }
        abandon(e, claimed, "stopped before the backend accepted the launch",
                "launch " + claimed.id() + " abandoned before the backend accepted it", now);
    }

    /** Ends an intent that never became a job: CANCELLED, with why. */
    private void abandon(Experiment e, Job intent, String reason, String message, Instant now) {
        Job abandoned = intent.observe(new JobObservation(JobStatus.CANCELLED, null, reason, null, JobStage.CANCELLED,
                null, now, null, 0, null, null, null), now);
        writer.write(w -> {
            w.tx().updateJob(abandoned);
            w.event(new Event(0, now, Actor.RECONCILER, EventType.CANCEL, e == null ? null : e.id(),
                    intent.experimentName(), abandoned.id(), true, message, null));
            return null;
        });
        requeue(e, abandoned);
    }

    /**
     * Stops a launch whose request is in flight: the request is cancelled at the backend; if it
     * could not be (it finished meanwhile), the job it made is recorded and the next pass cancels it.
     */
    private void stopRequest(Experiment e, Job intent, Instant now) {
        boolean cancelled;
        LaunchStatus status;
        try {
            cancelled = backend.cancelLaunch(intent.launchId(), intent.launchRef());
            status = cancelled ? null : backend.launchStatus(intent.launchId(), intent.launchRef(),
                    intent.experimentName());
        } catch (SkyDeckException ex) {
            log.warn("Could not cancel the launch request {} of experiment {}: {}; trying again", intent.launchRef(),
                    intent.experimentName(), ex.getMessage());
            if (e != null) {
                wakeAt(e.id(), now.plus(config.retryBase()), now);
            }
            return;
        }
        if (cancelled || status.state() == LaunchStatus.State.FAILED || status.state() == LaunchStatus.State.UNKNOWN) {
            abandon(e, intent, "its launch request was cancelled before the job existed", "launch request "
                    + intent.launchRef() + " of " + intent.id() + " cancelled before the job existed", now);
            log.info("Cancelled the launch request {} of experiment {}", intent.launchRef(), intent.experimentName());
        } else if (status.state() == LaunchStatus.State.STARTED) {
            recordLaunched(e, intent, status.job(), now); // the next pass cancels the job
            requeue(e, intent);
        } else if (e != null) {
            wakeAt(e.id(), now.plus(config.retryBase()), now); // still running and not cancellable yet
        }
    }

    /** Follows a launch whose request is in flight: its stage meanwhile, then its job or its failure. */
    private void awaitLaunch(Experiment e, Decision.AwaitLaunch a, Instant now) {
        Job intent = a.intent();
        LaunchStatus status;
        try {
            status = backend.launchStatus(intent.launchId(), intent.launchRef(), intent.experimentName());
        } catch (SkyDeckException ex) {
            writeStatus(e, status(e, null, "launching attempt " + intent.attempt() + ": the backend could not be"
                    + " asked about its request (" + ex.getMessage() + "); asking again", false));
            wakeAt(e.id(), now.plus(config.retryBase()), now);
            return;
        }
        switch (status.state()) {
            case PENDING -> {
                String detail = status.detail();
                if (detail != null && !detail.equals(intent.details())) {
                    writer.write(w -> {
                        w.tx().job(intent.id()).filter(Job::launchInFlight)
                                .ifPresent(j -> w.tx().updateJob(j.withDetails(detail, now)));
                        return null;
                    });
                }
                writeStatus(e, status(e, null, "launching attempt " + intent.attempt()
                        + (detail == null ? "" : ": " + detail), false));
                wakeAt(e.id(), now.plus(config.fastPollInterval()), now);
            }
            case STARTED -> recordLaunched(e, intent, status.job(), now);
            case FAILED -> {
                if (status.retryable()) {
                    writer.write(w -> {
                        w.tx().job(intent.id()).ifPresent(j -> w.tx().updateJob(j.submittedAs(null, j.details(), now)));
                        return null;
                    });
                    scheduleRetry(e, intent, now, status.error());
                } else {
                    failLaunch(e, intent, status.error());
                }
            }
            case UNKNOWN -> {
                // the backend knows neither the request nor a job for this launch: submit it again, same launch id
                log.warn("The {} backend forgot the launch request {} of experiment {}; submitting it again",
                        backend.kind(), intent.launchRef(), e.name());
                Job cleared = writer.write(w -> {
                    Job j = w.tx().job(intent.id()).orElse(intent);
                    return j.launchInFlight() ? w.tx().updateJob(j.submittedAs(null, null, now)) : null;
                });
                if (cleared != null) {
                    submit(e, cleared, now);
                }
            }
        }
    }

    private void requeue(Experiment e, Job job) {
        if (e != null) {
            enqueue(e.id());
        } else {
            enqueueOrphan(job.id());
        }
    }

    /** The backend's answer, or {@code null} when it could not be asked. */
    private Optional<BackendJob> findQuietly(String name, Job job) {
        try {
            return backend.find(job.launchId(), job.experimentName());
        } catch (SkyDeckException ex) {
            log.warn("Could not look up launch {} of experiment {} on the backend: {}", job.id(), name, ex.getMessage());
            return null;
        }
    }

    private void adopt(Experiment e, Job job, BackendJob found, Instant now) {
        writer.write(w -> {
            Job current = w.tx().job(job.id()).orElse(job);
            Job updated = current.backendJobId() != null ? current // the poller adopted it first
                    : current.submitted(found.backendJobId(), found.submittedAt() != null ? found.submittedAt() : now)
                            .observe(found.observation(), now);
            w.tx().updateJob(updated);
            w.event(new Event(0, now, Actor.RECONCILER, EventType.LAUNCH, e == null ? null : e.id(),
                    job.experimentName(), job.id(), true, "adopted job " + found.backendJobId()
                            + " (launched before SkyDeck stopped, never recorded)", null));
            return updated;
        });
        log.info("Adopted backend job {} for experiment {} (launch {})", found.backendJobId(), job.experimentName(),
                job.id());
    }

    private void submit(Experiment e, Job job, Instant started) {
        inFlight.add(job.id());
        try {
            LaunchRequest request = request(e, job);
            Submission submission;
            if (!leadership.lead()) {
                // paused since the fenced write of the intent: it stays recorded for whoever leads now
                log.info("Not submitting attempt {} of experiment {}: this process lost the engine lease; the"
                        + " process that holds it takes the recorded intent over", job.attempt(), e.name());
                return;
            }
            try {
                submission = backend.submit(request);
            } catch (SkyDeckException ex) {
                if (ex.retryable()) {
                    scheduleRetry(e, job, clock.instant(), ex.getMessage());
                } else {
                    failLaunch(e, job, ex.getMessage());
                }
                return;
            } catch (RuntimeException ex) {
                log.error("Backend {} threw an unexpected error launching experiment {}", backend.kind(), e.name(), ex);
                scheduleRetry(e, job, clock.instant(), "unexpected error: " + ex);
                return;
            }
            Instant now = clock.instant();
            if (submission.job() != null) {
                recordLaunched(e, job, submission.job(), now);
                log.info("Launched experiment {} attempt {} as {} job {} in {} ms", e.name(), job.attempt(),
                        backend.kind(), submission.job().backendJobId(), Duration.between(started, now).toMillis());
            } else {
                recordSubmitted(e, job, submission, now);
            }
        } finally {
            inFlight.remove(job.id());
        }
        wakeQueued();
    }

    /** The job exists: record its backend id and what the backend reports, once (the poller may have been first). */
    private void recordLaunched(Experiment e, Job job, BackendJob launched, Instant now) {
        writer.write(w -> {
            Job current = w.tx().job(job.id()).orElse(job);
            // The poller may have listed (and adopted) the job between the launch and this record:
            // its observation is newer than the launch's, so keep it.
            if (current.backendJobId() == null) {
                w.tx().updateJob(current.submitted(launched.backendJobId(),
                        launched.submittedAt() != null ? launched.submittedAt() : now)
                        .observe(launched.observation(), now));
            }
            if (e != null) {
                w.tx().updateStatus(e.id(), status(e, null, null, false).withRetries(0, null));
            }
            w.event(new Event(0, now, Actor.RECONCILER, EventType.LAUNCH, e == null ? null : e.id(),
                    job.experimentName(), job.id(), true, "launched attempt " + job.attempt() + " as "
                    + backend.kind() + " job " + launched.backendJobId(), CommandLine.render(job.command())));
            return null;
        });
    }

    /** The backend took the request; its job comes later: record the request so any pass (or process) can follow it. */
    private void recordSubmitted(Experiment e, Job job, Submission submission, Instant now) {
        writer.write(w -> {
            Job current = w.tx().job(job.id()).orElse(job);
            if (current.backendJobId() == null) {
                w.tx().updateJob(current.submittedAs(submission.ref(), submission.detail(), now));
            }
            w.tx().updateStatus(e.id(), status(e, null, "launching attempt " + job.attempt(), false)
                    .withRetries(0, null));
            w.event(Event.draft(now, Actor.RECONCILER, EventType.LAUNCH, e, job.id(), true,
                    "submitted attempt " + job.attempt() + " to " + backend.kind() + " (request "
                            + submission.ref() + ")", CommandLine.render(job.command())));
            return null;
        });
        log.info("Submitted experiment {} attempt {} to {} (request {})", e.name(), job.attempt(), backend.kind(),
                submission.ref());
        wakeAt(e.id(), now.plus(config.fastPollInterval()), now);
    }

    private LaunchRequest request(Experiment e, Job job) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("SKYDECK_LAUNCH_ID", job.launchId());
        env.put("SKYDECK_EXPERIMENT", e.name());
        env.put("SKYDECK_ATTEMPT", Integer.toString(job.attempt()));
        return new LaunchRequest(e.name(), job.launchId(), job.attempt(), job.command(), job.flags(), job.nodes(),
                job.gpus(), job.resources(), job.gitRef(), e.spec().taskTemplate(), env, e.spec().priority());
    }

    private void scheduleRetry(Experiment e, Job job, Instant now, String message) {
        ExperimentStatus base = status(e, null, null, false);
        int retries = base.launchRetries() + 1;
        Duration delay = backoff.delay(config.retryBase(), config.retryCap(), retries);
        Instant due = now.plus(delay);
        String reason = "backend failed (" + message + "); retrying in " + Decide.seconds(delay) + " (retry "
                + retries + ")";
        writer.write(w -> {
            Job current = w.tx().job(job.id()).orElse(job);
            if (current.status() == JobStatus.INIT) {
                w.tx().updateJob(current.withDetails("launch failed: " + message, now));
            }
            w.tx().updateStatus(e.id(), status(e, null, reason, false).withRetries(retries, due));
            w.event(Event.draft(now, Actor.RECONCILER, EventType.LAUNCH_FAILED, e, job.id(), false,
                    "launch attempt failed, will retry", message));
            w.event(Event.draft(now, Actor.RECONCILER, EventType.RETRY_SCHEDULED, e, job.id(), true, reason, null));
            return null;
        });
        log.warn("Launch of experiment {} failed ({}); retry {} in {}", e.name(), message, retries,
                Decide.seconds(delay));
        wakeAt(e.id(), due, now);
    }

    private void failLaunch(Experiment e, Job job, String message) {
        Instant now = clock.instant();
        writer.write(w -> {
            Job current = w.tx().job(job.id()).orElse(job);
            Job failed = current.observe(new JobObservation(JobStatus.FAILED, null, message, null, JobStage.FAILED,
                    null, now, null, 0, null, null, null), now);
            w.tx().updateJob(failed);
            w.event(Event.draft(now, Actor.RECONCILER, EventType.LAUNCH_FAILED, e, job.id(), false,
                    "launch failed", message));
            return null;
        });
        log.error("Launch of experiment {} failed and retrying cannot help: {}", e.name(), message);
        enqueue(e.id());
    }

    // ---- cancelling ----

    /**
     * Sends a cancel and records that it was sent; {@code e} is {@code null} for an orphaned job.
     * The job's status is left to the poller: the next poll shows whether the cancel took.
     */
    private void sendCancel(Experiment e, Decision.Cancel c, Instant now) {
        Job job = c.job();
        String name = job.experimentName();
        if (job.backendJobId() == null) {
            return; // an intent: StopLaunch handles those
        }
        if (!backend.kind().equals(job.backend())) {
            // Decide never asks for this; a cancel must never reach a backend the job does not belong to
            log.warn("Not cancelling job {} of experiment {}: it belongs to the {} backend, not {}", job.id(), name,
                    job.backend(), backend.kind());
            return;
        }
        if (e != null && !stillDecided(c, reads -> decideAgain(reads, e.id(), now), e)) {
            return;
        }
        try {
            backend.cancel(job.backendJobId());
        } catch (SkyDeckException ex) {
            log.warn("Cancel of job {} of experiment {} failed: {}", job.id(), name, ex.getMessage());
            String reason = "cancel failed: " + ex.getMessage() + (ex.retryable() ? "; retrying" : "");
            writer.write(w -> {
                if (e != null) {
                    w.tx().updateStatus(e.id(), status(e, null, reason, false));
                }
                w.event(new Event(0, now, Actor.RECONCILER, EventType.CANCEL, e == null ? null : e.id(), name,
                        job.id(), false, "cancel of job " + Decide.display(job) + " failed", ex.getMessage()));
                return null;
            });
            if (e != null) {
                wakeAt(e.id(), now.plus(config.retryBase()), now);
            }
            return;
        }
        writer.write(w -> {
            Job current = w.tx().job(job.id()).orElse(job);
            JobCancel asked = current.cancel() != null ? current.cancel() : JobCancel.requested(now, Actor.RECONCILER);
            w.tx().updateJob(current.withCancel(asked.sent(now), now));
            if (e != null) {
                w.tx().updateStatus(e.id(), status(e, null, c.reason(), false));
            }
            w.event(new Event(0, now, Actor.RECONCILER, EventType.CANCEL, e == null ? null : e.id(), name, job.id(),
                    true, (c.resend() ? "cancel sent again for job " : "cancel sent for job ") + Decide.display(job),
                    null));
            return null;
        });
        log.info("Cancel sent for job {} of experiment {}{}", job.id(), name, c.resend() ? " (again)" : "");
        requestPoll.run();
        if (e != null) {
            wakeAt(e.id(), now.plus(config.cancelRetry()), now);
        }
    }

    // ---- helpers ----

    private void wakeAt(long id, Instant due, Instant now) {
        Duration delay = Duration.between(now, due);
        if (delay.isNegative() || delay.isZero()) {
            enqueue(id);
            return;
        }
        TaskScheduler.Scheduled[] self = new TaskScheduler.Scheduled[1];
        self[0] = scheduler.schedule(() -> {
            wakeups.remove(id, self[0]);
            enqueue(id);
        }, delay);
        TaskScheduler.Scheduled previous = wakeups.put(id, self[0]);
        if (previous != null) {
            previous.cancel();
        }
    }
}
