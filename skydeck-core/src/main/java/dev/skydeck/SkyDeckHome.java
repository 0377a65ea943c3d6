package dev.skydeck;

import dev.skydeck.internal.local.PrivateFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * SkyDeck's directory, where its database, pid and log files, local jobs and local checkpoints
 * live: the system property {@code skydeck.home}, else {@code SKYDECK_HOME}, else
 * {@code ~/.skydeck}. Tests point the property at their build directory.
 *
 * <p>Everything SkyDeck creates there is private to its user, whatever the umask: files 0600,
 * directories 0700 ({@link #createPrivateDirectories}, {@link #ensurePrivateFile}).
 */
public final class SkyDeckHome {
    private SkyDeckHome() {
    }

    /** The directory for this process's environment (not created). */
    public static Path dir() {
        return dir(System.getenv());
    }

    /** The directory for the given environment (not created). */
    public static Path dir(Map<String, String> env) {
        String prop = System.getProperty("skydeck.home");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        String value = env.get("SKYDECK_HOME");
        if (value != null && !value.isBlank()) {
            return Path.of(value.strip());
        }
        return Path.of(System.getProperty("user.home"), ".skydeck");
    }

    /** Where local jobs keep their directories: {@code <home>/local/jobs}. */
    public static Path localJobs(Path home) {
        return home.resolve("local").resolve("jobs");
    }

    /**
     * Where the local backend keeps the job directories of one store: {@code <home>/local/jobs} for
     * the default database ({@code <home>/skydeck.db}), else a directory of that store's own
     * ({@code <home>/local/stores/<hash>/jobs}), so that decks on other databases in the same home
     * (the demo's, say) never list each other's local jobs.
     *
     * @param store the store's {@code describe()} ({@code sqlite:/path/to.db}, {@code memory})
     */
    public static Path localJobs(Path home, String store) {
        if (store.equals("sqlite:" + database(home).toAbsolutePath().normalize())) {
            return localJobs(home);
        }
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(store.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return home.resolve("local").resolve("stores").resolve(java.util.HexFormat.of().formatHex(d, 0, 6))
                    .resolve("jobs");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JVM", e);
        }
    }

    /** Where local training writes checkpoints: {@code <home>/local/checkpoints}. */
    public static Path localCheckpoints(Path home) {
        return home.resolve("local").resolve("checkpoints");
    }

    /** The default database file: {@code <home>/skydeck.db}. */
    public static Path database(Path home) {
        return home.resolve("skydeck.db");
    }

    /**
     * Creates {@code dir} and its missing parents, each 0700 whatever the umask (where the file
     * system has POSIX permissions); existing directories are left as they are.
     */
    public static Path createPrivateDirectories(Path dir) throws IOException {
        return PrivateFiles.createDirectories(dir);
    }

    /** Creates {@code file} empty unless it exists, and makes it 0600 either way. */
    public static Path ensurePrivateFile(Path file) throws IOException {
        return PrivateFiles.ensureFile(file);
    }

    /** Makes an existing file 0600, or an existing directory 0700. */
    public static void makePrivate(Path path) throws IOException {
        PrivateFiles.restrict(path);
    }
}
