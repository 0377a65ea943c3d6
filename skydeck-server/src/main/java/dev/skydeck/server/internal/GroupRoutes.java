package dev.skydeck.server.internal;

import static dev.skydeck.server.internal.Http.body;
import static dev.skydeck.server.internal.Http.json;
import static dev.skydeck.server.internal.Http.optionalBody;

import com.fasterxml.jackson.databind.util.RawValue;
import dev.skydeck.Experiment;
import dev.skydeck.Group;
import dev.skydeck.GroupSummary;
import dev.skydeck.SkyDeck;
import dev.skydeck.SkyDeckException;
import dev.skydeck.server.internal.Views.ExperimentView;
import dev.skydeck.server.internal.Views.GroupView;
import io.javalin.http.Context;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code /api/groups/**}. */
public final class GroupRoutes {
    private final SkyDeck deck;
    private final ExperimentRoutes experiments;

    /** Routes over {@code deck}. */
    public GroupRoutes(SkyDeck deck, ExperimentRoutes experiments) {
        this.deck = deck;
        this.experiments = experiments;
    }

    /** Declares the routes. */
    public void register(Http http) {
        http.get("/api/groups", this::list);
        http.post("/api/groups", this::create);
        http.post("/api/groups/reorder", this::reorderGroups);
        http.get("/api/groups/{gid}", ctx -> json(ctx, one(group(ctx))));
        http.patch("/api/groups/{gid}", this::patch);
        http.delete("/api/groups/{gid}", ctx -> {
            Group g = group(ctx);
            optionalBody(ctx).finish(); // a body that is not an empty object refuses the delete
            Users.acting(ctx, deck).deleteGroup(g.id());
            json(ctx, Map.of("deleted", GroupView.of(g, null)));
        });
        http.post("/api/groups/{gid}/experiments", this::add);
        http.delete("/api/groups/{gid}/experiments/{id}", ctx -> {
            Group g = group(ctx);
            Experiment e = experiments.resolve(ctx.pathParam("id"));
            optionalBody(ctx).finish();
            json(ctx, one(Users.acting(ctx, deck).removeFromGroup(g.id(), e.id())));
        });
        http.post("/api/groups/{gid}/reorder", this::reorderMembers);
    }

    private Group group(Context ctx) {
        String gid = ctx.pathParam("gid");
        if (!gid.matches("[0-9]{1,18}")) {
            throw new SkyDeckException.NotFound("no group with id '" + gid + "' (group ids are numbers)");
        }
        return deck.group(Long.parseLong(gid));
    }

    private Map<String, Object> one(Group g) {
        Map<Long, ExperimentView> byId = new HashMap<>();
        for (Experiment e : deck.store().experiments(g.experimentIds())) {
            if (!e.deleted()) {
                byId.put(e.id(), ExperimentView.of(e));
            }
        }
        return Map.of("group", GroupView.of(g, byId));
    }

    private void list(Context ctx) {
        Boolean members = Http.boolParam(ctx, "members");
        if (members != null && !members) {
            summaries(ctx);
            return;
        }
        boolean full = Http.fullFields(ctx);
        List<Group> groups = deck.groups();
        List<Experiment> all = deck.experiments();
        Map<Long, RawValue> byId = new LinkedHashMap<>();
        for (Experiment e : all) {
            byId.put(e.id(), experiments.items().of(e, full));
        }
        Set<Long> grouped = new HashSet<>();
        for (Group g : groups) {
            grouped.addAll(g.experimentIds());
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("groups", groups.stream().map(g -> GroupView.of(g, byId)).toList());
        out.put("ungrouped", byId.entrySet().stream().filter(x -> !grouped.contains(x.getKey()))
                .map(Map.Entry::getValue).toList());
        Http.listJson(ctx, out);
    }

    /**
     * {@code GET /api/groups?members=false}: the groups in order without their members (counts,
     * states and shared flags of the live ones), and the same counts for experiments in no group.
     */
    private void summaries(Context ctx) {
        GroupSummary.All all = deck.groupSummaries();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("groups", all.groups().stream().map(s -> {
            Group g = s.group();
            Map<String, Object> one = new LinkedHashMap<>();
            one.put("id", g.id());
            one.put("name", g.name());
            one.put("name_prefix", g.namePrefix());
            one.put("flags", g.flags());
            one.put("order", g.order());
            one.put("collapsed", g.collapsed());
            one.put("count", s.count());
            one.put("states", s.states());
            one.put("common_flags", s.commonFlags());
            one.put("varying_flags", s.varyingFlags());
            return one;
        }).toList());
        Map<String, Object> ungrouped = new LinkedHashMap<>();
        ungrouped.put("count", all.ungroupedCount());
        ungrouped.put("states", all.ungroupedStates());
        out.put("ungrouped", ungrouped);
        json(ctx, out);
    }

    private void create(Context ctx) {
        Body b = body(ctx);
        Group g = Group.named(b.text("name"));
        String prefix = b.optText("name_prefix");
        List<String> flags = b.optStrings("flags");
        Boolean collapsed = b.optBool("collapsed");
        List<Long> ids = b.has("experiment_ids") && b.raw("experiment_ids") != null ? b.ids("experiment_ids") : List.of();
        b.finish();
        g = g.withNamePrefix(prefix).withExperimentIds(ids);
        g = flags == null ? g : g.withFlags(flags);
        g = collapsed == null ? g : g.withCollapsed(collapsed);
        Group created = Users.acting(ctx, deck).createGroup(g);
        ctx.header("Location", "/api/groups/" + created.id());
        json(ctx, 201, one(created));
    }

    private void patch(Context ctx) {
        Group g = group(ctx);
        Body b = body(ctx);
        if (b.has("name")) {
            g = g.withName(b.text("name"));
        }
        if (b.has("name_prefix")) {
            g = g.withNamePrefix(b.optText("name_prefix"));
        }
        if (b.has("flags")) {
            List<String> flags = b.optStrings("flags");
            g = g.withFlags(flags == null ? List.of() : flags);
        }
        Boolean collapsed = b.optBool("collapsed");
        if (collapsed != null) {
            g = g.withCollapsed(collapsed);
        }
        b.finish();
        json(ctx, one(Users.acting(ctx, deck).updateGroup(g)));
    }

    private void add(Context ctx) {
        Group g = group(ctx);
        Body b = body(ctx);
        List<Long> ids = b.refs("experiment_ids").stream().map(r -> experiments.resolveRef(r).id()).toList();
        Boolean multiHome = b.optBool("multi_home");
        b.finish();
        json(ctx, one(Users.acting(ctx, deck).addToGroup(g.id(), ids, multiHome != null && multiHome)));
    }

    private void reorderMembers(Context ctx) {
        Group g = group(ctx);
        Body b = body(ctx);
        List<Long> ids = b.ids("experiment_ids");
        b.finish();
        json(ctx, one(Users.acting(ctx, deck).reorderGroup(g.id(), ids)));
    }

    private void reorderGroups(Context ctx) {
        Body b = body(ctx);
        List<Long> ids = b.ids("group_ids");
        b.finish();
        json(ctx, Map.of("groups", Users.acting(ctx, deck).reorderGroups(ids).stream().map(x -> GroupView.of(x, null)).toList()));
    }
}
