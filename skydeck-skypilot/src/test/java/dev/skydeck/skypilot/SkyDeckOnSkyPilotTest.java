package dev.skydeck.skypilot;

import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.skydeck.DesiredState;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.Job;
import dev.skydeck.JobStage;
import dev.skydeck.JobStatus;
import dev.skydeck.SkyDeck;
import dev.skydeck.spi.CheckpointSource;
import dev.skydeck.testing.ManualClock;
import dev.skydeck.testing.NoThreadLeaks;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** SkyDeck on SQLite with the SkyPilot backend, against a stub whose jobs move across polls. */
@ExtendWith(NoThreadLeaks.class)
class SkyDeckOnSkyPilotTest {
    @TempDir
    Path dir;

    private final ManualClock clock = new ManualClock();
    private SkyPilotStub stub;
    private SkyPilotBackend backend;
    private SkyDeck deck;

    @BeforeEach
    void start() {
        stub = new SkyPilotStub();
        backend = SkyPilotBackend.builder().environment(Map.of("SKYPILOT_API_SERVER_ENDPOINT", stub.endpoint(),
                        "USER", "alice"))
                .userHome(dir.resolve("home")).workingDirectory(dir).hostname("box").skydeckHome(dir.resolve("skydeck"))
                .statusPolling(Duration.ofMillis(1), Duration.ofMillis(5))
                .requestTimeouts(Duration.ofSeconds(20), Duration.ofSeconds(20)).build();
        deck = SkyDeck.builder().databaseFile(dir.resolve("skydeck.db")).backend(backend)
                .checkpoints(CheckpointSource.NONE).clock(clock).scheduler(clock).build();
    }

    @AfterEach
    void stop() {
        deck.close();
        backend.close();
        stub.close();
    }

    private Job job(Experiment e) {
        return deck.jobs(e).get(0);
    }

    /** Whether every experiment's job exists, letting the passes that follow launch requests run. */
    private boolean launched(List<Experiment> experiments) {
        clock.advance(Duration.ofSeconds(1));
        return experiments.stream().allMatch(e -> !deck.jobs(e).isEmpty() && deck.jobs(e).get(0).backendJobId() != null);
    }

    private void step() {
        stub.advance();
        deck.poll();
    }

    @Test
    void experimentsLaunchOnceAndAreTrackedStoppedAndRestarted() {
        List<Experiment> created = deck.createAll(List.of(
                ExperimentSpec.named("ppo_a").gpus(8).accelerator("H100").desired(DesiredState.RUNNING),
                ExperimentSpec.named("ppo_b").gpus(8).accelerator("H100").desired(DesiredState.RUNNING),
                ExperimentSpec.named("ppo_c").gpus(8).accelerator("H100").desired(DesiredState.RUNNING)));
        Experiment a = created.get(0);
        Experiment b = created.get(1);
        Experiment c = created.get(2);
        await().until(() -> launched(created)); // launches return at once; a later pass adopts each job
        assertThat(stub.requestCount("sky.jobs.launch")).isEqualTo(3);
        long cJob = Long.parseLong(job(c).backendJobId());
        stub.job(cJob).path = List.of("PENDING", "STARTING", "FAILED_SETUP");

        stub.server.resetRequests();
        deck.poll();
        stub.server.verify(1, postRequestedFor(urlEqualTo("/jobs/queue/v2"))); // one page, whatever the count
        assertThat(job(a).status()).isEqualTo(JobStatus.PENDING);
        assertThat(job(a).stage()).isEqualTo(JobStage.WAITING_FOR_RESOURCES);
        assertThat(job(a).details()).isEqualTo("In backoff, waiting for resources");

        step();
        assertThat(job(a).status()).isEqualTo(JobStatus.STARTING);
        assertThat(job(a).cloud()).isEqualTo("AWS");
        step();
        assertThat(job(a).status()).isEqualTo(JobStatus.RUNNING);
        assertThat(job(a).backendStatus()).isEqualTo("RUNNING");
        await().until(() -> deck.refresh(c).settled());
        assertThat(job(c).status()).isEqualTo(JobStatus.FAILED);
        assertThat(job(c).backendStatus()).isEqualTo("FAILED_SETUP");
        assertThat(job(c).failureReason()).isEqualTo("setup failed: exit code 1");

        deck.stop(b);
        await().until(() -> stub.requestCount("sky.jobs.cancel") == 1);
        step();
        assertThat(job(b).status()).isEqualTo(JobStatus.CANCELLING);
        step();
        assertThat(job(b).status()).isEqualTo(JobStatus.CANCELLED);
        await().until(() -> deck.refresh(b).settled());
        assertThat(job(a).status()).isEqualTo(JobStatus.SUCCEEDED);
        await().until(() -> deck.refresh(a).settled());

        deck.start(a); // RUNNING already: nothing happens
        deck.restart(a);
        await().until(() -> {
            clock.advance(Duration.ofSeconds(1));
            return deck.jobs(a).size() == 2 && job(a).backendJobId() != null;
        });
        assertThat(stub.requestCount("sky.jobs.launch")).isEqualTo(4);
        assertThat(job(a).attempt()).isEqualTo(2);
        assertThat(stub.launchedTasks.get(3)).contains("SKYDECK_LAUNCH_ID: " + job(a).launchId());
    }

    @Test
    void aGitWorkdirExperimentRunsWithTheEnvsTheClusterClonesFrom() {
        try (SkyPilotBackend git = SkyPilotBackend.builder().environment(Map.of("SKYPILOT_API_SERVER_ENDPOINT",
                        stub.endpoint(), "USER", "alice", "SKYDECK_GIT_REPO", "git@github.com:org/trainer.git"))
                .userHome(dir.resolve("home")).workingDirectory(dir).hostname("box")
                .skydeckHome(dir.resolve("skydeck-git")).statusPolling(Duration.ofMillis(1), Duration.ofMillis(5))
                .build();
             SkyDeck gitDeck = SkyDeck.builder().databaseFile(dir.resolve("git.db")).backend(git)
                     .checkpoints(CheckpointSource.NONE).clock(clock).scheduler(clock).build()) {
            Experiment e = gitDeck.create(ExperimentSpec.named("from_git").gpus(8).accelerator("H100")
                    .gitBranch("release/2026-07").flag("trainer.lr", 0.0003).desired(DesiredState.RUNNING));
            await().until(() -> {
                clock.advance(Duration.ofSeconds(1));
                return !gitDeck.jobs(e).isEmpty() && gitDeck.jobs(e).get(0).backendJobId() != null;
            });
            SkyPilotStub.Job launched = stub.jobNamed("from_git");
            // no ssh key given: cloned over https, as the official client does for a repository it can read publicly
            assertThat(launched.gitClone()).isEqualTo("branch release/2026-07 from https://github.com/org/trainer.git");
            assertThat(launched.clusterEnv()).containsEntry("GIT_URL", "https://github.com/org/trainer.git")
                    .containsEntry("GIT_BRANCH", "release/2026-07")
                    .containsEntry("SKYDECK_LAUNCH_ID", gitDeck.jobs(e).get(0).launchId())
                    .containsEntry("SKYDECK_EXPERIMENT", "from_git").containsEntry("SKYDECK_ATTEMPT", "1");
            assertThat(launched.task.get("workdir")).isEqualTo(Map.of("url", "git@github.com:org/trainer.git",
                    "ref", "release/2026-07"));
        }
    }
}
