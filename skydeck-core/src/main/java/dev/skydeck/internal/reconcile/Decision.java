package dev.skydeck.internal.reconcile;

import dev.skydeck.Job;
import java.time.Instant;
import java.util.Objects;

/**
 * What one reconcile pass decided for an experiment ({@link Decide#decide}); the
 * {@link Reconciler} carries it out. Decisions hold everything their application needs, so
 * deciding is pure and table-testable, and applying is small.
 */
public sealed interface Decision {
    /** The line the experiment shows while this decision stands, or {@code null}. */
    String reason();

    /** Whether the experiment is settled under this decision (nothing active, queued or due). */
    default boolean settled() {
        return false;
    }

    /** Due and admitted: record the intent (an {@code INIT} job) for attempt {@code attempt}, then submit it. */
    record Launch(int attempt, String reason) implements Decision {
    }

    /**
     * An intent ({@code INIT} job) nobody is submitting any more (its lease ran out, or its retry
     * is due): ask the backend whether it has it, adopt it if so, else submit it again under the
     * same launch id.
     */
    record ResumeLaunch(Job intent, String reason) implements Decision {
        /** Requires the intent. */
        public ResumeLaunch {
            Objects.requireNonNull(intent, "intent");
        }
    }

    /**
     * An intent whose launch request is in flight at the backend ({@link Job#launchRef()}): ask
     * how it is doing, and record the job once it exists (or the failure).
     */
    record AwaitLaunch(Job intent, String reason) implements Decision {
        /** Requires the intent. */
        public AwaitLaunch {
            Objects.requireNonNull(intent, "intent");
        }
    }

    /**
     * An intent that should not run any more (desired stopped, or an older generation after a
     * restart) and that nobody is submitting: if the backend has it, adopt it so the next pass
     * cancels it; else abandon it.
     */
    record StopLaunch(Job intent, String reason) implements Decision {
        /** Requires the intent. */
        public StopLaunch {
            Objects.requireNonNull(intent, "intent");
        }
    }

    /**
     * Send a cancel for {@code job} (again, when {@code resend}), recording that it was sent; the
     * job's next observed status confirms it.
     */
    record Cancel(Job job, String reason, boolean resend) implements Decision {
        /** Requires the job. */
        public Cancel {
            Objects.requireNonNull(job, "job");
        }
    }

    /** The current generation's job ended and the policy allows another attempt: it is due at {@code due}. */
    record ScheduleRestart(Job last, Instant due, String reason) implements Decision {
        /** Requires the job and the time. */
        public ScheduleRestart {
            Objects.requireNonNull(last, "last");
            Objects.requireNonNull(due, "due");
        }
    }

    /**
     * Nothing to do now; look again at {@code until} ({@code null}: when something changes).
     * {@code alert} marks a problem the user must hear about (an event, once per reason).
     */
    record Wait(String reason, Instant until, boolean alert) implements Decision {
        /** A quiet wait. */
        public Wait(String reason, Instant until) {
            this(reason, until, false);
        }
    }

    /** Due, but over a launch limit: wait in the launch queue at {@code position}. */
    record Queue(String reason, int position) implements Decision {
    }

    /**
     * Nothing left to do. {@code teardown}: tear down what the experiment owns on the backend
     * (once, when a TERMINATED experiment first settles).
     */
    record Settle(String reason, boolean teardown) implements Decision {
        @Override
        public boolean settled() {
            return true;
        }
    }
}
