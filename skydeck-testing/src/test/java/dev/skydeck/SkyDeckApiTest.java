package dev.skydeck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.skydeck.memory.InMemoryStore;
import dev.skydeck.spi.Store;
import dev.skydeck.testing.FakeBackend;
import dev.skydeck.testing.ManualClock;
import dev.skydeck.testing.NoThreadLeaks;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The SkyDeck facade's user operations: what they change, and that refused ones change nothing. */
@ExtendWith(NoThreadLeaks.class)
class SkyDeckApiTest {
    private final ManualClock clock = new ManualClock();
    private final FakeBackend backend = new FakeBackend(clock);
    private final Store store = new InMemoryStore();
    private final SkyDeck deck = SkyDeck.builder().store(store).backend(backend).clock(clock).scheduler(clock).build();

    @AfterEach
    void close() {
        deck.close();
    }

    @Test
    void bulkCreateIsAllOrNothing() {
        deck.create(ExperimentSpec.named("taken"));
        long events = store.lastEventSeq();
        assertThatThrownBy(() -> deck.createAll(List.of(ExperimentSpec.named("fresh"), ExperimentSpec.named("taken"))))
                .isInstanceOf(SkyDeckException.Conflict.class).hasMessageContaining("'taken' already exists");
        assertThat(deck.findExperiment("fresh")).isEmpty();
        assertThat(store.lastEventSeq()).isEqualTo(events);
        assertThatThrownBy(() -> deck.createAll(List.of(ExperimentSpec.named("twin"), ExperimentSpec.named("twin"))))
                .isInstanceOf(SkyDeckException.Conflict.class).hasMessageContaining("twice");
        assertThat(deck.findExperiment("twin")).isEmpty();
    }

    @Test
    void badFlagsAreRefusedAndChangeNothing() {
        Experiment e = deck.create(ExperimentSpec.named("flags").flag("a", 1));
        assertThatThrownBy(() -> deck.setFlags(e, Map.of("bad key", 1)))
                .isInstanceOf(SkyDeckException.InvalidInput.class).hasMessageContaining("bad key");
        assertThatThrownBy(() -> deck.setFlags(e, Map.of("nested", List.of(1))))
                .isInstanceOf(SkyDeckException.InvalidInput.class).hasMessageContaining("nested");
        Experiment after = deck.refresh(e);
        assertThat(after.flags()).isEqualTo(Map.of("a", 1L));
        assertThat(after.version()).isEqualTo(e.version());
    }

    @Test
    void staleUpdateIsAConflictAndDoesNotUndoTheOtherChange() {
        Experiment e = deck.create(ExperimentSpec.named("contended"));
        Experiment started = deck.start(e);
        assertThatThrownBy(() -> deck.update(e.withSpec(e.spec().flag("lr", 0.1))))
                .isInstanceOfSatisfying(SkyDeckException.Conflict.class,
                        c -> assertThat(c.reason()).isEqualTo(SkyDeckException.Conflict.Reason.STALE_VERSION));
        Experiment now = deck.refresh(e);
        assertThat(now.desiredState()).isEqualTo(DesiredState.RUNNING);
        assertThat(now.flags()).doesNotContainKey("lr");
        assertThat(deck.update(started.withSpec(started.spec().flag("lr", 0.1))).flags()).containsKey("lr");
    }

    @Test
    void updateThroughAFunctionRetriesOverConcurrentChanges() {
        Experiment e = deck.create(ExperimentSpec.named("edited"));
        deck.star(e, true);
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        // Someone else edits the description between our read and our write, once: a real stale version.
        Experiment after = deck.update(e, s -> {
            if (calls.incrementAndGet() == 1) {
                deck.update(deck.refresh(e).withSpec(deck.refresh(e).spec().description("theirs")));
            }
            return s.flag("layers", 4);
        });
        assertThat(calls.get()).isEqualTo(2); // the first write was stale and was retried
        assertThat(after.flags()).containsEntry("layers", 4L);
        assertThat(after.spec().description()).isEqualTo("theirs");
        assertThat(after.starred()).isTrue();
    }

    @Test
    void renamingAnExperimentWithAnActiveJobIsRefused() {
        Experiment e = deck.create(ExperimentSpec.named("busy").desired(DesiredState.RUNNING));
        await().until(() -> store.activeJobs().size() == 1);
        assertThatThrownBy(() -> deck.update(e, s -> s.name("renamed")))
                .isInstanceOf(SkyDeckException.Conflict.class).hasMessageContaining("stop it before renaming");
    }

    @Test
    void duplicatePicksFreeCopyNamesStoppedAndInTheSameGroups() {
        Experiment e = deck.create(ExperimentSpec.named("orig").flag("x", true).desired(DesiredState.RUNNING));
        Group g = deck.createGroup(Group.named("sweep").withExperimentIds(List.of(e.id())));
        Experiment copy = deck.duplicate(e, null);
        Experiment copy2 = deck.duplicate(e, null);
        Experiment edited = deck.duplicate(e, "orig-lr", s -> s.flag("lr", 0.5));
        assertThat(copy.name()).isEqualTo("orig.copy");
        assertThat(copy2.name()).isEqualTo("orig.copy2");
        assertThat(copy.desiredState()).isEqualTo(DesiredState.STOPPED);
        assertThat(copy.flags()).isEqualTo(e.flags());
        assertThat(edited.flags()).containsEntry("lr", 0.5).containsEntry("x", true);
        assertThat(deck.group(g.id()).experimentIds()).containsExactly(e.id(), edited.id(), copy2.id(), copy.id());
    }

    @Test
    void everyGroupChangeIsAnEventSoOtherDashboardsRegroup() {
        Experiment a = deck.create(ExperimentSpec.named("a"));
        Group one = deck.createGroup(Group.named("one"));
        Group two = deck.createGroup(Group.named("two"));
        long before = deck.events(new EventQuery(0, null, 1000, false)).size();
        deck.addToGroup(one.id(), List.of(a.id()), false);
        deck.addToGroup(two.id(), List.of(a.id()), true);
        deck.removeFromGroup(one.id(), a.id());
        deck.updateGroup(deck.group(two.id()).withName("renamed"));
        deck.reorderGroups(List.of(two.id(), one.id()));
        List<Event> after = deck.events(new EventQuery(0, null, 1000, false));
        assertThat(after.subList((int) before, after.size())).extracting(Event::message).containsExactly(
                "moved 1 experiment(s) to group one", "added 1 experiment(s) to group two",
                "removed experiment " + a.id() + " from group one", "updated group renamed", "reordered groups");
        assertThat(after.subList((int) before, after.size())).allSatisfy(e -> assertThat(e.experimentId()).isNull());
    }

    @Test
    void twoGroupsCannotShareANameOnCreateOrRename() {
        Group one = deck.createGroup(Group.named("sweep"));
        Group two = deck.createGroup(Group.named("other"));
        assertThatThrownBy(() -> deck.createGroup(Group.named("sweep")))
                .isInstanceOfSatisfying(SkyDeckException.Conflict.class,
                        c -> assertThat(c.reason()).isEqualTo(SkyDeckException.Conflict.Reason.NAME_TAKEN))
                .hasMessageContaining("'sweep' already exists");
        assertThatThrownBy(() -> deck.updateGroup(deck.group(two.id()).withName("sweep")))
                .isInstanceOf(SkyDeckException.Conflict.class).hasMessageContaining("id " + one.id());
        assertThat(deck.groups()).extracting(Group::name).containsExactly("sweep", "other");
        // keeping its own name, or taking a name freed by a deleted group, is fine
        deck.updateGroup(deck.group(one.id()).withCollapsed(true));
        deck.deleteGroup(one.id());
        assertThat(deck.createGroup(Group.named("sweep")).name()).isEqualTo("sweep");
    }

    @Test
    void groupsMoveOrKeepExperimentsWhenAdding() {
        Experiment a = deck.create(ExperimentSpec.named("a"));
        Experiment b = deck.create(ExperimentSpec.named("b"));
        Group one = deck.createGroup(Group.named("one").withExperimentIds(List.of(a.id(), b.id())));
        Group two = deck.createGroup(Group.named("two"));
        deck.addToGroup(two.id(), List.of(a.id()), true);
        assertThat(deck.group(one.id()).experimentIds()).containsExactly(a.id(), b.id());
        assertThat(deck.group(two.id()).experimentIds()).containsExactly(a.id());
        deck.addToGroup(two.id(), List.of(b.id()), false);
        assertThat(deck.group(one.id()).experimentIds()).containsExactly(a.id());
        assertThat(deck.group(two.id()).experimentIds()).containsExactly(a.id(), b.id());
        deck.reorderGroup(two.id(), List.of(b.id(), a.id()));
        assertThat(deck.group(two.id()).experimentIds()).containsExactly(b.id(), a.id());
        assertThatThrownBy(() -> deck.reorderGroup(two.id(), List.of(b.id())))
                .isInstanceOf(SkyDeckException.InvalidInput.class);
        assertThat(deck.reorderGroups(List.of(two.id(), one.id()))).extracting(Group::name).containsExactly("two", "one");
        assertThatThrownBy(() -> deck.addToGroup(one.id(), List.of(999L), false))
                .isInstanceOf(SkyDeckException.NotFound.class).hasMessageContaining("999");
        deck.removeFromGroup(one.id(), a.id());
        deck.deleteGroup(one.id());
        assertThat(deck.groups()).extracting(Group::name).containsExactly("two");
        assertThat(deck.experiments()).hasSize(2);
    }

    @Test
    void bulkActionsReportEveryItemIncludingFailures() {
        Experiment a = deck.create(ExperimentSpec.named("bulk-a"));
        List<BulkResult> results = deck.bulk(BulkAction.START, List.of(a.id(), 4242L));
        assertThat(results).hasSize(2);
        assertThat(results.get(0).ok()).isTrue();
        assertThat(results.get(0).experiment().desiredState()).isEqualTo(DesiredState.RUNNING);
        assertThat(results.get(1).ok()).isFalse();
        assertThat(results.get(1).message()).contains("4242");
    }

    @Test
    void deleteAndUndeleteRoundTrip() {
        Experiment e = deck.create(ExperimentSpec.named("undo-me"));
        deck.delete(e);
        assertThat(deck.experiments()).isEmpty();
        assertThatThrownBy(() -> deck.start(e)).isInstanceOf(SkyDeckException.Conflict.class)
                .hasMessageContaining("undelete");
        deck.undelete(e);
        assertThat(deck.experiments()).extracting(Experiment::name).containsExactly("undo-me");
        deck.delete(e);
        deck.create(ExperimentSpec.named("undo-me"));
        assertThatThrownBy(() -> deck.undelete(e)).isInstanceOf(SkyDeckException.Conflict.class);
    }

    @Test
    void settingsAreStoredAndValidated() {
        deck.putSetting("ui.theme", "dark");
        assertThat(deck.setting("ui.theme")).contains("dark");
        assertThatThrownBy(() -> deck.putSetting("bad key", "x")).isInstanceOf(SkyDeckException.InvalidInput.class);
    }

    @Test
    void unknownExperimentsAndJobsAreNotFound() {
        assertThatThrownBy(() -> deck.experiment("nope")).isInstanceOf(SkyDeckException.NotFound.class)
                .hasMessageContaining("nope");
        assertThatThrownBy(() -> deck.job("j-nope")).isInstanceOf(SkyDeckException.NotFound.class);
        assertThatThrownBy(() -> deck.experiment(77L)).isInstanceOf(SkyDeckException.NotFound.class);
    }

    @Test
    void healthNamesTheBackendAndCounts() {
        deck.create(ExperimentSpec.named("h"));
        Health h = deck.health();
        assertThat(h.backendKind()).isEqualTo("fake");
        assertThat(h.backendReason()).isEqualTo("given to the builder");
        assertThat(h.experiments()).isEqualTo(1);
        assertThat(h.version()).isEqualTo(SkyDeck.VERSION);
    }

    @Test
    void anUnknownBackendNameIsRefusedNamingTheSetting() {
        assertThatThrownBy(() -> SkyDeck.builder().store(new InMemoryStore()).backend("kubernetes").build())
                .isInstanceOf(SkyDeckException.InvalidInput.class).hasMessageContaining("kubernetes")
                .hasMessageContaining("local, auto");
    }
}
