package dev.skydeck.server.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.util.RawValue;
import dev.skydeck.Experiment;
import dev.skydeck.server.internal.Views.ExperimentView;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The JSON of each experiment's list item, kept while the experiment reads back the same. A list
 * body built again after one write (a description edited, a job's state observed) serializes the
 * one experiment that changed and copies the JSON of the other 999: serializing the items was
 * about 60 % of building {@code GET /api/groups} at 1,000 experiments.
 *
 * <p>An item is a function of its {@link Experiment} alone ({@link ExperimentView#listItem} or
 * {@link ExperimentView#of}), so a kept item is used only while the experiment just read is the
 * same as the one it was written from ({@link #same}): every field equal, except that the spec
 * is compared by the experiment's {@code version}, which every store raises with each change of
 * the spec (its optimistic lock; with the id and {@code created_at} it also tells a new experiment
 * that reuses a purged one's id). Comparing the specs' flags map by map cost about as much as
 * writing the JSON again. At most
 * {@link #MAX_ITEMS} items of each form are kept; once that many are, only kept ones are written
 * again (a full cache is not emptied: a list longer than it would empty it on every request), so a
 * deck of 100,000 experiments paged through costs a bounded heap.
 */
final class ListItems {
    /**
     * The most items kept per form (compact and full): every experiment of the largest list
     * ({@code GET /api/groups} reads up to 10,000).
     */
    static final int MAX_ITEMS = 10_240;

    private record Item(Experiment source, RawValue json) {
    }

    private final Map<Long, Item> compact = new ConcurrentHashMap<>();
    private final Map<Long, Item> full = new ConcurrentHashMap<>();

    /** The items of {@code experiments}, in order: compact unless {@code full}, ready to be written as JSON. */
    List<RawValue> of(List<Experiment> experiments, boolean full) {
        List<RawValue> out = new ArrayList<>(experiments.size());
        for (Experiment e : experiments) {
            out.add(of(e, full));
        }
        return out;
    }

    /** The item of {@code e}: compact unless {@code full}. */
    RawValue of(Experiment e, boolean full) {
        Map<Long, Item> kept = full ? this.full : compact;
        Item item = kept.get(e.id());
        if (item != null && same(item.source, e)) {
            return item.json;
        }
        RawValue json = write(full ? ExperimentView.of(e) : ExperimentView.listItem(e), full);
        if (item != null || kept.size() < MAX_ITEMS) {
            kept.put(e.id(), new Item(e, json));
        }
        return json;
    }

    /**
     * Whether {@code a} and {@code b} have the same item: equal in every field, the spec taken as
     * equal when the version is (see the class comment).
     */
    static boolean same(Experiment a, Experiment b) {
        return a.id() == b.id() && a.version() == b.version() && a.createdAt().equals(b.createdAt())
                && a.updatedAt().equals(b.updatedAt()) && a.generation() == b.generation()
                && a.starred() == b.starred() && a.order() == b.order() && a.expanded() == b.expanded()
                && a.deleted() == b.deleted() && a.drifted() == b.drifted() && a.currentState() == b.currentState()
                && a.status().equals(b.status()) && Objects.equals(a.latestEpoch(), b.latestEpoch())
                && Objects.equals(a.latestStartedAt(), b.latestStartedAt())
                && Objects.equals(a.createdBy(), b.createdBy()) && Objects.equals(a.startedBy(), b.startedBy());
    }

    /** How many items are kept now (both forms), for tests. */
    int size() {
        return compact.size() + full.size();
    }

    private static RawValue write(ExperimentView view, boolean full) {
        try {
            return new RawValue(new SerializedString((full ? Json.MAPPER : Json.LIST).writeValueAsString(view)));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON for experiment " + view.name(), e);
        }
    }
}
