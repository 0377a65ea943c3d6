package dev.skydeck.spi;

import java.time.Instant;
import java.util.Objects;

/**
 * A job as a backend lists it.
 *
 * @param backendJobId the backend's id (SkyPilot managed-job id, local job directory name)
 * @param name         the job name, which is the experiment name for jobs SkyDeck launched
 * @param launchId     the {@code SKYDECK_LAUNCH_ID} the job was launched with, or {@code null}
 *                     for jobs launched outside SkyDeck
 * @param submittedAt  when the backend accepted it, or {@code null}
 * @param observation  its current state
 */
public record BackendJob(String backendJobId, String name, String launchId, Instant submittedAt,
                         JobObservation observation) {
    /** Requires an id, a name and an observation. */
    public BackendJob {
        Objects.requireNonNull(backendJobId, "backendJobId");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(observation, "observation");
    }
}
