package dev.skydeck;

import dev.skydeck.internal.Assembly;
import dev.skydeck.internal.Engine;
import dev.skydeck.internal.Validate;
import dev.skydeck.internal.checkpoint.CheckpointSyncer;
import dev.skydeck.internal.schema.FlagSchemaCache;
import dev.skydeck.internal.usecase.ExperimentCommands;
import dev.skydeck.internal.usecase.GroupCommands;
import dev.skydeck.internal.usecase.JobCommands;
import dev.skydeck.internal.usecase.TokenCommands;
import dev.skydeck.spi.BackendHealth;
import dev.skydeck.spi.CheckpointSource;
import dev.skydeck.spi.ClusterBackend;
import dev.skydeck.spi.Store;
import dev.skydeck.spi.StoreReads;
import dev.skydeck.spi.TaskScheduler;
import java.io.Reader;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
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
 * <p>Intent is idempotent: writing a desired state an experiment already has changes nothing, so
 * starting a running experiment never launches it again; {@link #restart} is the explicit way to
 * run it anew. Editing a running experiment does not relaunch it ({@link Experiment#drifted()}
 * tells that its job runs an older configuration; restart applies it).
 *
 * <p>Thread-safe. Methods taking an {@link Experiment} use only its id, so a stale copy is fine.
 * Errors are {@link SkyDeckException}s saying what to do. {@link #close()} stops the background
 * work (jobs keep running and are re-adopted by the next {@code SkyDeck}).
 */
public final class SkyDeck implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SkyDeck.class);
    /** SkyDeck's version, from the build. */
    public static final String VERSION = Version.read();

    private final SkyDeck owner;
    private final String user;
    private final Assembly parts;
    private final Engine engine;
    private final ExperimentCommands experiments;
    private final JobCommands jobs;
    private final GroupCommands groups;
    private final TokenCommands tokens;
    private final FlagSchema declaredFlags;
    private final FlagSchemaCache flagCommand;
    private volatile boolean closed;

    private SkyDeck(Builder b, SkyDeckConfig config, Assembly parts) {
        this.owner = null;
        this.user = config.user();
        this.parts = parts;
        this.engine = new Engine(parts.store(), parts.backend(), parts.checkpoints(), config, b.clock, b.scheduler,
                b.random);
        this.experiments = new ExperimentCommands(engine, user);
        this.jobs = new JobCommands(engine, user);
        this.groups = new GroupCommands(engine, user);
        this.tokens = new TokenCommands(engine, user);
        FlagSchema declared = FlagSchema.EMPTY;
        for (Class<?> type : b.flagClasses) {
            declared = declared.merge(FlagSchema.fromClass(type));
        }
        this.declaredFlags = declared;
        this.flagCommand = config.flagSchemaCommand() == null ? null : FlagSchemaCache.forCommand(
                config.flagSchemaCommand(), FlagSchemaCache.DEFAULT_TIMEOUT, FlagSchemaCache.DEFAULT_TTL, b.clock);
        log.info("SkyDeck {} started: store {}, backend {} ({}), checkpoints from {}", VERSION,
                parts.store().describe(), parts.backend().kind(), parts.backendReason(), parts.checkpoints().describe());
    }

    /** A view of {@code owner} acting for {@code user}: same engine, same store, other actor. */
    private SkyDeck(SkyDeck owner, String user) {
        this.owner = owner;
        this.user = user;
        this.parts = owner.parts;
        this.engine = owner.engine;
        this.experiments = new ExperimentCommands(engine, user);
        this.jobs = new JobCommands(engine, user);
        this.groups = new GroupCommands(engine, user);
        this.tokens = new TokenCommands(engine, user);
        this.declaredFlags = owner.declaredFlags;
        this.flagCommand = owner.flagCommand;
    }

    /**
     * This SkyDeck acting for {@code user}: experiments it creates are created by that user,
     * jobs it starts are launched on that user's behalf, and its events name them. It shares
     * everything else with this SkyDeck (the server takes one per request); closing it does
     * nothing.
     *
     * @param user a user name, or {@code null} for no user
     * @throws SkyDeckException.InvalidInput when the name is not allowed
     */
    public SkyDeck as(String user) {
        checkOpen();
        SkyDeck root = owner != null ? owner : this;
        String name = user == null ? null : Validate.userName(user);
        return Objects.equals(name, this.user) ? this : new SkyDeck(root, name);
    }

    /** The user this SkyDeck acts for ({@link SkyDeckConfig#user()}, or {@link #as}'s), or {@code null}. */
    public String user() {
        return user;
    }

    /**
     * Opens SkyDeck as configured by this process's environment ({@link SkyDeckConfig#fromEnvironment}):
     * by default {@code ~/.skydeck/skydeck.db} and the backend {@code auto}.
     */
    public static SkyDeck open() {
        return builder().config(SkyDeckConfig.fromEnvironment(System.getenv())).build();
    }

    /** Opens SkyDeck on the given database file, otherwise as {@link #open()}. */
    public static SkyDeck open(Path databaseFile) {
        return builder().config(SkyDeckConfig.fromEnvironment(System.getenv())).databaseFile(databaseFile).build();
    }

    /** A builder for every option; it reads no environment unless given {@link SkyDeckConfig#fromEnvironment}. */
    public static Builder builder() {
        return new Builder();
    }

    /** Starts the reconciler and poller (builders do this unless told not to). Idempotent. */
    public void start() {
        checkOpen();
        engine.start();
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
        return experiments.createAll(specs);
    }

    /**
     * Makes the stored experiments match {@code specs}, like {@code kubectl apply}, in one
     * transaction: experiments that do not exist are created, ones that differ are updated (only
     * the differences, without relaunching a running job), equal ones are left untouched. A
     * desired state an experiment already has is no change, so applying the same specs twice
     * launches nothing new.
     *
     * @return one result per spec, in order: created, updated (with the fields changed) or unchanged
     */
    public List<ApplyResult> apply(Collection<ExperimentSpec> specs) {
        checkOpen();
        return experiments.applySpecs(specs);
    }

    /**
     * {@link #apply(Collection)} with partial changes: for each name, {@code change} turns the
     * stored spec (or, for a new experiment, {@link ExperimentSpec#named}'s defaults) into the
     * wanted one. Fields a change leaves alone stay as stored.
     */
    public List<ApplyResult> applyChanges(Map<String, UnaryOperator<ExperimentSpec>> changes) {
        checkOpen();
        return experiments.apply(changes);
    }

    /** Every live experiment, in display order (up to 10,000; page with {@link #experiments(ExperimentQuery)}). */
    public List<Experiment> experiments() {
        return experiments(ExperimentQuery.ALL).items();
    }

    /** A filtered, sorted page of experiments. */
    public Page<Experiment> experiments(ExperimentQuery query) {
        checkOpen();
        return engine.store().experiments(query);
    }

    /**
     * Counts for the filters of {@code query} (its sort and page ignored): per state, desired
     * state and flag value, each leaving out its own filter; at most {@code maxValues} (1 to 500)
     * values per flag.
     */
    public ExperimentFacets facets(ExperimentQuery query, int maxValues) {
        checkOpen();
        dev.skydeck.internal.Validate.range("values", maxValues, 1, 500);
        return engine.store().experimentFacets(query, maxValues);
    }

    /** The live experiment with this name. */
    public Experiment experiment(String name) {
        return findExperiment(name).orElseThrow(() -> new SkyDeckException.NotFound("no experiment named '" + name
                + "': list them with experiments()"));
    }

    /** The live experiment with this name, if any. */
    public Optional<Experiment> findExperiment(String name) {
        checkOpen();
        return engine.store().experimentByName(name);
    }

    /** An experiment by id (deleted ones too). */
    public Experiment experiment(long id) {
        checkOpen();
        return engine.store().experiment(id).orElseThrow(() -> new SkyDeckException.NotFound("no experiment with id "
                + id));
    }

    /** The current stored state of {@code e}. */
    public Experiment refresh(Experiment e) {
        return experiment(e.id());
    }

    /**
     * Writes a user change to an experiment: its spec (and deletion) at {@code changed.version()},
     * and its presentation (star, order, expansion), which never conflicts. A desired state
     * changed to RUNNING starts a new generation; anything else keeps it.
     *
     * @throws SkyDeckException.Conflict ({@link SkyDeckException.Conflict.Reason#STALE_VERSION}) when
     *         someone changed the spec since {@code changed} was read
     */
    public Experiment update(Experiment changed) {
        checkOpen();
        return experiments.update(changed);
    }

    /** Applies {@code change} to the experiment's spec (read, change, write; retried if someone else wrote meanwhile). */
    public Experiment update(Experiment e, UnaryOperator<ExperimentSpec> change) {
        checkOpen();
        return experiments.update(e.id(), change);
    }

    /**
     * Sets the desired state. The state it already has changes nothing (no new generation, no
     * launch, no new version); use {@link #restart} to run an experiment again.
     */
    public Experiment setDesired(Experiment e, DesiredState state) {
        checkOpen();
        return experiments.setDesired(e.id(), state);
    }

    /** Sets RUNNING: launches a job unless it is RUNNING already. */
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

    /**
     * Runs the experiment anew in a new generation, with its current spec: the active job, if
     * any, is cancelled, then exactly one job is launched (its restart policy starts afresh).
     */
    public Experiment restart(Experiment e) {
        checkOpen();
        return experiments.restart(e.id());
    }

    /** Replaces all flags. */
    public Experiment setFlags(Experiment e, Map<String, ?> flags) {
        Map<String, Object> valid = Validate.flags(flags);
        return update(e, s -> s.flags(valid));
    }

    /** Soft-deletes: the experiment disappears from lists, its job is cancelled, its name is free. */
    public Experiment delete(Experiment e) {
        checkOpen();
        return experiments.setDeleted(e.id(), true);
    }

    /** Restores a soft-deleted experiment (its name must still be free). */
    public Experiment undelete(Experiment e) {
        checkOpen();
        return experiments.setDeleted(e.id(), false);
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
        return experiments.duplicate(e.id(), newName, edits);
    }

    /** Stars or unstars (presentation: never a conflict, never a new version). */
    public Experiment star(Experiment e, boolean starred) {
        checkOpen();
        return experiments.present(e.id(), starred, null);
    }

    /** Expands or collapses the experiment's row in the dashboard (presentation, like {@link #star}). */
    public Experiment expand(Experiment e, boolean expanded) {
        checkOpen();
        return experiments.present(e.id(), null, expanded);
    }

    /** Sets the display order of experiments to the order of {@code ids} (presentation). */
    public void reorder(List<Long> ids) {
        checkOpen();
        experiments.reorder(ids);
    }

    /** Applies one action to many experiments; one result per id, in order, failures included. */
    public List<BulkResult> bulk(BulkAction action, List<Long> ids) {
        checkOpen();
        return experiments.bulk(action, ids);
    }

    // ---- jobs ----

    /** The jobs of an experiment, newest first (up to 1,000). */
    public List<Job> jobs(Experiment e) {
        checkOpen();
        return engine.store().jobs(JobQuery.of(experiment(e.id()).name(), 1000)).items();
    }

    /** A filtered page of jobs, newest first. */
    public Page<Job> jobs(JobQuery query) {
        checkOpen();
        return engine.store().jobs(query);
    }

    /** A job by SkyDeck id. */
    public Job job(String id) {
        checkOpen();
        return engine.store().job(id).orElseThrow(() -> new SkyDeckException.NotFound("no job with id " + id));
    }

    /**
     * Asks for a job to be cancelled and returns at once with the request recorded
     * ({@link Job#cancel()}); SkyDeck sends it to the backend and the job's status shows when it
     * took. If its experiment is still desired RUNNING, its restart policy decides what happens
     * next; to stop an experiment, use {@link #stop}.
     *
     * @throws SkyDeckException.Conflict ({@link SkyDeckException.Conflict.Reason#JOB_ENDED}) when it has ended
     */
    public Job cancel(Job job) {
        checkOpen();
        return jobs.cancel(job.id());
    }

    /**
     * A job's log: the last {@code tail} lines (0 for all) and, when {@code follow}, new lines
     * until the job ends or the reader is closed. Every secret SkyDeck knows ({@link Secrets}) is
     * replaced by {@value Secrets#MARKER}.
     */
    public Reader logs(Job job, int tail, boolean follow) {
        checkOpen();
        return Secrets.redacting(jobs.logs(job.id(), tail, follow));
    }

    /**
     * The log of the backend's controller for a job (SkyPilot's jobs controller: recovery and
     * provisioning), like {@link #logs}.
     *
     * @throws SkyDeckException when the backend has no controller log (the local backend)
     */
    public Reader controllerLogs(Job job, int tail, boolean follow) {
        checkOpen();
        return Secrets.redacting(jobs.controllerLogs(job.id(), tail, follow));
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
        return engine.store().checkpoints(e.id(), limit);
    }

    /** A slice of the event log. */
    public List<Event> events(EventQuery query) {
        checkOpen();
        return engine.store().events(query);
    }

    /**
     * Calls {@code listener} with every event committed from now on, exactly once each and in
     * sequence order, on SkyDeck's event thread (keep it quick), whichever thread committed it.
     * Close the subscription to stop.
     */
    public Subscription onEvent(Consumer<Event> listener) {
        checkOpen();
        return engine.feed().subscribe(Objects.requireNonNull(listener, "listener"));
    }

    /** A stored setting. */
    public Optional<String> setting(String key) {
        checkOpen();
        return engine.store().setting(key);
    }

    /** Stores a setting (keys like names; values up to 64 KiB). */
    public void putSetting(String key, String value) {
        checkOpen();
        Validate.flagKey(key);
        Validate.text("setting " + key, value, 65_536);
        engine.writer().write(w -> {
            w.tx().putSetting(key, value);
            return null;
        });
    }

    // ---- groups ----

    /** Every group, in order. */
    public List<Group> groups() {
        checkOpen();
        return engine.store().groups();
    }

    /**
     * Every group, in order, without its members (their count, states and shared flags), and the
     * live experiments in no group; page members with {@link ExperimentQuery#inGroup}.
     */
    public GroupSummary.All groupSummaries() {
        checkOpen();
        return engine.store().groupSummaries();
    }

    /** A group by id. */
    public Group group(long id) {
        checkOpen();
        return engine.store().group(id).orElseThrow(() -> new SkyDeckException.NotFound("no group with id " + id));
    }

    /** Creates a group (at the end). */
    public Group createGroup(Group group) {
        checkOpen();
        return groups.create(group);
    }

    /** Writes a group's name, prefix, flags, order, collapsed state and members. */
    public Group updateGroup(Group group) {
        checkOpen();
        return groups.update(group);
    }

    /** Deletes a group; its experiments stay. */
    public void deleteGroup(long groupId) {
        checkOpen();
        groups.delete(groupId);
    }

    /**
     * Adds experiments to a group (at the end). Unless {@code multiHome}, they leave every other
     * group (a move); with it they stay there too.
     */
    public Group addToGroup(long groupId, List<Long> experimentIds, boolean multiHome) {
        checkOpen();
        return groups.add(groupId, experimentIds, multiHome);
    }

    /** Removes one experiment from a group. */
    public Group removeFromGroup(long groupId, long experimentId) {
        checkOpen();
        return groups.remove(groupId, experimentId);
    }

    /** Orders a group's members as {@code experimentIds} (which must be exactly its members). */
    public Group reorderGroup(long groupId, List<Long> experimentIds) {
        checkOpen();
        return groups.reorder(groupId, experimentIds);
    }

    /** Orders groups as {@code groupIds}. */
    public List<Group> reorderGroups(List<Long> groupIds) {
        checkOpen();
        return groups.reorderAll(groupIds);
    }

    // ---- waiting, refresh, health ----

    /**
     * Waits until every experiment is settled (nothing active, queued or due for its current
     * generation) and returns them as they are then.
     *
     * @throws SkyDeckException when {@code timeout} passes first (naming the ones still busy)
     */
    public List<Experiment> awaitSettled(Collection<Experiment> experiments, Duration timeout) {
        CompletableFuture<List<Experiment>> wait = awaitSettledAsync(experiments);
        try {
            return wait.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            wait.cancel(false);
            List<String> busy = experiments.stream().map(x -> experiment(x.id())).filter(x -> !x.settled())
                    .map(x -> x.name() + " (" + x.currentState() + (x.stateReason() == null ? "" : ": " + x.stateReason())
                            + ")").toList();
            throw new SkyDeckException("timed out after " + timeout + " waiting for " + busy.size()
                    + " experiment(s) to settle: " + String.join(", ", busy), true, e);
        } catch (InterruptedException e) {
            wait.cancel(false);
            Thread.currentThread().interrupt();
            throw new SkyDeckException("interrupted while waiting for experiments to settle", true, e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof SkyDeckException s ? s
                    : new SkyDeckException("waiting failed: " + e.getCause(), false, e.getCause());
        }
    }

    /**
     * Completes when every experiment is settled, with them as they are then. Cancelling the
     * future (or completing it any other way) ends the wait at once.
     */
    public CompletableFuture<List<Experiment>> awaitSettledAsync(Collection<Experiment> experiments) {
        checkOpen();
        List<Long> ids = experiments.stream().map(Experiment::id).distinct().toList();
        CompletableFuture<List<Experiment>> wait = engine.waits().register(ids);
        ids.forEach(engine.reconciler()::enqueue);
        return wait;
    }

    /**
     * Like {@link #awaitSettledAsync(Collection)}, but after {@code timeout} it completes with the
     * experiments as they are then, settled or not (see {@link Experiment#settled()}); the wait is
     * gone either way.
     */
    public CompletableFuture<List<Experiment>> awaitSettledAsync(Collection<Experiment> experiments, Duration timeout) {
        List<Long> ids = experiments.stream().map(Experiment::id).distinct().toList();
        return awaitSettledAsync(experiments).completeOnTimeout(null, timeout.toMillis(), TimeUnit.MILLISECONDS)
                .thenApply(list -> list != null ? list : engine.store().experiments(ids));
    }

    /** Which of these experiments are settled now. */
    public List<Experiment> settled(Collection<Long> ids) {
        checkOpen();
        return engine.store().experiments(ids).stream().filter(Experiment::settled).toList();
    }

    /**
     * Polls the backend now and waits for the result.
     *
     * @throws SkyDeckException.Conflict ({@code NOT_LEADER}) when another process drives the engine
     *         of a shared store: that process polls
     */
    public void poll() {
        checkOpen();
        requireLead("poll");
        engine.poller().pollNow();
    }

    /** Reconciles every experiment now (without waiting); where another process drives the engine, it does. */
    public void reconcileAll() {
        checkOpen();
        engine.reconciler().resyncNow();
    }

    private void requireLead(String what) {
        if (!engine.leadership().lead()) {
            throw new SkyDeckException.Conflict(SkyDeckException.Conflict.Reason.NOT_LEADER, "cannot " + what
                    + " here: " + engine.leadership().whyNotLeader());
        }
    }

    // ---- users ----

    /**
     * Creates an API token for {@code user}, for a server with users: its secret is in the result
     * and nowhere else (the store keeps its hash), so show it once.
     *
     * @throws SkyDeckException.InvalidInput when the user name is not allowed
     */
    public ApiToken.NewToken createToken(String tokenUser) {
        checkOpen();
        return tokens.create(tokenUser);
    }

    /** Every API token, valid and revoked, oldest first; secrets are never stored, so none are shown. */
    public List<ApiToken> tokens() {
        checkOpen();
        return tokens.list();
    }

    /**
     * Revokes a token: its secret stops working at once, on every server of this store.
     *
     * @throws SkyDeckException.NotFound when no token has that id
     */
    public ApiToken revokeToken(String id) {
        checkOpen();
        return tokens.revoke(id);
    }

    /**
     * Whether any API token was ever created for this deck (valid or revoked): a deck with users,
     * whose server asks every request for a token.
     */
    public boolean hasTokens() {
        checkOpen();
        return !tokens.list().isEmpty();
    }

    /** The valid token a secret belongs to, or empty (unknown, revoked, or not a SkyDeck token). */
    public Optional<ApiToken> authenticate(String secret) {
        checkOpen();
        return tokens.authenticate(secret);
    }

    /**
     * Lists checkpoints now for the experiments with live or recent jobs (and a slice of the
     * rest) and records what changed.
     */
    public void syncCheckpoints() {
        checkOpen();
        requireLead("sync checkpoints");
        engine.syncer().syncOnce();
    }

    /**
     * Re-scans the checkpoints of every live experiment once; {@code progress} is told
     * ({@code done}, {@code total}) after each experiment.
     *
     * @return how many checkpoints were added or changed
     */
    public int backfillCheckpoints(BiConsumer<Integer, Integer> progress) {
        checkOpen();
        CheckpointSyncer.Result r = engine.syncer().backfill(progress);
        if (r.failed() > 0) {
            throw new SkyDeckException("backfill could not list " + r.failed() + " experiment(s): "
                    + engine.syncer().status().lastError(), true, null);
        }
        return r.upserted();
    }

    /** How SkyDeck and its backend are doing; answers even when the store fails (counts are then -1). */
    public Health health() {
        checkOpen();
        BackendHealth bh = engine.backend().health();
        StoreReads.StoreCounts counts;
        try {
            counts = engine.store().counts();
        } catch (SkyDeckException e) {
            // Health must answer when the store does not: -1 says "unknown", the components say why.
            counts = new StoreReads.StoreCounts(-1, -1);
        }
        return new Health(VERSION, engine.store().describe(), engine.backend().kind(), parts.backendReason(),
                bh.healthy(), bh.detail(), engine.checkpoints().describe(), engine.poller().status().snapshot(),
                new Health.Component(engine.reconciler().lastPass(), null, null), engine.syncer().status().snapshot(),
                counts.experiments(), counts.activeJobs(), engine.waits().size(),
                new Health.Engine(engine.leadership().isLeader(), engine.leadership().holder(),
                        engine.leadership().leaderSince(), engine.leadership().otherHolder()));
    }

    /** The settings this SkyDeck runs with. */
    public SkyDeckConfig config() {
        return engine.config();
    }

    /** The backend in use. */
    public ClusterBackend backend() {
        return engine.backend();
    }

    /** The store in use. */
    public Store store() {
        return engine.store();
    }

    /**
     * A number that grows with every write transaction this process commits to the store (user
     * changes and the engine's, events or not). Together with the store's last event number
     * ({@code store().lastEventSeq()}, which other processes' writes move) it tells a cache whether
     * what it read may have changed; equal values mean nothing this process wrote since.
     */
    public long localWrites() {
        return engine.writer().commits();
    }

    /** The checkpoint source in use. */
    public CheckpointSource checkpointSource() {
        return engine.checkpoints();
    }

    /**
     * Stops background work (intake first, then in-flight passes finish), then closes what this
     * SkyDeck opened itself. Jobs keep running. Idempotent.
     */
    @Override
    public void close() {
        if (owner != null) {
            return; // a view: the SkyDeck it came from owns the engine
        }
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        engine.close();
        parts.close();
        log.info("SkyDeck closed");
    }

    /** Per-experiment entries held in memory (timers, queue places, sync fingerprints): tests check they shrink. */
    int bookkeeping() {
        return engine.reconciler().trackedExperiments() + engine.syncer().remembered();
    }

    private void checkOpen() {
        if (owner != null ? owner.closed : closed) {
            throw new SkyDeckException("this SkyDeck is closed: open a new one with SkyDeck.open()");
        }
    }

    /**
     * Options for {@link SkyDeck}; every one has a default. The settings are a
     * {@link SkyDeckConfig} ({@link #config}); the other options are the parts SkyDeck uses.
     */
    public static final class Builder {
        private SkyDeckConfig.Builder config = SkyDeckConfig.builder();
        private Store store;
        private ClusterBackend backend;
        private CheckpointSource checkpoints;
        private Clock clock = Clock.systemUTC();
        private TaskScheduler scheduler;
        private RandomGenerator random = new java.util.SplittableRandom();
        private boolean autoStart = true;
        private final List<Class<?>> flagClasses = new ArrayList<>();

        private Builder() {
        }

        /** Uses these settings (replacing any set before on this builder). */
        public Builder config(SkyDeckConfig value) {
            this.config = value.toBuilder();
            return this;
        }

        SkyDeckConfig config() {
            return config.build();
        }

        /**
         * Declares flags from a Java class or record ({@link FlagSchema#fromClass}): nested types
         * become dotted keys, enums choices, defaults come from a no-arg instance.
         */
        public Builder flagSchema(Class<?> type) {
            flagClasses.add(Objects.requireNonNull(type, "type"));
            return this;
        }

        /**
         * An external command that prints a flag schema for a tool path (run without a shell,
         * with the tool path as one argument; cached for 5 minutes).
         */
        public Builder flagSchemaCommand(List<String> command) {
            config.flagSchemaCommand(command);
            return this;
        }

        /** Uses this store (SkyDeck will not close it). Default: SQLite at {@link #databaseFile}. */
        public Builder store(Store value) {
            this.store = value;
            return this;
        }

        /** The SQLite file to open when no store is given. Default {@code <home>/skydeck.db}. */
        public Builder databaseFile(Path value) {
            config.databaseFile(value);
            return this;
        }

        /** Uses this backend (SkyDeck will not close it). Default: the configured backend, else auto. */
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
            config.backend(name, chosenBy);
            return this;
        }

        /** Where checkpoints are listed. Default: chosen for the backend (S3 for SkyPilot, else local files). */
        public Builder checkpoints(CheckpointSource value) {
            this.checkpoints = value;
            return this;
        }

        /** The clock (tests use a manual one). */
        public Builder clock(Clock value) {
            this.clock = Objects.requireNonNull(value, "clock");
            return this;
        }

        /** The scheduler for timers (tests use a manual one tied to the clock). */
        public Builder scheduler(TaskScheduler value) {
            this.scheduler = value;
            return this;
        }

        /** The randomness behind backoff jitter (tests seed it). */
        public Builder random(RandomGenerator value) {
            this.random = Objects.requireNonNull(value, "random");
            return this;
        }

        /** Whether {@link #build()} starts the reconciler and poller (default true). */
        public Builder autoStart(boolean value) {
            this.autoStart = value;
            return this;
        }

        /** Periodic resync of every experiment (default 60 s). */
        public Builder reconcileInterval(Duration value) {
            config.reconcileInterval(value);
            return this;
        }

        /** Poll interval when quiet (default 30 s). */
        public Builder pollInterval(Duration value) {
            config.pollInterval(value);
            return this;
        }

        /** Poll interval while jobs launch or change (default 5 s). */
        public Builder fastPollInterval(Duration value) {
            config.fastPollInterval(value);
            return this;
        }

        /** How often a poll lists every job, not only unfinished ones (default 10 min). */
        public Builder fullListingInterval(Duration value) {
            config.fullListingInterval(value);
            return this;
        }

        /** Checkpoint sync interval (default 60 s). */
        public Builder syncInterval(Duration value) {
            config.syncInterval(value);
            return this;
        }

        /** Launches in progress at once; 0 (default) is no limit. */
        public Builder maxConcurrentLaunches(int value) {
            config.maxConcurrentLaunches(value);
            return this;
        }

        /** GPUs in use at once across all jobs; 0 (default) is no limit. */
        public Builder maxGpus(int value) {
            config.maxGpus(value);
            return this;
        }

        /** How long a launch recorded by another process is left alone before adoption (default 2 min). */
        public Builder launchLease(Duration value) {
            config.launchLease(value);
            return this;
        }

        /** Backoff bounds for retryable backend failures (default 5 s first, 5 min cap). */
        public Builder retryBackoff(Duration first, Duration cap) {
            config.retryBackoff(first, cap);
            return this;
        }

        /** How long a job the backend stopped listing stays UNKNOWN before FAILED (default 10 min). */
        public Builder vanishedGrace(Duration value) {
            config.vanishedGrace(value);
            return this;
        }

        /** How long before an unconfirmed cancel is sent again, and how many sends at most (2 min, 3). */
        public Builder cancelRetry(Duration value, int attempts) {
            config.cancelRetry(value, attempts);
            return this;
        }

        /** Reconcile threads (default 4). */
        public Builder reconcilerThreads(int value) {
            config.reconcilerThreads(value);
            return this;
        }

        /** Validates the options, opens what is needed, and starts SkyDeck (unless {@code autoStart(false)}). */
        public SkyDeck build() {
            SkyDeckConfig settings = config();
            Assembly parts = Assembly.of(settings, store, backend, checkpoints);
            SkyDeck deck;
            try {
                deck = new SkyDeck(this, settings, parts);
            } catch (RuntimeException e) {
                parts.close();
                throw e;
            }
            if (autoStart) {
                deck.start();
            }
            return deck;
        }
    }
}
