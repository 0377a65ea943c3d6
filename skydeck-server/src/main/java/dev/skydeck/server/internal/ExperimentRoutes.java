package dev.skydeck.server.internal;

import static dev.skydeck.server.internal.Http.body;
import static dev.skydeck.server.internal.Http.boolParam;
import static dev.skydeck.server.internal.Http.intParam;
import static dev.skydeck.server.internal.Http.json;
import static dev.skydeck.server.internal.Http.optionalBody;
import static dev.skydeck.server.internal.Http.textParam;

import dev.skydeck.ApplyResult;
import dev.skydeck.BulkAction;
import dev.skydeck.BulkResult;
import dev.skydeck.DesiredState;
import dev.skydeck.EventQuery;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentFacets;
import dev.skydeck.ExperimentQuery;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.Job;
import dev.skydeck.JobQuery;
import dev.skydeck.JobStatus;
import dev.skydeck.Page;
import dev.skydeck.SkyDeck;
import dev.skydeck.SkyDeckException;
import dev.skydeck.server.internal.Views.BulkItemView;
import dev.skydeck.server.internal.Views.CheckpointView;
import dev.skydeck.server.internal.Views.EventView;
import dev.skydeck.server.internal.Views.ExperimentView;
import dev.skydeck.server.internal.Views.JobView;
import io.javalin.http.Context;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** {@code /api/experiments/**} and {@code /api/waits/experiments}. */
public final class ExperimentRoutes {
    /** The longest a wait request is held open. */
    public static final Duration MAX_WAIT = Duration.ofSeconds(30);

    private final SkyDeck deck;
    private final StreamLimits limits;
    private final ListItems items = new ListItems();

    /** Routes over {@code deck}; every wait takes a place in {@code limits}. */
    public ExperimentRoutes(SkyDeck deck, StreamLimits limits) {
        this.deck = deck;
        this.limits = limits;
    }

    /** Declares the routes. */
    public void register(Http http) {
        http.get("/api/experiments", this::list);
        http.get("/api/experiments/facets", this::facets);
        http.post("/api/experiments", this::create);
        http.post("/api/experiments/reorder", this::reorder);
        http.post("/api/experiments/apply", this::apply);
        http.post("/api/experiments/bulk", this::bulk);
        http.get("/api/experiments/{id}", ctx -> json(ctx, one(resolve(ctx))));
        http.patch("/api/experiments/{id}", this::patch);
        http.delete("/api/experiments/{id}", ctx -> {
            Experiment e = resolve(ctx);
            optionalBody(ctx).finish(); // a body that is not an empty object refuses the delete
            json(ctx, one(Users.acting(ctx, deck).delete(e)));
        });
        http.post("/api/experiments/{id}/undelete", ctx -> {
            optionalBody(ctx).finish();
            json(ctx, one(Users.acting(ctx, deck).undelete(resolve(ctx))));
        });
        http.post("/api/experiments/{id}/state", this::state);
        http.post("/api/experiments/{id}/restart", ctx -> {
            Experiment e = resolve(ctx);
            optionalBody(ctx).finish();
            json(ctx, one(Users.acting(ctx, deck).restart(e)));
        });
        http.post("/api/experiments/{id}/flags", this::flags);
        http.post("/api/experiments/{id}/duplicate", this::duplicate);
        http.post("/api/experiments/{id}/starred", ctx -> toggle(ctx, "starred"));
        http.post("/api/experiments/{id}/expanded", ctx -> toggle(ctx, "expanded"));
        http.get("/api/experiments/{id}/status", this::status);
        http.get("/api/experiments/{id}/jobs", this::jobs);
        http.get("/api/experiments/{id}/checkpoints", this::checkpoints);
        http.get("/api/experiments/{id}/events", this::events);
        http.post("/api/waits/experiments", this::await);
    }

    /** The experiment a path's {@code {id}} names: a numeric id, else a name. */
    Experiment resolve(Context ctx) {
        return resolve(ctx.pathParam("id"));
    }

    /** The experiment {@code ref} names: a numeric id, else a live experiment's name. */
    public Experiment resolve(String ref) {
        if (ref.matches("[0-9]{1,18}")) {
            try {
                return deck.experiment(Long.parseLong(ref));
            } catch (SkyDeckException.NotFound e) {
                // a name may be all digits: look it up as a name too
            }
        }
        return deck.findExperiment(ref).orElseThrow(() ->
                new SkyDeckException.NotFound("no experiment with id or name '" + ref + "'"));
    }

    /** A live experiment by name. */
    Experiment resolveName(String name) {
        return deck.findExperiment(name).orElseThrow(() ->
                new SkyDeckException.NotFound("no experiment named '" + name + "'"));
    }

    /** A reference from {@link Body#refs}: {@code #id} or a name. */
    public Experiment resolveRef(String ref) {
        return ref.startsWith("#") ? deck.experiment(Long.parseLong(ref.substring(1))) : resolveName(ref);
    }

    /** The list items of experiments (kept JSON), shared with the group list. */
    ListItems items() {
        return items;
    }

    private static Map<String, Object> one(Experiment e) {
        return Map.of("experiment", ExperimentView.of(e));
    }

    private void list(Context ctx) {
        ExperimentQuery q = query(ctx, true);
        Page<Experiment> page = deck.experiments(q);
        ctx.header("X-Total-Count", Long.toString(page.total()));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("experiments", items.of(page.items(), Http.fullFields(ctx)));
        out.put("total", page.total());
        Http.listJson(ctx, out);
    }

    /** {@code GET /api/experiments/facets}: the list's filters, counted per state, desired state and flag value. */
    private void facets(Context ctx) {
        ExperimentQuery q = query(ctx, false);
        ExperimentFacets f = deck.facets(q, intParam(ctx, "values", 50, 1, 500));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("total", f.total());
        out.put("states", f.states());
        out.put("desired", f.desired());
        out.put("flags", f.flags().stream().map(x -> {
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("name", x.name());
            one.put("count", x.count());
            one.put("distinct", x.distinct());
            one.put("truncated", x.truncated());
            one.put("values", x.values().stream().map(v -> {
                Map<String, Object> value = new LinkedHashMap<>();
                value.put("value", v.value());
                value.put("count", v.count());
                return value;
            }).toList());
            return one;
        }).toList());
        json(ctx, out);
    }

    /**
     * The query of a list or facets request: {@code q}, {@code state} (repeatable, comma-separated),
     * {@code desired}, {@code tag}, {@code include_deleted}, {@code mine}/{@code created_by},
     * {@code flag.<name>} (repeatable; {@code ~} for a missing flag), {@code group} (an id or
     * {@code none}); with {@code paged}, also {@code sort}, {@code limit} and {@code offset}.
     */
    ExperimentQuery query(Context ctx, boolean paged) {
        java.util.Set<JobStatus> states = new java.util.LinkedHashSet<>();
        for (String value : ctx.queryParams("state")) {
            for (String one : value.split(",", -1)) {
                if (!one.isBlank()) {
                    states.add(Body.parseEnum("state", one, JobStatus.class));
                }
            }
        }
        String desired = textParam(ctx, "desired");
        Boolean deleted = boolParam(ctx, "include_deleted");
        ExperimentQuery q = new ExperimentQuery(textParam(ctx, "q"), (JobStatus) null,
                desired == null ? null : Body.parseEnum("desired", desired, DesiredState.class),
                textParam(ctx, "tag"), deleted != null && deleted, ExperimentQuery.Sort.ORDER, false,
                paged ? intParam(ctx, "limit", 10_000, 1, 10_000) : 10_000,
                paged ? intParam(ctx, "offset", 0, 0, Integer.MAX_VALUE) : 0)
                .withStates(states)
                .withCreatedBy(Users.filter(ctx, deck, "created_by"));
        for (Map.Entry<String, List<String>> p : ctx.queryParamMap().entrySet()) {
            if (p.getKey().startsWith("flag.")) {
                q = q.withFlag(p.getKey().substring("flag.".length()), p.getValue());
            }
        }
        String group = textParam(ctx, "group");
        if (group != null) {
            if (group.equalsIgnoreCase("none")) {
                q = q.inGroup(ExperimentQuery.UNGROUPED);
            } else if (!group.matches("[0-9]{1,18}")) {
                throw ApiException.badRequest("query parameter 'group' must be a group id or 'none', not '" + group + "'");
            } else {
                long id = Long.parseLong(group);
                try {
                    deck.group(id);
                } catch (SkyDeckException.NotFound e) {
                    throw ApiException.badRequest("query parameter 'group': no group with id " + id);
                }
                q = q.inGroup(id);
            }
        }
        String sortParam = paged ? textParam(ctx, "sort") : null;
        if (sortParam != null) {
            boolean descending = sortParam.startsWith("-");
            String key = descending ? sortParam.substring(1) : sortParam;
            if (key.startsWith("flag:")) {
                q = q.sortedByFlag(key.substring("flag:".length()), descending);
            } else {
                ExperimentQuery.Sort sort = Body.parseEnum("sort", key, ExperimentQuery.Sort.class);
                if (sort == ExperimentQuery.Sort.FLAG) {
                    throw ApiException.badRequest("sort 'flag' needs a flag name: sort=flag:<name>");
                }
                q = q.sortedBy(sort, descending);
            }
        }
        return q;
    }

    private void create(Context ctx) {
        Body b = body(ctx);
        if (b.has("experiments")) {
            createMany(ctx, b);
            return;
        }
        Long groupId = b.optLong("group_id");
        SpecPatch patch = SpecPatch.read(b);
        String name = b.text("name");
        b.finish();
        ExperimentSpec spec = patch.apply(ExperimentSpec.named(name));
        if (groupId != null) {
            deck.group(groupId);
        }
        Experiment e = Users.acting(ctx, deck).create(spec);
        if (groupId != null) {
            Users.acting(ctx, deck).addToGroup(groupId, List.of(e.id()), false);
        }
        ctx.header("Location", "/api/experiments/" + e.id());
        json(ctx, 201, one(e));
    }

    private void createMany(Context ctx, Body b) {
        List<Body> items = b.objects("experiments");
        b.finish();
        if (items.size() > 100_000) {
            throw ApiException.badRequest("at most 100000 experiments per request, not " + items.size());
        }
        List<ExperimentSpec> specs = new ArrayList<>(items.size());
        for (Body item : items) {
            SpecPatch patch = SpecPatch.read(item);
            String name = item.text("name");
            item.finish();
            specs.add(patch.apply(ExperimentSpec.named(name)));
        }
        json(ctx, 201, Map.of("experiments", ExperimentView.of(Users.acting(ctx, deck).createAll(specs))));
    }

    /**
     * With {@code version}: the spec fields given are applied to the stored spec and written only
     * if nobody changed the spec since that version (409 {@code STALE_VERSION} otherwise);
     * presentation ({@code starred}, {@code expanded}) never conflicts. Without it: the fields
     * are applied to whatever is stored (retried over concurrent writes).
     */
    private void patch(Context ctx) {
        Experiment stored = resolve(ctx);
        Body b = body(ctx);
        Long version = b.optLong("version");
        Boolean starred = b.optBool("starred");
        Boolean expanded = b.optBool("expanded");
        SpecPatch patch = SpecPatch.read(b);
        b.finish();
        Experiment result = stored;
        if (version != null) {
            Experiment changed = stored.withSpec(patch.apply(stored.spec())).withVersion(version);
            changed = starred == null ? changed : changed.withStarred(starred);
            changed = expanded == null ? changed : changed.withExpanded(expanded);
            result = Users.acting(ctx, deck).update(changed);
        } else {
            if (!patch.isEmpty()) {
                result = Users.acting(ctx, deck).update(stored, patch);
            }
            if (starred != null) {
                result = Users.acting(ctx, deck).star(result, starred);
            }
            if (expanded != null) {
                result = Users.acting(ctx, deck).expand(result, expanded);
            }
        }
        json(ctx, one(result));
    }

    /**
     * {@code kubectl apply} for experiments: {@code {"experiments": [{"name": …, …}, …]}}; each
     * item's fields are applied to the stored experiment of that name (or a new one), in one
     * transaction. Fields an item leaves out keep their stored value.
     */
    private void apply(Context ctx) {
        Body b = body(ctx);
        List<Body> items = b.objects("experiments");
        b.finish();
        if (items.size() > 100_000) {
            throw ApiException.badRequest("at most 100000 experiments per request, not " + items.size());
        }
        Map<String, java.util.function.UnaryOperator<ExperimentSpec>> changes = new LinkedHashMap<>();
        for (int i = 0; i < items.size(); i++) {
            Body item = items.get(i);
            SpecPatch patch = SpecPatch.read(item);
            String name = item.text("name");
            item.finish();
            if (changes.put(name, patch) != null) {
                throw ApiException.badRequest("experiments[" + i + "]: the name '" + name + "' appears twice");
            }
        }
        List<ApplyResult> results = Users.acting(ctx, deck).applyChanges(changes);
        Map<String, Object> out = new LinkedHashMap<>();
        for (ApplyResult.Outcome o : ApplyResult.Outcome.values()) {
            out.put(o.name().toLowerCase(java.util.Locale.ROOT),
                    results.stream().filter(r -> r.outcome() == o).count());
        }
        out.put("results", results.stream().map(Views.ApplyView::of).toList());
        json(ctx, out);
    }

    private void state(Context ctx) {
        Experiment e = resolve(ctx);
        Body b = body(ctx);
        DesiredState state = b.enumValue("desired_state", DesiredState.class);
        b.finish();
        json(ctx, one(Users.acting(ctx, deck).setDesired(e, state)));
    }

    private void flags(Context ctx) {
        Experiment e = resolve(ctx);
        Body b = body(ctx);
        Map<String, Object> flags = b.optFlags("flags");
        if (flags == null) {
            throw ApiException.badRequest("field 'flags' is required: an object of flag values (it replaces them all)");
        }
        b.finish();
        json(ctx, one(Users.acting(ctx, deck).setFlags(e, flags)));
    }

    private void duplicate(Context ctx) {
        Experiment e = resolve(ctx);
        Body b = optionalBody(ctx);
        String name = b.optText("name");
        SpecPatch edits = SpecPatch.read(b);
        b.finish();
        Experiment copy = Users.acting(ctx, deck).duplicate(e, name, edits);
        ctx.header("Location", "/api/experiments/" + copy.id());
        json(ctx, 201, one(copy));
    }

    private void toggle(Context ctx, String field) {
        Experiment e = resolve(ctx);
        Body b = body(ctx);
        Boolean value = b.optBool(field);
        if (value == null) {
            throw ApiException.badRequest("field '" + field + "' is required: true or false");
        }
        b.finish();
        json(ctx, one(field.equals("starred") ? Users.acting(ctx, deck).star(e, value) : Users.acting(ctx, deck).expand(e, value)));
    }

    private void status(Context ctx) {
        Experiment e = resolve(ctx);
        List<Job> recent = deck.jobs(new JobQuery(null, null, null, e.name(), 10, 0)).items();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("experiment", ExperimentView.of(e));
        out.put("current_job", recent.isEmpty() ? null : JobView.of(recent.get(0)));
        out.put("recent_jobs", JobView.of(recent));
        json(ctx, out);
    }

    private void jobs(Context ctx) {
        Experiment e = resolve(ctx);
        Page<Job> page = deck.jobs(new JobQuery(null, null, null, e.name(), intParam(ctx, "limit", 100, 1, 10_000),
                intParam(ctx, "offset", 0, 0, Integer.MAX_VALUE)));
        ctx.header("X-Total-Count", Long.toString(page.total()));
        json(ctx, Map.of("jobs", JobView.of(page.items())));
    }

    private void checkpoints(Context ctx) {
        Experiment e = resolve(ctx);
        json(ctx, Map.of("checkpoints", deck.checkpoints(e, intParam(ctx, "limit", 100, 1, 10_000)).stream()
                .map(CheckpointView::of).toList()));
    }

    private void events(Context ctx) {
        Experiment e = resolve(ctx);
        Long after = Http.seqParam(ctx, "after_seq");
        json(ctx, Map.of("events", EventView.of(deck.events(new EventQuery(after == null ? 0 : after, e.id(),
                intParam(ctx, "limit", 100, 1, 10_000), false)))));
    }

    private void reorder(Context ctx) {
        Body b = body(ctx);
        List<Long> order = b.ids("order");
        b.finish();
        Users.acting(ctx, deck).reorder(order);
        json(ctx, Map.of("order", order));
    }

    private void bulk(Context ctx) {
        Body b = body(ctx);
        BulkAction action = b.enumValue("action", BulkAction.class);
        List<String> refs = b.refs("ids");
        b.finish();
        if (refs.size() > 10_000) {
            throw ApiException.badRequest("at most 10000 ids per bulk action, not " + refs.size());
        }
        List<Long> ids = new ArrayList<>(refs.size());
        Map<Integer, BulkItemView> unresolved = new LinkedHashMap<>();
        for (int i = 0; i < refs.size(); i++) {
            String ref = refs.get(i);
            if (ref.startsWith("#")) {
                ids.add(Long.parseLong(ref.substring(1)));
            } else {
                Experiment e = deck.findExperiment(ref).orElse(null);
                if (e == null) {
                    unresolved.put(i, new BulkItemView(null, ref, false, "no experiment named '" + ref + "'", null));
                } else {
                    ids.add(e.id());
                }
            }
        }
        List<BulkResult> results = ids.isEmpty() ? List.of() : Users.acting(ctx, deck).bulk(action, ids);
        List<BulkItemView> items = new ArrayList<>(refs.size());
        int next = 0;
        for (int i = 0; i < refs.size(); i++) {
            BulkItemView u = unresolved.get(i);
            String ref = refs.get(i).startsWith("#") ? refs.get(i).substring(1) : refs.get(i);
            items.add(u != null ? u : BulkItemView.of(ref, results.get(next++)));
        }
        long ok = items.stream().filter(BulkItemView::ok).count();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("action", action);
        out.put("succeeded", ok);
        out.put("failed", items.size() - ok);
        out.put("results", items);
        json(ctx, out);
    }

    private void await(Context ctx) {
        Body b = body(ctx);
        List<String> refs = b.refs("ids");
        Long timeout = b.optLong("timeout_seconds");
        b.finish();
        if (timeout != null && (timeout < 0 || timeout > MAX_WAIT.toSeconds())) {
            throw ApiException.badRequest("field 'timeout_seconds' must be between 0 and " + MAX_WAIT.toSeconds()
                    + ", not " + timeout);
        }
        List<Experiment> experiments = refs.stream().map(this::resolveRef).toList();
        long millis = timeout == null ? MAX_WAIT.toMillis() : timeout * 1000;
        StreamLimits.Permit permit = limits.acquire(ctx, "wait");
        // the wait ends (and is forgotten) at the deadline whatever happens: no request leaves one behind;
        // it holds no thread meanwhile (an asynchronous request completed by the engine or the deadline)
        CompletableFuture<Map<String, Object>> result;
        try {
            result = deck.awaitSettledAsync(experiments, Duration.ofMillis(millis))
                    .thenApply(list -> waitResult(true, list));
        } catch (RuntimeException e) {
            permit.close();
            throw e;
        }
        result.whenComplete((r, e) -> permit.close());
        ctx.future(() -> result.thenAccept(r -> json(ctx, r)));
    }

    private static Map<String, Object> waitResult(boolean settled, List<Experiment> list) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("settled", settled && list.stream().allMatch(Experiment::settled));
        out.put("experiments", ExperimentView.of(list));
        return out;
    }
}
