package dev.skydeck.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.awaitility.Awaitility.await;

import dev.skydeck.JobStatus;
import dev.skydeck.spi.BackendJob;
import dev.skydeck.spi.ClusterBackend;
import dev.skydeck.spi.JobPage;
import dev.skydeck.spi.LaunchRequest;
import dev.skydeck.spi.LaunchStatus;
import dev.skydeck.spi.Submission;
import dev.skydeck.spi.BackendException;
import dev.skydeck.spi.JobObservation;
import dev.skydeck.spi.BackendHealth;
import java.io.BufferedReader;
import java.io.Reader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * What every {@link ClusterBackend} must do, whatever runs the jobs. A concrete test supplies a
 * backend and launch requests that make a job succeed, fail, or run until cancelled; scripted
 * backends move their jobs on in {@link #advance()}, real ones just take their time.
 */
public abstract class ClusterBackendContract {
    /** What a job launched by {@link #request} does. */
    protected enum Behaviour {
        /** Ends with success. */
        SUCCEED,
        /** Ends with a failure. */
        FAIL,
        /** Runs until cancelled. */
        RUN_UNTIL_CANCELLED
    }

    private static final AtomicInteger SEQ = new AtomicInteger();

    /** The backend under test (one per test). */
    protected abstract ClusterBackend backend();

    /** A launch request whose job behaves as asked. */
    protected abstract LaunchRequest request(String experimentName, String launchId, Behaviour behaviour);

    /** Moves scripted jobs one step on; real backends need nothing. */
    protected void advance() {
    }

    /** How long a job may take to reach a state. */
    protected Duration patience() {
        return Duration.ofSeconds(30);
    }

    private BackendJob launch(Behaviour b) {
        int n = SEQ.incrementAndGet();
        return backend().launch(request("contract-" + n, "launch-" + n + "-" + System.nanoTime(), b));
    }

    /** Every job, following page tokens to the end. */
    protected List<BackendJob> listAll() {
        List<BackendJob> all = new ArrayList<>();
        String token = null;
        do {
            JobPage page = backend().list(token);
            all.addAll(page.jobs());
            token = page.nextPageToken();
        } while (token != null);
        return all;
    }

    private Optional<BackendJob> listed(String backendJobId) {
        return listAll().stream().filter(j -> j.backendJobId().equals(backendJobId)).findFirst();
    }

    private JobStatus awaitStatus(String backendJobId, java.util.function.Predicate<JobStatus> done) {
        JobStatus[] last = {null};
        await().atMost(patience()).pollInterval(Duration.ofMillis(50)).until(() -> {
            advance();
            last[0] = listed(backendJobId).map(j -> j.observation().status()).orElse(null);
            return last[0] != null && done.test(last[0]);
        });
        return last[0];
    }

    @Test
    void itsKindIsStableAndNotBlank() {
        assertThat(backend().kind()).isNotBlank().isEqualTo(backend().kind());
    }

    @Test
    void aLaunchReturnsAJobWithTheExperimentNameAndLaunchId() {
        LaunchRequest r = request("contract-named", "launch-named-" + System.nanoTime(), Behaviour.SUCCEED);
        BackendJob job = backend().launch(r);
        assertThat(job.backendJobId()).isNotBlank();
        assertThat(job.name()).isEqualTo("contract-named");
        assertThat(job.launchId()).isEqualTo(r.launchId());
        assertThat(job.observation().status().isActive() || job.observation().status() == JobStatus.SUCCEEDED).isTrue();
    }

    @Test
    void aSubmittedLaunchIsStartedOrFollowedUntilItsJobExists() {
        LaunchRequest r = request("contract-submit", "launch-submit-" + System.nanoTime(), Behaviour.RUN_UNTIL_CANCELLED);
        Submission s = backend().submit(r);
        BackendJob job = s.job();
        if (job == null) {
            assertThat(s.ref()).isNotBlank();
            LaunchStatus[] last = {null};
            await().atMost(patience()).pollInterval(Duration.ofMillis(50)).until(() -> {
                advance();
                last[0] = backend().launchStatus(r.launchId(), s.ref(), r.experimentName());
                assertThat(last[0].state()).as("a request it took is never unknown").isNotIn(LaunchStatus.State.UNKNOWN,
                        LaunchStatus.State.FAILED);
                return last[0].state() == LaunchStatus.State.STARTED;
            });
            job = last[0].job();
        }
        assertThat(job.launchId()).isEqualTo(r.launchId());
        assertThat(backend().launchStatus(r.launchId(), s.ref(), r.experimentName()).state())
                .isEqualTo(LaunchStatus.State.STARTED);
        assertThat(backend().launchStatus("launch-never-submitted", null, "nobody").state())
                .isEqualTo(LaunchStatus.State.UNKNOWN);
        assertThat(backend().cancelLaunch(r.launchId(), s.ref())).as("nothing in flight to cancel once it exists")
                .isFalse();
        backend().cancel(job.backendJobId());
    }

    @Test
    void theActiveListingHasEveryUnfinishedJobAndEndedOnesAreFoundByTheirIds() {
        BackendJob done = launch(Behaviour.SUCCEED);
        BackendJob running = launch(Behaviour.RUN_UNTIL_CANCELLED);
        awaitStatus(done.backendJobId(), JobStatus::isTerminal);
        awaitStatus(running.backendJobId(), JobStatus::isActive);
        List<BackendJob> active = new ArrayList<>();
        String token = null;
        do {
            JobPage page = backend().listActive(token);
            active.addAll(page.jobs());
            token = page.nextPageToken();
        } while (token != null);
        // a backend that can filter leaves ended jobs out; one that cannot may list them (SkyDeck copes with both)
        assertThat(active).extracting(BackendJob::backendJobId).contains(running.backendJobId());
        assertThat(backend().jobs(List.of(done.backendJobId(), running.backendJobId(), "no-such-job")))
                .extracting(BackendJob::backendJobId)
                .containsExactlyInAnyOrder(done.backendJobId(), running.backendJobId());
        backend().cancel(running.backendJobId());
    }

    @Test
    void findFindsALaunchedJobByItsLaunchIdAndNothingElse() {
        LaunchRequest r = request("contract-find", "launch-find-" + System.nanoTime(), Behaviour.RUN_UNTIL_CANCELLED);
        BackendJob job = backend().launch(r);
        assertThat(backend().find(r.launchId(), r.experimentName())).get().extracting(BackendJob::backendJobId)
                .isEqualTo(job.backendJobId());
        assertThat(backend().find("launch-that-never-was", "nobody")).isEmpty();
        backend().cancel(job.backendJobId());
    }

    @Test
    void theListingShowsEveryLaunchedJobExactlyOnceWithItsLaunchId() {
        List<BackendJob> launched = List.of(launch(Behaviour.SUCCEED), launch(Behaviour.SUCCEED),
                launch(Behaviour.SUCCEED));
        List<BackendJob> all = listAll();
        for (BackendJob j : launched) {
            assertThat(all).filteredOn(x -> x.backendJobId().equals(j.backendJobId())).singleElement()
                    .satisfies(x -> assertThat(x.launchId()).isEqualTo(j.launchId()));
        }
        assertThat(all.stream().map(BackendJob::backendJobId).collect(Collectors.toSet())).hasSize(all.size());
    }

    @Test
    void aSucceedingJobEndsSucceeded() {
        BackendJob job = launch(Behaviour.SUCCEED);
        assertThat(awaitStatus(job.backendJobId(), JobStatus::isTerminal)).isEqualTo(JobStatus.SUCCEEDED);
        BackendJob done = listed(job.backendJobId()).orElseThrow();
        assertThat(done.observation().endedAt()).isNotNull();
        // Backends that report exit codes report 0 for success.
        assertThat(done.observation().exitCode()).isIn(null, 0);
    }

    @Test
    void aFailingJobEndsFailedWithAReason() {
        BackendJob job = launch(Behaviour.FAIL);
        assertThat(awaitStatus(job.backendJobId(), JobStatus::isTerminal)).isEqualTo(JobStatus.FAILED);
        assertThat(listed(job.backendJobId()).orElseThrow().observation().failureReason()).isNotBlank();
    }

    @Test
    void cancelEndsARunningJobCancelled() {
        BackendJob job = launch(Behaviour.RUN_UNTIL_CANCELLED);
        awaitStatus(job.backendJobId(), s -> s == JobStatus.RUNNING);
        backend().cancel(job.backendJobId());
        assertThat(awaitStatus(job.backendJobId(), JobStatus::isTerminal)).isEqualTo(JobStatus.CANCELLED);
    }

    @Test
    void cancellingAnEndedJobChangesNothing() {
        BackendJob job = launch(Behaviour.SUCCEED);
        awaitStatus(job.backendJobId(), JobStatus::isTerminal);
        assertThatCode(() -> backend().cancel(job.backendJobId())).doesNotThrowAnyException();
        advance();
        assertThat(listed(job.backendJobId()).orElseThrow().observation().status()).isEqualTo(JobStatus.SUCCEEDED);
    }

    @Test
    void aLogCanBeReadToTheEndAndClosed() throws Exception {
        BackendJob job = launch(Behaviour.SUCCEED);
        awaitStatus(job.backendJobId(), JobStatus::isTerminal);
        try (Reader r = backend().logs(job.backendJobId(), 0, false)) {
            assertThat(new BufferedReader(r).lines().count()).isGreaterThanOrEqualTo(0);
        }
    }

    @Test
    void healthNamesTheKindAndNeverThrows() {
        BackendHealth h = backend().health();
        assertThat(h.kind()).isEqualTo(backend().kind());
        assertThat(h.detail()).isNotBlank();
    }
}
