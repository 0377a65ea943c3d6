package dev.skydeck;

/**
 * The one exception type SkyDeck throws. Its message says what went wrong and what to do;
 * {@link #retryable()} says whether trying the same thing again later can help.
 */
public class SkyDeckException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final boolean retryable;

    /** An error that retrying cannot fix. */
    public SkyDeckException(String message) {
        this(message, false, null);
    }

    /** An error with an explicit retry verdict and an optional cause. */
    public SkyDeckException(String message, boolean retryable, Throwable cause) {
        super(message, cause);
        this.retryable = retryable;
    }

    /** Whether the same call may succeed if made again later (timeouts, busy resources). */
    public boolean retryable() {
        return retryable;
    }

    /** Bad input: a name, flag, resource or state that is not allowed. Nothing was changed. */
    public static class InvalidInput extends SkyDeckException {
        private static final long serialVersionUID = 1L;

        /** @param message names the bad value and says what is allowed */
        public InvalidInput(String message) {
            super(message);
        }
    }

    /** The experiment, job or group asked for does not exist. */
    public static class NotFound extends SkyDeckException {
        private static final long serialVersionUID = 1L;

        /** @param message names what was looked for */
        public NotFound(String message) {
            super(message);
        }
    }

    /**
     * The change conflicts with the stored state; {@link #reason()} says how. Nothing was changed.
     * Branch on the reason, never on the message.
     */
    public static class Conflict extends SkyDeckException {
        private static final long serialVersionUID = 1L;

        /** How a change conflicts with what is stored. */
        public enum Reason {
            /** The {@code version} given is not the stored one: someone changed the experiment meanwhile. */
            STALE_VERSION,
            /** A live experiment already has that name (or a request names one twice). */
            NAME_TAKEN,
            /** The experiment already has an active job (one runs at a time), or an active job blocks the change. */
            ACTIVE_JOB,
            /** The experiment is soft-deleted: undelete it first. */
            DELETED,
            /** The job has already ended. */
            JOB_ENDED,
            /** A launch id or job id is already recorded. */
            ALREADY_RECORDED,
            /**
             * This process no longer holds the lease that lets one process of a shared store
             * reconcile, poll and sync: another one does that work now.
             */
            NOT_LEADER,
            /** The job belongs to a backend this SkyDeck does not run: act on it where that backend is used. */
            OTHER_BACKEND,
            /** Something else, said by the message. */
            OTHER
        }

        private final Reason reason;

        /**
         * @param reason  what kind of conflict it is
         * @param message says what conflicts and how to resolve it
         */
        public Conflict(Reason reason, String message) {
            super(message);
            this.reason = java.util.Objects.requireNonNull(reason, "reason");
        }

        /** What kind of conflict this is. */
        public Reason reason() {
            return reason;
        }
    }
}
