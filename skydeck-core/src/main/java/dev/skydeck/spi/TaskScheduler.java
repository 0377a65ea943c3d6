package dev.skydeck.spi;

import java.time.Duration;

/**
 * Runs tasks later. SkyDeck's timers (resync, poll interval, retry backoff) all go through one
 * scheduler, so tests can replace it with a manual one tied to a manual clock.
 */
public interface TaskScheduler {
    /** Runs {@code task} once after {@code delay}; the returned handle cancels it. */
    Scheduled schedule(Runnable task, Duration delay);

    /** A scheduled task. */
    interface Scheduled {
        /** Cancels the task if it has not run yet. */
        void cancel();
    }
}
