package dev.skydeck.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.skydeck.DesiredState;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.JobStatus;
import dev.skydeck.SkyDeck;
import dev.skydeck.spi.LaunchRequest;
import dev.skydeck.testing.Concurrently;
import dev.skydeck.testing.FakeBackend;
import dev.skydeck.testing.ManualClock;
import dev.skydeck.testing.NoThreadLeaks;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** SkyDeck on a real SQLite file: concurrency, two processes' worth of SkyDecks, restarts. */
@ExtendWith(NoThreadLeaks.class)
class SkyDeckOnSqliteTest {
    @TempDir
    Path dir;

    private final ManualClock clock = new ManualClock();
    private final FakeBackend backend = new FakeBackend(clock);
    private final List<SkyDeck> decks = new ArrayList<>();

    private SkyDeck open() {
        SkyDeck deck = SkyDeck.builder().databaseFile(dir.resolve("skydeck.db")).backend(backend).clock(clock)
                .scheduler(clock).build();
        decks.add(deck);
        return deck;
    }

    @AfterEach
    void close() {
        decks.forEach(SkyDeck::close);
    }

    @Test
    void openUsesTheSqliteStoreThroughTheServiceLoader() {
        SkyDeck deck = open();
        assertThat(deck.store().describe()).startsWith("sqlite:").endsWith("skydeck.db");
    }

    @Test
    void bulkStartOf200ExperimentsFromEightThreadsLaunchesEachOnce() throws Exception {
        SkyDeck deck = open();
        List<Experiment> created = deck.createAll(IntStream.range(0, 200)
                .mapToObj(i -> ExperimentSpec.named("bulk-" + i)).toList());
        Concurrently.startEachTwice(deck, created, 8);
        await().atMost(Duration.ofSeconds(60)).until(() -> deck.store().activeJobs().size() == 200
                && deck.store().activeJobs().stream().allMatch(j -> j.backendJobId() != null));
        clock.advance(Duration.ofMinutes(5)); // past every launch lease: a second look must not relaunch
        deck.reconcileAll();
        await().until(() -> deck.settled(created.stream().map(Experiment::id).toList()).isEmpty());
        assertThat(backend.launches()).hasSize(200);
        assertThat(backend.launches()).extracting(LaunchRequest::experimentName).doesNotHaveDuplicates();
    }

    @Test
    void twoSkyDecksOnOneDatabaseLaunchEachExperimentOnce() {
        SkyDeck a = open();
        SkyDeck b = open();
        List<Experiment> created = a.createAll(IntStream.range(0, 60)
                .mapToObj(i -> ExperimentSpec.named("shared-" + i).desired(DesiredState.RUNNING)).toList());
        b.reconcileAll();
        await().atMost(Duration.ofSeconds(60)).until(() -> backend.launches().size() >= 60);
        clock.advance(Duration.ofMinutes(5)); // past every launch lease
        a.reconcileAll();
        b.reconcileAll();
        await().atMost(Duration.ofSeconds(60)).until(() -> a.store().activeJobs().size() == 60
                && a.store().activeJobs().stream().allMatch(j -> j.backendJobId() != null));
        assertThat(backend.launches()).hasSize(60);
        assertThat(created).allSatisfy(e -> assertThat(b.jobs(e)).hasSize(1));
    }

    @Test
    void everythingSurvivesARestart() {
        SkyDeck first = open();
        Experiment e = first.create(ExperimentSpec.named("durable").flag("lr", 0.5).desired(DesiredState.RUNNING));
        await().until(() -> !first.jobs(e).isEmpty() && first.jobs(e).get(0).backendJobId() != null);
        backend.set(first.jobs(e).get(0).backendJobId(), JobStatus.SUCCEEDED);
        first.poll();
        await().until(() -> first.refresh(e).settled());
        long events = first.store().lastEventSeq();
        first.close();

        SkyDeck second = open();
        Experiment again = second.experiment("durable");
        assertThat(again.flags()).containsEntry("lr", 0.5);
        assertThat(again.currentState()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(second.jobs(again)).singleElement().satisfies(j -> assertThat(j.exitCode()).isZero());
        assertThat(second.store().lastEventSeq()).isGreaterThanOrEqualTo(events);
        second.reconcileAll();
        await().until(() -> second.refresh(again).settled());
        assertThat(backend.launches()).hasSize(1);
    }

    @Test
    void aPollOfAThousandChangedJobsRunsAsFewStatementsAsAPollOfTen() {
        SkyDeck deck = SkyDeck.builder().databaseFile(dir.resolve("poll.db")).backend(backend).clock(clock)
                .scheduler(clock).autoStart(false).build();
        decks.add(deck);
        SqliteStore store = (SqliteStore) deck.store();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 1010; i++) {
            ids.add(backend.addForeign("by-hand-" + i, JobStatus.RUNNING).backendJobId());
        }
        backend.pageSize(2000);
        deck.poll(); // records them all

        // the poll runs on the poller's thread; the event feed reads on its own meanwhile
        ids.subList(0, 10).forEach(id -> backend.set(id, JobStatus.SUCCEEDED));
        long before = store.statementCount("skydeck-poller");
        deck.poll();
        long ten = store.statementCount("skydeck-poller") - before;

        ids.subList(10, 1010).forEach(id -> backend.set(id, JobStatus.SUCCEEDED));
        before = store.statementCount("skydeck-poller");
        deck.poll();
        long thousand = store.statementCount("skydeck-poller") - before;

        assertThat(deck.jobs(new dev.skydeck.JobQuery(null, true, null, null, 10, 0)).total()).isZero();
        assertThat(thousand).as("statements for 1,000 changed jobs").isEqualTo(ten).isBetween(1L, 12L);
        System.out.printf("poll of 1,000 changed jobs: %d SQL statements (10 changed: %d)%n", thousand, ten);
    }

    @Test
    void eightWritersEveryListenerSeesEveryEventOnceInOrderOnSqlite() throws Exception {
        SkyDeck deck = open();
        long before = deck.store().lastEventSeq();

        List<List<Long>> seen = Concurrently.writeEventsFromThreads(deck, "w", 8, 300, 2);

        List<Long> expected = java.util.stream.LongStream.rangeClosed(before + 1, deck.store().lastEventSeq()).boxed()
                .toList();
        assertThat(expected).hasSizeGreaterThanOrEqualTo(2400);
        seen.forEach(listener -> assertThat(listener).containsExactlyElementsOf(expected));
    }
}
