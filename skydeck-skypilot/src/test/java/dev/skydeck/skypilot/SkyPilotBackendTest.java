package dev.skydeck.skypilot;

import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.skydeck.JobStage;
import dev.skydeck.JobStatus;
import dev.skydeck.Resources;
import dev.skydeck.spi.BackendException;
import dev.skydeck.spi.BackendJob;
import dev.skydeck.spi.JobPage;
import dev.skydeck.spi.LaunchRequest;
import java.io.BufferedReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SkyPilotBackend against a stateful stub of the SkyPilot API server. */
class SkyPilotBackendTest {
    @TempDir
    Path dir;

    private SkyPilotStub stub;
    private SkyPilotBackend backend;

    @BeforeEach
    void start() {
        stub = new SkyPilotStub();
        backend = backend(2);
    }

    @AfterEach
    void stop() {
        backend.close();
        stub.close();
    }

    private SkyPilotBackend backend(int pageSize) {
        return SkyPilotBackend.builder().environment(Map.of("SKYPILOT_API_SERVER_ENDPOINT", stub.endpoint() + "/",
                        "USER", "alice"))
                .userHome(dir.resolve("home")).workingDirectory(dir).hostname("box").skydeckHome(dir.resolve("skydeck"))
                .statusPolling(Duration.ofMillis(1), Duration.ofMillis(5)).pageSize(pageSize)
                .requestTimeouts(Duration.ofSeconds(20), Duration.ofSeconds(20)).build();
    }

    private static LaunchRequest request(String name, String launchId) {
        return new LaunchRequest(name, launchId, 1, List.of("lt", "--gpus=8", "--nodes=2", "run=" + name,
                "note=it's; rm -rf / $(x)"), Map.of(), 2, 8, new Resources("aws", "us-east-1", null, "H100", true),
                "main", null, Map.of("SKYDECK_LAUNCH_ID", launchId, "SKYDECK_EXPERIMENT", name, "SKYDECK_ATTEMPT", "1"));
    }

    @Test
    void launchSubmitsTheRenderedTaskAndReturnsTheJobId() throws Exception {
        BackendJob job = backend.launch(request("ppo_4layer", "j-1"));

        assertThat(job.backendJobId()).isEqualTo("1");
        assertThat(job.launchId()).isEqualTo("j-1");
        var task = new ObjectMapper(new YAMLFactory()).readTree(stub.launchedTasks.get(0));
        assertThat(task.path("name").asText()).isEqualTo("ppo_4layer");
        assertThat(task.path("num_nodes").asInt()).isEqualTo(2);
        assertThat(task.path("resources").path("infra").asText()).isEqualTo("aws/us-east-1");
        assertThat(task.path("resources").path("accelerators").asText()).isEqualTo("H100:8");
        assertThat(task.path("resources").path("use_spot").asBoolean()).isTrue();
        assertThat(task.path("envs").path("SKYDECK_LAUNCH_ID").asText()).isEqualTo("j-1");
        assertThat(task.path("run").asText())
                .isEqualTo("lt --gpus=8 --nodes=2 run=ppo_4layer 'note=it'\"'\"'s; rm -rf / $(x)'");
        var body = stub.bodies.get(0);
        assertThat(body.path("name").asText()).isEqualTo("ppo_4layer");
        assertThat(body.has("pool")).isTrue();
        assertThat(body.path("env_vars").path("SKYPILOT_USER").asText()).isEqualTo("alice");
        assertThat(body.path("env_vars").path("SKYPILOT_USER_ID").asText()).matches("[0-9a-f]{8}");
        // SkyPilot counts only http://127.0.0.1:46580 (and localhost, 0.0.0.0) as a local API server
        assertThat(body.path("using_remote_api_server").asBoolean()).isTrue();
    }

    @Test
    void anExperimentsOwnTaskTemplateReplacesTheDefault() {
        LaunchRequest base = request("own_template", "j-own");
        backend.launch(new LaunchRequest(base.experimentName(), base.launchId(), 1, base.command(), Map.of(), 1, 0,
                Resources.ANY, null, "setup: ./install.sh\nresources:\n  disk_size: 2048\n", base.env()));
        assertThat(stub.launchedTasks.get(0)).contains("setup: ./install.sh").contains("disk_size: 2048")
                .doesNotContain("EAGER_NEXT_REGION");
    }

    @Test
    void aJobIdSentAsAnIntIsAcceptedToo() {
        stub.jobIdAsInt = true;
        assertThat(backend.launch(request("old_server", "j-2")).backendJobId()).isEqualTo("1");
    }

    @Test
    void aFailedLaunchRequestFailsTheJobWithTheServersMessage() {
        stub.failNextLaunch = "Invalid instance type p9.huge";
        assertThatThrownBy(() -> backend.launch(request("bad", "j-3"))).isInstanceOf(BackendException.class)
                .hasMessageContaining("ValueError: Invalid instance type p9.huge")
                .satisfies(e -> assertThat(((BackendException) e).retryable()).isFalse());
    }

    @Test
    void listingPagesWithOneQueueRequestPerPageAndMapsStatuses() {
        for (int i = 0; i < 5; i++) {
            backend.launch(request("exp-" + i, "j-" + i));
        }
        stub.server.resetRequests();
        List<BackendJob> all = new ArrayList<>();
        String token = null;
        do {
            JobPage page = backend.list(token);
            all.addAll(page.jobs());
            token = page.nextPageToken();
        } while (token != null);

        assertThat(all).hasSize(5);
        stub.server.verify(3, postRequestedFor(urlEqualTo("/jobs/queue/v2")));
        stub.server.verify(3, com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor(urlPathEqualTo("/api/get")));
        BackendJob first = all.get(0);
        assertThat(first.name()).isEqualTo("exp-0");
        assertThat(first.launchId()).isEqualTo("j-0");
        assertThat(first.observation().status()).isEqualTo(JobStatus.PENDING);
        assertThat(first.observation().stage()).isEqualTo(JobStage.WAITING_FOR_RESOURCES);
        assertThat(first.observation().cloud()).isNull(); // "-" while no cluster exists
        assertThat(first.submittedAt().toString()).isEqualTo("2025-04-23T18:15:51.250Z");

        stub.advance();
        BackendJob starting = backend.list(null).jobs().get(0);
        assertThat(starting.observation().status()).isEqualTo(JobStatus.STARTING);
        assertThat(starting.observation().stage()).isEqualTo(JobStage.PROVISIONING);
        assertThat(starting.observation().cloud()).isEqualTo("AWS");
        assertThat(starting.observation().clusterName()).isEqualTo("exp-0-1");
        stub.advance();
        stub.advance();
        BackendJob done = backend.list(null).jobs().get(0);
        assertThat(done.observation().status()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(done.observation().endedAt()).isNotNull();
        stub.server.verify(0, postRequestedFor(urlEqualTo("/jobs/queue/v2"))
                .withRequestBody(com.github.tomakehurst.wiremock.client.WireMock.containing("\"refresh\":true")));
    }

    @Test
    void failedSetupAndRecoveryKeepTheExactStatus() {
        stub.nextPath = List.of("PENDING", "RECOVERING", "FAILED_SETUP");
        backend.launch(request("setup", "j-9"));
        stub.advance();
        assertThat(backend.list(null).jobs().get(0).observation().status()).isEqualTo(JobStatus.RECOVERING);
        assertThat(backend.list(null).jobs().get(0).observation().recoveryCount()).isEqualTo(1);
        stub.advance();
        var failed = backend.list(null).jobs().get(0).observation();
        assertThat(failed.status()).isEqualTo(JobStatus.FAILED);
        assertThat(failed.backendStatus()).isEqualTo("FAILED_SETUP");
        assertThat(failed.failureReason()).isEqualTo("setup failed: exit code 1");
    }

    @Test
    void noJobsControllerYetMeansNoJobs() {
        stub.controller = SkyPilotStub.Controller.ABSENT;
        assertThat(backend.list(null)).isEqualTo(new JobPage(List.of(), null));
    }

    @Test
    void cancelMovesTheJobToCancelled() {
        backend.launch(request("to-cancel", "j-4"));
        stub.advance();
        stub.advance();
        backend.cancel("1"); // a running job goes through CANCELLING; a pending one would be CANCELLED at once
        assertThat(backend.list(null).jobs().get(0).observation().status()).isEqualTo(JobStatus.RUNNING);
        stub.advance();
        assertThat(backend.list(null).jobs().get(0).observation().status()).isEqualTo(JobStatus.CANCELLING);
        stub.advance();
        assertThat(backend.list(null).jobs().get(0).observation().status()).isEqualTo(JobStatus.CANCELLED);
        assertThat(stub.bodies).anySatisfy(b -> assertThat(b.path("job_ids").toString()).isEqualTo("[1]"));
    }

    @Test
    void logsDropControlLines() throws Exception {
        backend.launch(request("logged", "j-5"));
        try (BufferedReader r = new BufferedReader(backend.logs("1", 100, false))) {
            assertThat(r.lines().collect(Collectors.joining("\n"))).isEqualTo("epoch 1/2 loss=1.0\nepoch 2/2 loss=0.5"
                    + "\n[skydeck] the job has not finished yet (SkyPilot exit code 101)");
        }
        assertThat(stub.bodies).anySatisfy(b -> {
            assertThat(b.path("job_id").asLong()).isEqualTo(1);
            assertThat(b.path("tail").asInt()).isEqualTo(100);
            assertThat(b.has("name")).isTrue();
        });
    }

    @Test
    void findLocatesAJobByTheLaunchIdInItsTaskYaml() {
        backend.launch(request("a", "j-a"));
        backend.launch(request("b", "j-b"));
        backend.launch(request("c", "j-c"));
        stub.server.resetRequests();
        assertThat(backend.find("j-c", "c")).get().extracting(BackendJob::backendJobId).isEqualTo("3");
        assertThat(backend.find("j-nope", "c")).isEmpty();
        assertThat(stub.bodiesOf("sky.jobs.queue_v2")).allSatisfy(b -> assertThat(b.path("name_match").asText())
                .isEqualTo("c"));
    }

    @Test
    void aPendingLaunchIsFollowedAfterARestartNotSubmittedAgain() {
        stub.holdLaunches = true;
        SkyPilotBackend impatient = impatientBackend();
        assertThatThrownBy(() -> impatient.launch(request("slow", "j-slow"))).isInstanceOf(BackendException.class)
                .satisfies(e -> assertThat(((BackendException) e).retryable()).isTrue());
        impatient.close();
        stub.releaseLaunches();

        BackendJob job = backend.launch(request("slow", "j-slow")); // a new process, same SkyDeck home

        assertThat(job.backendJobId()).isEqualTo("1");
        assertThat(stub.requestCount("sky.jobs.launch")).isEqualTo(1);
    }

    @Test
    void aLaunchRequestTheServerLostIsAdoptedFromTheQueueIfItsJobExists() {
        stub.holdLaunches = true;
        SkyPilotBackend impatient = impatientBackend();
        assertThatThrownBy(() -> impatient.launch(request("lost", "j-lost"))).isInstanceOf(BackendException.class);
        impatient.close();
        stub.forgetRequests(); // the server restarted and forgot the request (404), the job exists
        stub.releaseLaunches();

        BackendJob job = backend.launch(request("lost", "j-lost"));

        assertThat(job.backendJobId()).isEqualTo("1");
        assertThat(stub.requestCount("sky.jobs.launch")).isEqualTo(1);
    }

    @Test
    void concurrentWaitsShareOneStatusCallPerInterval() throws Exception {
        stub.launchLatency(Duration.ofMillis(50));
        var pool = java.util.concurrent.Executors.newFixedThreadPool(6);
        try {
            List<java.util.concurrent.Future<BackendJob>> launches = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                int n = i;
                launches.add(pool.submit(() -> backend.launch(request("par-" + n, "j-par-" + n))));
            }
            for (var f : launches) {
                assertThat(f.get().backendJobId()).isNotBlank();
            }
        } finally {
            pool.shutdown();
        }
        var statusCalls = stub.server.findAll(com.github.tomakehurst.wiremock.client.WireMock
                .getRequestedFor(urlPathEqualTo("/api/status")));
        assertThat(statusCalls).anySatisfy(r -> assertThat(r.queryParameter("request_ids").values()).hasSizeGreaterThan(1));
        assertThat(stub.requestCount("sky.jobs.launch")).isEqualTo(6);
    }

    /** A backend sharing this test's SkyDeck home that gives up on a launch request after 50 ms. */
    private SkyPilotBackend impatientBackend() {
        return SkyPilotBackend.builder()
                .environment(Map.of("SKYPILOT_API_SERVER_ENDPOINT", stub.endpoint())).userHome(dir.resolve("home"))
                .workingDirectory(dir).hostname("box").skydeckHome(dir.resolve("skydeck"))
                .statusPolling(Duration.ofMillis(1), Duration.ofMillis(2))
                .requestTimeouts(Duration.ofSeconds(5), Duration.ofMillis(50)).build();
    }

    @Test
    void healthNamesTheServerVersionAndUser() {
        var h = backend.health();
        assertThat(h.healthy()).isTrue();
        assertThat(h.detail()).contains(stub.endpoint()).contains("1.0.0-dev0").contains("API 55").contains("alice");
    }
}
