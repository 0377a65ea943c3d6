package dev.skydeck.internal.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.skydeck.Actor;
import dev.skydeck.DesiredState;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentSpec;
import dev.skydeck.ExperimentStatus;
import dev.skydeck.Job;
import dev.skydeck.JobCancel;
import dev.skydeck.JobStatus;
import dev.skydeck.RestartPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The reconciliation rules as a table: experiment, jobs, facts in; one decision out. No threads, no store. */
class DecideTest {
    private static final Instant T0 = Instant.parse("2026-05-01T12:00:00Z");
    private static final Instant NOW = T0.plusSeconds(600);
    private static final Duration LEASE = Duration.ofMinutes(2);
    private static final Duration CANCEL_RETRY = Duration.ofMinutes(2);

    // ---- builders ----

    private static Experiment experiment(ExperimentSpec spec, long generation, ExperimentStatus status, boolean deleted) {
        return new Experiment(1, spec, false, 0, false, deleted, T0, T0, 1, generation, null, status, null, false);
    }

    private static Experiment running(String name) {
        return experiment(ExperimentSpec.named(name).desired(DesiredState.RUNNING), 2, ExperimentStatus.NEW, false);
    }

    private static Experiment with(Experiment e, DesiredState desired) {
        return experiment(e.spec().desired(desired), e.generation(), e.status(), e.deleted());
    }

    private static Job job(String id, JobStatus status, long generation, int attempt, Instant created, String launchId) {
        return new Job(id, "exp", "fake", status == JobStatus.INIT ? null : "b-" + id, launchId, null, status, null,
                status == JobStatus.FAILED ? "exit code 1" : null, null, null, null, attempt, generation, List.of(),
                null, 1, 0, null, null, null, created, null, null, status.isTerminal() ? created.plusSeconds(30) : null,
                null, 0, null, null, null, null, created);
    }

    private static Job launched(JobStatus status, long generation) {
        return job("j1", status, generation, 1, T0.plusSeconds(10), "j1");
    }

    private static Job cancelAsked(Job j, Instant sentAt, int attempts) {
        return j.withCancel(new JobCancel(T0.plusSeconds(20), Actor.USER, sentAt, attempts), j.updatedAt());
    }

    private record F(Set<String> here, Instant lastPoll, Instant leaderSince, Decide.Capacity capacity) {
        static F facts() {
            return new F(Set.of(), null, null, Decide.Capacity.UNLIMITED);
        }

        F submitting(String id) {
            return new F(Set.of(id), lastPoll, leaderSince, capacity);
        }

        F polledAt(Instant at) {
            return new F(here, at, leaderSince, capacity);
        }

        F leaderSince(Instant at) {
            return new F(here, lastPoll, at, capacity);
        }

        F capacity(Decide.Capacity c) {
            return new F(here, lastPoll, leaderSince, c);
        }

        Decide.Facts real() {
            return new Decide.Facts(here::contains, lastPoll, leaderSince, LEASE, CANCEL_RETRY, 3,
                    (policy, n) -> Duration.ofSeconds(10L * n), e -> capacity, "fake");
        }
    }

    private static Decision decide(Experiment e, List<Job> jobs, F facts) {
        return Decide.decide(e, jobs, NOW, facts.real());
    }

    private static Decision decide(Experiment e, List<Job> jobs) {
        return decide(e, jobs, F.facts());
    }

    // ---- desired RUNNING ----

    @Test
    void aRunningExperimentWithoutJobsLaunchesItsFirstAttempt() {
        assertThat(decide(running("a"), List.of())).isEqualTo(new Decision.Launch(1, "submitting attempt 1"));
    }

    @Test
    void anActiveJobOfTheCurrentGenerationMeansWait() {
        assertThat(decide(running("a"), List.of(launched(JobStatus.RUNNING, 2)))).isEqualTo(new Decision.Wait(null, null));
    }

    @Test
    void anActiveJobOfAnOlderGenerationIsCancelledFirstOnARestart() {
        Decision d = decide(running("a"), List.of(launched(JobStatus.RUNNING, 1)));
        assertThat(d).isInstanceOfSatisfying(Decision.Cancel.class, c -> {
            assertThat(c.resend()).isFalse();
            assertThat(c.reason()).startsWith("restarting");
        });
    }

    @Test
    void anEndedJobUnderNeverSettlesAndIsNotLaunchedAgain() {
        assertThat(decide(running("a"), List.of(launched(JobStatus.SUCCEEDED, 2))))
                .isEqualTo(new Decision.Settle(null, false));
        assertThat(decide(running("a"), List.of(launched(JobStatus.FAILED, 2))))
                .isEqualTo(new Decision.Settle("job b-j1 failed: exit code 1", false));
    }

    @Test
    void aFailureUnderOnFailureSchedulesARestartAfterTheBackoffThenLaunches() {
        Experiment e = experiment(ExperimentSpec.named("a").desired(DesiredState.RUNNING)
                .restartPolicy(RestartPolicy.onFailure(2)), 2, ExperimentStatus.NEW, false);
        Job failed = job("j1", JobStatus.FAILED, 2, 1, NOW.minusSeconds(5), "j1");

        Decision first = decide(e, List.of(failed));
        assertThat(first).isInstanceOfSatisfying(Decision.ScheduleRestart.class, r -> {
            assertThat(r.due()).isEqualTo(NOW.plusSeconds(35)); // ended 25 s after creation, + 10 s backoff
            assertThat(r.reason()).startsWith("retrying in 35 s, attempt 2 of 3");
        });

        ExperimentStatus scheduled = new ExperimentStatus(null, "retrying", 2, DesiredState.RUNNING, 0,
                NOW.plusSeconds(35), false);
        Experiment waiting = experiment(e.spec(), 2, scheduled, false);
        assertThat(decide(waiting, List.of(failed))).isInstanceOfSatisfying(Decision.Wait.class,
                w -> assertThat(w.until()).isEqualTo(NOW.plusSeconds(35)));

        ExperimentStatus due = new ExperimentStatus(null, "retrying", 2, DesiredState.RUNNING, 0, NOW, false);
        assertThat(decide(experiment(e.spec(), 2, due, false), List.of(failed)))
                .isEqualTo(new Decision.Launch(2, "submitting attempt 2"));
    }

    @Test
    void afterMaxRestartsItGivesUp() {
        Experiment e = experiment(ExperimentSpec.named("a").desired(DesiredState.RUNNING)
                .restartPolicy(RestartPolicy.onFailure(1)), 2, ExperimentStatus.NEW, false);
        List<Job> jobs = List.of(job("j2", JobStatus.FAILED, 2, 2, T0.plusSeconds(100), "j2"),
                job("j1", JobStatus.FAILED, 2, 1, T0.plusSeconds(10), "j1"));
        assertThat(decide(e, jobs)).isInstanceOfSatisfying(Decision.Settle.class,
                s -> assertThat(s.reason()).startsWith("gave up after 2 attempts"));
    }

    @Test
    void jobsOfADeletedExperimentWithTheSameNameDoNotCount() {
        Job old = job("old", JobStatus.SUCCEEDED, 2, 7, T0.minusSeconds(3600), "old");
        assertThat(decide(running("a"), List.of(old))).isEqualTo(new Decision.Launch(1, "submitting attempt 1"));
    }

    @Test
    void anIntentBeingSubmittedHereIsLeftAlone() {
        Job intent = launched(JobStatus.INIT, 2);
        assertThat(decide(running("a"), List.of(intent), F.facts().submitting("j1")))
                .isEqualTo(new Decision.Wait("submitting attempt 1", null));
    }

    @Test
    void anotherProcesssIntentWaitsForItsLeaseThenIsResumed() {
        Job fresh = job("j1", JobStatus.INIT, 2, 1, NOW.minusSeconds(30), "j1");
        assertThat(decide(running("a"), List.of(fresh))).isInstanceOfSatisfying(Decision.Wait.class,
                w -> assertThat(w.until()).isEqualTo(NOW.minusSeconds(30).plus(LEASE)));
        Job stale = job("j1", JobStatus.INIT, 2, 1, NOW.minus(LEASE), "j1");
        assertThat(decide(running("a"), List.of(stale))).isInstanceOf(Decision.ResumeLaunch.class);
    }

    @Test
    void anIntentOfAProcessThatLostTheEngineLeaseIsResumedAtOnce() {
        Job fresh = job("j1", JobStatus.INIT, 2, 1, NOW.minusSeconds(30), "j1");
        assertThat(decide(running("a"), List.of(fresh), F.facts().leaderSince(NOW.minusSeconds(5))))
                .isEqualTo(new Decision.ResumeLaunch(fresh, "resuming the launch of attempt 1 (the process that began"
                        + " it stopped)"));
        assertThat(decide(running("a"), List.of(fresh), F.facts().leaderSince(NOW.minusSeconds(60))))
                .as("recorded while this process led: another pass may be submitting it")
                .isInstanceOf(Decision.Wait.class);
        Experiment stopped = with(running("s"), DesiredState.STOPPED);
        assertThat(decide(stopped, List.of(fresh), F.facts().leaderSince(NOW.minusSeconds(5))))
                .isInstanceOf(Decision.StopLaunch.class);
    }

    @Test
    void aFailedSubmissionIsRetriedWhenItsBackoffIsDue() {
        Job intent = launched(JobStatus.INIT, 2);
        ExperimentStatus later = new ExperimentStatus(null, "backend failed", 2, DesiredState.RUNNING, 1,
                NOW.plusSeconds(5), false);
        assertThat(decide(experiment(running("a").spec(), 2, later, false), List.of(intent)))
                .isEqualTo(new Decision.Wait("backend failed", NOW.plusSeconds(5)));
        ExperimentStatus due = new ExperimentStatus(null, "backend failed", 2, DesiredState.RUNNING, 1, NOW, false);
        assertThat(decide(experiment(running("a").spec(), 2, due, false), List.of(intent)))
                .isInstanceOf(Decision.ResumeLaunch.class);
    }

    @Test
    void aJobLaunchedOutsideSkyDeckMakesItWait() {
        Job foreign = job("f", JobStatus.RUNNING, 0, 0, T0.plusSeconds(5), null);
        assertThat(decide(running("a"), List.of(foreign))).isInstanceOfSatisfying(Decision.Wait.class,
                w -> assertThat(w.reason()).contains("launched outside SkyDeck"));
    }

    @Test
    void aCancelAUserAskedForGoesFirstEvenWhileRunningIsDesired() {
        Job asked = cancelAsked(launched(JobStatus.RUNNING, 2), null, 0);
        assertThat(decide(running("a"), List.of(asked))).isInstanceOf(Decision.Cancel.class);
    }

    // ---- the launch queue ----

    @Test
    void overTheLaunchLimitItQueuesAndOtherwiseLaunches() {
        Experiment e = running("q");
        Decide.Capacity full = new Decide.Capacity(2, 0, 0, 2, 0, 0, 0, 1, 1);
        assertThat(decide(e, List.of(), F.facts().capacity(full))).isEqualTo(new Decision.Queue(
                "queued (position 1 of 1): 2 of 2 launches in progress", 1));
        Decide.Capacity behind = new Decide.Capacity(2, 0, 0, 1, 0, 1, 0, 2, 2);
        assertThat(decide(e, List.of(), F.facts().capacity(behind))).isInstanceOf(Decision.Queue.class);
        Decide.Capacity free = new Decide.Capacity(2, 0, 0, 1, 0, 0, 0, 1, 1);
        assertThat(decide(e, List.of(), F.facts().capacity(free))).isInstanceOf(Decision.Launch.class);
    }

    @Test
    void gpusMustFitUnderTheLimitCountingThoseAhead() {
        Experiment e = experiment(ExperimentSpec.named("g").gpus(4).desired(DesiredState.RUNNING), 2,
                ExperimentStatus.NEW, false);
        assertThat(decide(e, List.of(), F.facts().capacity(new Decide.Capacity(0, 8, 0, 0, 2, 1, 4, 2, 2))))
                .isEqualTo(new Decision.Queue("waiting: 2 of 8 GPUs in use (queue position 2 of 2)", 2));
        assertThat(decide(e, List.of(), F.facts().capacity(new Decide.Capacity(0, 2, 0, 0, 0, 0, 0, 1, 1))))
                .isInstanceOfSatisfying(Decision.Queue.class, q -> assertThat(q.reason()).startsWith("needs 4 GPUs"));
        // more than a fixed backend can ever hold: the backend refuses it with its own reason
        assertThat(decide(e, List.of(), F.facts().capacity(new Decide.Capacity(0, 0, 2, 0, 0, 0, 0, 1, 1))))
                .isInstanceOf(Decision.Launch.class);
    }

    // ---- desired STOPPED / TERMINATED, deleted ----

    @Test
    void aStoppedExperimentWithNothingActiveSettles() {
        Experiment stopped = with(running("s"), DesiredState.STOPPED);
        assertThat(decide(stopped, List.of())).isEqualTo(new Decision.Settle(null, false));
    }

    @Test
    void terminatedTearsDownOnceWhenItFirstSettles() {
        Experiment terminated = with(running("t"), DesiredState.TERMINATED);
        assertThat(decide(terminated, List.of())).isEqualTo(new Decision.Settle(null, true));
        ExperimentStatus settled = new ExperimentStatus(null, null, 2, DesiredState.TERMINATED, 0, null, true);
        assertThat(decide(experiment(terminated.spec(), 2, settled, false), List.of()))
                .isEqualTo(new Decision.Settle(null, false));
    }

    @Test
    void stoppingSendsOneCancelThenWaitsForTheJobsNextStatus() {
        Experiment stopped = with(running("s"), DesiredState.STOPPED);
        assertThat(decide(stopped, List.of(launched(JobStatus.RUNNING, 2)))).isInstanceOfSatisfying(
                Decision.Cancel.class, c -> assertThat(c.resend()).isFalse());

        Job sent = cancelAsked(launched(JobStatus.RUNNING, 2), NOW.minusSeconds(10), 1);
        assertThat(decide(stopped, List.of(sent))).isInstanceOfSatisfying(Decision.Wait.class, w -> {
            assertThat(w.alert()).isFalse();
            assertThat(w.until()).isEqualTo(NOW.minusSeconds(10).plus(CANCEL_RETRY));
        });
        Job cancelling = cancelAsked(launched(JobStatus.CANCELLING, 2), NOW.minusSeconds(10), 1);
        assertThat(decide(stopped, List.of(cancelling), F.facts().polledAt(NOW.minusSeconds(5))))
                .isEqualTo(new Decision.Wait("stopping: job b-j1 is cancelling", null));
    }

    @Test
    void aCancelThatDidNotTakeIsSaidSoResentAndFinallyGivenUp() {
        Experiment stopped = with(running("s"), DesiredState.STOPPED);
        Job sent = cancelAsked(launched(JobStatus.RUNNING, 2), NOW.minusSeconds(10), 1);
        assertThat(decide(stopped, List.of(sent), F.facts().polledAt(NOW.minusSeconds(5))))
                .isInstanceOfSatisfying(Decision.Wait.class, w -> {
                    assertThat(w.alert()).isTrue();
                    assertThat(w.reason()).contains("did not take yet").contains("RUNNING");
                });
        Job old = cancelAsked(launched(JobStatus.RUNNING, 2), NOW.minus(CANCEL_RETRY), 1);
        assertThat(decide(stopped, List.of(old), F.facts().polledAt(NOW.minusSeconds(5))))
                .isInstanceOfSatisfying(Decision.Cancel.class, c -> assertThat(c.resend()).isTrue());
        Job exhausted = cancelAsked(launched(JobStatus.RUNNING, 2), NOW.minus(CANCEL_RETRY), 3);
        assertThat(decide(stopped, List.of(exhausted), F.facts().polledAt(NOW.minusSeconds(5))))
                .isInstanceOfSatisfying(Decision.Wait.class, w -> {
                    assertThat(w.alert()).isTrue();
                    assertThat(w.until()).isNull();
                    assertThat(w.reason()).contains("did not take after 3 attempts");
                });
    }

    @Test
    void stoppingAnIntentWaitsForItsSubmissionOrLeaseThenStopsIt() {
        Experiment stopped = with(running("s"), DesiredState.STOPPED);
        Job intent = job("j1", JobStatus.INIT, 2, 1, NOW.minusSeconds(30), "j1");
        assertThat(decide(stopped, List.of(intent), F.facts().submitting("j1"))).isInstanceOf(Decision.Wait.class);
        assertThat(decide(stopped, List.of(intent))).isInstanceOfSatisfying(Decision.Wait.class,
                w -> assertThat(w.until()).isEqualTo(NOW.minusSeconds(30).plus(LEASE)));
        Job stale = job("j1", JobStatus.INIT, 2, 1, NOW.minus(LEASE), "j1");
        assertThat(decide(stopped, List.of(stale))).isInstanceOf(Decision.StopLaunch.class);
    }

    @Test
    void aDeletedExperimentStopsItsJobAndADeletedOneWithNothingSettles() {
        Experiment deleted = experiment(running("d").spec(), 2, ExperimentStatus.NEW, true);
        assertThat(decide(deleted, List.of(launched(JobStatus.RUNNING, 2)))).isInstanceOf(Decision.Cancel.class);
        assertThat(decide(deleted, List.of())).isEqualTo(new Decision.Settle(null, false));
    }

    @Test
    void aForeignJobIsReportedNotCancelledWhenStopped() {
        Experiment stopped = with(running("s"), DesiredState.STOPPED);
        Job foreign = job("f", JobStatus.RUNNING, 0, 0, T0.plusSeconds(5), null);
        assertThat(decide(stopped, List.of(foreign))).isInstanceOfSatisfying(Decision.Settle.class,
                s -> assertThat(s.reason()).contains("cancel it from the Jobs page"));
    }

    @Test
    void anOrphansCancelIsSentAndANotAskedOneLeftAlone() {
        Job orphan = cancelAsked(launched(JobStatus.RUNNING, 0), null, 0);
        assertThat(Decide.decideOrphan(orphan, NOW, F.facts().real())).isInstanceOf(Decision.Cancel.class);
        assertThat(Decide.decideOrphan(launched(JobStatus.RUNNING, 0), NOW, F.facts().real()))
                .isInstanceOf(Decision.Settle.class);
    }
}
