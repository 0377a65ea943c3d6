package dev.skydeck.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.skydeck.Actor;
import dev.skydeck.Event;
import dev.skydeck.EventQuery;
import dev.skydeck.EventType;
import dev.skydeck.ExperimentQuery;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.SkyDeckException;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** What only a database server has: credentials, other processes on the same database, its constraints. */
class PostgresSpecificTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void thePasswordNeverAppearsInItsNameOrItsErrors() throws Exception {
        String url = EmbeddedPg.newDatabase() + "&password=hunter2-secret";
        try (PostgresStore store = PostgresStore.open(url)) {
            assertThat(store.describe()).doesNotContain("hunter2").contains("postgresql://localhost:");
        }
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        String nowhere = "jdbc:postgresql://127.0.0.1:" + closed + "/deck?user=postgres&password=hunter2-secret";
        assertThatThrownBy(() -> PostgresStore.builder(nowhere).connectTimeout(Duration.ofSeconds(2)).open())
                .isInstanceOf(SkyDeckException.class)
                .hasMessageContaining("127.0.0.1:" + closed)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2"));
    }

    @Test
    void credentialsMayComeFromTheEnvironment() {
        String url = EmbeddedPg.newDatabase().replace("?user=postgres", "");
        try (PostgresStore store = PostgresStore.builder(url).environment(Map.of("PGUSER", "postgres")).open()) {
            store.write(tx -> tx.insertExperiment(ExperimentSpec.named("from-env"), T0));
            assertThat(store.experimentByName("from-env")).isPresent();
        }
        assertThatThrownBy(() -> PostgresStore.builder(url).environment(Map.of("PGUSER", "nobody-here")).open())
                .isInstanceOf(SkyDeckException.class).hasMessageContaining("nobody-here");
    }

    @Test
    void twoProcessesOnOneDatabaseSeeEachOthersCommitsAndShareOneGaplessEventOrder() throws Exception {
        String url = EmbeddedPg.newDatabase();
        try (PostgresStore a = PostgresStore.open(url); PostgresStore b = PostgresStore.open(url)) {
            AtomicInteger woken = new AtomicInteger();
            try (var sub = b.onExternalCommit(woken::incrementAndGet)) {
                a.write(tx -> {
                    tx.insertExperiment(ExperimentSpec.named("from-a"), T0);
                    return tx.appendEvents(List.of(new Event(0, T0, Actor.USER, EventType.CREATE, null,
                            "from-a", null, true, "created", null)));
                });
                await().atMost(Duration.ofSeconds(10)).until(() -> woken.get() > 0);
                assertThat(b.experimentByName("from-a")).isPresent();

                ExecutorService pool = Executors.newFixedThreadPool(8);
                List<Future<?>> done = new ArrayList<>();
                for (int w = 0; w < 8; w++) {
                    PostgresStore store = w % 2 == 0 ? a : b;
                    int writer = w;
                    done.add(pool.submit(() -> {
                        for (int i = 0; i < 25; i++) {
                            String name = "w" + writer + "." + i;
                            store.write(tx -> tx.appendEvents(List.of(new Event(0, T0, Actor.USER,
                                    EventType.UPDATE, null, name, null, true, "changed", null))));
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(60, TimeUnit.SECONDS);
                }
                pool.shutdown();
            }
            List<Event> events = b.events(new EventQuery(0, null, 1000, false));
            assertThat(events).hasSize(201);
            for (int i = 0; i < events.size(); i++) {
                assertThat(events.get(i).seq()).as("gapless, in commit order").isEqualTo(i + 1);
            }
        }
    }

    @Test
    void theOneActiveJobAndLiveNameRulesAreTheDatabasesOwn() throws Exception {
        String url = EmbeddedPg.newDatabase();
        try (PostgresStore store = PostgresStore.open(url)) {
            store.write(tx -> tx.insertExperiment(ExperimentSpec.named("taken"), T0));
        }
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            assertThatThrownBy(() -> st.executeUpdate("INSERT INTO experiments SELECT id + 1, name, flags, base_command,"
                    + " tool_path, git_branch, nodes, gpus, cloud, region, instance_type, accelerator, spot, pool,"
                    + " desired_state, restart_mode, max_restarts, restart_backoff_nanos, restart_max_backoff_nanos,"
                    + " priority, description, tags, task_template, starred, sort_order, expanded, deleted,"
                    + " created_at, updated_at, version, generation, stage, state_reason, observed_generation,"
                    + " observed_desired, launch_retries, next_attempt_at, settled, created_by, started_by, run_name"
                    + " FROM experiments")).hasMessageContaining("experiments_live_name");
        }
    }

    @Test
    void sortedFilteredPagesFacetsAndGroupSummariesCostTheSameStatementsWhateverTheRows() {
        try (PostgresStore store = PostgresStore.open(EmbeddedPg.newDatabase())) {
            ExperimentQuery q = ExperimentQuery.ALL.withText("e").withFlag("lr", java.util.List.of("0.1", "~"))
                    .sortedByFlag("seed", true).page(100, 0);
            java.util.List<Long> counts = new java.util.ArrayList<>();
            for (int n : new int[] {10, 500}) {
                store.write(tx -> {
                    java.util.List<Long> ids = new java.util.ArrayList<>();
                    for (int i = 0; i < n; i++) {
                        ids.add(tx.insertExperiment(ExperimentSpec.named("e" + n + "-" + i).flag("lr", i % 3 * 0.1)
                                .flag("seed", (long) i), T0).id());
                    }
                    tx.insertGroup(dev.skydeck.Group.named("g" + n).withExperimentIds(ids));
                    return null;
                });
                for (ExperimentQuery.Sort sort : ExperimentQuery.Sort.values()) {
                    ExperimentQuery sorted = sort == ExperimentQuery.Sort.FLAG ? q : q.sortedBy(sort, true);
                    long before = store.statementCount();
                    assertThat(store.experiments(sorted.inGroup(1L)).total()).isPositive();
                    counts.add(store.statementCount() - before);
                }
                long before = store.statementCount();
                assertThat(store.experimentFacets(q, 5).flags()).isNotEmpty();
                store.groupSummaries();
                counts.add(store.statementCount() - before);
                before = store.statementCount();
                assertThat(store.experimentFacets(ExperimentQuery.ALL, 5).flags()).hasSize(2);
                counts.add(store.statementCount() - before);
            }
            int half = counts.size() / 2;
            assertThat(counts.subList(half, counts.size())).isEqualTo(counts.subList(0, half));
            assertThat(counts.subList(0, half - 2)).containsOnly(2L);
            assertThat(counts.subList(half - 2, half)).containsExactly(8L, 4L);
        }
    }

    @Test
    void flagCountsSortOrdersAndTheTextIndexAreBackfilledFromADatabaseOfVersionTwo() throws Exception {
        String url = EmbeddedPg.newDatabase();
        try (PostgresStore store = PostgresStore.open(url)) {
            store.write(tx -> {
                dev.skydeck.Experiment a = tx.insertExperiment(ExperimentSpec.named("a").flag("lr", 0.1)
                        .flag("model", "llama"), T0);
                dev.skydeck.Experiment b = tx.insertExperiment(ExperimentSpec.named("b").flag("lr", 0.1), T0);
                dev.skydeck.Experiment gone = tx.insertExperiment(ExperimentSpec.named("gone").flag("lr", 0.2), T0);
                tx.updateExperiment(gone.withDeleted(true), T0);
                tx.reorderExperiments(List.of(b.id(), a.id(), gone.id()));
                return null;
            });
        }
        // the database as version 2 left it: no counts, no sort orders on the flag rows, no text
        // index, no versions 3 to 5 in the history
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            st.execute("DROP TRIGGER experiments_count_flags ON experiments");
            st.execute("DROP TABLE flag_values, flag_names");
            st.execute("DROP FUNCTION skydeck_flag_counts, skydeck_flag_value_vals");
            st.execute("DROP INDEX experiments_live_desired");
            st.execute("ALTER TABLE experiment_flags DROP COLUMN sort_order");
            st.execute("CREATE INDEX experiment_flags_sort ON experiment_flags (name, (value_num IS NULL), value_num,"
                    + " value_text)");
            st.execute("DROP INDEX experiments_search_trgm");
            st.execute("DELETE FROM flyway_schema_history WHERE version IN ('3', '4', '5')");
        }

        try (PostgresStore store = PostgresStore.open(url)) {
            // a and b tie on lr: the user's order (b first) breaks the tie
            assertThat(store.experiments(ExperimentQuery.ALL.sortedByFlag("lr", false)).items())
                    .extracting(dev.skydeck.Experiment::name).containsExactly("b", "a");
            try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement();
                    var rs = st.executeQuery("SELECT (SELECT count(*) FROM pg_indexes WHERE indexname ="
                            + " 'experiments_search_trgm'), (SELECT string_agg(e.name || '=' || f.sort_order, ','"
                            + " ORDER BY e.name, f.name) FROM experiment_flags f JOIN experiments e"
                            + " ON e.id = f.experiment_id)")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(1);
                assertThat(rs.getString(2)).isEqualTo("a=1,a=1,b=0,gone=2");
            }
            assertThat(store.experiments(ExperimentQuery.ALL.withText("llam")).items())
                    .extracting(dev.skydeck.Experiment::name).containsExactly("a");
            ExperimentQuery everyState = ExperimentQuery.ALL.withStates(java.util.EnumSet.allOf(dev.skydeck.JobStatus.class));
            assertThat(store.experimentFacets(ExperimentQuery.ALL, 5).flags())
                    .isEqualTo(store.experimentFacets(everyState, 5).flags())
                    .extracting(dev.skydeck.ExperimentFacets.FlagFacet::count).containsExactly(2L, 1L);
            store.write(tx -> tx.insertExperiment(ExperimentSpec.named("c").flag("lr", 0.3), T0));
            assertThat(store.experimentFacets(ExperimentQuery.ALL, 5).flags())
                    .isEqualTo(store.experimentFacets(everyState, 5).flags());
        }
    }

    @Test
    void aPageCostsTheSameStatementsForTenExperimentsAsForAThousand() {
        try (PostgresStore store = PostgresStore.open(EmbeddedPg.newDatabase())) {
            store.write(tx -> {
                for (int i = 0; i < 1000; i++) {
                    tx.insertExperiment(ExperimentSpec.named("e" + i).flag("lr", 0.001 * i), T0);
                }
                return null;
            });
            long before = store.statementCount();
            assertThat(store.experiments(ExperimentQuery.ALL.page(10, 0)).items()).hasSize(10);
            long ten = store.statementCount() - before;
            before = store.statementCount();
            assertThat(store.experiments(ExperimentQuery.ALL).items()).hasSize(1000);
            long thousand = store.statementCount() - before;
            assertThat(thousand).isEqualTo(ten).isLessThanOrEqualTo(3);
        }
    }

    @Test
    void aProcessStuckInsideAWriteDoesNotHoldTheWriteLockForEver() throws Exception {
        String url = EmbeddedPg.newDatabase();
        try (PostgresStore frozen = PostgresStore.open(url); PostgresStore other = PostgresStore.open(url)) {
            java.util.concurrent.CountDownLatch inside = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch wake = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CompletableFuture<Object> stuck = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> frozen.write(tx -> {
                        tx.insertExperiment(ExperimentSpec.named("never"), T0);
                        inside.countDown();
                        try {
                            wake.await(); // a paused process: its session idles inside the transaction
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        return tx.insertExperiment(ExperimentSpec.named("never.2"), T0);
                    }));
            assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();
            long t0 = System.nanoTime();
            other.write(tx -> tx.insertExperiment(ExperimentSpec.named("goes.on"), T0));
            double waited = (System.nanoTime() - t0) / 1e9;
            assertThat(waited).as("seconds the other writer waited").isLessThan(15);
            wake.countDown();
            assertThatThrownBy(stuck::join).hasCauseInstanceOf(SkyDeckException.class);
            assertThat(other.experimentByName("goes.on")).isPresent();
            assertThat(other.experimentByName("never")).isEmpty();
        }
    }
}
