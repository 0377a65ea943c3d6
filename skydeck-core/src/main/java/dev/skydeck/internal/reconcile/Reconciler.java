package dev.skydeck.internal.reconcile;

import dev.skydeck.Actor;
import dev.skydeck.CommandLine;
import dev.skydeck.DesiredState;
import dev.skydeck.Event;
import dev.skydeck.EventType;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.ExperimentStatus;
import dev.skydeck.GpuCatalog;
import dev.skydeck.Job;
import dev.skydeck.JobQuery;
import dev.skydeck.JobStage;
import dev.skydeck.JobStatus;
import dev.skydeck.Resources;
import dev.skydeck.RestartPolicy;
import dev.skydeck.SkyDeckException;
import dev.skydeck.internal.Config;
import dev.skydeck.internal.Ids;
import dev.skydeck.internal.Threads;
import dev.skydeck.internal.Writer;
import dev.skydeck.spi.BackendJob;
import dev.skydeck.spi.ClusterBackend;
import dev.skydeck.spi.JobObservation;
import dev.skydeck.spi.LaunchRequest;
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
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Brings each experiment's jobs in line with its desired state (SPEC §4). Level-triggered: every
 * pass reads the experiment and its jobs from the store and decides from them, never from the
 * event that woke it. Passes run on a bounded pool, at most one per experiment at a time,
 * coalescing wake-ups; a periodic resync catches anything missed.
 *
 * <p>Launches record their intent (an {@code INIT} job whose id is the launch id) before the
 * backend is called, so a crash between the call and its record is repaired by adoption
 * ({@link ClusterBackend#find}) instead of a second launch.
 */
public final class Reconciler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Reconciler.class);
    private static final int RECENT_JOBS = 200;

    /** Told after every pass, with the experiment as it is now stored. */
    public interface Observer {
        /** The pass for this experiment ended. */
        void reconciled(long experimentId);
    }

    private final Writer writer;
    private final ClusterBackend backend;
    private final Clock clock;
    private final TaskScheduler scheduler;
    private final Config config;
    private final Backoff backoff;
    private final Observer observer;
    private final ExecutorService executor;
    private final WorkQueue queue;
    private final LaunchQueue launchQueue;
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    private final Map<String, Instant> cancelsSent = new ConcurrentHashMap<>();
    private final Map<Long, TaskScheduler.Scheduled> wakeups = new ConcurrentHashMap<>();
    private volatile TaskScheduler.Scheduled resync;
    private volatile Instant lastResync;
    private volatile Instant lastPass;
    private volatile boolean started;
    private volatile boolean closed;

    /** Creates a reconciler; nothing runs until {@link #start()}. */
    public Reconciler(Writer writer, ClusterBackend backend, Clock clock, TaskScheduler scheduler, Config config,
                      RandomGenerator random, Observer observer) {
        this.writer = writer;
        this.backend = backend;
        this.clock = clock;
        this.scheduler = scheduler;
        this.config = config;
        this.backoff = new Backoff(random);
        this.observer = observer;
        this.executor = new ThreadPoolExecutor(config.reconcilerThreads(), config.reconcilerThreads(), 30,
                TimeUnit.SECONDS, new LinkedBlockingQueue<>(), Threads.named("skydeck-reconciler", true));
        this.queue = new WorkQueue(executor, this::reconcile);
        this.launchQueue = new LaunchQueue(config.maxConcurrentLaunches(), config.maxGpus());
    }

    /** Starts the periodic resync (which runs once at once). Idempotent. */
    public synchronized void start() {
        if (started || closed) {
            return;
        }
        started = true;
        resyncNow();
    }

    /** Asks for a pass over one experiment. */
    public void enqueue(long experimentId) {
        if (!closed) {
            queue.enqueue(experimentId);
        }
    }

    /** Enqueues every experiment the store says needs looking at, and re-arms the resync timer. */
    public void resyncNow() {
        if (closed) {
            return;
        }
        try {
            for (long id : writer.store().experimentIdsToReconcile()) {
                queue.enqueue(id);
            }
            lastResync = clock.instant();
        } catch (RuntimeException e) {
            log.warn("Resync could not list experiments ({}); it runs again in {}", e.getMessage(),
                    config.reconcileInterval());
        } finally {
            synchronized (this) {
                if (!closed && started) {
                    if (resync != null) {
                        resync.cancel();
                    }
                    resync = scheduler.schedule(this::resyncNow, config.reconcileInterval());
                }
            }
        }
    }

    /** When the last full resync ran, or {@code null}. */
    public Instant lastResync() {
        return lastResync;
    }

    /** When the last pass over any experiment finished, or {@code null}. */
    public Instant lastPass() {
        return lastPass;
    }

    /** Whether no pass is queued or running. */
    public boolean idle() {
        return queue.idle();
    }

    /** Experiment ids waiting in the launch queue, in order. */
    public List<Long> queued() {
        synchronized (launchQueue) {
            return launchQueue.waitingIds();
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
        wakeups.values().forEach(TaskScheduler.Scheduled::cancel);
        if (!Threads.shutdown(executor, Duration.ofSeconds(30))) {
            log.warn("Reconcile passes still running after 30 s at shutdown were interrupted");
        }
    }

    // ---- one pass ----

    private void reconcile(long id) {
        Optional<Experiment> found = writer.store().experiment(id);
        if (found.isEmpty()) {
            return;
        }
        Experiment e = found.get();
        MDC.put("experiment", e.name());
        try {
            pass(e);
        } catch (SkyDeckException ex) {
            log.warn("Reconcile of experiment {} failed: {}; retrying at the next resync", e.name(), ex.getMessage());
        } finally {
            MDC.remove("experiment");
            lastPass = clock.instant();
            observer.reconciled(id);
        }
    }

    private void pass(Experiment e) {
        Instant now = clock.instant();
        List<Job> jobs = writer.store().jobs(JobQuery.of(e.name(), RECENT_JOBS)).items();
        Job managed = null;
        Job foreign = null;
        for (Job j : jobs) {
            if (j.isActive()) {
                if (j.launchId() != null && managed == null) {
                    managed = j;
                } else if (j.launchId() == null && foreign == null) {
                    foreign = j;
                }
            }
        }
        ExperimentStatus status = e.status();
        if (status.observedGeneration() != e.generation()) {
            // A new generation starts from a clean retry state.
            status = new ExperimentStatus(null, null, e.generation(), 0, null, false);
        }
        DesiredState desired = e.deleted() ? DesiredState.STOPPED : e.desiredState();
        if (desired != DesiredState.RUNNING) {
            dequeue(e.id());
            stopPass(e, managed, foreign, status, desired, now);
            return;
        }
        if (managed != null) {
            dequeue(e.id());
            if (managed.status() == JobStatus.INIT) {
                resumeLaunch(e, managed, status, now);
            } else {
                writeStatus(e, status(status, null, null, false));
            }
            return;
        }
        if (foreign != null) {
            dequeue(e.id());
            writeStatus(e, status(status, null, "job " + display(foreign)
                    + " was launched outside SkyDeck and is running; SkyDeck launches again when it ends", false));
            return;
        }
        // Jobs match experiments by name, so a deleted experiment's jobs carry this name too: only
        // jobs recorded since this experiment was created count towards its attempts and generations.
        List<Job> own = jobs.stream().filter(j -> !j.createdAt().isBefore(e.createdAt())).toList();
        int attempt = own.stream().mapToInt(Job::attempt).max().orElse(0) + 1;
        List<Job> generationJobs = own.stream().filter(j -> j.generation() == e.generation()).toList();
        if (!generationJobs.isEmpty()) {
            Job last = generationJobs.get(0);
            RestartPolicy policy = e.spec().restartPolicy();
            if (!policy.restartsAfter(last.status())) {
                dequeue(e.id());
                writeStatus(e, status(status, null, endedReason(last), true));
                return;
            }
            int restarts = generationJobs.size() - 1;
            if (restarts >= policy.maxRestarts()) {
                dequeue(e.id());
                writeStatus(e, status(status, null, "gave up after " + generationJobs.size() + " attempt"
                        + (generationJobs.size() == 1 ? "" : "s") + " (restart policy " + policy.mode()
                        + ", max_restarts " + policy.maxRestarts() + "); set it RUNNING again to retry", true));
                return;
            }
            Instant due = status.nextAttemptAt();
            if (due == null) {
                Instant ended = last.endedAt() != null ? last.endedAt() : last.updatedAt();
                Duration delay = backoff.delay(policy.backoff(), policy.maxBackoff(), restarts + 1);
                due = ended.plus(delay);
                if (due.isBefore(now)) {
                    due = now;
                }
                String reason = restartReason(due, now, restarts + 2, policy.maxRestarts() + 1, last);
                ExperimentStatus scheduled = new ExperimentStatus(null, reason, e.generation(), status.launchRetries(),
                        due, false);
                writer.write(w -> {
                    w.tx().updateStatus(e.id(), scheduled);
                    w.event(Event.draft(now, Actor.RECONCILER, EventType.RETRY_SCHEDULED, e, last.id(), true, reason,
                            null));
                    return null;
                });
                status = scheduled;
            }
            if (now.isBefore(due)) {
                writeStatus(e, status(status, null, restartReason(due, now, restarts + 2, policy.maxRestarts() + 1,
                        last), false));
                wakeAt(e.id(), due, now);
                return;
            }
        }
        launchIfAdmitted(e, attempt, status, now);
    }

    private void stopPass(Experiment e, Job managed, Job foreign, ExperimentStatus status, DesiredState desired,
                          Instant now) {
        if (managed == null) {
            boolean firstSettle = !e.settled();
            if (desired == DesiredState.TERMINATED && firstSettle) {
                terminate(e, now);
            }
            String reason = foreign == null ? null : "job " + display(foreign)
                    + " was launched outside SkyDeck and is still running: cancel it from the Jobs page if it should stop";
            writeStatus(e, status(status, null, reason, true));
            return;
        }
        if (managed.status() == JobStatus.INIT) {
            if (inFlight.contains(managed.id())) {
                writeStatus(e, status(status, null, "stopping: waiting for the launch in progress to return", false));
                return;
            }
            if (!initDue(managed, status, now)) {
                writeStatus(e, status(status, null, "stopping: a launch by another SkyDeck process may be in progress",
                        false));
                return;
            }
            Optional<BackendJob> adopted = findQuietly(e, managed);
            if (adopted == null) {
                scheduleRetry(e, managed, status, now, "the backend could not be asked about launch " + managed.id());
                return;
            }
            if (adopted.isEmpty()) {
                Job abandoned = managed.observe(new JobObservation(JobStatus.CANCELLED, null,
                        "stopped before the backend accepted the launch", null, JobStage.CANCELLED, null, now, null, 0,
                        null, null, null), now);
                writer.write(w -> {
                    w.tx().updateJob(abandoned);
                    w.tx().updateStatus(e.id(), status(status, null, null, true));
                    w.event(Event.draft(now, Actor.RECONCILER, EventType.CANCEL, e, abandoned.id(), true,
                            "launch abandoned before the backend accepted it", null));
                    return null;
                });
                return;
            }
            managed = adopt(e, managed, adopted.get(), now);
            if (managed.status().isTerminal()) {
                writeStatus(e, status(status, null, null, true));
                return;
            }
        }
        Instant sent = cancelsSent.get(managed.id());
        if (sent != null && now.isBefore(sent.plus(config.cancelRetry()))) {
            writeStatus(e, status(status, null, "stopping: cancel sent, waiting for the job to end", false));
            return;
        }
        Job job = managed;
        try {
            backend.cancel(job.backendJobId());
        } catch (SkyDeckException ex) {
            log.warn("Cancel of job {} of experiment {} failed: {}", job.id(), e.name(), ex.getMessage());
            String reason = "cancel failed: " + ex.getMessage() + (ex.retryable() ? "; retrying" : "");
            writer.write(w -> {
                w.tx().updateStatus(e.id(), status(status, null, reason, false));
                w.event(Event.draft(now, Actor.RECONCILER, EventType.CANCEL, e, job.id(), false,
                        "cancel of job " + display(job) + " failed", ex.getMessage()));
                return null;
            });
            wakeAt(e.id(), now.plus(config.retryBase()), now);
            return;
        }
        cancelsSent.put(job.id(), now);
        wakeAt(e.id(), now.plus(config.cancelRetry()), now);
        if (desired == DesiredState.TERMINATED) {
            terminate(e, now);
        }
        writer.write(w -> {
            Job current = w.tx().job(job.id()).orElse(job);
            if (current.isActive() && current.status() != JobStatus.CANCELLING) {
                w.tx().updateJob(current.observe(current.observation().withStatus(JobStatus.CANCELLING,
                        current.backendStatus(), current.failureReason()), now));
            }
            w.tx().updateStatus(e.id(), status(status, null, "stopping: cancel sent", false));
            w.event(Event.draft(now, Actor.RECONCILER, EventType.CANCEL, e, job.id(), true,
                    "cancel sent for job " + display(job), null));
            return null;
        });
        log.info("Cancelled job {} of experiment {} (desired state {})", job.id(), e.name(), desired);
    }

    private void terminate(Experiment e, Instant now) {
        try {
            backend.terminate(e.name());
        } catch (SkyDeckException ex) {
            log.warn("Tearing down what experiment {} owns failed: {}", e.name(), ex.getMessage());
        }
    }

    // ---- launching ----

    /** Whether this reconciler is submitting the job with this SkyDeck id right now. */
    public boolean launching(String jobId) {
        return inFlight.contains(jobId);
    }

    private void launchIfAdmitted(Experiment e, int attempt, ExperimentStatus status, Instant now) {
        Job intent;
        synchronized (launchQueue) {
            int capacity = backend.gpuCapacity().orElse(0);
            boolean counted = launchQueue.limited() || capacity > 0 && e.spec().totalGpus() > 0;
            LaunchQueue.Admission admission = launchQueue.admit(e, now,
                    counted ? writer.store().activeJobs() : List.of(), counted ? capacity : 0);
            if (!admission.admitted()) {
                boolean wasQueued = e.status().stage() == JobStage.QUEUED;
                ExperimentStatus queued = status(status, JobStage.QUEUED, admission.reason(), false);
                writer.write(w -> {
                    w.tx().updateStatus(e.id(), queued);
                    if (!wasQueued) {
                        w.event(Event.draft(now, Actor.RECONCILER, EventType.QUEUED, e, null, true, admission.reason(),
                                null));
                    }
                    return null;
                });
                return;
            }
            intent = recordIntent(e, attempt, status, now);
        }
        if (intent != null) {
            submit(e, intent, status.withRetries(0, null), now);
        }
    }

    private Job recordIntent(Experiment e, int attempt, ExperimentStatus status, Instant now) {
        ExperimentSpec spec = e.spec();
        String id = Ids.newJobId(now);
        Resources resources = spec.resources();
        if (resources.accelerator() == null) {
            // What the job ran with includes the GPU model detected from its instance type.
            resources = GpuCatalog.detect(resources.instanceType()).map(g -> spec.resources().withAccelerator(g.model()))
                    .orElse(resources);
        }
        Job job = new Job(id, e.name(), backend.kind(), null, id, JobStatus.INIT, null, null, null,
                JobStage.SUBMITTING, now, attempt, e.generation(), CommandLine.build(spec), spec.flags(),
                spec.nodes(), spec.gpus(), resources, spec.gitBranch(), now, null, null, null, null, 0, null,
                null, null, now);
        try {
            return writer.write(w -> {
                Experiment current = w.tx().experiment(e.id()).orElse(null);
                if (current == null || current.deleted() || current.desiredState() != DesiredState.RUNNING
                        || current.generation() != e.generation()) {
                    return null; // changed meanwhile: the pass that change triggered decides
                }
                Job inserted = w.tx().insertJob(job);
                w.tx().updateStatus(e.id(), status(status, null, "submitting attempt " + attempt, false)
                        .withRetries(0, null));
                return inserted;
            });
        } catch (SkyDeckException.Conflict c) {
            log.debug("Experiment {} already has an active job (another pass or process launched it)", e.name());
            return null;
        }
    }

    private void resumeLaunch(Experiment e, Job job, ExperimentStatus status, Instant now) {
        if (inFlight.contains(job.id())) {
            return;
        }
        if (!initDue(job, status, now)) {
            Instant due = status.launchRetries() > 0 && status.nextAttemptAt() != null ? status.nextAttemptAt()
                    : job.updatedAt().plus(config.launchLease());
            String reason = status.launchRetries() > 0 ? status.stateReason()
                    : "launch of " + job.id() + " in progress elsewhere; adopting it at " + due + " if it never finishes";
            writeStatus(e, status(status, null, reason, false));
            wakeAt(e.id(), due, now);
            return;
        }
        // Claim the stale launch, so that two processes never both resubmit it.
        Instant seen = job.updatedAt();
        Job claimed = writer.write(w -> {
            Job current = w.tx().job(job.id()).orElse(null);
            if (current == null || current.status() != JobStatus.INIT || !current.updatedAt().equals(seen)) {
                return null;
            }
            return w.tx().updateJob(current.observe(current.observation(), now));
        });
        if (claimed == null) {
            enqueue(e.id());
            return;
        }
        Optional<BackendJob> existing = findQuietly(e, claimed);
        if (existing == null) {
            scheduleRetry(e, claimed, status, now, "the backend could not be asked about launch " + claimed.id());
            return;
        }
        if (existing.isPresent()) {
            adopt(e, claimed, existing.get(), now);
            writeStatus(e, status(status, null, null, false));
            return;
        }
        submit(e, claimed, status, now);
    }

    private boolean initDue(Job job, ExperimentStatus status, Instant now) {
        if (status.launchRetries() > 0 && status.nextAttemptAt() != null) {
            return !now.isBefore(status.nextAttemptAt());
        }
        return !now.isBefore(job.updatedAt().plus(config.launchLease()));
    }

    /** The backend's answer, or {@code null} when it could not be asked. */
    private Optional<BackendJob> findQuietly(Experiment e, Job job) {
        try {
            return backend.find(job.launchId());
        } catch (SkyDeckException ex) {
            log.warn("Could not look up launch {} of experiment {} on the backend: {}", job.id(), e.name(),
                    ex.getMessage());
            return null;
        }
    }

    private Job adopt(Experiment e, Job job, BackendJob found, Instant now) {
        Job adopted = writer.write(w -> {
            Job current = w.tx().job(job.id()).orElse(job);
            Job updated = current.backendJobId() != null ? current // the poller adopted it first
                    : current.submitted(found.backendJobId(), found.submittedAt() != null ? found.submittedAt() : now)
                            .observe(found.observation(), now);
            w.tx().updateJob(updated);
            w.event(Event.draft(now, Actor.RECONCILER, EventType.LAUNCH, e, job.id(), true,
                    "adopted job " + found.backendJobId() + " (launched before SkyDeck stopped, never recorded)", null));
            return updated;
        });
        log.info("Adopted backend job {} for experiment {} (launch {})", found.backendJobId(), e.name(), job.id());
        return adopted;
    }

    private void submit(Experiment e, Job job, ExperimentStatus status, Instant started) {
        inFlight.add(job.id());
        try {
            LaunchRequest request = request(e, job);
            BackendJob launched;
            try {
                launched = backend.launch(request);
            } catch (SkyDeckException ex) {
                if (ex.retryable()) {
                    scheduleRetry(e, job, status, clock.instant(), ex.getMessage());
                } else {
                    failLaunch(e, job, ex.getMessage());
                }
                return;
            } catch (RuntimeException ex) {
                log.error("Backend {} threw an unexpected error launching experiment {}", backend.kind(), e.name(), ex);
                scheduleRetry(e, job, status, clock.instant(), "unexpected error: " + ex);
                return;
            }
            Instant now = clock.instant();
            writer.write(w -> {
                Job current = w.tx().job(job.id()).orElse(job);
                // The poller may have listed (and adopted) the job between the launch and this record:
                // its observation is newer than the launch's, so keep it.
                if (current.backendJobId() == null) {
                    w.tx().updateJob(current.submitted(launched.backendJobId(),
                            launched.submittedAt() != null ? launched.submittedAt() : now)
                            .observe(launched.observation(), now));
                }
                w.tx().updateStatus(e.id(), status(status, null, null, false).withRetries(0, null));
                w.event(Event.draft(now, Actor.RECONCILER, EventType.LAUNCH, e, job.id(), true,
                        "launched attempt " + job.attempt() + " as " + backend.kind() + " job "
                                + launched.backendJobId(), CommandLine.render(job.command())));
                return null;
            });
            log.info("Launched experiment {} attempt {} as {} job {} in {} ms", e.name(), job.attempt(),
                    backend.kind(), launched.backendJobId(), Duration.between(started, now).toMillis());
        } finally {
            inFlight.remove(job.id());
        }
        wakeQueued();
    }

    private LaunchRequest request(Experiment e, Job job) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("SKYDECK_LAUNCH_ID", job.launchId());
        env.put("SKYDECK_EXPERIMENT", e.name());
        env.put("SKYDECK_ATTEMPT", Integer.toString(job.attempt()));
        Resources resources = job.resources();
        return new LaunchRequest(e.name(), job.launchId(), job.attempt(), job.command(), job.flags(), job.nodes(),
                job.gpus(), resources, job.gitRef(), e.spec().taskTemplate(), env);
    }

    private void scheduleRetry(Experiment e, Job job, ExperimentStatus status, Instant now, String message) {
        int retries = status.launchRetries() + 1;
        Duration delay = backoff.delay(config.retryBase(), config.retryCap(), retries);
        Instant due = now.plus(delay);
        String reason = "backend failed (" + message + "); retrying in " + seconds(delay) + " (retry " + retries + ")";
        writer.write(w -> {
            Job current = w.tx().job(job.id()).orElse(job);
            if (current.status() == JobStatus.INIT) {
                w.tx().updateJob(new Job(current.id(), current.experimentName(), current.backend(),
                        current.backendJobId(), current.launchId(), current.status(), current.backendStatus(),
                        current.failureReason(), "launch failed: " + message, current.stage(), current.stageSince(),
                        current.attempt(), current.generation(), current.command(), current.flags(), current.nodes(),
                        current.gpus(), current.resources(), current.gitRef(), current.createdAt(),
                        current.submittedAt(), current.startedAt(), current.endedAt(), current.exitCode(),
                        current.recoveryCount(), current.clusterName(), current.cloud(), current.region(), now));
            }
            w.tx().updateStatus(e.id(), status(status, null, reason, false).withRetries(retries, due));
            w.event(Event.draft(now, Actor.RECONCILER, EventType.LAUNCH_FAILED, e, job.id(), false,
                    "launch attempt failed, will retry", message));
            w.event(Event.draft(now, Actor.RECONCILER, EventType.RETRY_SCHEDULED, e, job.id(), true, reason, null));
            return null;
        });
        log.warn("Launch of experiment {} failed ({}); retry {} in {}", e.name(), message, retries, seconds(delay));
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

    // ---- helpers ----

    private void dequeue(long id) {
        synchronized (launchQueue) {
            launchQueue.remove(id);
        }
    }

    /** Wakes experiments waiting in the launch queue: capacity may have freed. */
    public void wakeQueued() {
        for (long id : queued()) {
            enqueue(id);
        }
    }

    private void wakeAt(long id, Instant due, Instant now) {
        Duration delay = Duration.between(now, due);
        TaskScheduler.Scheduled previous = wakeups.put(id, scheduler.schedule(() -> {
            wakeups.remove(id);
            enqueue(id);
        }, delay.isNegative() ? Duration.ZERO : delay));
        if (previous != null) {
            previous.cancel();
        }
    }

    private void writeStatus(Experiment e, ExperimentStatus next) {
        if (!next.equals(e.status())) {
            writer.write(w -> {
                w.tx().updateStatus(e.id(), next);
                return null;
            });
        }
    }

    private static ExperimentStatus status(ExperimentStatus base, JobStage stage, String reason, boolean settled) {
        return new ExperimentStatus(stage, reason, base.observedGeneration(), base.launchRetries(),
                base.nextAttemptAt(), settled);
    }

    private static String endedReason(Job last) {
        return switch (last.status()) {
            case SUCCEEDED -> null;
            case FAILED -> last.failureReason() == null ? "job " + display(last) + " failed"
                    : "job " + display(last) + " failed: " + last.failureReason();
            case CANCELLED -> "job " + display(last) + " was cancelled";
            default -> null;
        };
    }

    private static String restartReason(Instant due, Instant now, int attempt, int attempts, Job last) {
        return "retrying in " + seconds(Duration.between(now, due)) + ", attempt " + attempt + " of " + attempts
                + " (job " + display(last) + " " + last.status().name().toLowerCase(java.util.Locale.ROOT) + ")";
    }

    private static String seconds(Duration d) {
        long s = Math.max(0, (d.toMillis() + 999) / 1000);
        return s < 120 ? s + " s" : (s / 60) + " min";
    }

    private static String display(Job j) {
        return j.backendJobId() != null ? j.backendJobId() : j.id();
    }
}
