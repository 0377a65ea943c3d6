package dev.skydeck;

import dev.skydeck.internal.Config;
import dev.skydeck.internal.EventBus;
import dev.skydeck.internal.SkyDeckHome;
import dev.skydeck.internal.SystemScheduler;
import dev.skydeck.internal.Validate;
import dev.skydeck.internal.Writer;
import dev.skydeck.internal.checkpoint.CheckpointSyncer;
import dev.skydeck.internal.poll.Poller;
import dev.skydeck.internal.reconcile.Reconciler;
import dev.skydeck.local.LocalBackend;
import dev.skydeck.spi.BackendProvider;
import dev.skydeck.spi.CheckpointSource;
import dev.skydeck.spi.ClusterBackend;
import dev.skydeck.spi.Store;
import dev.skydeck.spi.StoreProvider;
import dev.skydeck.spi.TaskScheduler;
import java.io.Reader;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SkyDeck: declare experiments and their desired state; SkyDeck launches, tracks, stops and
 * restarts their jobs until reality matches, and keeps every job's history.
 *
 * <pre>{@code
 * try (SkyDeck deck = SkyDeck.open()) {                  // ~/.skydeck/skydeck.db, backend auto
 *     Experiment e = deck.create(ExperimentSpec.named("ppo_4layer")
 *             .flag("trainer.losses.ppo.enabled", true)
 *             .desired(DesiredState.RUNNING));
 *     deck.awaitSettled(List.of(e), Duration.ofHours(6));
 *     deck.jobs(e).forEach(j -> System.out.println(j.id() + " " + j.status()));
 * }
 * }</pre>
 *
 * <p>Thread-safe. Methods taking an {@link Experiment} use only its id, so a stale copy is fine.
 * Errors are {@link SkyDeckException}s saying what to do. {@link #close()} stops the background
 * work (jobs keep running and are re-adopted by the next {@code SkyDeck}).
 */
public final class SkyDeck implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SkyDeck.class);
    /** SkyDeck's version. */
    public static final String VERSION = "0.1.0";

    private final Store store;
    private final boolean ownsStore;
    private final ClusterBackend backend;
    private final boolean ownsBackend;
    private final String backendReason;
    private final CheckpointSource checkpoints;
    private final Clock clock;
    private final TaskScheduler scheduler;
    private final SystemScheduler ownScheduler;
    private final EventBus bus = new EventBus();
    private final Writer writer;
    private final Reconciler reconciler;
    private final Poller poller;
    private final CheckpointSyncer syncer;
    private final Map<Long, List<CompletableFuture<Void>>> waiters = new HashMap<>();
    private final FlagSchema declaredFlags;
    private final dev.skydeck.internal.schema.FlagSchemaCache flagCommand;
    private volatile boolean closed;

    private SkyDeck(Builder b) {
        this.clock = b.clock;
        this.store = b.store;
        this.ownsStore = b.ownsStore;
        this.backend = b.backend;
        this.ownsBackend = b.ownsBackend;
        this.backendReason = b.backendReason;
        this.checkpoints = b.checkpoints;
        if (b.scheduler == null) {
            ownScheduler = new SystemScheduler();
            scheduler = ownScheduler;
        } else {
            ownScheduler = null;
            scheduler = b.scheduler;
        }
        this.writer = new Writer(store, bus);
        FlagSchema declared = FlagSchema.EMPTY;
        for (Class<?> type : b.flagClasses) {
            declared = declared.merge(FlagSchema.fromClass(type));
        }
        this.declaredFlags = declared;
        this.flagCommand = b.flagCommand;
        Config config = b.config();
        this.reconciler = new Reconciler(writer, backend, clock, scheduler, config, b.random, this::reconciled);
        this.poller = new Poller(writer, backend, clock, scheduler, config, this::jobsChanged, reconciler::launching);
        this.syncer = new CheckpointSyncer(writer, checkpoints, clock, scheduler, config, 4);
        log.info("SkyDeck {} started: store {}, backend {} ({}), checkpoints from {}", VERSION, store.describe(),
                backend.kind(), backendReason, checkpoints.describe());
        if (b.autoStart) {
            start();
        }
    }

    /** Opens SkyDeck with every default: {@code ~/.skydeck/skydeck.db} and the backend {@code auto}. */
    public static SkyDeck open() {
        return builder().build();
    }

    /** Opens SkyDeck on the given database file with the backend {@code auto}. */
    public static SkyDeck open(Path databaseFile) {
        return builder().databaseFile(databaseFile).build();
    }

    /** A builder for every option. */
    public static Builder builder() {
        return new Builder();
    }

    /** Starts the reconciler and poller (builders do this unless told not to). Idempotent. */
    public void start() {
        checkOpen();
        reconciler.start();
        poller.start();
        syncer.start();
    }

    // ---- experiments ----

    /** Creates an experiment; if its desired state is RUNNING, it launches at once. */
    public Experiment create(ExperimentSpec spec) {
        return createAll(List.of(spec)).get(0);
    }

    /**
     * Creates many experiments in one transaction: all of them, or none if any name is taken or
     * repeated.
     */
    public List<Experiment> createAll(List<ExperimentSpec> specs) {
        checkOpen();
        Map<String, Boolean> names = new HashMap<>();
        for (ExperimentSpec s : specs) {
            if (names.put(s.name(), true) != null) {
                throw new SkyDeckException.Conflict("the name '" + s.name() + "' appears twice in one bulk create");
            }
        }
        Instant now = clock.instant();
        List<Experiment> created = writer.write(w -> {
            List<Experiment> out = new ArrayList<>(specs.size());
            for (ExperimentSpec s : specs) {
                Experiment e = w.tx().insertExperiment(s, now);
                out.add(e);
                w.event(Event.draft(now, Actor.USER, EventType.CREATE, e, null, true,
                        "created experiment " + e.name() + (s.desiredState() == DesiredState.RUNNING ? " (RUNNING)" : ""),
                        null));
            }
            return out;
        });
        for (Experiment e : created) {
            reconciler.enqueue(e.id());
        }
        return created;
    }

    /** Every live experiment, in display order (up to 10,000; page with {@link #experiments(ExperimentQuery)}). */
    public List<Experiment> experiments() {
        return experiments(ExperimentQuery.ALL).items();
    }

    /** A filtered, sorted page of experiments. */
    public Page<Experiment> experiments(ExperimentQuery query) {
        checkOpen();
        return store.experiments(query);
    }

    /** The live experiment with this name. */
    public Experiment experiment(String name) {
        return findExperiment(name).orElseThrow(() -> new SkyDeckException.NotFound("no experiment named '" + name
                + "': list them with experiments()"));
    }

    /** The live experiment with this name, if any. */
    public Optional<Experiment> findExperiment(String name) {
        checkOpen();
        return store.experimentByName(name);
    }

    /** An experiment by id (deleted ones too). */
    public Experiment experiment(long id) {
        checkOpen();
        return store.experiment(id).orElseThrow(() -> new SkyDeckException.NotFound("no experiment with id " + id));
    }

    /** The current stored state of {@code e}. */
    public Experiment refresh(Experiment e) {
        return experiment(e.id());
    }

    /**
     * Writes a user change to an experiment: its spec (a changed desired state counts as a new
     * generation), star, order, expansion. {@code changed.version()} must be the stored version.
     *
     * @throws SkyDeckException.Conflict when someone else changed it since {@code changed} was read
     */
    public Experiment update(Experiment changed) {
        checkOpen();
        Instant now = clock.instant();
        Experiment written = writer.write(w -> {
            Experiment stored = w.tx().experiment(changed.id()).orElseThrow(() ->
                    new SkyDeckException.NotFound("no experiment with id " + changed.id()));
            Experiment next = changed;
            if (!stored.name().equals(changed.name())) {
                boolean active = w.tx().jobs(new JobQuery(null, true, null, stored.name(), 1, 0)).total() > 0;
                if (active) {
                    throw new SkyDeckException.Conflict("experiment '" + stored.name()
                            + "' has an active job: stop it before renaming (jobs belong to experiments by name)");
                }
            }
            boolean desiredChanged = stored.desiredState() != changed.desiredState();
            if (desiredChanged && changed.generation() == stored.generation()) {
                next = new Experiment(changed.id(), changed.spec(), changed.starred(), changed.order(),
                        changed.expanded(), changed.deleted(), changed.createdAt(), changed.updatedAt(),
                        changed.version(), stored.generation() + 1, null, null, null);
            }
            Experiment e = w.tx().updateExperiment(next, now);
            w.event(Event.draft(now, Actor.USER, desiredChanged ? stateEvent(e.desiredState()) : EventType.UPDATE, e,
                    null, true, desiredChanged ? "desired state " + e.desiredState() : "updated experiment " + e.name(),
                    null));
            return e;
        });
        reconciler.enqueue(written.id());
        return written;
    }

    /** Applies {@code change} to the experiment's spec (read, change, write; retried if someone else wrote meanwhile). */
    public Experiment update(Experiment e, UnaryOperator<ExperimentSpec> change) {
        for (int attempt = 1; ; attempt++) {
            Experiment current = experiment(e.id());
            try {
                return update(current.withSpec(change.apply(current.spec())));
            } catch (SkyDeckException.Conflict c) {
                if (attempt >= 5 || !c.getMessage().contains("stale")) {
                    throw c;
                }
            }
        }
    }

    /**
     * Sets the desired state. Setting RUNNING again on an experiment whose job ended starts a new
     * generation: that is how an experiment is restarted.
     */
    public Experiment setDesired(Experiment e, DesiredState state) {
        checkOpen();
        Instant now = clock.instant();
        Experiment written = writer.write(w -> {
            Experiment stored = w.tx().experiment(e.id()).orElseThrow(() ->
                    new SkyDeckException.NotFound("no experiment with id " + e.id()));
            if (stored.deleted()) {
                throw new SkyDeckException.Conflict("experiment '" + stored.name()
                        + "' is deleted: undelete it before changing its state");
            }
            Experiment next = w.tx().updateExperiment(stored.withDesired(state), now);
            w.event(Event.draft(now, Actor.USER, stateEvent(state), next, null, true,
                    "desired state " + state + " (generation " + next.generation() + ")", null));
            return next;
        });
        reconciler.enqueue(written.id());
        return written;
    }

    /** Sets the desired state of many experiments in one transaction; one result per id. */
    private List<BulkResult> setDesiredAll(List<Long> ids, DesiredState state) {
        Instant now = clock.instant();
        List<BulkResult> results = writer.write(w -> {
            List<BulkResult> out = new ArrayList<>(ids.size());
            Map<Long, Experiment> found = new HashMap<>();
            for (Experiment e : w.tx().experiments(ids)) {
                found.put(e.id(), e);
            }
            for (long id : ids) {
                Experiment stored = found.get(id);
                if (stored == null) {
                    out.add(new BulkResult(id, false, "no experiment with id " + id, null));
                } else if (stored.deleted()) {
                    out.add(new BulkResult(id, false, "experiment '" + stored.name()
                            + "' is deleted: undelete it before changing its state", null));
                } else {
                    Experiment next = w.tx().updateExperiment(stored.withDesired(state), now);
                    found.put(id, next);
                    w.event(Event.draft(now, Actor.USER, stateEvent(state), next, null, true,
                            "desired state " + state + " (generation " + next.generation() + ")", null));
                    out.add(new BulkResult(id, true, state.name().toLowerCase(Locale.ROOT) + ": " + next.name(), next));
                }
            }
            return out;
        });
        for (BulkResult r : results) {
            if (r.ok()) {
                reconciler.enqueue(r.id());
            }
        }
        return results;
    }

    /** Sets RUNNING: launches a job (again, if one ended). */
    public Experiment start(Experiment e) {
        return setDesired(e, DesiredState.RUNNING);
    }

    /** Sets STOPPED: cancels the active job. */
    public Experiment stop(Experiment e) {
        return setDesired(e, DesiredState.STOPPED);
    }

    /** Sets TERMINATED: cancels the active job and tears down what the experiment owns. */
    public Experiment terminate(Experiment e) {
        return setDesired(e, DesiredState.TERMINATED);
    }

    /** Starts a new generation with desired RUNNING (the same as {@link #start}). */
    public Experiment restart(Experiment e) {
        return start(e);
    }

    /** Replaces all flags. */
    public Experiment setFlags(Experiment e, Map<String, ?> flags) {
        Map<String, Object> valid = Validate.flags(flags);
        return update(e, s -> s.flags(valid));
    }

    /** Soft-deletes: the experiment disappears from lists, its job is cancelled, its name is free. */
    public Experiment delete(Experiment e) {
        return setDeleted(e, true);
    }

    /** Restores a soft-deleted experiment (its name must still be free). */
    public Experiment undelete(Experiment e) {
        return setDeleted(e, false);
    }

    private Experiment setDeleted(Experiment e, boolean deleted) {
        checkOpen();
        Instant now = clock.instant();
        Experiment written = writer.write(w -> {
            Experiment stored = w.tx().experiment(e.id()).orElseThrow(() ->
                    new SkyDeckException.NotFound("no experiment with id " + e.id()));
            if (stored.deleted() == deleted) {
                return stored;
            }
            Experiment next = w.tx().updateExperiment(stored.withDeleted(deleted), now);
            w.event(Event.draft(now, Actor.USER, deleted ? EventType.DELETE : EventType.UNDELETE, next, null, true,
                    (deleted ? "deleted experiment " : "restored experiment ") + next.name(), null));
            return next;
        });
        reconciler.enqueue(written.id());
        return written;
    }

    /**
     * Copies an experiment (desired STOPPED, same groups). {@code newName} {@code null} picks
     * {@code <name>.copy}, {@code <name>.copy2}, …
     */
    public Experiment duplicate(Experiment e, String newName) {
        return duplicate(e, newName, UnaryOperator.identity());
    }

    /** Copies an experiment with edits applied before it is stored (desired STOPPED unless the edits say otherwise). */
    public Experiment duplicate(Experiment e, String newName, UnaryOperator<ExperimentSpec> edits) {
        checkOpen();
        Instant now = clock.instant();
        Experiment copy = writer.write(w -> {
            Experiment source = w.tx().experiment(e.id()).orElseThrow(() ->
                    new SkyDeckException.NotFound("no experiment with id " + e.id()));
            String name = newName != null ? newName : freeCopyName(w, source.name());
            ExperimentSpec spec = edits.apply(source.spec().name(name).desired(DesiredState.STOPPED));
            Experiment created = w.tx().insertExperiment(spec, now);
            for (Group g : w.tx().groups()) {
                if (g.experimentIds().contains(source.id())) {
                    List<Long> members = new ArrayList<>(g.experimentIds());
                    members.add(members.indexOf(source.id()) + 1, created.id());
                    w.tx().updateGroup(g.withExperimentIds(members));
                }
            }
            w.event(Event.draft(now, Actor.USER, EventType.CREATE, created, null, true,
                    "duplicated " + source.name() + " as " + created.name(), null));
            return created;
        });
        reconciler.enqueue(copy.id());
        return copy;
    }

    private static String freeCopyName(Writer.Unit w, String name) {
        String base = name.length() > 118 ? name.substring(0, 118) : name;
        for (int i = 1; i < 10_000; i++) {
            String candidate = base + ".copy" + (i == 1 ? "" : Integer.toString(i));
            if (w.tx().experimentByName(candidate).isEmpty()) {
                return candidate;
            }
        }
        throw new SkyDeckException.Conflict("no free copy name for '" + name + "': give the copy a name");
    }

    /** Stars or unstars (no version check: a toggle never conflicts). */
    public Experiment star(Experiment e, boolean starred) {
        return touch(e, x -> x.withStarred(starred));
    }

    /** Expands or collapses the experiment's row in the dashboard. */
    public Experiment expand(Experiment e, boolean expanded) {
        return touch(e, x -> x.withExpanded(expanded));
    }

    private Experiment touch(Experiment e, UnaryOperator<Experiment> change) {
        checkOpen();
        Instant now = clock.instant();
        return writer.write(w -> {
            Experiment stored = w.tx().experiment(e.id()).orElseThrow(() ->
                    new SkyDeckException.NotFound("no experiment with id " + e.id()));
            return w.tx().updateExperiment(change.apply(stored), now);
        });
    }

    /** Sets the display order of experiments to the order of {@code ids}. */
    public void reorder(List<Long> ids) {
        checkOpen();
        writer.write(w -> {
            w.tx().reorderExperiments(ids);
            return null;
        });
    }

    /** Applies one action to many experiments; one result per id, in order, failures included. */
    public List<BulkResult> bulk(BulkAction action, List<Long> ids) {
        checkOpen();
        switch (action) {
            case START -> {
                return setDesiredAll(ids, DesiredState.RUNNING);
            }
            case STOP -> {
                return setDesiredAll(ids, DesiredState.STOPPED);
            }
            case TERMINATE -> {
                return setDesiredAll(ids, DesiredState.TERMINATED);
            }
            default -> {
                // the others go one by one below
            }
        }
        List<BulkResult> results = new ArrayList<>(ids.size());
        for (long id : ids) {
            try {
                Experiment e = experiment(id);
                Experiment after = switch (action) {
                    case START -> start(e);
                    case STOP -> stop(e);
                    case TERMINATE -> terminate(e);
                    case DELETE -> delete(e);
                    case UNDELETE -> undelete(e);
                    case DUPLICATE -> duplicate(e, null);
                };
                results.add(new BulkResult(id, true, action.name().toLowerCase(Locale.ROOT) + ": " + after.name(),
                        after));
            } catch (SkyDeckException ex) {
                results.add(new BulkResult(id, false, ex.getMessage(), null));
            }
        }
        return results;
    }

    // ---- jobs ----

    /** The jobs of an experiment, newest first (up to 1,000). */
    public List<Job> jobs(Experiment e) {
        checkOpen();
        return store.jobs(JobQuery.of(experiment(e.id()).name(), 1000)).items();
    }

    /** A filtered page of jobs, newest first. */
    public Page<Job> jobs(JobQuery query) {
        checkOpen();
        return store.jobs(query);
    }

    /** A job by SkyDeck id. */
    public Job job(String id) {
        checkOpen();
        return store.job(id).orElseThrow(() -> new SkyDeckException.NotFound("no job with id " + id));
    }

    /**
     * Cancels one job now. If its experiment is still desired RUNNING, its restart policy decides
     * what happens next; to stop an experiment, use {@link #stop}.
     */
    public Job cancel(Job job) {
        checkOpen();
        Job current = job(job.id());
        if (!current.isActive()) {
            throw new SkyDeckException.Conflict("job " + current.id() + " has already ended (" + current.status() + ")");
        }
        if (current.backendJobId() == null) {
            throw new SkyDeckException.Conflict("job " + current.id()
                    + " is still being submitted: stop its experiment instead, SkyDeck cancels it once submitted");
        }
        backend.cancel(current.backendJobId());
        Instant now = clock.instant();
        Job written = writer.write(w -> {
            Job j = w.tx().job(current.id()).orElse(current);
            Job updated = j.isActive() ? w.tx().updateJob(j.observe(j.observation().withStatus(JobStatus.CANCELLING,
                    j.backendStatus(), j.failureReason()), now)) : j;
            Experiment e = w.tx().experimentByName(j.experimentName()).orElse(null);
            w.event(Event.draft(now, Actor.USER, EventType.CANCEL, e, j.id(), true,
                    "cancel requested for job " + (j.backendJobId() != null ? j.backendJobId() : j.id()), null));
            return updated;
        });
        poller.requestPoll();
        return written;
    }

    /**
     * A job's log: the last {@code tail} lines (0 for all) and, when {@code follow}, new lines
     * until the job ends or the reader is closed.
     */
    public Reader logs(Job job, int tail, boolean follow) {
        checkOpen();
        Job current = job(job.id());
        if (current.backendJobId() == null) {
            throw new SkyDeckException.Conflict("job " + current.id() + " has no log yet: it was never submitted");
        }
        if (tail < 0) {
            throw Validate.invalid("tail " + tail + " is not allowed: use 0 (everything) or more");
        }
        return backend.logs(current.backendJobId(), tail, follow);
    }

    // ---- flags and resources ----

    /**
     * What is known about flags, for typeahead and validation: the flags used across live
     * experiments, merged with the flag classes given to the builder and, when an operator set
     * {@code SKYDECK_FLAG_SCHEMA_COMMAND}, that command's schema for {@code toolPath} (cached).
     *
     * @param toolPath the tool whose flags to describe, or {@code null}
     * @throws SkyDeckException when the schema command fails (its message names the command)
     */
    public FlagSchema flagSchema(String toolPath) {
        checkOpen();
        FlagSchema schema = FlagSchema.observed(experiments()).merge(declaredFlags);
        if (flagCommand != null) {
            schema = schema.merge(flagCommand.get(toolPath));
        }
        return schema;
    }

    /** The GPU model and count an instance type has, if it is a known GPU type. */
    public Optional<GpuType> gpuType(String instanceType) {
        return GpuCatalog.detect(instanceType);
    }

    // ---- checkpoints, events, settings ----

    /** An experiment's checkpoints, highest epoch first. */
    public List<Checkpoint> checkpoints(Experiment e, int limit) {
        checkOpen();
        Validate.range("limit", limit, 1, 10_000);
        return store.checkpoints(e.id(), limit);
    }

    /** A slice of the event log. */
    public List<Event> events(EventQuery query) {
        checkOpen();
        return store.events(query);
    }

    /**
     * Calls {@code listener} with every event committed by this SkyDeck, in order, on the
     * committing thread (keep it quick). Close the handle to stop.
     */
    public AutoCloseable onEvent(Consumer<Event> listener) {
        checkOpen();
        return bus.subscribe(listener);
    }

    /** A stored setting. */
    public Optional<String> setting(String key) {
        checkOpen();
        return store.setting(key);
    }

    /** Stores a setting (keys like names; values up to 64 KiB). */
    public void putSetting(String key, String value) {
        checkOpen();
        Validate.flagKey(key);
        Validate.text("setting " + key, value, 65_536);
        writer.write(w -> {
            w.tx().putSetting(key, value);
            return null;
        });
    }

    // ---- groups ----

    /** Every group, in order. */
    public List<Group> groups() {
        checkOpen();
        return store.groups();
    }

    /** A group by id. */
    public Group group(long id) {
        checkOpen();
        return store.group(id).orElseThrow(() -> new SkyDeckException.NotFound("no group with id " + id));
    }

    /** Creates a group (at the end). */
    public Group createGroup(Group group) {
        checkOpen();
        Instant now = clock.instant();
        return writer.write(w -> {
            requireExperiments(w, group.experimentIds());
            Group g = w.tx().insertGroup(group);
            w.event(Event.draft(now, Actor.USER, EventType.CREATE, null, null, true, "created group " + g.name(), null));
            return g;
        });
    }

    /** Writes a group's name, prefix, flags, order, collapsed state and members. */
    public Group updateGroup(Group group) {
        checkOpen();
        return writer.write(w -> {
            w.tx().group(group.id()).orElseThrow(() -> new SkyDeckException.NotFound("no group with id " + group.id()));
            requireExperiments(w, group.experimentIds());
            return groupEvent(w, w.tx().updateGroup(group), "updated group " + group.name());
        });
    }

    /** Records a change to a group (so that every dashboard reloads its grouping) and returns the group. */
    private Group groupEvent(Writer.Unit w, Group g, String message) {
        w.event(Event.draft(clock.instant(), Actor.USER, EventType.UPDATE, null, null, true, message, null));
        return g;
    }

    /** Deletes a group; its experiments stay. */
    public void deleteGroup(long groupId) {
        checkOpen();
        Instant now = clock.instant();
        writer.write(w -> {
            Group g = w.tx().group(groupId).orElseThrow(() -> new SkyDeckException.NotFound("no group with id " + groupId));
            w.tx().deleteGroup(groupId);
            w.event(Event.draft(now, Actor.USER, EventType.DELETE, null, null, true, "deleted group " + g.name(), null));
            return null;
        });
    }

    /**
     * Adds experiments to a group (at the end). Unless {@code multiHome}, they leave every other
     * group (a move); with it they stay there too.
     */
    public Group addToGroup(long groupId, List<Long> experimentIds, boolean multiHome) {
        checkOpen();
        return writer.write(w -> {
            Group target = w.tx().group(groupId).orElseThrow(() ->
                    new SkyDeckException.NotFound("no group with id " + groupId));
            requireExperiments(w, experimentIds);
            if (!multiHome) {
                for (Group g : w.tx().groups()) {
                    if (g.id() != groupId && g.experimentIds().stream().anyMatch(experimentIds::contains)) {
                        w.tx().updateGroup(g.withExperimentIds(g.experimentIds().stream()
                                .filter(id -> !experimentIds.contains(id)).toList()));
                    }
                }
            }
            List<Long> members = new ArrayList<>(target.experimentIds());
            for (long id : experimentIds) {
                if (!members.contains(id)) {
                    members.add(id);
                }
            }
            return groupEvent(w, w.tx().updateGroup(target.withExperimentIds(members)), (multiHome ? "added " : "moved ")
                    + experimentIds.size() + " experiment(s) to group " + target.name());
        });
    }

    /** Removes one experiment from a group. */
    public Group removeFromGroup(long groupId, long experimentId) {
        checkOpen();
        return writer.write(w -> {
            Group g = w.tx().group(groupId).orElseThrow(() -> new SkyDeckException.NotFound("no group with id " + groupId));
            if (!g.experimentIds().contains(experimentId)) {
                throw new SkyDeckException.NotFound("experiment " + experimentId + " is not in group " + g.name());
            }
            return groupEvent(w, w.tx().updateGroup(g.withExperimentIds(g.experimentIds().stream()
                    .filter(id -> id != experimentId).toList())), "removed experiment " + experimentId + " from group "
                    + g.name());
        });
    }

    /** Orders a group's members as {@code experimentIds} (which must be exactly its members). */
    public Group reorderGroup(long groupId, List<Long> experimentIds) {
        checkOpen();
        return writer.write(w -> {
            Group g = w.tx().group(groupId).orElseThrow(() -> new SkyDeckException.NotFound("no group with id " + groupId));
            if (!new java.util.HashSet<>(experimentIds).equals(new java.util.HashSet<>(g.experimentIds()))
                    || experimentIds.size() != g.experimentIds().size()) {
                throw Validate.invalid("the new order must list exactly the group's " + g.experimentIds().size()
                        + " members, each once");
            }
            return groupEvent(w, w.tx().updateGroup(g.withExperimentIds(experimentIds)), "reordered group " + g.name());
        });
    }

    /** Orders groups as {@code groupIds}. */
    public List<Group> reorderGroups(List<Long> groupIds) {
        checkOpen();
        return writer.write(w -> {
            for (int i = 0; i < groupIds.size(); i++) {
                long id = groupIds.get(i);
                Group g = w.tx().group(id).orElseThrow(() -> new SkyDeckException.NotFound("no group with id " + id));
                w.tx().updateGroup(g.withOrder(i));
            }
            w.event(Event.draft(clock.instant(), Actor.USER, EventType.UPDATE, null, null, true, "reordered groups", null));
            return w.tx().groups();
        });
    }

    private static void requireExperiments(Writer.Unit w, Collection<Long> ids) {
        if (ids.isEmpty()) {
            return;
        }
        List<Experiment> found = w.tx().experiments(ids);
        if (found.size() != new java.util.HashSet<>(ids).size()) {
            List<Long> missing = new ArrayList<>(ids);
            missing.removeAll(found.stream().map(Experiment::id).toList());
            throw new SkyDeckException.NotFound("no experiments with ids " + missing);
        }
    }

    // ---- waiting, refresh, health ----

    /**
     * Waits until every experiment is settled (nothing active, queued or due for its current
     * generation) and returns them as they are then.
     *
     * @throws SkyDeckException when {@code timeout} passes first (naming the ones still busy)
     */
    public List<Experiment> awaitSettled(Collection<Experiment> experiments, Duration timeout) {
        try {
            return awaitSettledAsync(experiments).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            List<String> busy = experiments.stream().map(x -> experiment(x.id())).filter(x -> !x.settled())
                    .map(x -> x.name() + " (" + x.currentState() + (x.stateReason() == null ? "" : ": " + x.stateReason())
                            + ")").toList();
            throw new SkyDeckException("timed out after " + timeout + " waiting for " + busy.size()
                    + " experiment(s) to settle: " + String.join(", ", busy), true, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SkyDeckException("interrupted while waiting for experiments to settle", true, e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof SkyDeckException s ? s
                    : new SkyDeckException("waiting failed: " + e.getCause(), false, e.getCause());
        }
    }

    /** Completes when every experiment is settled, with them as they are then. */
    public CompletableFuture<List<Experiment>> awaitSettledAsync(Collection<Experiment> experiments) {
        checkOpen();
        List<Long> ids = experiments.stream().map(Experiment::id).distinct().toList();
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        for (long id : ids) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            synchronized (waiters) {
                waiters.computeIfAbsent(id, k -> new ArrayList<>()).add(f);
            }
            futures.add(f);
            reconciler.enqueue(id);
        }
        return CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
                .thenApply(v -> store.experiments(ids));
    }

    /** Which of these experiments are settled now. */
    public List<Experiment> settled(Collection<Long> ids) {
        checkOpen();
        return store.experiments(ids).stream().filter(Experiment::settled).toList();
    }

    private void reconciled(long id) {
        List<CompletableFuture<Void>> list;
        synchronized (waiters) {
            list = waiters.get(id);
            if (list == null) {
                return;
            }
        }
        Experiment e = store.experiment(id).orElse(null);
        if (e == null || e.settled()) {
            synchronized (waiters) {
                List<CompletableFuture<Void>> done = waiters.remove(id);
                if (done != null) {
                    done.forEach(f -> f.complete(null));
                }
            }
        }
    }

    private void jobsChanged(java.util.Set<String> names) {
        for (String name : names) {
            store.experimentByName(name).ifPresent(e -> reconciler.enqueue(e.id()));
        }
        reconciler.wakeQueued();
    }

    /** Polls the backend now and waits for the result. */
    public void poll() {
        checkOpen();
        poller.pollNow();
    }

    /** Reconciles every experiment now (without waiting). */
    public void reconcileAll() {
        checkOpen();
        reconciler.resyncNow();
    }

    /**
     * Lists checkpoints now for the experiments with live or recent jobs (and a slice of the
     * rest) and records what changed.
     */
    public void syncCheckpoints() {
        checkOpen();
        syncer.syncOnce();
    }

    /**
     * Re-scans the checkpoints of every live experiment once; {@code progress} is told
     * ({@code done}, {@code total}) after each experiment.
     *
     * @return how many checkpoints were added or changed
     */
    public int backfillCheckpoints(java.util.function.BiConsumer<Integer, Integer> progress) {
        checkOpen();
        CheckpointSyncer.Result r = syncer.backfill(progress);
        if (r.failed() > 0) {
            throw new SkyDeckException("backfill could not list " + r.failed() + " experiment(s): "
                    + syncer.status().lastError(), true, null);
        }
        return r.upserted();
    }

    /** How SkyDeck and its backend are doing; answers even when the store fails (counts are then -1). */
    public Health health() {
        checkOpen();
        dev.skydeck.spi.BackendHealth bh = backend.health();
        dev.skydeck.spi.StoreReads.StoreCounts counts;
        try {
            counts = store.counts();
        } catch (SkyDeckException e) {
            // Health must answer when the store does not: -1 says "unknown", the components say why.
            counts = new dev.skydeck.spi.StoreReads.StoreCounts(-1, -1);
        }
        return new Health(VERSION, store.describe(), backend.kind(), backendReason, bh.healthy(), bh.detail(),
                checkpoints.describe(),
                poller.status().snapshot(),
                new Health.Component(reconciler.lastPass(), null, null),
                syncer.status().snapshot(),
                counts.experiments(), counts.activeJobs());
    }

    /** The backend in use. */
    public ClusterBackend backend() {
        return backend;
    }

    /** The store in use. */
    public Store store() {
        return store;
    }

    /** The checkpoint source in use. */
    public CheckpointSource checkpointSource() {
        return checkpoints;
    }

    /**
     * Stops background work (intake first, then in-flight passes finish), then closes what this
     * SkyDeck opened itself. Jobs keep running. Idempotent.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        reconciler.close();
        poller.close();
        syncer.close();
        synchronized (waiters) {
            waiters.values().forEach(l -> l.forEach(f -> f.completeExceptionally(
                    new SkyDeckException("SkyDeck was closed while waiting"))));
            waiters.clear();
        }
        if (ownScheduler != null) {
            ownScheduler.close();
        }
        if (ownsBackend) {
            backend.close();
        }
        checkpoints.close();
        if (ownsStore) {
            store.close();
        }
        log.info("SkyDeck closed");
    }

    private void checkOpen() {
        if (closed) {
            throw new SkyDeckException("this SkyDeck is closed: open a new one with SkyDeck.open()");
        }
    }

    private static EventType stateEvent(DesiredState s) {
        return s == DesiredState.RUNNING ? EventType.START : EventType.STOP;
    }

    /** Options for {@link SkyDeck}; every one has a default. */
    public static final class Builder {
        private Store store;
        private boolean ownsStore;
        private Path databaseFile;
        private ClusterBackend backend;
        private boolean ownsBackend;
        private String backendName;
        private String backendChosenBy = "the builder";
        private String backendReason;
        private CheckpointSource checkpoints;
        private Clock clock = Clock.systemUTC();
        private TaskScheduler scheduler;
        private RandomGenerator random = new java.util.SplittableRandom();
        private boolean autoStart = true;
        private Config base = Config.DEFAULTS;
        private Duration reconcileInterval;
        private Duration pollInterval;
        private Duration fastPollInterval;
        private Duration syncInterval;
        private Integer maxConcurrentLaunches;
        private Integer maxGpus;
        private Duration launchLease;
        private Duration retryBase;
        private Duration retryCap;
        private Duration vanishedGrace;
        private Integer reconcilerThreads;
        private final List<Class<?>> flagClasses = new ArrayList<>();
        private dev.skydeck.internal.schema.FlagSchemaCache flagCommand;
        private boolean flagCommandSet;

        private Builder() {
        }

        /**
         * Declares flags from a Java class or record ({@link FlagSchema#fromClass}): nested types
         * become dotted keys, enums choices, defaults come from a no-arg instance.
         */
        public Builder flagSchema(Class<?> type) {
            flagClasses.add(java.util.Objects.requireNonNull(type, "type"));
            return this;
        }

        /**
         * An external command that prints a flag schema for a tool path (run without a shell,
         * with the tool path as one argument; cached for 5 minutes). Default:
         * {@code SKYDECK_FLAG_SCHEMA_COMMAND}, if set.
         */
        public Builder flagSchemaCommand(List<String> command) {
            this.flagCommand = command == null ? null : dev.skydeck.internal.schema.FlagSchemaCache.forCommand(
                    command, dev.skydeck.internal.schema.FlagSchemaCache.DEFAULT_TIMEOUT,
                    dev.skydeck.internal.schema.FlagSchemaCache.DEFAULT_TTL, clock);
            this.flagCommandSet = true;
            return this;
        }

        /** Uses this store (SkyDeck will not close it). Default: SQLite at {@link #databaseFile}. */
        public Builder store(Store value) {
            this.store = value;
            return this;
        }

        /** The SQLite file to open. Default {@code SKYDECK_DB_PATH}, else {@code ~/.skydeck/skydeck.db}. */
        public Builder databaseFile(Path value) {
            this.databaseFile = value;
            return this;
        }

        /** Uses this backend (SkyDeck will not close it). Default: {@code SKYDECK_BACKEND}, else auto. */
        public Builder backend(ClusterBackend value) {
            this.backend = value;
            return this;
        }

        /** Selects a backend by name: {@code local}, {@code skypilot} or {@code auto}. */
        public Builder backend(String name) {
            return backend(name, "the builder");
        }

        /**
         * Selects a backend by name, saying who chose it ({@code "--backend"}, say) in the reason
         * that logs and health show.
         */
        public Builder backend(String name, String chosenBy) {
            this.backendName = name;
            this.backendChosenBy = java.util.Objects.requireNonNull(chosenBy, "chosenBy");
            return this;
        }

        /** Where checkpoints are listed. Default: the local checkpoint directory. */
        public Builder checkpoints(CheckpointSource value) {
            this.checkpoints = value;
            return this;
        }

        /** The clock (tests use a manual one). */
        public Builder clock(Clock value) {
            this.clock = java.util.Objects.requireNonNull(value, "clock");
            return this;
        }

        /** The scheduler for timers (tests use a manual one tied to the clock). */
        public Builder scheduler(TaskScheduler value) {
            this.scheduler = value;
            return this;
        }

        /** The randomness behind backoff jitter (tests seed it). */
        public Builder random(RandomGenerator value) {
            this.random = java.util.Objects.requireNonNull(value, "random");
            return this;
        }

        /** Whether {@link #build()} starts the reconciler and poller (default true). */
        public Builder autoStart(boolean value) {
            this.autoStart = value;
            return this;
        }

        /** Periodic resync of every experiment (default 60 s, {@code SKYDECK_RECONCILE_INTERVAL}). */
        public Builder reconcileInterval(Duration value) {
            this.reconcileInterval = value;
            return this;
        }

        /** Poll interval when quiet (default 30 s, {@code SKYDECK_POLL_INTERVAL}). */
        public Builder pollInterval(Duration value) {
            this.pollInterval = value;
            return this;
        }

        /** Poll interval while jobs launch or change (default 5 s). */
        public Builder fastPollInterval(Duration value) {
            this.fastPollInterval = value;
            return this;
        }

        /** Checkpoint sync interval (default 60 s, {@code SKYDECK_SYNC_INTERVAL}). */
        public Builder syncInterval(Duration value) {
            this.syncInterval = value;
            return this;
        }

        /** Launches in progress at once; 0 (default) is no limit. */
        public Builder maxConcurrentLaunches(int value) {
            this.maxConcurrentLaunches = value;
            return this;
        }

        /** GPUs in use at once across all jobs; 0 (default) is no limit. */
        public Builder maxGpus(int value) {
            this.maxGpus = value;
            return this;
        }

        /** How long a launch recorded by another process is left alone before adoption (default 2 min). */
        public Builder launchLease(Duration value) {
            this.launchLease = value;
            return this;
        }

        /** Backoff bounds for retryable backend failures (default 5 s first, 5 min cap). */
        public Builder retryBackoff(Duration first, Duration cap) {
            this.retryBase = first;
            this.retryCap = cap;
            return this;
        }

        /** How long a job the backend stopped listing stays UNKNOWN before FAILED (default 10 min). */
        public Builder vanishedGrace(Duration value) {
            this.vanishedGrace = value;
            return this;
        }

        /** Reconcile threads (default 4). */
        public Builder reconcilerThreads(int value) {
            this.reconcilerThreads = value;
            return this;
        }

        Config config() {
            return new Config(or(reconcileInterval, envSeconds("SKYDECK_RECONCILE_INTERVAL", base.reconcileInterval())),
                    or(pollInterval, envSeconds("SKYDECK_POLL_INTERVAL", base.pollInterval())),
                    or(fastPollInterval, base.fastPollInterval()),
                    or(syncInterval, envSeconds("SKYDECK_SYNC_INTERVAL", base.syncInterval())),
                    or(reconcilerThreads, base.reconcilerThreads()),
                    or(maxConcurrentLaunches, base.maxConcurrentLaunches()),
                    or(maxGpus, base.maxGpus()),
                    or(launchLease, base.launchLease()),
                    or(retryBase, base.retryBase()),
                    or(retryCap, base.retryCap()),
                    or(vanishedGrace, base.vanishedGrace()),
                    base.cancelRetry());
        }

        private static <T> T or(T value, T fallback) {
            return value != null ? value : fallback;
        }

        private static Duration envSeconds(String name, Duration fallback) {
            String v = System.getenv(name);
            if (v == null || v.isBlank()) {
                return fallback;
            }
            try {
                long s = Long.parseLong(v.strip());
                if (s <= 0) {
                    throw new NumberFormatException();
                }
                return Duration.ofSeconds(s);
            } catch (NumberFormatException e) {
                throw Validate.invalid(name + "=" + v + " is not allowed: use a whole number of seconds above 0");
            }
        }

        /** Validates the options, opens what is needed, and starts SkyDeck (unless {@code autoStart(false)}). */
        public SkyDeck build() {
            Config validated = config();
            java.util.Objects.requireNonNull(validated);
            if (!flagCommandSet) {
                flagCommand = dev.skydeck.internal.schema.FlagSchemaCache.fromEnvironment(System.getenv(), clock)
                        .orElse(null);
            }
            if (store == null) {
                Path file = databaseFile;
                if (file == null) {
                    String env = System.getenv("SKYDECK_DB_PATH");
                    file = env != null && !env.isBlank() ? Path.of(env) : SkyDeckHome.dir().resolve("skydeck.db");
                }
                StoreProvider provider = ServiceLoader.load(StoreProvider.class).findFirst().orElseThrow(() ->
                        new SkyDeckException("no file store on the classpath: add the dev.skydeck:skydeck-sqlite"
                                + " dependency, or pass .store(new InMemoryStore())"));
                store = provider.open(file);
                ownsStore = true;
            }
            try {
                if (backend == null) {
                    selectBackend();
                    ownsBackend = true;
                } else if (backendReason == null) {
                    backendReason = "given to the builder";
                }
                if (checkpoints == null) {
                    selectCheckpoints();
                }
                return new SkyDeck(this);
            } catch (RuntimeException e) {
                if (ownsBackend && backend != null) {
                    backend.close();
                }
                if (ownsStore) {
                    store.close();
                }
                throw e;
            }
        }

        private void selectCheckpoints() {
            for (dev.skydeck.spi.CheckpointSourceProvider p : ServiceLoader.load(dev.skydeck.spi.CheckpointSourceProvider.class)) {
                Optional<String> why = p.detect(backend.kind());
                if (why.isPresent()) {
                    checkpoints = p.create();
                    log.info("Checkpoints from {} ({})", checkpoints.describe(), why.get());
                    return;
                }
            }
            checkpoints = backend instanceof LocalBackend ? new dev.skydeck.local.LocalCheckpointSource()
                    : CheckpointSource.NONE;
        }

        private void selectBackend() {
            String name = backendName;
            String source = backendChosenBy;
            if (name == null) {
                name = System.getenv("SKYDECK_BACKEND");
                source = "SKYDECK_BACKEND";
            }
            if (name == null || name.isBlank()) {
                name = "auto";
                source = null;
            }
            name = name.strip().toLowerCase(Locale.ROOT);
            Map<String, BackendProvider> providers = new LinkedHashMap<>();
            for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
                providers.put(p.kind(), p);
            }
            switch (name) {
                case "local" -> {
                    backend = LocalBackend.builder().build();
                    backendReason = "selected by " + source;
                }
                case "auto" -> {
                    for (BackendProvider p : providers.values()) {
                        Optional<String> why = p.detect();
                        if (why.isPresent()) {
                            backend = p.create();
                            backendReason = "auto: " + why.get();
                            return;
                        }
                    }
                    backend = LocalBackend.builder().build();
                    backendReason = "auto: no SkyPilot API server configured (SKYPILOT_API_SERVER_ENDPOINT or"
                            + " ~/.sky/config.yaml), so jobs run as local processes";
                }
                default -> {
                    BackendProvider p = providers.get(name);
                    if (p == null) {
                        throw Validate.invalid((source == null ? "backend" : source) + "=" + name
                                + " is not allowed: use local, auto" + (providers.isEmpty() ? ""
                                : ", " + String.join(", ", providers.keySet()))
                                + (name.equals("skypilot") ? " (skypilot needs dev.skydeck:skydeck-skypilot on the classpath)"
                                : ""));
                    }
                    backend = p.create();
                    backendReason = "selected by " + source;
                }
            }
        }
    }
}
