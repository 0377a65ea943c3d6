package dev.skydeck.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.skydeck.Actor;
import dev.skydeck.Checkpoint;
import dev.skydeck.Event;
import dev.skydeck.EventType;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentFacets;
import dev.skydeck.ExperimentQuery;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.Group;
import dev.skydeck.Job;
import dev.skydeck.JobQuery;
import dev.skydeck.JobStatus;
import dev.skydeck.Page;
import dev.skydeck.SkyDeckException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What only a SQLite file can show: migrations, the file on disk, several stores on one file, statement counts. */
class SqliteStoreFileTest {
    private static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");

    @TempDir
    Path dir;

    private final List<SqliteStore> opened = new ArrayList<>();

    @AfterEach
    void closeAll() {
        opened.forEach(SqliteStore::close);
    }

    private SqliteStore open(Path file) {
        SqliteStore store = SqliteStore.open(file);
        opened.add(store);
        return store;
    }

    private Path file() {
        return dir.resolve("skydeck.db");
    }

    /**
     * The specs a store keeps are those of committed rows: an update that rolled back in this
     * store leaves nothing that a later commit of the same version number, by another process on
     * the file, could be mistaken for.
     */
    @Test
    void aVersionRolledBackHereAndCommittedElsewhereReadsAsCommitted() {
        SqliteStore here = open(file());
        SqliteStore elsewhere = open(file());
        Experiment e = here.write(tx -> tx.insertExperiment(ExperimentSpec.named("a").description("first"), T0));
        assertThat(here.experiment(e.id()).orElseThrow().spec().description()).isEqualTo("first");
        assertThatThrownBy(() -> here.write(tx -> {
            tx.updateExperiment(e.withSpec(e.spec().description("rolled back")), T0.plusSeconds(1));
            assertThat(tx.experiment(e.id()).orElseThrow().spec().description()).isEqualTo("rolled back");
            throw new IllegalStateException("abort");
        })).hasMessage("abort");
        Experiment theirs = elsewhere.write(tx -> tx.updateExperiment(elsewhere.experiment(e.id()).orElseThrow()
                .withSpec(e.spec().description("committed elsewhere")), T0.plusSeconds(2)));
        assertThat(theirs.version()).isEqualTo(2);

        assertThat(here.experiment(e.id()).orElseThrow().spec().description()).isEqualTo("committed elsewhere");
        assertThat(here.experiments(ExperimentQuery.ALL).items()).singleElement()
                .satisfies(x -> assertThat(x.spec()).isEqualTo(theirs.spec()));
    }

    private static Job launched(String id, String experiment, JobStatus status, Instant createdAt) {
        return new Job(id, experiment, "local", null, id, null, status, null, null, null, null, null, 1, 1, null, null, 1,
                0, null, null, null, createdAt, null, null, null, null, 0, null, null, null, null, null);
    }

    /**
     * An INSERT of an experiment row as an older schema takes it: the columns every version
     * requires, then {@code more} (column to SQL literal) for those of later versions.
     */
    private static String rawExperiment(long id, String name, String flagsJson, String description, int order,
                                        int deleted, Map<String, String> more) {
        StringBuilder columns = new StringBuilder("id, name, flags, base_command, nodes, gpus, spot, desired_state,"
                + " restart_mode, max_restarts, restart_backoff_nanos, restart_max_backoff_nanos, priority, description,"
                + " tags, starred, sort_order, expanded, deleted, created_at, updated_at, version, generation,"
                + " observed_generation, launch_retries, settled");
        StringBuilder values = new StringBuilder("%d, '%s', '%s', 'lt', 1, 0, 0, 'STOPPED', 'NEVER', 0, 0, 0, 0, '%s',"
                .formatted(id, name, flagsJson, description)
                + " '[]', 0, %d, 0, %d, 1, 1, 1, 1, 0, 0, 0".formatted(order, deleted));
        more.forEach((column, literal) -> {
            columns.append(", ").append(column);
            values.append(", ").append(literal);
        });
        return "INSERT INTO experiments (" + columns + ") VALUES (" + values + ")";
    }

    private static List<String> rawStrings(Path file, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            List<String> out = new ArrayList<>();
            while (rs.next()) {
                out.add(rs.getString(1));
            }
            return out;
        }
    }

    @Test
    void anEmptyFileIsMigratedToTheCurrentSchema() throws Exception {
        Files.createFile(file());

        open(file());

        assertThat(rawStrings(file(), "SELECT name FROM sqlite_master WHERE type = 'table'"))
                .contains("experiments", "jobs", "experiment_groups", "group_members", "checkpoints", "events",
                        "settings", "flyway_schema_history");
        assertThat(rawStrings(file(), "SELECT version FROM flyway_schema_history WHERE success = 1"))
                .containsExactly("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11");
        // V2: listing experiments reads each one's newest job status from the index alone
        assertThat(rawStrings(file(), "SELECT sql FROM sqlite_master WHERE name = 'jobs_experiment'"))
                .singleElement().asString().contains("status");
    }

    @Test
    void aMissingFileAndItsDirectoriesAreCreated() {
        Path nested = dir.resolve("a/b/skydeck.db");

        SqliteStore store = open(nested);

        assertThat(nested).exists();
        assertThat(store.describe()).isEqualTo("sqlite:" + nested.toAbsolutePath());
    }

    @Test
    void theDatabaseIsInWalMode() throws Exception {
        open(file());

        assertThat(rawStrings(file(), "PRAGMA journal_mode")).containsExactly("wal");
    }

    @Test
    void reopeningAMigratedFileKeepsItsData() {
        SqliteStore first = open(file());
        Experiment e = first.write(tx -> tx.insertExperiment(ExperimentSpec.named("kept").flag("n", 4), T0));
        Job j = first.write(tx -> tx.insertJob(launched("j1", "kept", JobStatus.RUNNING, T0)));
        Group g = first.write(tx -> tx.insertGroup(Group.named("g").withExperimentIds(List.of(e.id()))));
        Checkpoint cp = new Checkpoint(e.id(), 3, "s3://b/model_3.pt", List.of("s3://b/r.bin"), "v3", 9, T0, T0, null);
        Event ev = first.write(tx -> {
            tx.upsertCheckpoint(cp);
            tx.putSetting("theme", "dark");
            return tx.appendEvent(Event.draft(T0, Actor.USER, EventType.CREATE, e, null, true, "created", null));
        });
        first.close();

        SqliteStore second = open(file());

        Experiment read = second.experiment(e.id()).orElseThrow();
        assertThat(read.spec()).isEqualTo(e.spec());
        assertThat(read.flags().get("n")).isEqualTo(4L);
        assertThat(read.currentState()).isEqualTo(JobStatus.RUNNING);
        assertThat(read.latestEpoch()).isEqualTo(3L);
        assertThat(second.job("j1")).contains(j);
        assertThat(second.groups()).containsExactly(g);
        assertThat(second.checkpoints(e.id(), 10)).containsExactly(cp);
        assertThat(second.events(dev.skydeck.EventQuery.latest(10))).containsExactly(ev);
        assertThat(second.setting("theme")).contains("dark");
    }

    @Test
    void aPageOfExperimentsCostsTheSameStatementsWhateverItsSize() {
        SqliteStore store = open(file());
        store.write(tx -> {
            for (int i = 0; i < 500; i++) {
                Experiment e = tx.insertExperiment(ExperimentSpec.named("e" + i).flag("lr", 0.1).flag("n", i), T0);
                tx.insertJob(launched("e" + i + "-1", e.name(), JobStatus.FAILED, T0));
                tx.insertJob(launched("e" + i + "-2", e.name(), JobStatus.RUNNING, T0.plusSeconds(1)));
                tx.upsertCheckpoint(new Checkpoint(e.id(), 1, "s3://b/m.pt", List.of(), null, 1, T0, T0, null));
            }
            tx.insertGroup(Group.named("all").withExperimentIds(
                    tx.experiments(ExperimentQuery.ALL).items().stream().map(Experiment::id).toList()));
            return null;
        });

        long small = statementsFor(store, () -> store.experiments(ExperimentQuery.ALL.page(10, 0)));
        long large = statementsFor(store, () -> store.experiments(ExperimentQuery.ALL.page(500, 0)));
        long filtered = statementsFor(store, () -> store.experiments(ExperimentQuery.ALL.withState(JobStatus.RUNNING)));

        assertThat(small).isEqualTo(large).isEqualTo(filtered).isEqualTo(2);
        assertThat(store.experiments(ExperimentQuery.ALL.page(500, 0)).items())
                .allSatisfy(e -> {
                    assertThat(e.currentState()).isEqualTo(JobStatus.RUNNING);
                    assertThat(e.latestEpoch()).isEqualTo(1L);
                });
    }

    @Test
    void jobPagesAndGroupsCostTheSameStatementsWhateverTheirSize() {
        SqliteStore store = open(file());
        store.write(tx -> {
            for (int i = 0; i < 300; i++) {
                Experiment e = tx.insertExperiment(ExperimentSpec.named("e" + i), T0);
                tx.insertJob(launched("j" + i, e.name(), JobStatus.RUNNING, T0.plusSeconds(i)));
                tx.insertGroup(Group.named("g" + i).withExperimentIds(List.of(e.id())));
            }
            return null;
        });

        long smallJobs = statementsFor(store, () -> store.jobs(new JobQuery(null, null, false, null, 5, 0)));
        long largeJobs = statementsFor(store, () -> store.jobs(new JobQuery(null, null, false, null, 300, 0)));
        long groups = statementsFor(store, store::groups);
        long byBackend = statementsFor(store, () -> store.jobsByBackendId("local",
                java.util.stream.IntStream.range(0, 300).mapToObj(Integer::toString).toList()));

        assertThat(smallJobs).isEqualTo(largeJobs).isEqualTo(2);
        assertThat(groups).isEqualTo(1);
        assertThat(byBackend).isEqualTo(1);
        assertThat(store.groups()).hasSize(300);
    }

    private static long statementsFor(SqliteStore store, Runnable read) {
        long before = store.statementCount();
        read.run();
        return store.statementCount() - before;
    }

    @Test
    void twoStoresOnOneFileWriteConcurrentlyWithoutLosingAnUpdate() throws Exception {
        SqliteStore a = open(file());
        SqliteStore b = open(file());
        Experiment e = a.write(tx -> tx.insertExperiment(ExperimentSpec.named("counter").flag("n", 0), T0));
        int threadsPerStore = 4;
        int writesEach = 25;
        ExecutorService pool = Executors.newFixedThreadPool(2 * threadsPerStore);
        try {
            List<Callable<Void>> work = new ArrayList<>();
            for (SqliteStore store : List.of(a, b)) {
                for (int t = 0; t < threadsPerStore; t++) {
                    work.add(() -> {
                        for (int i = 0; i < writesEach; i++) {
                            store.write(tx -> {
                                Experiment cur = tx.experiment(e.id()).orElseThrow();
                                long n = (Long) cur.flags().get("n");
                                tx.appendEvent(Event.draft(T0, Actor.USER, EventType.UPDATE, cur, null, true,
                                        "n=" + (n + 1), null));
                                return tx.updateExperiment(cur.withSpec(cur.spec().flag("n", n + 1)), T0);
                            });
                        }
                        return null;
                    });
                }
            }
            for (Future<Void> f : pool.invokeAll(work)) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }

        long total = 2L * threadsPerStore * writesEach;
        assertThat(b.experiment(e.id()).orElseThrow().flags().get("n")).isEqualTo(total);
        assertThat(a.lastEventSeq()).isEqualTo(total);
    }

    @Test
    void twoStoresOnOneFileCannotLaunchTwice() {
        SqliteStore a = open(file());
        SqliteStore b = open(file());
        a.write(tx -> tx.insertJob(launched("first", "x", JobStatus.INIT, T0)));

        assertThatThrownBy(() -> b.write(tx -> tx.insertJob(launched("second", "x", JobStatus.INIT, T0))))
                .isInstanceOf(SkyDeckException.Conflict.class);
    }

    @Test
    void theOneActiveLaunchRuleHoldsForRawInserts() throws Exception {
        open(file());
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file());
             Statement st = c.createStatement()) {
            String insert = "INSERT INTO jobs (id, experiment_name, backend, launch_id, status, stage, stage_since,"
                    + " attempt, generation, command, flags, nodes, gpus, res_spot, created_at, recovery_count,"
                    + " updated_at) VALUES ('%s', 'x', 'local', '%s', '%s', 'RUNNING', 0, 1, 1, '[]', '{}', 1, 0, 0,"
                    + " 0, 0, 0)";
            st.executeUpdate(insert.formatted("a", "la", "RUNNING"));
            st.executeUpdate(insert.formatted("manual", null, "RUNNING").replace("'null'", "NULL"));

            assertThatThrownBy(() -> st.executeUpdate(insert.formatted("b", "lb", "PENDING")))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("UNIQUE constraint failed: jobs.experiment_name");
            st.executeUpdate("UPDATE jobs SET status = 'SUCCEEDED' WHERE id = 'a'");
            st.executeUpdate(insert.formatted("b", "lb", "PENDING"));
        }
    }

    @Test
    void experimentsOfSchemaSixAreIndexedForPagedQueriesWhenTheStoreOpens() throws Exception {
        org.flywaydb.core.Flyway.configure().dataSource("jdbc:sqlite:" + file(), null, null)
                .locations("classpath:db/migration").target("6").load().migrate();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file());
             Statement st = c.createStatement()) {
            st.executeUpdate(rawExperiment(1, "old-a", "{\"lr\":0.1,\"model\":\"Llama\"}", "first", 0, 0, Map.of()));
            st.executeUpdate(rawExperiment(2, "old-b", "{\"lr\":0.25}", "second", 1, 0, Map.of()));
            st.executeUpdate("INSERT INTO jobs (id, experiment_name, backend, status, stage, stage_since, attempt,"
                    + " generation, command, flags, nodes, gpus, res_spot, created_at, started_at, recovery_count,"
                    + " updated_at) VALUES ('j1', 'old-b', 'local', 'RUNNING', 'RUNNING', 1, 1, 1, '[]', '{}', 1, 0,"
                    + " 0, 5, 7, 0, 5)");
            st.executeUpdate("INSERT INTO checkpoints (experiment_id, epoch, model_path, replay_paths, size_bytes)"
                    + " VALUES (1, 4, 's3://b/m', '[]', 1)");
        }

        SqliteStore store = open(file());

        assertThat(store.experiments(ExperimentQuery.ALL.withFlag("lr", List.of("0.1"))).items())
                .extracting(Experiment::name).containsExactly("old-a");
        assertThat(store.experiments(ExperimentQuery.ALL.withText("LLAMA")).items())
                .extracting(Experiment::name).containsExactly("old-a");
        assertThat(store.experiments(ExperimentQuery.ALL.withState(JobStatus.RUNNING)).items())
                .extracting(Experiment::name).containsExactly("old-b");
        assertThat(store.experiments(ExperimentQuery.ALL.sortedBy(ExperimentQuery.Sort.EPOCH, true)).items())
                .extracting(Experiment::name).containsExactly("old-a", "old-b");
        assertThat(store.experiments(ExperimentQuery.ALL.sortedBy(ExperimentQuery.Sort.STARTED_AT, false)).items())
                .extracting(Experiment::name).containsExactly("old-b", "old-a");
        assertThat(store.experimentFacets(ExperimentQuery.ALL, 10).flags()).containsExactly(
                new ExperimentFacets.FlagFacet("lr", 2, 2, false,
                        List.of(new ExperimentFacets.ValueCount("0.1", 1), new ExperimentFacets.ValueCount("0.25", 1))),
                new ExperimentFacets.FlagFacet("model", 1, 1, false, List.of(new ExperimentFacets.ValueCount("Llama", 1))));
    }

    @Test
    void flagRowsOfSchemaNineTakeTheirSortOrderAndTheirTextIsIndexedWhenTheStoreOpens() throws Exception {
        org.flywaydb.core.Flyway.configure().dataSource("jdbc:sqlite:" + file(), null, null)
                .locations("classpath:db/migration").target("9").load().migrate();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file());
             Statement st = c.createStatement()) {
            st.executeUpdate(rawExperiment(1, "a", "{\"lr\":0.1}", "", 7, 0, Map.of("flag_index",
                    "'[[\"lr\",\"0.1\",0.1,\"0.1\"]]'", "search_text", "'a\nfirst words\n0.1'")));
            st.executeUpdate(rawExperiment(2, "b", "{\"lr\":0.1}", "", 3, 0, Map.of("flag_index",
                    "'[[\"lr\",\"0.1\",0.1,\"0.1\"]]'", "search_text", "'b\nsecond words\n0.1'")));
        }

        SqliteStore store = open(file());

        assertThat(rawStrings(file(), "SELECT f.experiment_id || '=' || f.sort_order FROM experiment_flags f"
                + " ORDER BY f.experiment_id")).containsExactly("1=7", "2=3");
        assertThat(store.experiments(ExperimentQuery.ALL.withText("second wor")).items())
                .extracting(Experiment::name).containsExactly("b");
        assertThat(rawStrings(file(), "SELECT rowid FROM experiment_search WHERE experiment_search MATCH '\"words\"'"
                + " ORDER BY rowid")).containsExactly("1", "2");
        store.write(tx -> {
            tx.reorderExperiments(List.of(1L, 2L));
            return null;
        });
        assertThat(rawStrings(file(), "SELECT f.experiment_id || '=' || f.sort_order FROM experiment_flags f"
                + " ORDER BY f.experiment_id")).containsExactly("1=0", "2=1");
    }

    @Test
    void flagCountsOfSchemaEightAreBackfilledAndKeptFromThen() throws Exception {
        org.flywaydb.core.Flyway.configure().dataSource("jdbc:sqlite:" + file(), null, null)
                .locations("classpath:db/migration").target("8").load().migrate();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file());
             Statement st = c.createStatement()) {
            // flag_index as the store of version 8 writes it: [name, text, number, JSON] per flag
            st.executeUpdate(rawExperiment(1, "a", "{\"lr\":0.1,\"model\":\"llama\"}", "", 0, 0, Map.of("flag_index",
                    "'[[\"lr\",\"0.1\",0.1,\"0.1\"],[\"model\",\"llama\",null,\"\\\"llama\\\"\"]]'", "search_text", "'a'")));
            st.executeUpdate(rawExperiment(2, "b", "{\"lr\":0.1}", "", 1, 0,
                    Map.of("flag_index", "'[[\"lr\",\"0.1\",0.1,\"0.1\"]]'", "search_text", "'b'")));
            st.executeUpdate(rawExperiment(3, "gone", "{\"lr\":0.2}", "", 2, 1,
                    Map.of("flag_index", "'[[\"lr\",\"0.2\",0.2,\"0.2\"]]'", "search_text", "'gone'")));
        }

        SqliteStore store = open(file());

        ExperimentFacets.FlagFacet lr = new ExperimentFacets.FlagFacet("lr", 2, 1, false,
                List.of(new ExperimentFacets.ValueCount("0.1", 2)));
        assertThat(store.experimentFacets(ExperimentQuery.ALL, 10).flags()).containsExactly(lr,
                new ExperimentFacets.FlagFacet("model", 1, 1, false, List.of(new ExperimentFacets.ValueCount("llama", 1))));
        Experiment gone = store.experiments(ExperimentQuery.ALL.withDeleted(true)).items().stream()
                .filter(Experiment::deleted).findFirst().orElseThrow();
        store.write(tx -> tx.updateExperiment(gone.withDeleted(false), T0));
        assertThat(store.experimentFacets(ExperimentQuery.ALL, 10).flags().get(0)).isEqualTo(
                new ExperimentFacets.FlagFacet("lr", 3, 2, false,
                        List.of(new ExperimentFacets.ValueCount("0.1", 2), new ExperimentFacets.ValueCount("0.2", 1))));
    }

    @Test
    void pagedQueriesFacetsAndGroupSummariesCostTheSameStatementsWhateverTheNumberOfRows() {
        SqliteStore store = open(file());
        java.util.function.IntConsumer fill = n -> store.write(tx -> {
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Experiment e = tx.insertExperiment(ExperimentSpec.named("e" + n + "-" + i).flag("lr", i % 3 * 0.1)
                        .flag("seed", (long) i).flag("model", i % 2 == 0 ? "llama" : "gpt"), T0);
                tx.insertJob(launched("j" + n + "-" + i, e.name(), i % 4 == 0 ? JobStatus.FAILED : JobStatus.RUNNING,
                        T0.plusSeconds(i)));
                ids.add(e.id());
            }
            tx.insertGroup(Group.named("g" + n).withExperimentIds(ids.subList(0, n / 2)));
            return null;
        });
        ExperimentQuery q = ExperimentQuery.ALL.withText("e").withStates(List.of(JobStatus.FAILED, JobStatus.RUNNING))
                .withFlag("lr", List.of("0.1", ExperimentQuery.MISSING)).withFlag("model", List.of("llama"))
                .sortedByFlag("seed", true).page(100, 0);
        List<Long> counts = new ArrayList<>();
        for (int n : new int[] {10, 400}) {
            fill.accept(n);
            for (ExperimentQuery.Sort sort : ExperimentQuery.Sort.values()) {
                ExperimentQuery sorted = sort == ExperimentQuery.Sort.FLAG ? q : q.sortedBy(sort, false);
                counts.add(statementsFor(store, () -> store.experiments(sorted)));
                counts.add(statementsFor(store, () -> store.experiments(sorted.inGroup(1L))));
            }
            counts.add(statementsFor(store, () -> store.experimentFacets(q, 50)));
            counts.add(statementsFor(store, () -> store.experimentFacets(ExperimentQuery.ALL, 50)));
            counts.add(statementsFor(store, store::groupSummaries));
        }

        int perRound = counts.size() / 2;
        assertThat(counts.subList(perRound, counts.size())).isEqualTo(counts.subList(0, perRound));
        assertThat(counts.subList(0, perRound - 3)).containsOnly(2L);
        assertThat(counts.subList(perRound - 3, perRound)).containsExactly(4L, 4L, 4L);
        assertThat(store.experiments(q).total()).isPositive();
    }

    @Test
    void pagesFilteredByManyStatesAreTheSameWhicheverIndexFindsThem() {
        SqliteStore store = open(file());
        JobStatus[] cycle = {JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.SUCCEEDED, JobStatus.RUNNING};
        store.write(tx -> {
            for (int i = 0; i < 12_000; i++) {
                // names not in creation order, so a sort by name differs from the user's order
                Experiment e = tx.insertExperiment(ExperimentSpec.named("x" + (i * 7_919 % 12_000)), T0);
                if (i % 5 != 4) {
                    tx.insertJob(launched("j" + i, e.name(), cycle[i % 4], T0.plusSeconds(i % 97)));
                }
            }
            return null;
        });
        List<Experiment> every = store.experiments(ExperimentQuery.ALL.page(10_000, 0)).items();
        List<Experiment> rest = store.experiments(ExperimentQuery.ALL.page(10_000, 10_000)).items();
        List<Experiment> all = new ArrayList<>(every);
        all.addAll(rest);
        for (List<JobStatus> states : List.of(List.of(JobStatus.FAILED, JobStatus.CANCELLED), List.of(JobStatus.RUNNING),
                List.of(JobStatus.INIT, JobStatus.SUCCEEDED))) {
            List<String> expected = all.stream().filter(e -> states.contains(e.currentState()))
                    .sorted(java.util.Comparator.comparing((Experiment e) -> e.name()).reversed())
                    .map(Experiment::name).toList();
            // thousands match: the page follows the name index; a few hundred past the end: none
            Page<Experiment> page = store.experiments(ExperimentQuery.ALL.withStates(states)
                    .sortedBy(ExperimentQuery.Sort.NAME, true).page(50, 1_000));
            assertThat(page.total()).isEqualTo(expected.size()).isGreaterThanOrEqualTo(2_400);
            assertThat(page.items()).extracting(Experiment::name).isEqualTo(expected.subList(1_000, 1_050));
            Page<Experiment> beyond = store.experiments(ExperimentQuery.ALL.withStates(states)
                    .sortedBy(ExperimentQuery.Sort.NAME, true).page(50, expected.size()));
            assertThat(beyond.items()).isEmpty();
            assertThat(beyond.total()).isEqualTo(expected.size());
        }
        // few match (under the threshold): read from the state index and sorted
        Page<Experiment> few = store.experiments(ExperimentQuery.ALL.withStates(List.of(JobStatus.RUNNING))
                .withText("x1").sortedBy(ExperimentQuery.Sort.NAME, false).page(10, 0));
        assertThat(few.items()).extracting(Experiment::name).isSorted()
                .allSatisfy(n -> assertThat(n).contains("x1"));
    }

    @Test
    void liveNamesStayUniqueForRawInserts() throws Exception {
        SqliteStore store = open(file());
        store.write(tx -> tx.insertExperiment(ExperimentSpec.named("taken"), T0));
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file());
             Statement st = c.createStatement()) {
            assertThatThrownBy(() -> st.executeUpdate("INSERT INTO experiments SELECT NULL, name, flags, base_command,"
                    + " tool_path, git_branch, nodes, gpus, cloud, region, instance_type, accelerator, spot,"
                    + " desired_state, restart_mode, max_restarts, restart_backoff_nanos, restart_max_backoff_nanos,"
                    + " priority, description, tags, task_template, starred, sort_order, expanded, deleted,"
                    + " created_at, updated_at, version, generation, stage, state_reason, observed_generation,"
                    + " launch_retries, next_attempt_at, settled, observed_desired, pool, created_by, started_by,"
                    + " run_name, latest_status, latest_started_at, latest_epoch, flag_index, search_text"
                    + " FROM experiments"))
                    .hasMessageContaining("UNIQUE constraint failed: experiments.name");
        }
    }

    @Test
    void aFileThatIsNotADatabaseGivesAClearError() throws Exception {
        Files.writeString(file(), "this is not a database, just some text that happens to be long enough ".repeat(50));

        assertThatThrownBy(() -> open(file()))
                .isInstanceOf(SkyDeckException.class)
                .hasMessageContaining(file().toString())
                .hasMessageContaining("not a database");
    }

    @Test
    void anUnwritablePathGivesAClearError() throws Exception {
        Path notADirectory = Files.writeString(dir.resolve("plain-file"), "x");
        Path impossible = notADirectory.resolve("skydeck.db");

        assertThatThrownBy(() -> open(impossible))
                .isInstanceOf(SkyDeckException.class)
                .hasMessageContaining(impossible.toString())
                .hasMessageContaining("writable directory");
    }

    @Test
    void readersDoNotWaitForAnOpenWrite() throws Exception {
        SqliteStore store = open(file());
        ExecutorService reader = Executors.newSingleThreadExecutor();
        try {
            Optional<Experiment> seenDuringWrite = store.write(tx -> {
                tx.insertExperiment(ExperimentSpec.named("uncommitted"), T0);
                try {
                    return reader.submit(() -> store.experimentByName("uncommitted")).get(10, TimeUnit.SECONDS);
                } catch (Exception ex) {
                    throw new IllegalStateException(ex);
                }
            });

            assertThat(seenDuringWrite).isEmpty();
            assertThat(store.experimentByName("uncommitted")).isPresent();
        } finally {
            reader.shutdownNow();
        }
    }

    @Test
    void closingStopsEveryPoolThread() {
        SqliteStore store = open(file());
        store.experiments(ExperimentQuery.ALL);

        store.close();

        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
                        .noneMatch(name -> name.startsWith("skydeck-sqlite")));
    }

    @Test
    void aTimeBeyondWhatTheStoreKeepsIsRefused() {
        SqliteStore store = open(file());

        assertThatThrownBy(() -> store.write(tx -> tx.insertExperiment(ExperimentSpec.named("far"),
                Instant.parse("2300-01-01T00:00:00Z"))))
                .isInstanceOf(SkyDeckException.InvalidInput.class);
    }

    @Test
    void builderRefusesBadSettings() {
        assertThatThrownBy(() -> SqliteStore.builder(file()).readers(0))
                .isInstanceOf(SkyDeckException.InvalidInput.class);
        assertThatThrownBy(() -> SqliteStore.builder(file()).busyTimeout(java.time.Duration.ZERO))
                .isInstanceOf(SkyDeckException.InvalidInput.class);
    }
}
