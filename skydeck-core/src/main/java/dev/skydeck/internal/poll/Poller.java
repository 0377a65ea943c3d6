package dev.skydeck.internal.poll;

import dev.skydeck.Actor;
import dev.skydeck.Event;
import dev.skydeck.EventType;
import dev.skydeck.Job;
import dev.skydeck.JobStatus;
import dev.skydeck.SkyDeckException;
import dev.skydeck.Experiment;
import dev.skydeck.SkyDeckConfig;
import dev.skydeck.internal.Ids;
import dev.skydeck.internal.Status;
import dev.skydeck.internal.Threads;
import dev.skydeck.internal.Writer;
import dev.skydeck.spi.BackendJob;
import dev.skydeck.spi.ClusterBackend;
import dev.skydeck.spi.JobObservation;
import dev.skydeck.spi.JobPage;
import dev.skydeck.spi.TaskScheduler;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records what the backend reports (SPEC §5): one listing call per page, only changed jobs
 * written, in one transaction; the reconciler is woken for the experiments affected. A failed
 * listing changes nothing. Jobs SkyDeck believes active that a complete listing no longer shows
 * become {@code UNKNOWN}, then {@code FAILED} after a grace period.
 */
public final class Poller implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Poller.class);

    /** What one poll did. */
    public record Result(int listed, int changed, int inserted, int vanished, Duration took) {
    }

    private final Writer writer;
    private final java.util.function.BooleanSupplier mayAct;
    private final ClusterBackend backend;
    private final Clock clock;
    private final TaskScheduler scheduler;
    private final SkyDeckConfig config;
    private final java.util.function.Predicate<String> launching;
    private final Consumer<Set<String>> affected;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(Threads.named("skydeck-poller", true));
    /** The last observation written per backend job id: polls compare against it, not the store. */
    private final Map<String, JobObservation> seen = new ConcurrentHashMap<>();
    private volatile TaskScheduler.Scheduled next;
    private volatile AutoCloseable changeSubscription;
    private final java.util.concurrent.atomic.AtomicBoolean pollQueued = new java.util.concurrent.atomic.AtomicBoolean();
    private final Status status = new Status();
    /** When the listing of the last successful poll was asked for: a job's status is known as of then. */
    private volatile Instant lastListed;
    /** When the last listing of every job (not only unfinished ones) was asked for. */
    private volatile Instant lastFullListing;
    private volatile boolean started;
    private volatile boolean closed;

    /**
     * @param affected  told the names of experiments whose jobs changed
     * @param launching whether this process is launching the job with that SkyDeck id right now
     * @param mayAct    whether this process may poll (it holds the engine lease; asks for it if not)
     */
    public Poller(Writer writer, ClusterBackend backend, Clock clock, TaskScheduler scheduler, SkyDeckConfig config,
                  Consumer<Set<String>> affected, java.util.function.Predicate<String> launching,
                  java.util.function.BooleanSupplier mayAct) {
        this.mayAct = mayAct;
        this.launching = launching;
        this.writer = writer;
        this.backend = backend;
        this.clock = clock;
        this.scheduler = scheduler;
        this.config = config;
        this.affected = affected;
    }

    /** Starts polling (a first poll at once). Idempotent. */
    public synchronized void start() {
        if (started || closed) {
            return;
        }
        started = true;
        changeSubscription = backend.onChange(this::requestPoll);
        requestPoll();
    }

    /** Asks for a poll soon, on the poller's thread (coalescing with one already queued). */
    public synchronized void requestPoll() {
        if (closed) {
            return;
        }
        if (next != null) {
            next.cancel();
        }
        next = null;
        if (pollQueued.compareAndSet(false, true)) { // requests before the queued poll starts share it
            executor.execute(this::scheduledPoll);
        }
    }

    /** Polls now on the poller's thread and waits for the result. */
    public Result pollNow() {
        Future<Result> f = executor.submit(this::pollOnce);
        try {
            return f.get(10, TimeUnit.MINUTES);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof SkyDeckException s) {
                throw s;
            }
            throw new SkyDeckException("poll failed: " + cause, true, cause);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new SkyDeckException("poll did not finish within 10 minutes", true, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SkyDeckException("interrupted while polling", true, e);
        }
    }

    /** When the listing of the last successful poll started, or {@code null} before one worked. */
    public Instant lastListed() {
        return lastListed;
    }

    /** When polls last worked and failed, and why. */
    public Status status() {
        return status;
    }

    private void scheduledPoll() {
        pollQueued.set(false);
        boolean busy = false;
        try {
            if (!mayAct.getAsBoolean()) {
                return; // the process that holds the engine lease polls
            }
            Result r = pollOnce();
            busy = r.changed() > 0 || r.vanished() > 0 || anyLaunching();
        } catch (SkyDeckException e) {
            busy = true;
        } catch (RuntimeException e) {
            log.error("Poll of the {} backend failed unexpectedly; polling continues", backend.kind(), e);
        } finally {
            synchronized (this) {
                if (!closed) {
                    next = scheduler.schedule(this::requestPoll, busy ? config.fastPollInterval() : config.pollInterval());
                }
            }
        }
    }

    private boolean anyLaunching() {
        return writer.store().activeJobStats(backend.kind()).launching() > 0;
    }

    /** One poll on the calling thread. A failed listing changes nothing and is rethrown. */
    public Result pollOnce() {
        Instant start = clock.instant();
        boolean full = lastFullListing == null || !start.isBefore(lastFullListing.plus(config.fullListingInterval()));
        Map<String, BackendJob> listed = new LinkedHashMap<>();
        try {
            String token = null;
            do {
                JobPage page = full ? backend.list(token) : backend.listActive(token);
                for (BackendJob j : page.jobs()) {
                    listed.put(j.backendJobId(), j);
                }
                token = page.nextPageToken();
            } while (token != null);
            // Jobs SkyDeck holds active that the listing left out are asked for by id before they
            // count as vanished: ended ones (routine listings skip finished jobs), and on a full
            // listing the ones a backend can only tell about when asked directly (SkyPilot's stopped
            // jobs controller lists nothing until a lookup by id starts it).
            addEndedSinceLastPoll(listed);
        } catch (RuntimeException e) {
            recordFailure(e);
            throw e instanceof SkyDeckException s ? s
                    : new SkyDeckException("listing jobs failed: " + e, true, e);
        }
        List<BackendJob> changed = new ArrayList<>();
        for (BackendJob j : listed.values()) {
            if (!j.observation().equals(seen.get(j.backendJobId()))) {
                changed.add(j);
            }
        }
        Set<String> names = new LinkedHashSet<>();
        int[] counts = new int[3];
        Instant now = clock.instant();
        try {
            writeChanges(listed, changed, names, counts, start, now);
        } catch (RuntimeException e) {
            recordFailure(e); // a store failure is as visible as a listing failure
            throw e;
        }
        for (BackendJob j : listed.values()) {
            seen.put(j.backendJobId(), j.observation());
        }
        seen.keySet().retainAll(listed.keySet());
        Instant end = clock.instant();
        lastListed = start;
        if (full) {
            lastFullListing = start;
        }
        String recovered = status.succeeded(end);
        if (recovered != null) {
            log.info("Polling the {} backend works again after: {}", backend.kind(), recovered);
        }
        if (!names.isEmpty()) {
            affected.accept(names);
        }
        return new Result(listed.size(), counts[0], counts[1], counts[2], Duration.between(start, end));
    }

    /**
     * @param listedAt when the listing was asked for: only a job recorded before then can have
     *                 vanished from it (one launched while the listing ran is simply not in it yet)
     */
    /**
     * A listing of unfinished jobs leaves out the ones that ended since the last poll: ask the
     * backend for those SkyDeck still holds active, by id, in one call (none when the counts match).
     */
    private void addEndedSinceLastPoll(Map<String, BackendJob> listed) {
        long listedActive = listed.values().stream().filter(j -> j.observation().status().isActive()).count();
        if (writer.store().activeJobStats(backend.kind()).active() <= listedActive) {
            return;
        }
        List<String> missing = new ArrayList<>();
        for (Job j : writer.store().activeJobs()) {
            if (backend.kind().equals(j.backend()) && j.backendJobId() != null && !listed.containsKey(j.backendJobId())) {
                missing.add(j.backendJobId());
            }
        }
        if (!missing.isEmpty()) {
            for (BackendJob j : backend.jobs(missing)) {
                listed.put(j.backendJobId(), j);
            }
        }
    }

    private void writeChanges(Map<String, BackendJob> listed, List<BackendJob> changed, Set<String> names, int[] counts,
                              Instant listedAt, Instant now) {
        writer.write(w -> {
            counts[0] = counts[1] = counts[2] = 0;
            // one read per kind of lookup, whatever the number of changed jobs
            Map<String, Job> stored = changed.isEmpty() ? Map.of()
                    : w.tx().jobsByBackendId(backend.kind(), changed.stream().map(BackendJob::backendJobId).toList());
            List<String> unknownLaunches = changed.stream()
                    .filter(bj -> !stored.containsKey(bj.backendJobId()) && bj.launchId() != null)
                    .map(BackendJob::launchId).toList();
            Map<String, Job> byLaunch = unknownLaunches.isEmpty() ? Map.of() : w.tx().jobsByLaunchId(unknownLaunches);
            Set<String> touched = new LinkedHashSet<>();
            for (BackendJob bj : changed) {
                Job job = stored.get(bj.backendJobId());
                touched.add(job != null ? job.experimentName() : bj.name());
                if (job == null && bj.launchId() != null && byLaunch.containsKey(bj.launchId())) {
                    touched.add(byLaunch.get(bj.launchId()).experimentName());
                }
            }
            Map<String, Experiment> experiments = touched.isEmpty() ? Map.of() : w.tx().experimentsByName(touched);
            List<Job> updates = new ArrayList<>();
            for (BackendJob bj : changed) {
                Job job = stored.get(bj.backendJobId());
                if (job == null && bj.launchId() != null) {
                    job = byLaunch.get(bj.launchId());
                    if (job != null) {
                        job = adopt(w, job, bj, experiments, now);
                    }
                }
                if (job == null) {
                    insertObserved(w, bj, experiments.get(bj.name()), now);
                    names.add(bj.name());
                    counts[1]++;
                    continue;
                }
                if (!job.observation().equals(bj.observation())) {
                    Job updated = job.observe(bj.observation(), now);
                    updates.add(updated);
                    counts[0]++;
                    names.add(job.experimentName());
                    if (job.status() != updated.status()) {
                        w.event(jobEvent(updated, job.status(), experiments, now));
                    }
                } else if (job != stored.get(bj.backendJobId())) {
                    updates.add(job); // adopted, with nothing else new
                }
            }
            w.tx().updateJobs(updates);
            // Something can only have vanished if the store holds more active jobs than the listing
            // shows (a cheap count first: reading every active job of a big fleet each poll is not).
            long listedActive = listed.values().stream().filter(j -> j.observation().status().isActive()).count();
            List<Job> candidates = w.tx().activeJobStats(backend.kind()).active() > listedActive ? w.tx().activeJobs()
                    : List.of();
            List<Job> vanished = new ArrayList<>();
            for (Job job : candidates) {
                if (!backend.kind().equals(job.backend()) || job.backendJobId() == null
                        || listed.containsKey(job.backendJobId()) || !job.updatedAt().isBefore(listedAt)) {
                    continue;
                }
                Job updated = vanished(job, now);
                if (updated != null) {
                    vanished.add(updated);
                }
            }
            if (!vanished.isEmpty()) {
                Map<String, Experiment> owners = w.tx().experimentsByName(
                        vanished.stream().map(Job::experimentName).collect(java.util.stream.Collectors.toSet()));
                w.tx().updateJobs(vanished);
                for (Job updated : vanished) {
                    counts[2]++;
                    names.add(updated.experimentName());
                    JobStatus from = updated.status() == JobStatus.UNKNOWN ? JobStatus.RUNNING : JobStatus.UNKNOWN;
                    w.event(jobEvent(updated, from, owners, now));
                }
            }
            return null;
        });
    }

    /** A launch whose result is not recorded (yet), listed by the backend: record its backend id. */
    private Job adopt(Writer.Unit w, Job job, BackendJob bj, Map<String, Experiment> experiments, Instant now) {
        boolean inFlight = launching.test(job.id());
        boolean requested = job.launchInFlight();
        Job adopted = job.submitted(bj.backendJobId(), bj.submittedAt() != null ? bj.submittedAt() : now);
        Experiment e = experiments.get(job.experimentName());
        if (inFlight) {
            // our own launch, listed before it was recorded: its LAUNCH event follows from the reconciler
            log.debug("Job {} of {} listed before its launch was recorded", bj.backendJobId(), job.experimentName());
        } else if (requested) {
            // a launch request SkyDeck recorded has made its job
            w.event(new Event(0, now, Actor.POLLER, EventType.LAUNCH, e == null ? null : e.id(), job.experimentName(),
                    job.id(), true, "launched attempt " + job.attempt() + " as " + backend.kind() + " job "
                            + bj.backendJobId(), null));
        } else {
            w.event(new Event(0, now, Actor.POLLER, EventType.LAUNCH, e == null ? null : e.id(), job.experimentName(),
                    job.id(), true, "adopted job " + bj.backendJobId()
                            + " (launched before SkyDeck stopped, never recorded)", null));
        }
        return adopted;
    }

    private Job vanished(Job job, Instant now) {
        if (job.status() != JobStatus.UNKNOWN) {
            return job.observe(job.observation().withStatus(JobStatus.UNKNOWN, job.backendStatus(),
                    "no longer listed by the " + backend.kind() + " backend since " + now), now);
        }
        if (!now.isBefore(job.stageSince().plus(config.vanishedGrace()))) {
            return job.observe(job.observation().withStatus(JobStatus.FAILED, job.backendStatus(),
                    "vanished: not listed by the " + backend.kind() + " backend for "
                            + config.vanishedGrace().toMinutes() + " min").withEndedAt(now), now);
        }
        return null;
    }

    /**
     * Records a job SkyDeck has no row for. One with a launch id is a SkyDeck launch whose record
     * was lost: it counts for the experiment's current generation, so a restart never mistakes it
     * for an older one.
     */
    private void insertObserved(Writer.Unit w, BackendJob bj, Experiment owner, Instant now) {
        JobObservation o = bj.observation();
        Instant created = bj.submittedAt() != null ? bj.submittedAt() : now;
        long generation = owner != null && bj.launchId() != null ? owner.generation() : 0;
        Job job = new Job(Ids.newJobId(created), bj.name(), backend.kind(), bj.backendJobId(), bj.launchId(), null,
                o.status(), o.backendStatus(), o.failureReason(), o.details(), o.stage(), now, 0, generation,
                List.of(), Map.of(), 1, 0, null, null, null, created, bj.submittedAt(), o.startedAt(), o.endedAt(),
                o.exitCode(), o.recoveryCount(), o.clusterName(), o.cloud(), o.region(), null, now);
        try {
            w.tx().insertJob(job);
        } catch (SkyDeckException.Conflict c) {
            // An active launched job exists already for that name: record this one as launched outside SkyDeck.
            w.tx().insertJob(new Job(job.id(), job.experimentName(), job.backend(), job.backendJobId(), null, null,
                    job.status(), job.backendStatus(), job.failureReason(), job.details(), job.stage(),
                    job.stageSince(), 0, 0, List.of(), Map.of(), 1, 0, null, null, null, job.createdAt(),
                    job.submittedAt(), job.startedAt(), job.endedAt(), job.exitCode(), job.recoveryCount(),
                    job.clusterName(), job.cloud(), job.region(), null, now));
        }
    }

    private static Event jobEvent(Job job, JobStatus from, Map<String, Experiment> experiments, Instant now) {
        Experiment e = experiments.get(job.experimentName());
        String msg = "job " + (job.backendJobId() != null ? job.backendJobId() : job.id()) + ": " + from + " → "
                + job.status();
        boolean ok = job.status() != JobStatus.FAILED && job.status() != JobStatus.UNKNOWN;
        return new Event(0, now, Actor.POLLER, EventType.JOB_STATUS, e == null ? null : e.id(), job.experimentName(),
                job.id(), ok, msg, job.failureReason());
    }

    private void recordFailure(RuntimeException e) {
        Instant now = clock.instant();
        if (status.failed(now, e.getMessage())) {
            log.warn("Polling the {} backend failed: {}. Nothing was changed; polling retries every {} s",
                    backend.kind(), e.getMessage(), config.fastPollInterval().toSeconds());
            try {
                writer.write(w -> {
                    w.event(new Event(0, now, Actor.POLLER, EventType.ERROR, null, null, null, false,
                            "polling the " + backend.kind() + " backend failed", e.getMessage()));
                    return null;
                });
            } catch (RuntimeException ignored) {
                // the store may be the problem; the log line above says what failed
            }
        } else {
            log.debug("Polling the {} backend failed again: {}", backend.kind(), e.getMessage());
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            if (next != null) {
                next.cancel();
            }
        }
        if (changeSubscription != null) {
            try {
                changeSubscription.close();
            } catch (Exception e) {
                log.debug("Unsubscribing from backend changes failed", e);
            }
        }
        Threads.shutdown(executor, Duration.ofSeconds(30));
    }

}
