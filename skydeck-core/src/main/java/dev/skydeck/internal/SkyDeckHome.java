package dev.skydeck.internal;

import java.nio.file.Path;

/**
 * SkyDeck's directory: the system property {@code skydeck.home}, else the environment variable
 * {@code SKYDECK_HOME}, else {@code ~/.skydeck}. Tests point the property at their build directory.
 */
public final class SkyDeckHome {
    private SkyDeckHome() {
    }

    /** The directory (not created). */
    public static Path dir() {
        String prop = System.getProperty("skydeck.home");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        String env = System.getenv("SKYDECK_HOME");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return Path.of(System.getProperty("user.home"), ".skydeck");
    }

    /** Where local jobs keep their directories: {@code <home>/local/jobs}. */
    public static Path localJobs() {
        return dir().resolve("local").resolve("jobs");
    }

    /** Where local training writes checkpoints: {@code <home>/local/checkpoints}. */
    public static Path localCheckpoints() {
        return dir().resolve("local").resolve("checkpoints");
    }
}
