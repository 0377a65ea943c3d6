package dev.skydeck.local;

import static dev.skydeck.local.LocalJobs.alive;
import static dev.skydeck.local.LocalJobs.pid;
import static dev.skydeck.local.LocalJobs.read;
import static dev.skydeck.local.LocalJobs.request;
import static dev.skydeck.local.LocalJobs.sh;
import static dev.skydeck.local.LocalJobs.waitFor;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.skydeck.JobStatus;
import dev.skydeck.internal.local.JobDir;
import dev.skydeck.internal.local.TestHold;
import dev.skydeck.spi.BackendException;
import dev.skydeck.spi.BackendJob;
import dev.skydeck.spi.JobPage;
import dev.skydeck.spi.LaunchRequest;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalBackendTest {
    private static final Duration JOB_TIMEOUT = Duration.ofSeconds(20);

    @TempDir
    Path tmp;

    private Path jobs;
    private Path work;
    private final List<LocalBackend> backends = new ArrayList<>();
    private final List<Process> helpers = new ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        jobs = tmp.resolve("jobs");
        work = Files.createDirectories(tmp.resolve("work"));
    }

    @AfterEach
    void killEverythingStartedAndCheckNoThreadIsLeft() {
        backends.forEach(LocalBackend::close);
        helpers.forEach(Process::destroyForcibly);
        LocalJobs.killAll(jobs);
        await().atMost(Duration.ofSeconds(5)).until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().startsWith("skydeck-local-") && t.isAlive()));
    }

    private LocalBackend backend() {
        return backend(LocalBackend.builder().gpuSlots(2).cancelGracePeriod(Duration.ofSeconds(2)));
    }

    private LocalBackend backend(LocalBackend.Builder builder) {
        LocalBackend backend = builder.jobsDirectory(jobs)
                .workingDirectory(work)
                .checkpointDirectory(tmp.resolve("checkpoints"))
                .build();
        backends.add(backend);
        return backend;
    }

    private static BackendJob awaitStatus(LocalBackend backend, String launchId, JobStatus status) {
        return await().atMost(JOB_TIMEOUT)
                .until(() -> backend.find(launchId, "any").orElseThrow(), j -> j.observation().status() == status);
    }

    @Test
    void exitCodeZeroIsSucceeded() {
        LocalBackend backend = backend();
        BackendJob launched = backend.launch(request("ok", "job-ok", 0, "true"));
        assertThat(launched.backendJobId()).isEqualTo("job-ok");
        assertThat(launched.observation().status()).isIn(JobStatus.STARTING, JobStatus.RUNNING, JobStatus.SUCCEEDED);

        BackendJob done = awaitStatus(backend, "job-ok", JobStatus.SUCCEEDED);
        assertThat(done.observation().exitCode()).isZero();
        assertThat(done.observation().backendStatus()).isEqualTo("SUCCEEDED");
        assertThat(done.observation().clusterName()).isEqualTo("local");
        assertThat(done.observation().endedAt()).isNotNull();
        assertThat(done.observation().startedAt()).isNotNull();
        assertThat(done.name()).isEqualTo("ok");
        assertThat(done.launchId()).isEqualTo("job-ok");
        assertThat(done.submittedAt()).isNotNull();
    }

    @Test
    void nonZeroExitCodeIsFailedWithTheCode() {
        LocalBackend backend = backend();
        backend.launch(request("three", "job-3", 0, sh("exit 3")));

        BackendJob done = awaitStatus(backend, "job-3", JobStatus.FAILED);
        assertThat(done.observation().exitCode()).isEqualTo(3);
        assertThat(done.observation().failureReason()).isEqualTo("exited with code 3");
        assertThat(jobs.resolve("job-3").resolve("exit_code")).hasContent("3");
    }

    @Test
    void commandThatCannotStartFailsWith127AndSaysWhy() {
        LocalBackend backend = backend();
        backend.launch(request("missing", "job-missing", 0, "/no/such/command-skydeck"));

        BackendJob done = awaitStatus(backend, "job-missing", JobStatus.FAILED);
        assertThat(done.observation().exitCode()).isEqualTo(127);
        assertThat(done.observation().failureReason()).contains("cannot start /no/such/command-skydeck");
        assertThat(read(backend.logs("job-missing", 0, false))).contains("cannot start");
    }

    @Test
    void jobDirectoryHoldsMetadataPidsAndLog() {
        LocalBackend backend = backend();
        backend.launch(request("meta", "job-meta", 1, "echo", "a b", "c"));
        awaitStatus(backend, "job-meta", JobStatus.SUCCEEDED);

        JobDir dir = new JobDir(jobs.resolve("job-meta"));
        Properties meta = dir.metadata();
        assertThat(meta.getProperty("experiment")).isEqualTo("meta");
        assertThat(meta.getProperty("launchId")).isEqualTo("job-meta");
        assertThat(meta.getProperty("attempt")).isEqualTo("1");
        assertThat(meta.getProperty("command")).isEqualTo("echo 'a b' c");
        assertThat(meta.getProperty("gpuSlots")).isEqualTo("0");
        assertThat(meta.getProperty("submittedAt")).isNotBlank();
        assertThat(dir.pids().getProperty("pid")).isNotBlank();
        assertThat(dir.pids().getProperty("start")).isNotBlank();
        assertThat(dir.pids().getProperty("runner.pid")).isNotBlank();
        assertThat(read(backend.logs("job-meta", 0, false))).isEqualTo("a b c\n");
    }

    @Test
    void jobGetsTheRequestEnvironmentAndItsCheckpointDirectory() {
        LocalBackend backend = backend();
        LaunchRequest request = new LaunchRequest("envy", "job-env", 2, List.of(sh(
                "echo \"$SKYDECK_CHECKPOINT_DIR|$MY_VAR|$SKYDECK_LAUNCH_ID|$SKYDECK_ATTEMPT|$(pwd)\"")),
                Map.of(), 1, 0, null, null, null, Map.of("MY_VAR", "hello"));
        backend.launch(request);
        awaitStatus(backend, "job-env", JobStatus.SUCCEEDED);

        Path checkpoints = tmp.resolve("checkpoints").resolve("envy").toAbsolutePath();
        assertThat(read(backend.logs("job-env", 0, false)).strip())
                .isEqualTo(checkpoints + "|hello|job-env|2|" + work.toAbsolutePath());
        assertThat(checkpoints).isDirectory();
    }

    @Test
    void logsCaptureStdoutAndStderr() {
        LocalBackend backend = backend();
        backend.launch(request("both", "job-both", 0, sh("echo to-stdout; echo to-stderr >&2")));
        awaitStatus(backend, "job-both", JobStatus.SUCCEEDED);

        assertThat(read(backend.logs("job-both", 0, false))).contains("to-stdout\n", "to-stderr\n");
    }

    @Test
    void logsTailGivesTheLastLines() {
        LocalBackend backend = backend();
        backend.launch(request("tail", "job-tail", 0, sh("for i in 1 2 3 4 5; do echo line$i; done")));
        awaitStatus(backend, "job-tail", JobStatus.SUCCEEDED);

        assertThat(read(backend.logs("job-tail", 2, false))).isEqualTo("line4\nline5\n");
        assertThat(read(backend.logs("job-tail", 99, false))).startsWith("line1\n");
        assertThat(read(backend.logs("job-tail", 0, false))).hasLineCount(5);
    }

    @Test
    void logsFollowReturnsNewOutputUntilTheJobEnds() throws Exception {
        LocalBackend backend = backend();
        Path gate = tmp.resolve("gate-follow");
        backend.launch(request("follow", "job-follow", 0, sh("echo first; " + waitFor(gate) + "; echo last")));
        await().atMost(JOB_TIMEOUT).until(() -> read(backend.logs("job-follow", 0, false)).contains("first"));

        CompletableFuture<String> followed = CompletableFuture.supplyAsync(
                () -> read(backend.logs("job-follow", 0, true)));
        Files.createFile(gate);

        assertThat(followed.get(JOB_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("first\nlast\n");
    }

    @Test
    void closingAFollowingReaderEndsABlockedRead() throws Exception {
        LocalBackend backend = backend();
        Path gate = tmp.resolve("gate-close");
        backend.launch(request("close", "job-close", 0, sh("echo x; " + waitFor(gate))));
        Reader reader = backend.logs("job-close", 0, true);
        CountDownLatch firstRead = new CountDownLatch(1);
        CompletableFuture<Integer> reading = CompletableFuture.supplyAsync(() -> {
            try {
                reader.read(); // 'x'
                reader.read(); // '\n'
                firstRead.countDown();
                return reader.read(); // blocks: the job is waiting for its gate
            } catch (IOException e) {
                return -2;
            }
        });
        assertThat(firstRead.await(JOB_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();

        reader.close();

        assertThat(reading.get(JOB_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(-1);
    }

    @Test
    void cancelTerminatesTheWholeProcessTreeAndReportsCancelled() {
        LocalBackend backend = backend();
        Path parentPid = tmp.resolve("parent.pid");
        Path childPid = tmp.resolve("child.pid");
        backend.launch(request("tree", "job-tree", 0,
                sh("sleep 300 & echo $! > '" + childPid + "'; echo $$ > '" + parentPid + "'; wait")));
        await().atMost(JOB_TIMEOUT).until(() -> Files.exists(childPid) && Files.exists(parentPid)
                && Files.size(childPid) > 0 && Files.size(parentPid) > 0);
        long parent = pid(parentPid);
        long child = pid(childPid);
        assertThat(alive(parent)).isTrue();
        assertThat(alive(child)).isTrue();

        backend.cancel("job-tree");

        await().atMost(JOB_TIMEOUT).until(() -> !alive(parent) && !alive(child));
        BackendJob done = awaitStatus(backend, "job-tree", JobStatus.CANCELLED);
        assertThat(done.observation().exitCode()).isEqualTo(128 + 15);
    }

    @Test
    void cancelKillsWhatIgnoresSigtermAfterTheGracePeriod() {
        LocalBackend backend = backend(LocalBackend.builder().gpuSlots(0).cancelGracePeriod(Duration.ofSeconds(1)));
        Path childPid = tmp.resolve("stubborn.pid");
        backend.launch(request("stubborn", "job-stubborn", 0,
                sh("trap '' TERM; sleep 300 & echo $! > '" + childPid + "'; wait")));
        await().atMost(JOB_TIMEOUT).until(() -> Files.exists(childPid) && Files.size(childPid) > 0);
        long child = pid(childPid);

        backend.cancel("job-stubborn");
        assertThat(backend.find("job-stubborn", "any").orElseThrow().observation().status()).isEqualTo(JobStatus.CANCELLING);

        await().atMost(JOB_TIMEOUT).until(() -> !alive(child));
        BackendJob done = awaitStatus(backend, "job-stubborn", JobStatus.CANCELLED);
        assertThat(done.observation().exitCode()).isEqualTo(128 + 9);
    }

    @Test
    void aCancelWhoseKillWasDroppedByCloseIsEnforcedByTheNextInstance() throws IOException {
        LocalBackend first = backend(LocalBackend.builder().gpuSlots(0).cancelGracePeriod(Duration.ofSeconds(1)));
        Path childPid = tmp.resolve("dropped.pid");
        first.launch(request("dropped", "job-dropped", 0,
                sh("trap '' TERM; sleep 300 & echo $! > '" + childPid + "'; wait")));
        await().atMost(JOB_TIMEOUT).until(() -> Files.exists(childPid) && Files.size(childPid) > 0);
        first.cancel("job-dropped");
        first.close();
        long child = pid(childPid);

        LocalBackend second = backend(LocalBackend.builder().gpuSlots(0).cancelGracePeriod(Duration.ofSeconds(1)));

        BackendJob done = awaitStatus(second, "job-dropped", JobStatus.CANCELLED);
        assertThat(done.observation().exitCode()).isEqualTo(128 + 9);
        await().atMost(JOB_TIMEOUT).until(() -> !alive(child));
    }

    @Test
    void cancellingAFinishedJobLeavesItAsItEnded() {
        LocalBackend backend = backend();
        backend.launch(request("done", "job-done", 0, "true"));
        awaitStatus(backend, "job-done", JobStatus.SUCCEEDED);

        backend.cancel("job-done");

        assertThat(backend.find("job-done", "any").orElseThrow().observation().status()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(jobs.resolve("job-done").resolve("cancelled")).doesNotExist();
    }

    @Test
    void cancelOfAnUnknownJobIsRefused() {
        LocalBackend backend = backend();
        assertThatThrownBy(() -> backend.cancel("job-nope"))
                .isInstanceOf(BackendException.class)
                .hasMessageContaining("no local job job-nope");
    }

    @Test
    void aNewBackendAdoptsARunningJobAndSeesItsExitCode() throws IOException {
        LocalBackend first = backend();
        Path gate = tmp.resolve("gate-restart");
        first.launch(request("survivor", "job-survivor", 1, sh(waitFor(gate) + "; exit 5")));
        awaitStatus(first, "job-survivor", JobStatus.RUNNING);
        first.close();

        LocalBackend second = backend();
        JobPage page = second.list(null);
        assertThat(page.jobs()).singleElement().satisfies(job -> {
            assertThat(job.launchId()).isEqualTo("job-survivor");
            assertThat(job.name()).isEqualTo("survivor");
            assertThat(job.observation().status()).isEqualTo(JobStatus.RUNNING);
            assertThat(job.observation().startedAt()).isNotNull();
        });
        Files.createFile(gate);

        BackendJob done = awaitStatus(second, "job-survivor", JobStatus.FAILED);
        assertThat(done.observation().exitCode()).isEqualTo(5);
    }

    @Test
    void exitCodeIsRecordedWhenTheLaunchingJvmIsGone() throws Exception {
        Path gate = tmp.resolve("gate-jvm");
        Process helper = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                "-Dskydeck.home=" + tmp.resolve("home"),
                LaunchAndExit.class.getName(), jobs.toString(), work.toString(), "job-jvm", gate.toString())
                .redirectErrorStream(true)
                .redirectOutput(tmp.resolve("helper.log").toFile())
                .start();
        helpers.add(helper);
        assertThat(helper.waitFor(JOB_TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(helper.exitValue()).as(Files.readString(tmp.resolve("helper.log"))).isZero();

        LocalBackend backend = backend();
        awaitStatus(backend, "job-jvm", JobStatus.RUNNING);
        Files.createFile(gate);

        BackendJob done = awaitStatus(backend, "job-jvm", JobStatus.FAILED);
        assertThat(done.observation().exitCode()).isEqualTo(7);
        assertThat(done.name()).isEqualTo("restarted");
    }

    @Test
    void moreThanOneNodeIsRefusedWithWhatToDo() {
        LocalBackend backend = backend();
        LaunchRequest request = new LaunchRequest("wide", "job-wide", 1, List.of("true"), Map.of(), 3, 0, null, null,
                null, Map.of());

        assertThatThrownBy(() -> backend.launch(request))
                .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.retryable()).isFalse())
                .hasMessageContaining("experiment wide asks for 3 nodes")
                .hasMessageContaining("one node per job")
                .hasMessageContaining("nodes(1)")
                .hasMessageContaining("SKYPILOT_API_SERVER_ENDPOINT");
        assertThat(jobs.resolve("job-wide")).doesNotExist();
    }

    @Test
    void emptyCommandAndUnsafeIdsAreRefused() {
        LocalBackend backend = backend();
        assertThatThrownBy(() -> backend.launch(request("empty", "job-empty", 0)))
                .isInstanceOf(BackendException.class)
                .hasMessageContaining("empty command");
        assertThatThrownBy(() -> backend.launch(request("bad", "../escape", 0, "true")))
                .isInstanceOf(BackendException.class)
                .hasMessageContaining("not allowed");
        assertThatThrownBy(() -> backend.launch(request("../bad", "job-x", 0, "true")))
                .isInstanceOf(BackendException.class)
                .hasMessageContaining("not allowed");
        assertThat(backend.find("../escape", "any")).isEmpty();
        assertThatThrownBy(() -> backend.logs("..", 0, false)).isInstanceOf(BackendException.class);
        assertThat(tmp.resolve("escape")).doesNotExist();
    }

    @Test
    void findAnswersByLaunchId() {
        LocalBackend backend = backend();
        assertThat(backend.find("job-find", "any")).isEmpty();

        backend.launch(request("finder", "job-find", 0, "true"));

        assertThat(backend.find("job-find", "any")).hasValueSatisfying(job -> {
            assertThat(job.launchId()).isEqualTo("job-find");
            assertThat(job.name()).isEqualTo("finder");
        });
    }

    @Test
    void launchingTheSameLaunchIdTwiceStartsOneJob() {
        LocalBackend backend = backend();
        Path counter = tmp.resolve("count");
        backend.launch(request("once", "job-once", 0, sh("echo x >> '" + counter + "'")));
        awaitStatus(backend, "job-once", JobStatus.SUCCEEDED);

        BackendJob again = backend.launch(request("once", "job-once", 0, sh("echo x >> '" + counter + "'")));

        assertThat(again.observation().status()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(counter).hasContent("x");
    }

    @Test
    void gpuSlotsAreDistinctRefusedWhenBusyAndReleasedAfterExit() throws IOException {
        LocalBackend backend = backend(LocalBackend.builder().gpuSlots(3));
        Path gate = tmp.resolve("gate-gpu");
        String script = "echo \"gpus=$CUDA_VISIBLE_DEVICES\"; " + waitFor(gate);
        backend.launch(request("gpu-a", "job-gpu-a", 1, sh(script)));
        backend.launch(request("gpu-b", "job-gpu-b", 2, sh(script)));

        assertThatThrownBy(() -> backend.launch(request("gpu-c", "job-gpu-c", 1, "true")))
                .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.retryable()).isTrue())
                .hasMessageStartingWith("waiting for GPUs: 3 of 3 in use");
        assertThatThrownBy(() -> backend.launch(request("gpu-d", "job-gpu-d", 4, "true")))
                .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.retryable()).isFalse())
                .hasMessageContaining("asks for 4 GPUs")
                .hasMessageContaining("3 GPU slot(s)");
        await().atMost(JOB_TIMEOUT).until(() -> read(backend.logs("job-gpu-a", 0, false)).contains("gpus=")
                && read(backend.logs("job-gpu-b", 0, false)).contains("gpus="));
        assertThat(read(backend.logs("job-gpu-a", 0, false))).isEqualTo("gpus=0\n");
        assertThat(read(backend.logs("job-gpu-b", 0, false))).isEqualTo("gpus=1,2\n");

        Files.createFile(gate);
        awaitStatus(backend, "job-gpu-a", JobStatus.SUCCEEDED);
        awaitStatus(backend, "job-gpu-b", JobStatus.SUCCEEDED);

        backend.launch(request("gpu-c", "job-gpu-c", 3, sh("echo \"gpus=$CUDA_VISIBLE_DEVICES\"")));
        awaitStatus(backend, "job-gpu-c", JobStatus.SUCCEEDED);
        assertThat(read(backend.logs("job-gpu-c", 0, false))).isEqualTo("gpus=0,1,2\n");
    }

    @Test
    void listPagesThroughManyJobsInNameOrder() throws IOException {
        for (int i = 0; i < 25; i++) {
            Path dir = Files.createDirectories(jobs.resolve(String.format("job-%03d", i)));
            Properties meta = new Properties();
            meta.setProperty("experiment", "exp-" + i);
            meta.setProperty("launchId", dir.getFileName().toString());
            new JobDir(dir).writeProperties(JobDir.METADATA, meta);
            JobDir.writeAtomically(dir.resolve(JobDir.EXIT_CODE), (i % 2) + "\n");
        }
        Files.createDirectories(jobs.resolve(".job-026.creating-1"));
        LocalBackend backend = backend(LocalBackend.builder().gpuSlots(0).pageSize(10));

        List<String> seen = new ArrayList<>();
        List<Integer> sizes = new ArrayList<>();
        String token = null;
        do {
            JobPage page = backend.list(token);
            sizes.add(page.jobs().size());
            page.jobs().forEach(j -> seen.add(j.backendJobId()));
            token = page.nextPageToken();
        } while (token != null);

        assertThat(sizes).containsExactly(10, 10, 5);
        assertThat(seen).hasSize(25).doesNotHaveDuplicates().isSorted();
        assertThat(backend.find("job-003", "any").orElseThrow().observation().status()).isEqualTo(JobStatus.FAILED);
        assertThat(backend.find("job-004", "any").orElseThrow().observation().status()).isEqualTo(JobStatus.SUCCEEDED);
    }

    @Test
    void aJobWhoseRunnerVanishedWithoutAnExitCodeIsFailedWithAReason() throws IOException {
        Path dir = Files.createDirectories(jobs.resolve("job-lost"));
        Properties meta = new Properties();
        meta.setProperty("experiment", "lost");
        meta.setProperty("launchId", "job-lost");
        meta.setProperty("submittedAt", "2020-01-01T00:00:00Z");
        new JobDir(dir).writeProperties(JobDir.METADATA, meta);
        Properties pids = new Properties();
        pids.setProperty("runner.pid", "999999999");
        pids.setProperty("runner.start", "1");
        new JobDir(dir).writeProperties(JobDir.PID, pids);
        LocalBackend backend = backend();

        BackendJob job = backend.find("job-lost", "any").orElseThrow();

        assertThat(job.observation().status()).isEqualTo(JobStatus.FAILED);
        assertThat(job.observation().failureReason()).contains("ended without recording an exit code");
    }

    @Test
    void aShortJobWhoseRunnerFinishesWhileItIsBeingReadIsSucceededNotFailed() throws Exception {
        // The race a new leader met after a kill -9 (TeamIT): its report read no exit code and no pids,
        // then the runner recorded its pid, ran `true`, wrote exit code 0 and exited before the report
        // looked for its processes, which made a job that succeeded FAILED "the job runner did not start".
        Path dir = jobs.resolve("job-quick");
        String before = System.getProperty(TestHold.PROPERTY);
        CompletableFuture<BackendJob> seen;
        try {
            System.setProperty(TestHold.PROPERTY, TestHold.BEFORE_PID); // read when the backend is built
            LocalBackend backend = backend();
            backend.launch(request("quick", "job-quick", 0, "true"));
            await().atMost(JOB_TIMEOUT).until(() -> Files.exists(dir.resolve("test-held-" + TestHold.BEFORE_PID)));

            System.setProperty(TestHold.PROPERTY, TestHold.REPORT_READ);
            seen = CompletableFuture.supplyAsync(() -> backend.find("job-quick", "any").orElseThrow());
            await().atMost(JOB_TIMEOUT).until(() -> Files.exists(dir.resolve("test-held-" + TestHold.REPORT_READ)));

            Files.createFile(dir.resolve("test-release-" + TestHold.BEFORE_PID));
            await().atMost(JOB_TIMEOUT).until(() -> Files.exists(dir.resolve(JobDir.EXIT_CODE))
                    && !alive(Long.parseLong(new JobDir(dir).pids().getProperty(JobDir.RUNNER_PID))));
            Files.createFile(dir.resolve("test-release-" + TestHold.REPORT_READ));
            BackendJob job = seen.get(JOB_TIMEOUT.toSeconds(), TimeUnit.SECONDS);

            assertThat(job.observation().status()).as(job.observation().failureReason()).isEqualTo(JobStatus.SUCCEEDED);
            assertThat(job.observation().exitCode()).isZero();
        } finally {
            if (before == null) {
                System.clearProperty(TestHold.PROPERTY);
            } else {
                System.setProperty(TestHold.PROPERTY, before);
            }
        }
    }

    @Test
    void healthCapacityAndClose() {
        LocalBackend backend = backend(LocalBackend.builder().gpuSlots(4));
        assertThat(backend.kind()).isEqualTo("local");
        assertThat(backend.gpuSlots()).isEqualTo(4);
        assertThat(backend.gpuCapacity()).hasValue(4);
        assertThat(backend.health().healthy()).isTrue();
        assertThat(backend.health().detail()).contains(jobs.toAbsolutePath().toString(), "4 GPU slots");

        backend.close();
        backend.close();

        assertThat(backend.health().healthy()).isFalse();
        assertThatThrownBy(() -> backend.list(null)).isInstanceOf(IllegalStateException.class);
    }
}
