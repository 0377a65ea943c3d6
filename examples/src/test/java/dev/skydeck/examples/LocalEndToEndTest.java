package dev.skydeck.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.skydeck.DesiredState;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.Job;
import dev.skydeck.JobStatus;
import dev.skydeck.SkyDeck;
import dev.skydeck.local.LocalBackend;
import dev.skydeck.toy.ToyTrainer;
import dev.skydeck.local.LocalCheckpointSource;
import dev.skydeck.testing.NoThreadLeaks;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** SkyDeck with a SQLite file, the local backend and real toy-trainer processes, end to end. */
@ExtendWith(NoThreadLeaks.class)
class LocalEndToEndTest {
    @TempDir
    Path home;

    private final List<SkyDeck> decks = new ArrayList<>();
    private final List<LocalBackend> backends = new ArrayList<>();

    private SkyDeck open() {
        LocalBackend backend = LocalBackend.builder().jobsDirectory(home.resolve("jobs"))
                .checkpointDirectory(home.resolve("checkpoints")).gpuSlots(2)
                .cancelGracePeriod(Duration.ofSeconds(2)).build();
        backends.add(backend);
        // A real SQLite file, opened anew by each SkyDeck (as after a restart).
        SkyDeck deck = SkyDeck.builder().databaseFile(home.resolve("skydeck.db")).backend(backend)
                .checkpoints(new LocalCheckpointSource(home.resolve("checkpoints")))
                .pollInterval(Duration.ofMillis(200)).fastPollInterval(Duration.ofMillis(200)).build();
        decks.add(deck);
        return deck;
    }

    @AfterEach
    void close() {
        decks.forEach(SkyDeck::close);
        backends.forEach(LocalBackend::close);
    }

    private static ExperimentSpec toy(String name, int epochs) {
        return ExperimentSpec.named(name).baseCommand(ToyTrainer.baseCommand()).flag("epochs", epochs)
                .flag("sleep_ms", 50).desired(DesiredState.RUNNING);
    }

    private static String log(SkyDeck deck, Job job) throws IOException {
        try (BufferedReader r = new BufferedReader(deck.logs(job, 0, false))) {
            return r.lines().collect(Collectors.joining("\n"));
        }
    }

    @Test
    void aToyRunSucceedsWithItsExitCodeLogAndCheckpoints() throws IOException {
        SkyDeck deck = open();
        Experiment e = deck.create(toy("e2e.ok", 3).gpus(1).flag("policy_architecture.core_resnet_layers", 4));
        Experiment done = deck.awaitSettled(List.of(e), Duration.ofMinutes(1)).get(0);
        assertThat(done.currentState()).isEqualTo(JobStatus.SUCCEEDED);
        Job job = deck.jobs(e).get(0);
        assertThat(job.exitCode()).isZero();
        assertThat(job.endedAt()).isNotNull();
        String log = log(deck, job);
        assertThat(log).contains("epoch 3/3").contains("CUDA_VISIBLE_DEVICES=0")
                .contains("launch=" + job.launchId()).contains("policy_architecture.core_resnet_layers=4");
        deck.syncCheckpoints();
        assertThat(deck.refresh(e).latestEpoch()).isEqualTo(3L);
        assertThat(deck.checkpoints(e, 10)).first().satisfies(c -> {
            assertThat(c.modelPath()).endsWith("e2e.ok:v3.mpt");
            assertThat(c.policyVersion()).isEqualTo("v3");
            assertThat(c.replayPaths()).hasSize(1);
        });
    }

    @Test
    void aFailingRunIsFailedWithItsExitCode() {
        SkyDeck deck = open();
        Experiment e = deck.create(toy("e2e.fail", 5).flag("fail_at_epoch", 2));
        Experiment done = deck.awaitSettled(List.of(e), Duration.ofMinutes(1)).get(0);
        assertThat(done.currentState()).isEqualTo(JobStatus.FAILED);
        Job job = deck.jobs(e).get(0);
        assertThat(job.exitCode()).isEqualTo(1);
        assertThat(job.failureReason()).contains("1");
    }

    @Test
    void fourNodesAreRefusedOnTheLocalBackendWithAReason() {
        SkyDeck deck = open();
        Experiment e = deck.create(toy("e2e.nodes", 1).nodes(4).gpus(4));
        Experiment done = deck.awaitSettled(List.of(e), Duration.ofMinutes(1)).get(0);
        assertThat(done.currentState()).isEqualTo(JobStatus.FAILED);
        assertThat(deck.jobs(e).get(0).failureReason()).contains("one node").contains("4 nodes");
    }

    @Test
    void stopCancelsARunningProcessTree() {
        SkyDeck deck = open();
        Experiment e = deck.create(toy("e2e.stop", 1000).flag("sleep_ms", 1000));
        await().atMost(Duration.ofSeconds(30)).until(() -> deck.refresh(e).currentState() == JobStatus.RUNNING);
        deck.stop(e);
        Experiment done = deck.awaitSettled(List.of(e), Duration.ofMinutes(1)).get(0);
        assertThat(done.currentState()).isEqualTo(JobStatus.CANCELLED);
        assertThat(deck.jobs(e).get(0).status()).isEqualTo(JobStatus.CANCELLED);
    }

    @Test
    void aJobOutlivesSkyDeckAndIsReadoptedWithItsExitCode() {
        SkyDeck first = open();
        Experiment e = first.create(toy("e2e.survivor", 6).flag("sleep_ms", 300));
        await().atMost(Duration.ofSeconds(30)).until(() -> first.refresh(e).currentState() == JobStatus.RUNNING);
        first.close();
        backends.get(0).close();

        SkyDeck second = open();
        Experiment done = second.awaitSettled(List.of(e), Duration.ofMinutes(1)).get(0);
        assertThat(done.currentState()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(second.jobs(e)).singleElement().satisfies(j -> assertThat(j.exitCode()).isZero());
    }
}
