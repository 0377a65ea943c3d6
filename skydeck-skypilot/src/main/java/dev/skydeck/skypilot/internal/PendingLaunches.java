package dev.skydeck.skypilot.internal;

import dev.skydeck.SkyDeckException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Launch requests submitted but not yet finished, one small file per launch id, so that after a
 * restart a pending launch is followed rather than submitted again.
 */
public final class PendingLaunches {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,128}");
    private final Path dir;

    /** Records under {@code dir}. */
    public PendingLaunches(Path dir) {
        this.dir = dir;
    }

    /** Records that {@code launchId} was submitted as {@code requestId}. */
    public void put(String launchId, String requestId) {
        Path file = file(launchId);
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, ".pending", ".tmp");
            Files.writeString(tmp, requestId + "\n", StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new SkyDeckException("cannot record the pending SkyPilot launch " + launchId + " in " + dir + ": "
                    + e.getMessage(), true, e);
        }
    }

    /** The request id a launch was submitted as, if it is pending. */
    public Optional<String> get(String launchId) {
        try {
            Path f = file(launchId);
            return Files.isRegularFile(f) ? Optional.of(Files.readString(f, StandardCharsets.UTF_8).strip())
                    : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Forgets a launch (its result is known). */
    public void remove(String launchId) {
        try {
            Files.deleteIfExists(file(launchId));
        } catch (IOException ignored) {
            // a stale record only makes the next attempt look the request up again
        }
    }

    private Path file(String launchId) {
        if (!ID.matcher(launchId).matches()) {
            throw new SkyDeckException.InvalidInput("launch id '" + launchId + "' is not allowed");
        }
        return dir.resolve(launchId);
    }
}
