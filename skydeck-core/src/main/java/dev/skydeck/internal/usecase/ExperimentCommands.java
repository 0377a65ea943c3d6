package dev.skydeck.internal.usecase;

import dev.skydeck.Actor;
import dev.skydeck.ApplyResult;
import dev.skydeck.BulkAction;
import dev.skydeck.BulkResult;
import dev.skydeck.DesiredState;
import dev.skydeck.Event;
import dev.skydeck.EventType;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.Group;
import dev.skydeck.JobQuery;
import dev.skydeck.SkyDeckException;
import dev.skydeck.SkyDeckException.Conflict.Reason;
import dev.skydeck.internal.Engine;
import dev.skydeck.internal.Validate;
import dev.skydeck.internal.Writer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * What users do to experiments: every change is one transaction that writes desired state (never
 * observed state) and the events it causes, then wakes the reconciler. Writing what is already
 * stored changes nothing: no version, no generation, no event.
 */
public final class ExperimentCommands {
    private static final int UPDATE_ATTEMPTS = 5;

    private final Engine engine;
    private final Writer writer;

    /** Commands over {@code engine}, done for {@code user} ({@code null}: no user). */
    public ExperimentCommands(Engine engine, String user) {
        this.engine = engine;
        this.writer = engine.writer().as(user);
    }

    private Writer writer() {
        return writer;
    }

    private Instant now() {
        return engine.clock().instant();
    }

    private static Experiment stored(Writer.Unit w, long id) {
        return w.tx().experiment(id).orElseThrow(() -> new SkyDeckException.NotFound("no experiment with id " + id));
    }

    private static SkyDeckException.Conflict deleted(Experiment e) {
        return new SkyDeckException.Conflict(Reason.DELETED, "experiment '" + e.name()
                + "' is deleted: undelete it before changing its state");
    }

    private static EventType stateEvent(DesiredState s) {
        return s == DesiredState.RUNNING ? EventType.START : EventType.STOP;
    }

    /** The generation after a desired-state write: one more on a transition to RUNNING. */
    private static long nextGeneration(Experiment stored, DesiredState desired) {
        return desired == DesiredState.RUNNING && stored.desiredState() != DesiredState.RUNNING
                ? stored.generation() + 1 : stored.generation();
    }

    /** Creates experiments in one transaction: all of them, or none if a name is taken or repeated. */
    public List<Experiment> createAll(List<ExperimentSpec> specs) {
        Set<String> names = new HashSet<>();
        for (ExperimentSpec s : specs) {
            if (!names.add(s.name())) {
                throw new SkyDeckException.Conflict(Reason.NAME_TAKEN, "the name '" + s.name()
                        + "' appears twice in one bulk create");
            }
        }
        Instant now = now();
        List<Experiment> created = writer().write(w -> {
            List<Experiment> out = new ArrayList<>(specs.size());
            for (ExperimentSpec s : specs) {
                Experiment e = w.tx().insertExperiment(s, now, w.user());
                out.add(e);
                w.event(Event.draft(now, Actor.USER, EventType.CREATE, e, null, true,
                        "created experiment " + e.name() + (s.desiredState() == DesiredState.RUNNING ? " (RUNNING)" : ""),
                        null));
            }
            return out;
        });
        created.forEach(e -> engine.reconciler().enqueue(e.id()));
        return created;
    }

    /**
     * Writes a user change: spec and deletion need {@code changed.version()} to be current;
     * presentation (star, expansion, order) never conflicts and never bumps the version.
     */
    public Experiment update(Experiment changed) {
        Instant now = now();
        Experiment written = writer().write(w -> {
            Experiment stored = stored(w, changed.id());
            boolean specChanged = !stored.spec().equals(changed.spec()) || stored.deleted() != changed.deleted();
            if (specChanged) {
                if (stored.version() != changed.version()) {
                    throw new SkyDeckException.Conflict(Reason.STALE_VERSION, "experiment '" + stored.name()
                            + "' is at version " + stored.version() + ", not " + changed.version()
                            + ": someone changed it since you read it; reload it and apply your change again");
                }
                writeSpec(w, stored, changed.spec(), changed.deleted(), now, "updated experiment " + stored.name());
            }
            if (!stored.samePresentation(changed)) {
                w.tx().updatePresentation(stored.id(), changed.starred(), changed.expanded(), changed.order());
            }
            return stored(w, changed.id());
        });
        engine.reconciler().enqueue(written.id());
        return written;
    }

    /**
     * Writes {@code spec} over {@code stored} (version checked by the caller) with the generation
     * rule and the right event; a rename needs the experiment to have no active job (jobs belong
     * to experiments by name).
     */
    private Experiment writeSpec(Writer.Unit w, Experiment stored, ExperimentSpec spec, boolean deleted, Instant now,
                                 String message) {
        if (!stored.name().equals(spec.name())
                && w.tx().jobs(new JobQuery(null, true, null, stored.name(), 1, 0)).total() > 0) {
            throw new SkyDeckException.Conflict(Reason.ACTIVE_JOB, "experiment '" + stored.name()
                    + "' has an active job: stop it before renaming (jobs belong to experiments by name)");
        }
        boolean desiredChanged = stored.desiredState() != spec.desiredState();
        Experiment next = new Experiment(stored.id(), spec, stored.starred(), stored.order(), stored.expanded(),
                deleted, stored.createdAt(), stored.updatedAt(), stored.version(),
                nextGeneration(stored, spec.desiredState()), null, null, null, false, stored.createdBy(),
                stored.startedBy()).changedBy(w.user(), stored);
        Experiment e = w.tx().updateExperiment(next, now);
        w.event(Event.draft(now, Actor.USER, desiredChanged ? stateEvent(e.desiredState()) : EventType.UPDATE, e, null,
                true, desiredChanged ? message + ": desired state " + e.desiredState() + " (generation "
                        + e.generation() + ")" : message, String.join(", ", spec.changesFrom(stored.spec()))));
        return e;
    }

    /** Applies {@code change} to the stored spec; a concurrent change (stale version) is read again and retried. */
    public Experiment update(long id, UnaryOperator<ExperimentSpec> change) {
        for (int attempt = 1; ; attempt++) {
            Experiment current = engine.store().experiment(id).orElseThrow(() ->
                    new SkyDeckException.NotFound("no experiment with id " + id));
            try {
                return update(current.withSpec(change.apply(current.spec())));
            } catch (SkyDeckException.Conflict c) {
                if (attempt >= UPDATE_ATTEMPTS || c.reason() != Reason.STALE_VERSION) {
                    throw c;
                }
            }
        }
    }

    /** Sets the desired state; the same state again changes nothing. */
    public Experiment setDesired(long id, DesiredState state) {
        Instant now = now();
        Experiment written = writer().write(w -> {
            Experiment stored = stored(w, id);
            if (stored.deleted()) {
                throw deleted(stored);
            }
            if (stored.desiredState() == state) {
                return stored;
            }
            Experiment next = w.tx().updateExperiment(stored.withDesired(state).changedBy(w.user(), stored), now);
            w.event(Event.draft(now, Actor.USER, stateEvent(state), next, null, true,
                    "desired state " + state + " (generation " + next.generation() + ")", null));
            return next;
        });
        engine.reconciler().enqueue(written.id());
        return written;
    }

    /** Starts a new generation: the active job, if any, is cancelled, then one job is launched. */
    public Experiment restart(long id) {
        Instant now = now();
        Experiment written = writer().write(w -> {
            Experiment stored = stored(w, id);
            if (stored.deleted()) {
                throw deleted(stored);
            }
            return restarted(w, stored, now);
        });
        engine.reconciler().enqueue(id);
        return written;
    }

    private static Experiment restarted(Writer.Unit w, Experiment stored, Instant now) {
        Experiment next = w.tx().updateExperiment(stored.restarted().changedBy(w.user(), stored), now);
        w.event(Event.draft(now, Actor.USER, EventType.RESTART, next, null, true,
                "restart: generation " + next.generation() + " (an active job is cancelled first)", null));
        return next;
    }

    /** Sets the desired state of many experiments in one transaction; one result per id. */
    public List<BulkResult> setDesiredAll(List<Long> ids, DesiredState state) {
        return eachInOneTransaction(ids, (w, stored, now) -> {
            if (stored.desiredState() == state) {
                return new BulkResult(stored.id(), true, "unchanged: " + stored.name() + " is already " + state,
                        stored);
            }
            Experiment next = w.tx().updateExperiment(stored.withDesired(state).changedBy(w.user(), stored), now);
            w.event(Event.draft(now, Actor.USER, stateEvent(state), next, null, true,
                    "desired state " + state + " (generation " + next.generation() + ")", null));
            return new BulkResult(stored.id(), true, state.name().toLowerCase(Locale.ROOT) + ": " + next.name(), next);
        });
    }

    /** Restarts many experiments in one transaction; one result per id. */
    public List<BulkResult> restartAll(List<Long> ids) {
        return eachInOneTransaction(ids, (w, stored, now) -> {
            Experiment next = restarted(w, stored, now);
            return new BulkResult(stored.id(), true, "restart: " + next.name(), next);
        });
    }

    @FunctionalInterface
    private interface Change {
        BulkResult apply(Writer.Unit w, Experiment stored, Instant now);
    }

    /** One transaction over many live experiments: missing or deleted ones get a failed result, the rest {@code change}. */
    private List<BulkResult> eachInOneTransaction(List<Long> ids, Change change) {
        Instant now = now();
        List<BulkResult> results = writer().write(w -> {
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
                    out.add(new BulkResult(id, false, deleted(stored).getMessage(), null));
                } else {
                    BulkResult r = change.apply(w, stored, now);
                    if (r.experiment() != null) {
                        found.put(id, r.experiment());
                    }
                    out.add(r);
                }
            }
            return out;
        });
        for (BulkResult r : results) {
            if (r.ok()) {
                engine.reconciler().enqueue(r.id());
            }
        }
        return results;
    }

    /** Soft-deletes or restores. */
    public Experiment setDeleted(long id, boolean deleted) {
        Instant now = now();
        Experiment written = writer().write(w -> {
            Experiment stored = stored(w, id);
            if (stored.deleted() == deleted) {
                return stored;
            }
            Experiment next = w.tx().updateExperiment(stored.withDeleted(deleted), now);
            w.event(Event.draft(now, Actor.USER, deleted ? EventType.DELETE : EventType.UNDELETE, next, null, true,
                    (deleted ? "deleted experiment " : "restored experiment ") + next.name(), null));
            return next;
        });
        if (deleted) {
            engine.syncer().forget(id);
        }
        engine.reconciler().enqueue(written.id());
        return written;
    }

    /** Copies an experiment with edits applied before it is stored (desired STOPPED unless the edits say otherwise). */
    public Experiment duplicate(long id, String newName, UnaryOperator<ExperimentSpec> edits) {
        Instant now = now();
        Experiment copy = writer().write(w -> {
            Experiment source = stored(w, id);
            String name = newName != null ? newName : freeCopyName(w, source.name());
            ExperimentSpec spec = edits.apply(source.spec().name(name).desired(DesiredState.STOPPED));
            Experiment created = w.tx().insertExperiment(spec, now, w.user());
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
        engine.reconciler().enqueue(copy.id());
        return copy;
    }

    private static String freeCopyName(Writer.Unit w, String name) {
        String base = name.length() > 118 ? name.substring(0, 118) : name;
        List<String> candidates = new ArrayList<>();
        for (int i = 1; i <= 100; i++) {
            candidates.add(base + ".copy" + (i == 1 ? "" : Integer.toString(i)));
        }
        Map<String, Experiment> taken = w.tx().experimentsByName(candidates);
        return candidates.stream().filter(c -> !taken.containsKey(c)).findFirst().orElseThrow(() ->
                new SkyDeckException.Conflict(Reason.NAME_TAKEN, "no free copy name for '" + name
                        + "': give the copy a name"));
    }

    /** Stars, expands or moves an experiment: never a conflict, never a new version. */
    public Experiment present(long id, Boolean starred, Boolean expanded) {
        return writer().write(w -> {
            Experiment stored = stored(w, id);
            boolean s = starred != null ? starred : stored.starred();
            boolean x = expanded != null ? expanded : stored.expanded();
            if (s != stored.starred() || x != stored.expanded()) {
                w.tx().updatePresentation(id, s, x, stored.order());
            }
            return stored.withStarred(s).withExpanded(x);
        });
    }

    /** Sets the display order to the order of {@code ids}; unknown ids are refused. */
    public void reorder(List<Long> ids) {
        writer().write(w -> {
            requireExperiments(w, ids);
            w.tx().reorderExperiments(ids);
            return null;
        });
    }

    /** Refuses ids of experiments that do not exist, naming them. */
    static void requireExperiments(Writer.Unit w, java.util.Collection<Long> ids) {
        if (ids.isEmpty()) {
            return;
        }
        List<Experiment> found = w.tx().experiments(ids);
        if (found.size() != new HashSet<>(ids).size()) {
            List<Long> missing = new ArrayList<>(new java.util.LinkedHashSet<>(ids));
            missing.removeAll(found.stream().map(Experiment::id).toList());
            throw new SkyDeckException.NotFound("no experiments with ids " + missing);
        }
    }

    /** Applies one action to many experiments; one result per id, in order, failures included. */
    public List<BulkResult> bulk(BulkAction action, List<Long> ids) {
        switch (action) {
            case START:
                return setDesiredAll(ids, DesiredState.RUNNING);
            case STOP:
                return setDesiredAll(ids, DesiredState.STOPPED);
            case TERMINATE:
                return setDesiredAll(ids, DesiredState.TERMINATED);
            case RESTART:
                return restartAll(ids);
            default:
                break;
        }
        List<BulkResult> results = new ArrayList<>(ids.size());
        for (long id : ids) {
            try {
                Experiment after = switch (action) {
                    case DELETE -> setDeleted(id, true);
                    case UNDELETE -> setDeleted(id, false);
                    case DUPLICATE -> duplicate(id, null, UnaryOperator.identity());
                    default -> throw new IllegalStateException(action.name());
                };
                results.add(new BulkResult(id, true, action.name().toLowerCase(Locale.ROOT) + ": " + after.name(),
                        after));
            } catch (SkyDeckException ex) {
                results.add(new BulkResult(id, false, ex.getMessage(), null));
            }
        }
        return results;
    }

    /**
     * {@code kubectl apply} for experiments, in one transaction: for each name, the change turns
     * the stored spec (or a new one's defaults) into the wanted one; missing experiments are
     * created, differing ones updated, equal ones left untouched. A desired state the experiment
     * already has is no change, so applying the same specs twice launches nothing new.
     */
    public List<ApplyResult> apply(Map<String, UnaryOperator<ExperimentSpec>> changes) {
        Instant now = now();
        List<ApplyResult> results = writer().write(w -> {
            Map<String, Experiment> existing = w.tx().experimentsByName(changes.keySet());
            List<ApplyResult> out = new ArrayList<>(changes.size());
            for (Map.Entry<String, UnaryOperator<ExperimentSpec>> c : changes.entrySet()) {
                String name = Validate.name("experiment name", c.getKey());
                Experiment stored = existing.get(name);
                ExperimentSpec wanted = c.getValue().apply(stored != null ? stored.spec() : ExperimentSpec.named(name));
                if (!wanted.name().equals(name)) {
                    throw Validate.invalid("apply cannot rename '" + name + "' to '" + wanted.name()
                            + "': rename it with an update");
                }
                if (stored == null) {
                    Experiment e = w.tx().insertExperiment(wanted, now, w.user());
                    w.event(Event.draft(now, Actor.USER, EventType.CREATE, e, null, true, "applied: created experiment "
                            + name + (wanted.desiredState() == DesiredState.RUNNING ? " (RUNNING)" : ""), null));
                    out.add(new ApplyResult(name, ApplyResult.Outcome.CREATED, List.of(), e));
                    continue;
                }
                List<String> changed = wanted.changesFrom(stored.spec());
                if (changed.isEmpty()) {
                    out.add(new ApplyResult(name, ApplyResult.Outcome.UNCHANGED, List.of(), stored));
                    continue;
                }
                Experiment e = writeSpec(w, stored, wanted, false, now, "applied: changed " + String.join(", ", changed));
                out.add(new ApplyResult(name, ApplyResult.Outcome.UPDATED, changed, e));
            }
            return out;
        });
        for (ApplyResult r : results) {
            if (r.outcome() != ApplyResult.Outcome.UNCHANGED) {
                engine.reconciler().enqueue(r.experiment().id());
            }
        }
        return results;
    }

    /** {@link #apply(Map)} with complete specs (every field as given). */
    public List<ApplyResult> applySpecs(java.util.Collection<ExperimentSpec> specs) {
        Map<String, UnaryOperator<ExperimentSpec>> changes = new LinkedHashMap<>();
        for (ExperimentSpec s : specs) {
            if (changes.put(s.name(), stored -> s) != null) {
                throw new SkyDeckException.Conflict(Reason.NAME_TAKEN, "the name '" + s.name()
                        + "' appears twice in one apply");
            }
        }
        return apply(changes);
    }
}
