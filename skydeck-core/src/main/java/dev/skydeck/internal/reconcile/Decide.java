package dev.skydeck.internal.reconcile;

import dev.skydeck.DesiredState;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentStatus;
import dev.skydeck.Job;
import dev.skydeck.JobCancel;
import dev.skydeck.JobStatus;
import dev.skydeck.RestartPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The reconciliation rules (SPEC §4) as one pure function: from an experiment as stored, its
 * recent jobs and the facts around them, the {@link Decision} a pass carries out. No I/O, no
 * clock, no locks; level-triggered (it never knows what woke the pass).
 */
public final class Decide {
    private Decide() {
    }

    /**
     * What the launch queue looks like for one experiment due to launch.
     *
     * @param maxLaunches launches in progress at once (0: no limit)
     * @param maxGpus     GPUs in use at once (0: no limit)
     * @param backendGpus the backend's fixed GPU capacity (0: elastic or unknown)
     * @param launching   active jobs still launching
     * @param gpusInUse   GPUs held by active jobs
     * @param slotsAhead  experiments ahead of this one in the queue
     * @param gpusAhead   GPUs those experiments need
     * @param position    this experiment's position in the queue (1-based)
     * @param queued      experiments in the queue, this one included
     */
    public record Capacity(int maxLaunches, int maxGpus, int backendGpus, long launching, long gpusInUse,
                           int slotsAhead, int gpusAhead, int position, int queued) {
        /** No limit at all. */
        public static final Capacity UNLIMITED = new Capacity(0, 0, 0, 0, 0, 0, 0, 1, 1);
    }

    /**
     * Everything around the experiment a decision depends on.
     *
     * @param submittingHere whether this process is submitting the job with that id right now
     * @param lastPoll       when the last successful poll started, or {@code null}
     * @param leaderSince    when this process took the engine lease, or {@code null}: an intent recorded
     *                       before then was recorded by a process that has since lost the lease, and is
     *                       adopted at once instead of after {@code launchLease}
     * @param launchLease    how long another process's intent is left alone
     * @param cancelRetry    how long an unconfirmed cancel waits before it is sent again
     * @param cancelAttempts how many sends before SkyDeck says a cancel did not take
     * @param restartDelay   the jittered backoff before restart {@code n} (1-based) under a policy
     * @param capacity       the launch queue as this experiment would see it (asked only when it is due)
     * @param backend        the kind of backend this SkyDeck runs: jobs recorded for another one are
     *                       left as they are (never cancelled, resumed or stopped from here)
     */
    public record Facts(Predicate<String> submittingHere, Instant lastPoll, Instant leaderSince, Duration launchLease,
                        Duration cancelRetry, int cancelAttempts, RestartDelay restartDelay,
                        Function<Experiment, Capacity> capacity, String backend) {
        /** Requires every fact. */
        public Facts {
            Objects.requireNonNull(backend, "backend");
            Objects.requireNonNull(submittingHere, "submittingHere");
            Objects.requireNonNull(launchLease, "launchLease");
            Objects.requireNonNull(cancelRetry, "cancelRetry");
            Objects.requireNonNull(restartDelay, "restartDelay");
            Objects.requireNonNull(capacity, "capacity");
        }
    }

    /** The backoff before a restart. */
    @FunctionalInterface
    public interface RestartDelay {
        /** The delay before restart {@code n} (1-based) under {@code policy}. */
        Duration before(RestartPolicy policy, int n);
    }

    /**
     * The decision for {@code e}.
     *
     * @param e    the experiment as stored now
     * @param jobs its recent jobs (by name), newest first
     * @param now  the time of the pass
     */
    public static Decision decide(Experiment e, List<Job> jobs, Instant now, Facts facts) {
        Job managed = null;
        Job foreign = null;
        Job userCancel = null;
        Job elsewhere = null;
        for (Job j : jobs) {
            if (!j.isActive()) {
                continue;
            }
            if (!facts.backend().equals(j.backend())) {
                // another backend's job (an import, or a database shared with a SkyDeck on another
                // backend): it still occupies the experiment, but nothing here may poll or cancel it
                if (elsewhere == null) {
                    elsewhere = j;
                }
                continue;
            }
            if (j.launchId() != null && managed == null) {
                managed = j;
            } else if (j.launchId() == null && foreign == null) {
                foreign = j;
            }
            if (userCancel == null && j.cancelRequested()) {
                userCancel = j;
            }
        }
        DesiredState desired = e.effectiveDesired();
        if (desired != DesiredState.RUNNING) {
            if (managed != null) {
                return stopJob(managed, now, facts, desired == DesiredState.TERMINATED ? "terminating" : "stopping");
            }
            if (userCancel != null) {
                return cancel(userCancel, now, facts, "cancelling");
            }
            String reason = elsewhere != null ? elsewhere(elsewhere, facts) + "; stop it where that backend is used"
                    : foreign == null ? null : "job " + display(foreign)
                    + " was launched outside SkyDeck and is still running: cancel it from the Jobs page if it should stop";
            return new Decision.Settle(reason, desired == DesiredState.TERMINATED && !e.settled());
        }
        if (userCancel != null) {
            // a cancel someone asked for goes first; the restart policy decides what follows it
            return userCancel.status() == JobStatus.INIT ? stopJob(userCancel, now, facts, "cancelling")
                    : cancel(userCancel, now, facts, "cancelling");
        }
        if (managed != null) {
            if (managed.generation() < e.generation()) {
                return stopJob(managed, now, facts, "restarting: ending attempt " + managed.attempt() + " first");
            }
            if (managed.status() == JobStatus.INIT) {
                return pendingIntent(e, managed, now, facts);
            }
            return new Decision.Wait(null, null);
        }
        if (elsewhere != null) {
            return new Decision.Wait(elsewhere(elsewhere, facts) + "; nothing is launched here while it is active",
                    null);
        }
        if (foreign != null) {
            return new Decision.Wait("job " + display(foreign)
                    + " was launched outside SkyDeck and is running; SkyDeck launches again when it ends", null);
        }
        // Jobs match experiments by name, so a deleted experiment's jobs carry this name too: only
        // jobs recorded since this experiment was created count towards its attempts and generations.
        List<Job> own = jobs.stream().filter(j -> !j.createdAt().isBefore(e.createdAt())).toList();
        int attempt = own.stream().mapToInt(Job::attempt).max().orElse(0) + 1;
        List<Job> generationJobs = own.stream().filter(j -> j.generation() == e.generation()).toList();
        if (!generationJobs.isEmpty()) {
            Job last = generationJobs.get(0);
            RestartPolicy policy = e.spec().restartPolicy();
            if (!policy.restartsAfter(last.status())) {
                return new Decision.Settle(endedReason(last), false);
            }
            int restarts = generationJobs.size() - 1;
            if (restarts >= policy.maxRestarts()) {
                return new Decision.Settle("gave up after " + generationJobs.size() + " attempt"
                        + (generationJobs.size() == 1 ? "" : "s") + " (restart policy " + policy.mode()
                        + ", max_restarts " + policy.maxRestarts() + "); restart it to try again", false);
            }
            ExperimentStatus status = e.status();
            Instant due = status.observedGeneration() == e.generation() ? status.nextAttemptAt() : null;
            if (due == null) {
                Instant ended = last.endedAt() != null ? last.endedAt() : last.updatedAt();
                Instant at = ended.plus(facts.restartDelay().before(policy, restarts + 1));
                if (at.isBefore(now)) {
                    at = now;
                }
                return new Decision.ScheduleRestart(last, at, restartReason(at, now, restarts + 2,
                        policy.maxRestarts() + 1, last));
            }
            if (now.isBefore(due)) {
                return new Decision.Wait(restartReason(due, now, restarts + 2, policy.maxRestarts() + 1, last), due);
            }
        }
        return admit(e, attempt, facts.capacity().apply(e));
    }

    /** The decision for an orphaned job (its name matches no live experiment) with a cancel asked for. */
    public static Decision decideOrphan(Job job, Instant now, Facts facts) {
        if (!job.isActive() || !job.cancelRequested() || !facts.backend().equals(job.backend())) {
            return new Decision.Settle(null, false);
        }
        return job.status() == JobStatus.INIT ? stopJob(job, now, facts, "cancelling") : cancel(job, now, facts,
                "cancelling");
    }

    /** An intent of the current generation that has not been submitted (or whose submission failed). */
    private static Decision pendingIntent(Experiment e, Job intent, Instant now, Facts facts) {
        if (facts.submittingHere().test(intent.id())) {
            return new Decision.Wait("submitting attempt " + intent.attempt(), null);
        }
        if (intent.launchInFlight()) {
            return new Decision.AwaitLaunch(intent, "launching attempt " + intent.attempt()
                    + (intent.details() == null ? "" : ": " + intent.details()));
        }
        ExperimentStatus status = e.status();
        if (status.launchRetries() > 0 && status.nextAttemptAt() != null) {
            if (now.isBefore(status.nextAttemptAt())) {
                return new Decision.Wait(status.stateReason(), status.nextAttemptAt());
            }
            return new Decision.ResumeLaunch(intent, "retrying the launch of attempt " + intent.attempt());
        }
        Instant leaseEnd = intent.updatedAt().plus(facts.launchLease());
        if (now.isBefore(leaseEnd) && !byAnEarlierLeader(intent, facts)) {
            return new Decision.Wait("launch of " + intent.id() + " in progress elsewhere; adopting it at "
                    + leaseEnd + " if it never finishes", leaseEnd);
        }
        return new Decision.ResumeLaunch(intent, "resuming the launch of attempt " + intent.attempt()
                + (byAnEarlierLeader(intent, facts) ? " (the process that began it stopped)" : ""));
    }

    /** Whether the intent was last touched before this process took the engine lease (by a process that lost it). */
    private static boolean byAnEarlierLeader(Job intent, Facts facts) {
        return facts.leaderSince() != null && intent.updatedAt().isBefore(facts.leaderSince());
    }

    /** A job that must end: an unsubmitted intent is stopped, anything else cancelled. */
    private static Decision stopJob(Job job, Instant now, Facts facts, String doing) {
        if (job.status() != JobStatus.INIT) {
            return cancel(job, now, facts, doing);
        }
        if (facts.submittingHere().test(job.id())) {
            return new Decision.Wait(doing + ": waiting for the launch in progress to return", null);
        }
        if (job.launchInFlight()) {
            return new Decision.StopLaunch(job, doing + ": cancelling the launch request in flight");
        }
        Instant leaseEnd = job.updatedAt().plus(facts.launchLease());
        if (now.isBefore(leaseEnd) && !byAnEarlierLeader(job, facts)) {
            return new Decision.Wait(doing + ": a launch by another SkyDeck process may be in progress", leaseEnd);
        }
        return new Decision.StopLaunch(job, doing + ": the launch never reached the backend");
    }

    /**
     * A cancel: sent once, confirmed by the job's next observed status ({@code CANCELLING} or an
     * end). A poll after the send that still shows the job going means the cancel did not take:
     * it is sent again after {@code cancelRetry}, up to {@code cancelAttempts} times, then SkyDeck
     * says so and stops sending.
     */
    private static Decision cancel(Job job, Instant now, Facts facts, String doing) {
        JobCancel c = job.cancel();
        if (c == null || c.sentAt() == null) {
            return new Decision.Cancel(job, doing + ": cancel sent for job " + display(job), false);
        }
        if (job.status() == JobStatus.CANCELLING) {
            return new Decision.Wait(doing + ": job " + display(job) + " is cancelling", null);
        }
        boolean observedSince = facts.lastPoll() != null && facts.lastPoll().isAfter(c.sentAt());
        String status = job.status().name();
        if (observedSince && c.attempts() >= facts.cancelAttempts()) {
            return new Decision.Wait("cancel of job " + display(job) + " did not take after " + c.attempts()
                    + " attempt" + (c.attempts() == 1 ? "" : "s") + ": the backend still reports it " + status
                    + "; cancel it on the backend (it may belong to another workspace or user)", null, true);
        }
        Instant resendAt = c.sentAt().plus(facts.cancelRetry());
        if (!now.isBefore(resendAt) && c.attempts() < facts.cancelAttempts()) {
            return new Decision.Cancel(job, doing + ": cancel of job " + display(job) + " sent again (attempt "
                    + (c.attempts() + 1) + " of " + facts.cancelAttempts() + ")", true);
        }
        if (observedSince) {
            return new Decision.Wait("cancel of job " + display(job) + " did not take yet: the backend still reports it "
                    + status + "; sending it again at " + resendAt, resendAt, true);
        }
        return new Decision.Wait(doing + ": cancel sent for job " + display(job) + ", waiting for the backend to"
                + " confirm", resendAt);
    }

    /** Launch or queue, by the limits; also re-checked inside the transaction that records the launch. */
    static Decision admit(Experiment e, int attempt, Capacity c) {
        int need = e.spec().totalGpus();
        boolean limited = c.maxLaunches() > 0 || c.maxGpus() > 0 || c.backendGpus() > 0 && need > 0;
        if (!limited || c.backendGpus() > 0 && need > c.backendGpus()) {
            // without limits every launch goes; one that can never fit is left to the backend to refuse
            return new Decision.Launch(attempt, "submitting attempt " + attempt);
        }
        if (c.maxLaunches() > 0 && c.launching() + c.slotsAhead() >= c.maxLaunches()) {
            return new Decision.Queue("queued (position " + c.position() + " of " + c.queued() + "): "
                    + c.launching() + " of " + c.maxLaunches() + " launches in progress", c.position());
        }
        int gpuLimit = c.maxGpus() > 0 && c.backendGpus() > 0 ? Math.min(c.maxGpus(), c.backendGpus())
                : Math.max(c.maxGpus(), c.backendGpus());
        if (gpuLimit > 0 && need > gpuLimit) {
            return new Decision.Queue("needs " + need + " GPUs but at most " + gpuLimit
                    + " can be in use: lower nodes × gpus or raise the GPU limit", c.position());
        }
        if (gpuLimit > 0 && c.gpusInUse() + c.gpusAhead() + need > gpuLimit) {
            return new Decision.Queue("waiting: " + c.gpusInUse() + " of " + gpuLimit + " GPUs in use (queue position "
                    + c.position() + " of " + c.queued() + ")", c.position());
        }
        return new Decision.Launch(attempt, "submitting attempt " + attempt);
    }

    private static String endedReason(Job last) {
        return switch (last.status()) {
            case FAILED -> last.failureReason() == null ? "job " + display(last) + " failed"
                    : "job " + display(last) + " failed: " + last.failureReason();
            case CANCELLED -> "job " + display(last) + " was cancelled";
            default -> null;
        };
    }

    private static String restartReason(Instant due, Instant now, int attempt, int attempts, Job last) {
        return "retrying in " + seconds(Duration.between(now, due)) + ", attempt " + attempt + " of " + attempts
                + " (job " + display(last) + " " + last.status().name().toLowerCase(Locale.ROOT) + ")";
    }

    /** A duration for people: {@code 40 s}, {@code 3 min}. */
    static String seconds(Duration d) {
        long s = Math.max(0, (d.toMillis() + 999) / 1000);
        return s < 120 ? s + " s" : (s / 60) + " min";
    }

    /** Why a job of another backend is left alone. */
    static String elsewhere(Job j, Facts facts) {
        return "job " + display(j) + " is " + j.status() + " on the " + j.backend() + " backend, which this SkyDeck"
                + " does not run (it runs " + facts.backend() + "): it is left as it is";
    }

    /** The job as people know it: the backend's id once known. */
    static String display(Job j) {
        return j.backendJobId() != null ? j.backendJobId() : j.id();
    }
}
