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
     * The change conflicts with the stored state: a name already taken, a stale
     * {@code version}, or a second active job for one experiment. Nothing was changed.
     */
    public static class Conflict extends SkyDeckException {
        private static final long serialVersionUID = 1L;

        /** @param message says what conflicts and how to resolve it */
        public Conflict(String message) {
            super(message);
        }
    }
}
