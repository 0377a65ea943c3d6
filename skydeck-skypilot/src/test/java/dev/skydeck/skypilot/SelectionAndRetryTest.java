package dev.skydeck.skypilot;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.tomakehurst.wiremock.stubbing.Scenario;
import dev.skydeck.DesiredState;
import dev.skydeck.SkyDeckConfig;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.JobStatus;
import dev.skydeck.SkyDeck;
import dev.skydeck.spi.CheckpointSource;
import dev.skydeck.memory.InMemoryStore;
import dev.skydeck.spi.Store;
import dev.skydeck.testing.ManualClock;
import dev.skydeck.testing.NoThreadLeaks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Backend selection, retries of idempotent calls, and a crash between submit and record, end to end. */
@ExtendWith(NoThreadLeaks.class)
class SelectionAndRetryTest {
    @TempDir
    Path dir;

    @Test
    void autoChoosesSkyPilotOnlyWhenAnEndpointIsConfiguredAndSaysWhy() throws Exception {
        Path home = dir.resolve("home");
        assertThat(new SkyPilotBackendProvider(home, dir).detect(env(Map.of()))).isEmpty();
        assertThat(new SkyPilotBackendProvider(home, dir).detect(env(Map.of("SKYPILOT_API_SERVER_ENDPOINT",
                "http://sky:46580")))).get().asString().contains("SKYPILOT_API_SERVER_ENDPOINT")
                .contains("http://sky:46580");
        Files.createDirectories(home.resolve(".sky"));
        Files.writeString(home.resolve(".sky/config.yaml"), "api_server:\n  endpoint: https://team.example\n");
        assertThat(new SkyPilotBackendProvider(home, dir).detect(env(Map.of()))).get().asString()
                .contains("config.yaml").contains("https://team.example");
    }

    @Test
    void transportErrorsAndServerErrorsOfIdempotentCallsAreRetried() {
        try (SkyPilotStub stub = new SkyPilotStub()) {
            stub.server.stubFor(get(urlPathEqualTo("/api/health")).inScenario("flaky").whenScenarioStateIs(Scenario.STARTED)
                    .willReturn(aResponse().withStatus(502).withBody("bad gateway")).willSetStateTo("up").atPriority(1));
            try (SkyPilotBackend b = SkyPilotBackend.builder()
                    .environment(Map.of("SKYPILOT_API_SERVER_ENDPOINT", stub.endpoint()))
                    .userHome(dir).workingDirectory(dir).hostname("box").skydeckHome(dir).build()) {
                assertThat(b.health().healthy()).isTrue();
            }
            stub.server.verify(2, getRequestedFor(urlPathEqualTo("/api/health")));
        }
    }

    @Test
    void aLaunchSubmittedButNeverRecordedIsAdoptedAfterARestartNotLaunchedTwice() {
        try (SkyPilotStub stub = new SkyPilotStub()) {
            ManualClock clock = new ManualClock();
            Store store = new InMemoryStore();
            stub.holdLaunches = true; // the launch request is still running when SkyDeck stops
            Experiment e;
            try (SkyPilotBackend slow = backend(stub, Duration.ofMillis(200), Duration.ofMillis(50));
                 SkyDeck crashed = SkyDeck.builder().store(store).backend(slow).checkpoints(CheckpointSource.NONE)
                         .clock(clock).scheduler(clock).build()) {
                e = crashed.create(ExperimentSpec.named("adopt_me").desired(DesiredState.RUNNING));
                await().until(() -> !crashed.jobs(e).isEmpty() && crashed.jobs(e).get(0).launchRef() != null);
            } // SkyDeck stops here with the job's request in flight on the server
            stub.releaseLaunches();
            try (SkyPilotBackend again = backend(stub, Duration.ofSeconds(20), Duration.ofSeconds(20));
                 SkyDeck restarted = SkyDeck.builder().store(store).backend(again).checkpoints(CheckpointSource.NONE)
                         .clock(clock).scheduler(clock).build()) {
                await().until(() -> {
                    clock.advance(Duration.ofSeconds(1));
                    return restarted.jobs(e).get(0).backendJobId() != null;
                });
                clock.advance(Duration.ofMinutes(10));
                restarted.reconcileAll();
                await().until(() -> restarted.refresh(e).status().observedGeneration() == e.generation());
                assertThat(restarted.jobs(e)).singleElement().satisfies(j -> {
                    assertThat(j.backendJobId()).isEqualTo("1");
                    assertThat(j.status()).isEqualTo(JobStatus.PENDING);
                });
                assertThat(stub.requestCount("sky.jobs.launch")).isEqualTo(1);
            }
        }
    }

    @Test
    void theTaskTemplateFileAndGitRepoComeFromTheEnvironmentAndABadPathIsNamed() throws Exception {
        Path template = dir.resolve("task.yaml");
        Files.writeString(template, "setup: pip install -e .\nresources:\n  disk_size: 1024\n");
        try (SkyPilotStub stub = new SkyPilotStub();
             SkyPilotBackend b = SkyPilotBackend.builder().environment(Map.of("SKYPILOT_API_SERVER_ENDPOINT",
                             stub.endpoint(), "SKYDECK_TASK_TEMPLATE", template.toString(), "SKYDECK_GIT_REPO",
                             "https://github.com/org/repo.git"))
                     .userHome(dir).workingDirectory(dir).hostname("box").skydeckHome(dir)
                     .statusPolling(Duration.ofMillis(1), Duration.ofMillis(2)).build()) {
            b.launch(new dev.skydeck.spi.LaunchRequest("templated", "j-t", 1, java.util.List.of("lt", "run=templated"),
                    Map.of(), 1, 0, null, "main", null, Map.of("SKYDECK_LAUNCH_ID", "j-t")));
            assertThat(stub.launchedTasks.get(0)).contains("pip install -e .").contains("disk_size: 1024")
                    .contains("url: https://github.com/org/repo.git").contains("ref: main");
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SkyPilotBackend.builder()
                        .environment(Map.of("SKYDECK_TASK_TEMPLATE", dir.resolve("missing.yaml").toString()))
                        .userHome(dir).workingDirectory(dir).hostname("box").build())
                .isInstanceOf(dev.skydeck.SkyDeckException.InvalidInput.class).hasMessageContaining("SKYDECK_TASK_TEMPLATE");
    }

    @Test
    void anAmbiguousRequestIdIsReportedNotRetried() {
        try (SkyPilotStub stub = new SkyPilotStub()) {
            stub.server.stubFor(com.github.tomakehurst.wiremock.client.WireMock.post(urlPathEqualTo("/jobs/cancel"))
                    .atPriority(1).willReturn(aResponse().withStatus(200)
                            .withHeader("X-Skypilot-Request-ID", "abc").withBody("null")));
            stub.server.stubFor(get(urlPathEqualTo("/api/get")).atPriority(1).willReturn(aResponse().withStatus(400)
                    .withBody("{\"detail\":\"Multiple requests found for request ID prefix: abc\"}")));
            try (SkyPilotBackend b = backend(stub, Duration.ofSeconds(5), Duration.ofSeconds(5))) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> b.cancel("1"))
                        .isInstanceOf(dev.skydeck.spi.BackendException.class).hasMessageContaining("ambiguous")
                        .hasMessageContaining("Multiple requests found");
            }
            stub.server.verify(1, getRequestedFor(urlPathEqualTo("/api/get")));
        }
    }

    private SkyPilotBackend backend(SkyPilotStub stub, Duration callTimeout, Duration launchTimeout) {
        return SkyPilotBackend.builder().environment(Map.of("SKYPILOT_API_SERVER_ENDPOINT", stub.endpoint()))
                .userHome(dir.resolve("home")).workingDirectory(dir).hostname("box").skydeckHome(dir.resolve("skydeck"))
                .statusPolling(Duration.ofMillis(1), Duration.ofMillis(2))
                .requestTimeouts(callTimeout, launchTimeout).build();
    }

    private static SkyDeckConfig env(Map<String, String> env) {
        return SkyDeckConfig.builder().environment(env).build();
    }
}
