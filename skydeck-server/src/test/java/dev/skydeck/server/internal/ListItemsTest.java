package dev.skydeck.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.ExperimentStatus;
import dev.skydeck.JobStatus;
import java.lang.reflect.RecordComponent;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The kept item JSON of {@link ListItems}: the same bytes as writing afresh, and a bounded number kept. */
class ListItemsTest {
    private static final Instant T = Instant.parse("2026-12-01T10:00:00Z");

    private static Experiment experiment(long id, String description, JobStatus state, Long epoch) {
        return new Experiment(id, ExperimentSpec.named("e-" + id).flag("lr", 0.1).flag("seed", id).description(description),
                false, (int) id, false, false, T, T, 1, 1, state, ExperimentStatus.NEW, epoch, false);
    }

    @Test
    void anItemIsWrittenAgainWhenAnyFieldOfItsExperimentChanged() throws Exception {
        ListItems items = new ListItems();
        Experiment first = experiment(1, "first", JobStatus.RUNNING, 3L);
        assertThat(items.of(first, false).rawValue().toString()).isEqualTo(Json.LIST.writeValueAsString(
                Views.ExperimentView.listItem(first)));
        assertThat(items.of(first, true).rawValue().toString()).isEqualTo(Json.MAPPER.writeValueAsString(
                Views.ExperimentView.of(first)));
        // same id and version, other derived fields: the state and the epoch the poller observed
        Experiment observed = experiment(1, "first", JobStatus.FAILED, 4L);
        assertThat(items.of(observed, false).rawValue().toString()).contains("\"FAILED\"").contains("\"latest_epoch\":4")
                .isEqualTo(Json.LIST.writeValueAsString(Views.ExperimentView.listItem(observed)));
        // an equal experiment read again: the kept JSON, not another copy
        assertThat(items.of(experiment(1, "first", JobStatus.FAILED, 4L), false)).isSameAs(items.of(observed, false));
    }

    /**
     * {@link ListItems#same} lists Experiment's fields by hand: a field added to the record and not
     * to {@code same} would leave kept items stale. Each component other than the spec, changed
     * alone, must make the two differ (the spec changes only with the version).
     */
    @Test
    void changingAnyFieldButTheSpecMakesTheItemDiffer() throws Exception {
        Experiment base = new Experiment(7, ExperimentSpec.named("e"), false, 1, false, false, T, T, 1, 1,
                JobStatus.RUNNING, ExperimentStatus.NEW, 2L, false, "alice", "bob", T);
        RecordComponent[] components = Experiment.class.getRecordComponents();
        Class<?>[] types = java.util.Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new);
        java.lang.reflect.Constructor<Experiment> canonical = Experiment.class.getDeclaredConstructor(types);
        assertThat(ListItems.same(base, canonical.newInstance(values(base, components, -1, null)))).isTrue();
        for (int i = 0; i < components.length; i++) {
            if (components[i].getName().equals("spec")) {
                continue;
            }
            Object other = otherValue(components[i].getType(), components[i].getAccessor().invoke(base));
            Experiment changed = canonical.newInstance(values(base, components, i, other));
            assertThat(ListItems.same(base, changed)).as("only " + components[i].getName() + " changed").isFalse();
        }
    }

    private static Object[] values(Experiment e, RecordComponent[] components, int replace, Object with)
            throws Exception {
        Object[] v = new Object[components.length];
        for (int i = 0; i < components.length; i++) {
            v[i] = i == replace ? with : components[i].getAccessor().invoke(e);
        }
        return v;
    }

    private static Object otherValue(Class<?> type, Object now) {
        if (type == long.class) {
            return (Long) now + 1;
        } else if (type == int.class) {
            return (Integer) now + 1;
        } else if (type == boolean.class) {
            return !(Boolean) now;
        } else if (type == Long.class) {
            return now == null ? 1L : (Long) now + 1;
        } else if (type == String.class) {
            return now + "-other";
        } else if (type == Instant.class) {
            return ((Instant) now).plusNanos(1);
        } else if (type == JobStatus.class) {
            return now == JobStatus.FAILED ? JobStatus.RUNNING : JobStatus.FAILED;
        } else if (type == ExperimentStatus.class) {
            return new ExperimentStatus(null, "other", 0, null, 0, null, true);
        }
        throw new AssertionError("ListItemsTest does not know how to change a " + type.getName()
                + ": add it here and to ListItems.same");
    }

    @Test
    void atMostMaxItemsOfEachFormAreKept() {
        ListItems items = new ListItems();
        List<Experiment> many = java.util.stream.LongStream.rangeClosed(1, ListItems.MAX_ITEMS + 10)
                .mapToObj(id -> experiment(id, "d", JobStatus.SUCCEEDED, null)).toList();
        List<com.fasterxml.jackson.databind.util.RawValue> first = items.of(many, false);
        items.of(many, true);
        assertThat(items.size()).isEqualTo(2 * ListItems.MAX_ITEMS);
        // a list longer than the cache still reuses what is kept (a full cache is not emptied)
        List<com.fasterxml.jackson.databind.util.RawValue> again = items.of(many, false);
        assertThat(again.get(0)).isSameAs(first.get(0));
        assertThat(again.get(ListItems.MAX_ITEMS - 1)).isSameAs(first.get(ListItems.MAX_ITEMS - 1));
        assertThat(again.get(ListItems.MAX_ITEMS + 5)).isNotSameAs(first.get(ListItems.MAX_ITEMS + 5));
        // a kept experiment that changed is written again and kept in its place
        Experiment changed = experiment(1, "changed", JobStatus.FAILED, 9L);
        assertThat(items.of(changed, false).rawValue().toString()).contains("changed");
        assertThat(items.of(experiment(1, "changed", JobStatus.FAILED, 9L), false)).isSameAs(items.of(changed, false));
    }
}
