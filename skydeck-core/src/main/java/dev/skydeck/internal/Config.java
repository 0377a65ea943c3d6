package dev.skydeck.internal;

import java.time.Duration;

/**
 * SkyDeck's tuning, validated once by the builder and then frozen.
 *
 * @param reconcileInterval   periodic resync of every experiment
 * @param pollInterval        poll interval when nothing is changing
 * @param fastPollInterval    poll interval while jobs launch or change
 * @param syncInterval        checkpoint sync interval
 * @param reconcilerThreads   reconcile pool size
 * @param maxConcurrentLaunches launches in progress at once (0 = no limit)
 * @param maxGpus             GPUs in use at once (0 = no limit)
 * @param launchLease         how long an unrecorded launch of another process is left alone
 *                            before it is adopted or resubmitted
 * @param retryBase           first backoff bound for retryable backend failures
 * @param retryCap            backoff cap for retryable backend failures
 * @param vanishedGrace       how long a job the backend stopped listing stays UNKNOWN before FAILED
 * @param cancelRetry         how long before a cancel that had no effect is sent again
 */
public record Config(Duration reconcileInterval, Duration pollInterval, Duration fastPollInterval,
                     Duration syncInterval, int reconcilerThreads, int maxConcurrentLaunches, int maxGpus,
                     Duration launchLease, Duration retryBase, Duration retryCap, Duration vanishedGrace,
                     Duration cancelRetry) {
    /** The defaults (SPEC §4, §5, §8, §12). */
    public static final Config DEFAULTS = new Config(Duration.ofSeconds(60), Duration.ofSeconds(30),
            Duration.ofSeconds(5), Duration.ofSeconds(60), 4, 0, 0, Duration.ofMinutes(2), Duration.ofSeconds(5),
            Duration.ofMinutes(5), Duration.ofMinutes(10), Duration.ofMinutes(2));

    /** Validates every value. */
    public Config {
        positive("reconcile interval", reconcileInterval);
        positive("poll interval", pollInterval);
        positive("fast poll interval", fastPollInterval);
        positive("sync interval", syncInterval);
        Validate.range("reconciler threads", reconcilerThreads, 1, 64);
        Validate.range("max concurrent launches", maxConcurrentLaunches, 0, 100_000);
        Validate.range("max GPUs", maxGpus, 0, 1_000_000);
        positive("launch lease", launchLease);
        positive("retry base", retryBase);
        positive("retry cap", retryCap);
        positive("vanished grace", vanishedGrace);
        positive("cancel retry", cancelRetry);
    }

    private static void positive(String what, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw Validate.invalid(what + " " + d + " is not allowed: use a positive duration");
        }
    }
}
