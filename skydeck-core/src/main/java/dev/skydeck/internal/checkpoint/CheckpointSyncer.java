package dev.skydeck.internal.checkpoint;

import dev.skydeck.Actor;
import dev.skydeck.Checkpoint;
import dev.skydeck.Event;
import dev.skydeck.EventType;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentQuery;
import dev.skydeck.Job;
import dev.skydeck.JobQuery;
import dev.skydeck.SkyDeckException;
import dev.skydeck.SkyDeckConfig;
import dev.skydeck.internal.Status;
import dev.skydeck.internal.Threads;
import dev.skydeck.internal.Writer;
import dev.skydeck.spi.CheckpointObject;
import dev.skydeck.spi.CheckpointSource;
import dev.skydeck.spi.TaskScheduler;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the store's checkpoints in line with a {@link CheckpointSource} (SPEC §8). Each cycle
 * lists, at most once each and a few at a time, the experiments with a live or recent job plus a
 * rotating slice of the rest; it writes only what changed, in one transaction, and marks
 * checkpoints whose objects disappeared. A failing source backs off and shows in health; the
 * reconciler and poller never wait for it.
 */
public final class CheckpointSyncer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CheckpointSyncer.class);
    /** Experiments visited per cycle besides the busy ones. */
    static final int QUIET_PER_CYCLE = 100;
    private static final Duration RECENT = Duration.ofHours(1);

    /** What one cycle did. */
    public record Result(int listed, int upserted, int markedGone, int failed) {
    }

    private final Writer writer;
    private final CheckpointSource source;
    private final Clock clock;
    private final TaskScheduler scheduler;
    private final SkyDeckConfig config;
    private final ExecutorService listers;
    private final java.util.function.BooleanSupplier mayAct;
    private final ExecutorService cycles = Executors.newSingleThreadExecutor(Threads.named("skydeck-syncer", true));
    private final Object cycleLock = new Object();
    /**
     * A fingerprint of what the last successful sync wrote per experiment: an unchanged listing
     * costs no store access at all (and a few bytes of memory per experiment).
     */
    private final Map<Long, Long> lastWritten = new java.util.concurrent.ConcurrentHashMap<>();
    private long quietCursor;
    private int failures;
    private volatile TaskScheduler.Scheduled next;
    private final Status status = new Status();
    private volatile boolean started;
    private volatile boolean closed;

    /**
     * @param concurrency listings in flight at once
     * @param mayAct      whether this process may sync (it holds the engine lease; asks for it if not)
     */
    public CheckpointSyncer(Writer writer, CheckpointSource source, Clock clock, TaskScheduler scheduler, SkyDeckConfig config,
                            int concurrency, java.util.function.BooleanSupplier mayAct) {
        this.writer = writer;
        this.mayAct = mayAct;
        this.source = source;
        this.clock = clock;
        this.scheduler = scheduler;
        this.config = config;
        this.listers = Executors.newFixedThreadPool(concurrency, Threads.named("skydeck-syncer-list", true));
    }

    /** Starts periodic cycles (the first soon). Idempotent. */
    public synchronized void start() {
        if (started || closed) {
            return;
        }
        started = true;
        schedule(Duration.ZERO);
    }

    private synchronized void schedule(Duration delay) {
        if (closed) {
            return;
        }
        next = scheduler.schedule(() -> {
            if (!closed) {
                cycles.execute(this::scheduledCycle);
            }
        }, delay);
    }

    private void scheduledCycle() {
        Duration delay = config.syncInterval();
        try {
            if (mayAct.getAsBoolean()) { // else the process that holds the engine lease syncs
                syncOnce();
            }
        } catch (RuntimeException e) {
            long factor = 1L << Math.min(failures, 5);
            delay = config.syncInterval().multipliedBy(factor);
        }
        schedule(delay);
    }

    /** Drops what is remembered about a deleted experiment. */
    public void forget(long experimentId) {
        lastWritten.remove(experimentId);
    }

    /** Experiments whose last listing is remembered (for leak checks). */
    public int remembered() {
        return lastWritten.size();
    }

    /** When sync cycles last worked and failed, and why. */
    public Status status() {
        return status;
    }

    /** One cycle now, on the calling thread. */
    public Result syncOnce() {
        synchronized (cycleLock) {
            return sync(pickBatch(), (done, total) -> { });
        }
    }

    /**
     * Re-scans every live experiment once, reporting progress ({@code done}, {@code total}) after
     * each experiment.
     */
    public Result backfill(BiConsumer<Integer, Integer> progress) {
        synchronized (cycleLock) {
            return sync(allExperiments(), progress);
        }
    }

    private List<Experiment> allExperiments() {
        List<Experiment> all = writer.store().experiments(ExperimentQuery.ALL).items();
        List<Experiment> every = new ArrayList<>(all);
        int offset = all.size();
        while (all.size() == ExperimentQuery.ALL.limit()) {
            all = writer.store().experiments(ExperimentQuery.ALL.page(ExperimentQuery.ALL.limit(), offset)).items();
            every.addAll(all);
            offset += all.size();
        }
        return every;
    }

    private List<Experiment> pickBatch() {
        Instant now = clock.instant();
        Set<String> busy = new LinkedHashSet<>();
        for (Job j : writer.store().activeJobs()) {
            busy.add(j.experimentName());
        }
        for (Job j : writer.store().jobs(new JobQuery(null, false, null, null, 500, 0)).items()) {
            if (j.endedAt() != null && j.endedAt().isAfter(now.minus(RECENT))) {
                busy.add(j.experimentName());
            }
        }
        List<Experiment> batch = new ArrayList<>();
        Set<Long> picked = new java.util.HashSet<>();
        Map<String, Experiment> byName = busy.isEmpty() ? Map.of() : writer.store().experimentsByName(busy);
        for (String name : busy) {
            Experiment e = byName.get(name);
            if (e != null) {
                batch.add(e);
                picked.add(e.id());
            }
        }
        // A rotating slice of the quiet ones, so every experiment is visited eventually.
        var page = writer.store().experiments(ExperimentQuery.ALL.sortedBy(ExperimentQuery.Sort.CREATED_AT, false)
                .page(QUIET_PER_CYCLE, (int) quietCursor));
        if (page.items().isEmpty() && quietCursor > 0) {
            quietCursor = 0;
            page = writer.store().experiments(ExperimentQuery.ALL.sortedBy(ExperimentQuery.Sort.CREATED_AT, false)
                    .page(QUIET_PER_CYCLE, 0));
        }
        quietCursor += page.items().size();
        for (Experiment e : page.items()) {
            if (picked.add(e.id())) {
                batch.add(e);
            }
        }
        return batch;
    }

    private Result sync(List<Experiment> experiments, BiConsumer<Integer, Integer> progress) {
        Instant now = clock.instant();
        Map<Experiment, Future<List<CheckpointObject>>> listings = new java.util.LinkedHashMap<>();
        for (Experiment e : experiments) {
            listings.put(e, listers.submit(() -> source.list(e.name())));
        }
        Map<Experiment, List<Checkpoint>> found = new java.util.LinkedHashMap<>();
        List<String> errors = new ArrayList<>();
        int done = 0;
        int listed = 0;
        for (Map.Entry<Experiment, Future<List<CheckpointObject>>> entry : listings.entrySet()) {
            try {
                List<CheckpointObject> objects = entry.getValue().get(5, TimeUnit.MINUTES);
                List<Checkpoint> parsed = CheckpointNames.checkpoints(entry.getKey().id(), objects, now);
                Long previous = lastWritten.get(entry.getKey().id());
                if (previous == null || previous != fingerprint(parsed)) {
                    found.put(entry.getKey(), parsed);
                }
                listed++;
            } catch (ExecutionException ex) {
                errors.add(entry.getKey().name() + ": " + (ex.getCause() == null ? ex : ex.getCause().getMessage()));
            } catch (java.util.concurrent.TimeoutException ex) {
                entry.getValue().cancel(true);
                errors.add(entry.getKey().name() + ": listing took longer than 5 minutes");
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new SkyDeckException("interrupted while syncing checkpoints", true, ex);
            }
            progress.accept(++done, listings.size());
        }
        int[] counts = new int[2];
        if (!found.isEmpty()) {
            writer.write(w -> {
                counts[0] = counts[1] = 0;
                for (Map.Entry<Experiment, List<Checkpoint>> entry : found.entrySet()) {
                    Experiment e = entry.getKey();
                    Map<Long, Checkpoint> stored = new HashMap<>();
                    for (Checkpoint c : w.tx().checkpoints(e.id(), 10_000)) {
                        stored.put(c.epoch(), c);
                    }
                    List<Long> newEpochs = new ArrayList<>();
                    for (Checkpoint c : entry.getValue()) {
                        Checkpoint old = stored.remove(c.epoch());
                        if (old == null || !sameObject(old, c)) {
                            w.tx().upsertCheckpoint(c);
                            counts[0]++;
                            if (old == null || !old.present()) {
                                newEpochs.add(c.epoch());
                            }
                        }
                    }
                    for (Checkpoint gone : stored.values()) {
                        if (gone.present()) {
                            w.tx().upsertCheckpoint(new Checkpoint(gone.experimentId(), gone.epoch(), gone.modelPath(),
                                    gone.replayPaths(), gone.policyVersion(), gone.sizeBytes(), gone.createdAt(),
                                    gone.syncedAt(), now));
                            counts[1]++;
                        }
                    }
                    if (!newEpochs.isEmpty()) {
                        newEpochs.sort(null);
                        w.event(Event.draft(now, Actor.SYNCER, EventType.CHECKPOINT, e, null, true,
                                newEpochs.size() == 1 ? "checkpoint of epoch " + newEpochs.get(0) + " found"
                                        : newEpochs.size() + " checkpoints found (epochs " + newEpochs.get(0) + "–"
                                        + newEpochs.get(newEpochs.size() - 1) + ")", null));
                    }
                }
                return null;
            });
        }
        found.forEach((e, parsed) -> lastWritten.put(e.id(), fingerprint(parsed)));
        if (!errors.isEmpty()) {
            failures++;
            String message = "listing checkpoints in " + source.describe() + " failed for " + errors.size() + " of "
                    + experiments.size() + " experiment(s): " + String.join("; ", errors.subList(0, Math.min(3, errors.size())));
            if (status.failed(clock.instant(), message)) {
                log.warn("{}; retrying with backoff", message);
            }
            if (listed == 0 && !experiments.isEmpty()) {
                throw new SkyDeckException(message, true, null);
            }
        } else {
            if (status.succeeded(clock.instant()) != null) {
                log.info("Checkpoint sync from {} works again", source.describe());
            }
            failures = 0;
        }
        return new Result(listed, counts[0], counts[1], errors.size());
    }

    private static long fingerprint(List<Checkpoint> checkpoints) {
        long fp = 17;
        for (Checkpoint c : checkpoints) {
            fp = fp * 1_000_003L + Objects.hash(c.epoch(), c.modelPath(), c.sizeBytes(), c.createdAt(), c.replayPaths(),
                    c.policyVersion());
        }
        return fp;
    }

    private static boolean sameObject(Checkpoint a, Checkpoint b) {
        return a.present() && a.modelPath().equals(b.modelPath()) && a.sizeBytes() == b.sizeBytes()
                && Objects.equals(a.createdAt(), b.createdAt()) && a.replayPaths().equals(b.replayPaths())
                && Objects.equals(a.policyVersion(), b.policyVersion());
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            if (next != null) {
                next.cancel();
            }
        }
        // Listings may be slow network calls: interrupt them rather than wait.
        cycles.shutdownNow();
        listers.shutdownNow();
        Threads.shutdown(cycles, Duration.ofSeconds(10));
        Threads.shutdown(listers, Duration.ofSeconds(10));
    }
}
