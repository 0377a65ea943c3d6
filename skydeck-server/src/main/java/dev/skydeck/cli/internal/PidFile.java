package dev.skydeck.cli.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.skydeck.server.internal.Json;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * {@code ~/.skydeck/skydeck.pid}: which process serves, where, on which database. Written by the
 * server once it listens, removed when it stops. A file whose process is gone is stale and is
 * ignored (and cleaned up).
 *
 * @param pid       the server's process id
 * @param url       its base URL
 * @param db        its database file
 * @param startedAt when it started
 */
public record PidFile(long pid, String url, String db, Instant startedAt) {
    /** Writes it atomically. */
    public void write(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pid", pid);
        m.put("url", url);
        m.put("db", db);
        m.put("started_at", startedAt.toString());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, Json.bytes(m));
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** The file's content if it names a live process; a stale or broken file is deleted. */
    public static Optional<PidFile> readLive(Path file) {
        Optional<PidFile> p = read(file);
        if (p.isPresent() && ProcessHandle.of(p.get().pid()).map(PidFile::isSkyDeck).orElse(false)) {
            return p;
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // leave it; the next start overwrites it
        }
        return Optional.empty();
    }

    /** Alive, and (where the OS tells) running SkyDeck: a pid reused by another program after a reboot is stale. */
    private static boolean isSkyDeck(ProcessHandle h) {
        return h.isAlive() && h.info().commandLine().map(c -> c.toLowerCase(java.util.Locale.ROOT).contains("skydeck"))
                .orElse(true);
    }

    /** The file's content, if it is readable. */
    public static Optional<PidFile> read(Path file) {
        try {
            JsonNode n = Json.MAPPER.readTree(Files.readAllBytes(file));
            return Optional.of(new PidFile(n.path("pid").asLong(-1), n.path("url").asText(null),
                    n.path("db").asText(null), Instant.parse(n.path("started_at").asText())));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Deletes the file if it still names {@code pid}. */
    public static void removeIfOwn(Path file, long pid) {
        if (read(file).map(p -> p.pid() == pid).orElse(false)) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                // nothing more to do
            }
        }
    }
}
