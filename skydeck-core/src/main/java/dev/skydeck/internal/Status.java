package dev.skydeck.internal;

import dev.skydeck.Health;
import java.time.Instant;
import java.util.Objects;

/** When a background component last worked and last failed, and why: what health shows. */
public final class Status {
    private volatile Instant lastSuccess;
    private volatile Instant lastFailure;
    private volatile String lastError;

    /** Records a success; returns the error it recovers from, or {@code null}. */
    public synchronized String succeeded(Instant at) {
        String recovered = lastError;
        lastSuccess = at;
        lastError = null;
        return recovered;
    }

    /** Records a failure; returns whether it is news (the first failure, or a different error). */
    public synchronized boolean failed(Instant at, String error) {
        boolean news = !Objects.equals(lastError, error);
        lastFailure = at;
        lastError = error;
        return news;
    }

    /** When it last worked, or {@code null}. */
    public Instant lastSuccess() {
        return lastSuccess;
    }

    /** When it last failed, or {@code null}. */
    public Instant lastFailure() {
        return lastFailure;
    }

    /** Why it last failed, or {@code null} when the latest run worked. */
    public String lastError() {
        return lastError;
    }

    /** As shown by health. */
    public Health.Component snapshot() {
        return new Health.Component(lastSuccess, lastFailure, lastError);
    }
}
