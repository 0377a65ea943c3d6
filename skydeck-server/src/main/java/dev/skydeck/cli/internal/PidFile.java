package dev.skydeck.cli.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.skydeck.server.internal.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The background server's pid file and what goes with it. {@code ~/.skydeck/skydeck.pid} holds the
 * pid alone (so {@code kill $(cat ~/.skydeck/skydeck.pid)} works, as the original SkyDeck's
 * troubleshooting says); {@code ~/.skydeck/skydeck.server.json} beside it holds where it serves,
 * its database and the options it was started with, which {@code skydeck restart} starts it with
 * again. Both are written by the server once it listens and removed when it stops. A pid file whose
 * process is gone is stale and is ignored (and cleaned up).
 *
 * @param pid       the server's process id
 * @param url       its base URL, or {@code null} when the metadata file is missing
 * @param db        its database file, or {@code null} when the metadata file is missing
 * @param startedAt when it started, or {@code null} when the metadata file is missing
 * @param host      the address it binds, or {@code null}
 * @param port      the port it listens on, or 0 when unknown
 * @param backend   the backend setting it runs with ({@code local}, {@code skypilot}, {@code auto}), or {@code null}
 */
public record PidFile(long pid, String url, String db, Instant startedAt, String host, int port, String backend) {
    /** The metadata file that goes with {@code pidFile}. */
    public static Path metadataFile(Path pidFile) {
        return pidFile.resolveSibling(stem(pidFile) + ".server.json");
    }

    private static String stem(Path pidFile) {
        String name = pidFile.getFileName().toString();
        return name.endsWith(".pid") ? name.substring(0, name.length() - 4) : name;
    }

    /** Writes the metadata, then the pid file, each atomically. */
    public void write(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pid", pid);
        m.put("url", url);
        m.put("db", db);
        m.put("started_at", startedAt == null ? null : startedAt.toString());
        m.put("host", host);
        m.put("port", port);
        m.put("backend", backend);
        replace(metadataFile(file), Json.bytes(m));
        replace(file, (pid + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    private static void replace(Path file, byte[] content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, content);
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
        delete(file);
        return Optional.empty();
    }

    /** Alive, and (where the OS tells) running SkyDeck: a pid reused by another program after a reboot is stale. */
    private static boolean isSkyDeck(ProcessHandle h) {
        return h.isAlive() && h.info().commandLine().map(c -> c.toLowerCase(java.util.Locale.ROOT).contains("skydeck"))
                .orElse(true);
    }

    /**
     * The pid file's pid with the metadata that goes with it, if the pid file is readable. A pid file
     * in the JSON format of earlier versions is read too.
     */
    public static Optional<PidFile> read(Path file) {
        long pid;
        JsonNode meta = null;
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (text.startsWith("{")) {
                meta = Json.MAPPER.readTree(text);
                pid = meta.path("pid").asLong(-1);
            } else {
                pid = Long.parseLong(text);
            }
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        if (pid <= 0) {
            return Optional.empty();
        }
        if (meta == null) {
            try {
                JsonNode n = Json.MAPPER.readTree(Files.readAllBytes(metadataFile(file)));
                meta = n.path("pid").asLong(-1) == pid ? n : null;
            } catch (IOException | RuntimeException e) {
                meta = null;
            }
        }
        if (meta == null) {
            return Optional.of(new PidFile(pid, null, null, null, null, 0, null));
        }
        Instant started;
        try {
            started = meta.hasNonNull("started_at") ? Instant.parse(meta.path("started_at").asText()) : null;
        } catch (RuntimeException e) {
            started = null;
        }
        return Optional.of(new PidFile(pid, meta.path("url").asText(null), meta.path("db").asText(null), started,
                meta.path("host").asText(null), meta.path("port").asInt(0), meta.path("backend").asText(null)));
    }

    /** Deletes the file (and its metadata) if it still names {@code pid}. */
    public static void removeIfOwn(Path file, long pid) {
        if (read(file).map(p -> p.pid() == pid).orElse(false)) {
            delete(file);
        }
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
            Files.deleteIfExists(metadataFile(file));
        } catch (IOException e) {
            // leave them; the next start overwrites them
        }
    }
}
