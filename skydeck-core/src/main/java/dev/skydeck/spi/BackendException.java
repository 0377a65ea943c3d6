package dev.skydeck.spi;

import dev.skydeck.SkyDeckException;

/**
 * A backend call failed. {@link #retryable()} tells the reconciler whether to back off and try
 * again (timeouts, 5xx, connection refused) or to fail the job with this message (validation,
 * 4xx, missing credentials, an unsupported request).
 */
public class BackendException extends SkyDeckException {
    private static final long serialVersionUID = 1L;

    /** @param message what failed and what to do; @param retryable whether trying again may help */
    public BackendException(String message, boolean retryable) {
        super(message, retryable, null);
    }

    /** A failure with its cause. */
    public BackendException(String message, boolean retryable, Throwable cause) {
        super(message, retryable, cause);
    }

    /** A failure that retrying cannot fix. */
    public static BackendException permanent(String message) {
        return new BackendException(message, false);
    }

    /** A failure that may go away (timeouts, busy servers). */
    public static BackendException transientFailure(String message, Throwable cause) {
        return new BackendException(message, true, cause);
    }
}
