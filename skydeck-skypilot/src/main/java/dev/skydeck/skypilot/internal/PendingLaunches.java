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
 * What this machine submitted to {@code /jobs/launch}, one small file per launch id: written
 * before the request is sent ({@link #begin}, no request id yet), then with the request id once
 * the server answered ({@link #put}). A launch id with a record was possibly submitted already, so
 * the backend asks the server before it submits it again: this is what keeps a launch from being
 * submitted twice when an answer was lost (a timeout after the request was sent, a crash).
 */
public final class PendingLaunches {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,128}");
    private static final String SUBMITTING = "submitting";
    private final Path dir;

    /** What is recorded for a launch id. */
    public record Marker(String requestId) {
        /** Whether the server's answer is known (else the request may or may not have reached it). */
        public boolean answered() {
            return requestId != null;
        }
    }

    /** Records under {@code dir}. */
    public PendingLaunches(Path dir) {
        this.dir = dir;
    }

    /** Records that {@code launchId} is about to be submitted. */
    public void begin(String launchId) {
        write(launchId, SUBMITTING);
    }

    /** Records that {@code launchId} was submitted as {@code requestId}. */
    public void put(String launchId, String requestId) {
        write(launchId, requestId);
    }

    private void write(String launchId, String content) {
        Path file = file(launchId);
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, ".pending", ".tmp");
            Files.writeString(tmp, content + "\n", StandardCharsets.UTF_8);
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

    /** What is recorded for a launch, if anything. */
    public Optional<Marker> get(String launchId) {
        try {
            Path f = file(launchId);
            if (!Files.isRegularFile(f)) {
                return Optional.empty();
            }
            String s = Files.readString(f, StandardCharsets.UTF_8).strip();
            return Optional.of(new Marker(s.isEmpty() || s.equals(SUBMITTING) ? null : s));
        } catch (IOException e) {
            return Optional.of(new Marker(null)); // unreadable: treat as possibly submitted
        }
    }

    /** Forgets a launch (its result is known). */
    public void remove(String launchId) {
        try {
            Files.deleteIfExists(file(launchId));
        } catch (IOException ignored) {
            // a stale record only makes the next attempt ask the server first
        }
    }

    private Path file(String launchId) {
        if (!ID.matcher(launchId).matches()) {
            throw new SkyDeckException.InvalidInput("launch id '" + launchId + "' is not allowed");
        }
        return dir.resolve(launchId);
    }
}
