package dev.skydeck.skypilot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.skydeck.JobStatus;
import dev.skydeck.Resources;
import dev.skydeck.skypilot.internal.JobRecords;
import dev.skydeck.spi.BackendException;
import dev.skydeck.spi.BackendJob;
import dev.skydeck.spi.LaunchRequest;
import dev.skydeck.spi.LaunchStatus;
import dev.skydeck.spi.Submission;
import java.io.BufferedReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the real SkyPilot API server does that a naive client gets wrong (issue 11), each against
 * the stub reproducing it: git workdirs, finished jobs' logs, YAML 1.1 typing, the three
 * {@code ClusterNotUpError}s, stopped controllers, skipped cancels, client config, 503s,
 * redirects, the log {@code <retry>} line, field selection, version rules, identity and cookies,
 * launches that return at once, defaults, priority and pools.
 */
class RealServerBehaviourTest {
    private static final String TOKEN = "ghp_s3cr3tT0ken";

    @TempDir
    Path dir;

    private SkyPilotStub stub;
    private final List<SkyPilotBackend> opened = new ArrayList<>();

    @BeforeEach
    void start() {
        stub = new SkyPilotStub();
    }

    @AfterEach
    void stop() {
        opened.forEach(SkyPilotBackend::close);
        stub.close();
    }

    private SkyPilotBackend backend(Map<String, String> extraEnv) {
        return backend(stub.endpoint(), extraEnv);
    }

    private SkyPilotBackend backend(String endpoint, Map<String, String> extraEnv) {
        Map<String, String> env = new HashMap<>(Map.of("SKYPILOT_API_SERVER_ENDPOINT", endpoint, "USER", "alice"));
        env.putAll(extraEnv);
        SkyPilotBackend b = SkyPilotBackend.builder().environment(env).userHome(dir.resolve("home"))
                .workingDirectory(dir).hostname("box").skydeckHome(dir.resolve("skydeck"))
                .statusPolling(Duration.ofMillis(1), Duration.ofMillis(5)).unavailableWindow(Duration.ofSeconds(10))
                .requestTimeouts(Duration.ofSeconds(20), Duration.ofSeconds(20)).build();
        opened.add(b);
        return b;
    }

    private static LaunchRequest request(String name, String launchId, int gpus, Resources resources, String gitRef,
                                         Map<String, String> extraEnv, int priority) {
        Map<String, String> env = new HashMap<>(Map.of("SKYDECK_LAUNCH_ID", launchId, "SKYDECK_EXPERIMENT", name,
                "SKYDECK_ATTEMPT", "1"));
        env.putAll(extraEnv);
        return new LaunchRequest(name, launchId, 1, List.of("python", "train.py", "--run=" + name), Map.of(), 1, gpus,
                resources, gitRef, null, env, priority);
    }

    private static LaunchRequest request(String name, String launchId) {
        return request(name, launchId, 8, new Resources("aws", "us-east-1", null, "H100", false), null, Map.of(), 0);
    }

    // ---- 1. git workdirs ----

    @Test
    void aGitWorkdirSetsTheEnvsTheClustersCloneReadsWithTheTokenAsASecret() {
        SkyPilotBackend b = backend(Map.of("SKYDECK_GIT_REPO", "https://github.com/org/trainer", "GIT_TOKEN", TOKEN));
        b.launch(request("git_branch", "j-1", 8, new Resources("aws", null, null, "H100", false), "feature/x",
                Map.of(), 0));
        b.launch(request("git_commit", "j-2", 8, new Resources("aws", null, null, "H100", false),
                "0123456789abcdef0123456789abcdef01234567", Map.of(), 0));

        SkyPilotStub.Job branch = stub.jobNamed("git_branch");
        assertThat(branch.clusterEnv()).containsEntry("GIT_URL", "https://github.com/org/trainer.git")
                .containsEntry("GIT_BRANCH", "feature/x").containsEntry("GIT_TOKEN", TOKEN);
        assertThat(branch.gitClone()).isEqualTo("branch feature/x from https://" + TOKEN
                + "@github.com/org/trainer.git");
        assertThat(stub.jobNamed("git_commit").gitClone())
                .startsWith("commit 0123456789abcdef0123456789abcdef01234567 from");
        assertThat(branch.userYaml).doesNotContain(TOKEN); // a secret, shown back redacted
        String task = stub.launchedTasks.get(0);
        assertThat(task.substring(0, task.indexOf("secrets:") < 0 ? task.length() : task.indexOf("secrets:")))
                .doesNotContain(TOKEN);
    }

    @Test
    void aRepositoryUrlWithCredentialsIsRefusedWithoutShowingThem() {
        assertThatThrownBy(() -> backend(Map.of("SKYDECK_GIT_REPO", "https://bob:" + TOKEN + "@github.com/org/r")))
                .hasMessageContaining("GIT_TOKEN").hasMessageNotContaining(TOKEN);
    }

    // ---- 2 and 5. logs of finished jobs ----

    @Test
    void allLinesOfAFinishedJobAreAskedForWithTailNull() throws Exception {
        SkyPilotBackend b = backend(Map.of());
        b.launch(request("done", "j-1"));
        for (int i = 0; i < 3; i++) {
            stub.advance(); // SUCCEEDED
        }
        try (BufferedReader r = new BufferedReader(b.logs("1", 0, false))) {
            assertThat(r.lines().collect(Collectors.joining("\n"))).isEqualTo("epoch 1/2 loss=1.0\nepoch 2/2 loss=0.5");
        }
        assertThat(stub.bodiesOf("sky.jobs.logs")).singleElement()
                .satisfies(body -> assertThat(body.get("tail").isNull()).isTrue());
    }

    @Test
    void aStoppedControllersLogSaysWhyItIsUnavailableOrIsReadByStartingIt() throws Exception {
        SkyPilotBackend b = backend(Map.of());
        b.launch(request("done", "j-1"));
        stub.controller = SkyPilotStub.Controller.STOPPED;
        try (BufferedReader r = new BufferedReader(b.logs("1", 0, false))) {
            assertThat(r.lines().collect(Collectors.joining("\n"))).contains("unavailable")
                    .contains("jobs controller is stopped").contains("sky jobs logs -r 1")
                    .contains("SKYDECK_SKYPILOT_LOGS_REFRESH");
        }
        SkyPilotBackend refreshing = backend(Map.of("SKYDECK_SKYPILOT_LOGS_REFRESH", "true"));
        try (BufferedReader r = new BufferedReader(refreshing.logs("1", 0, false))) {
            assertThat(r.lines().toList()).contains("epoch 1/2 loss=1.0", "epoch 2/2 loss=0.5");
        }
        assertThat(stub.controller).isEqualTo(SkyPilotStub.Controller.UP);
    }

    @Test
    void controllerLogsAreTheControllersLog() throws Exception {
        SkyPilotBackend b = backend(Map.of());
        b.launch(request("ctl", "j-1"));
        try (BufferedReader r = new BufferedReader(b.controllerLogs("1", 0, false))) {
            assertThat(r.lines().toList()).first().asString().startsWith("[controller]");
        }
        assertThat(stub.bodiesOf("sky.jobs.logs")).singleElement()
                .satisfies(body -> assertThat(body.path("controller").asBoolean()).isTrue());
    }

    // ---- 3. YAML 1.1 ----

    @Test
    void namesAndValuesThatLookLikeDatesBooleansOrNumbersStayStrings() {
        SkyPilotBackend b = backend(Map.of());
        BackendJob job = b.launch(request("2026-07-01", "j-1", 8, new Resources(null, null, null, "H100", false), null,
                Map.of("WHEN", "2026-07-01", "FLAG", "yes", "OCTAL", "010", "CLOCK", "1:30", "NOTHING", "null",
                        "EQUALS", "="), 0));
        assertThat(job.backendJobId()).isEqualTo("1");
        assertThat(stub.jobNamed("2026-07-01").clusterEnv()).containsEntry("WHEN", "2026-07-01")
                .containsEntry("FLAG", "yes").containsEntry("OCTAL", "010").containsEntry("CLOCK", "1:30")
                .containsEntry("NOTHING", "null").containsEntry("EQUALS", "=");
        assertThat(SkyPilotStub.validateTask(stub.launchedTasks.get(0)).get("name")).isEqualTo("2026-07-01");
    }

    // ---- 4. ClusterNotUpError ----

    @Test
    void anUnreachableControllerFailsThePollAndAnAbsentOneListsNothing() {
        SkyPilotBackend b = backend(Map.of());
        b.launch(request("a", "j-1"));
        stub.controller = SkyPilotStub.Controller.UNREACHABLE;
        assertThatThrownBy(() -> b.listActive(null)).isInstanceOf(BackendException.class)
                .hasMessageContaining("unreachable").satisfies(e -> assertThat(((BackendException) e).retryable())
                        .isTrue());
        assertThatThrownBy(() -> b.list(null)).isInstanceOf(BackendException.class);
        assertThatThrownBy(() -> b.jobs(List.of("1"))).isInstanceOf(BackendException.class);
        stub.controller = SkyPilotStub.Controller.ABSENT;
        assertThat(b.listActive(null).jobs()).isEmpty();
        assertThat(b.jobs(List.of("1"))).isEmpty(); // refresh finds no controller: no such jobs
    }

    @Test
    void jobsSkyDeckHoldsUnfinishedAreAskedAgainWithRefreshWhenTheControllerStopped() {
        SkyPilotBackend b = backend(Map.of());
        b.launch(request("a", "j-1"));
        for (int i = 0; i < 3; i++) {
            stub.advance();
        }
        stub.controller = SkyPilotStub.Controller.STOPPED; // autostopped once the job finished
        assertThat(b.listActive(null).jobs()).isEmpty(); // nothing in progress: true
        List<BackendJob> found = b.jobs(List.of("1"));
        assertThat(found).singleElement().satisfies(j -> assertThat(j.observation().status())
                .isEqualTo(JobStatus.SUCCEEDED));
        assertThat(stub.bodiesOf("sky.jobs.queue_v2")).anySatisfy(body -> {
            assertThat(body.path("refresh").asBoolean()).isTrue();
            assertThat(body.path("job_ids").toString()).isEqualTo("[1]");
        });
    }

    // ---- 6. skipped cancels ----

    @Test
    void aCancelTheServerSkipsForAnotherWorkspaceIsReportedWithTheFix() throws Exception {
        Path teamB = dir.resolve("team-b.yaml");
        Files.writeString(teamB, "active_workspace: team-b\n");
        SkyPilotBackend other = backend(Map.of("SKYPILOT_GLOBAL_CONFIG", teamB.toString()));
        other.launch(request("theirs", "j-1"));
        stub.advance();
        SkyPilotBackend b = backend(Map.of());
        assertThatThrownBy(() -> b.cancel("1")).isInstanceOf(BackendException.class)
                .hasMessageContaining("skipped").hasMessageContaining("team-b").hasMessageContaining("active_workspace");
        assertThat(stub.job(1).status()).isEqualTo("STARTING");
        other.cancel("1"); // the right workspace: taken
        stub.advance();
        assertThat(stub.job(1).status()).isEqualTo("CANCELLING");
    }

    // ---- 7. client config ----

    @Test
    void theMergedClientConfigIsSentWithTheProjectFileWinning() throws Exception {
        Files.createDirectories(dir.resolve("home/.sky"));
        Files.writeString(dir.resolve("home/.sky/config.yaml"), "active_workspace: team-a\njobs:\n  controller:\n"
                + "    resources:\n      cpus: 4+\nkubernetes:\n  allowed_contexts: [a]\napi_server:\n"
                + "  service_account_token: sky_secret\n");
        Files.writeString(dir.resolve(".sky.yaml"), "active_workspace: team-b\n");
        SkyPilotBackend b = backend(Map.of());
        b.list(null);
        JsonNode override = stub.bodiesOf("sky.jobs.queue_v2").get(0).path("override_skypilot_config");
        assertThat(override.path("active_workspace").asText()).isEqualTo("team-b");
        assertThat(override.path("jobs").path("controller").path("resources").path("cpus").asText()).isEqualTo("4+");
        assertThat(override.path("kubernetes").path("allowed_contexts").toString()).isEqualTo("[\"a\"]");
        assertThat(override.has("api_server")).isFalse();
        assertThat(override.toString()).doesNotContain("sky_secret");
    }

    // ---- 8. 503s ----

    @Test
    void anIngress503IsRetriedAndNeverMakesASecondLaunch() {
        SkyPilotBackend b = backend(Map.of());
        stub.ingressUnavailable.set(3); // the POST and the first status calls meet a rolling update
        BackendJob job = b.launch(request("busy", "j-1"));
        assertThat(job.backendJobId()).isEqualTo("1");
        assertThat(stub.requestCount("sky.jobs.launch")).isEqualTo(1);
        assertThat(stub.jobs).hasSize(1);
    }

    // ---- 9. redirects ----

    @Test
    void permanentRedirectsAreFollowedForPostsAndGets() {
        for (int code : new int[] {301, 308}) {
            SkyPilotBackend b = backend(stub.redirector(code), Map.of());
            BackendJob job = b.launch(request("moved-" + code, "j-" + code));
            assertThat(b.list(null).jobs()).extracting(BackendJob::backendJobId).contains(job.backendJobId());
            assertThat(b.health().healthy()).isTrue();
        }
        assertThat(stub.requestCount("sky.jobs.launch")).isEqualTo(2);
    }

    // ---- 10. the retry line ----

    @Test
    void aFollowedLogReconnectsOnTheRetryLineWithoutRepeatingLines() throws Exception {
        SkyPilotBackend b = backend(Map.of());
        b.launch(request("follow", "j-1"));
        stub.retryNextFollowedLog = true;
        try (BufferedReader r = new BufferedReader(b.logs("1", 0, true))) {
            assertThat(r.lines().filter(l -> l.startsWith("epoch")).toList())
                    .containsExactly("epoch 1/2 loss=1.0", "epoch 2/2 loss=0.5");
        }
        assertThat(stub.requestCount("sky.jobs.logs")).isEqualTo(2);
    }

    // ---- 11. field selection and filters ----

    @Test
    void listingsNameTheirFieldsAndFilterOnTheServer() {
        SkyPilotBackend b = backend(Map.of());
        b.launch(request("a", "j-a"));
        b.launch(request("b", "j-b"));
        b.list(null);
        b.listActive(null);
        b.jobs(List.of("2"));
        assertThat(b.find("j-b", "b")).isPresent();
        List<com.fasterxml.jackson.databind.node.ObjectNode> queues = stub.bodiesOf("sky.jobs.queue_v2");
        assertThat(queues).allSatisfy(q -> assertThat(q.path("fields").isArray()).isTrue());
        assertThat(queues.get(0).path("fields").toString()).doesNotContain("user_yaml");
        assertThat(queues.get(0).path("skip_finished").asBoolean()).isFalse();
        assertThat(queues.get(1).path("skip_finished").asBoolean()).isTrue();
        assertThat(queues.get(2).path("job_ids").toString()).isEqualTo("[2]");
        assertThat(queues.get(3).path("name_match").asText()).isEqualTo("b");
        assertThat(queues).allSatisfy(q -> assertThat(q.path("refresh").asBoolean()).isFalse());
        List<String> fields = new ArrayList<>();
        queues.get(0).path("fields").forEach(f -> fields.add(f.asText()));
        assertThat(fields).containsExactlyElementsOf(JobRecords.FIELDS);
    }

    // ---- 12. versions, identity, cookies ----

    @Test
    void aServerBelowTheMinimumApiVersionIsCalledTooOld() {
        stub.serverApiVersion = 20;
        SkyPilotBackend b = backend(Map.of());
        assertThatThrownBy(() -> b.list(null)).hasMessageContaining("too old")
                .hasMessageContaining("upgrade the SkyPilot API server");
    }

    @Test
    void theIdentityComesFromSkyPilotsVariablesAndSetCookieRefreshesTheCookieFile() throws Exception {
        Path cookies = dir.resolve("cookies.txt");
        stub.setCookie = "_oauth2_proxy=fresh-value; Path=/; Max-Age=604800; HttpOnly";
        SkyPilotBackend b = backend(Map.of("SKYPILOT_USER_ID", "sa-1234abcd", "SKYPILOT_USER", "ci-bot",
                "SKYPILOT_API_COOKIE_FILE", cookies.toString()));
        b.list(null);
        JsonNode env = stub.bodiesOf("sky.jobs.queue_v2").get(0).path("env_vars");
        assertThat(env.path("SKYPILOT_USER_ID").asText()).isEqualTo("sa-1234abcd");
        assertThat(env.path("SKYPILOT_USER").asText()).isEqualTo("ci-bot");
        assertThat(Files.readString(cookies)).contains("_oauth2_proxy\tfresh-value").contains("#HttpOnly_");
        stub.server.resetRequests();
        b.list(null);
        assertThat(stub.server.getAllServeEvents()).allSatisfy(ev -> assertThat(ev.getRequest().getHeader("Cookie"))
                .contains("_oauth2_proxy=fresh-value"));
    }

    // ---- launches that never block ----

    @Test
    void aSubmitReturnsAtOnceAndTheRequestIsFollowedThenAdopted() {
        stub.launchLatency(Duration.ofSeconds(3));
        stub.launchStatusMsg = "Launching the jobs controller";
        SkyPilotBackend b = backend(Map.of());
        long t0 = System.nanoTime();
        Submission s = b.submit(request("slow", "j-1"));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
        assertThat(s.job()).isNull();
        assertThat(s.ref()).isNotBlank();
        LaunchStatus running = b.launchStatus("j-1", s.ref(), "slow");
        assertThat(running.state()).isEqualTo(LaunchStatus.State.PENDING);
        assertThat(b.launchStatus("j-1", s.ref(), "slow").detail()).contains("Launching the jobs controller");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> b.launchStatus("j-1", s.ref(), "slow").state() == LaunchStatus.State.STARTED);
        assertThat(b.launchStatus("j-1", s.ref(), "slow").job().backendJobId()).isEqualTo("1");
        assertThat(stub.requestCount("sky.jobs.launch")).isEqualTo(1);
    }

    @Test
    void aLaunchInFlightIsCancelledAsARequestAndMakesNoJob() {
        stub.holdLaunches = true;
        SkyPilotBackend b = backend(Map.of());
        Submission s = b.submit(request("stopped", "j-1"));
        assertThat(b.cancelLaunch("j-1", s.ref())).isTrue();
        stub.releaseLaunches();
        assertThat(b.launchStatus("j-1", s.ref(), "stopped").state()).isEqualTo(LaunchStatus.State.UNKNOWN);
        assertThat(stub.jobs).isEmpty();
        assertThat(stub.bodiesOf("sky.api_cancel")).singleElement()
                .satisfies(body -> assertThat(body.path("request_ids").get(0).asText()).isEqualTo(s.ref()));
    }

    @Test
    void aLaunchWhoseAnswerWasLostIsFoundOnTheServerNotSentAgain() throws Exception {
        stub.holdLaunches = true;
        SkyPilotBackend b = backend(Map.of());
        Submission first = b.submit(request("lost", "j-1"));
        Submission followed = backend(Map.of()).submit(request("lost", "j-1")); // SkyDeck never recorded the ref
        assertThat(followed.ref()).isEqualTo(first.ref());
        // the answer itself was lost (sent, no request id known): found among the server's running requests
        Files.writeString(dir.resolve("skydeck/skypilot/pending-launches/j-1"), "submitting\n");
        Submission found = backend(Map.of()).submit(request("lost", "j-1"));
        assertThat(found.ref()).isEqualTo(first.ref());
        assertThat(stub.requestCount("sky.jobs.launch")).isEqualTo(1);
    }

    // ---- defaults, priority, pools ----

    @Test
    void aGpuCountWithoutAModelUsesTheDefaultAcceleratorOrNamesBothWaysToSetOne() {
        LaunchRequest noModel = request("gpus", "j-1", 4, Resources.ANY, null, Map.of(), 0);
        assertThatThrownBy(() -> backend(Map.of()).submit(noModel)).isInstanceOf(BackendException.class)
                .hasMessageContaining("SKYDECK_DEFAULT_ACCELERATOR").hasMessageContaining("task template");
        backend(Map.of("SKYDECK_DEFAULT_ACCELERATOR", "A100")).launch(noModel);
        assertThat(stub.launchedTasks.get(0)).contains("accelerators: A100:4");
    }

    @Test
    void priorityAndPoolReachTheServer() {
        SkyPilotBackend b = backend(Map.of());
        b.launch(request("urgent", "j-1", 8, new Resources(null, null, null, "H100", false, "warm-h100"), null,
                Map.of(), 900));
        JsonNode body = stub.bodiesOf("sky.jobs.launch").get(0);
        assertThat(body.path("pool").asText()).isEqualTo("warm-h100");
        assertThat(stub.launchedTasks.get(0)).contains("priority: 900");
    }
}
